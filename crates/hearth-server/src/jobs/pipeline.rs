//! One job from its slot to its end: verify, prepare, check again, run, seal, audit.
//! Every way out ends the job in the database with a phase and a reason, and writes
//! an `operation.end` audit record.

use std::sync::Arc;

use alloy_primitives::{Address, B256};
use hearth_crypto::age::x25519::Recipient;
use hearth_sandbox::runner::{Finished, Job, Outcome};
use tokio_util::io::SyncIoBridge;
use tokio_util::sync::CancellationToken;
use zeroize::Zeroize;

use super::store::Ending;
use super::{Compute, JOB_INPUT_FILES_MAX, JobRecord, Phase, RESULT_JSON_BYTES_MAX, result_hash};
use crate::audit::Entry;
use crate::error::ApiError;
use crate::state::AppState;

/// Why a job ended without a result: its phase and a stable reason code.
struct Stop {
    phase: Phase,
    reason: String,
}

impl Stop {
    fn failed(reason: impl Into<String>) -> Stop {
        Stop { phase: Phase::Failed, reason: reason.into() }
    }

    fn cancelled() -> Stop {
        Stop { phase: Phase::Cancelled, reason: "cancelled".into() }
    }
}

impl From<ApiError> for Stop {
    fn from(e: ApiError) -> Stop {
        Stop::failed(e.code)
    }
}

/// Plaintext inputs, zeroized when dropped unless handed to the runner (which
/// zeroizes them once written to its tmpfs).
struct Inputs(Vec<(String, Vec<u8>)>);

impl Drop for Inputs {
    fn drop(&mut self) {
        for (_, data) in &mut self.0 {
            data.zeroize();
        }
    }
}

/// Sealed outputs of a successful job.
struct Sealed {
    exit_code: Option<i32>,
    result_hash: B256,
    sealed_result: Vec<u8>,
    files: Vec<(String, B256, Vec<u8>)>,
}

/// Runs job `id` once a slot is free, and ends it.
pub(super) async fn run(state: &Arc<AppState>, id: &str, cancel: CancellationToken) {
    let jobs = &state.jobs;
    let Ok(Some(job)) = blocking(state, {
        let id = id.to_owned();
        move |s| s.jobs.store().get(&id)
    })
    .await
    .map_err(|e| tracing::error!(job = id, error = %e, "cannot read a queued job")) else {
        return;
    };
    if job.phase.is_terminal() {
        return;
    }
    let permit = tokio::select! {
        permit = jobs.slots.clone().acquire_owned() => permit.ok(),
        () = cancel.cancelled() => None,
    };
    // The ciphertext hashes of the inputs, once they are decrypted: the end record names them.
    let mut inputs = Vec::new();
    let ended = match permit {
        None => Err((Stop::cancelled(), None)),
        Some(_permit) => execute(state, &job, &cancel, &mut inputs).await,
    };
    let (ending_phase, reason, exit_code, sealed) = match ended {
        Ok(sealed) => (Phase::Succeeded, None, sealed.exit_code, Some(sealed)),
        Err((stop, exit_code)) => (stop.phase, Some(stop.reason), exit_code, None),
    };
    finish(state, &job, inputs, ending_phase, reason, exit_code, sealed).await;
}

/// Verify, prepare, check, run, seal; `inputs` gets the input hashes once they are
/// stored. `Err` carries the stop and the exit code.
async fn execute(
    state: &Arc<AppState>,
    job: &JobRecord,
    cancel: &CancellationToken,
    inputs: &mut Vec<B256>,
) -> Result<Sealed, (Stop, Option<i32>)> {
    let no_exit = |stop: Stop| (stop, None);
    let compute = state.jobs.compute().map_err(|reason| {
        tracing::warn!(job = job.id, %reason, "job cannot run here");
        no_exit(Stop::failed("compute_unavailable"))
    })?;
    let compute: Arc<Compute> = compute.clone();

    // Verifying: the grant as it is now, the image, the app's recipient.
    enter(state, job, Phase::Verifying, cancel).await.map_err(no_exit)?;
    check_permission(state, job).await.map_err(no_exit)?;
    let params_json = params_of(state, job).await.map_err(no_exit)?;
    let image = compute.images.get(&job.operation).map_err(|_| no_exit(Stop::failed("operation_not_imported")))?;
    let rootfs = compute.images.rootfs(&job.operation).map_err(|e| {
        tracing::error!(job = job.id, error = %e, "image root missing");
        no_exit(Stop::failed("operation_not_imported"))
    })?;
    let recipient = app_recipient(state, job.app).await.map_err(no_exit)?;

    // Preparing: decrypt the inputs into memory; record them before the container sees them.
    enter(state, job, Phase::Preparing, cancel).await.map_err(no_exit)?;
    let (plaintext, hashes) = decrypt_inputs(state, job).await.map_err(no_exit)?;
    let stored = hashes.clone();
    let id = job.id.clone();
    blocking(state, move |s| s.jobs.store().set_inputs(&id, &stored))
        .await
        .map_err(|e| no_exit(internal(&job.id, e)))?;
    inputs.clone_from(&hashes);
    audit(state, job, "operation.start", hashes, None, "started").await.map_err(no_exit)?;

    // The permission once more, right before the container starts.
    check_permission(state, job).await.map_err(no_exit)?;
    enter(state, job, Phase::Running, cancel).await.map_err(no_exit)?;
    let mut args = image.entrypoint.clone();
    args.extend(image.cmd.iter().cloned());
    let mut plaintext = plaintext;
    let run = Job {
        id: &job.id,
        rootfs: &rootfs,
        args,
        env: image.env.clone(),
        inputs: std::mem::take(&mut plaintext.0),
        params_json,
        limits: state.jobs.config().limits(),
    };
    let finished = compute.runner.run(run, cancel.clone()).await.map_err(|e| {
        tracing::warn!(job = job.id, error = %e, "the runner could not run the job");
        no_exit(Stop::failed("runtime_error"))
    })?;
    let exit_code = finished.exit_code;
    let stop = match &finished.outcome {
        Outcome::Succeeded => None,
        Outcome::Failed { .. } => Some(Stop::failed("operation_failed")),
        Outcome::OutOfMemory => Some(Stop::failed("out_of_memory")),
        Outcome::TimedOut => Some(Stop { phase: Phase::TimedOut, reason: "wall_time_limit".into() }),
        Outcome::Cancelled => Some(Stop::cancelled()),
        Outcome::OutputTooLarge => Some(Stop::failed("output_too_large")),
    };
    if let Some(stop) = stop {
        discard(finished);
        return Err((stop, exit_code));
    }

    // Sealing.
    enter(state, job, Phase::Sealing, cancel).await.map_err(|stop| (stop, exit_code))?;
    let server_recipient = state.keys.age_recipient();
    let sealed = tokio::task::spawn_blocking(move || seal(finished, &server_recipient, &recipient))
        .await
        .map_err(|e| (internal(&job.id, e), exit_code))?
        .map_err(|stop| (stop, exit_code))?;
    Ok(Sealed { exit_code, ..sealed })
}

/// Moves the job to `phase` unless it was cancelled.
async fn enter(state: &Arc<AppState>, job: &JobRecord, phase: Phase, cancel: &CancellationToken) -> Result<(), Stop> {
    if cancel.is_cancelled() {
        return Err(Stop::cancelled());
    }
    let at = state.clock.now_secs();
    let id = job.id.clone();
    let moved =
        blocking(state, move |s| s.jobs.store().advance(&id, phase, at)).await.map_err(|e| internal(&job.id, e))?;
    if !moved {
        return Err(Stop::cancelled());
    }
    Ok(())
}

async fn check_permission(state: &Arc<AppState>, job: &JobRecord) -> Result<(), Stop> {
    super::authorize(state, job.app, job.grant, &job.scope, job.operation, job.params_hash).await?;
    Ok(())
}

async fn params_of(state: &Arc<AppState>, job: &JobRecord) -> Result<Vec<u8>, Stop> {
    let id = job.id.clone();
    let params = blocking(state, move |s| s.jobs.store().params(&id))
        .await
        .map_err(|e| internal(&job.id, e))?
        .ok_or_else(|| Stop::failed("internal"))?;
    // The stored parameters must still be the ones the grant was checked against.
    if alloy_primitives::keccak256(&params) != job.params_hash {
        tracing::error!(job = job.id, "stored parameters do not match their hash");
        return Err(Stop::failed("params_mismatch"));
    }
    Ok(params)
}

async fn app_recipient(state: &Arc<AppState>, app: Address) -> Result<Recipient, Stop> {
    let registered = state.contracts.apps().get(app).await.map_err(|_| Stop::failed("app_not_registered"))?;
    hearth_crypto::parse_recipient(&registered.recipient).map_err(|_| Stop::failed("app_recipient_invalid"))
}

/// Every file of the job's scope, decrypted into memory, with its ciphertext hash.
async fn decrypt_inputs(state: &Arc<AppState>, job: &JobRecord) -> Result<(Inputs, Vec<B256>), Stop> {
    let listed = state.store.list_all(Some(&job.scope), JOB_INPUT_FILES_MAX).await.map_err(ApiError::from)?;
    let metas: Vec<_> =
        listed.ok_or_else(|| Stop::failed("too_many_inputs"))?.into_iter().filter(|m| m.scope == job.scope).collect();
    let input_bytes: u64 = metas.iter().map(|m| m.size).sum();
    if input_bytes > state.jobs.config().input_bytes_max {
        return Err(Stop::failed("inputs_too_large"));
    }
    let mut inputs = Inputs(Vec::with_capacity(metas.len()));
    let mut hashes = Vec::with_capacity(metas.len());
    for meta in metas {
        let (_, blob) = state.store.open_blob(meta.id).await.map_err(ApiError::from)?;
        let identity = state.keys.age_identity().clone();
        let capacity = usize::try_from(meta.size).unwrap_or(0);
        let plaintext = tokio::task::spawn_blocking(move || {
            let mut out = Vec::with_capacity(capacity);
            match hearth_crypto::decrypt(&identity, SyncIoBridge::new(blob), &mut out) {
                Ok(_) => Ok(out),
                Err(e) => {
                    out.zeroize();
                    Err(e)
                }
            }
        })
        .await
        .map_err(|e| internal(&job.id, e))?
        .map_err(|e| {
            tracing::warn!(job = job.id, file = meta.id, error = %e, "an input did not decrypt");
            Stop::failed("input_integrity")
        })?;
        inputs.0.push((input_name(meta.id, &meta.name), plaintext));
        hashes.push(meta.sha256);
    }
    Ok((inputs, hashes))
}

/// `<id>-<name>` with `/` and NUL replaced, cut to a file name's length.
fn input_name(id: u64, name: &str) -> String {
    let clean: String = name.chars().map(|c| if c == '/' || c == '\0' { '_' } else { c }).collect();
    let mut full = format!("{id:08}-{clean}");
    full.truncate(full.floor_char_boundary(hearth_sandbox::runner::INPUT_NAME_BYTES_MAX));
    full
}

/// Checks `result.json`, seals it to the server and the other files to the app.
fn seal(mut finished: Finished, server: &Recipient, app: &Recipient) -> Result<Sealed, Stop> {
    let outcome = (|| {
        let result = finished.result_json.as_deref().ok_or_else(|| Stop::failed("result_missing"))?;
        if result.len() > RESULT_JSON_BYTES_MAX {
            return Err(Stop::failed("result_too_large"));
        }
        if serde_json::from_slice::<serde::de::IgnoredAny>(result).is_err() {
            return Err(Stop::failed("result_not_json"));
        }
        let mut sealed_result = Vec::new();
        hearth_crypto::encrypt(std::slice::from_ref(server), result, &mut sealed_result)
            .map_err(|_| Stop::failed("sealing_failed"))?;
        let mut files = Vec::with_capacity(finished.output_files.len());
        let mut hashed = Vec::with_capacity(finished.output_files.len());
        for (name, data) in &finished.output_files {
            use sha2::{Digest, Sha256};
            let sha256 = B256::from_slice(&Sha256::digest(data));
            let mut ciphertext = Vec::new();
            hearth_crypto::encrypt(std::slice::from_ref(app), &data[..], &mut ciphertext)
                .map_err(|_| Stop::failed("sealing_failed"))?;
            hashed.push((name.clone(), sha256));
            files.push((name.clone(), sha256, ciphertext));
        }
        Ok(Sealed { exit_code: None, result_hash: result_hash(result, &hashed), sealed_result, files })
    })();
    finished.result_json.zeroize();
    discard(finished);
    outcome
}

/// Wipes what a job wrote.
fn discard(mut finished: Finished) {
    finished.result_json.zeroize();
    for (_, data) in &mut finished.output_files {
        data.zeroize();
    }
    finished.stdout.zeroize();
    finished.stderr.zeroize();
}

/// Audits the end, then stores it. A success whose record cannot be written is
/// stored as failed with `audit_unavailable`, and its result is dropped.
async fn finish(
    state: &Arc<AppState>,
    job: &JobRecord,
    inputs: Vec<B256>,
    phase: Phase,
    reason: Option<String>,
    exit_code: Option<i32>,
    sealed: Option<Sealed>,
) {
    let outcome = reason.clone().unwrap_or_else(|| phase.as_str().to_owned());
    let result_hash = sealed.as_ref().map(|s| s.result_hash);
    let audited = audit(state, job, "operation.end", inputs, result_hash, &outcome).await;
    let (phase, reason, sealed) = match audited {
        Ok(()) => (phase, reason, sealed),
        Err(_) => (Phase::Failed, Some("audit_unavailable".to_owned()), None),
    };
    let at = state.clock.now_secs();
    let id = job.id.clone();
    let stored = blocking(state, move |s| {
        let (result_hash, sealed_result, files) = match sealed {
            Some(s) => (Some(s.result_hash), Some(s.sealed_result), s.files),
            None => (None, None, Vec::new()),
        };
        let ending = Ending { phase, reason: reason.as_deref(), at, exit_code, result_hash, sealed_result, files };
        s.jobs.store().finish(&id, ending)
    })
    .await;
    match stored {
        Ok(_) => state.metrics.jobs.get_or_create(&crate::metrics::JobLabels { phase: phase.as_str() }).inc(),
        Err(e) => {
            tracing::error!(job = job.id, error = %e, "cannot store the end of a job");
            0
        }
    };
}

async fn audit(
    state: &Arc<AppState>,
    job: &JobRecord,
    action: &str,
    files: Vec<B256>,
    result_hash: Option<B256>,
    outcome: &str,
) -> Result<(), Stop> {
    let entry = Entry {
        actor: job.app,
        action: action.to_owned(),
        grant_id: Some(job.grant).filter(|g| !g.is_zero()),
        files,
        code_digest: Some(job.operation),
        params_hash: Some(job.params_hash),
        result_hash,
        outcome: outcome.to_owned(),
    };
    match blocking(state, move |s| s.record(entry)).await {
        Ok(_) => Ok(()),
        Err(e) => {
            tracing::error!(job = job.id, error = %e, "audit append failed; the job stops");
            Err(Stop::failed("audit_unavailable"))
        }
    }
}

/// Runs a blocking database call on the blocking pool.
async fn blocking<T: Send + 'static, E: std::fmt::Display + Send + 'static>(
    state: &Arc<AppState>,
    f: impl FnOnce(&AppState) -> Result<T, E> + Send + 'static,
) -> Result<T, String> {
    let state = state.clone();
    match tokio::task::spawn_blocking(move || f(&state)).await {
        Ok(result) => result.map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    }
}

fn internal(id: &str, cause: impl std::fmt::Display) -> Stop {
    tracing::error!(job = id, %cause, "job failed on the host");
    Stop::failed("internal")
}

#[cfg(test)]
mod tests {
    use super::input_name;

    #[test]
    fn input_names_are_flat_unique_and_bounded() {
        assert_eq!(input_name(7, "a/b.txt"), "00000007-a_b.txt");
        let long = "é".repeat(300);
        let name = input_name(1, &long);
        assert!(name.len() <= hearth_sandbox::runner::INPUT_NAME_BYTES_MAX);
        assert!(name.starts_with("00000001-"));
    }
}
