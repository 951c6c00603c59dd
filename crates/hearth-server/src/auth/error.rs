//! Why a signed request was refused: one variant per check, each with a stable code.

use alloy_primitives::Address;

/// A refused request, or a failure of the nonce store or the signer. `Display` is safe
/// to show a client; the cause of a store failure is in `source()`, for the log.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The `x-hearth-signer` header is absent.
    #[error("the request is not signed: header x-hearth-signer is missing")]
    MissingSigner,
    /// The `x-hearth-signature` header is absent.
    #[error("the request is not signed: header x-hearth-signature is missing")]
    MissingSignature,
    /// The `x-hearth-nonce` header is absent.
    #[error("header x-hearth-nonce is missing")]
    MissingNonce,
    /// The `x-hearth-issued-at` header is absent.
    #[error("header x-hearth-issued-at is missing")]
    MissingIssuedAt,
    /// The `x-hearth-expires-at` header is absent.
    #[error("header x-hearth-expires-at is missing")]
    MissingExpiresAt,
    /// A header is present but its value is not of the expected form.
    #[error("header {header} is malformed: {problem}")]
    Malformed {
        /// The header's name.
        header: &'static str,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// The signature bytes are not a valid secp256k1 signature (bad `v`, `r` or `s`
    /// out of range, or a high `s`), so no signer can be recovered.
    #[error("the signature is not a valid secp256k1 signature")]
    InvalidSignature,
    /// The signature does not recover to `x-hearth-signer` over the request as
    /// received: signed by another key, or the method, path, query or body changed.
    #[error("the signature does not match the signer and the request as received")]
    BadSignature,
    /// The request names another server as its audience (`x-hearth-server`).
    #[error("the request was signed for server {signed_for}, not this server ({server})")]
    WrongAudience {
        /// This server's address.
        server: Address,
        /// The audience the client signed for.
        signed_for: Address,
    },
    /// The body received is not the body the client hashed (`x-hearth-body-hash`).
    #[error("the body does not match x-hearth-body-hash")]
    BodyHashMismatch,
    /// `issuedAt` is further in the future than the allowed clock skew.
    #[error("the request is issued at {issued_at}, in the future (now {now})")]
    NotYetValid {
        /// The request's `issuedAt`.
        issued_at: u64,
        /// The server's time.
        now: u64,
    },
    /// `expiresAt` has passed (`expiresAt <= now`).
    #[error("the request expired at {expires_at} (now {now})")]
    Expired {
        /// The request's `expiresAt`.
        expires_at: u64,
        /// The server's time (or the latest time the nonce store has seen).
        now: u64,
    },
    /// `expiresAt - issuedAt` is longer than [`LIFETIME_SECS_MAX`](super::LIFETIME_SECS_MAX).
    #[error("the request is valid for {lifetime_secs} s; at most {max_secs} s is allowed")]
    LifetimeTooLong {
        /// The requested lifetime.
        lifetime_secs: u64,
        /// The limit.
        max_secs: u64,
    },
    /// The nonce was already used by this signer within its lifetime.
    #[error("the request's nonce was already used (a replay)")]
    Replayed,
    /// The nonce store holds its limit of unexpired nonces; refused rather than grow.
    #[error("too many requests in flight: the nonce store is full")]
    NonceStoreFull,
    /// The nonce store could not be read or written; the request is refused (fail closed).
    #[error("the nonce store is unavailable ({action})")]
    NonceStoreUnavailable {
        /// What was being done.
        action: &'static str,
        /// The cause, for the log.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The client could not sign (a key or RNG failure).
    #[error("signing the request failed: {0}")]
    Signing(String),
}

impl AuthError {
    /// A stable snake_case code for clients and logs.
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::MissingSigner => "missing_signer",
            AuthError::MissingSignature => "missing_signature",
            AuthError::MissingNonce => "missing_nonce",
            AuthError::MissingIssuedAt => "missing_issued_at",
            AuthError::MissingExpiresAt => "missing_expires_at",
            AuthError::Malformed { .. } => "malformed_header",
            AuthError::InvalidSignature => "invalid_signature",
            AuthError::BadSignature => "bad_signature",
            AuthError::WrongAudience { .. } => "wrong_audience",
            AuthError::BodyHashMismatch => "body_hash_mismatch",
            AuthError::NotYetValid { .. } => "not_yet_valid",
            AuthError::Expired { .. } => "expired",
            AuthError::LifetimeTooLong { .. } => "lifetime_too_long",
            AuthError::Replayed => "replayed",
            AuthError::NonceStoreFull => "nonce_store_full",
            AuthError::NonceStoreUnavailable { .. } => "nonce_store_unavailable",
            AuthError::Signing(_) => "signing_failed",
        }
    }

    /// The HTTP status to answer with: 400 for a malformed header, 401 for every other
    /// refusal, 503 when the nonce store cannot take the request, 500 for a client-side
    /// signing failure (never produced by the verifier).
    pub fn status(&self) -> u16 {
        match self {
            AuthError::Malformed { .. } => 400,
            AuthError::MissingSigner
            | AuthError::MissingSignature
            | AuthError::MissingNonce
            | AuthError::MissingIssuedAt
            | AuthError::MissingExpiresAt
            | AuthError::InvalidSignature
            | AuthError::BadSignature
            | AuthError::WrongAudience { .. }
            | AuthError::BodyHashMismatch
            | AuthError::NotYetValid { .. }
            | AuthError::Expired { .. }
            | AuthError::LifetimeTooLong { .. }
            | AuthError::Replayed => 401,
            AuthError::NonceStoreFull | AuthError::NonceStoreUnavailable { .. } => 503,
            AuthError::Signing(_) => 500,
        }
    }

    pub(crate) fn store(action: &'static str) -> impl FnOnce(rusqlite::Error) -> AuthError {
        move |e| AuthError::NonceStoreUnavailable { action, source: Box::new(e) }
    }
}
