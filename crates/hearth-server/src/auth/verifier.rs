//! The server side: checks a signed request against what was received and consumes its nonce.

use std::sync::Arc;

use alloy_primitives::{Address, Signature, keccak256};
use alloy_sol_types::Eip712Domain;
use hearth_core::Clock;

use super::request::{domain, signing_hash};
use super::{AuthError, CLOCK_SKEW_SECS_MAX, EXPIRES_AT_HEADER, LIFETIME_SECS_MAX, NonceStore, SignedHeaders};

/// Verifies signed requests addressed to one server. Shareable across threads.
#[derive(Debug)]
pub struct Verifier {
    server: Address,
    domain: Eip712Domain,
    clock: Arc<dyn Clock>,
    nonces: NonceStore,
}

impl Verifier {
    /// A verifier for requests to `server` (this server's address) on chain `chain_id`.
    pub fn new(server: Address, chain_id: u64, clock: Arc<dyn Clock>, nonces: NonceStore) -> Self {
        Verifier { server, domain: domain(chain_id), clock, nonces }
    }

    /// This server's address, the audience every request must be signed for.
    pub fn server(&self) -> Address {
        self.server
    }

    /// Checks everything and consumes the nonce; returns the signer (the verified caller).
    ///
    /// `method` and `path_and_query` are as received (the request target exactly as
    /// sent), `body` the exact body bytes. Cheap checks come first; the signature is
    /// recovered before the nonce store is touched, so unsigned traffic cannot fill it.
    /// Blocks on an fsync of the nonce store.
    pub fn verify(
        &self,
        method: &str,
        path_and_query: &str,
        body: &[u8],
        headers: &SignedHeaders,
    ) -> Result<Address, AuthError> {
        let now = self.clock.now_secs();
        if headers.expires_at <= headers.issued_at {
            return Err(AuthError::Malformed { header: EXPIRES_AT_HEADER, problem: "not after issued-at" });
        }
        let lifetime_secs = headers.expires_at - headers.issued_at;
        if lifetime_secs > LIFETIME_SECS_MAX {
            return Err(AuthError::LifetimeTooLong { lifetime_secs, max_secs: LIFETIME_SECS_MAX });
        }
        if let Some(signed_for) = headers.server
            && signed_for != self.server
        {
            return Err(AuthError::WrongAudience { server: self.server, signed_for });
        }
        let body_hash = keccak256(body);
        if headers.body_hash.is_some_and(|claimed| claimed != body_hash) {
            return Err(AuthError::BodyHashMismatch);
        }
        if headers.issued_at > now.saturating_add(CLOCK_SKEW_SECS_MAX) {
            return Err(AuthError::NotYetValid { issued_at: headers.issued_at, now });
        }
        if headers.expires_at <= now {
            return Err(AuthError::Expired { expires_at: headers.expires_at, now });
        }

        // Recovery compares public addresses, so no constant-time comparison is needed.
        let signature = Signature::from_raw(&headers.signature).map_err(|_| AuthError::InvalidSignature)?;
        if signature.normalize_s().is_some() {
            // A high `s` is the malleated twin of a valid signature; refuse it as
            // OpenZeppelin's ECDSA does. (Replay protection does not depend on this: the
            // nonce is keyed by signer, not by signature.)
            return Err(AuthError::InvalidSignature);
        }
        let digest = signing_hash(&self.domain, self.server, method, path_and_query, body_hash, headers);
        let recovered = signature.recover_address_from_prehash(&digest).map_err(|_| AuthError::InvalidSignature)?;
        if recovered != headers.signer {
            return Err(AuthError::BadSignature);
        }

        if !self.nonces.insert(headers.signer, headers.nonce, headers.expires_at, now)? {
            return Err(AuthError::Replayed);
        }
        Ok(headers.signer)
    }
}
