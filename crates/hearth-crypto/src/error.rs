//! `CryptoError`: every way this crate can fail, each a one-line message without secrets.

use std::io;
use std::path::PathBuf;

/// An error from hearth-crypto. Messages name the file or the problem and never carry key
/// material, passphrases or plaintext.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// A key file (or keystore) already exists where a new one was to be written.
    #[error("key file {} already exists; hearth never overwrites a key", path.display())]
    KeyFileExists {
        /// The existing file.
        path: PathBuf,
    },
    /// There is no key file (or keystore) at the path.
    #[error("key file {} does not exist", path.display())]
    KeyFileMissing {
        /// The missing file.
        path: PathBuf,
    },
    /// The key file can be read or written by the group or by others.
    #[error(
        "key file {p} is readable by others (mode {mode:o}); run chmod 600 {p}",
        p = path.display()
    )]
    KeyFilePermissions {
        /// The key file.
        path: PathBuf,
        /// Its permission bits (`mode & 0o777`).
        mode: u32,
    },
    /// The key file is sealed with a passphrase and none was given.
    #[error("key file {} is sealed with a passphrase; none was given", path.display())]
    PassphraseRequired {
        /// The sealed key file.
        path: PathBuf,
    },
    /// The passphrase does not open the key file or keystore.
    #[error("wrong passphrase for {}", path.display())]
    WrongPassphrase {
        /// The sealed key file or keystore.
        path: PathBuf,
    },
    /// The key file exists but is not a hearth key file this version can read.
    #[error("key file {} is corrupt: {reason}", path.display())]
    KeyFileCorrupt {
        /// The key file.
        path: PathBuf,
        /// What is wrong with it (never its contents).
        reason: String,
    },
    /// The Ethereum keystore exists but cannot be decoded.
    #[error("keystore {} is corrupt: {reason}", path.display())]
    KeystoreCorrupt {
        /// The keystore file.
        path: PathBuf,
        /// What is wrong with it (never its contents).
        reason: String,
    },
    /// The Ethereum keystore could not be written.
    #[error("cannot write keystore {}: {reason}", path.display())]
    KeystoreWrite {
        /// The keystore that was to be written.
        path: PathBuf,
        /// Why it failed.
        reason: String,
    },
    /// A file operation on a key file or keystore failed.
    #[error("cannot {action} {}: {source}", path.display())]
    FileIo {
        /// What was being done ("read key file", "write key file", ...).
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// The owner's wallet signature is not a 65-byte `r‖s‖v` signature.
    #[error("invalid owner signature: {reason}")]
    InvalidSignature {
        /// What is wrong with it (never its bytes).
        reason: String,
    },
    /// A string is not an age X25519 recipient (`age1...`).
    #[error("invalid age recipient: {reason}")]
    InvalidRecipient {
        /// What is wrong with it (the input is not echoed: it may be a pasted secret key).
        reason: String,
    },
    /// Encryption was asked for with no recipient.
    #[error("no age recipients given; a file must be encrypted to at least one key")]
    NoRecipients,
    /// The input does not start with the age v1 header.
    #[error("not an age file (no age-encryption.org/v1 header)")]
    NotAgeFile,
    /// The age file is not encrypted to the identity given.
    #[error("age file is not encrypted to this key")]
    NotForThisKey,
    /// The age file ends before its final chunk.
    #[error("age file is truncated: it ends before its final chunk (or its last chunk was altered)")]
    Truncated,
    /// The age file failed authentication: it was altered or damaged.
    #[error("age file failed authentication ({reason}); it was altered or damaged")]
    Integrity {
        /// Which check failed.
        reason: String,
    },
    /// Reading the input or writing the output of a stream failed.
    #[error("I/O error while streaming: {0}")]
    Io(#[from] io::Error),
}
