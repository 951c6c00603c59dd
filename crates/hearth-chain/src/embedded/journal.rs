//! The embedded chain's journal: a header line, then one line per mined transaction,
//! each chained to the one before by a keccak checksum and fsynced before the
//! transaction's receipt is returned.
//!
//! State is rebuilt by replaying the journal; a record whose checksum, or whose replayed
//! outcome, differs from what was written is corruption and stops the open. Only a last
//! line without its newline (a write cut short by a crash, never acknowledged) is dropped.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use alloy_primitives::{B256, Bytes, keccak256};
use serde::{Deserialize, Serialize};

use crate::error::{ChainError, Result};
use crate::limits::JOURNAL_LINE_BYTES_MAX;

const FORMAT: &str = "hearth-embedded-chain";
const VERSION: u32 = 1;

/// The first line: what chain this journal belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Header {
    format: String,
    version: u32,
    pub chain_id: u64,
    /// Hash of the genesis contract code; a binary with other contracts cannot replay this.
    pub genesis: B256,
    pub genesis_timestamp: u64,
}

impl Header {
    pub fn new(chain_id: u64, genesis: B256, genesis_timestamp: u64) -> Self {
        Header { format: FORMAT.into(), version: VERSION, chain_id, genesis, genesis_timestamp }
    }
}

/// One mined transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Record {
    /// Block number.
    pub n: u64,
    /// Block timestamp, unix seconds.
    pub ts: u64,
    /// The signed transaction, EIP-2718 encoded.
    pub tx: Bytes,
    /// Digest of the execution outcome (gas and logs), checked on replay.
    pub outcome: B256,
    /// keccak(previous check ‖ this record's fields).
    pub check: B256,
}

fn chain_check(prev: B256, n: u64, ts: u64, tx: &[u8], outcome: B256) -> B256 {
    let mut buf = Vec::with_capacity(32 + 16 + 32 + tx.len());
    buf.extend_from_slice(prev.as_slice());
    buf.extend_from_slice(&n.to_be_bytes());
    buf.extend_from_slice(&ts.to_be_bytes());
    buf.extend_from_slice(outcome.as_slice());
    buf.extend_from_slice(tx);
    keccak256(buf)
}

/// An open journal, positioned at its end.
#[derive(Debug)]
pub(crate) struct Journal {
    file: File,
    path: PathBuf,
    last_check: B256,
}

/// What [`Journal::open`] read.
pub(crate) struct Opened {
    pub journal: Journal,
    pub header: Header,
    pub records: Vec<Record>,
    /// Bytes of an unfinished last line that were dropped.
    pub torn_tail_bytes: u64,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ChainError + '_ {
    move |source| ChainError::Io { path: path.to_owned(), source }
}

fn corrupted(path: &Path, reason: String) -> ChainError {
    ChainError::Corrupted { path: path.to_owned(), reason }
}

/// Takes the journal's exclusive lock: one process at a time runs an embedded chain.
fn lock(file: File, path: &Path) -> Result<File> {
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(fs::TryLockError::WouldBlock) => Err(ChainError::Busy { path: path.to_owned() }),
        Err(fs::TryLockError::Error(source)) => Err(ChainError::Io { path: path.to_owned(), source }),
    }
}

fn sync_dir(path: &Path) -> Result<()> {
    if let Some(dir) = path.parent() {
        File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))?;
    }
    Ok(())
}

/// What [`read`] found in a journal file.
struct Contents {
    header: Header,
    records: Vec<Record>,
    last_check: B256,
    /// Length of the file up to its last newline.
    complete_bytes: u64,
    torn_tail_bytes: u64,
}

/// Reads and verifies the header and every complete record of the journal at `path`.
fn read(path: &Path) -> Result<Contents> {
    let mut raw = Vec::new();
    File::open(path).and_then(|mut f| f.read_to_end(&mut raw)).map_err(io(path))?;
    let complete = raw.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let torn_tail_bytes = (raw.len() - complete) as u64;
    let text = std::str::from_utf8(&raw[..complete]).map_err(|_| corrupted(path, "not UTF-8 text".into()))?;
    let mut lines = text.lines();
    let header_line = lines.next().ok_or_else(|| corrupted(path, "no header line".into()))?;
    let header: Header =
        serde_json::from_str(header_line).map_err(|e| corrupted(path, format!("header is unreadable ({e})")))?;
    if header.format != FORMAT || header.version != VERSION {
        return Err(corrupted(path, format!("unknown format {:?} version {}", header.format, header.version)));
    }
    let mut records = Vec::new();
    let mut last_check = B256::ZERO;
    for (i, line) in lines.enumerate() {
        let number = i as u64 + 1;
        if line.len() > JOURNAL_LINE_BYTES_MAX {
            return Err(corrupted(path, format!("record {number} is longer than {JOURNAL_LINE_BYTES_MAX} bytes")));
        }
        let r: Record =
            serde_json::from_str(line).map_err(|e| corrupted(path, format!("record {number} is unreadable ({e})")))?;
        if r.n != number {
            return Err(corrupted(path, format!("record {number} claims block {}", r.n)));
        }
        if chain_check(last_check, r.n, r.ts, &r.tx, r.outcome) != r.check {
            return Err(corrupted(path, format!("record {number} fails its checksum")));
        }
        last_check = r.check;
        records.push(r);
    }
    Ok(Contents { header, records, last_check, complete_bytes: complete as u64, torn_tail_bytes })
}

impl Journal {
    /// Creates a journal holding only `header`, atomically (written aside, then renamed).
    pub fn create(path: &Path, header: &Header) -> Result<Journal> {
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(io(dir))?;
        }
        let tmp = path.with_extension("creating");
        let mut line = serde_json::to_string(header).map_err(|e| corrupted(path, e.to_string()))?;
        line.push('\n');
        {
            let mut f = File::create(&tmp).map_err(io(&tmp))?;
            f.write_all(line.as_bytes()).map_err(io(&tmp))?;
            f.sync_all().map_err(io(&tmp))?;
        }
        fs::rename(&tmp, path).map_err(io(path))?;
        sync_dir(path)?;
        let file = lock(OpenOptions::new().append(true).open(path).map_err(io(path))?, path)?;
        Ok(Journal { file, path: path.to_owned(), last_check: B256::ZERO })
    }

    /// Opens and verifies an existing journal.
    pub fn open(path: &Path) -> Result<Opened> {
        // Lock before reading, so no other process appends while this one replays.
        let file = lock(OpenOptions::new().append(true).open(path).map_err(io(path))?, path)?;
        let Contents { header, records, last_check, complete_bytes, torn_tail_bytes } = read(path)?;
        if torn_tail_bytes > 0 {
            // The unfinished line was never acknowledged (append fsyncs before returning).
            let f = OpenOptions::new().write(true).open(path).map_err(io(path))?;
            f.set_len(complete_bytes).map_err(io(path))?;
            f.sync_all().map_err(io(path))?;
        }
        Ok(Opened { journal: Journal { file, path: path.to_owned(), last_check }, header, records, torn_tail_bytes })
    }

    /// Reads and verifies the journal's complete records without taking its lock or
    /// changing the file, for a read-only view while another process holds it open: that
    /// process only appends whole, checksummed lines, so a line it is still writing is
    /// the unfinished tail and is left out.
    pub fn snapshot(path: &Path) -> Result<(Header, Vec<Record>)> {
        let Contents { header, records, .. } = read(path)?;
        Ok((header, records))
    }

    /// Appends one record and waits until it is on disk.
    pub fn append(&mut self, n: u64, ts: u64, tx: &Bytes, outcome: B256) -> Result<()> {
        let check = chain_check(self.last_check, n, ts, tx, outcome);
        let record = Record { n, ts, tx: tx.clone(), outcome, check };
        let mut line = serde_json::to_string(&record).map_err(|e| corrupted(&self.path, e.to_string()))?;
        line.push('\n');
        self.file.write_all(line.as_bytes()).map_err(io(&self.path))?;
        self.file.sync_data().map_err(io(&self.path))?;
        self.last_check = check;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(dir: &Path) -> PathBuf {
        let path = dir.join("chain.journal");
        let mut j = Journal::create(&path, &Header::new(7, B256::repeat_byte(1), 100)).expect("create");
        j.append(1, 101, &Bytes::from_static(b"tx-one"), B256::repeat_byte(2)).expect("append");
        j.append(2, 102, &Bytes::from_static(b"tx-two"), B256::repeat_byte(3)).expect("append");
        path
    }

    #[test]
    fn round_trips_records() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = sample(dir.path());
        let opened = Journal::open(&path).expect("open");
        assert_eq!(opened.header.chain_id, 7);
        assert_eq!(opened.records.len(), 2);
        assert_eq!(opened.records[1].tx, Bytes::from_static(b"tx-two"));
        assert_eq!(opened.torn_tail_bytes, 0);
    }

    #[test]
    fn a_changed_record_is_corruption() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = sample(dir.path());
        let text = fs::read_to_string(&path).expect("read");
        // "tx-one" is 0x74782d6f6e65; change one hex digit of it.
        fs::write(&path, text.replacen("74782d6f6e65", "74782d6f6e66", 1)).expect("write");
        let err = Journal::open(&path).err().expect("must fail");
        assert!(err.to_string().contains("record 1 fails its checksum"), "{err}");
    }

    #[test]
    fn a_torn_tail_is_dropped_and_the_rest_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = sample(dir.path());
        let mut f = OpenOptions::new().append(true).open(&path).expect("open");
        f.write_all(b"{\"n\":3,\"ts\":1").expect("write");
        drop(f);
        let opened = Journal::open(&path).expect("open");
        assert_eq!(opened.records.len(), 2);
        assert!(opened.torn_tail_bytes > 0);
        let mut journal = opened.journal;
        journal.append(3, 103, &Bytes::from_static(b"tx-three"), B256::ZERO).expect("append");
        drop(journal);
        assert_eq!(Journal::open(&path).expect("reopen").records.len(), 3);
    }

    #[test]
    fn a_second_opener_is_refused_while_the_first_holds_the_journal() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = sample(dir.path());
        let first = Journal::open(&path).expect("open");
        assert!(matches!(Journal::open(&path), Err(ChainError::Busy { .. })));
        drop(first);
        assert!(Journal::open(&path).is_ok(), "lock released on drop");
    }

    #[test]
    fn garbage_is_corruption_not_a_reset() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("chain.journal");
        fs::write(&path, b"\x00\x01garbage\n").expect("write");
        assert!(matches!(Journal::open(&path), Err(ChainError::Corrupted { .. })));
        assert_eq!(fs::read(&path).expect("read"), b"\x00\x01garbage\n");
    }
}
