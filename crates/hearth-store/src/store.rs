//! [`Store`]: opening (lock, schema, recovery), the two-phase write (stage, then commit
//! or abort), verified reads, listing and deletion.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use object_store::path::Path as BlobPath;
use object_store::{ObjectStore, ObjectStoreExt, WriteMultipart};
use rusqlite::Connection;
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::blobs::{self, Backend, PART_BYTES, UPLOAD_PARTS_IN_FLIGHT_MAX};
use crate::config::{LIST_PAGE_SIZE_MAX, StoreConfig};
use crate::error::{Result, StoreError};
use crate::meta::{self, FileMeta, NewFile, ScopeFilter};
use crate::reader::BlobReader;

/// The lock file in the data directory; held exclusively while a `Store` is open.
pub const LOCK_FILE: &str = "store.lock";
/// The metadata database in the data directory.
pub const DB_FILE: &str = "store.sqlite";
/// Bytes read from the caller's stream at a time while staging.
pub const READ_BUFFER_BYTES: usize = 64 << 10;
/// Bytes per read of a local blob.
pub const LOCAL_READ_CHUNK_BYTES: usize = 1 << 20;

/// A local file's chunks with object_store's error type.
struct LocalChunks(tokio_util::io::ReaderStream<tokio::fs::File>);

impl futures_core::Stream for LocalChunks {
    type Item = object_store::Result<bytes::Bytes>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        std::pin::Pin::new(&mut self.0).poll_next(cx).map(|item| {
            item.map(|r| r.map_err(|e| object_store::Error::Generic { store: "LocalFileSystem", source: Box::new(e) }))
        })
    }
}
/// Blob keys recovery checks against the database at a time (S3 listing).
const RECOVERY_BATCH_SIZE_MAX: usize = 1000;

/// What recovery removed when the store was opened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Recovery {
    /// Complete blobs that no committed row owns (staged but never committed, or deleted
    /// rows whose blob removal did not happen).
    pub removed_blobs: u64,
    /// Unfinished uploads: local temporary files, S3 multipart uploads.
    pub removed_partials: u64,
}

/// A ciphertext written to the blob store but not yet visible: commit it or abort it.
/// One that is dropped instead stays until the next open's recovery removes it.
#[must_use = "a staged blob must be committed or aborted"]
#[derive(Debug)]
pub struct Staged {
    /// SHA-256 of the ciphertext.
    pub sha256: [u8; 32],
    /// Ciphertext size in bytes.
    pub size: u64,
    key: String,
}

/// What the database side of a store shares with its blocking tasks. The lock is
/// declared last so it is released only after the connection has closed.
struct Shared {
    conn: Mutex<Connection>,
    _lock: File,
}

/// An open store: holds the data directory's lock until dropped.
pub struct Store {
    shared: Arc<Shared>,
    backend: Backend,
    blobs: Arc<dyn ObjectStore>,
    file_bytes_max: u64,
    data_dir: PathBuf,
    recovery: Recovery,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let backend = match &self.backend {
            Backend::Local { .. } => "local".to_owned(),
            Backend::S3(bucket) => format!("s3 bucket {}", bucket.name()),
        };
        f.debug_struct("Store")
            .field("data_dir", &self.data_dir)
            .field("backend", &backend)
            .field("file_bytes_max", &self.file_bytes_max)
            .finish_non_exhaustive()
    }
}

fn lock(data_dir: &Path) -> Result<File> {
    let path = data_dir.join(LOCK_FILE);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(StoreError::io("open", &path))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(StoreError::Busy { data_dir: data_dir.to_owned(), lock: path }),
        Err(TryLockError::Error(e)) => Err(StoreError::Io { op: "lock", path, source: e }),
    }
}

fn blob_path(key: &str) -> BlobPath {
    BlobPath::from(key)
}

impl Store {
    /// Opens the store in `config.data_dir` (creating it when new), takes its lock, and
    /// removes what an earlier crash left behind (see [`Store::recovery`]).
    pub async fn open(config: &StoreConfig) -> Result<Store> {
        if config.file_bytes_max == 0 || i64::try_from(config.file_bytes_max).is_err() {
            return Err(StoreError::Invalid {
                what: "file_bytes_max",
                problem: format!("{} is not between 1 and {}", config.file_bytes_max, i64::MAX),
            });
        }
        let data_dir = config.data_dir.clone();
        let blob_config = config.blobs.clone();
        let (shared, backend) = blocking("open the store", move || {
            std::fs::create_dir_all(&data_dir).map_err(StoreError::io("create", &data_dir))?;
            let lock = lock(&data_dir)?;
            let conn = meta::open(&data_dir.join(DB_FILE))?;
            let backend = Backend::open(&blob_config, &data_dir)?;
            Ok((Arc::new(Shared { conn: Mutex::new(conn), _lock: lock }), backend))
        })
        .await?;
        let mut store = Store {
            shared,
            blobs: backend.store(),
            backend,
            file_bytes_max: config.file_bytes_max,
            data_dir: config.data_dir.clone(),
            recovery: Recovery::default(),
        };
        store.recovery = store.recover().await?;
        Ok(store)
    }

    /// What recovery removed when this store was opened.
    pub fn recovery(&self) -> &Recovery {
        &self.recovery
    }

    /// Streams `ciphertext` into a new blob, computing its SHA-256 and size. The blob is
    /// complete only once every byte is written, and no row refers to it yet: nothing
    /// lists or reads it until [`Store::commit`]. Fails with `LimitExceeded` (removing
    /// what was written) past `file_bytes_max`.
    pub async fn stage(&self, mut ciphertext: impl AsyncRead + Unpin + Send) -> Result<Staged> {
        let key = blobs::new_key()?;
        let upload = self
            .blobs
            .put_multipart(&blob_path(&key))
            .await
            .map_err(|e| StoreError::blob("start the upload of", &key, &e))?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
        match self.write_parts(&mut writer, &mut ciphertext, &key).await {
            Ok((sha256, size)) => {
                // On failure `finish` aborts the upload itself.
                writer.finish().await.map_err(|e| StoreError::blob("complete the upload of", &key, &e))?;
                Ok(Staged { sha256, size, key })
            }
            Err(e) => {
                // Best effort: an upload left open here is removed by the next recovery.
                let _ = writer.abort().await;
                Err(e)
            }
        }
    }

    async fn write_parts(
        &self,
        writer: &mut WriteMultipart,
        ciphertext: &mut (impl AsyncRead + Unpin + Send),
        key: &str,
    ) -> Result<([u8; 32], u64)> {
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        let mut buf = vec![0u8; READ_BUFFER_BYTES];
        loop {
            let n = ciphertext.read(&mut buf).await.map_err(StoreError::Input)?;
            if n == 0 {
                return Ok((hasher.finalize().into(), size));
            }
            size += n as u64;
            if size > self.file_bytes_max {
                return Err(StoreError::LimitExceeded { limit_bytes: self.file_bytes_max });
            }
            hasher.update(&buf[..n]);
            writer
                .wait_for_capacity(UPLOAD_PARTS_IN_FLIGHT_MAX)
                .await
                .map_err(|e| StoreError::blob("upload a part of", key, &e))?;
            writer.write(&buf[..n]);
        }
    }

    /// Makes a staged blob a file: inserts its row in one transaction and returns it.
    /// If this fails the staged blob is removed.
    pub async fn commit(&self, staged: Staged, new: NewFile) -> Result<FileMeta> {
        let result = match new.validate() {
            Ok(()) => {
                let key = staged.key.clone();
                let (sha256, size) = (staged.sha256, staged.size);
                self.db("commit", move |conn| meta::insert(conn, &key, &sha256, size, &new)).await
            }
            Err(e) => Err(e),
        };
        if result.is_err() {
            // The caller no longer holds the staged blob; best effort, recovery covers the rest.
            let _ = self.abort(staged).await;
        }
        result
    }

    /// Removes a staged blob that will not be committed.
    pub async fn abort(&self, staged: Staged) -> Result<()> {
        self.remove_blob(&staged.key).await
    }

    /// The committed file `id`.
    pub async fn get(&self, id: u64) -> Result<FileMeta> {
        let row = self.db("get", move |conn| meta::get(conn, id)).await?;
        row.map(|(meta, _)| meta).ok_or(StoreError::NotFound { id })
    }

    /// The committed file `id` and a reader of its ciphertext that checks, at the end,
    /// that it is what was committed (see [`BlobReader`]).
    pub async fn open_blob(&self, id: u64) -> Result<(FileMeta, BlobReader)> {
        let (meta, key) = self.db("get", move |conn| meta::get(conn, id)).await?.ok_or(StoreError::NotFound { id })?;
        let got = match self.blobs.get(&blob_path(&key)).await {
            Ok(got) => got,
            Err(object_store::Error::NotFound { .. }) => return Err(StoreError::BlobMissing { id }),
            Err(e) => return Err(StoreError::blob("read", &key, &e)),
        };
        let stream = match got.payload {
            // object_store streams local files in 8 KiB reads, each on the blocking pool;
            // read them in large chunks instead.
            object_store::GetResultPayload::File(file, _) => {
                let file = tokio::fs::File::from_std(file);
                Box::pin(LocalChunks(tokio_util::io::ReaderStream::with_capacity(file, LOCAL_READ_CHUNK_BYTES)))
            }
            object_store::GetResultPayload::Stream(stream) => stream,
        };
        let reader = BlobReader::new(&meta, key, stream);
        Ok((meta, reader))
    }

    /// Up to `limit` (at most [`LIST_PAGE_SIZE_MAX`]) committed files with an id above
    /// `after_id`, by id. `scope` is `None` or `*` for every scope, a scope for exactly
    /// that one, or a pattern `prefix.*` (matched with `hearth_core::pattern_covers`).
    pub async fn list(&self, scope: Option<&str>, after_id: u64, limit: usize) -> Result<Vec<FileMeta>> {
        let filter = ScopeFilter::new(scope)?;
        let limit = limit.min(LIST_PAGE_SIZE_MAX);
        if limit == 0 {
            return Ok(Vec::new());
        }
        self.db("list", move |conn| meta::list(conn, &filter, after_id, limit)).await
    }

    /// Every committed file `scope` covers (as for [`list`](Self::list)), by id, paging
    /// through them; `None` as soon as there are more than `files_max`.
    pub async fn list_all(&self, scope: Option<&str>, files_max: usize) -> Result<Option<Vec<FileMeta>>> {
        let mut all = Vec::new();
        loop {
            let after = all.last().map_or(0, |m: &FileMeta| m.id);
            let page = self.list(scope, after, LIST_PAGE_SIZE_MAX).await?;
            let last_page = page.len() < LIST_PAGE_SIZE_MAX;
            all.extend(page);
            if all.len() > files_max {
                return Ok(None);
            }
            if last_page {
                return Ok(Some(all));
            }
        }
    }

    /// Deletes file `id`: its row in one transaction, then its blob. Once the row is gone
    /// the file is deleted; a blob that cannot be removed now is removed by the next
    /// open's recovery.
    pub async fn delete(&self, id: u64) -> Result<FileMeta> {
        let (meta, key) =
            self.db("delete", move |conn| meta::delete(conn, id)).await?.ok_or(StoreError::NotFound { id })?;
        let _ = self.remove_blob(&key).await;
        Ok(meta)
    }

    async fn remove_blob(&self, key: &str) -> Result<()> {
        match self.blobs.delete(&blob_path(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(StoreError::blob("delete", key, &e)),
        }
    }

    /// Runs `f` on the connection in a blocking task.
    async fn db<T: Send + 'static>(
        &self,
        op: &'static str,
        f: impl FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let shared = self.shared.clone();
        blocking(op, move || {
            // A panic mid-transaction rolls it back when the transaction drops, so the
            // connection is still sound after poisoning.
            let mut conn = shared.conn.lock().unwrap_or_else(PoisonError::into_inner);
            f(&mut conn)
        })
        .await
    }

    /// Removes every blob without a committed row and every unfinished upload. Runs once,
    /// while the lock is held and before any other operation.
    async fn recover(&self) -> Result<Recovery> {
        match &self.backend {
            Backend::Local { root, .. } => {
                let root = root.clone();
                let swept =
                    self.db("recover", move |conn| blobs::sweep_local(&root, |key| meta::has_blob(conn, key))).await?;
                Ok(Recovery { removed_blobs: swept.blobs, removed_partials: swept.partials })
            }
            Backend::S3(bucket) => {
                let mut recovery = Recovery::default();
                let mut listing = self.blobs.list(None);
                let mut batch = Vec::new();
                loop {
                    let next = std::future::poll_fn(|cx| listing.as_mut().poll_next(cx)).await;
                    match next {
                        Some(Ok(object)) => {
                            let key = object.location.to_string();
                            if blobs::is_key(&key) {
                                batch.push(key);
                            }
                        }
                        Some(Err(e)) => return Err(StoreError::blob("list", &format!("bucket {}", bucket.name()), &e)),
                        None => break,
                    }
                    if batch.len() >= RECOVERY_BATCH_SIZE_MAX {
                        recovery.removed_blobs += self.remove_orphans(std::mem::take(&mut batch)).await?;
                    }
                }
                recovery.removed_blobs += self.remove_orphans(batch).await?;
                for upload in bucket.unfinished_uploads().await? {
                    if blobs::is_key(&upload.key) {
                        bucket.abort_upload(&upload).await?;
                        recovery.removed_partials += 1;
                    }
                }
                Ok(recovery)
            }
        }
    }

    /// Deletes those of `keys` that no row owns; returns how many.
    async fn remove_orphans(&self, keys: Vec<String>) -> Result<u64> {
        let orphans = self
            .db("recover", move |conn| {
                let mut orphans = Vec::new();
                for key in keys {
                    if !meta::has_blob(conn, &key)? {
                        orphans.push(key);
                    }
                }
                Ok(orphans)
            })
            .await?;
        for key in &orphans {
            self.remove_blob(key).await?;
        }
        Ok(orphans.len() as u64)
    }
}

/// Runs blocking work (file system, SQLite) off the async threads.
async fn blocking<T: Send + 'static>(op: &'static str, f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    match tokio::task::spawn_blocking(f).await {
        Ok(result) => result,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(_) => Err(StoreError::ShuttingDown { op }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Store>();
        check::<Staged>();
        fn check_send<T: Send + Unpin>() {}
        check_send::<BlobReader>();
    }
}
