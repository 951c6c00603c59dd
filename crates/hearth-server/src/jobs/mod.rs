//! Jobs: an app's request to run an approved operation (an OCI image named by its
//! manifest digest) over one scope of the owner's data, from the queue to a sealed result.
//!
//! A job moves through phases, each persisted with its time in `jobs.sqlite`:
//! `queued` → `verifying` (the grant, the operation digest and the parameters hash are
//! checked on chain again; the image must be imported) → `preparing` (the inputs are
//! decrypted into memory; an `operation.start` audit record names them) → the
//! permission is checked once more, then `running` (the sandbox runner) → `sealing`
//! (`result.json` is checked and sealed, output files are encrypted to the app's
//! registered recipient, an `operation.end` record names the result hash) →
//! `succeeded`; or `failed` with a reason, `cancelled`, `timed_out`.
//!
//! Invariants: a job whose permission cannot be confirmed never starts; no plaintext
//! reaches a disk (inputs live in the runner's tmpfs, `result.json` is stored sealed to
//! the server's own key, other outputs encrypted to the app); a job whose end cannot
//! be audited releases no result; after a restart, jobs that were working end as
//! `failed` with reason `server_restarted`, queued jobs run.

mod pipeline;
pub mod store;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use alloy_primitives::{Address, B256, keccak256};
use hearth_sandbox::images::ImageStore;
use hearth_sandbox::runner::{Limits, Runner, RunnerConfig};
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::error::ApiError;
use crate::state::AppState;
pub use store::{JobStore, JobStoreError};

/// File of the jobs database inside the data directory.
pub const JOBS_FILE: &str = "jobs.sqlite";
/// Directory of the image store inside the data directory.
pub const IMAGES_DIR: &str = "images";
/// Directory of the runner's runtime state and job bundles inside the data directory.
pub const SANDBOX_DIR: &str = "sandbox";
/// The reason given to jobs that were working when the server stopped.
pub const REASON_SERVER_RESTARTED: &str = "server_restarted";
/// Largest `params` of one job, as canonical JSON, in bytes.
pub const PARAMS_BYTES_MAX: usize = 64 * 1024;
/// Largest `result.json` a job may return, in bytes.
pub const RESULT_JSON_BYTES_MAX: usize = 1024 * 1024;
/// Most input files in one job: each is named in the job's audit records.
pub const JOB_INPUT_FILES_MAX: usize = crate::audit::ENTRY_FILES_MAX;
/// Longest scope name accepted in a job request, in bytes.
pub const SCOPE_BYTES_MAX: usize = hearth_core::limits::SCOPE_BYTES_MAX;

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Waiting for a free slot.
    Queued,
    /// Checking the grant, the operation and its parameters on chain.
    Verifying,
    /// Decrypting the inputs into memory.
    Preparing,
    /// In its container.
    Running,
    /// Checking and encrypting the outputs.
    Sealing,
    /// Done; the result is available.
    Succeeded,
    /// Ended without a result; `reason` says why.
    Failed,
    /// Cancelled by the app or the owner.
    Cancelled,
    /// Killed at the wall-time limit.
    TimedOut,
}

impl Phase {
    const ALL: [Phase; 9] = [
        Phase::Queued,
        Phase::Verifying,
        Phase::Preparing,
        Phase::Running,
        Phase::Sealing,
        Phase::Succeeded,
        Phase::Failed,
        Phase::Cancelled,
        Phase::TimedOut,
    ];

    /// The stable name (`timed_out`).
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Queued => "queued",
            Phase::Verifying => "verifying",
            Phase::Preparing => "preparing",
            Phase::Running => "running",
            Phase::Sealing => "sealing",
            Phase::Succeeded => "succeeded",
            Phase::Failed => "failed",
            Phase::Cancelled => "cancelled",
            Phase::TimedOut => "timed_out",
        }
    }

    /// The phase with this name.
    pub fn parse(name: &str) -> Option<Phase> {
        Phase::ALL.into_iter().find(|p| p.as_str() == name)
    }

    /// Whether the job has ended.
    pub fn is_terminal(self) -> bool {
        matches!(self, Phase::Succeeded | Phase::Failed | Phase::Cancelled | Phase::TimedOut)
    }
}

/// When a job entered a phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhaseTime {
    /// The phase.
    pub phase: Phase,
    /// Unix seconds.
    pub at: u64,
}

/// An output file other than `result.json`, stored encrypted to the app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputFile {
    /// Its path under `/output`.
    pub name: String,
    /// SHA-256 of its plaintext (what the result hash covers).
    pub sha256: B256,
    /// Bytes of the age ciphertext.
    pub size: u64,
}

/// A job as stored and as `GET /v1/operations/{id}` shows it (plus `result`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobRecord {
    /// 32 lowercase hex characters.
    pub id: String,
    /// The app that asked for it.
    pub app: Address,
    /// The grant it runs under.
    pub grant: B256,
    /// The operation: the image's manifest digest.
    pub operation: B256,
    /// The scope whose files are the inputs.
    pub scope: String,
    /// keccak256 of the canonical `params.json`.
    pub params_hash: B256,
    /// Where it is.
    pub phase: Phase,
    /// Why it failed (a stable code), if it did.
    pub reason: Option<String>,
    /// Unix seconds.
    pub created_at: u64,
    /// Every phase entered, with its time, in order.
    pub phases: Vec<PhaseTime>,
    /// The container's exit code, if it ran to an exit.
    pub exit_code: Option<i32>,
    /// Ciphertext SHA-256 of each input file.
    pub inputs: Vec<B256>,
    /// SHA-256 over `result.json` and the output files (see [`result_hash`]).
    pub result_hash: Option<B256>,
    /// Output files besides `result.json`.
    pub files: Vec<OutputFile>,
}

/// How jobs run (`[serve.jobs]` in `hearth.toml`), each limit with its unit last.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JobsConfig {
    /// The OCI runtime (`runc` on `PATH`, or a path to any runtime with runc's CLI).
    pub runtime: PathBuf,
    /// Jobs running at once.
    pub concurrent_max: usize,
    /// Jobs queued or running at once; more are answered 429.
    pub queue_max: usize,
    /// Memory per job (inputs on tmpfs included), no swap.
    pub memory_bytes_max: u64,
    /// Processes and threads per job.
    pub pids_max: i64,
    /// CPU per job: 1000 is one core.
    pub cpu_millis: u64,
    /// Wall time per job, from start to kill.
    pub wall_secs_max: u64,
    /// Everything a job writes under `/output`.
    pub output_bytes_max: u64,
    /// Plaintext of all inputs of one job together.
    pub input_bytes_max: u64,
}

impl Default for JobsConfig {
    fn default() -> Self {
        let limits = Limits::default();
        JobsConfig {
            runtime: PathBuf::from("runc"),
            concurrent_max: 2,
            queue_max: 32,
            memory_bytes_max: limits.memory_bytes_max,
            pids_max: limits.pids_max,
            cpu_millis: limits.cpu_millis,
            wall_secs_max: limits.wall_secs_max,
            output_bytes_max: limits.output_bytes_max,
            input_bytes_max: 256 * 1024 * 1024,
        }
    }
}

impl JobsConfig {
    /// The runner limits of one job.
    pub fn limits(&self) -> Limits {
        Limits {
            memory_bytes_max: self.memory_bytes_max,
            pids_max: self.pids_max,
            cpu_millis: self.cpu_millis,
            wall_secs_max: self.wall_secs_max,
            output_bytes_max: self.output_bytes_max,
            ..Limits::default()
        }
    }
}

/// The canonical bytes of `params`: compact JSON with object keys sorted (what
/// `/input/params.json` holds and what [`params_hash`] hashes).
pub fn canonical_params(params: &serde_json::Value) -> Vec<u8> {
    // serde_json's map is ordered by key (no `preserve_order`), so this is canonical.
    serde_json::to_vec(params).unwrap_or_default()
}

/// keccak256 of the canonical parameters: what a grant's `paramsHash` fixes.
pub fn params_hash(params: &serde_json::Value) -> B256 {
    keccak256(canonical_params(params))
}

/// The result hash: SHA-256 over `sha256(result.json)`, then for each other output
/// file in name order its name, a zero byte and `sha256(plaintext)`. An app that
/// decrypts the files can recompute it and compare it with the audit record.
pub fn result_hash(result_json: &[u8], files: &[(String, B256)]) -> B256 {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(Sha256::digest(result_json));
    for (name, sha256) in files {
        hasher.update(name.as_bytes());
        hasher.update([0]);
        hasher.update(sha256);
    }
    B256::from_slice(&hasher.finalize())
}

/// What the server needs to run jobs; missing when the runner could not start.
pub struct Compute {
    runner: Runner,
    images: ImageStore,
}

impl Compute {
    /// The image store: operations by digest.
    pub fn images(&self) -> &ImageStore {
        &self.images
    }

    /// The sandbox runner.
    pub fn runner(&self) -> &Runner {
        &self.runner
    }
}

/// The jobs of one server: the database, the runner and the queue.
pub struct Jobs {
    config: JobsConfig,
    store: JobStore,
    compute: Result<Arc<Compute>, String>,
    slots: Arc<Semaphore>,
    /// Serialises the queue-length check with the insert.
    admission: Mutex<()>,
    cancels: Mutex<HashMap<String, CancellationToken>>,
    /// Jobs found queued at open, started by [`resume`].
    resumable: Mutex<Vec<String>>,
}

impl Jobs {
    /// Opens the jobs database in `data_dir`, ends jobs a stopped server left working,
    /// and starts the runner (root and an OCI runtime are needed; without them the
    /// server runs and job requests are answered 503 with the reason).
    pub fn open(data_dir: &Path, config: JobsConfig, now: u64) -> Result<Jobs, String> {
        let store = JobStore::open(&data_dir.join(JOBS_FILE)).map_err(|e| e.to_string())?;
        let (restarted, queued) = store.recover(now).map_err(|e| e.to_string())?;
        if !restarted.is_empty() {
            tracing::warn!(jobs = restarted.len(), "jobs interrupted by a restart ended as failed (server_restarted)");
        }
        let compute = open_compute(data_dir, &config).map(Arc::new);
        if let Err(reason) = &compute {
            tracing::warn!(%reason, "jobs cannot run on this server");
        }
        let slots = Arc::new(Semaphore::new(config.concurrent_max.max(1)));
        Ok(Jobs {
            config,
            store,
            compute,
            slots,
            admission: Mutex::new(()),
            cancels: Mutex::new(HashMap::new()),
            resumable: Mutex::new(queued),
        })
    }

    /// The settings.
    pub fn config(&self) -> &JobsConfig {
        &self.config
    }

    /// The database.
    pub fn store(&self) -> &JobStore {
        &self.store
    }

    /// The runner and images, or why jobs cannot run here.
    pub fn compute(&self) -> Result<&Arc<Compute>, &str> {
        self.compute.as_ref().map_err(String::as_str)
    }

    /// Admits a job if the queue has room: stores it as queued. False when full.
    pub(crate) fn admit(&self, job: &JobRecord, params_json: &[u8]) -> Result<bool, JobStoreError> {
        let _admission = self.admission.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if self.store.unfinished()? >= self.config.queue_max {
            return Ok(false);
        }
        self.store.insert(job, params_json)?;
        Ok(true)
    }

    fn token(&self, id: &str) -> CancellationToken {
        let mut cancels = self.cancels.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        cancels.entry(id.to_owned()).or_default().clone()
    }

    fn forget(&self, id: &str) {
        self.cancels.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(id);
    }

    /// Asks a job to stop: a queued job ends at once, a working one when its
    /// container is killed. False if it had already ended.
    pub(crate) fn cancel(&self, id: &str) -> bool {
        let token = self.cancels.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(id).cloned();
        match token {
            Some(token) => {
                token.cancel();
                true
            }
            None => false,
        }
    }
}

fn open_compute(data_dir: &Path, config: &JobsConfig) -> Result<Compute, String> {
    let images = ImageStore::open(&data_dir.join(IMAGES_DIR)).map_err(|e| e.to_string())?;
    let sandbox = data_dir.join(SANDBOX_DIR);
    let runner = Runner::new(RunnerConfig {
        runtime: config.runtime.clone(),
        state_dir: sandbox.join("runtime"),
        work_dir: sandbox.join("jobs"),
    })
    .map_err(|e| e.to_string())?;
    let removed = runner.recover().map_err(|e| e.to_string())?;
    if !removed.is_empty() {
        tracing::warn!(containers = removed.len(), "removed containers a stopped server left behind");
    }
    Ok(Compute { runner, images })
}

/// Whether `app` may run `operation` with parameters hashing to `params_hash` over
/// `scope` now. Under a grant (a personal server): the grant on chain
/// ([`crate::permission::Permissions::check`]). With the zero grant on a collective node:
/// the collective's `CodeRegistry` must hold a live approval of the digest to run on
/// the node (not an export approval); the requester must be a registered app (checked
/// where the result is sealed). Called at submission and again before the start.
pub async fn authorize(
    state: &AppState,
    app: Address,
    grant: B256,
    scope: &str,
    operation: B256,
    params_hash: B256,
) -> Result<(), ApiError> {
    if !grant.is_zero() {
        let wanted = hearth_core::Wanted::Compute { operation, params_hash };
        state.permissions.check(app, grant, scope, wanted).await?;
        return Ok(());
    }
    let Some(collective) = &state.collective else {
        return Err(ApiError::forbidden(
            "unknown_grant",
            "the zero grant is for collective nodes; this server needs a grant from its owner",
        ));
    };
    let approval = collective.code().approval(operation).await.map_err(ApiError::chain_unavailable)?;
    if !approval.approved {
        return Err(match approval.revoked_at {
            Some(_) => ApiError::forbidden("code_revoked", "the collective revoked its approval of this code"),
            None => ApiError::forbidden("code_not_approved", "the collective has not approved this code"),
        });
    }
    if approval.export_to.is_some() {
        return Err(ApiError::forbidden(
            "code_export_only",
            "the collective approved this code to run on an export destination, not on this node",
        ));
    }
    Ok(())
}

/// Starts the jobs [`Jobs::open`] found queued. Call once the state exists (from an
/// async context); later calls find nothing to start.
pub fn resume(state: &Arc<AppState>) {
    let queued = std::mem::take(&mut *state.jobs.resumable.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
    for id in queued {
        spawn(state, id);
    }
}

/// Runs job `id` in the background once a slot is free.
pub(crate) fn spawn(state: &Arc<AppState>, id: String) {
    let token = state.jobs.token(&id);
    let state = state.clone();
    tokio::spawn(async move {
        pipeline::run(&state, &id, token).await;
        state.jobs.forget(&id);
    });
}

/// A fresh job id: 16 random bytes in lowercase hex.
pub(crate) fn new_id() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)?;
    Ok(alloy_primitives::hex::encode(bytes))
}
