//! The audit log's SQLite file: the schema (versioned by `user_version`), its creation,
//! and every query. All functions here are blocking and take the one connection.

use std::path::Path;

use alloy_primitives::{Address, B256};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::error::{AuditError, Result};
use super::{Anchor, Entry, Record};

/// The schema this build writes and reads.
pub(crate) const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE records (
    seq         INTEGER PRIMARY KEY CHECK (seq >= 1),
    time        INTEGER NOT NULL CHECK (time >= 0),
    actor       BLOB    NOT NULL CHECK (length(actor) = 20),
    action      TEXT    NOT NULL,
    grant_id    BLOB    CHECK (grant_id IS NULL OR length(grant_id) = 32),
    files       BLOB    NOT NULL CHECK (length(files) % 32 = 0),
    code_digest BLOB    CHECK (code_digest IS NULL OR length(code_digest) = 32),
    params_hash BLOB    CHECK (params_hash IS NULL OR length(params_hash) = 32),
    result_hash BLOB    CHECK (result_hash IS NULL OR length(result_hash) = 32),
    outcome     TEXT    NOT NULL,
    prev_hash   BLOB    NOT NULL CHECK (length(prev_hash) = 32),
    hash        BLOB    NOT NULL CHECK (length(hash) = 32)
) STRICT;
-- Append-only by construction: a bug cannot rewrite history. (Someone with the file can
-- drop these; the hash chain and the anchors are what catch that.)
CREATE TRIGGER records_no_update BEFORE UPDATE ON records
    BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
CREATE TRIGGER records_no_delete BEFORE DELETE ON records
    BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
-- The anchors this log made; idx is the anchor's index in AuditLog for the bound server.
CREATE TABLE anchors (
    idx       INTEGER PRIMARY KEY CHECK (idx >= 0),
    first_seq INTEGER NOT NULL UNIQUE CHECK (first_seq >= 1),
    last_seq  INTEGER NOT NULL CHECK (last_seq >= first_seq),
    root      BLOB    NOT NULL CHECK (length(root) = 32),
    tx_hash   BLOB    NOT NULL CHECK (length(tx_hash) = 32),
    block     INTEGER NOT NULL CHECK (block >= 0)
) STRICT;
-- One row once the first anchor is stored: the server address the anchors belong to.
CREATE TABLE binding (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    server BLOB    NOT NULL CHECK (length(server) = 20)
) STRICT;
";

/// Opens (creating when new) the log at `path`: WAL, `synchronous=FULL`, schema checked.
pub(crate) fn open(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path).map_err(AuditError::db("open the database"))?;
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
        .map_err(AuditError::db("switch to WAL"))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(AuditError::Invalid {
            what: "audit database",
            problem: format!("journal mode is {mode}, not WAL"),
        });
    }
    conn.pragma_update(None, "synchronous", "FULL").map_err(AuditError::db("set synchronous=FULL"))?;
    let found: i64 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(AuditError::db("read the schema version"))?;
    match found {
        0 => {
            let script = format!("BEGIN IMMEDIATE; {SCHEMA} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;");
            conn.execute_batch(&script).map_err(AuditError::db("create the schema"))?;
        }
        SCHEMA_VERSION => {}
        found => return Err(AuditError::Schema { path: path.to_owned(), found, known: SCHEMA_VERSION }),
    }
    Ok(conn)
}

/// `value` as an SQLite integer.
pub(crate) fn to_int(what: &'static str, value: u64) -> Result<i64> {
    i64::try_from(value).map_err(|_| AuditError::Invalid { what, problem: format!("{value} is above {}", i64::MAX) })
}

/// `value` as an SQLite integer, saturating: for upper bounds of a range.
fn bound(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn conversion(column: usize, e: impl std::error::Error + Send + Sync + 'static) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Blob, Box::new(e))
}

fn unsigned(row: &Row<'_>, column: usize) -> rusqlite::Result<u64> {
    let value: i64 = row.get(column)?;
    u64::try_from(value).map_err(|e| conversion(column, e))
}

fn hash(row: &Row<'_>, column: usize) -> rusqlite::Result<B256> {
    let bytes: Vec<u8> = row.get(column)?;
    B256::try_from(bytes.as_slice()).map_err(|e| conversion(column, e))
}

fn optional_hash(row: &Row<'_>, column: usize) -> rusqlite::Result<Option<B256>> {
    let bytes: Option<Vec<u8>> = row.get(column)?;
    bytes.map(|b| B256::try_from(b.as_slice()).map_err(|e| conversion(column, e))).transpose()
}

const RECORD_COLUMNS: &str =
    "seq, time, actor, action, grant_id, files, code_digest, params_hash, result_hash, outcome, prev_hash, hash";

fn row_to_record(row: &Row<'_>) -> rusqlite::Result<Record> {
    let actor: Vec<u8> = row.get(2)?;
    let actor = Address::try_from(actor.as_slice()).map_err(|e| conversion(2, e))?;
    let files: Vec<u8> = row.get(5)?;
    // The CHECK constraint keeps the length a multiple of 32.
    let files = files.chunks_exact(32).map(B256::from_slice).collect();
    Ok(Record {
        seq: unsigned(row, 0)?,
        time: unsigned(row, 1)?,
        entry: Entry {
            actor,
            action: row.get(3)?,
            grant_id: optional_hash(row, 4)?,
            files,
            code_digest: optional_hash(row, 6)?,
            params_hash: optional_hash(row, 7)?,
            result_hash: optional_hash(row, 8)?,
            outcome: row.get(9)?,
        },
        prev_hash: hash(row, 10)?,
        hash: hash(row, 11)?,
    })
}

/// The last record's sequence number and hash; `(0, zero)` for an empty log.
pub(crate) fn head(conn: &Connection) -> Result<(u64, B256)> {
    conn.query_row("SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1", [], |row| {
        Ok((unsigned(row, 0)?, hash(row, 1)?))
    })
    .optional()
    .map_err(AuditError::db("read the last record"))
    .map(|found| found.unwrap_or((0, B256::ZERO)))
}

/// The stored hash of record `seq`, if it exists.
pub(crate) fn hash_of(conn: &Connection, seq: u64) -> Result<Option<B256>> {
    conn.query_row("SELECT hash FROM records WHERE seq = ?1", [bound(seq)], |row| hash(row, 0))
        .optional()
        .map_err(AuditError::db("read a record"))
}

/// Inserts `record` (the caller holds the transaction).
pub(crate) fn insert(conn: &Connection, record: &Record) -> Result<()> {
    let e = &record.entry;
    let files: Vec<u8> = e.files.iter().flat_map(|f| f.0).collect();
    let opt = |h: Option<B256>| h.map(|h| h.to_vec());
    conn.execute(
        &format!("INSERT INTO records ({RECORD_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"),
        params![
            to_int("sequence number", record.seq)?,
            to_int("record time", record.time)?,
            e.actor.as_slice(),
            e.action,
            opt(e.grant_id),
            files,
            opt(e.code_digest),
            opt(e.params_hash),
            opt(e.result_hash),
            e.outcome,
            record.prev_hash.as_slice(),
            record.hash.as_slice(),
        ],
    )
    .map_err(AuditError::db("insert a record"))?;
    Ok(())
}

/// Up to `limit` records with `after_seq < seq <= through_seq`, in order.
pub(crate) fn records(conn: &Connection, after_seq: u64, through_seq: u64, limit: usize) -> Result<Vec<Record>> {
    let mut stmt = conn
        .prepare(&format!("SELECT {RECORD_COLUMNS} FROM records WHERE seq > ?1 AND seq <= ?2 ORDER BY seq LIMIT ?3"))
        .map_err(AuditError::db("read records"))?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = stmt
        .query_map(params![bound(after_seq), bound(through_seq), limit], row_to_record)
        .map_err(AuditError::db("read records"))?;
    rows.collect::<rusqlite::Result<Vec<_>>>().map_err(AuditError::db("read records"))
}

/// The stored hashes of records `first..=last` with their sequence numbers, in order.
pub(crate) fn hashes(conn: &Connection, first: u64, last: u64) -> Result<Vec<(u64, B256)>> {
    let mut stmt = conn
        .prepare("SELECT seq, hash FROM records WHERE seq BETWEEN ?1 AND ?2 ORDER BY seq")
        .map_err(AuditError::db("read record hashes"))?;
    let rows = stmt
        .query_map(params![bound(first), bound(last)], |row| Ok((unsigned(row, 0)?, hash(row, 1)?)))
        .map_err(AuditError::db("read record hashes"))?;
    rows.collect::<rusqlite::Result<Vec<_>>>().map_err(AuditError::db("read record hashes"))
}

const ANCHOR_COLUMNS: &str = "idx, first_seq, last_seq, root, tx_hash, block";

fn row_to_anchor(row: &Row<'_>) -> rusqlite::Result<Anchor> {
    Ok(Anchor {
        index: unsigned(row, 0)?,
        first_seq: unsigned(row, 1)?,
        last_seq: unsigned(row, 2)?,
        root: hash(row, 3)?,
        tx_hash: hash(row, 4)?,
        block: unsigned(row, 5)?,
    })
}

/// The last stored anchor.
pub(crate) fn last_anchor(conn: &Connection) -> Result<Option<Anchor>> {
    conn.query_row(&format!("SELECT {ANCHOR_COLUMNS} FROM anchors ORDER BY idx DESC LIMIT 1"), [], row_to_anchor)
        .optional()
        .map_err(AuditError::db("read the last anchor"))
}

/// The stored anchor with this index.
pub(crate) fn anchor(conn: &Connection, index: u64) -> Result<Option<Anchor>> {
    conn.query_row(&format!("SELECT {ANCHOR_COLUMNS} FROM anchors WHERE idx = ?1"), [bound(index)], row_to_anchor)
        .optional()
        .map_err(AuditError::db("read an anchor"))
}

/// The stored anchor whose range holds `seq`.
pub(crate) fn anchor_covering(conn: &Connection, seq: u64) -> Result<Option<Anchor>> {
    conn.query_row(
        &format!("SELECT {ANCHOR_COLUMNS} FROM anchors WHERE first_seq <= ?1 ORDER BY first_seq DESC LIMIT 1"),
        [bound(seq)],
        row_to_anchor,
    )
    .optional()
    .map_err(AuditError::db("read an anchor"))
    .map(|found| found.filter(|a| a.last_seq >= seq))
}

/// The server the anchors belong to, once bound.
pub(crate) fn bound_server(conn: &Connection) -> Result<Option<Address>> {
    conn.query_row("SELECT server FROM binding WHERE id = 1", [], |row| {
        let bytes: Vec<u8> = row.get(0)?;
        Address::try_from(bytes.as_slice()).map_err(|e| conversion(0, e))
    })
    .optional()
    .map_err(AuditError::db("read the server binding"))
}

/// Stores `anchor` made by `server`, binding the log to `server` on the first one.
pub(crate) fn insert_anchor(conn: &mut Connection, server: Address, anchor: &Anchor) -> Result<()> {
    let tx = conn.transaction().map_err(AuditError::db("begin storing an anchor"))?;
    tx.execute("INSERT OR IGNORE INTO binding (id, server) VALUES (1, ?1)", [server.as_slice()])
        .map_err(AuditError::db("bind the server"))?;
    tx.execute(
        &format!("INSERT INTO anchors ({ANCHOR_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
        params![
            to_int("anchor index", anchor.index)?,
            to_int("sequence number", anchor.first_seq)?,
            to_int("sequence number", anchor.last_seq)?,
            anchor.root.as_slice(),
            anchor.tx_hash.as_slice(),
            to_int("block number", anchor.block)?,
        ],
    )
    .map_err(AuditError::db("store an anchor"))?;
    tx.commit().map_err(AuditError::db("commit an anchor"))
}
