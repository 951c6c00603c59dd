//! The `x-hearth-*` headers of a signed request: parsed strictly, written canonically.

use alloy_primitives::{Address, B256, Bytes, hex};

use super::{
    AuthError, BODY_HASH_HEADER, EXPIRES_AT_HEADER, ISSUED_AT_HEADER, NONCE_HEADER, SERVER_HEADER, SIGNATURE_HEADER,
    SIGNER_HEADER,
};

/// Length of an `r ‖ s ‖ v` secp256k1 signature.
const SIGNATURE_BYTES: usize = 65;
/// Most decimal digits in a `u64` (`18446744073709551615`).
const U64_DIGITS_MAX: usize = 20;

/// The authentication headers of one request, as the client sent them. Nothing here is
/// trusted until [`Verifier::verify`](super::Verifier::verify) has checked it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    /// Who claims to have signed (`x-hearth-signer`).
    pub signer: Address,
    /// The 65-byte `r ‖ s ‖ v` signature (`x-hearth-signature`).
    pub signature: Bytes,
    /// Unique per signer within the lifetime (`x-hearth-nonce`).
    pub nonce: B256,
    /// Unix seconds when signed (`x-hearth-issued-at`).
    pub issued_at: u64,
    /// Unix seconds after which the request is refused (`x-hearth-expires-at`).
    pub expires_at: u64,
    /// The server the client signed for, if it said (`x-hearth-server`, optional).
    pub server: Option<Address>,
    /// keccak256 of the body the client signed, if it said (`x-hearth-body-hash`, optional).
    pub body_hash: Option<B256>,
}

impl SignedHeaders {
    /// Parses the headers through `get`, which returns a header's value by its lowercase
    /// name. Every missing required header and every malformed header is its own error.
    /// Hex values need the `0x` prefix (either case of digits); times are plain decimal.
    /// The HTTP layer refuses a request that repeats one of these headers.
    pub fn parse<'a>(get: impl Fn(&str) -> Option<&'a [u8]>) -> Result<SignedHeaders, AuthError> {
        let signer = get(SIGNER_HEADER).ok_or(AuthError::MissingSigner)?;
        let signer = Address::from(hex_array::<20>(SIGNER_HEADER, signer, "expected 0x and 40 hex digits")?);
        let signature = get(SIGNATURE_HEADER).ok_or(AuthError::MissingSignature)?;
        let signature = hex_array::<SIGNATURE_BYTES>(SIGNATURE_HEADER, signature, "expected 0x and 130 hex digits")?;
        let nonce = get(NONCE_HEADER).ok_or(AuthError::MissingNonce)?;
        let nonce = B256::from(hex_array::<32>(NONCE_HEADER, nonce, "expected 0x and 64 hex digits")?);
        let issued_at = decimal(ISSUED_AT_HEADER, get(ISSUED_AT_HEADER).ok_or(AuthError::MissingIssuedAt)?)?;
        let expires_at = decimal(EXPIRES_AT_HEADER, get(EXPIRES_AT_HEADER).ok_or(AuthError::MissingExpiresAt)?)?;
        let server = get(SERVER_HEADER)
            .map(|v| hex_array::<20>(SERVER_HEADER, v, "expected 0x and 40 hex digits").map(Address::from))
            .transpose()?;
        let body_hash = get(BODY_HASH_HEADER)
            .map(|v| hex_array::<32>(BODY_HASH_HEADER, v, "expected 0x and 64 hex digits").map(B256::from))
            .transpose()?;
        Ok(SignedHeaders {
            signer,
            signature: Bytes::from(signature.to_vec()),
            nonce,
            issued_at,
            expires_at,
            server,
            body_hash,
        })
    }

    /// The headers to send, as (lowercase name, value) pairs; the optional ones only
    /// when set.
    pub fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = vec![
            (SIGNER_HEADER, hex::encode_prefixed(self.signer)),
            (SIGNATURE_HEADER, hex::encode_prefixed(&self.signature)),
            (NONCE_HEADER, hex::encode_prefixed(self.nonce)),
            (ISSUED_AT_HEADER, self.issued_at.to_string()),
            (EXPIRES_AT_HEADER, self.expires_at.to_string()),
        ];
        if let Some(server) = self.server {
            pairs.push((SERVER_HEADER, hex::encode_prefixed(server)));
        }
        if let Some(body_hash) = self.body_hash {
            pairs.push((BODY_HASH_HEADER, hex::encode_prefixed(body_hash)));
        }
        pairs
    }
}

/// `0x` followed by exactly `2 * N` hex digits.
fn hex_array<const N: usize>(header: &'static str, value: &[u8], expected: &'static str) -> Result<[u8; N], AuthError> {
    let malformed = || AuthError::Malformed { header, problem: expected };
    let digits = value.strip_prefix(b"0x").ok_or_else(malformed)?;
    if digits.len() != 2 * N {
        return Err(malformed());
    }
    hex::decode_to_array::<_, N>(digits).map_err(|_| malformed())
}

/// Unix seconds: ASCII digits only (no sign, no spaces), within `u64`.
fn decimal(header: &'static str, value: &[u8]) -> Result<u64, AuthError> {
    let malformed = |problem| AuthError::Malformed { header, problem };
    if value.is_empty() || value.len() > U64_DIGITS_MAX || !value.iter().all(u8::is_ascii_digit) {
        return Err(malformed("expected unix seconds in decimal"));
    }
    // All ASCII digits, so valid UTF-8; only overflow can fail the parse.
    std::str::from_utf8(value)
        .ok()
        .and_then(|text| text.parse::<u64>().ok())
        .ok_or_else(|| malformed("out of range for unix seconds"))
}
