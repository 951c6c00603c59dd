//! Test support for the runner tests: the probe image (a static program built from
//! `probe.rs` with rustc), a runner with its own state and work directories, and
//! the checks that nothing is left behind.

use std::hash::{Hash, Hasher};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use hearth_sandbox::runner::{Job, Limits, Runner, RunnerConfig};

/// The probe's source, compiled into every test rootfs.
const PROBE_SOURCE: &str = include_str!("probe.rs");

/// An unpacked "image" holding only `/bin/probe`, built once per source version.
pub fn probe_rootfs() -> &'static Path {
    static ROOTFS: OnceLock<PathBuf> = OnceLock::new();
    ROOTFS.get_or_init(build_probe_rootfs)
}

fn build_probe_rootfs() -> PathBuf {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    PROBE_SOURCE.hash(&mut hasher);
    let base = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("runner-probe-{:016x}", hasher.finish()));
    let rootfs = base.join("rootfs");
    let probe = rootfs.join("bin/probe");
    if probe.is_file() {
        return rootfs;
    }
    std::fs::create_dir_all(rootfs.join("bin")).unwrap();
    let source = base.join(format!("probe-{}.rs", std::process::id()));
    let built = base.join(format!("probe-{}", std::process::id()));
    std::fs::write(&source, PROBE_SOURCE).unwrap();
    let output = Command::new(std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into()))
        .args(["--edition", "2024", "-C", "target-feature=+crt-static", "-C", "opt-level=2", "-o"])
        .arg(&built)
        .arg(&source)
        .output()
        .expect("rustc runs");
    assert!(output.status.success(), "building the probe failed:\n{}", String::from_utf8_lossy(&output.stderr));
    std::fs::remove_file(&source).unwrap();
    for dir in [&base, &rootfs, &rootfs.join("bin")] {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    // Atomic: concurrent test processes may build it too.
    std::fs::rename(&built, &probe).unwrap();
    rootfs
}

/// A runner with its own runtime state and work directories.
pub struct Fixture {
    pub runner: Runner,
    pub state_dir: PathBuf,
    pub work_dir: PathBuf,
    /// Every job id handed out, to look for leftover cgroups.
    ids: Mutex<Vec<String>>,
    _dir: tempfile::TempDir,
}

impl Fixture {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let state_dir = dir.path().join("state");
        let work_dir = dir.path().join("jobs");
        let config =
            RunnerConfig { state_dir: state_dir.clone(), work_dir: work_dir.clone(), ..RunnerConfig::default() };
        let runner = Runner::new(config).unwrap();
        Self { runner, state_dir, work_dir, ids: Mutex::new(Vec::new()), _dir: dir }
    }

    /// A job id unique across tests and test processes (cgroup names are host-wide).
    pub fn id(&self, name: &str) -> String {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let id = format!("{name}-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
        self.ids.lock().unwrap().push(id.clone());
        id
    }

    /// No container in the runtime's state, no bundle in the work directory, no
    /// mount under it, and no cgroup of this fixture's jobs.
    pub fn assert_clean(&self) {
        let list = Command::new("runc").arg("--root").arg(&self.state_dir).args(["list", "-q"]).output().unwrap();
        assert!(list.status.success(), "runc list: {}", String::from_utf8_lossy(&list.stderr));
        assert_eq!(String::from_utf8_lossy(&list.stdout).trim(), "", "containers left behind");
        let left: Vec<_> = std::fs::read_dir(&self.work_dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert!(left.is_empty(), "bundles left behind: {left:?}");
        let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
        let work_dir = self.work_dir.to_str().unwrap();
        assert!(!mounts.contains(work_dir), "mounts left behind under {work_dir}");
        let names: Vec<String> = self.ids.lock().unwrap().iter().map(|id| format!("hearth-{id}")).collect();
        let mut stack = vec![(PathBuf::from("/sys/fs/cgroup"), 0)];
        while let Some((dir, depth)) = stack.pop() {
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
                let name = entry.file_name().to_string_lossy().into_owned();
                assert!(!(is_dir && names.contains(&name)), "cgroup left behind: {}", entry.path().display());
                if is_dir && depth < CGROUP_DEPTH_MAX {
                    stack.push((entry.path(), depth + 1));
                }
            }
        }
    }
}

/// How long a test waits for a container to be running, in milliseconds.
const RUNNING_WAIT_MILLIS_MAX: u64 = 30_000;
/// How deep below /sys/fs/cgroup leftover job cgroups are looked for.
const CGROUP_DEPTH_MAX: usize = 5;
/// Poll interval while waiting, in milliseconds.
const POLL_MILLIS: u64 = 50;

impl Fixture {
    /// Whether the runtime reports the container `id` as running.
    pub fn is_running(&self, id: &str) -> bool {
        let state = Command::new("runc").arg("--root").arg(&self.state_dir).args(["state", id]).output().unwrap();
        state.status.success()
            && serde_json::from_slice::<serde_json::Value>(&state.stdout).unwrap()["status"] == "running"
    }

    /// Waits until the container `id` is running.
    pub async fn wait_running(&self, id: &str) {
        for _ in 0..RUNNING_WAIT_MILLIS_MAX / POLL_MILLIS {
            if self.is_running(id) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(POLL_MILLIS)).await;
        }
        panic!("container {id} never ran");
    }

    /// Polls `run` (which must not finish) until the container `id` is running.
    pub async fn drive_until_running<F: Future<Output: std::fmt::Debug> + Unpin>(&self, run: &mut F, id: &str) {
        for _ in 0..RUNNING_WAIT_MILLIS_MAX / POLL_MILLIS {
            if let Ok(ended) = tokio::time::timeout(Duration::from_millis(POLL_MILLIS), &mut *run).await {
                panic!("job {id} ended early: {ended:?}");
            }
            if self.is_running(id) {
                return;
            }
        }
        panic!("container {id} never ran");
    }
}

/// Generous limits for a 2-core machine under load.
pub fn test_limits() -> Limits {
    Limits {
        memory_bytes_max: 256 * 1024 * 1024,
        pids_max: 64,
        cpu_millis: 1000,
        wall_secs_max: 60,
        output_bytes_max: 1024 * 1024,
        stdout_bytes_max: 256 * 1024,
        stderr_bytes_max: 64 * 1024,
        tmp_bytes_max: 16 * 1024 * 1024,
    }
}

/// A job running `/bin/probe <args>` in the probe image.
pub fn probe_job<'a>(id: &'a str, args: &[&str]) -> Job<'a> {
    Job {
        id,
        rootfs: probe_rootfs(),
        args: std::iter::once("/bin/probe").chain(args.iter().copied()).map(str::to_owned).collect(),
        env: Vec::new(),
        inputs: Vec::new(),
        params_json: b"{}".to_vec(),
        limits: test_limits(),
    }
}

/// stdout as text, for assertions.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Every path under `root` with its size and modification time.
pub fn snapshot(root: &Path) -> Vec<(PathBuf, u64, std::time::SystemTime)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let meta = entry.metadata().unwrap();
            if meta.is_dir() {
                stack.push(entry.path());
            }
            out.push((entry.path(), meta.len(), meta.modified().unwrap()));
        }
    }
    out.sort();
    out
}
