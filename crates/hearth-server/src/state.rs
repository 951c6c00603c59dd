//! What every handler shares.

use std::sync::Arc;

use alloy_primitives::Address;
use hearth_chain::{Contracts, Wallet};
use hearth_core::Clock;
use hearth_crypto::ServerKeys;
use hearth_store::Store;

use crate::audit::AuditLog;
use crate::auth::Verifier;
use crate::config::ServeConfig;
use crate::jobs::Jobs;
use crate::metrics::Metrics;
use crate::permission::Permissions;
use crate::ratelimit::RateLimits;

/// The server's shared state, built once by [`crate::app::State::open`] or by tests.
pub struct AppState {
    /// Settings.
    pub config: ServeConfig,
    /// The server's keys (age identity to decrypt, secp256k1 to sign).
    pub keys: Arc<ServerKeys>,
    /// The server's wallet.
    pub server: Wallet,
    /// The owner whose data this server holds.
    pub owner: Address,
    /// The owner's age recipient (files are encrypted to it too).
    pub owner_recipient: String,
    /// The contracts.
    pub contracts: Contracts,
    /// Ciphertext and metadata.
    pub store: Arc<Store>,
    /// Signed-request checks.
    pub verifier: Verifier,
    /// Grant checks.
    pub permissions: Permissions,
    /// The audit trail.
    pub audit: Arc<AuditLog>,
    /// Per-caller rate limits.
    pub limits: RateLimits,
    /// Prometheus metrics.
    pub metrics: Metrics,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Jobs: their database, runner and queue.
    pub jobs: Jobs,
    /// The collective this node serves, if it is a collective node: jobs may then
    /// also run code the collective approved in its `CodeRegistry`. Set after `open`.
    pub collective: Option<hearth_chain::Collective>,
    /// The liveness commitments this server answers for (its owner's contributions).
    pub liveness: crate::liveness::kept::Kept,
}

/// File of the nonce store inside the data directory.
pub const NONCES_FILE: &str = "nonces.sqlite";
/// File of the audit log inside the data directory.
pub const AUDIT_FILE: &str = "audit.sqlite";

/// What [`AppState::open`] needs: the pieces the caller has already opened.
pub struct Parts {
    /// Settings.
    pub config: ServeConfig,
    /// Where nonces and the audit log live.
    pub data_dir: std::path::PathBuf,
    /// The server's keys.
    pub keys: ServerKeys,
    /// The owner.
    pub owner: Address,
    /// The owner's age recipient.
    pub owner_recipient: String,
    /// The contracts.
    pub contracts: Contracts,
    /// The store.
    pub store: Store,
    /// Time.
    pub clock: Arc<dyn Clock>,
}

impl AppState {
    /// Appends `entry` to the audit trail (committed before this returns) and counts it.
    /// Blocks on an fsync: call it off the async workers.
    pub fn record(&self, entry: crate::audit::Entry) -> crate::audit::Result<crate::audit::Record> {
        let record = self.audit.append(entry)?;
        self.metrics.audit_records.inc();
        Ok(record)
    }

    /// Opens the nonce store and the audit log in `data_dir` and assembles the state.
    pub fn open(parts: Parts) -> Result<AppState, String> {
        let server = Wallet::from_secret_bytes(parts.keys.secp256k1_secret()).map_err(|e| e.to_string())?;
        let nonces = crate::auth::NonceStore::open(&parts.data_dir.join(NONCES_FILE)).map_err(|e| e.to_string())?;
        let verifier = Verifier::new(server.address(), parts.contracts.chain_id(), parts.clock.clone(), nonces);
        let audit = AuditLog::open(&parts.data_dir.join(AUDIT_FILE), parts.clock.clone()).map_err(|e| e.to_string())?;
        let mut permissions = Permissions::new(
            parts.contracts.clone(),
            server.address(),
            parts.owner,
            parts.clock.clone(),
            parts.config.chain_staleness_secs_max,
        );
        if !parts.config.permission_cache {
            permissions = permissions.without_cache();
        }
        let jobs = Jobs::open(&parts.data_dir, parts.config.jobs.clone(), parts.clock.now_secs())?;
        let liveness = crate::liveness::kept::Kept::open(&parts.data_dir.join(crate::liveness::kept::KEPT_FILE))
            .map_err(|e| e.to_string())?;
        let limits = RateLimits::new(parts.config.rate_per_app_per_sec, parts.config.rate_burst);
        Ok(AppState {
            config: parts.config,
            keys: Arc::new(parts.keys),
            server,
            owner: parts.owner,
            owner_recipient: parts.owner_recipient,
            contracts: parts.contracts,
            store: Arc::new(parts.store),
            verifier,
            permissions,
            audit: Arc::new(audit),
            limits,
            metrics: Metrics::default(),
            clock: parts.clock,
            jobs,
            collective: None,
            liveness,
        })
    }
}
