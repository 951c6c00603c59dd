//! Anchoring batches on chain (and catching up after a crash), checking a proof against
//! the chain, and the background anchorer.

use std::sync::Arc;
use std::time::Duration;

use alloy_primitives::{Address, B256, U256};
use alloy_sol_types::SolEvent;
use hearth_chain::bindings::AuditLog as AuditLogContract;
use hearth_chain::{ChainError, Contracts, Receipt, Wallet};
use tokio::sync::watch;
use tokio::time::Instant;

use super::error::{AuditError, Result};
use super::merkle::BatchTree;
use super::{ANCHOR_BATCH_MAX, ANCHOR_RETRY_SECS_MAX, ANCHOR_RETRY_SECS_MIN, Anchor, AuditLog, InclusionProof, store};

/// The index the `Anchored` event of `receipt` gives the anchor `server` made.
fn anchored_index(receipt: &Receipt, contract: Address, server: Address) -> Option<u64> {
    receipt.logs.iter().filter(|log| log.address == contract).find_map(|log| {
        let event =
            <AuditLogContract::Anchored as SolEvent>::decode_raw_log(log.topics.iter().copied(), &log.data).ok()?;
        (event.server == server).then(|| u64::try_from(event.index).ok()).flatten()
    })
}

impl AuditLog {
    /// Records appended but not covered by a stored anchor.
    pub fn pending(&self) -> Result<u64> {
        let conn = self.lock();
        let anchored = store::last_anchor(&conn)?.map_or(0, |a| a.last_seq);
        Ok(store::head(&conn)?.0.saturating_sub(anchored))
    }

    /// `Ok` if the log's anchors are `server`'s (or it has none yet).
    fn check_server(&self, server: Address) -> Result<()> {
        match store::bound_server(&self.lock())? {
            Some(bound) if bound != server => Err(AuditError::WrongServer { bound, given: server }),
            _ => Ok(()),
        }
    }

    /// Anchors the unanchored records (at most [`ANCHOR_BATCH_MAX`] of them) on chain as
    /// one batch signed by `server`, stores the anchor locally and returns it; `None` when
    /// every record is anchored. The batch starts at the chain's `nextSeq(server)`: an
    /// anchor that reached the chain but not this file (a crash in between) is first
    /// checked against the local records and stored, never sent twice.
    pub async fn anchor_pending(&self, contracts: &Contracts, server: &Wallet) -> Result<Option<Anchor>> {
        let _one_at_a_time = self.anchoring.lock().await;
        let address = server.address();
        self.check_server(address)?;
        let audit = contracts.audit();
        let chain_next = audit.next_seq(address).await?;
        let last = store::last_anchor(&self.lock())?;
        let (mut next_index, mut next_seq) = last.map_or((0, 1), |a| (a.index + 1, a.last_seq + 1));
        while next_seq < chain_next {
            let recovered = self.recover(contracts, address, next_index, next_seq).await?;
            next_index += 1;
            next_seq = recovered.last_seq + 1;
        }
        if next_seq > chain_next {
            return Err(AuditError::Diverged(format!(
                "this log anchored records through {} but the chain expects record {chain_next} next from {address}; \
                 is it the chain the log was anchored on?",
                next_seq - 1
            )));
        }
        let head = self.last_seq()?;
        if head < next_seq {
            return Ok(None);
        }
        let last_seq = head.min(next_seq + (ANCHOR_BATCH_MAX - 1));
        let hashes = self.checked_hashes(next_seq, last_seq)?;
        let root = BatchTree::new(&hashes).root();
        let receipt = audit.anchor(server, root, next_seq, last_seq).await?;
        if !receipt.success {
            return Err(AuditError::Chain(ChainError::Reverted {
                contract: "AuditLog",
                reason: format!("anchor transaction {} failed", receipt.transaction_hash),
                data: Default::default(),
            }));
        }
        let index = anchored_index(&receipt, audit.address(), address).ok_or_else(|| {
            AuditError::Chain(ChainError::Decode {
                what: "AuditLog receipt",
                reason: format!("no Anchored event in transaction {}", receipt.transaction_hash),
            })
        })?;
        if index != next_index {
            return Err(AuditError::Diverged(format!(
                "the chain numbered the anchor of records {next_seq}..={last_seq} {index}, this log expected {next_index}"
            )));
        }
        let anchor = Anchor {
            index,
            first_seq: next_seq,
            last_seq,
            root,
            tx_hash: receipt.transaction_hash,
            block: receipt.block_number,
        };
        store::insert_anchor(&mut self.lock(), address, &anchor)?;
        Ok(Some(anchor))
    }

    /// Stores the chain's anchor `index` of `server` (which must start at `first_seq`)
    /// after checking that the local records give its root.
    async fn recover(&self, contracts: &Contracts, server: Address, index: u64, first_seq: u64) -> Result<Anchor> {
        let on_chain = contracts.audit().get(server, U256::from(index)).await?;
        let (first, last) = (on_chain.firstSeq, on_chain.lastSeq);
        if first != first_seq || last < first {
            return Err(AuditError::Diverged(format!(
                "the chain's anchor {index} of {server} covers records {first}..={last}, this log expects a range from {first_seq}"
            )));
        }
        let head = self.last_seq()?;
        if last > head {
            return Err(AuditError::Diverged(format!(
                "the chain's anchor {index} of {server} covers records {first}..={last} but this log ends at {head}: \
                 records were lost, or another log anchors with this server's key"
            )));
        }
        let root = BatchTree::new(&self.checked_hashes(first, last)?).root();
        if root != on_chain.merkleRoot {
            return Err(AuditError::Diverged(format!(
                "the chain's anchor {index} of records {first}..={last} has root {}, this log's records give {root}: \
                 another log anchors with this server's key",
                on_chain.merkleRoot
            )));
        }
        // The transaction is not known from the chain's state alone.
        let anchor = Anchor { index, first_seq: first, last_seq: last, root, tx_hash: B256::ZERO, block: 0 };
        store::insert_anchor(&mut self.lock(), server, &anchor)?;
        Ok(anchor)
    }
}

/// Whether `proof` holds ([`InclusionProof::verify`]) and its root, range and index are
/// the ones `server` anchored on chain (`AuditLog.getAnchor(server, index)`). `false`
/// for an anchor the chain does not have; an error only when the chain cannot be read.
pub async fn verify_proof_on_chain(proof: &InclusionProof, contracts: &Contracts, server: Address) -> Result<bool> {
    if !proof.verify() {
        return Ok(false);
    }
    match contracts.audit().get(server, U256::from(proof.anchor_index)).await {
        Ok(anchor) => Ok(anchor.merkleRoot == proof.root
            && anchor.firstSeq == proof.first_seq
            && anchor.lastSeq == proof.last_seq),
        // `UnknownAnchor`: there is no such anchor.
        Err(ChainError::Reverted { .. }) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// The wait after `failures` failures in a row: doubling from [`ANCHOR_RETRY_SECS_MIN`]
/// up to [`ANCHOR_RETRY_SECS_MAX`].
fn backoff(failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1).min(16);
    Duration::from_secs((ANCHOR_RETRY_SECS_MIN << doublings).min(ANCHOR_RETRY_SECS_MAX))
}

/// What the anchorer waits for next.
enum Wait {
    /// Nothing pending: the next append.
    Append,
    /// Some pending: the next append or the end of the interval.
    AppendOr(Instant),
    /// A failure: the end of the backoff.
    Retry(Instant),
}

/// Anchors in the background until `shutdown` turns true (or its sender is dropped):
/// whenever `batch_min` records are pending, or some are and `interval` has passed since
/// the last anchor (or the start). Failures are logged and retried with a doubling
/// backoff capped at [`ANCHOR_RETRY_SECS_MAX`]. An anchoring under way finishes before
/// shutdown is noticed.
pub async fn run_anchorer(
    log: Arc<AuditLog>,
    contracts: Contracts,
    server_wallet: Wallet,
    interval: Duration,
    batch_min: u64,
    mut shutdown: watch::Receiver<bool>,
) {
    let batch_min = batch_min.max(1);
    let mut failures: u32 = 0;
    let mut since = Instant::now();
    loop {
        if *shutdown.borrow_and_update() {
            return;
        }
        let attempt = match log.pending() {
            Ok(0) => Ok(Wait::Append),
            Ok(pending) if pending >= batch_min || since.elapsed() >= interval => {
                log.anchor_pending(&contracts, &server_wallet).await.map(|anchored| {
                    failures = 0;
                    since = Instant::now();
                    match anchored {
                        // More may be pending (a full batch): look again at once.
                        Some(_) => Wait::Retry(since),
                        None => Wait::Append,
                    }
                })
            }
            Ok(_) => Ok(Wait::AppendOr(since + interval)),
            Err(e) => Err(e),
        };
        let wait = attempt.unwrap_or_else(|e| {
            failures = failures.saturating_add(1);
            let delay = backoff(failures);
            tracing::warn!(
                error = %e,
                attempt = failures,
                retry_in_secs = delay.as_secs(),
                "audit anchoring failed; will retry"
            );
            Wait::Retry(Instant::now() + delay)
        });
        let (deadline, on_append) = match wait {
            Wait::Append => (None, true),
            Wait::AppendOr(at) => (Some(at), true),
            Wait::Retry(at) => (Some(at), false),
        };
        tokio::select! {
            () = log.appended.notified(), if on_append => {}
            () = async {
                match deadline {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            } => {}
            changed = shutdown.changed() => {
                if changed.is_err() {
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        assert_eq!(backoff(1), Duration::from_secs(ANCHOR_RETRY_SECS_MIN));
        assert_eq!(backoff(2), Duration::from_secs(2 * ANCHOR_RETRY_SECS_MIN));
        assert_eq!(backoff(u32::MAX), Duration::from_secs(ANCHOR_RETRY_SECS_MAX));
    }
}
