//! Runs one job (approved code in an unpacked OCI image) in an isolated container
//! through an OCI runtime's command line, and returns its outcome and outputs.
//!
//! # Isolation
//!
//! Everything is in the generated `config.json` ([`Runner::generate_config`]): own
//! pid, network (loopback only, no interface or route), ipc, uts, mount and cgroup
//! namespaces; a read-only root; no capabilities; no new privileges; uid 65534; a
//! seccomp filter denying namespace creation, mounts, ptrace, bpf, io_uring and the
//! like; runc's masked and read-only paths; memory (swap included), pids and CPU
//! limits; `RLIMIT_NOFILE` and no core dumps.
//!
//! # Plaintext stays in memory
//!
//! The bundle directory `<work_dir>/<id>` is itself a tmpfs: `config.json`, the pid
//! file and the overlay's upper layer live in memory. The inputs and `params.json`
//! are written by the runner into a second tmpfs, which is then remounted read-only
//! and bound on `/input`; the caller's copies are zeroized once written. `/output`
//! is a third tmpfs, capped at `output_bytes_max`, read back after the job ends.
//! `/tmp` and `/dev/shm` are tmpfs. Every tmpfs gets `noswap` where the kernel has it
//! (Linux 6.4+, see [`Runner::tmpfs_noswap`]), so job data never reaches a disk, not
//! even swap. The image directory is the lower layer of an overlay: the runtime's
//! mount points land in the tmpfs upper layer and the image is never written.
//!
//! # Cleanup
//!
//! Every path out of [`Runner::run`] deletes the container (and with it its cgroup),
//! unmounts the tmpfs and overlay mounts and removes the bundle directory; if the
//! future is dropped mid-run, a guard does the same synchronously.

mod bundle;
mod cgroup;
mod config;
mod error;
mod runtime;
mod validate;

use std::fs::DirBuilder;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Child;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use zeroize::Zeroize;

use bundle::Bundle;
use cgroup::CgroupLayout;
use config::ConfigInput;
pub use error::RunnerError;
use runtime::Runtime;
use validate::{check_overlay_path, valid_id, validate};

/// One input file: its name in `/input` and its plaintext.
pub(crate) type Input = (String, Vec<u8>);

/// Longest job id, in bytes.
pub const JOB_ID_BYTES_MAX: usize = 64;
/// Most input files in one job (besides `params.json`).
pub const INPUT_FILES_MAX: usize = 4096;
/// Longest input file name, in bytes (a file name on Linux).
pub const INPUT_NAME_BYTES_MAX: usize = 255;
/// Inputs and `params.json` together, in bytes.
pub const INPUT_BYTES_MAX: u64 = 1024 * 1024 * 1024;
/// Arguments and environment together, in bytes (below the kernel's `ARG_MAX`).
pub const ARGS_ENV_BYTES_MAX: usize = 1024 * 1024;
/// Smallest memory limit, in bytes: the runtime's own init runs inside it.
pub const MEMORY_BYTES_MIN: u64 = 16 * 1024 * 1024;
/// Smallest CPU quota, in milli-CPUs (the kernel's 1 ms quota floor per 100 ms period).
pub const CPU_MILLIS_MIN: u64 = 10;

/// Mode of the state and work directories the runner creates (root only).
const PRIVATE_DIR_MODE: u32 = 0o700;
/// Prefix of the relative cgroup path of a job (`hearth-<id>`).
const CGROUP_PREFIX: &str = "hearth-";
/// How long the runner keeps killing a container before killing the runtime
/// process itself, in seconds.
const KILL_GRACE_SECS_MAX: u64 = 10;
/// Pause between `kill` attempts (the container may not exist yet), in milliseconds.
const KILL_RETRY_MILLIS: u64 = 100;
/// How long stdout and stderr may take to close after the runtime exits, in seconds.
const DRAIN_SECS_MAX: u64 = 5;
/// Read buffer of the stdout and stderr capture, in bytes.
const CAPTURE_CHUNK_BYTES: usize = 64 * 1024;
/// Exit codes above this mean "killed by signal (code - base)", as runc and crun report it.
const SIGNAL_EXIT_BASE: i32 = 128;
/// `SIGKILL`, which the kernel's OOM killer sends.
const SIGKILL: i32 = 9;

/// Where the runner finds its runtime and keeps its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunnerConfig {
    /// The OCI runtime: `runc` (looked up on `PATH`) or a path; any runtime with
    /// runc's command line (crun, youki).
    pub runtime: PathBuf,
    /// The runtime's state directory (`--root`), owned by this runner.
    pub state_dir: PathBuf,
    /// Where job bundles are made, one tmpfs-backed directory per job.
    pub work_dir: PathBuf,
}

impl Default for RunnerConfig {
    fn default() -> Self {
        Self {
            runtime: PathBuf::from("runc"),
            state_dir: PathBuf::from("/run/hearth-sandbox/runtime"),
            work_dir: PathBuf::from("/run/hearth-sandbox/jobs"),
        }
    }
}

/// The limits of one job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Memory, including page cache and the job's tmpfs files; no swap.
    pub memory_bytes_max: u64,
    /// Processes and threads at once.
    pub pids_max: i64,
    /// CPU time per second of wall time: 1000 is one core.
    pub cpu_millis: u64,
    /// Wall time from start to kill.
    pub wall_secs_max: u64,
    /// Everything under `/output` together (`result.json` included).
    pub output_bytes_max: u64,
    /// stdout kept; the rest is read and dropped.
    pub stdout_bytes_max: usize,
    /// stderr kept; the rest is read and dropped.
    pub stderr_bytes_max: usize,
    /// Size of the `/tmp` tmpfs.
    pub tmp_bytes_max: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            memory_bytes_max: 512 * 1024 * 1024,
            pids_max: 256,
            cpu_millis: 1000,
            wall_secs_max: 600,
            output_bytes_max: 64 * 1024 * 1024,
            stdout_bytes_max: 1024 * 1024,
            stderr_bytes_max: 1024 * 1024,
            tmp_bytes_max: 256 * 1024 * 1024,
        }
    }
}

/// One run of an image. `Debug` shows input names and sizes, never their bytes.
pub struct Job<'a> {
    /// `[a-z0-9-]`, at most [`JOB_ID_BYTES_MAX`] bytes, unique among running jobs.
    pub id: &'a str,
    /// An unpacked image root; the runner never writes to it.
    pub rootfs: &'a Path,
    /// The program (a path inside the image, or a name on the job's `PATH`) and its arguments.
    pub args: Vec<String>,
    /// `KEY=value` pairs; a default `PATH` is added when there is none. Written to
    /// `config.json` (in memory): never put data here, only in inputs and params.
    pub env: Vec<String>,
    /// Files in `/input`: name and plaintext. Zeroized once written.
    pub inputs: Vec<(String, Vec<u8>)>,
    /// `/input/params.json`. Zeroized once written.
    pub params_json: Vec<u8>,
    /// The job's limits.
    pub limits: Limits,
}

/// How a job ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Exit code 0, within every limit.
    Succeeded,
    /// A non-zero exit or a signal.
    Failed {
        /// The exit code or signal, in words.
        reason: String,
    },
    /// The kernel's OOM killer ended a process of the job at the memory limit.
    OutOfMemory,
    /// Killed at `wall_secs_max`.
    TimedOut,
    /// Killed because the caller cancelled it.
    Cancelled,
    /// `/output` filled up, or held more than `output_bytes_max`; no output is returned.
    OutputTooLarge,
}

/// What a job produced. `Debug` shows sizes, never the job's output bytes.
pub struct Finished {
    /// How it ended.
    pub outcome: Outcome,
    /// The exit code the runtime reported (128 + n for signal n); `None` if the
    /// runtime process itself had to be killed.
    pub exit_code: Option<i32>,
    /// stdout, at most `stdout_bytes_max`.
    pub stdout: Vec<u8>,
    /// stderr, at most `stderr_bytes_max`.
    pub stderr: Vec<u8>,
    /// `/output/result.json`, if the job wrote it.
    pub result_json: Option<Vec<u8>>,
    /// Every other regular file under `/output` (path relative to it, sorted);
    /// symlinks and special files are ignored.
    pub output_files: Vec<(String, Vec<u8>)>,
    /// From starting the runtime to the end of the job.
    pub duration: Duration,
}

impl std::fmt::Debug for Job<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let env_keys: Vec<&str> = self.env.iter().map(|kv| kv.split('=').next().unwrap_or_default()).collect();
        let inputs: Vec<(&str, usize)> = self.inputs.iter().map(|(name, data)| (name.as_str(), data.len())).collect();
        f.debug_struct("Job")
            .field("id", &self.id)
            .field("rootfs", &self.rootfs)
            .field("args", &self.args)
            .field("env_keys", &env_keys)
            .field("input_bytes", &inputs)
            .field("params_json_bytes", &self.params_json.len())
            .field("limits", &self.limits)
            .finish()
    }
}

impl std::fmt::Debug for Finished {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let files: Vec<(&str, usize)> =
            self.output_files.iter().map(|(name, data)| (name.as_str(), data.len())).collect();
        f.debug_struct("Finished")
            .field("outcome", &self.outcome)
            .field("exit_code", &self.exit_code)
            .field("stdout_bytes", &self.stdout.len())
            .field("stderr_bytes", &self.stderr.len())
            .field("result_json_bytes", &self.result_json.as_ref().map(Vec::len))
            .field("output_file_bytes", &files)
            .field("duration", &self.duration)
            .finish()
    }
}

/// Runs jobs with one OCI runtime. Jobs may run concurrently.
#[derive(Debug)]
pub struct Runner {
    config: RunnerConfig,
    runtime: Runtime,
    runtime_version: String,
    cgroups: CgroupLayout,
    tmpfs_noswap: bool,
}

/// Why the supervisor stopped waiting.
#[derive(Debug, Clone, Copy)]
enum Stop {
    Exited,
    TimedOut,
    Cancelled,
}

impl Runner {
    /// Checks the runtime answers `--version`, that the runner is root, reads the
    /// cgroup layout, creates the state and work directories, and checks whether
    /// tmpfs supports `noswap`.
    pub fn new(config: RunnerConfig) -> Result<Self, RunnerError> {
        let absolute = |path: &Path| {
            std::path::absolute(path).map_err(|e| RunnerError::io(format!("resolve {}", path.display()), e))
        };
        let config = RunnerConfig {
            runtime: config.runtime,
            state_dir: absolute(&config.state_dir)?,
            work_dir: absolute(&config.work_dir)?,
        };
        let (runtime, runtime_version) = Runtime::open(&config.runtime, &config.state_dir)?;
        if !nix::unistd::geteuid().is_root() {
            return Err(RunnerError::NotRoot);
        }
        check_overlay_path(&config.work_dir, "work_dir")?;
        for dir in [&config.state_dir, &config.work_dir] {
            DirBuilder::new()
                .recursive(true)
                .mode(PRIVATE_DIR_MODE)
                .create(dir)
                .map_err(|e| RunnerError::io(format!("create {}", dir.display()), e))?;
        }
        let cgroups = CgroupLayout::detect()?;
        let tmpfs_noswap = probe_noswap(&config.work_dir)?;
        Ok(Self { config, runtime, runtime_version, cgroups, tmpfs_noswap })
    }

    /// The first line of the runtime's `--version`.
    pub fn runtime_version(&self) -> &str {
        &self.runtime_version
    }

    /// Whether job tmpfs mounts are `noswap` (Linux 6.4+). When false, job data in
    /// memory could be swapped out on a host with swap: run such hosts without swap.
    pub fn tmpfs_noswap(&self) -> bool {
        self.tmpfs_noswap
    }

    /// `"v1"` or `"v2"`: the cgroup version the host uses.
    pub fn cgroup_version(&self) -> &'static str {
        self.cgroups.version()
    }

    /// The OCI `config.json` the runner writes for `job` in the bundle at `bundle`.
    pub fn generate_config(&self, job: &Job<'_>, bundle: &Path) -> serde_json::Value {
        let bundle = Bundle::at(bundle.to_owned());
        let spec = self.spec(&bundle, job.id, &job.args, &job.env, &job.limits);
        // Plain structs of strings and numbers always serialize.
        serde_json::to_value(spec).unwrap_or(serde_json::Value::Null)
    }

    /// Runs `job` to its end, a limit, or `cancel`; the container, its cgroup and
    /// the bundle are gone when this returns.
    pub async fn run(&self, job: Job<'_>, cancel: CancellationToken) -> Result<Finished, RunnerError> {
        let Job { id, rootfs, args, env, inputs, params_json, limits } = job;
        let plaintext = Plaintext { inputs, params_json };
        validate(id, rootfs, &args, &env, &plaintext, &limits)?;
        if cancel.is_cancelled() {
            return Ok(Finished::not_run(Outcome::Cancelled));
        }
        let rootfs =
            std::path::absolute(rootfs).map_err(|e| RunnerError::io(format!("resolve {}", rootfs.display()), e))?;
        let bundle = Bundle::new(&self.config.work_dir, id);
        let config = serde_json::to_vec_pretty(&self.spec(&bundle, id, &args, &env, &limits))
            .map_err(|e| RunnerError::io("serialize config.json", e))?;
        drop((args, env));
        let guard = Guard { runtime: self.runtime.clone(), id: id.to_owned(), bundle, container: false };

        // Prepare the bundle: mounts, inputs, config.
        let noswap = self.tmpfs_noswap;
        let output_bytes_max = limits.output_bytes_max;
        let (mut guard, prepared) = blocking(move || {
            let mut guard = guard;
            let prepared = prepare(&mut guard.bundle, &rootfs, plaintext, &config, output_bytes_max, noswap);
            match prepared {
                Ok(()) => (guard, Ok(())),
                Err(e) => {
                    let e = guard.clean_after(e);
                    (guard, Err(e))
                }
            }
        })
        .await?;
        prepared?;

        // Run and supervise.
        let mut command = self.runtime.run_command(id, guard.bundle.dir(), &guard.bundle.pid_file());
        command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
        guard.container = true;
        let started_at = Instant::now();
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(e) => {
                let error = RunnerError::io("start the OCI runtime", e);
                return Err(blocking(move || {
                    let mut guard = guard;
                    guard.clean_after(error)
                })
                .await?);
            }
        };
        let stdout = child.stdout.take().map(|pipe| tokio::spawn(capture(pipe, limits.stdout_bytes_max)));
        let stderr = child.stderr.take().map(|pipe| tokio::spawn(capture(pipe, limits.stderr_bytes_max)));
        let stop = tokio::select! {
            _ = child.wait() => Stop::Exited,
            () = tokio::time::sleep(Duration::from_secs(limits.wall_secs_max)) => Stop::TimedOut,
            () = cancel.cancelled() => Stop::Cancelled,
        };
        let status = match stop {
            // `wait` again: it returns the status it already collected.
            Stop::Exited => child.wait().await.ok(),
            Stop::TimedOut | Stop::Cancelled => self.stop(id, &mut child).await,
        };
        let duration = started_at.elapsed();
        let stdout = drained(stdout).await;
        let stderr = drained(stderr).await;

        // Read what the job left, then remove everything.
        let memory_dir = self.cgroups.memory_dir(&cgroups_path(id));
        let cgroups = self.cgroups.clone();
        let (started, oom_kills, outputs, cleaned) = blocking(move || {
            let mut guard = guard;
            let started = guard.bundle.started();
            // Before `delete`, which removes the cgroup.
            let oom_kills = cgroups.oom_kills(&memory_dir);
            let mut failures = Vec::new();
            if let Err(e) = guard.delete_container() {
                failures.push(e.to_string());
            }
            let outputs = if started && failures.is_empty() {
                guard.bundle.collect_outputs(output_bytes_max).map(Some)
            } else {
                Ok(None)
            };
            if let Err(e) = guard.bundle.remove() {
                failures.push(e);
            }
            (started, oom_kills, outputs, failures)
        })
        .await?;
        if !cleaned.is_empty() {
            return Err(RunnerError::Cleanup { id: id.to_owned(), detail: cleaned.join("; ") });
        }
        let outputs = outputs?.unwrap_or_default();
        let exit_code = status.and_then(|s: ExitStatus| s.code());
        let outcome = match stop {
            Stop::Cancelled => Outcome::Cancelled,
            Stop::TimedOut => Outcome::TimedOut,
            Stop::Exited if !started => {
                return Err(RunnerError::NotStarted { id: id.to_owned(), detail: runtime::tail(&stderr) });
            }
            // Without the cgroup's counter, a SIGKILL nobody here sent is the OOM killer's.
            Stop::Exited if oom_kills.map_or(exit_code == Some(SIGNAL_EXIT_BASE + SIGKILL), |n| n > 0) => {
                Outcome::OutOfMemory
            }
            Stop::Exited if outputs.too_large => Outcome::OutputTooLarge,
            Stop::Exited if exit_code == Some(0) => Outcome::Succeeded,
            Stop::Exited => Outcome::Failed { reason: describe_exit(exit_code) },
        };
        let (result_json, output_files) =
            if outputs.too_large { (None, Vec::new()) } else { (outputs.result_json, outputs.files) };
        Ok(Finished { outcome, exit_code, stdout, stderr, result_json, output_files, duration })
    }

    /// Removes what a runner that stopped abruptly (a crash, a power cut) left behind:
    /// every container in the state directory and every bundle in the work directory,
    /// mounts included. Call it at start-up, before this runner runs any job. Returns
    /// the ids it removed.
    pub fn recover(&self) -> Result<Vec<String>, RunnerError> {
        let mut ids = std::collections::BTreeSet::new();
        for dir in [&self.config.state_dir, &self.config.work_dir] {
            let what = || format!("read {}", dir.display());
            for entry in std::fs::read_dir(dir).map_err(|e| RunnerError::io(what(), e))? {
                let name = entry.map_err(|e| RunnerError::io(what(), e))?.file_name();
                if let Some(id) = name.to_str().filter(|id| valid_id(id)) {
                    ids.insert(id.to_owned());
                }
            }
        }
        let mut failures = Vec::new();
        for id in &ids {
            // The container first: it holds the bundle's mounts.
            if let Err(e) = self.runtime.delete(id) {
                failures.push(e.to_string());
            }
            if let Err(e) = bundle::remove_leftover(&self.config.work_dir.join(id)) {
                failures.push(e);
            }
        }
        if !failures.is_empty() {
            let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
            return Err(RunnerError::Cleanup { id: ids.join(","), detail: failures.join("; ") });
        }
        Ok(ids.into_iter().collect())
    }

    /// Kills the container until the runtime process exits; kills the runtime
    /// process itself after [`KILL_GRACE_SECS_MAX`].
    async fn stop(&self, id: &str, child: &mut Child) -> Option<ExitStatus> {
        let deadline = Instant::now() + Duration::from_secs(KILL_GRACE_SECS_MAX);
        while Instant::now() < deadline {
            let (runtime, owned_id) = (self.runtime.clone(), id.to_owned());
            // Fails while the container does not exist yet or any more: try again.
            let _ = blocking(move || runtime.kill(&owned_id)).await;
            if let Ok(status) = tokio::time::timeout(Duration::from_millis(KILL_RETRY_MILLIS), child.wait()).await {
                return status.ok();
            }
        }
        // The runtime hangs: kill it; `delete --force` then removes the container.
        let _ = child.start_kill();
        let _ = child.wait().await;
        None
    }

    fn spec(&self, bundle: &Bundle, id: &str, args: &[String], env: &[String], limits: &Limits) -> config::Spec {
        config::generate(&ConfigInput {
            rootfs: &bundle.rootfs(),
            input_dir: &bundle.input_dir(),
            output_dir: &bundle.output_dir(),
            cgroups_path: &cgroups_path(id),
            tmpfs_noswap: self.tmpfs_noswap,
            args,
            env,
            limits,
        })
    }
}

/// Removes a job's container and bundle; on drop, if the run did not finish (the
/// future was dropped, or a task panicked), synchronously.
struct Guard {
    runtime: Runtime,
    id: String,
    bundle: Bundle,
    /// Whether a container may exist (the runtime was started).
    container: bool,
}

impl Guard {
    fn delete_container(&mut self) -> Result<(), RunnerError> {
        if self.container {
            self.runtime.delete(&self.id)?;
            self.container = false;
        }
        Ok(())
    }

    /// Cleans up after `error`; the error, or a cleanup error that names it.
    fn clean_after(&mut self, error: RunnerError) -> RunnerError {
        let mut failures = Vec::new();
        if let Err(e) = self.delete_container() {
            failures.push(e.to_string());
        }
        if let Err(e) = self.bundle.remove() {
            failures.push(e);
        }
        if failures.is_empty() {
            error
        } else {
            RunnerError::Cleanup { id: self.id.clone(), detail: format!("{} (after: {error})", failures.join("; ")) }
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        // Best effort: nobody is left to report to; a no-op after a finished run.
        let _ = self.delete_container();
        let _ = self.bundle.remove();
    }
}

fn prepare(
    bundle: &mut Bundle,
    rootfs: &Path,
    plaintext: Plaintext,
    config: &[u8],
    output_bytes_max: u64,
    noswap: bool,
) -> Result<(), RunnerError> {
    bundle.create(noswap)?;
    bundle.mount_rootfs(rootfs)?;
    bundle.fill_inputs(&plaintext, noswap)?;
    bundle.mount_output(output_bytes_max, noswap)?;
    bundle.write_config(config)
}

/// A job's inputs and parameters, zeroized when dropped, whichever way the run ends.
pub(crate) struct Plaintext {
    /// Input files: name and contents.
    pub inputs: Vec<Input>,
    /// `params.json`.
    pub params_json: Vec<u8>,
}

impl Drop for Plaintext {
    fn drop(&mut self) {
        for (_, data) in &mut self.inputs {
            data.zeroize();
        }
        self.params_json.zeroize();
    }
}

impl Finished {
    /// A job that never started (cancelled before its container was made).
    fn not_run(outcome: Outcome) -> Self {
        Self {
            outcome,
            exit_code: None,
            stdout: Vec::new(),
            stderr: Vec::new(),
            result_json: None,
            output_files: Vec::new(),
            duration: Duration::ZERO,
        }
    }
}

fn cgroups_path(id: &str) -> String {
    format!("{CGROUP_PREFIX}{id}")
}

fn describe_exit(code: Option<i32>) -> String {
    match code {
        Some(code) if code > SIGNAL_EXIT_BASE => format!("killed by signal {}", code - SIGNAL_EXIT_BASE),
        Some(code) => format!("exited with code {code}"),
        None => "the runtime had to be killed".to_owned(),
    }
}

/// Checks tmpfs `noswap` on a scratch directory in `work_dir`.
fn probe_noswap(work_dir: &Path) -> Result<bool, RunnerError> {
    static PROBES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let probe = PROBES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let scratch = work_dir.join(format!(".noswap-probe-{}-{probe}", std::process::id()));
    DirBuilder::new()
        .mode(PRIVATE_DIR_MODE)
        .create(&scratch)
        .or_else(|e| if e.kind() == std::io::ErrorKind::AlreadyExists { Ok(()) } else { Err(e) })
        .map_err(|e| RunnerError::io(format!("create {}", scratch.display()), e))?;
    let supported = bundle::tmpfs_supports_noswap(&scratch);
    std::fs::remove_dir(&scratch).map_err(|e| RunnerError::io(format!("remove {}", scratch.display()), e))?;
    supported
}

/// Reads a pipe to its end, keeping the first `cap` bytes.
async fn capture(mut pipe: impl AsyncRead + Unpin, cap: usize) -> Vec<u8> {
    let mut kept = Vec::new();
    let mut chunk = vec![0; CAPTURE_CHUNK_BYTES];
    loop {
        match pipe.read(&mut chunk).await {
            Ok(0) | Err(_) => return kept,
            Ok(n) => {
                let room = cap.saturating_sub(kept.len());
                kept.extend_from_slice(&chunk[..n.min(room)]);
            }
        }
    }
}

/// What a capture task kept, waiting at most [`DRAIN_SECS_MAX`] for the pipe to close.
async fn drained(task: Option<JoinHandle<Vec<u8>>>) -> Vec<u8> {
    let Some(mut task) = task else { return Vec::new() };
    match tokio::time::timeout(Duration::from_secs(DRAIN_SECS_MAX), &mut task).await {
        Ok(Ok(kept)) => kept,
        _ => {
            task.abort();
            Vec::new()
        }
    }
}

/// Runs blocking file-system and runtime work off the async threads.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, RunnerError> {
    match tokio::task::spawn_blocking(work).await {
        Ok(value) => Ok(value),
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => Err(RunnerError::io("blocking task", std::io::Error::other(e))),
    }
}
