//! The server's key file: its secp256k1 key and age identity, plain or passphrase-sealed.
//!
//! Plain format (UTF-8 text, version 1):
//!
//! ```text
//! # hearth server keys: secret, keep this file mode 0600
//! hearth-server-keys v1
//! secp256k1-secret <64 lowercase hex digits>
//! age-identity AGE-SECRET-KEY-1...
//! ```
//!
//! A sealed key file is that same text encrypted as a whole to an age scrypt
//! (passphrase) recipient, so `age -d` can open it too.

use std::fmt;
use std::io::{Read, Write};
use std::iter;
use std::path::Path;

use age::secrecy::{ExposeSecret, SecretString};
use age::x25519;
use alloy_primitives::{Address, hex};
use alloy_signer_local::PrivateKeySigner;
use zeroize::{Zeroize, Zeroizing};

use crate::envelope::AGE_MAGIC;
use crate::fsutil::{open_private, read_capped, refuse_existing, write_new_secret_file};
use crate::{CryptoError, Result};

/// Largest key file hearth reads, sealed or plain; a real one is under 1 KiB.
pub const KEY_FILE_BYTES_MAX: usize = 16 * 1024;
/// First line of a plain key file: the format and its version.
const KEY_FILE_HEADER: &str = "hearth-server-keys v1";
/// The prefix of the header line shared by every version.
const KEY_FILE_HEADER_PREFIX: &str = "hearth-server-keys ";
const FIELD_SECP256K1: &str = "secp256k1-secret";
const FIELD_AGE: &str = "age-identity";
/// Length of a secp256k1 secret key.
const SECP256K1_SECRET_BYTES: usize = 32;
/// Room for the plain text of a key file, so building it never reallocates.
const KEY_TEXT_CAPACITY_BYTES: usize = 512;

/// The server's own keys: a secp256k1 key (chain transactions, audit anchors, responses)
/// and an age X25519 identity (receives encrypted data). Both are wiped on drop;
/// `Debug` shows only the public halves.
pub struct ServerKeys {
    secp256k1: Zeroizing<[u8; SECP256K1_SECRET_BYTES]>,
    address: Address,
    age: x25519::Identity,
}

impl ServerKeys {
    /// Generates fresh keys from the operating system's randomness.
    pub fn generate() -> ServerKeys {
        let signer = PrivateKeySigner::random();
        let mut bytes = signer.to_bytes();
        let secp256k1 = Zeroizing::new(bytes.0);
        bytes.0.zeroize();
        ServerKeys { secp256k1, address: signer.address(), age: x25519::Identity::generate() }
    }

    /// Builds keys from a secp256k1 secret (checked to be a valid scalar) and an age identity.
    fn from_parts(
        secp256k1: Zeroizing<[u8; SECP256K1_SECRET_BYTES]>,
        age: x25519::Identity,
    ) -> std::result::Result<ServerKeys, &'static str> {
        let signer = PrivateKeySigner::from_slice(&secp256k1[..])
            .map_err(|_| "secp256k1 secret is not a valid secp256k1 key")?;
        Ok(ServerKeys { secp256k1, address: signer.address(), age })
    }

    /// The secp256k1 secret key (32 bytes, big-endian scalar).
    pub fn secp256k1_secret(&self) -> &[u8; SECP256K1_SECRET_BYTES] {
        &self.secp256k1
    }

    /// The Ethereum address of the secp256k1 key.
    pub fn address(&self) -> Address {
        self.address
    }

    /// The age identity that decrypts data sent to this server.
    pub fn age_identity(&self) -> &x25519::Identity {
        &self.age
    }

    /// The age recipient (`age1...`) clients encrypt to.
    pub fn age_recipient(&self) -> x25519::Recipient {
        self.age.to_public()
    }

    /// The plain key file text; zeroized on drop.
    fn to_text(&self) -> Zeroizing<String> {
        let mut hex_secret = Zeroizing::new([0u8; 2 * SECP256K1_SECRET_BYTES]);
        hex::encode_to_slice(&self.secp256k1[..], &mut hex_secret[..])
            .expect("the buffer holds exactly two hex digits per byte");
        let hex_secret = std::str::from_utf8(&hex_secret[..]).expect("hex digits are ASCII");
        let age = self.age.to_string();

        let mut text = Zeroizing::new(String::with_capacity(KEY_TEXT_CAPACITY_BYTES));
        text.push_str("# hearth server keys: secret, keep this file mode 0600\n");
        text.push_str(KEY_FILE_HEADER);
        text.push('\n');
        for (field, value) in [(FIELD_SECP256K1, hex_secret), (FIELD_AGE, age.expose_secret())] {
            text.push_str(field);
            text.push(' ');
            text.push_str(value);
            text.push('\n');
        }
        assert!(text.len() <= KEY_TEXT_CAPACITY_BYTES, "key text outgrew its buffer");
        text
    }

    /// Parses the plain key file text. Errors name the problem, never the contents.
    fn from_text(text: &[u8]) -> std::result::Result<ServerKeys, String> {
        let text = std::str::from_utf8(text).map_err(|_| "not UTF-8 text".to_owned())?;
        let mut lines =
            text.lines().map(str::trim).enumerate().filter(|(_, line)| !line.is_empty() && !line.starts_with('#'));

        match lines.next() {
            Some((_, KEY_FILE_HEADER)) => {}
            Some((_, line)) if line.starts_with(KEY_FILE_HEADER_PREFIX) => {
                return Err("written by a newer hearth (unsupported version)".to_owned());
            }
            _ => return Err(format!("first line is not `{KEY_FILE_HEADER}`")),
        }

        let mut secp256k1: Option<Zeroizing<[u8; SECP256K1_SECRET_BYTES]>> = None;
        let mut age: Option<x25519::Identity> = None;
        for (index, line) in lines {
            let line_number = index + 1;
            let (field, value) = line.split_once(' ').unwrap_or((line, ""));
            let value = value.trim();
            match field {
                FIELD_SECP256K1 if secp256k1.is_none() => {
                    let mut secret = Zeroizing::new([0u8; SECP256K1_SECRET_BYTES]);
                    hex::decode_to_slice(value, &mut secret[..])
                        .map_err(|_| format!("line {line_number}: {FIELD_SECP256K1} is not 64 hex digits"))?;
                    secp256k1 = Some(secret);
                }
                FIELD_AGE if age.is_none() => {
                    let identity = value
                        .parse::<x25519::Identity>()
                        .map_err(|_| format!("line {line_number}: {FIELD_AGE} is not an AGE-SECRET-KEY-1 string"))?;
                    age = Some(identity);
                }
                FIELD_SECP256K1 | FIELD_AGE => {
                    return Err(format!("line {line_number}: {field} appears twice"));
                }
                // The line is not echoed: it might hold a secret.
                _ => return Err(format!("line {line_number}: unknown field")),
            }
        }
        let secp256k1 = secp256k1.ok_or_else(|| format!("no {FIELD_SECP256K1} line"))?;
        let age = age.ok_or_else(|| format!("no {FIELD_AGE} line"))?;
        ServerKeys::from_parts(secp256k1, age).map_err(str::to_owned)
    }
}

impl fmt::Debug for ServerKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerKeys")
            .field("address", &self.address)
            .field("age_recipient", &self.age_recipient().to_string())
            .finish_non_exhaustive()
    }
}

/// Writes a new key file at `path`: plain text, or with a passphrase an age file
/// encrypted to that passphrase (age's scrypt recipient).
///
/// Never overwrites (`KeyFileExists`); the file has mode 0600 from its creation, is
/// fsynced, and appears whole or not at all.
pub fn write_key_file(path: &Path, keys: &ServerKeys, passphrase: Option<&SecretString>) -> Result<()> {
    // Checked before the (slow) passphrase work; the final move checks again.
    refuse_existing(path)?;
    let text = keys.to_text();
    match passphrase {
        None => write_new_secret_file(path, text.as_bytes()),
        Some(passphrase) => {
            let sealed = seal(text.as_bytes(), passphrase).map_err(|e| CryptoError::FileIo {
                action: "seal key file",
                path: path.to_path_buf(),
                source: e,
            })?;
            write_new_secret_file(path, &sealed)
        }
    }
}

/// Encrypts `plaintext` to an age scrypt recipient. The output is ciphertext only.
fn seal(plaintext: &[u8], passphrase: &SecretString) -> std::io::Result<Vec<u8>> {
    let encryptor = age::Encryptor::with_user_passphrase(passphrase.clone());
    let mut writer = encryptor.wrap_output(Vec::new())?;
    writer.write_all(plaintext)?;
    writer.finish()
}

/// Reads the key file at `path`, opening it with `passphrase` when it is sealed.
///
/// Refuses a file the group or others may access (`KeyFilePermissions`).
pub fn read_key_file(path: &Path, passphrase: Option<&SecretString>) -> Result<ServerKeys> {
    let file = open_private(path)?;
    let contents = read_capped(file, path, KEY_FILE_BYTES_MAX)?;
    let corrupt = |reason: String| CryptoError::KeyFileCorrupt { path: path.to_path_buf(), reason };

    let text = if contents.starts_with(AGE_MAGIC) {
        let passphrase = passphrase.ok_or_else(|| CryptoError::PassphraseRequired { path: path.to_path_buf() })?;
        unseal(path, &contents, passphrase)?
    } else {
        contents
    };
    ServerKeys::from_text(&text).map_err(corrupt)
}

/// Decrypts a sealed key file's bytes with the passphrase.
fn unseal(path: &Path, sealed: &[u8], passphrase: &SecretString) -> Result<Zeroizing<Vec<u8>>> {
    let corrupt = |reason: String| CryptoError::KeyFileCorrupt { path: path.to_path_buf(), reason };
    let decryptor =
        age::Decryptor::new_buffered(sealed).map_err(|e| corrupt(format!("sealed header is invalid: {e}")))?;
    if !decryptor.is_scrypt() {
        return Err(corrupt("sealed to a key, not to a passphrase".to_owned()));
    }
    let identity = age::scrypt::Identity::new(passphrase.clone());
    let mut reader = decryptor.decrypt(iter::once(&identity as &dyn age::Identity)).map_err(|e| match e {
        age::DecryptError::DecryptionFailed => CryptoError::WrongPassphrase { path: path.to_path_buf() },
        age::DecryptError::ExcessiveWork { required, .. } => {
            corrupt(format!("passphrase work factor 2^{required} is too costly for this machine"))
        }
        other => corrupt(format!("cannot open the seal: {other}")),
    })?;
    let mut text = Zeroizing::new(Vec::with_capacity(KEY_FILE_BYTES_MAX));
    (&mut reader)
        .take(KEY_FILE_BYTES_MAX as u64)
        .read_to_end(&mut text)
        .map_err(|_| corrupt("sealed contents are damaged".to_owned()))?;
    Ok(text)
}

/// Whether the key file at `path` is sealed with a passphrase (an age file).
pub fn key_file_is_sealed(path: &Path) -> Result<bool> {
    let file = open_private(path)?;
    let mut prefix = [0u8; AGE_MAGIC.len()];
    let read = crate::envelope::read_prefix(&mut &file, &mut prefix).map_err(|e| CryptoError::FileIo {
        action: "read",
        path: path.to_path_buf(),
        source: e,
    })?;
    Ok(crate::envelope::looks_like_age(&prefix[..read]))
}
