//! File system helpers: archive path checks, atomic writes, and removing read-only trees.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::ImageError;

/// A relative path with only normal components, from an archive entry name: `./` and
/// `.` components are dropped; absolute paths and `..` are refused (the reason is the
/// error). The empty result means the root itself.
pub(crate) fn clean_relative(path: &Path) -> Result<PathBuf, &'static str> {
    let mut clean = PathBuf::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => clean.push(part),
            Component::CurDir => {}
            Component::ParentDir => return Err("the path contains `..`"),
            Component::RootDir | Component::Prefix(_) => return Err("the path is absolute"),
        }
    }
    Ok(clean)
}

/// A name unique within this process (the store's lock keeps other processes out of
/// the directories these names are used in).
pub(crate) fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    format!("{prefix}-{}-{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// Writes `bytes` to `path` through a temporary file in the same directory, synced,
/// renamed into place, and the directory synced: readers see the old file or the new.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<(), ImageError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(unique_name(".write"));
    let guard = RemoveOnDrop::new(tmp.clone());
    let mut file = fs::File::create(&tmp).map_err(ImageError::io("create", &tmp))?;
    file.write_all(bytes).map_err(ImageError::io("write", &tmp))?;
    file.set_permissions(fs::Permissions::from_mode(mode)).map_err(ImageError::io("set permissions of", &tmp))?;
    file.sync_all().map_err(ImageError::io("sync", &tmp))?;
    fs::rename(&tmp, path).map_err(ImageError::io("rename into place", path))?;
    guard.disarm();
    sync_dir(dir)
}

/// Makes a directory's entries durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), ImageError> {
    fs::File::open(dir).and_then(|d| d.sync_all()).map_err(ImageError::io("sync directory", dir))
}

/// Removes a file, a symlink or a whole directory tree, without following symlinks,
/// first giving the owner write and search permission on every directory so read-only
/// trees (unpacked roots) can go too. A missing path is not an error.
pub(crate) fn remove_tree(path: &Path) -> io::Result<()> {
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    if !meta.file_type().is_dir() {
        return fs::remove_file(path);
    }
    make_dirs_writable(path)?;
    fs::remove_dir_all(path)
}

fn make_dirs_writable(dir: &Path) -> io::Result<()> {
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            make_dirs_writable(&entry.path())?;
        }
    }
    Ok(())
}

/// Removes a path (with [`remove_tree`]) when dropped, unless disarmed: staging files
/// and directories never outlive a failed step.
pub(crate) struct RemoveOnDrop {
    path: Option<PathBuf>,
}

impl RemoveOnDrop {
    pub(crate) fn new(path: PathBuf) -> Self {
        RemoveOnDrop { path: Some(path) }
    }

    /// The path guarded.
    pub(crate) fn path(&self) -> &Path {
        self.path.as_deref().unwrap_or(Path::new(""))
    }

    /// Keeps the path.
    pub(crate) fn disarm(mut self) {
        self.path = None;
    }
}

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if let Some(path) = self.path.take() {
            // Best effort: what is left is removed by the next `ImageStore::open`.
            let _ = remove_tree(&path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_paths_stay_relative() {
        assert_eq!(clean_relative(Path::new("./a/./b/")), Ok(PathBuf::from("a/b")));
        assert_eq!(clean_relative(Path::new(".")), Ok(PathBuf::new()));
        assert!(clean_relative(Path::new("a/../../b")).is_err());
        assert!(clean_relative(Path::new("/etc/passwd")).is_err());
    }
}
