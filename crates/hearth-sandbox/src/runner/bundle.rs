//! A job's OCI bundle on the host, held entirely in memory: a tmpfs on
//! `<work_dir>/<id>` holding `config.json` and an overlay over the image (so the
//! image is never written), a tmpfs with the inputs (read-only once filled) and a
//! size-capped tmpfs for the outputs. Removing the bundle unmounts all of it.
//!
//! Blocking file-system code: the runner calls it on a blocking thread.

use std::fs::{self, DirBuilder, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use nix::fcntl::OFlag;
use nix::mount::{MntFlags, MsFlags, mount, umount2};

use super::config::{JOB_GID, JOB_UID};
use super::{Plaintext, RunnerError};

/// The bundle tmpfs (`config.json`, the pid file, the overlay's upper and work
/// directories, which only ever hold mount points), in bytes.
const BUNDLE_BYTES_MAX: u64 = 8 * 1024 * 1024;
/// tmpfs sizes are rounded up to this, in bytes: at least the largest page size
/// (64 KiB on some arm64 kernels), since tmpfs counts whole pages per file.
const TMPFS_GRANULE_BYTES: u64 = 64 * 1024;
/// Inodes of the input tmpfs beyond one per file: the root directory, `params.json`,
/// and slack.
const INPUT_INODES_EXTRA: u64 = 8;
/// Files and directories the job may create under `/output` (tmpfs `nr_inodes`).
pub(crate) const OUTPUT_FILES_MAX: u64 = 1024;
/// Directory depth the runner reads under `/output`; deeper entries are ignored.
const OUTPUT_DEPTH_MAX: usize = 16;
/// The job's structured result, read from `/output`.
pub(crate) const RESULT_FILE: &str = "result.json";
/// The job's parameters, written into `/input`.
pub(crate) const PARAMS_FILE: &str = "params.json";

/// Mounts stacked on one leftover bundle directory that recovery unmounts.
const LEFTOVER_MOUNTS_MAX: usize = 8;
/// Mode of directories the runner creates in the bundle (root only).
const BUNDLE_DIR_MODE: u32 = 0o700;
/// Mode of the overlay's upper directory, which becomes the container's `/`.
const ROOT_DIR_MODE: u32 = 0o755;
/// Mode of input files: readable by the job's user, writable by no one.
const INPUT_FILE_MODE: u32 = 0o444;

/// What the job left in `/output`.
#[derive(Debug, Default)]
pub(crate) struct Outputs {
    /// The tmpfs filled up, or the files add up to more than the limit.
    pub too_large: bool,
    /// `/output/result.json`.
    pub result_json: Option<Vec<u8>>,
    /// Every other regular file, by path relative to `/output`, sorted.
    pub files: Vec<(String, Vec<u8>)>,
}

/// One job's bundle directory and the mounts in it, unmounted by [`Bundle::remove`].
#[derive(Debug)]
pub(crate) struct Bundle {
    dir: PathBuf,
    /// Mount points, in the order they were mounted.
    mounts: Vec<PathBuf>,
    /// Whether `dir` was created (and so is ours to remove).
    created: bool,
}

impl Bundle {
    /// A bundle for `id` under `work_dir`; nothing is created yet.
    pub(crate) fn new(work_dir: &Path, id: &str) -> Self {
        Self::at(work_dir.join(id))
    }

    /// A bundle at `dir`; nothing is created yet.
    pub(crate) fn at(dir: PathBuf) -> Self {
        Self { dir, mounts: Vec::new(), created: false }
    }

    /// The bundle directory (`runc --bundle`).
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// The container's root: the overlay over the image.
    pub(crate) fn rootfs(&self) -> PathBuf {
        self.dir.join("rootfs")
    }

    /// The host side of `/input`.
    pub(crate) fn input_dir(&self) -> PathBuf {
        self.dir.join("input")
    }

    /// The host side of `/output`.
    pub(crate) fn output_dir(&self) -> PathBuf {
        self.dir.join("output")
    }

    /// Where the runtime writes the container's pid once it has started.
    pub(crate) fn pid_file(&self) -> PathBuf {
        self.dir.join("container.pid")
    }

    /// Creates the directory (failing if the id is taken) and mounts the bundle tmpfs.
    pub(crate) fn create(&mut self, noswap: bool) -> Result<(), RunnerError> {
        match DirBuilder::new().mode(BUNDLE_DIR_MODE).create(&self.dir) {
            Ok(()) => self.created = true,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let id = self.dir.file_name().map(|n| n.to_string_lossy().into_owned());
                return Err(RunnerError::JobExists { id: id.unwrap_or_default() });
            }
            Err(e) => return Err(RunnerError::io(format!("create {}", self.dir.display()), e)),
        }
        let data = tmpfs_data(BUNDLE_BYTES_MAX, None, BUNDLE_DIR_MODE, None, noswap);
        self.mount_tmpfs(&self.dir.clone(), &data)
    }

    /// Mounts an overlay with the image as its only lower layer on `rootfs`, so the
    /// runtime's mount points land in the bundle tmpfs and the image is never written.
    pub(crate) fn mount_rootfs(&mut self, image: &Path) -> Result<(), RunnerError> {
        let (upper, work, rootfs) = (self.dir.join("upper"), self.dir.join("work"), self.rootfs());
        make_dir(&upper, ROOT_DIR_MODE)?;
        make_dir(&work, BUNDLE_DIR_MODE)?;
        make_dir(&rootfs, ROOT_DIR_MODE)?;
        let data = format!("lowerdir={},upperdir={},workdir={}", image.display(), upper.display(), work.display());
        mount(Some("overlay"), &rootfs, Some("overlay"), MsFlags::empty(), Some(data.as_str()))
            .map_err(|e| RunnerError::io(format!("mount overlay on {}", rootfs.display()), e))?;
        self.mounts.push(rootfs);
        Ok(())
    }

    /// Mounts the input tmpfs, writes the inputs and `params.json` into it, and
    /// remounts it read-only.
    pub(crate) fn fill_inputs(&mut self, plaintext: &Plaintext, noswap: bool) -> Result<(), RunnerError> {
        let Plaintext { inputs, params_json } = plaintext;
        let dir = self.input_dir();
        make_dir(&dir, BUNDLE_DIR_MODE)?;
        let bytes: u64 = inputs
            .iter()
            .map(|(_, data)| data.len())
            .chain([params_json.len()])
            .map(|len| round_up(len as u64).max(TMPFS_GRANULE_BYTES))
            .sum();
        let inodes = inputs.len() as u64 + INPUT_INODES_EXTRA;
        let data = tmpfs_data(bytes + TMPFS_GRANULE_BYTES, Some(inodes), ROOT_DIR_MODE, None, noswap);
        self.mount_tmpfs(&dir, &data)?;
        inputs
            .iter()
            .map(|(name, data)| (name.as_str(), data.as_slice()))
            .chain([(PARAMS_FILE, params_json.as_slice())])
            .try_for_each(|(name, data)| write_input(&dir.join(name), data))?;
        let flags = MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY | tmpfs_flags();
        mount(None::<&str>, &dir, None::<&str>, flags, None::<&str>)
            .map_err(|e| RunnerError::io(format!("remount {} read-only", dir.display()), e))
    }

    /// Mounts the output tmpfs: `output_bytes_max` plus one granule, so a full file
    /// system means the job tried to write more than the limit.
    pub(crate) fn mount_output(&mut self, output_bytes_max: u64, noswap: bool) -> Result<(), RunnerError> {
        let dir = self.output_dir();
        make_dir(&dir, BUNDLE_DIR_MODE)?;
        let bytes = round_up(output_bytes_max) + TMPFS_GRANULE_BYTES;
        let data = tmpfs_data(bytes, Some(OUTPUT_FILES_MAX), ROOT_DIR_MODE, Some((JOB_UID, JOB_GID)), noswap);
        self.mount_tmpfs(&dir, &data)
    }

    /// Writes `config.json`.
    pub(crate) fn write_config(&self, config: &[u8]) -> Result<(), RunnerError> {
        let path = self.dir.join("config.json");
        fs::write(&path, config).map_err(|e| RunnerError::io(format!("write {}", path.display()), e))
    }

    /// Whether the runtime wrote the container's pid (so the container started).
    pub(crate) fn started(&self) -> bool {
        self.pid_file().exists()
    }

    /// Reads `/output` after every process of the job has exited. Only regular files
    /// are read (never through a symlink); nothing is read once the limit is passed.
    pub(crate) fn collect_outputs(&self, output_bytes_max: u64) -> Result<Outputs, RunnerError> {
        let dir = self.output_dir();
        let stats =
            nix::sys::statvfs::statvfs(&dir).map_err(|e| RunnerError::io(format!("statvfs {}", dir.display()), e))?;
        let mut outputs =
            Outputs { too_large: stats.blocks_available() == 0 || stats.files_available() == 0, ..Outputs::default() };
        if outputs.too_large {
            return Ok(outputs);
        }
        let mut budget = output_bytes_max;
        let mut files = Vec::new();
        collect_dir(&dir, "", 0, &mut budget, &mut files, &mut outputs.too_large)?;
        if outputs.too_large {
            return Ok(Outputs { too_large: true, ..Outputs::default() });
        }
        files.sort_by(|a, b| a.0.cmp(&b.0));
        if let Some(at) = files.iter().position(|(name, _)| name == RESULT_FILE) {
            outputs.result_json = Some(files.remove(at).1);
        }
        outputs.files = files;
        Ok(outputs)
    }

    /// Unmounts everything (innermost first, lazily so a busy mount cannot block) and
    /// removes the directory. Collects every failure; safe to call twice.
    pub(crate) fn remove(&mut self) -> Result<(), String> {
        let mut failures = Vec::new();
        while let Some(target) = self.mounts.pop() {
            if let Err(e) = umount2(&target, MntFlags::MNT_DETACH) {
                failures.push(format!("umount {}: {e}", target.display()));
            }
        }
        if self.created {
            match fs::remove_dir(&self.dir) {
                Ok(()) => self.created = false,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => self.created = false,
                Err(e) => failures.push(format!("remove {}: {e}", self.dir.display())),
            }
        }
        if failures.is_empty() { Ok(()) } else { Err(failures.join("; ")) }
    }

    fn mount_tmpfs(&mut self, target: &Path, data: &str) -> Result<(), RunnerError> {
        mount(Some("tmpfs"), target, Some("tmpfs"), tmpfs_flags(), Some(data))
            .map_err(|e| RunnerError::io(format!("mount tmpfs on {} ({data})", target.display()), e))?;
        self.mounts.push(target.to_owned());
        Ok(())
    }
}

/// Unmounts everything stacked on a bundle directory left by a runner that stopped
/// abruptly, then removes it. A directory that is not there is fine.
pub(crate) fn remove_leftover(dir: &Path) -> Result<(), String> {
    for _ in 0..LEFTOVER_MOUNTS_MAX {
        match umount2(dir, MntFlags::MNT_DETACH) {
            // A lazy unmount takes the mounts below it along; look for one more.
            Ok(()) => continue,
            // Not a mount point (any more).
            Err(nix::errno::Errno::EINVAL) => break,
            Err(nix::errno::Errno::ENOENT) => return Ok(()),
            Err(e) => return Err(format!("umount {}: {e}", dir.display())),
        }
    }
    match fs::remove_dir(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!("remove {}: {e}", dir.display())),
    }
}

/// Whether tmpfs accepts `noswap` (Linux 6.4+): mounts a tiny one on `scratch` (an
/// empty directory) and unmounts it.
pub(crate) fn tmpfs_supports_noswap(scratch: &Path) -> Result<bool, RunnerError> {
    let data = tmpfs_data(TMPFS_GRANULE_BYTES, Some(INPUT_INODES_EXTRA), BUNDLE_DIR_MODE, None, true);
    match mount(Some("tmpfs"), scratch, Some("tmpfs"), tmpfs_flags(), Some(data.as_str())) {
        Ok(()) => {
            umount2(scratch, MntFlags::MNT_DETACH)
                .map_err(|e| RunnerError::io(format!("umount {}", scratch.display()), e))?;
            Ok(true)
        }
        Err(nix::errno::Errno::EINVAL) => Ok(false),
        Err(e) => Err(RunnerError::io(format!("mount tmpfs on {}", scratch.display()), e)),
    }
}

fn collect_dir(
    dir: &Path,
    prefix: &str,
    depth: usize,
    budget: &mut u64,
    files: &mut Vec<(String, Vec<u8>)>,
    too_large: &mut bool,
) -> Result<(), RunnerError> {
    let entries = fs::read_dir(dir).map_err(|e| RunnerError::io(format!("read {}", dir.display()), e))?;
    for entry in entries {
        let entry = entry.map_err(|e| RunnerError::io(format!("read {}", dir.display()), e))?;
        let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
        let path = entry.path();
        let meta = fs::symlink_metadata(&path).map_err(|e| RunnerError::io(format!("stat {}", path.display()), e))?;
        if meta.is_dir() && depth + 1 < OUTPUT_DEPTH_MAX {
            collect_dir(&path, &format!("{name}/"), depth + 1, budget, files, too_large)?;
        } else if meta.is_file() {
            if meta.len() > *budget {
                *too_large = true;
                return Ok(());
            }
            let data = read_regular(&path, *budget)?;
            *budget -= data.len() as u64;
            files.push((name, data));
        }
        if *too_large {
            return Ok(());
        }
    }
    Ok(())
}

/// Reads at most `limit` bytes of a regular file, refusing to follow a symlink.
fn read_regular(path: &Path, limit: u64) -> Result<Vec<u8>, RunnerError> {
    let what = || format!("read {}", path.display());
    let file = OpenOptions::new()
        .read(true)
        .custom_flags((OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK).bits())
        .open(path)
        .map_err(|e| RunnerError::io(what(), e))?;
    let mut data = Vec::new();
    file.take(limit).read_to_end(&mut data).map_err(|e| RunnerError::io(what(), e))?;
    Ok(data)
}

fn write_input(path: &Path, data: &[u8]) -> Result<(), RunnerError> {
    let what = || format!("write {}", path.display());
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(INPUT_FILE_MODE)
        .custom_flags(OFlag::O_NOFOLLOW.bits())
        .open(path)
        .map_err(|e| RunnerError::io(what(), e))?;
    file.write_all(data).map_err(|e| RunnerError::io(what(), e))
}

fn make_dir(path: &Path, mode: u32) -> Result<(), RunnerError> {
    DirBuilder::new().mode(mode).create(path).map_err(|e| RunnerError::io(format!("create {}", path.display()), e))
}

fn tmpfs_flags() -> MsFlags {
    MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC
}

fn tmpfs_data(bytes: u64, inodes: Option<u64>, mode: u32, owner: Option<(u32, u32)>, noswap: bool) -> String {
    let mut data = format!("size={},mode={mode:o}", round_up(bytes).max(TMPFS_GRANULE_BYTES));
    if let Some(inodes) = inodes {
        data.push_str(&format!(",nr_inodes={inodes}"));
    }
    if let Some((uid, gid)) = owner {
        data.push_str(&format!(",uid={uid},gid={gid}"));
    }
    if noswap {
        data.push_str(",noswap");
    }
    data
}

fn round_up(bytes: u64) -> u64 {
    bytes.div_ceil(TMPFS_GRANULE_BYTES).saturating_mul(TMPFS_GRANULE_BYTES)
}
