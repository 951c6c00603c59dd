//! What an import reads from: an OCI layout directory as given, or an image archive
//! (`docker save`, `podman save`, an OCI layout tar; optionally gzipped) unpacked into a
//! private staging directory first.
//!
//! Unpacking the outer archive keeps regular files only; its symlinks and hard links
//! (legacy `docker save` links duplicate `layer.tar` files) are resolved by name inside
//! the archive and become hard links in the staging directory, or are dropped when they
//! lead outside it. Nothing here follows a link on the file system.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs;
use std::io::{self, BufRead, BufReader, Read};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use flate2::bufread::MultiGzDecoder;

use super::digest::HashingReader;
use super::fsutil::{RemoveOnDrop, clean_relative, unique_name};
use super::{ImageError, ImageLimits};

/// The most links resolved one after another in an outer archive.
const LINK_HOPS_MAX: usize = 8;
/// gzip's magic bytes.
pub(crate) const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// zstd's magic bytes.
pub(crate) const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

const OUTER: &str = "the image archive";

/// Files of an image by their path in the archive.
pub(crate) struct Source {
    root: PathBuf,
    /// The staging directory of an unpacked archive, removed with the source.
    _staging: Option<RemoveOnDrop>,
}

impl Source {
    /// Opens `path`: a directory is read in place; a file is unpacked under `tmp_dir`.
    pub(crate) fn open(path: &Path, tmp_dir: &Path, limits: &ImageLimits) -> Result<Source, ImageError> {
        let meta = fs::metadata(path).map_err(ImageError::io("read", path))?;
        if meta.is_dir() {
            return Ok(Source { root: path.to_owned(), _staging: None });
        }
        if meta.len() > limits.archive_bytes_max {
            return Err(ImageError::LimitExceeded { limit: "archive_bytes_max", max: limits.archive_bytes_max });
        }
        let staging = RemoveOnDrop::new(tmp_dir.join(unique_name("import")));
        fs::create_dir(staging.path()).map_err(ImageError::io("create", staging.path()))?;
        let file = fs::File::open(path).map_err(ImageError::io("open", path))?;
        let mut buffered = BufReader::new(file);
        let head = buffered.fill_buf().map_err(ImageError::io("read", path))?;
        let reader: Box<dyn Read> =
            if head.starts_with(&GZIP_MAGIC) { Box::new(MultiGzDecoder::new(buffered)) } else { Box::new(buffered) };
        // The cap applies to the archive as unpacked, so a small gzip bomb is stopped too.
        let mut counted = HashingReader::new(reader, limits.archive_bytes_max, "archive_bytes_max");
        unpack_outer(&mut counted, staging.path(), limits)?;
        Ok(Source { root: staging.path().to_owned(), _staging: Some(staging) })
    }

    /// The file at `rel` (a path as written in the archive; `..` and absolute paths are
    /// refused).
    pub(crate) fn path(&self, rel: &str) -> Result<PathBuf, ImageError> {
        let clean = clean_relative(Path::new(rel)).map_err(|problem| ImageError::UnsafePath {
            archive: OUTER.to_owned(),
            path: rel.to_owned(),
            problem,
        })?;
        Ok(self.root.join(clean))
    }

    /// Whether `rel` names a regular file.
    pub(crate) fn has_file(&self, rel: &str) -> bool {
        self.path(rel).is_ok_and(|p| p.is_file())
    }

    /// The whole of the file at `rel`, which must be at most `max` bytes; `None` when
    /// it does not exist.
    pub(crate) fn read_small(&self, rel: &str, max: u64) -> Result<Option<Vec<u8>>, ImageError> {
        let path = self.path(rel)?;
        let file = match fs::File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(ImageError::Io { op: "open", path, source: e }),
        };
        let mut bytes = Vec::new();
        file.take(max + 1).read_to_end(&mut bytes).map_err(ImageError::io("read", &path))?;
        if bytes.len() as u64 > max {
            return Err(ImageError::LimitExceeded { limit: "JSON_BYTES_MAX", max });
        }
        Ok(Some(bytes))
    }
}

/// A link in the outer archive, resolved once every file is out.
struct Link {
    /// Where the link is.
    path: PathBuf,
    /// What it names, relative to the archive root.
    target: PathBuf,
}

fn unpack_outer(reader: &mut impl Read, staging: &Path, limits: &ImageLimits) -> Result<(), ImageError> {
    let mut archive = tar::Archive::new(reader);
    let mut links = Vec::new();
    let mut entries_seen = 0u64;
    for entry in archive.entries().map_err(ImageError::read(OUTER))? {
        let mut entry = entry.map_err(ImageError::read(OUTER))?;
        entries_seen += 1;
        if entries_seen > limits.file_count_max {
            return Err(ImageError::LimitExceeded { limit: "file_count_max", max: limits.file_count_max });
        }
        let raw = entry.path_bytes().into_owned();
        let shown = String::from_utf8_lossy(&raw).into_owned();
        if raw.len() as u64 > limits.path_bytes_max {
            return Err(ImageError::LimitExceeded { limit: "path_bytes_max", max: limits.path_bytes_max });
        }
        let unsafe_path = |problem| ImageError::UnsafePath { archive: OUTER.to_owned(), path: shown.clone(), problem };
        let rel = clean_relative(Path::new(OsStr::from_bytes(&raw))).map_err(unsafe_path)?;
        let kind = entry.header().entry_type();
        if rel.as_os_str().is_empty() {
            continue;
        }
        let dest = staging.join(&rel);
        match kind {
            tar::EntryType::Directory => {
                fs::create_dir_all(&dest).map_err(ImageError::io("create", &dest))?;
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                if let Some(parent) = dest.parent() {
                    fs::create_dir_all(parent).map_err(ImageError::io("create", parent))?;
                }
                if fs::symlink_metadata(&dest).is_ok() {
                    // A later entry of the same name replaces an earlier one, as tar does.
                    fs::remove_file(&dest).map_err(ImageError::io("replace", &dest))?;
                }
                let mut file = fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(&dest)
                    .map_err(ImageError::io("create", &dest))?;
                io::copy(&mut entry, &mut file).map_err(ImageError::read(OUTER))?;
            }
            tar::EntryType::Symlink | tar::EntryType::Link => {
                let target_raw = entry.link_name_bytes().map(|t| t.into_owned()).unwrap_or_default();
                let target = Path::new(OsStr::from_bytes(&target_raw));
                let resolved = if kind == tar::EntryType::Symlink {
                    // Relative to the link's directory; one that climbs out is dropped.
                    resolve_lexically(rel.parent().unwrap_or(Path::new("")), target)
                } else {
                    clean_relative(target).ok()
                };
                if let Some(target) = resolved {
                    links.push(Link { path: rel, target });
                }
            }
            // Devices, fifos and the like have no place in an image archive; skip them.
            _ => {}
        }
    }
    resolve_links(staging, &links)
}

/// `base/target` with `.` and `..` applied by name; `None` if it leaves the root or is
/// absolute.
fn resolve_lexically(base: &Path, target: &Path) -> Option<PathBuf> {
    if target.is_absolute() {
        return None;
    }
    let mut parts: Vec<&OsStr> = base.iter().collect();
    for component in target.components() {
        match component {
            std::path::Component::Normal(part) => parts.push(part),
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                parts.pop()?;
            }
            _ => return None,
        }
    }
    Some(parts.iter().collect())
}

/// Makes each link a hard link to the regular file it leads to, if any.
fn resolve_links(staging: &Path, links: &[Link]) -> Result<(), ImageError> {
    let by_path: BTreeMap<&Path, &Path> = links.iter().map(|l| (l.path.as_path(), l.target.as_path())).collect();
    for link in links {
        let mut target = link.target.as_path();
        let mut hops = 0;
        while let Some(next) = by_path.get(target) {
            hops += 1;
            if hops > LINK_HOPS_MAX {
                break;
            }
            target = next;
        }
        let source = staging.join(target);
        let dest = staging.join(&link.path);
        let is_file = fs::symlink_metadata(&source).is_ok_and(|m| m.file_type().is_file());
        if !is_file || fs::symlink_metadata(&dest).is_ok() {
            continue;
        }
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent).map_err(ImageError::io("create", parent))?;
        }
        fs::hard_link(&source, &dest).map_err(ImageError::io("link", &dest))?;
    }
    Ok(())
}
