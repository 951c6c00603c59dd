//! The owner's keys: an age identity derived from a wallet signature, and Ethereum keystores.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use age::secrecy::{ExposeSecret, SecretString};
use age::x25519;
use alloy_primitives::{Address, Signature, hex};
use alloy_signer_local::{LocalSignerError, PrivateKeySigner};
use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::{Zeroize, Zeroizing};

use crate::fsutil::{open_private, parent_dir, refuse_existing, write_new_secret_file};
use crate::{CryptoError, Result};

/// The message the owner's wallet signs (EIP-191 `personal_sign`) to derive their data key.
///
/// Frozen: changing one byte changes every owner's identity, and with it their access to
/// everything already encrypted to them.
pub const OWNER_KEY_MESSAGE: &str = "hearth owner data key v1\n\
\n\
Signing this message derives the key that decrypts your hearth data.\n\
Sign it only in hearth: anyone who holds this signature can read your data.";

/// HKDF-SHA256 salt for the owner's age identity. Frozen, like the message.
const OWNER_HKDF_SALT: &[u8] = b"hearth owner age identity v1";
/// HKDF-SHA256 info for the owner's age identity. Frozen, like the message.
const OWNER_HKDF_INFO: &[u8] = b"age X25519 secret key";
/// Length of an EIP-191 signature: `r` (32) ‖ `s` (32) ‖ `v` (1).
pub const SIGNATURE_BYTES: usize = 65;
/// Length of an X25519 secret key.
const X25519_SECRET_BYTES: usize = 32;
/// Human-readable part of age's Bech32 secret key encoding.
const AGE_SECRET_KEY_HRP: bech32::Hrp = bech32::Hrp::parse_unchecked("AGE-SECRET-KEY-");
/// Room for an encoded age secret key (74 characters), so encoding never reallocates.
const AGE_SECRET_KEY_CAPACITY_BYTES: usize = 128;
/// File name eth-keystore writes inside its private staging directory.
const KEYSTORE_STAGING_NAME: &str = "keystore.json";
/// Mode of the private directory a keystore is staged in.
const STAGING_DIR_MODE: u32 = 0o700;

/// Derives the owner's age identity from their wallet's signature over
/// [`OWNER_KEY_MESSAGE`].
///
/// The signature is first put in canonical form (`v` as 27/28, low `s`), so wallets that
/// write `v` as 0/1 derive the same identity; then HKDF-SHA256 (fixed salt and info,
/// version 1) turns it into the 32-byte X25519 secret. Deterministic for deterministic
/// (RFC 6979) signers, which every mainstream wallet is.
pub fn owner_identity_from_signature(signature: &[u8]) -> Result<x25519::Identity> {
    if signature.len() != SIGNATURE_BYTES {
        return Err(CryptoError::InvalidSignature {
            reason: format!("expected {SIGNATURE_BYTES} bytes (r‖s‖v), got {}", signature.len()),
        });
    }
    let parsed = Signature::from_raw(signature)
        .map_err(|_| CryptoError::InvalidSignature { reason: "v is not 0, 1, 27 or 28".to_owned() })?;
    let canonical = Zeroizing::new(parsed.normalized_s().as_bytes());

    let mut secret = Zeroizing::new([0u8; X25519_SECRET_BYTES]);
    Hkdf::<Sha256>::new(Some(OWNER_HKDF_SALT), &canonical[..])
        .expand(OWNER_HKDF_INFO, &mut secret[..])
        .expect("32 bytes is a valid HKDF-SHA256 output length");

    let mut encoded = Zeroizing::new(String::with_capacity(AGE_SECRET_KEY_CAPACITY_BYTES));
    bech32::encode_upper_to_fmt::<bech32::Bech32, _>(&mut *encoded, AGE_SECRET_KEY_HRP, &secret[..])
        .expect("an age secret key fits Bech32's length limit");
    assert!(encoded.len() <= AGE_SECRET_KEY_CAPACITY_BYTES, "encoded key outgrew its buffer");
    let identity = encoded.parse::<x25519::Identity>().expect("age parses the Bech32 form it defines");
    Ok(identity)
}

/// The identity as age's `AGE-SECRET-KEY-1...` string: an identity file line for `age -i`.
pub fn identity_to_string(id: &x25519::Identity) -> SecretString {
    id.to_string()
}

/// Creates a new secp256k1 key and writes it as a standard Ethereum V3 JSON keystore
/// (scrypt, AES-128-CTR, with `address`; what geth and MetaMask import) at `path`.
/// Returns its address.
///
/// Never overwrites (`KeyFileExists`); the file has mode 0600 and appears whole or not at
/// all. The keystore is staged inside a private (0700) directory beside `path`.
pub fn create_keystore(path: &Path, passphrase: &SecretString) -> Result<Address> {
    refuse_existing(path)?;
    let write_error = |reason: String| CryptoError::KeystoreWrite { path: path.to_path_buf(), reason };

    let staging = tempfile::Builder::new()
        .prefix(".hearth-keystore-")
        .permissions(fs::Permissions::from_mode(STAGING_DIR_MODE))
        .tempdir_in(parent_dir(path))
        .map_err(|e| CryptoError::FileIo {
            action: "create a staging directory for",
            path: path.to_path_buf(),
            source: e,
        })?;

    let signer = PrivateKeySigner::random();
    let mut bytes = signer.to_bytes();
    let secret = Zeroizing::new(bytes.0);
    bytes.0.zeroize();

    let (stored, _uuid) = PrivateKeySigner::encrypt_keystore(
        staging.path(),
        &mut rand::rngs::OsRng,
        &secret[..],
        passphrase.expose_secret().as_bytes(),
        Some(KEYSTORE_STAGING_NAME),
    )
    .map_err(|e| write_error(e.to_string()))?;
    let json = fs::read(staging.path().join(KEYSTORE_STAGING_NAME))
        .map_err(|e| write_error(format!("cannot read the staged keystore: {e}")))?;
    let json = with_address(&json, stored.address()).map_err(write_error)?;
    write_new_secret_file(path, &json)?;
    Ok(stored.address())
}

/// Adds the `address` field geth expects (lowercase hex, no `0x`) to a V3 keystore.
///
/// eth-keystore writes it only with its `geth-compat` feature, which would also make
/// keystores *without* the field (the Web3 Secret Storage examples) unreadable.
fn with_address(json: &[u8], address: Address) -> std::result::Result<Vec<u8>, String> {
    let mut keystore: serde_json::Value =
        serde_json::from_slice(json).map_err(|e| format!("staged keystore is not JSON: {e}"))?;
    let object = keystore.as_object_mut().ok_or("staged keystore is not a JSON object")?;
    object.insert("address".to_owned(), serde_json::Value::String(hex::encode(address)));
    serde_json::to_vec(&keystore).map_err(|e| e.to_string())
}

/// Decrypts the Ethereum V3 JSON keystore at `path` and returns its secp256k1 secret.
///
/// Refuses a keystore the group or others may access (`KeyFilePermissions`).
pub fn read_keystore(path: &Path, passphrase: &SecretString) -> Result<Zeroizing<[u8; 32]>> {
    drop(open_private(path)?);
    let corrupt = |reason: String| CryptoError::KeystoreCorrupt { path: path.to_path_buf(), reason };
    let signer = PrivateKeySigner::decrypt_keystore(path, passphrase.expose_secret().as_bytes()).map_err(|e| {
        use eth_keystore::KeystoreError;
        match e {
            LocalSignerError::EthKeystoreError(KeystoreError::MacMismatch) => {
                CryptoError::WrongPassphrase { path: path.to_path_buf() }
            }
            LocalSignerError::EthKeystoreError(KeystoreError::SerdeJson(_)) => {
                corrupt("not an Ethereum V3 JSON keystore".to_owned())
            }
            LocalSignerError::EthKeystoreError(KeystoreError::StdIo(reason)) => CryptoError::FileIo {
                action: "read keystore",
                path: path.to_path_buf(),
                source: std::io::Error::other(reason),
            },
            LocalSignerError::EcdsaError(_) => corrupt("the decrypted key is not a secp256k1 key".to_owned()),
            other => corrupt(other.to_string()),
        }
    })?;
    let mut bytes = signer.to_bytes();
    let secret = Zeroizing::new(bytes.0);
    bytes.0.zeroize();
    Ok(secret)
}
