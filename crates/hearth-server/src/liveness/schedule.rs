//! The challenger's per-epoch task: watches the registry's current epoch and, once per
//! epoch, challenges every registered contribution over HTTP ([`HttpAnswerer`]) and records
//! the results ([`run_epoch`]). An epoch with a result left unrecorded (a chain error) is
//! run again at the next poll; what is recorded is skipped. Stops when told to, also in the
//! middle of a round.

use std::sync::Arc;
use std::time::Duration;

use hearth_chain::{Collective, Contracts, Wallet};
use hearth_core::Clock;
use tokio::sync::watch;

use super::http::{HttpAnswerer, contribution_ids};
use super::{Answerer, EpochResult, LivenessError, Recording, run_epoch};

/// Longest pause between two looks at the current epoch, in seconds.
pub const POLL_SECS_MAX: u64 = 60;
/// Most contributions challenged per epoch (ids 1 to this).
pub const EPOCH_CONTRIBUTIONS_MAX: u64 = 10_000;

/// How the task challenges.
#[derive(Debug, Clone)]
pub struct ScheduleConfig {
    /// Chunks asked of each contribution per epoch.
    pub chunks: usize,
    /// Longest wait for one contributor's answer, in seconds.
    pub answer_secs_max: u64,
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        ScheduleConfig { chunks: super::CHALLENGE_CHUNKS_DEFAULT, answer_secs_max: 30 }
    }
}

/// One full round: every contribution of the current epoch, asked over HTTP.
pub async fn challenge_all(
    collective: &Collective,
    contracts: &Contracts,
    challenger: &Wallet,
    clock: Arc<dyn Clock>,
    config: &ScheduleConfig,
) -> Result<(u64, Vec<EpochResult>), LivenessError> {
    let ids = contribution_ids(collective, EPOCH_CONTRIBUTIONS_MAX).await?;
    let timeout = Duration::from_secs(config.answer_secs_max);
    let answerer = HttpAnswerer::new(collective.clone(), contracts.clone(), challenger.clone(), clock, timeout).await?;
    let asked: Vec<_> = ids.iter().map(|id| (*id, &answerer as &dyn Answerer)).collect();
    run_epoch(collective, challenger, &asked, config.chunks).await
}

/// Runs [`challenge_all`] once per epoch until `stop` turns true (or its sender is dropped).
pub async fn run(
    collective: Collective,
    contracts: Contracts,
    challenger: Wallet,
    clock: Arc<dyn Clock>,
    config: ScheduleConfig,
    mut stop: watch::Receiver<bool>,
) {
    let l = collective.liveness();
    let mut done: Option<u64> = None;
    let mut poll = Duration::from_secs(POLL_SECS_MAX);
    while !*stop.borrow() {
        match l.epoch_secs().await {
            Ok(secs) => poll = Duration::from_secs((secs / 10).clamp(1, POLL_SECS_MAX)),
            Err(e) => tracing::warn!(error = %e, "liveness: cannot read the epoch length"),
        }
        match l.current_epoch().await {
            Ok(epoch) if done != Some(epoch) => {
                let round = challenge_all(&collective, &contracts, &challenger, clock.clone(), &config);
                // A shutdown abandons the round; what it recorded is skipped by the next one.
                let outcome = tokio::select! {
                    outcome = round => outcome,
                    _ = stop.changed() => break,
                };
                match outcome {
                    Ok((epoch, results)) => {
                        if log_epoch(epoch, &results) {
                            done = Some(epoch);
                        }
                    }
                    Err(e) => tracing::warn!(epoch, error = %e, "liveness: the epoch could not be run"),
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "liveness: cannot read the current epoch"),
        }
        tokio::select! {
            _ = tokio::time::sleep(poll) => {}
            changed = stop.changed() => if changed.is_err() { break },
        }
    }
}

/// Logs an epoch's outcome (ids and reasons only); whether every result is on chain.
fn log_epoch(epoch: u64, results: &[EpochResult]) -> bool {
    let passed = results.iter().filter(|r| r.passed).count();
    let unrecorded = results.iter().filter(|r| matches!(r.recording, Recording::Error(_))).count();
    for r in results {
        if let Some(why) = &r.failure {
            tracing::info!(epoch, contribution = %r.contribution_id, reason = %why, "liveness: failed");
        }
        if let Recording::Error(e) = &r.recording {
            tracing::warn!(epoch, contribution = %r.contribution_id, error = %e, "liveness: result not recorded");
        }
    }
    tracing::info!(epoch, contributions = results.len(), passed, unrecorded, "liveness: epoch challenged");
    unrecorded == 0
}
