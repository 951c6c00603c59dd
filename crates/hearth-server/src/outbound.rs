//! Calls this server makes to other servers (export deliveries, liveness challenges): their
//! answers are read only up to a bound, so a hostile peer cannot exhaust memory.

/// The body of `response`, or `Ok(None)` as soon as it passes `max_bytes`.
pub(crate) async fn read_capped(
    mut response: reqwest::Response,
    max_bytes: usize,
) -> Result<Option<Vec<u8>>, reqwest::Error> {
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if bytes.len() + chunk.len() > max_bytes {
            return Ok(None);
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(Some(bytes))
}
