//! The OCI runtime `config.json` of a job: typed structs for the subset of the runtime
//! spec the runner uses, filled from a job's limits. Pure: no IO.
//!
//! Own structs rather than the `oci-spec` crate: the subset is small, and serde_json
//! is already a dependency.

use std::path::Path;

use serde::Serialize;

use super::Limits;

/// The OCI runtime spec version the config declares.
const OCI_VERSION: &str = "1.0.2";
/// The uid and gid the job's processes run as (`nobody`): not root even inside the container.
pub(crate) const JOB_UID: u32 = 65534;
/// The job's group id (`nogroup`).
pub(crate) const JOB_GID: u32 = 65534;
/// The container's host name.
const JOB_HOSTNAME: &str = "hearth-job";
/// `PATH` given to the job when its environment has none.
const DEFAULT_PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// Open file descriptors a job may hold (`RLIMIT_NOFILE`, soft and hard).
const NOFILE_MAX: u64 = 1024;
/// Core dump size (`RLIMIT_CORE`): none, so a crash does not write the job's memory anywhere.
const CORE_BYTES_MAX: u64 = 0;
/// The job is the first process the kernel's OOM killer picks if the host runs out of memory.
const OOM_SCORE_ADJ: i32 = 1000;
/// The CFS period the CPU quota is expressed in, in microseconds (100 ms, the kernel default).
const CPU_PERIOD_MICROS: u64 = 100_000;
/// Microseconds of quota per period for each milli-CPU (`CPU_PERIOD_MICROS / 1000`).
const CPU_QUOTA_MICROS_PER_MILLI: u64 = CPU_PERIOD_MICROS / 1000;
/// Size of the `/dev` tmpfs (device nodes only), in KiB.
const DEV_KIB_MAX: u64 = 64;
/// Size of `/dev/shm`, in bytes (POSIX shared memory, charged to the job's memory limit).
const DEV_SHM_BYTES_MAX: u64 = 16 * 1024 * 1024;
/// Inside the container: the read-only inputs and `params.json`.
pub(crate) const INPUT_DIR: &str = "/input";
/// Inside the container: the size-capped, writable outputs.
pub(crate) const OUTPUT_DIR: &str = "/output";
/// `errno` returned by a denied system call (`EPERM`).
const ERRNO_EPERM: u32 = 1;
/// `errno` returned by `clone3` (`ENOSYS`), so libc falls back to `clone`, whose flags
/// the filter can see.
const ERRNO_ENOSYS: u32 = 38;
/// `clone` flags that create namespaces; denied so a job cannot make a user namespace
/// (the others need capabilities it does not have anyway).
const CLONE_NAMESPACE_FLAGS: [u64; 7] = [
    0x0002_0000, // CLONE_NEWNS
    0x0200_0000, // CLONE_NEWCGROUP
    0x0400_0000, // CLONE_NEWUTS
    0x0800_0000, // CLONE_NEWIPC
    0x1000_0000, // CLONE_NEWUSER
    0x2000_0000, // CLONE_NEWPID
    0x4000_0000, // CLONE_NEWNET
];
/// System calls a job never needs and that widen the kernel's attack surface; they
/// fail with `EPERM`. Most already need a capability the job lacks.
const DENIED_SYSCALLS: [&str; 38] = [
    "acct",
    "add_key",
    "bpf",
    "chroot",
    "delete_module",
    "finit_module",
    "fsconfig",
    "fsmount",
    "fsopen",
    "fspick",
    "init_module",
    "io_uring_enter",
    "io_uring_register",
    "io_uring_setup",
    "kexec_file_load",
    "kexec_load",
    "keyctl",
    "mount",
    "mount_setattr",
    "move_mount",
    "name_to_handle_at",
    "open_by_handle_at",
    "open_tree",
    "perf_event_open",
    "pivot_root",
    "process_vm_readv",
    "process_vm_writev",
    "ptrace",
    "quotactl",
    "reboot",
    "request_key",
    "setns",
    "swapoff",
    "swapon",
    "syslog",
    "umount2",
    "unshare",
    "userfaultfd",
];
/// runc's default masked paths: hidden from the job.
const MASKED_PATHS: [&str; 10] = [
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/sys/firmware",
    "/proc/scsi",
];
/// runc's default read-only paths.
const READONLY_PATHS: [&str; 5] = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

/// What the config needs besides the job: where the bundle's pieces are.
pub(crate) struct ConfigInput<'a> {
    /// The container's root (the overlay over the image, inside the bundle).
    pub rootfs: &'a Path,
    /// Host directory holding the inputs (a tmpfs), bound read-only on `/input`.
    pub input_dir: &'a Path,
    /// Host directory for the outputs (a size-capped tmpfs), bound on `/output`.
    pub output_dir: &'a Path,
    /// Relative cgroup path; the runtime places it (runc: under its own cgroup).
    pub cgroups_path: &'a str,
    /// Whether tmpfs mounts get `noswap` (Linux 6.4+), so job data never reaches swap.
    pub tmpfs_noswap: bool,
    /// The program and its arguments.
    pub args: &'a [String],
    /// `KEY=value` pairs.
    pub env: &'a [String],
    /// The job's limits.
    pub limits: &'a Limits,
}

/// Builds the OCI `config.json` for one job.
pub(crate) fn generate(input: &ConfigInput<'_>) -> Spec {
    let mut env = input.env.to_vec();
    if !env.iter().any(|kv| kv.starts_with("PATH=")) {
        env.push(DEFAULT_PATH.to_owned());
    }
    Spec {
        oci_version: OCI_VERSION,
        process: Process {
            terminal: false,
            user: User { uid: JOB_UID, gid: JOB_GID, additional_gids: Vec::new() },
            args: input.args.to_vec(),
            env,
            cwd: "/",
            capabilities: Capabilities::default(),
            rlimits: vec![
                Rlimit { kind: "RLIMIT_NOFILE", hard: NOFILE_MAX, soft: NOFILE_MAX },
                Rlimit { kind: "RLIMIT_CORE", hard: CORE_BYTES_MAX, soft: CORE_BYTES_MAX },
            ],
            no_new_privileges: true,
            oom_score_adj: OOM_SCORE_ADJ,
        },
        root: Root { path: input.rootfs.display().to_string(), readonly: true },
        hostname: JOB_HOSTNAME,
        mounts: mounts(input),
        linux: Linux {
            namespaces: ["pid", "network", "ipc", "uts", "mount", "cgroup"]
                .into_iter()
                .map(|kind| Namespace { kind })
                .collect(),
            resources: Resources {
                devices: vec![DeviceRule { allow: false, access: "rwm" }],
                memory: Memory {
                    limit: saturating_i64(input.limits.memory_bytes_max),
                    // Memory plus swap equals memory: no swap at all.
                    swap: saturating_i64(input.limits.memory_bytes_max),
                },
                cpu: Cpu {
                    quota: saturating_i64(input.limits.cpu_millis.saturating_mul(CPU_QUOTA_MICROS_PER_MILLI)),
                    period: CPU_PERIOD_MICROS,
                },
                pids: Pids { limit: input.limits.pids_max },
            },
            cgroups_path: input.cgroups_path.to_owned(),
            masked_paths: MASKED_PATHS.to_vec(),
            readonly_paths: READONLY_PATHS.to_vec(),
            seccomp: seccomp(),
        },
    }
}

fn mounts(input: &ConfigInput<'_>) -> Vec<Mount> {
    let noswap = if input.tmpfs_noswap { vec!["noswap".to_owned()] } else { Vec::new() };
    let opts = |fixed: &[&str], extra: &[String]| -> Vec<String> {
        fixed.iter().map(|o| (*o).to_owned()).chain(extra.iter().cloned()).collect()
    };
    let tmp_size = format!("size={}", input.limits.tmp_bytes_max);
    let shm_size = format!("size={DEV_SHM_BYTES_MAX}");
    let dev_size = format!("size={DEV_KIB_MAX}k");
    vec![
        Mount::new("/proc", "proc", "proc", opts(&["nosuid", "noexec", "nodev"], &[])),
        Mount::new("/dev", "tmpfs", "tmpfs", opts(&["nosuid", "strictatime", "mode=755", &dev_size], &[])),
        Mount::new(
            "/dev/pts",
            "devpts",
            "devpts",
            opts(&["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"], &[]),
        ),
        Mount::new("/dev/shm", "tmpfs", "shm", opts(&["nosuid", "noexec", "nodev", "mode=1777", &shm_size], &noswap)),
        Mount::new("/dev/mqueue", "mqueue", "mqueue", opts(&["nosuid", "noexec", "nodev"], &[])),
        Mount::new("/sys", "sysfs", "sysfs", opts(&["nosuid", "noexec", "nodev", "ro"], &[])),
        Mount::new("/tmp", "tmpfs", "tmpfs", opts(&["nosuid", "nodev", "mode=1777", &tmp_size], &noswap)),
        Mount::new(
            INPUT_DIR,
            "bind",
            &input.input_dir.display().to_string(),
            opts(&["bind", "ro", "nosuid", "nodev", "noexec"], &[]),
        ),
        Mount::new(
            OUTPUT_DIR,
            "bind",
            &input.output_dir.display().to_string(),
            opts(&["bind", "rw", "nosuid", "nodev", "noexec"], &[]),
        ),
    ]
}

fn seccomp() -> Seccomp {
    let mut syscalls = vec![
        SyscallRule {
            names: DENIED_SYSCALLS.to_vec(),
            action: "SCMP_ACT_ERRNO",
            errno_ret: ERRNO_EPERM,
            args: Vec::new(),
        },
        SyscallRule { names: vec!["clone3"], action: "SCMP_ACT_ERRNO", errno_ret: ERRNO_ENOSYS, args: Vec::new() },
    ];
    // One rule per flag: the rules of a syscall are OR-ed, the args of a rule AND-ed.
    syscalls.extend(CLONE_NAMESPACE_FLAGS.iter().map(|&flag| SyscallRule {
        names: vec!["clone"],
        action: "SCMP_ACT_ERRNO",
        errno_ret: ERRNO_EPERM,
        args: vec![SyscallArg { index: 0, value: flag, value_two: flag, op: "SCMP_CMP_MASKED_EQ" }],
    }));
    Seccomp { default_action: "SCMP_ACT_ALLOW", syscalls }
}

fn saturating_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// The top of `config.json`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Spec {
    oci_version: &'static str,
    process: Process,
    root: Root,
    hostname: &'static str,
    mounts: Vec<Mount>,
    linux: Linux,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Process {
    terminal: bool,
    user: User,
    args: Vec<String>,
    env: Vec<String>,
    cwd: &'static str,
    capabilities: Capabilities,
    rlimits: Vec<Rlimit>,
    no_new_privileges: bool,
    oom_score_adj: i32,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct User {
    uid: u32,
    gid: u32,
    additional_gids: Vec<u32>,
}

/// Every set empty: the job holds no capability, not even as uid 0 would.
#[derive(Debug, Default, Serialize)]
struct Capabilities {
    bounding: Vec<String>,
    effective: Vec<String>,
    inheritable: Vec<String>,
    permitted: Vec<String>,
    ambient: Vec<String>,
}

#[derive(Debug, Serialize)]
struct Rlimit {
    #[serde(rename = "type")]
    kind: &'static str,
    hard: u64,
    soft: u64,
}

#[derive(Debug, Serialize)]
struct Root {
    path: String,
    readonly: bool,
}

#[derive(Debug, Serialize)]
struct Mount {
    destination: String,
    #[serde(rename = "type")]
    kind: String,
    source: String,
    options: Vec<String>,
}

impl Mount {
    fn new(destination: &str, kind: &str, source: &str, options: Vec<String>) -> Self {
        Self { destination: destination.to_owned(), kind: kind.to_owned(), source: source.to_owned(), options }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Linux {
    namespaces: Vec<Namespace>,
    resources: Resources,
    cgroups_path: String,
    masked_paths: Vec<&'static str>,
    readonly_paths: Vec<&'static str>,
    seccomp: Seccomp,
}

#[derive(Debug, Serialize)]
struct Namespace {
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Debug, Serialize)]
struct Resources {
    devices: Vec<DeviceRule>,
    memory: Memory,
    cpu: Cpu,
    pids: Pids,
}

#[derive(Debug, Serialize)]
struct DeviceRule {
    allow: bool,
    access: &'static str,
}

#[derive(Debug, Serialize)]
struct Memory {
    limit: i64,
    swap: i64,
}

#[derive(Debug, Serialize)]
struct Cpu {
    quota: i64,
    period: u64,
}

#[derive(Debug, Serialize)]
struct Pids {
    limit: i64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Seccomp {
    default_action: &'static str,
    syscalls: Vec<SyscallRule>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SyscallRule {
    names: Vec<&'static str>,
    action: &'static str,
    errno_ret: u32,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    args: Vec<SyscallArg>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SyscallArg {
    index: u32,
    value: u64,
    value_two: u64,
    op: &'static str,
}
