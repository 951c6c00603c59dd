//! The one error type of `hearth-store`.

use std::path::PathBuf;

/// What can go wrong storing or reading a file. Messages are one line, name the file id,
/// path or blob key and the problem, and never carry S3 credentials.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another process (or another `Store` in this one) holds the data directory's lock.
    #[error("the store at {data_dir} is in use by another process (lock {lock} is held); stop it first")]
    Busy {
        /// The data directory.
        data_dir: PathBuf,
        /// The lock file.
        lock: PathBuf,
    },
    /// No committed file has this id.
    #[error("file {id} not found")]
    NotFound {
        /// The file id asked for.
        id: u64,
    },
    /// The file's row exists but its blob is gone from the blob store.
    #[error("file {id}: its blob is missing from the blob store")]
    BlobMissing {
        /// The file id.
        id: u64,
    },
    /// The blob's bytes differ from the size or SHA-256 recorded when it was committed.
    #[error("file {id}: blob fails verification: {problem}")]
    Integrity {
        /// The file id.
        id: u64,
        /// What differs (size or digest).
        problem: String,
    },
    /// A ciphertext stream is longer than the configured limit; nothing was kept.
    #[error("ciphertext is larger than the limit of {limit_bytes} bytes")]
    LimitExceeded {
        /// The limit (`StoreConfig::file_bytes_max`).
        limit_bytes: u64,
    },
    /// An argument or a configuration value breaks a rule.
    #[error("invalid {what}: {problem}")]
    Invalid {
        /// What was given (scope, name, configuration, ...).
        what: &'static str,
        /// Which rule it breaks.
        problem: String,
    },
    /// The metadata database refused or failed an operation.
    #[error("metadata database: cannot {op}: {source}")]
    Database {
        /// What was being done.
        op: &'static str,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// The metadata database was written by a newer hearth.
    #[error("metadata database {path} has schema version {found}; this hearth reads up to {known}")]
    Schema {
        /// The database file.
        path: PathBuf,
        /// Its `user_version`.
        found: i64,
        /// The newest version this build knows.
        known: i64,
    },
    /// The blob store (local directory or S3 bucket) failed an operation.
    #[error("blob store: cannot {op} {key}: {reason}")]
    Blob {
        /// What was being done.
        op: &'static str,
        /// The blob key (or bucket) involved.
        key: String,
        /// What the backend said, on one line.
        reason: String,
    },
    /// A local file or directory operation failed.
    #[error("cannot {op} {path}: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// Reading the ciphertext handed to `stage` failed; nothing was kept.
    #[error("cannot read the ciphertext to store: {0}")]
    Input(std::io::Error),
    /// A stream failed with an I/O error that carries no store error.
    #[error("stream failed: {0}")]
    Stream(std::io::Error),
    /// The async runtime is shutting down and a background step did not run.
    #[error("the runtime is shutting down; {op} did not finish")]
    ShuttingDown {
        /// What was being done.
        op: &'static str,
    },
}

/// `Result` with [`StoreError`].
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

impl From<std::io::Error> for StoreError {
    /// Unwraps a [`StoreError`] carried inside an I/O error (as [`crate::BlobReader`]
    /// reports `Integrity` and `BlobMissing`); anything else becomes [`StoreError::Stream`].
    fn from(e: std::io::Error) -> Self {
        if e.get_ref().is_some_and(|inner| inner.is::<StoreError>()) {
            let kind = e.kind();
            match e.into_inner().map(|inner| inner.downcast::<StoreError>()) {
                Some(Ok(store)) => return *store,
                // Checked with `is` just above; rebuild the error if it somehow differs.
                Some(Err(other)) => return StoreError::Stream(std::io::Error::new(kind, other)),
                None => return StoreError::Stream(kind.into()),
            }
        }
        StoreError::Stream(e)
    }
}

impl StoreError {
    /// Wraps this error in an I/O error, for `AsyncRead` implementations.
    pub(crate) fn into_io(self) -> std::io::Error {
        let kind = match self {
            StoreError::Integrity { .. } => std::io::ErrorKind::InvalidData,
            StoreError::BlobMissing { .. } => std::io::ErrorKind::NotFound,
            _ => std::io::ErrorKind::Other,
        };
        std::io::Error::new(kind, self)
    }

    pub(crate) fn blob(op: &'static str, key: &str, e: &object_store::Error) -> StoreError {
        StoreError::Blob { op, key: key.to_owned(), reason: one_line(e) }
    }

    pub(crate) fn db(op: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
        move |source| StoreError::Database { op, source }
    }

    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> StoreError {
        let path = path.into();
        move |source| StoreError::Io { op, path, source }
    }
}

/// `e`'s message with line breaks folded, so a server's XML body stays on one line.
pub(crate) fn one_line(e: &impl std::fmt::Display) -> String {
    e.to_string().split_whitespace().collect::<Vec<_>>().join(" ")
}
