//! Where a job's memory cgroup lives on this host (cgroup v1 or v2), and how many
//! processes the OOM killer ended in it.
//!
//! The job's config names a relative cgroup path; runc (with its cgroupfs driver)
//! places it under the runner's own cgroup on v1 (per controller) and under the
//! parent of the runner's cgroup on v2. Another runtime may place it elsewhere: then
//! the directory is not found and the runner falls back to the exit signal.

use std::fs;
use std::path::{Path, PathBuf};

use super::RunnerError;

/// Where the cgroup file systems are mounted on every distribution we target.
const CGROUP_ROOT: &str = "/sys/fs/cgroup";

/// The host's cgroup layout, read once when the runner starts.
#[derive(Debug, Clone)]
pub(crate) enum CgroupLayout {
    /// cgroup v1: jobs' memory cgroups are children of this directory.
    V1 {
        /// The runner's own memory cgroup directory.
        memory_parent: PathBuf,
    },
    /// cgroup v2 (unified): jobs' cgroups are children of this directory.
    V2 {
        /// The parent of the runner's own cgroup directory.
        parent: PathBuf,
    },
}

impl CgroupLayout {
    /// Reads `/proc/self/cgroup` and `/proc/self/mountinfo`.
    pub(crate) fn detect() -> Result<Self, RunnerError> {
        let unified = Path::new(CGROUP_ROOT).join("cgroup.controllers").exists();
        let mountinfo = if unified { String::new() } else { read("/proc/self/mountinfo")? };
        Self::parse(&read("/proc/self/cgroup")?, &mountinfo, unified)
    }

    /// The layout from the texts of `/proc/self/cgroup` and `/proc/self/mountinfo`,
    /// and whether `/sys/fs/cgroup` is the unified (v2) hierarchy.
    fn parse(own: &str, mountinfo: &str, unified: bool) -> Result<Self, RunnerError> {
        if unified {
            let path = own
                .lines()
                .find_map(|line| line.strip_prefix("0::"))
                .ok_or_else(|| cgroups_error("no `0::` line in /proc/self/cgroup"))?;
            let parent = Path::new(path).parent().unwrap_or(Path::new("/"));
            return Ok(Self::V2 { parent: join_cgroup(Path::new(CGROUP_ROOT), parent) });
        }
        let path = own
            .lines()
            .find_map(|line| {
                let mut fields = line.splitn(3, ':');
                let (_, controllers, path) = (fields.next()?, fields.next()?, fields.next()?);
                controllers.split(',').any(|c| c == "memory").then_some(path)
            })
            .ok_or_else(|| cgroups_error("no memory controller in /proc/self/cgroup"))?;
        let (mount_point, mount_root) = memory_mount(mountinfo)
            .ok_or_else(|| cgroups_error("no cgroup v1 memory hierarchy in /proc/self/mountinfo"))?;
        let relative = Path::new(path).strip_prefix(&mount_root).unwrap_or(Path::new(path));
        Ok(Self::V1 { memory_parent: join_cgroup(&mount_point, relative) })
    }

    /// The memory cgroup directory of a job whose config says `cgroups_path`.
    pub(crate) fn memory_dir(&self, cgroups_path: &str) -> PathBuf {
        match self {
            Self::V1 { memory_parent } => memory_parent.join(cgroups_path),
            Self::V2 { parent } => parent.join(cgroups_path),
        }
    }

    /// How many processes the OOM killer ended in the cgroup at `dir`; `None` when
    /// the directory or the counter is not there.
    pub(crate) fn oom_kills(&self, dir: &Path) -> Option<u64> {
        let (file, key) = match self {
            // `oom_kill` in memory.oom_control since Linux 4.13.
            Self::V1 { .. } => ("memory.oom_control", "oom_kill"),
            Self::V2 { .. } => ("memory.events", "oom_kill"),
        };
        let text = fs::read_to_string(dir.join(file)).ok()?;
        text.lines().find_map(|line| {
            let (name, value) = line.split_once(' ')?;
            (name == key).then(|| value.trim().parse().ok()).flatten()
        })
    }

    /// `"v1"` or `"v2"`.
    pub(crate) fn version(&self) -> &'static str {
        match self {
            Self::V1 { .. } => "v1",
            Self::V2 { .. } => "v2",
        }
    }
}

/// The mount point and mount root of the cgroup v1 hierarchy holding `memory`.
fn memory_mount(mountinfo: &str) -> Option<(PathBuf, PathBuf)> {
    mountinfo.lines().find_map(|line| {
        let (left, right) = line.split_once(" - ")?;
        let mut right = right.split(' ');
        let (fstype, _source, options) = (right.next()?, right.next()?, right.next()?);
        if fstype != "cgroup" || !options.split(',').any(|o| o == "memory") {
            return None;
        }
        let fields: Vec<&str> = left.split(' ').collect();
        let root = unescape(fields.get(3)?);
        let mount_point = unescape(fields.get(4)?);
        Some((PathBuf::from(mount_point), PathBuf::from(root)))
    })
}

/// Undoes mountinfo's octal escapes (`\040` for a space).
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .and_then(|d| std::str::from_utf8(d).ok().and_then(|d| u8::from_str_radix(d, 8).ok()));
        match (bytes[i], octal) {
            (b'\\', Some(byte)) => {
                out.push(byte);
                i += 4;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `base` joined with a cgroup path that starts with `/`.
fn join_cgroup(base: &Path, cgroup: &Path) -> PathBuf {
    base.join(cgroup.strip_prefix("/").unwrap_or(cgroup))
}

fn read(path: &str) -> Result<String, RunnerError> {
    fs::read_to_string(path).map_err(|e| cgroups_error(format!("{path}: {e}")))
}

fn cgroups_error(detail: impl Into<String>) -> RunnerError {
    RunnerError::Cgroups { detail: detail.into() }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTINFO_V1: &str = "\
31 27 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
";

    #[test]
    fn v1_nests_under_the_runners_memory_cgroup() {
        let own = "8:pids:/\n4:memory:/process_api/abc\n0::/\n";
        let layout = CgroupLayout::parse(own, MOUNTINFO_V1, false).unwrap();
        assert_eq!(layout.memory_dir("hearth-x"), Path::new("/sys/fs/cgroup/memory/process_api/abc/hearth-x"));
        assert_eq!(layout.version(), "v1");
    }

    #[test]
    fn v1_memory_hierarchy_mounted_with_a_root_and_escapes() {
        let mountinfo = "40 31 0:32 /outer /sys/fs/cgroup/cpu\\040mem rw - cgroup cgroup rw,cpu,memory\n";
        let own = "3:cpu,memory:/outer/job\n";
        let layout = CgroupLayout::parse(own, mountinfo, false).unwrap();
        assert_eq!(layout.memory_dir("hearth-x"), Path::new("/sys/fs/cgroup/cpu mem/job/hearth-x"));
    }

    #[test]
    fn v2_uses_the_parent_of_the_runners_cgroup_like_runc() {
        let layout = CgroupLayout::parse("0::/system.slice/hearth.service\n", "", true).unwrap();
        assert_eq!(layout.memory_dir("hearth-x"), Path::new("/sys/fs/cgroup/system.slice/hearth-x"));
        let root = CgroupLayout::parse("0::/\n", "", true).unwrap();
        assert_eq!(root.memory_dir("hearth-x"), Path::new("/sys/fs/cgroup/hearth-x"));
    }

    #[test]
    fn missing_controllers_are_errors() {
        assert!(CgroupLayout::parse("1:cpu:/\n", MOUNTINFO_V1, false).is_err());
        assert!(CgroupLayout::parse("4:memory:/\n", "", false).is_err());
        assert!(CgroupLayout::parse("4:memory:/\n", "", true).is_err());
    }

    #[test]
    fn oom_kills_are_read_from_either_version() {
        let dir = tempfile::tempdir().unwrap();
        let v1 = CgroupLayout::V1 { memory_parent: dir.path().to_owned() };
        let v2 = CgroupLayout::V2 { parent: dir.path().to_owned() };
        assert_eq!(v1.oom_kills(dir.path()), None);
        std::fs::write(dir.path().join("memory.oom_control"), "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n").unwrap();
        std::fs::write(dir.path().join("memory.events"), "low 0\nhigh 0\nmax 5\noom 1\noom_kill 1\n").unwrap();
        assert_eq!(v1.oom_kills(dir.path()), Some(2));
        assert_eq!(v2.oom_kills(dir.path()), Some(1));
    }
}
