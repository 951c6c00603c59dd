//! The node's side over HTTP: an [`Answerer`] that asks a contributor's own hearth server.
//!
//! The contributor's server is found on chain: the server the contributor most recently
//! trusted in `ServerRegistry` (and still trusts), at the URL that server registered. The
//! challenge goes to `POST {url}/v1/liveness/answer?registry={LivenessRegistry}` as a
//! request signed by the challenger with that server as audience. Every call is bounded in
//! time and in response size; whatever goes wrong (no trusted server, unreachable, a refusal,
//! a malformed or oversized answer) is an error, which the epoch records as a fail.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use alloy_primitives::{Address, U256};
use hearth_chain::bindings::ServerRegistry::ServerRegistryEvents;
use hearth_chain::{Collective, Contracts, Wallet};
use hearth_core::Clock;

use super::{Answer, AnswerFuture, Answerer, Challenge, LivenessError};
use crate::auth::RequestSigner;
use crate::routes::liveness::ANSWER_CHUNK_BYTES_MAX;

/// Largest answer read, in bytes: the chunks in hex, their proofs and the JSON around them.
pub const ANSWER_RESPONSE_BYTES_MAX: usize = 2 * ANSWER_CHUNK_BYTES_MAX + 1024 * 1024;
/// How long a signed challenge request stays valid, in seconds.
pub const CHALLENGE_REQUEST_LIFETIME_SECS: u64 = 120;
/// Longest part of an error answer quoted in a failure, in bytes.
const REFUSAL_QUOTED_BYTES_MAX: usize = 200;

/// Asks contributors' servers over HTTP.
pub struct HttpAnswerer {
    collective: Collective,
    contracts: Contracts,
    challenger: Wallet,
    clock: Arc<dyn Clock>,
    http: reqwest::Client,
    /// Contributor → the server it trusted last (still trusted when the directory was read).
    servers: HashMap<Address, Address>,
}

impl HttpAnswerer {
    /// Reads who trusts which server (`ServerRegistry`'s events) and prepares a client whose
    /// every call ends within `timeout`.
    pub async fn new(
        collective: Collective,
        contracts: Contracts,
        challenger: Wallet,
        clock: Arc<dyn Clock>,
        timeout: Duration,
    ) -> Result<HttpAnswerer, LivenessError> {
        let mut servers = HashMap::new();
        for (_, event) in contracts.servers().events(0).await? {
            match event {
                ServerRegistryEvents::ServerTrusted(e) => {
                    servers.insert(e.owner, e.server);
                }
                ServerRegistryEvents::ServerUntrusted(e) if servers.get(&e.owner) == Some(&e.server) => {
                    servers.remove(&e.owner);
                }
                _ => {}
            }
        }
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| LivenessError::Unanswered(format!("no HTTP client: {e}")))?;
        Ok(HttpAnswerer { collective, contracts, challenger, clock, http, servers })
    }

    /// The server answering for `contributor` and its registered URL.
    async fn server_of(&self, contributor: Address) -> Result<(Address, String), LivenessError> {
        let unanswered = |why: String| LivenessError::Unanswered(why);
        let server = *self
            .servers
            .get(&contributor)
            .ok_or_else(|| unanswered(format!("contributor {contributor} trusts no registered server")))?;
        let record = self.contracts.servers().get(server).await?;
        let url = record.url.trim_end_matches('/').to_owned();
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(unanswered(format!("server {server} registered no http(s) URL")));
        }
        Ok((server, url))
    }

    async fn ask(&self, challenge: &Challenge) -> Result<Answer, LivenessError> {
        let unanswered = |why: String| LivenessError::Unanswered(why);
        let l = self.collective.liveness();
        let contributor = l.contribution(challenge.contribution_id).await?.contributor;
        let (server, url) = self.server_of(contributor).await?;
        let target = format!("/v1/liveness/answer?registry={}", l.address());
        let body = serde_json::to_vec(challenge).map_err(|e| unanswered(e.to_string()))?;
        let signer = RequestSigner::new(self.challenger.clone(), server, self.collective.chain_id());
        let headers = signer
            .sign("POST", &target, &body, self.clock.now_secs(), CHALLENGE_REQUEST_LIFETIME_SECS)
            .map_err(|e| unanswered(e.to_string()))?;
        let mut request = self.http.post(format!("{url}{target}")).body(body);
        for (name, value) in headers.to_pairs() {
            request = request.header(name, value);
        }
        // Without the URL: a registered URL may carry credentials.
        let failed = |e: reqwest::Error| unanswered(format!("server {server}: {}", e.without_url()));
        let response = request.send().await.map_err(failed)?;
        let status = response.status();
        let bytes = crate::outbound::read_capped(response, ANSWER_RESPONSE_BYTES_MAX)
            .await
            .map_err(failed)?
            .ok_or_else(|| unanswered(format!("server {server}: answer over {ANSWER_RESPONSE_BYTES_MAX} B")))?;
        if !status.is_success() {
            let quoted = String::from_utf8_lossy(&bytes[..bytes.len().min(REFUSAL_QUOTED_BYTES_MAX)]).into_owned();
            return Err(unanswered(format!("server {server} refused ({status}): {quoted}")));
        }
        serde_json::from_slice(&bytes).map_err(|e| unanswered(format!("server {server}: not an answer: {e}")))
    }
}

impl Answerer for HttpAnswerer {
    fn answer<'a>(&'a self, challenge: &'a Challenge) -> AnswerFuture<'a> {
        Box::pin(self.ask(challenge))
    }
}

/// Every registered contribution's id (1 to the count), at most `max`.
pub async fn contribution_ids(collective: &Collective, max: u64) -> Result<Vec<U256>, LivenessError> {
    let count = collective.liveness().contribution_count().await?;
    Ok((1..=count.min(max)).map(U256::from).collect())
}
