//! The one error type of the audit trail.

use std::path::PathBuf;

use alloy_primitives::Address;
use hearth_chain::ChainError;

/// What can go wrong appending to, anchoring or checking the audit log. An error from
/// [`AuditLog::append`](super::AuditLog::append) means no record was written, so the
/// caller must refuse the access.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// An entry or an argument breaks a rule (an empty action, too many files).
    #[error("invalid {what}: {problem}")]
    Invalid {
        /// What was given.
        what: &'static str,
        /// Which rule it breaks.
        problem: String,
    },
    /// The audit database refused or failed an operation.
    #[error("audit database: cannot {op}: {source}")]
    Database {
        /// What was being done.
        op: &'static str,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// The audit database was written by a newer hearth.
    #[error("audit database {path} has schema version {found}; this hearth reads up to {known}")]
    Schema {
        /// The database file.
        path: PathBuf,
        /// Its `user_version`.
        found: i64,
        /// The newest version this build knows.
        known: i64,
    },
    /// There is no record with this sequence number.
    #[error("no audit record {seq}")]
    NotFound {
        /// The sequence number asked for.
        seq: u64,
    },
    /// The record exists but its batch has not been anchored on chain yet.
    #[error("audit record {seq} is not anchored yet")]
    NotAnchored {
        /// The sequence number asked for.
        seq: u64,
    },
    /// The local log is damaged: a record's hash, its link to the previous record, or a
    /// run of records is wrong. Nothing is anchored over a damaged log.
    #[error("audit log is damaged at record {seq}: {problem}; run the audit verification")]
    Tampered {
        /// The first bad record.
        seq: u64,
        /// What is wrong with it.
        problem: String,
    },
    /// The chain's anchors for this server disagree with the local log (another log
    /// anchored with the same key, or the log is on another chain).
    #[error("audit log and chain disagree: {0}")]
    Diverged(String),
    /// The log is bound to another server address than the one given.
    #[error("this audit log is anchored by server {bound}, not {given}")]
    WrongServer {
        /// The address the log's anchors were made by.
        bound: Address,
        /// The address given.
        given: Address,
    },
    /// The chain could not be read or refused a transaction.
    #[error("audit anchoring: {0}")]
    Chain(#[from] ChainError),
}

impl AuditError {
    pub(crate) fn db(op: &'static str) -> impl FnOnce(rusqlite::Error) -> AuditError {
        move |source| AuditError::Database { op, source }
    }
}

/// Shorthand used across the module.
pub type Result<T, E = AuditError> = std::result::Result<T, E>;
