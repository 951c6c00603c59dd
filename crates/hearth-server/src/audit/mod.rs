//! The audit trail: an append-only, hash-chained log of every access in its own SQLite
//! file, anchored on chain in batches as Merkle roots, and checked end to end.
//!
//! - **Record hash.** `hash = keccak256(abi.encode(bytes32 prevHash, uint64 seq,
//!   uint64 time, AuditEntry entry))`, Solidity ABI encoding, with [`ENTRY_SOLIDITY`]
//!   declaring `AuditEntry` (each optional hash a presence flag plus a value). The first
//!   record's `prev_hash` is zero. The hash covers `seq`, so a record names its own place.
//! - **Batches.** [`AuditLog::anchor_pending`] anchors records `nextSeq(server)..` (at
//!   most [`ANCHOR_BATCH_MAX`]) with `AuditLog.anchor(root, first, last)`. The Merkle tree
//!   is OpenZeppelin-compatible: leaf `keccak256(bytes.concat(keccak256(abi.encode(recordHash))))`,
//!   sorted pairs, so `MerkleProof.verify(path, root, leaf)` accepts an [`InclusionProof`].
//! - **Fail closed.** [`AuditLog::append`] returns only once the record is committed
//!   (WAL, `synchronous=FULL`); callers refuse the access when it fails.
//!
//! Invariants: records are never changed or deleted (SQLite triggers refuse it); record
//! `n` exists only if `1..n` do; nothing is anchored over records whose chain does not
//! check; the chain's `nextSeq` is the truth about what is anchored.

mod anchor;
mod encoding;
mod error;
mod merkle;
mod store;
mod verify;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use alloy_primitives::{Address, B256};
use hearth_core::Clock;
use rusqlite::{Connection, TransactionBehavior};
use serde::{Deserialize, Serialize};

pub use anchor::{run_anchorer, verify_proof_on_chain};
pub use encoding::ENTRY_SOLIDITY;
pub use error::{AuditError, Result};
pub use verify::{Issue, IssueKind, VerifyReport};

/// Most records [`AuditLog::records`] returns at once.
pub const RECORDS_PAGE_MAX: usize = 1000;
/// Most records one anchor covers.
pub const ANCHOR_BATCH_MAX: u64 = 4096;
/// Longest `action`, in bytes.
pub const ACTION_BYTES_MAX: usize = 64;
/// Longest `outcome`, in bytes.
pub const OUTCOME_BYTES_MAX: usize = 64;
/// Most file hashes one entry lists.
pub const ENTRY_FILES_MAX: usize = 256;
/// Most problems (and, separately, warnings) one [`VerifyReport`] lists.
pub const VERIFY_ISSUES_MAX: usize = 100;
/// First wait of the background anchorer after a failure, in seconds; it doubles per failure.
pub const ANCHOR_RETRY_SECS_MIN: u64 = 1;
/// Longest wait of the background anchorer between retries, in seconds.
pub const ANCHOR_RETRY_SECS_MAX: u64 = 300;

/// What a caller appends: one access or job and how it ended.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Entry {
    /// The verified request signer (an app or the owner); zero for the server itself.
    pub actor: Address,
    /// What was done: `data.read`, `grant.submit`, `operation.run`, ... (1 to
    /// [`ACTION_BYTES_MAX`] bytes, no control characters).
    pub action: String,
    /// The grant the access ran under.
    pub grant_id: Option<B256>,
    /// Ciphertext SHA-256 of each file touched (at most [`ENTRY_FILES_MAX`]).
    pub files: Vec<B256>,
    /// Digest of the code an operation ran.
    pub code_digest: Option<B256>,
    /// Hash of the operation's parameters.
    pub params_hash: Option<B256>,
    /// Hash of what was returned.
    pub result_hash: Option<B256>,
    /// `granted`, or the refusal's stable code (`revoked`, `replayed`, ...) (1 to
    /// [`OUTCOME_BYTES_MAX`] bytes, no control characters).
    pub outcome: String,
}

/// An entry as logged: numbered, timed and chained to the record before it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Record {
    /// Position in the log, from 1, without gaps.
    pub seq: u64,
    /// Unix seconds when it was appended.
    pub time: u64,
    /// What was appended.
    pub entry: Entry,
    /// The previous record's hash; zero for record 1.
    pub prev_hash: B256,
    /// `keccak256(abi.encode(prev_hash, seq, time, entry))` (see the module docs).
    pub hash: B256,
}

impl Record {
    /// The hash this record's content gives; equal to `hash` unless it was altered.
    pub fn content_hash(&self) -> B256 {
        encoding::record_hash(self.prev_hash, self.seq, self.time, &self.entry)
    }
}

/// A batch anchored on chain.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Anchor {
    /// Its index among the server's anchors in the `AuditLog` contract (from 0).
    pub index: u64,
    /// First record of the batch.
    pub first_seq: u64,
    /// Last record of the batch (inclusive).
    pub last_seq: u64,
    /// Merkle root of the batch's record hashes.
    pub root: B256,
    /// The anchoring transaction; zero when the anchor was recovered from the chain's
    /// state after a crash between sending it and storing it.
    pub tx_hash: B256,
    /// The block it was mined in; 0 when recovered (as `tx_hash`).
    pub block: u64,
}

/// Evidence that a record is in an anchored batch. Whoever holds the record checks
/// `record.content_hash() == record_hash`, then [`InclusionProof::verify`], then the root
/// against the chain ([`verify_proof_on_chain`] or `AuditLog.getAnchor(server, anchor_index)`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct InclusionProof {
    /// The record.
    pub seq: u64,
    /// The record's hash.
    pub record_hash: B256,
    /// The anchor's index among the server's anchors.
    pub anchor_index: u64,
    /// First record of the batch.
    pub first_seq: u64,
    /// Last record of the batch.
    pub last_seq: u64,
    /// The batch's Merkle root.
    pub root: B256,
    /// Sibling hashes from the leaf up (OpenZeppelin `MerkleProof` order).
    pub path: Vec<B256>,
}

impl InclusionProof {
    /// Whether `path` leads from `record_hash` to `root` and `seq` lies in the batch.
    /// Pure: no chain, no log. Sorted pairs do not fix a leaf's position, so the path
    /// proves membership; the record's place is bound by its hash, which covers `seq`.
    pub fn verify(&self) -> bool {
        self.first_seq <= self.seq
            && self.seq <= self.last_seq
            && self.path.len() <= merkle::PROOF_DEPTH_MAX
            && merkle::root_from_path(self.record_hash, &self.path) == self.root
    }
}

/// The audit log of one server. `Send + Sync`: share it in an `Arc`.
///
/// [`append`](AuditLog::append) and the other synchronous methods block on SQLite (and
/// `append` on an fsync): from async code, call them through `spawn_blocking`.
pub struct AuditLog {
    conn: Mutex<Connection>,
    clock: Arc<dyn Clock>,
    path: PathBuf,
    /// Wakes the background anchorer after an append.
    appended: tokio::sync::Notify,
    /// One anchoring at a time in this process (the chain refuses a second one anyway).
    anchoring: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog").field("path", &self.path).finish_non_exhaustive()
    }
}

fn check_text(what: &'static str, text: &str, bytes_max: usize) -> Result<()> {
    let invalid = |problem: String| AuditError::Invalid { what, problem };
    if text.is_empty() {
        return Err(invalid("empty".into()));
    }
    if text.len() > bytes_max {
        return Err(invalid(format!("longer than {bytes_max} bytes")));
    }
    if text.chars().any(char::is_control) {
        return Err(invalid(format!("{text:?} has control characters")));
    }
    Ok(())
}

fn validate(entry: &Entry) -> Result<()> {
    check_text("action", &entry.action, ACTION_BYTES_MAX)?;
    check_text("outcome", &entry.outcome, OUTCOME_BYTES_MAX)?;
    if entry.files.len() > ENTRY_FILES_MAX {
        return Err(AuditError::Invalid {
            what: "files",
            problem: format!("{} files, more than {ENTRY_FILES_MAX}", entry.files.len()),
        });
    }
    Ok(())
}

impl AuditLog {
    /// Opens the log at `path`, creating it when missing; times come from `clock`.
    pub fn open(path: &Path, clock: Arc<dyn Clock>) -> Result<AuditLog> {
        let conn = store::open(path)?;
        Ok(AuditLog {
            conn: Mutex::new(conn),
            clock,
            path: path.to_owned(),
            appended: tokio::sync::Notify::new(),
            anchoring: tokio::sync::Mutex::new(()),
        })
    }

    /// The file the log lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave a half-written record: SQLite
        // rolls back the open transaction when it is dropped. So the connection is fine.
        self.conn.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Appends `entry` durably: the record is committed before this returns. Callers
    /// refuse the access if this fails: no record, no access.
    pub fn append(&self, entry: Entry) -> Result<Record> {
        validate(&entry)?;
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(AuditError::db("begin an append"))?;
        let (last_seq, prev_hash) = store::head(&tx)?;
        let seq = last_seq
            .checked_add(1)
            .ok_or_else(|| AuditError::Invalid { what: "sequence number", problem: "the log is full".into() })?;
        let time = self.clock.now_secs();
        let hash = encoding::record_hash(prev_hash, seq, time, &entry);
        let record = Record { seq, time, entry, prev_hash, hash };
        store::insert(&tx, &record)?;
        tx.commit().map_err(AuditError::db("commit an append"))?;
        drop(conn);
        self.appended.notify_one();
        Ok(record)
    }

    /// Records after `after_seq`, in order, at most `limit` (capped at [`RECORDS_PAGE_MAX`]).
    pub fn records(&self, after_seq: u64, limit: usize) -> Result<Vec<Record>> {
        store::records(&self.lock(), after_seq, u64::MAX, limit.min(RECORDS_PAGE_MAX))
    }

    /// The last record's sequence number; 0 for an empty log.
    pub fn last_seq(&self) -> Result<u64> {
        Ok(store::head(&self.lock())?.0)
    }

    /// The last record covered by a stored anchor; 0 before the first anchor.
    pub fn anchored_through(&self) -> Result<u64> {
        Ok(store::last_anchor(&self.lock())?.map_or(0, |a| a.last_seq))
    }

    /// The stored anchor with this index, if any.
    pub fn anchor(&self, index: u64) -> Result<Option<Anchor>> {
        store::anchor(&self.lock(), index)
    }

    /// The inclusion proof of record `seq` in its anchored batch; `NotAnchored` if its
    /// batch is not anchored yet, `NotFound` if there is no such record.
    pub fn proof(&self, seq: u64) -> Result<InclusionProof> {
        let conn = self.lock();
        let Some(anchor) = store::anchor_covering(&conn, seq)? else {
            let (last, _) = store::head(&conn)?;
            return Err(if seq == 0 || seq > last {
                AuditError::NotFound { seq }
            } else {
                AuditError::NotAnchored { seq }
            });
        };
        let stored = store::hashes(&conn, anchor.first_seq, anchor.last_seq)?;
        drop(conn);
        let hashes = contiguous(anchor.first_seq, anchor.last_seq, &stored)?;
        let tree = merkle::BatchTree::new(&hashes);
        if tree.root() != anchor.root {
            return Err(AuditError::Tampered {
                seq: anchor.first_seq,
                problem: format!(
                    "batch {}..={} no longer matches its anchor {}",
                    anchor.first_seq, anchor.last_seq, anchor.index
                ),
            });
        }
        // `seq` lies in the anchor's range and the range is contiguous, so this is in bounds.
        let position = usize::try_from(seq - anchor.first_seq).map_err(|_| AuditError::NotFound { seq })?;
        Ok(InclusionProof {
            seq,
            record_hash: hashes[position],
            anchor_index: anchor.index,
            first_seq: anchor.first_seq,
            last_seq: anchor.last_seq,
            root: anchor.root,
            path: tree.path(position),
        })
    }
}

/// The hashes of `first..=last` from `stored` (in order), or `Tampered` naming the first
/// missing record.
fn contiguous(first: u64, last: u64, stored: &[(u64, B256)]) -> Result<Vec<B256>> {
    let mut expected = first;
    for (seq, _) in stored {
        if *seq != expected {
            break;
        }
        expected += 1;
    }
    if expected != last + 1 {
        return Err(AuditError::Tampered { seq: expected, problem: format!("record {expected} is missing") });
    }
    Ok(stored.iter().map(|(_, h)| *h).collect())
}
