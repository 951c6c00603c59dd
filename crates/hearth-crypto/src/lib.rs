//! hearth-crypto: age envelopes, key derivation, sealed key files.
//!
//! All cryptography comes from audited crates: the age format from `age` (rage),
//! HKDF-SHA256 from `hkdf` and `sha2`, Ethereum keystores from `alloy-signer-local`.
//! Secrets live in types that wipe themselves on drop and never print.

#![forbid(unsafe_code)]

mod envelope;
mod error;
mod fsutil;
mod hash;
mod keys;
mod owner;

/// The age crate this API is built on, so callers name the same `Identity` and `Recipient`.
pub use age;
/// Secret strings (passphrases, identity strings): zeroized on drop, `Debug` redacted.
pub use age::secrecy::{ExposeSecret, SecretString};
pub use envelope::{
    AGE_HEADER_BYTES_MAX, AGE_MAGIC, CHUNK_BYTES, decrypt, encrypt, looks_like_age, parse_recipient, reencrypt,
};
pub use error::CryptoError;
pub use hash::{Sha256Reader, Sha256Writer};
pub use keys::{KEY_FILE_BYTES_MAX, ServerKeys, key_file_is_sealed, read_key_file, write_key_file};
pub use owner::{
    OWNER_KEY_MESSAGE, SIGNATURE_BYTES, create_keystore, identity_to_string, owner_identity_from_signature,
    read_keystore,
};
/// Wipes secrets on drop; `read_keystore` returns its key in one.
pub use zeroize::Zeroizing;

/// The result of every fallible hearth-crypto call.
pub type Result<T> = std::result::Result<T, CryptoError>;
