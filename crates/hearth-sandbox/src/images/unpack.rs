//! Applies layer tarballs to a root directory, safely against hostile archives.
//!
//! Every entry is applied by hand (never with a library's `unpack`):
//! - names are relative with no `..` (else refused); the directories leading to an entry
//!   must be real directories inside the root: a path through a symlink is refused, so a
//!   link is never followed while unpacking;
//! - symlinks are created as written and stay inert (absolute targets are normal in
//!   images and resolve inside the container's root at run time);
//! - hard links must name a regular file already unpacked inside the root;
//! - whiteouts (`.wh.<name>`, `.wh..wh..opq`) remove what lower layers put there;
//! - devices and fifos are skipped; ownership is not kept (everything belongs to the
//!   store's user);
//! - at the end every mode loses its write, setuid and setgid bits.
//!
//! Files are created with `O_EXCL`, so an entry can never write through a link left at
//! its own name. The root is a fresh private directory, so nobody else races us in it.

use std::collections::{HashMap, HashSet};
use std::ffi::OsStr;
use std::fs;
use std::io::{self, BufRead, BufReader, Read};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use alloy_primitives::B256;
use flate2::bufread::MultiGzDecoder;

use super::digest::{HashingReader, format_digest};
use super::fsutil::clean_relative;
use super::source::{GZIP_MAGIC, ZSTD_MAGIC};
use super::{ImageError, ImageLimits};

/// Prefix of a whiteout file.
const WHITEOUT_PREFIX: &str = ".wh.";
/// An opaque whiteout: hides everything lower layers put in its directory.
const WHITEOUT_OPAQUE: &str = ".wh..wh..opq";
/// Prefix of aufs bookkeeping entries, which are skipped.
const WHITEOUT_META_PREFIX: &str = ".wh..wh.";
/// Tar overhead allowed per entry on top of file contents (a header, a PAX header and
/// padding), bounding a layer's uncompressed stream.
const TAR_ENTRY_OVERHEAD_BYTES: u64 = 3 * 512;
/// The mode bits an unpacked root keeps: read and execute only.
const READ_ONLY_MODE_MASK: u32 = 0o555;
/// Mode of directories an archive implies but does not list, before the mask.
const IMPLIED_DIR_MODE: u32 = 0o755;

/// Unpacks layers, lowest first, into one root, counting against the limits.
pub(crate) struct Unpacker<'a> {
    root: &'a Path,
    limits: &'a ImageLimits,
    files: u64,
    bytes: u64,
    /// Modes from the archives, applied (read-only) at the end; until then directories
    /// stay writable for us.
    modes: HashMap<PathBuf, u32>,
}

impl<'a> Unpacker<'a> {
    /// An unpacker into `root`, an existing empty directory.
    pub(crate) fn new(root: &'a Path, limits: &'a ImageLimits) -> Self {
        Unpacker { root, limits, files: 0, bytes: 0, modes: HashMap::new() }
    }

    /// Applies one layer blob (plain or gzip tar) and returns the SHA-256 of its
    /// uncompressed stream, its `diff_id`.
    pub(crate) fn apply_layer(&mut self, blob: impl Read, layer: &B256) -> Result<B256, ImageError> {
        let what = format!("layer {}", format_digest(layer));
        let mut buffered = BufReader::new(blob);
        let head = buffered.fill_buf().map_err(ImageError::read(what.as_str()))?;
        let stream: Box<dyn Read> = if head.starts_with(&GZIP_MAGIC) {
            Box::new(MultiGzDecoder::new(buffered))
        } else if head.starts_with(&ZSTD_MAGIC) {
            return Err(ImageError::Unsupported { what: "layer compression", value: format!("zstd ({what})") });
        } else {
            Box::new(buffered)
        };
        let stream_max = self
            .limits
            .unpacked_bytes_max
            .saturating_add(self.limits.file_count_max.saturating_mul(TAR_ENTRY_OVERHEAD_BYTES))
            .saturating_add(2 * TAR_ENTRY_OVERHEAD_BYTES);
        let mut hashing = HashingReader::new(stream, stream_max, "unpacked_bytes_max");
        {
            let mut archive = tar::Archive::new(&mut hashing);
            let mut layer = Layer { what: &what, created: HashSet::new() };
            for entry in archive.entries().map_err(ImageError::read(what.as_str()))? {
                let mut entry = entry.map_err(ImageError::read(what.as_str()))?;
                self.apply_entry(&mut entry, &mut layer)?;
            }
        }
        hashing.drain().map_err(ImageError::read(what.as_str()))?;
        Ok(hashing.finish().0)
    }

    /// Makes the tree read-only with the archives' modes (less write, setuid and setgid)
    /// and returns the bytes of file content unpacked.
    pub(crate) fn finish(self) -> Result<u64, ImageError> {
        self.seal(self.root, Path::new(""))?;
        Ok(self.bytes)
    }

    /// Post-order, so a directory loses its write bit only after its children changed.
    fn seal(&self, path: &Path, rel: &Path) -> Result<(), ImageError> {
        let meta = fs::symlink_metadata(path).map_err(ImageError::io("inspect", path))?;
        let kind = meta.file_type();
        if kind.is_symlink() {
            return Ok(());
        }
        if kind.is_dir() {
            for entry in fs::read_dir(path).map_err(ImageError::io("list", path))? {
                let entry = entry.map_err(ImageError::io("list", path))?;
                self.seal(&entry.path(), &rel.join(entry.file_name()))?;
            }
        }
        let default = if kind.is_dir() { IMPLIED_DIR_MODE } else { 0o644 };
        let mode = self.modes.get(rel).copied().unwrap_or(default) & READ_ONLY_MODE_MASK;
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).map_err(ImageError::io("make read-only", path))
    }

    fn apply_entry<R: Read>(&mut self, entry: &mut tar::Entry<'_, R>, layer: &mut Layer<'_>) -> Result<(), ImageError> {
        let raw = entry.path_bytes().into_owned();
        let shown = String::from_utf8_lossy(&raw).into_owned();
        let mut kind = entry.header().entry_type();
        if kind == tar::EntryType::Regular && raw.ends_with(b"/") {
            // Old tars mark directories by the trailing slash alone.
            kind = tar::EntryType::Directory;
        }
        if matches!(kind, tar::EntryType::XGlobalHeader | tar::EntryType::XHeader) {
            return Ok(());
        }
        self.files += 1;
        if self.files > self.limits.file_count_max {
            return Err(ImageError::LimitExceeded { limit: "file_count_max", max: self.limits.file_count_max });
        }
        if raw.len() as u64 > self.limits.path_bytes_max {
            return Err(ImageError::LimitExceeded { limit: "path_bytes_max", max: self.limits.path_bytes_max });
        }
        let refuse = |problem| ImageError::UnsafePath { archive: layer.what.to_owned(), path: shown.clone(), problem };
        let rel = clean_relative(Path::new(OsStr::from_bytes(&raw))).map_err(refuse)?;
        let Some(name) = rel.file_name().map(|n| n.to_string_lossy().into_owned()) else {
            // The root itself: keep its mode.
            if kind == tar::EntryType::Directory {
                self.modes.insert(PathBuf::new(), mode_of(entry));
            }
            return Ok(());
        };
        let parent = rel.parent().unwrap_or(Path::new("")).to_owned();

        if name.starts_with(WHITEOUT_PREFIX) {
            return self.apply_whiteout(&parent, &name, layer).map_err(|e| e.into_error(refuse));
        }

        self.make_parents(&parent, layer).map_err(|e| e.into_error(refuse))?;
        let dest = self.root.join(&rel);
        match kind {
            tar::EntryType::Directory => {
                match fs::symlink_metadata(&dest) {
                    Ok(meta) if meta.file_type().is_dir() => {}
                    Ok(_) => {
                        remove(&dest)?;
                        create_dir(&dest)?;
                    }
                    Err(_) => create_dir(&dest)?,
                }
                self.modes.insert(rel.clone(), mode_of(entry));
            }
            tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::GNUSparse => {
                let left = self.limits.unpacked_bytes_max - self.bytes;
                if entry.size() > left {
                    return Err(ImageError::LimitExceeded {
                        limit: "unpacked_bytes_max",
                        max: self.limits.unpacked_bytes_max,
                    });
                }
                remove(&dest)?;
                let mut file = fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(&dest)
                    .map_err(ImageError::io("create", &dest))?;
                let copied = io::copy(&mut entry.take(left + 1), &mut file).map_err(ImageError::read(layer.what))?;
                if copied > left {
                    return Err(ImageError::LimitExceeded {
                        limit: "unpacked_bytes_max",
                        max: self.limits.unpacked_bytes_max,
                    });
                }
                self.bytes += copied;
                self.modes.insert(rel.clone(), mode_of(entry));
            }
            tar::EntryType::Symlink => {
                let target = entry.link_name_bytes().map(|t| t.into_owned()).unwrap_or_default();
                if target.is_empty() {
                    return Err(refuse("the symbolic link has no target"));
                }
                if target.len() as u64 > self.limits.path_bytes_max {
                    return Err(ImageError::LimitExceeded { limit: "path_bytes_max", max: self.limits.path_bytes_max });
                }
                remove(&dest)?;
                std::os::unix::fs::symlink(OsStr::from_bytes(&target), &dest)
                    .map_err(ImageError::io("create symbolic link", &dest))?;
            }
            tar::EntryType::Link => {
                let target_raw = entry.link_name_bytes().map(|t| t.into_owned()).unwrap_or_default();
                let target = clean_relative(Path::new(OsStr::from_bytes(&target_raw)))
                    .map_err(|_| refuse("the hard link's target is outside the root"))?;
                if target == rel {
                    return Ok(());
                }
                let target_path = self.existing_inside(&target).map_err(|e| e.into_error(refuse))?;
                let is_file = target_path
                    .as_deref()
                    .and_then(|p| fs::symlink_metadata(p).ok())
                    .is_some_and(|m| m.file_type().is_file());
                let Some(target_path) = target_path.filter(|_| is_file) else {
                    return Err(refuse("the hard link's target is not a file unpacked inside the root"));
                };
                remove(&dest)?;
                fs::hard_link(&target_path, &dest).map_err(ImageError::io("create hard link", &dest))?;
                if let Some(mode) = self.modes.get(&target).copied() {
                    self.modes.insert(rel.clone(), mode);
                }
            }
            // Devices and fifos: an operation has no use for them, and we run as nobody special.
            tar::EntryType::Char | tar::EntryType::Block | tar::EntryType::Fifo => return Ok(()),
            other => {
                return Err(ImageError::Unsupported { what: "tar entry type", value: format!("{other:?} ({shown})") });
            }
        }
        layer.created.insert(rel);
        Ok(())
    }

    /// Removes what a whiteout hides.
    fn apply_whiteout(&self, parent: &Path, name: &str, layer: &Layer<'_>) -> Result<(), Refusal> {
        let Some(dir) = self.existing_inside(parent)? else {
            return Ok(());
        };
        if !fs::symlink_metadata(&dir).is_ok_and(|m| m.file_type().is_dir()) {
            return Err(Refusal::through(&meta_kind(&dir)));
        }
        if name == WHITEOUT_OPAQUE {
            return self.remove_lower(parent, layer).map_err(Refusal::Failed);
        }
        if name.starts_with(WHITEOUT_META_PREFIX) {
            return Ok(());
        }
        let hidden = &name[WHITEOUT_PREFIX.len()..];
        if hidden.is_empty() || hidden == "." || hidden == ".." {
            return Err(Refusal::Unsafe("the whiteout names no file"));
        }
        let hidden_rel = parent.join(hidden);
        // A whiteout hides lower layers only, never an entry of its own layer.
        if layer.created.contains(&hidden_rel) {
            return Ok(());
        }
        remove(&dir.join(hidden)).map_err(Refusal::Failed)
    }

    /// Empties `dir_rel` of everything lower layers put there, keeping this layer's
    /// entries (and descending into this layer's directories).
    fn remove_lower(&self, dir_rel: &Path, layer: &Layer<'_>) -> Result<(), ImageError> {
        let dir = self.root.join(dir_rel);
        for entry in fs::read_dir(&dir).map_err(ImageError::io("list", &dir))? {
            let entry = entry.map_err(ImageError::io("list", &dir))?;
            let child_rel = dir_rel.join(entry.file_name());
            if !layer.created.contains(&child_rel) {
                remove(&entry.path())?;
            } else if entry.file_type().map_err(ImageError::io("inspect", entry.path()))?.is_dir() {
                self.remove_lower(&child_rel, layer)?;
            }
        }
        Ok(())
    }

    /// Creates the directories leading to an entry; one that is a symlink or not a
    /// directory is refused (never followed).
    fn make_parents(&mut self, parent: &Path, layer: &mut Layer<'_>) -> Result<(), Refusal> {
        let mut rel = PathBuf::new();
        for part in parent.iter() {
            rel.push(part);
            let path = self.root.join(&rel);
            match fs::symlink_metadata(&path) {
                Ok(meta) if meta.file_type().is_dir() => {}
                Ok(_) => return Err(Refusal::through(&meta_kind(&path))),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    create_dir(&path).map_err(Refusal::Failed)?;
                    layer.created.insert(rel.clone());
                }
                Err(e) => return Err(Refusal::Failed(ImageError::Io { op: "inspect", path, source: e })),
            }
        }
        Ok(())
    }

    /// `rel` under the root if it exists and every directory on the way is a real
    /// directory; `Ok(None)` if something on the way is missing; refused if the way goes
    /// through a symlink or a file.
    fn existing_inside(&self, rel: &Path) -> Result<Option<PathBuf>, Refusal> {
        let mut path = self.root.to_owned();
        let parts: Vec<&OsStr> = rel.iter().collect();
        for (i, part) in parts.iter().enumerate() {
            path.push(part);
            match fs::symlink_metadata(&path) {
                Ok(meta) if meta.file_type().is_dir() => {}
                Ok(_) if i + 1 == parts.len() => {}
                Ok(_) => return Err(Refusal::through(&meta_kind(&path))),
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(Refusal::Failed(ImageError::Io { op: "inspect", path, source: e })),
            }
        }
        Ok(Some(path))
    }
}

/// Why an entry cannot be applied: it is unsafe (the reason), or the file system failed.
enum Refusal {
    Unsafe(&'static str),
    Failed(ImageError),
}

impl Refusal {
    /// A path leading through something that is not a directory.
    fn through(kind: &Option<fs::FileType>) -> Refusal {
        Refusal::Unsafe(if kind.is_some_and(|k| k.is_symlink()) {
            "the path leads through a symbolic link"
        } else {
            "the path leads through something that is not a directory"
        })
    }

    fn into_error(self, unsafe_path: impl FnOnce(&'static str) -> ImageError) -> ImageError {
        match self {
            Refusal::Unsafe(problem) => unsafe_path(problem),
            Refusal::Failed(error) => error,
        }
    }
}

fn meta_kind(path: &Path) -> Option<fs::FileType> {
    fs::symlink_metadata(path).ok().map(|m| m.file_type())
}

/// Per-layer state: what this layer created, which its own whiteouts must not hide.
struct Layer<'w> {
    what: &'w str,
    created: HashSet<PathBuf>,
}

fn mode_of<R: Read>(entry: &tar::Entry<'_, R>) -> u32 {
    entry.header().mode().unwrap_or(0o644) & 0o7777
}

fn create_dir(path: &Path) -> Result<(), ImageError> {
    fs::DirBuilder::new().mode(IMPLIED_DIR_MODE).create(path).map_err(ImageError::io("create", path))
}

fn remove(path: &Path) -> Result<(), ImageError> {
    super::fsutil::remove_tree(path).map_err(ImageError::io("remove", path))
}
