//! The one error type of `hearth-chain`.

use std::path::PathBuf;

use alloy_primitives::Bytes;

/// What can go wrong talking to a chain. Messages are one line, name the problem, and
/// never carry key material.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// The RPC endpoint could not be reached or did not answer in time.
    #[error("cannot reach the chain RPC at {url}: {reason}")]
    Unreachable {
        /// The endpoint, without credentials.
        url: String,
        /// What the transport said.
        reason: String,
    },
    /// The RPC endpoint answered with an error.
    #[error("the chain RPC refused {method}: {message}")]
    Rpc {
        /// The JSON-RPC method.
        method: &'static str,
        /// The server's message.
        message: String,
    },
    /// The chain is not the one the configuration names.
    #[error("wrong chain: the configuration expects chain id {expected}, the chain reports {actual}")]
    WrongChainId {
        /// From the configuration.
        expected: u64,
        /// From the chain.
        actual: u64,
    },
    /// A contract the configuration names has no code on this chain.
    #[error("no {contract} contract at {address} on chain {chain_id}; deploy with `hearth chain deploy`")]
    MissingContract {
        /// The contract's name.
        contract: &'static str,
        /// The configured address.
        address: alloy_primitives::Address,
        /// The chain's id.
        chain_id: u64,
    },
    /// A call or transaction reverted; `reason` is the decoded custom error when known.
    #[error("{contract} reverted: {reason}")]
    Reverted {
        /// The contract (or `transaction` when unknown).
        contract: &'static str,
        /// The decoded error, e.g. `InvalidSignature()`.
        reason: String,
        /// The raw revert data.
        data: Bytes,
    },
    /// The embedded chain refused a transaction before executing it (bad nonce, chain id, gas).
    #[error("transaction refused: {0}")]
    InvalidTransaction(String),
    /// The embedded chain's state file cannot be trusted; nothing is reset.
    #[error("embedded chain state {path} is corrupted: {reason}")]
    Corrupted {
        /// The state file.
        path: PathBuf,
        /// What is wrong with it, including the record number.
        reason: String,
    },
    /// Another process has the embedded chain open.
    #[error("embedded chain state {path} is in use by another hearth process")]
    Busy {
        /// The locked journal.
        path: PathBuf,
    },
    /// The embedded chain's state could not be read or written.
    #[error("embedded chain state {path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A value returned by the chain could not be decoded.
    #[error("cannot decode the answer of {what}: {reason}")]
    Decode {
        /// What was being decoded.
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// A request asked for more than a named limit allows.
    #[error("{what}: {actual} exceeds the limit of {max}")]
    LimitExceeded {
        /// The limit's name.
        what: &'static str,
        /// The size asked for.
        actual: u64,
        /// The limit.
        max: u64,
    },
    /// Invalid input from the caller (a bad grant, a bad URL).
    #[error("{0}")]
    Invalid(String),
}

impl From<hearth_core::CoreError> for ChainError {
    fn from(e: hearth_core::CoreError) -> Self {
        ChainError::Invalid(e.to_string())
    }
}

/// Shorthand used across the crate.
pub type Result<T, E = ChainError> = std::result::Result<T, E>;
