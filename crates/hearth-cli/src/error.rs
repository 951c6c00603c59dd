//! The CLI's error: a library error plus advice for the person at the terminal.

use std::path::PathBuf;

/// Everything a command can fail with; `Display` is the one line printed on stderr.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// From the chain layer.
    #[error("{0}")]
    Chain(#[from] hearth_chain::ChainError),
    /// From keys and envelopes.
    #[error("{0}")]
    Crypto(#[from] hearth_crypto::CryptoError),
    /// From the blob store.
    #[error("{0}")]
    Store(#[from] hearth_store::StoreError),
    /// The config file is unreadable or invalid.
    #[error("config {path}: {reason}")]
    Config {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A file given on the command line cannot be used; nothing was stored.
    #[error("{path}: {reason}")]
    Input {
        /// The file as given.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A stored file failed to read back.
    #[error("file {id}: {reason}")]
    File {
        /// The file's id.
        id: u64,
        /// What went wrong.
        reason: String,
    },
    /// The data directory has not been set up.
    #[error("{0} is not initialised: run `hearth init` first")]
    NotInitialised(PathBuf),
    /// The server refused the call.
    #[error("the server refused ({status} {code}): {message}")]
    Api {
        /// HTTP status.
        status: u16,
        /// Stable error code.
        code: String,
        /// The server's message.
        message: String,
    },
    /// A contract refused a transaction for a reason a person can act on.
    #[error("refused: {sentence} ({error})")]
    Refused {
        /// What happened and what to do, in words.
        sentence: String,
        /// The contract's error name, e.g. `NoVotingPower`.
        error: String,
    },
    /// A check found a problem (exit code 1: a clean "no").
    #[error("{0}")]
    CheckFailed(String),
    /// A required setting is missing.
    #[error("{0}")]
    Missing(String),
    /// An operating-system error outside the libraries.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The OS error.
        source: std::io::Error,
    },
}

impl CliError {
    /// Whether this is only standard output closing early (`hearth data cat | head`),
    /// which is not an error.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, CliError::Io { source, .. } if source.kind() == std::io::ErrorKind::BrokenPipe)
    }
}
