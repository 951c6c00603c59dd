//! Content digests (`sha256:<hex>`) and a reader that hashes, counts and caps a stream.

use std::io::{self, Read};

use alloy_primitives::{B256, hex};
use sha2::{Digest as _, Sha256};

use super::ImageError;

/// The one digest algorithm the store accepts (OCI's registered `sha256`).
pub const DIGEST_ALGORITHM: &str = "sha256";

/// `sha256:<64 lowercase hex>`, the form digests take in manifests and on the command line.
pub fn format_digest(digest: &B256) -> String {
    format!("{DIGEST_ALGORITHM}:{}", hex::encode(digest))
}

/// Parses `sha256:<64 lowercase hex>`; anything else (another algorithm, upper case,
/// another length) is refused, so every digest has exactly one spelling.
pub fn parse_digest(text: &str) -> Result<B256, ImageError> {
    let Some((algorithm, encoded)) = text.split_once(':') else {
        return Err(ImageError::format("digest", format!("{text:?} is not <algorithm>:<hex>")));
    };
    if algorithm != DIGEST_ALGORITHM {
        return Err(ImageError::Unsupported { what: "digest algorithm", value: algorithm.to_owned() });
    }
    parse_hex(encoded).ok_or_else(|| ImageError::format("digest", format!("{text:?} is not sha256:<64 lowercase hex>")))
}

/// 64 lowercase hex digits as a digest.
pub(crate) fn parse_hex(encoded: &str) -> Option<B256> {
    let lower = encoded.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if encoded.len() != 64 || !lower {
        return None;
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(encoded, &mut out).ok()?;
    Some(B256::from(out))
}

/// The SHA-256 of `bytes`.
pub(crate) fn sha256(bytes: &[u8]) -> B256 {
    B256::from(<[u8; 32]>::from(Sha256::digest(bytes)))
}

/// Hashes and counts what passes through; fails with [`ImageError::LimitExceeded`]
/// (inside an `io::Error`, see [`ImageError::read`]) once more than `max` bytes came.
pub(crate) struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    count: u64,
    max: u64,
    limit: &'static str,
}

impl<R: Read> HashingReader<R> {
    /// Reads `inner`, allowing at most `max` bytes (the limit named `limit`).
    pub(crate) fn new(inner: R, max: u64, limit: &'static str) -> Self {
        HashingReader { inner, hasher: Sha256::new(), count: 0, max, limit }
    }

    /// Reads what is left to the end, so the hash covers the whole stream.
    pub(crate) fn drain(&mut self) -> io::Result<()> {
        io::copy(self, &mut io::sink()).map(|_| ())
    }

    /// The digest of everything read.
    pub(crate) fn finish(self) -> (B256, u64) {
        (B256::from(<[u8; 32]>::from(self.hasher.finalize())), self.count)
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        if self.count > self.max {
            return Err(ImageError::LimitExceeded { limit: self.limit, max: self.max }.into_io());
        }
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_have_one_spelling() {
        let d = sha256(b"");
        let text = format_digest(&d);
        assert_eq!(text, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_eq!(parse_digest(&text).ok(), Some(d));
        assert!(parse_digest(&text.to_uppercase()).is_err());
        assert!(parse_digest("sha512:00").is_err());
        assert!(parse_digest(&text[..70]).is_err());
        assert!(parse_digest("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855").is_err());
    }
}
