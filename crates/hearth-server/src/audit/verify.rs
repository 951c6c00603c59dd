//! Checking the log: the walk along the hash chain (shared with anchoring, which refuses
//! a damaged batch) and the full verification against the chain's anchors.

use alloy_primitives::{Address, B256, U256};
use hearth_chain::Contracts;
use serde::{Deserialize, Serialize};

use super::error::{AuditError, Result};
use super::merkle::BatchTree;
use super::{AuditLog, RECORDS_PAGE_MAX, Record, VERIFY_ISSUES_MAX, store};

/// What is wrong with a record (or, for [`IssueKind::NotAnchored`], what is merely pending).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IssueKind {
    /// The record's stored hash is not the hash of its content: it was edited.
    HashMismatch,
    /// The record's `prev_hash` is not the previous record's hash.
    BrokenChain,
    /// Records are missing: the log jumps over them, or ends before the chain's anchors do.
    Missing,
    /// A batch's recomputed Merkle root is not the one anchored on chain, or the anchors
    /// stored here disagree with the chain's.
    RootMismatch,
    /// Records after the last anchor: a warning, not a failure.
    NotAnchored,
}

impl IssueKind {
    /// The fixed phrase for this kind.
    pub fn message(self) -> &'static str {
        match self {
            IssueKind::HashMismatch => "hash does not match its content",
            IssueKind::BrokenChain => "breaks the chain",
            IssueKind::Missing => "is missing",
            IssueKind::RootMismatch => "root differs from the on-chain anchor",
            IssueKind::NotAnchored => "not anchored yet",
        }
    }

    /// Whether this kind fails the verification (everything but [`IssueKind::NotAnchored`]).
    pub fn is_failure(self) -> bool {
        self != IssueKind::NotAnchored
    }
}

impl std::fmt::Display for IssueKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message())
    }
}

/// One finding, at the first record it concerns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issue {
    /// The record (for a range: its first record).
    pub seq: u64,
    /// What is wrong.
    pub kind: IssueKind,
    /// The particulars: the range, the hashes that differ.
    pub detail: String,
}

impl std::fmt::Display for Issue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "record {}: {} ({})", self.seq, self.kind, self.detail)
    }
}

/// The outcome of [`AuditLog::verify`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyReport {
    /// The last record in the log.
    pub last_seq: u64,
    /// The last record the chain's anchors cover (`nextSeq(server) - 1`).
    pub anchored_through: u64,
    /// Records read and checked.
    pub records_checked: u64,
    /// On-chain anchors whose roots were recomputed.
    pub anchors_checked: u64,
    /// Failures, in log order (at most [`VERIFY_ISSUES_MAX`]).
    pub problems: Vec<Issue>,
    /// Warnings: records not anchored yet (at most [`VERIFY_ISSUES_MAX`]).
    pub warnings: Vec<Issue>,
    /// Whether issues beyond the limit were left out.
    pub truncated: bool,
}

impl VerifyReport {
    /// No failures (warnings allowed).
    pub fn passed(&self) -> bool {
        self.problems.is_empty()
    }

    fn add(&mut self, issue: Issue) {
        let list = if issue.kind.is_failure() { &mut self.problems } else { &mut self.warnings };
        if list.len() < VERIFY_ISSUES_MAX {
            list.push(issue);
        } else {
            self.truncated = true;
        }
    }
}

impl std::fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let verdict = if self.passed() { "passed" } else { "FAILED" };
        write!(
            f,
            "audit log {verdict}: {} records checked (last {}), {} anchors checked (through record {})",
            self.records_checked, self.last_seq, self.anchors_checked, self.anchored_through
        )?;
        for issue in self.problems.iter().chain(&self.warnings) {
            write!(f, "\n  {issue}")?;
        }
        if self.truncated {
            write!(f, "\n  (more issues left out)")?;
        }
        Ok(())
    }
}

fn range(first: u64, last: u64) -> String {
    if first == last { format!("record {first}") } else { format!("records {first}..={last}") }
}

/// A walk along the hash chain, record by record in sequence order.
pub(crate) struct Walk {
    next_seq: u64,
    /// The previous record's stored hash; `None` right after missing records.
    prev_hash: Option<B256>,
}

impl Walk {
    /// A walk starting at `first_seq`, whose predecessor has hash `prev_hash`.
    pub(crate) fn new(first_seq: u64, prev_hash: Option<B256>) -> Walk {
        Walk { next_seq: first_seq, prev_hash }
    }

    /// Checks `record` (the next one read, in order) and returns its content hash.
    pub(crate) fn step(&mut self, record: &Record, issues: &mut Vec<Issue>) -> B256 {
        assert!(record.seq >= self.next_seq, "records are read in sequence order");
        if record.seq > self.next_seq {
            issues.push(Issue {
                seq: self.next_seq,
                kind: IssueKind::Missing,
                detail: format!(
                    "{} gone: the log jumps to record {}",
                    range(self.next_seq, record.seq - 1),
                    record.seq
                ),
            });
        } else if let Some(prev) = self.prev_hash
            && record.prev_hash != prev
        {
            issues.push(Issue {
                seq: record.seq,
                kind: IssueKind::BrokenChain,
                detail: format!(
                    "its prev_hash {} is not the hash {prev} of record {}",
                    record.prev_hash,
                    record.seq.saturating_sub(1)
                ),
            });
        }
        let content = record.content_hash();
        if content != record.hash {
            issues.push(Issue {
                seq: record.seq,
                kind: IssueKind::HashMismatch,
                detail: format!("stored {}, content gives {content}", record.hash),
            });
        }
        self.next_seq = record.seq + 1;
        self.prev_hash = Some(record.hash);
        content
    }

    /// Ends a range at `last`: records after the last one read are missing.
    pub(crate) fn finish(&mut self, last: u64, issues: &mut Vec<Issue>) {
        if self.next_seq <= last {
            issues.push(Issue {
                seq: self.next_seq,
                kind: IssueKind::Missing,
                detail: format!("{} gone: the log ends before them", range(self.next_seq, last)),
            });
            self.next_seq = last + 1;
            self.prev_hash = None;
        }
    }
}

impl AuditLog {
    /// The content hashes of records `first..=last`, after checking that they are all
    /// there, unaltered and chained to record `first - 1`; `Tampered` otherwise.
    pub(crate) fn checked_hashes(&self, first: u64, last: u64) -> Result<Vec<B256>> {
        assert!(first >= 1 && first <= last, "a batch {first}..={last} is a non-empty range from 1");
        let prev = match first {
            1 => B256::ZERO,
            _ => store::hash_of(&self.lock(), first - 1)?
                .ok_or_else(|| AuditError::Tampered { seq: first - 1, problem: "the record is missing".into() })?,
        };
        let mut walk = Walk::new(first, Some(prev));
        let mut issues = Vec::new();
        let mut hashes = Vec::new();
        let mut after = first - 1;
        let tampered = |issue: &Issue| AuditError::Tampered {
            seq: issue.seq,
            problem: format!("{} ({})", issue.kind, issue.detail),
        };
        loop {
            let page = store::records(&self.lock(), after, last, RECORDS_PAGE_MAX)?;
            for record in &page {
                hashes.push(walk.step(record, &mut issues));
                if let Some(issue) = issues.first() {
                    return Err(tampered(issue));
                }
            }
            match page.last() {
                Some(tail) if page.len() == RECORDS_PAGE_MAX => after = tail.seq,
                _ => break,
            }
        }
        walk.finish(last, &mut issues);
        match issues.first() {
            Some(issue) => Err(tampered(issue)),
            None => Ok(hashes),
        }
    }

    /// Walks records `first..=last`, adding what is wrong to `report`; returns the content
    /// hashes when `collect`. Yields to the runtime between pages.
    async fn walk_range(
        &self,
        first: u64,
        last: u64,
        walk: &mut Walk,
        report: &mut VerifyReport,
        collect: bool,
    ) -> Result<Vec<B256>> {
        let mut hashes = Vec::new();
        let mut issues = Vec::new();
        let mut after = first - 1;
        loop {
            let page = store::records(&self.lock(), after, last, RECORDS_PAGE_MAX)?;
            for record in &page {
                let hash = walk.step(record, &mut issues);
                if collect {
                    hashes.push(hash);
                }
            }
            report.records_checked += page.len() as u64;
            issues.drain(..).for_each(|issue| report.add(issue));
            match page.last() {
                Some(tail) if page.len() == RECORDS_PAGE_MAX => after = tail.seq,
                _ => break,
            }
            tokio::task::yield_now().await;
        }
        walk.finish(last, &mut issues);
        issues.drain(..).for_each(|issue| report.add(issue));
        Ok(hashes)
    }

    /// Checks every record's hash and link, recomputes every anchored batch's root and
    /// compares it with the chain's anchor for `server`; reports records not anchored yet
    /// as warnings. Errors only when the log or the chain cannot be read.
    pub async fn verify(&self, contracts: &Contracts, server: Address) -> Result<VerifyReport> {
        let (bound, last_seq, local_next_index) = {
            let conn = self.lock();
            (store::bound_server(&conn)?, store::head(&conn)?.0, store::last_anchor(&conn)?.map_or(0, |a| a.index + 1))
        };
        if let Some(bound) = bound
            && bound != server
        {
            return Err(AuditError::WrongServer { bound, given: server });
        }
        let audit = contracts.audit();
        let anchored_through = audit.next_seq(server).await?.saturating_sub(1);
        let mut report = VerifyReport { last_seq, anchored_through, ..VerifyReport::default() };
        let mut walk = Walk::new(1, Some(B256::ZERO));

        // The chain's anchors are contiguous from record 1 (the contract enforces it).
        let mut index = 0u64;
        let mut covered = 0u64;
        while covered < anchored_through {
            let on_chain = audit.get(server, U256::from(index)).await?;
            let (first, last) = (on_chain.firstSeq, on_chain.lastSeq);
            if first != covered + 1 || last < first {
                // The contract makes anchors contiguous; anything else is not that contract.
                return Err(AuditError::Diverged(format!(
                    "the chain's anchor {index} of {server} covers records {first}..={last}, expected a range from {}",
                    covered + 1
                )));
            }
            let hashes = self.walk_range(first, last, &mut walk, &mut report, true).await?;
            report.anchors_checked += 1;
            let batch = format!("batch {first}..={last} (anchor {index})");
            if hashes.len() as u64 != last - first + 1 {
                report.add(Issue {
                    seq: first,
                    kind: IssueKind::RootMismatch,
                    detail: format!("{batch} has missing records, so its root cannot match"),
                });
            } else {
                let root = BatchTree::new(&hashes).root();
                if root != on_chain.merkleRoot {
                    report.add(Issue {
                        seq: first,
                        kind: IssueKind::RootMismatch,
                        detail: format!("{batch}: the records give root {root}, the chain has {}", on_chain.merkleRoot),
                    });
                }
            }
            let local = store::anchor(&self.lock(), index)?;
            if let Some(local) = local
                && (local.root, local.first_seq, local.last_seq) != (on_chain.merkleRoot, first, last)
            {
                report.add(Issue {
                    seq: first,
                    kind: IssueKind::RootMismatch,
                    detail: format!("the stored anchor {index} differs from the chain's {batch}"),
                });
            }
            covered = last;
            index += 1;
        }
        if local_next_index > index {
            report.add(Issue {
                seq: covered + 1,
                kind: IssueKind::RootMismatch,
                detail: format!("anchors {index}..{local_next_index} are stored here but the chain does not have them"),
            });
        }
        if last_seq > covered {
            self.walk_range(covered + 1, last_seq, &mut walk, &mut report, false).await?;
            report.add(Issue {
                seq: covered + 1,
                kind: IssueKind::NotAnchored,
                detail: format!("{} after the last anchor", range(covered + 1, last_seq)),
            });
        }
        Ok(report)
    }
}
