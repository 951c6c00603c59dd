//! The EIP-712 `Request` a client signs, its domain, and the client-side signer.

use alloy_primitives::{Address, B256, U256, keccak256};
use alloy_sol_types::{Eip712Domain, SolStruct};
use hearth_chain::Wallet;

use super::{AuthError, EXPIRES_AT_HEADER, LIFETIME_SECS_MAX, SignedHeaders};

/// The EIP-712 domain name of signed requests.
pub const DOMAIN_NAME: &str = "hearth.Request";
/// The EIP-712 domain version of signed requests.
pub const DOMAIN_VERSION: &str = "1";
/// The EIP-712 type that is signed (a test checks the `sol!` struct encodes to it).
pub const REQUEST_TYPE: &str = "Request(address server,string method,string pathAndQuery,bytes32 bodyHash,bytes32 nonce,uint64 issuedAt,uint64 expiresAt)";

pub(crate) mod typed {
    #![allow(missing_docs)]
    alloy_sol_types::sol! {
        #[derive(Debug, PartialEq, Eq)]
        struct Request {
            address server;
            string method;
            string pathAndQuery;
            bytes32 bodyHash;
            bytes32 nonce;
            uint64 issuedAt;
            uint64 expiresAt;
        }
    }
}

/// The domain `{ name: "hearth.Request", version: "1", chainId }`, no verifying contract:
/// the audience is the `server` field, not a contract.
pub(crate) fn domain(chain_id: u64) -> Eip712Domain {
    Eip712Domain::new(Some(DOMAIN_NAME.into()), Some(DOMAIN_VERSION.into()), Some(U256::from(chain_id)), None, None)
}

/// The digest signed for a request to `server`, over the body's hash and the headers'
/// nonce and times.
pub(crate) fn signing_hash(
    domain: &Eip712Domain,
    server: Address,
    method: &str,
    path_and_query: &str,
    body_hash: B256,
    headers: &SignedHeaders,
) -> B256 {
    let request = typed::Request {
        server,
        method: method.to_owned(),
        pathAndQuery: path_and_query.to_owned(),
        bodyHash: body_hash,
        nonce: headers.nonce,
        issuedAt: headers.issued_at,
        expiresAt: headers.expires_at,
    };
    request.eip712_signing_hash(domain)
}

/// Signs requests to one server with one wallet: the client side (CLI, tests, benchmarks).
#[derive(Debug, Clone)]
pub struct RequestSigner {
    wallet: Wallet,
    server: Address,
    domain: Eip712Domain,
}

impl RequestSigner {
    /// A signer for requests to the server at `server` on chain `chain_id`.
    pub fn new(wallet: Wallet, server: Address, chain_id: u64) -> Self {
        RequestSigner { wallet, server, domain: domain(chain_id) }
    }

    /// The signing wallet's address (what the server will see as the caller).
    pub fn address(&self) -> Address {
        self.wallet.address()
    }

    /// Signs a request issued at `now`, valid for `lifetime_secs` (1 to
    /// [`LIFETIME_SECS_MAX`]), with a fresh random nonce. `path_and_query` is the request
    /// target exactly as it will be sent; `body` the exact body bytes (empty for none).
    pub fn sign(
        &self,
        method: &str,
        path_and_query: &str,
        body: &[u8],
        now: u64,
        lifetime_secs: u64,
    ) -> Result<SignedHeaders, AuthError> {
        let mut nonce = B256::ZERO;
        getrandom::fill(nonce.as_mut_slice())
            .map_err(|e| AuthError::Signing(format!("no randomness for the nonce: {e}")))?;
        self.sign_with_nonce(method, path_and_query, body, now, lifetime_secs, nonce)
    }

    /// [`sign`](Self::sign) with a nonce chosen by the caller, for deterministic tests and
    /// vectors. A nonce must never repeat for one signer within its lifetime.
    pub fn sign_with_nonce(
        &self,
        method: &str,
        path_and_query: &str,
        body: &[u8],
        now: u64,
        lifetime_secs: u64,
        nonce: B256,
    ) -> Result<SignedHeaders, AuthError> {
        if lifetime_secs == 0 {
            return Err(AuthError::Malformed { header: EXPIRES_AT_HEADER, problem: "not after issued-at" });
        }
        if lifetime_secs > LIFETIME_SECS_MAX {
            return Err(AuthError::LifetimeTooLong { lifetime_secs, max_secs: LIFETIME_SECS_MAX });
        }
        let expires_at = now
            .checked_add(lifetime_secs)
            .ok_or(AuthError::Malformed { header: EXPIRES_AT_HEADER, problem: "out of range for unix seconds" })?;
        self.sign_fields(method, path_and_query, body, nonce, now, expires_at)
    }

    /// Signs exactly the given fields, unchecked (tests build refused requests with it).
    pub(crate) fn sign_fields(
        &self,
        method: &str,
        path_and_query: &str,
        body: &[u8],
        nonce: B256,
        issued_at: u64,
        expires_at: u64,
    ) -> Result<SignedHeaders, AuthError> {
        let body_hash = keccak256(body);
        let mut headers = SignedHeaders {
            signer: self.wallet.address(),
            signature: Default::default(),
            nonce,
            issued_at,
            expires_at,
            server: Some(self.server),
            body_hash: Some(body_hash),
        };
        let digest = signing_hash(&self.domain, self.server, method, path_and_query, body_hash, &headers);
        headers.signature = self.wallet.sign_digest(digest).map_err(|e| AuthError::Signing(e.to_string()))?;
        Ok(headers)
    }
}
