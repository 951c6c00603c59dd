//! Blob keys and the two backends: a local directory (`<data_dir>/blobs`) or an S3
//! bucket, and the sweep that removes what a crash left in a local directory.
//!
//! A key is `<2 hex>/<32 hex>` (random, the first two digits again as a shard directory).
//! Recovery only ever deletes objects whose names have exactly this shape.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use object_store::ObjectStore;
use object_store::local::LocalFileSystem;

use crate::config::BlobConfig;
use crate::error::{Result, StoreError};
use crate::s3;

/// The local backend's directory inside the data directory.
pub const BLOBS_DIR: &str = "blobs";
/// Size of each part of a multipart upload (S3 wants at least 5 MiB for all but the last).
pub const PART_BYTES: usize = 8 << 20;
/// Most parts uploaded at once while staging; with [`PART_BYTES`] this bounds staging memory.
pub const UPLOAD_PARTS_IN_FLIGHT_MAX: usize = 2;
/// Hex digits in a blob key's file name (128 random bits).
const KEY_HEX_CHARS: usize = 32;

/// A fresh random blob key.
pub(crate) fn new_key() -> Result<String> {
    let mut bytes = [0u8; KEY_HEX_CHARS / 2];
    getrandom::fill(&mut bytes).map_err(|e| StoreError::Io {
        op: "draw a random blob key from",
        path: "the OS".into(),
        source: e.into(),
    })?;
    let hex = alloy_primitives::hex::encode(bytes);
    Ok(format!("{}/{hex}", &hex[..2]))
}

/// Whether `name` has the shape of a blob key.
pub(crate) fn is_key(name: &str) -> bool {
    let Some((shard, file)) = name.split_once('/') else { return false };
    shard.len() == 2
        && file.len() == KEY_HEX_CHARS
        && file.starts_with(shard)
        && file.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Whether `name` is a temporary file `object_store`'s local multipart upload writes
/// (`<key>#<n>`) before renaming it into place.
fn is_partial(name: &str) -> bool {
    name.rsplit_once('#').is_some_and(|(key, n)| is_key(key) && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Where blobs live.
#[derive(Debug)]
pub(crate) enum Backend {
    /// A directory on this machine.
    Local { root: PathBuf, store: Arc<LocalFileSystem> },
    /// An S3 bucket.
    S3(Box<s3::Bucket>),
}

impl Backend {
    /// Opens the backend `config` names, creating `<data_dir>/blobs` for the local one.
    pub(crate) fn open(config: &BlobConfig, data_dir: &Path) -> Result<Backend> {
        match config {
            BlobConfig::Local => {
                let root = data_dir.join(BLOBS_DIR);
                fs::create_dir_all(&root).map_err(StoreError::io("create", &root))?;
                let store = LocalFileSystem::new_with_prefix(&root)
                    .map_err(|e| StoreError::blob("open", &root.display().to_string(), &e))?
                    // Blobs are durable before the row that makes them visible is committed.
                    .with_fsync(true);
                Ok(Backend::Local { root, store: Arc::new(store) })
            }
            BlobConfig::S3(s3) => Ok(Backend::S3(Box::new(s3::open(s3)?))),
        }
    }

    /// The object store.
    pub(crate) fn store(&self) -> Arc<dyn ObjectStore> {
        match self {
            Backend::Local { store, .. } => store.clone(),
            Backend::S3(bucket) => bucket.store.clone(),
        }
    }
}

/// What a local sweep removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Swept {
    pub(crate) blobs: u64,
    pub(crate) partials: u64,
}

/// Walks the local blob directory and removes temporary upload files and every blob
/// `committed` says has no row. Blocking.
pub(crate) fn sweep_local(root: &Path, mut committed: impl FnMut(&str) -> Result<bool>) -> Result<Swept> {
    let mut swept = Swept::default();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir).map_err(StoreError::io("list", &dir))? {
            let entry = entry.map_err(StoreError::io("list", &dir))?;
            let path = entry.path();
            let kind = entry.file_type().map_err(StoreError::io("inspect", &path))?;
            if kind.is_dir() {
                dirs.push(path);
                continue;
            }
            // Names that are not UTF-8 are not ours.
            let Some(name) = relative_name(root, &path) else { continue };
            if is_partial(&name) {
                fs::remove_file(&path).map_err(StoreError::io("remove", &path))?;
                swept.partials += 1;
            } else if is_key(&name) && !committed(&name)? {
                fs::remove_file(&path).map_err(StoreError::io("remove", &path))?;
                swept.blobs += 1;
            }
        }
    }
    Ok(swept)
}

/// `path` below `root` as a `/`-separated key, if it is UTF-8.
fn relative_name(root: &Path, path: &Path) -> Option<String> {
    let parts: Option<Vec<&str>> = path.strip_prefix(root).ok()?.components().map(|c| c.as_os_str().to_str()).collect();
    Some(parts?.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_keys_have_the_key_shape() {
        let a = new_key().unwrap_or_default();
        let b = new_key().unwrap_or_default();
        assert!(is_key(&a) && is_key(&b), "{a} {b}");
        assert_ne!(a, b);
    }

    #[test]
    fn only_exact_key_shapes_count() {
        let key = "ab/ab0123456789abcdef0123456789abcd";
        assert!(is_key(key));
        for other in [
            "ab/cd0123456789abcdef0123456789abcd",   // shard differs
            "AB/AB0123456789ABCDEF0123456789ABCD",   // upper case
            "ab/ab0123456789abcdef0123456789abc",    // short
            "ab/ab0123456789abcdef0123456789abcd/x", // deeper
            "notes.txt",
        ] {
            assert!(!is_key(other), "{other}");
        }
        assert!(is_partial(&format!("{key}#1")));
        assert!(is_partial(&format!("{key}#12")));
        assert!(!is_partial(&format!("{key}#")));
        assert!(!is_partial(&format!("{key}#x1")));
        assert!(!is_partial("other#1"));
    }
}
