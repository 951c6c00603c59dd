//! Pass-through adapters that SHA-256 the bytes streaming through them and count them.

use std::io::{self, Read, Write};

use alloy_primitives::B256;
use sha2::{Digest, Sha256};

/// A writer that hashes and counts every byte the inner writer accepts.
pub struct Sha256Writer<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W> Sha256Writer<W> {
    /// Wraps `inner`; pass `&mut writer` to keep the writer after [`finish`](Self::finish).
    pub fn new(inner: W) -> Self {
        Sha256Writer { inner, hasher: Sha256::new(), bytes: 0 }
    }

    /// Bytes written through so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// The inner writer.
    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    /// The SHA-256 of everything written through, and its length in bytes.
    pub fn finish(self) -> (B256, u64) {
        (B256::from(<[u8; 32]>::from(self.hasher.finalize())), self.bytes)
    }
}

impl<W: Write> Write for Sha256Writer<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A reader that hashes and counts every byte read through it.
pub struct Sha256Reader<R> {
    inner: R,
    hasher: Sha256,
    bytes: u64,
}

impl<R> Sha256Reader<R> {
    /// Wraps `inner`; pass `&mut reader` to keep the reader after [`finish`](Self::finish).
    pub fn new(inner: R) -> Self {
        Sha256Reader { inner, hasher: Sha256::new(), bytes: 0 }
    }

    /// Bytes read through so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// The inner reader.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// The SHA-256 of everything read through, and its length in bytes.
    pub fn finish(self) -> (B256, u64) {
        (B256::from(<[u8; 32]>::from(self.hasher.finalize())), self.bytes)
    }
}

impl<R: Read> Read for Sha256Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}
