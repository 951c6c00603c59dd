//! A small client of a hearth server: every call signed with the caller's wallet.

use hearth_chain::{Signing, Wallet};
use hearth_core::{Clock, SystemClock};
use hearth_server::auth::RequestSigner;
use hearth_server::routes::system::Identity;
use serde::de::DeserializeOwned;

use crate::error::CliError;

/// How long a signed request stays valid.
pub const REQUEST_LIFETIME_SECS: u64 = 60;
/// How long one HTTP call may take.
pub const CALL_SECS_MAX: u64 = 300;

/// A signed-request client for one server.
pub struct Client {
    http: reqwest::Client,
    base: String,
    signer: RequestSigner,
    wallet: Wallet,
    /// The server's identity (`GET /v1/identity`).
    pub identity: Identity,
}

fn unreachable_server(base: &str, e: reqwest::Error) -> CliError {
    CliError::Missing(format!("cannot reach the hearth server at {base}: {e}"))
}

/// The server's `{code, message}` answer as an error.
async fn refusal(response: reqwest::Response) -> CliError {
    let status = response.status().as_u16();
    let v: serde_json::Value = response.json().await.unwrap_or_default();
    CliError::Api {
        status,
        code: v["code"].as_str().unwrap_or("unknown").to_owned(),
        message: v["message"].as_str().unwrap_or("").to_owned(),
    }
}

impl Client {
    /// Fetches the server's identity and prepares to sign as `wallet`.
    pub async fn connect(base: &str, wallet: Wallet) -> Result<Client, CliError> {
        let base = base.trim_end_matches('/').to_owned();
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(CALL_SECS_MAX))
            .build()
            .map_err(|e| CliError::Missing(e.to_string()))?;
        let identity: Identity = http
            .get(format!("{base}/v1/identity"))
            .send()
            .await
            .map_err(|e| unreachable_server(&base, e))?
            .json()
            .await
            .map_err(|e| CliError::Missing(format!("{base} is not a hearth server: {e}")))?;
        let signer = RequestSigner::new(wallet.clone(), identity.server, identity.chain_id);
        Ok(Client { http, base, signer, wallet, identity })
    }

    /// The signing wallet's address.
    pub fn signer_address(&self) -> alloy_primitives::Address {
        self.signer.address()
    }

    /// The signing wallet.
    pub fn wallet(&self) -> &Wallet {
        &self.wallet
    }

    /// Offline EIP-712 signing for the server's chain.
    pub fn signing(&self) -> Signing {
        Signing { chain_id: self.identity.chain_id, deployment: self.identity.contracts }
    }

    /// A signed call; an error answer becomes `CliError::Api`.
    pub async fn call(&self, method: &str, path_and_query: &str, body: Vec<u8>) -> Result<reqwest::Response, CliError> {
        let headers = self
            .signer
            .sign(method, path_and_query, &body, SystemClock.now_secs(), REQUEST_LIFETIME_SECS)
            .map_err(|e| CliError::Missing(e.to_string()))?;
        let method = reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| CliError::Missing(e.to_string()))?;
        let mut request = self.http.request(method, format!("{}{path_and_query}", self.base)).body(body);
        for (name, value) in headers.to_pairs() {
            request = request.header(name, value);
        }
        let response = request.send().await.map_err(|e| unreachable_server(&self.base, e))?;
        if response.status().is_success() {
            return Ok(response);
        }
        Err(refusal(response).await)
    }

    /// A signed call whose answer is JSON.
    pub async fn json<T: DeserializeOwned>(
        &self,
        method: &str,
        path_and_query: &str,
        body: Vec<u8>,
    ) -> Result<T, CliError> {
        self.call(method, path_and_query, body)
            .await?
            .json()
            .await
            .map_err(|e| CliError::Missing(format!("unexpected answer from the server: {e}")))
    }

    /// An unsigned GET whose answer is JSON (public endpoints).
    pub async fn public<T: DeserializeOwned>(&self, path: &str) -> Result<T, CliError> {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .map_err(|e| unreachable_server(&self.base, e))?
            .json()
            .await
            .map_err(|e| CliError::Missing(format!("unexpected answer from the server: {e}")))
    }

    /// An unsigned POST of JSON (the app registration relay).
    pub async fn post_public<B: serde::Serialize>(&self, path: &str, body: &B) -> Result<(), CliError> {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .json(body)
            .send()
            .await
            .map_err(|e| unreachable_server(&self.base, e))?;
        if response.status().is_success() {
            return Ok(());
        }
        Err(refusal(response).await)
    }
}
