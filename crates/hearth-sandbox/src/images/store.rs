//! `ImageStore`: import, list and look up images; recovery of interrupted imports.

use std::collections::BTreeSet;
use std::fs;
use std::io::{self, BufReader};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use alloy_primitives::{B256, hex};
use hearth_core::{Clock, SystemClock};
use serde::{Deserialize, Serialize};

use super::digest::{HashingReader, format_digest, parse_digest, parse_hex};
use super::fsutil::{RemoveOnDrop, remove_tree, sync_dir, unique_name, write_atomic};
use super::resolve::{LayerSource, ResolvedImage, resolve};
use super::source::Source;
use super::unpack::Unpacker;
use super::{ImageError, ImageInfo, ImageLimits};

/// The lock file, held while importing or recovering.
const LOCK_FILE: &str = "store.lock";
/// Version of the index records this build writes and reads.
const RECORD_VERSION: u32 = 1;
/// Mode of blobs and records: nobody writes them after they are in place.
const READ_ONLY_FILE_MODE: u32 = 0o444;
/// Prefix of roots being unpacked (in `rootfs/`, so the final rename stays in one directory).
const PARTIAL_PREFIX: &str = ".partial";

/// A content-addressed store of OCI images. Reads need no lock; imports (and the
/// recovery in [`ImageStore::open`]) hold an exclusive lock on `store.lock`, so several
/// processes and threads may share one store.
#[derive(Debug, Clone)]
pub struct ImageStore {
    dir: PathBuf,
    limits: ImageLimits,
    clock: Arc<dyn Clock>,
}

/// An index record: an [`ImageInfo`] with digests spelled `sha256:<hex>`.
#[derive(Debug, Serialize, Deserialize)]
struct Record {
    version: u32,
    digest: String,
    repo_tags: Vec<String>,
    layers: Vec<String>,
    config_digest: String,
    entrypoint: Vec<String>,
    cmd: Vec<String>,
    env: Vec<String>,
    working_dir: Option<String>,
    size_bytes: u64,
    imported_at: u64,
}

impl ImageStore {
    /// Opens (creating if needed) the store in `dir`, with the default limits and the
    /// system clock, and removes what interrupted imports left behind.
    pub fn open(dir: &Path) -> Result<ImageStore, ImageError> {
        ImageStore::open_with(dir, ImageLimits::default(), Arc::new(SystemClock))
    }

    /// [`ImageStore::open`] with explicit limits and clock.
    pub fn open_with(dir: &Path, limits: ImageLimits, clock: Arc<dyn Clock>) -> Result<ImageStore, ImageError> {
        let store = ImageStore { dir: dir.to_owned(), limits, clock };
        for sub in [store.dir.clone(), store.blobs_dir(), store.rootfs_dir(), store.index_dir(), store.tmp_dir()] {
            fs::DirBuilder::new().recursive(true).mode(0o755).create(&sub).map_err(ImageError::io("create", &sub))?;
        }
        let _lock = store.lock()?;
        store.recover()?;
        Ok(store)
    }

    /// The limits imports are held to.
    pub fn limits(&self) -> &ImageLimits {
        &self.limits
    }

    /// Imports an image archive or OCI layout directory and returns the image. Importing
    /// an image that is already here verifies the archive again, adds any new names, and
    /// leaves its root untouched.
    pub fn import(&self, path: &Path) -> Result<ImageInfo, ImageError> {
        let _lock = self.lock()?;
        let source = Source::open(path, &self.tmp_dir(), &self.limits)?;
        let image = resolve(&source, &self.limits)?;
        // Blobs this import adds are removed again if it fails (under the lock, nothing
        // else can have come to use them).
        let mut added = Vec::new();
        let mut budget = self.limits.archive_bytes_max;
        let mut size_bytes = 0u64;
        let mut seen = BTreeSet::new();
        for layer in &image.layers {
            let size = self.ingest_layer(layer, &mut budget, &mut added)?;
            if seen.insert(layer.digest) {
                size_bytes += size;
            }
        }
        self.put_blob(&image.config_digest, &image.config_bytes, &mut added)?;
        self.put_blob(&image.digest, &image.manifest, &mut added)?;

        let name = hex::encode(image.digest);
        let root = self.rootfs_dir().join(&name);
        let existing = self.read_record(&image.digest)?;
        if let Some(mut existing) = existing.clone()
            && fs::symlink_metadata(&root).is_ok_and(|m| m.file_type().is_dir())
        {
            if merge_tags(&mut existing.repo_tags, &image.repo_tags) {
                self.write_record(&existing)?;
            }
            added.into_iter().for_each(RemoveOnDrop::disarm);
            return Ok(existing);
        }

        // New, or its root went missing: unpack (again).
        let partial = RemoveOnDrop::new(self.rootfs_dir().join(unique_name(&format!("{PARTIAL_PREFIX}-{name}"))));
        fs::DirBuilder::new().mode(0o755).create(partial.path()).map_err(ImageError::io("create", partial.path()))?;
        self.unpack(&image, partial.path())?;
        // A root without a record is what an earlier failed import left; replace it.
        remove_tree(&root).map_err(ImageError::io("remove", &root))?;
        fs::rename(partial.path(), &root).map_err(ImageError::io("rename into place", &root))?;
        partial.disarm();
        sync_dir(&self.rootfs_dir())?;

        let info = if let Some(mut existing) = existing {
            merge_tags(&mut existing.repo_tags, &image.repo_tags);
            existing
        } else {
            ImageInfo {
                digest: image.digest,
                repo_tags: image.repo_tags.clone(),
                layers: image.layers.iter().map(|l| l.digest).collect(),
                config_digest: image.config_digest,
                entrypoint: image.config.config.as_ref().and_then(|c| c.entrypoint.clone()).unwrap_or_default(),
                cmd: image.config.config.as_ref().and_then(|c| c.cmd.clone()).unwrap_or_default(),
                env: image.config.config.as_ref().and_then(|c| c.env.clone()).unwrap_or_default(),
                working_dir: image.config.config.as_ref().and_then(|c| c.working_dir.clone()).filter(|w| !w.is_empty()),
                size_bytes,
                imported_at: self.clock.now_secs(),
            }
        };
        self.write_record(&info)?;
        added.into_iter().for_each(RemoveOnDrop::disarm);
        Ok(info)
    }

    /// Every imported image, oldest import first.
    pub fn list(&self) -> Result<Vec<ImageInfo>, ImageError> {
        let mut images = Vec::new();
        for digest in self.record_digests()? {
            if let Some(info) = self.read_record(&digest)? {
                images.push(info);
            }
        }
        images.sort_by_key(|i| (i.imported_at, i.digest));
        Ok(images)
    }

    /// The image with this manifest digest.
    pub fn get(&self, digest: &B256) -> Result<ImageInfo, ImageError> {
        self.read_record(digest)?.ok_or(ImageError::NotFound { digest: *digest })
    }

    /// The image's unpacked, read-only root directory.
    pub fn rootfs(&self, digest: &B256) -> Result<PathBuf, ImageError> {
        self.get(digest)?;
        let root = self.rootfs_dir().join(hex::encode(digest));
        if !fs::symlink_metadata(&root).is_ok_and(|m| m.file_type().is_dir()) {
            return Err(ImageError::Corrupted {
                path: self.record_path(digest),
                problem: "the image's root directory is missing".to_owned(),
            });
        }
        Ok(root)
    }

    fn blobs_dir(&self) -> PathBuf {
        self.dir.join("blobs").join("sha256")
    }

    fn rootfs_dir(&self) -> PathBuf {
        self.dir.join("rootfs")
    }

    fn index_dir(&self) -> PathBuf {
        self.dir.join("index")
    }

    fn tmp_dir(&self) -> PathBuf {
        self.dir.join("tmp")
    }

    fn record_path(&self, digest: &B256) -> PathBuf {
        self.index_dir().join(format!("{}.json", hex::encode(digest)))
    }

    fn blob_path(&self, digest: &B256) -> PathBuf {
        self.blobs_dir().join(hex::encode(digest))
    }

    /// Takes the store's lock, released when the returned file is dropped. A fresh
    /// open file each time, so two imports in one process exclude each other too.
    fn lock(&self) -> Result<fs::File, ImageError> {
        let path = self.dir.join(LOCK_FILE);
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&path)
            .map_err(ImageError::io("open", &path))?;
        file.lock().map_err(ImageError::io("lock", &path))?;
        Ok(file)
    }

    /// Removes staging files, roots without a record, and blobs no record refers to.
    fn recover(&self) -> Result<(), ImageError> {
        let tmp = self.tmp_dir();
        for entry in read_dir(&tmp)? {
            remove_tree(&entry).map_err(ImageError::io("remove", &entry))?;
        }
        let records: BTreeSet<B256> = self.record_digests()?.into_iter().collect();
        for entry in read_dir(&self.index_dir())? {
            if entry.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')) {
                remove_tree(&entry).map_err(ImageError::io("remove", &entry))?;
            }
        }
        for entry in read_dir(&self.rootfs_dir())? {
            let keep =
                entry.file_name().and_then(|n| parse_hex(&n.to_string_lossy())).is_some_and(|d| records.contains(&d));
            if !keep {
                remove_tree(&entry).map_err(ImageError::io("remove", &entry))?;
            }
        }
        // Blobs are collected only when every record is readable, so one damaged record
        // never costs another image its blobs.
        let mut referenced = BTreeSet::new();
        for digest in &records {
            match self.read_record(digest) {
                Ok(Some(info)) => {
                    referenced.insert(info.config_digest);
                    referenced.extend(info.layers);
                    referenced.insert(info.digest);
                }
                _ => return Ok(()),
            }
        }
        for entry in read_dir(&self.blobs_dir())? {
            let keep = entry
                .file_name()
                .and_then(|n| parse_hex(&n.to_string_lossy()))
                .is_some_and(|d| referenced.contains(&d));
            if !keep {
                remove_tree(&entry).map_err(ImageError::io("remove", &entry))?;
            }
        }
        Ok(())
    }

    /// Digests of the records in the index (`<hex>.json`).
    fn record_digests(&self) -> Result<Vec<B256>, ImageError> {
        let mut digests = Vec::new();
        for entry in read_dir(&self.index_dir())? {
            let name = entry.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            if let Some(digest) = name.strip_suffix(".json").and_then(parse_hex) {
                digests.push(digest);
            }
        }
        Ok(digests)
    }

    fn read_record(&self, digest: &B256) -> Result<Option<ImageInfo>, ImageError> {
        let path = self.record_path(digest);
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(ImageError::Io { op: "read", path, source: e }),
        };
        let corrupted = |problem: String| ImageError::Corrupted { path: path.clone(), problem };
        let record: Record = serde_json::from_slice(&bytes).map_err(|e| corrupted(e.to_string()))?;
        if record.version != RECORD_VERSION {
            return Err(corrupted(format!("record version {} (this hearth reads {RECORD_VERSION})", record.version)));
        }
        let parse = |text: &str| parse_digest(text).map_err(|e| corrupted(e.to_string()));
        let info = ImageInfo {
            digest: parse(&record.digest)?,
            repo_tags: record.repo_tags,
            layers: record.layers.iter().map(|l| parse(l)).collect::<Result<_, _>>()?,
            config_digest: parse(&record.config_digest)?,
            entrypoint: record.entrypoint,
            cmd: record.cmd,
            env: record.env,
            working_dir: record.working_dir,
            size_bytes: record.size_bytes,
            imported_at: record.imported_at,
        };
        if info.digest != *digest {
            return Err(corrupted(format!("it names image {}", record.digest)));
        }
        Ok(Some(info))
    }

    fn write_record(&self, info: &ImageInfo) -> Result<(), ImageError> {
        let record = Record {
            version: RECORD_VERSION,
            digest: format_digest(&info.digest),
            repo_tags: info.repo_tags.clone(),
            layers: info.layers.iter().map(format_digest).collect(),
            config_digest: format_digest(&info.config_digest),
            entrypoint: info.entrypoint.clone(),
            cmd: info.cmd.clone(),
            env: info.env.clone(),
            working_dir: info.working_dir.clone(),
            size_bytes: info.size_bytes,
            imported_at: info.imported_at,
        };
        let mut bytes = serde_json::to_vec_pretty(&record).unwrap_or_default();
        bytes.push(b'\n');
        write_atomic(&self.record_path(&info.digest), &bytes, READ_ONLY_FILE_MODE)
    }

    /// Stores a verified in-memory blob (manifest, config) unless it is already there.
    fn put_blob(&self, digest: &B256, bytes: &[u8], added: &mut Vec<RemoveOnDrop>) -> Result<(), ImageError> {
        let path = self.blob_path(digest);
        if path.exists() {
            return Ok(());
        }
        write_atomic(&path, bytes, READ_ONLY_FILE_MODE)?;
        added.push(RemoveOnDrop::new(path));
        Ok(())
    }

    /// Copies a layer blob into the store, hashing it on the way; a blob whose content
    /// does not match its digest (or size) is refused and nothing is kept. Returns its size.
    fn ingest_layer(
        &self,
        layer: &LayerSource,
        budget: &mut u64,
        added: &mut Vec<RemoveOnDrop>,
    ) -> Result<u64, ImageError> {
        let digest = format_digest(&layer.digest);
        if layer.size.is_some_and(|size| size > *budget) {
            return Err(ImageError::LimitExceeded { limit: "archive_bytes_max", max: self.limits.archive_bytes_max });
        }
        let source = match fs::File::open(&layer.path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(ImageError::BlobMissing { digest: layer.name.clone() });
            }
            Err(e) => return Err(ImageError::Io { op: "open", path: layer.path.clone(), source: e }),
        };
        let tmp = RemoveOnDrop::new(self.tmp_dir().join(unique_name("blob")));
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(tmp.path())
            .map_err(ImageError::io("create", tmp.path()))?;
        let mut reader = HashingReader::new(BufReader::new(source), *budget, "archive_bytes_max");
        io::copy(&mut reader, &mut file).map_err(ImageError::read(format!("blob {digest}")))?;
        let (actual, size) = reader.finish();
        if actual != layer.digest {
            return Err(ImageError::DigestMismatch { digest, actual: format_digest(&actual) });
        }
        if let Some(expected) = layer.size
            && expected != size
        {
            return Err(ImageError::SizeMismatch { digest, expected, actual: size });
        }
        *budget -= size;
        let path = self.blob_path(&layer.digest);
        if !path.exists() {
            file.set_permissions(fs::Permissions::from_mode(READ_ONLY_FILE_MODE))
                .map_err(ImageError::io("set permissions of", tmp.path()))?;
            file.sync_all().map_err(ImageError::io("sync", tmp.path()))?;
            fs::rename(tmp.path(), &path).map_err(ImageError::io("rename into place", &path))?;
            tmp.disarm();
            added.push(RemoveOnDrop::new(path));
            sync_dir(&self.blobs_dir())?;
        }
        Ok(size)
    }

    /// Applies the image's layers from the store into `root` and seals it read-only,
    /// checking each layer's uncompressed digest against the config's `diff_ids`.
    fn unpack(&self, image: &ResolvedImage, root: &Path) -> Result<(), ImageError> {
        let mut unpacker = Unpacker::new(root, &self.limits);
        for (layer, diff_id) in image.layers.iter().zip(&image.config.rootfs.diff_ids) {
            let path = self.blob_path(&layer.digest);
            let blob = fs::File::open(&path).map_err(ImageError::io("open", &path))?;
            let actual = unpacker.apply_layer(blob, &layer.digest)?;
            if actual != parse_digest(diff_id)? {
                return Err(ImageError::DiffIdMismatch {
                    layer: layer.digest,
                    diff_id: diff_id.clone(),
                    actual: format_digest(&actual),
                });
            }
        }
        unpacker.finish()?;
        Ok(())
    }
}

/// Appends the names in `new` that `tags` lacks; whether any were added.
fn merge_tags(tags: &mut Vec<String>, new: &[String]) -> bool {
    let before = tags.len();
    for tag in new {
        if !tags.contains(tag) {
            tags.push(tag.clone());
        }
    }
    tags.len() != before
}

/// The paths in `dir`.
fn read_dir(dir: &Path) -> Result<Vec<PathBuf>, ImageError> {
    let mut paths = Vec::new();
    for entry in fs::read_dir(dir).map_err(ImageError::io("list", dir))? {
        paths.push(entry.map_err(ImageError::io("list", dir))?.path());
    }
    Ok(paths)
}
