//! [`BlobReader`]: streams a stored blob in constant memory and checks its size and
//! SHA-256 against the committed row, failing at the end if either differs.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use alloy_primitives::B256;
use bytes::Bytes;
use futures_core::stream::BoxStream;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, ReadBuf};

use crate::error::StoreError;
use crate::meta::FileMeta;

/// A stored file's ciphertext. It yields the blob's bytes as they arrive and hashes
/// them; at the end it fails with [`StoreError::Integrity`] (inside the `io::Error`;
/// `StoreError::from` takes it out) if the size or SHA-256 differs from the file's row.
/// Consumers must treat what they read as unverified until they have read to the end.
pub struct BlobReader {
    id: u64,
    size: u64,
    sha256: B256,
    key: String,
    stream: BoxStream<'static, object_store::Result<Bytes>>,
    chunk: Bytes,
    hasher: Sha256,
    seen: u64,
    state: State,
}

enum State {
    Reading,
    Verified,
    Failed(String),
}

impl std::fmt::Debug for BlobReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobReader")
            .field("id", &self.id)
            .field("size", &self.size)
            .field("seen", &self.seen)
            .finish_non_exhaustive()
    }
}

impl BlobReader {
    pub(crate) fn new(
        meta: &FileMeta,
        key: String,
        stream: BoxStream<'static, object_store::Result<Bytes>>,
    ) -> BlobReader {
        BlobReader {
            id: meta.id,
            size: meta.size,
            sha256: meta.sha256,
            key,
            stream,
            chunk: Bytes::new(),
            hasher: Sha256::new(),
            seen: 0,
            state: State::Reading,
        }
    }

    fn integrity(&mut self, problem: String) -> io::Error {
        self.state = State::Failed(problem.clone());
        StoreError::Integrity { id: self.id, problem }.into_io()
    }

    /// Checks size and digest once the blob has ended.
    fn finish(&mut self) -> io::Result<()> {
        if self.seen != self.size {
            let problem = format!("{} bytes stored, {} committed", self.seen, self.size);
            return Err(self.integrity(problem));
        }
        let digest = B256::from(<[u8; 32]>::from(std::mem::take(&mut self.hasher).finalize()));
        if digest != self.sha256 {
            let problem = format!("sha256 is {digest}, committed {}", self.sha256);
            return Err(self.integrity(problem));
        }
        self.state = State::Verified;
        Ok(())
    }
}

impl AsyncRead for BlobReader {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        loop {
            if !this.chunk.is_empty() {
                let n = buf.remaining().min(this.chunk.len());
                buf.put_slice(&this.chunk.split_to(n));
                return Poll::Ready(Ok(()));
            }
            match &this.state {
                State::Verified => return Poll::Ready(Ok(())),
                State::Failed(problem) => {
                    let problem = problem.clone();
                    return Poll::Ready(Err(StoreError::Integrity { id: this.id, problem }.into_io()));
                }
                State::Reading => {}
            }
            match ready!(this.stream.as_mut().poll_next(cx)) {
                Some(Ok(bytes)) => {
                    this.seen += bytes.len() as u64;
                    if this.seen > this.size {
                        let problem = format!("more than the {} bytes committed", this.size);
                        return Poll::Ready(Err(this.integrity(problem)));
                    }
                    this.hasher.update(&bytes);
                    this.chunk = bytes;
                }
                Some(Err(object_store::Error::NotFound { .. })) => {
                    return Poll::Ready(Err(StoreError::BlobMissing { id: this.id }.into_io()));
                }
                Some(Err(e)) => return Poll::Ready(Err(StoreError::blob("read", &this.key, &e).into_io())),
                None => return Poll::Ready(this.finish()),
            }
        }
    }
}
