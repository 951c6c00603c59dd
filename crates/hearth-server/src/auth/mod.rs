//! Signed requests: every API call carries an EIP-712 `Request` signature, checked here.
//!
//! The client ([`RequestSigner`]) signs
//! `Request(address server,string method,string pathAndQuery,bytes32 bodyHash,bytes32 nonce,uint64 issuedAt,uint64 expiresAt)`
//! in the domain `{ name: "hearth.Request", version: "1", chainId }` (no verifying
//! contract) and sends the result as `x-hearth-*` headers ([`SignedHeaders`]). The
//! server ([`Verifier`]) rebuilds the digest from what it received — its own address,
//! the method, the request target exactly as sent and the keccak256 of the exact body
//! bytes — recovers the signer, checks the time window, and consumes the nonce in a
//! [`NonceStore`] that survives restarts. The result is the verified caller's address;
//! what that caller may do is decided elsewhere (grants on chain).
//!
//! Every refusal is its own [`AuthError`] variant with a stable `code()` and a `status()`.
//!
//! Constant time: nothing compared here is secret. The signature is checked by
//! recovering its signer and comparing addresses (public), and the body hash, audience
//! and nonce are public values, so ordinary comparisons are used throughout.
//!
//! Framework-agnostic: no HTTP types. [`Verifier::verify`] writes to SQLite with
//! `synchronous=FULL` (an fsync per request), so an async caller runs it on a blocking
//! thread.

mod error;
mod headers;
mod nonces;
mod request;
mod verifier;

#[cfg(test)]
mod tests;

pub use error::AuthError;
pub use headers::SignedHeaders;
pub use nonces::{NONCES_MAX, NonceStore};
pub use request::{DOMAIN_NAME, DOMAIN_VERSION, REQUEST_TYPE, RequestSigner};
pub use verifier::Verifier;

/// How far in the future `issuedAt` may be, to allow for clocks that disagree.
pub const CLOCK_SKEW_SECS_MAX: u64 = 60;
/// Longest allowed `expiresAt - issuedAt`: a signed request is a short-lived credential.
pub const LIFETIME_SECS_MAX: u64 = 300;

/// The signer's address (`0x` + 20 bytes hex).
pub const SIGNER_HEADER: &str = "x-hearth-signer";
/// The 65-byte `r ‖ s ‖ v` signature (`0x` + 130 hex digits).
pub const SIGNATURE_HEADER: &str = "x-hearth-signature";
/// The request's nonce (`0x` + 32 bytes hex), unique per signer.
pub const NONCE_HEADER: &str = "x-hearth-nonce";
/// When the request was signed, unix seconds in decimal.
pub const ISSUED_AT_HEADER: &str = "x-hearth-issued-at";
/// When the request stops being valid, unix seconds in decimal.
pub const EXPIRES_AT_HEADER: &str = "x-hearth-expires-at";
/// Every header of a signed request (none may be repeated).
pub const ALL_HEADERS: &[&str] = &[
    SIGNER_HEADER,
    SIGNATURE_HEADER,
    NONCE_HEADER,
    ISSUED_AT_HEADER,
    EXPIRES_AT_HEADER,
    SERVER_HEADER,
    BODY_HASH_HEADER,
];

/// Optional: the server address the client signed for (`0x` + 20 bytes hex), so a
/// request meant for another server is refused as `wrong_audience` rather than as a
/// bad signature.
pub const SERVER_HEADER: &str = "x-hearth-server";
/// Optional: keccak256 of the body the client signed (`0x` + 32 bytes hex), so a body
/// changed on the way is refused as `body_hash_mismatch` rather than as a bad signature.
pub const BODY_HASH_HEADER: &str = "x-hearth-body-hash";
