//! The CLI's error: a library error plus advice for the person at the terminal.

use std::path::PathBuf;

/// Everything a command can fail with; `Display` is the one line printed on stderr.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// From the chain layer.
    #[error("{0}")]
    Chain(#[from] hearth_chain::ChainError),
    /// The config file is unreadable or invalid.
    #[error("config {path}: {reason}")]
    Config {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A required setting is missing.
    #[error("{0}")]
    Missing(String),
}
