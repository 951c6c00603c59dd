//! File metadata in SQLite: the schema (versioned by `user_version`), its creation, and
//! every query the store runs. All functions here are blocking; the store calls them
//! from `spawn_blocking`.

use std::path::Path;

use alloy_primitives::B256;
use hearth_core::pattern_covers;
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};
use serde::{Deserialize, Serialize};

use crate::error::{Result, StoreError};

/// The schema this build writes and reads.
pub(crate) const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE files (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    scope         TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    version       INTEGER NOT NULL CHECK (version >= 1),
    size          INTEGER NOT NULL CHECK (size >= 0),
    sha256        BLOB    NOT NULL CHECK (length(sha256) = 32),
    created_at    INTEGER NOT NULL CHECK (created_at >= 0),
    chain_file_id INTEGER CHECK (chain_file_id >= 0),
    blob_key      TEXT    NOT NULL UNIQUE,
    UNIQUE (scope, name, version)
) STRICT;
CREATE INDEX files_by_scope ON files (scope, id);
-- The last version handed out per (scope, name); never goes down, even after deletes.
CREATE TABLE names (
    scope        TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    last_version INTEGER NOT NULL,
    PRIMARY KEY (scope, name)
) STRICT, WITHOUT ROWID;
";

/// A committed file, as listed and returned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileMeta {
    /// Store-wide id; ids only grow and are never reused.
    pub id: u64,
    /// The scope the file belongs to (`journal`, `messages.sms`).
    pub scope: String,
    /// The original file name.
    pub name: String,
    /// 1 for the first file with this (scope, name), then one more for each later one.
    pub version: u32,
    /// Ciphertext size in bytes.
    pub size: u64,
    /// SHA-256 of the ciphertext.
    pub sha256: B256,
    /// Unix seconds.
    pub created_at: u64,
    /// The file's id in the on-chain `DataRegistry`, once registered.
    pub chain_file_id: Option<u64>,
}

/// What the caller says about a staged file when committing it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewFile {
    /// A valid scope name (see `hearth_core::Scope`).
    pub scope: String,
    /// The original file name: 1 to [`crate::NAME_BYTES_MAX`] bytes, no control characters.
    pub name: String,
    /// The file's id in the on-chain `DataRegistry`, if already registered.
    pub chain_file_id: Option<u64>,
    /// Unix seconds, stored as given.
    pub created_at: u64,
}

impl NewFile {
    /// A file created now by the system clock, not registered on chain.
    pub fn now(scope: impl Into<String>, name: impl Into<String>) -> NewFile {
        use hearth_core::Clock;
        NewFile {
            scope: scope.into(),
            name: name.into(),
            chain_file_id: None,
            created_at: hearth_core::SystemClock.now_secs(),
        }
    }

    /// Checks the scope and the name.
    pub(crate) fn validate(&self) -> Result<()> {
        self.scope
            .parse::<hearth_core::Scope>()
            .map_err(|e| StoreError::Invalid { what: "scope", problem: e.to_string() })?;
        let bad_name = |problem: String| StoreError::Invalid { what: "file name", problem };
        if self.name.is_empty() {
            return Err(bad_name("empty".into()));
        }
        if self.name.len() > crate::NAME_BYTES_MAX {
            return Err(bad_name(format!("longer than {} bytes", crate::NAME_BYTES_MAX)));
        }
        if self.name.chars().any(char::is_control) {
            return Err(bad_name(format!("{:?} has control characters", self.name)));
        }
        Ok(())
    }
}

/// Which scopes a listing covers.
#[derive(Debug, Clone)]
pub(crate) enum ScopeFilter {
    /// Every scope.
    All,
    /// A scope or a pattern, matched with `hearth_core::pattern_covers`.
    Pattern(String),
}

impl ScopeFilter {
    /// `None` or `*` for every scope, else a scope or a `prefix.*` pattern.
    pub(crate) fn new(scope: Option<&str>) -> Result<ScopeFilter> {
        match scope {
            None | Some("*") => Ok(ScopeFilter::All),
            Some(pattern) => {
                hearth_core::validate_pattern(pattern)
                    .map_err(|e| StoreError::Invalid { what: "scope pattern", problem: e.to_string() })?;
                Ok(ScopeFilter::Pattern(pattern.to_owned()))
            }
        }
    }

    /// The inclusive range of scope texts a pattern can cover, for the index (a superset:
    /// the final word is `pattern_covers`).
    fn range(&self) -> Option<(String, String)> {
        let ScopeFilter::Pattern(pattern) = self else { return None };
        match pattern.strip_suffix(".*") {
            // `p.*`: every text from `p.` up to `p/` (`/` is the byte after `.`).
            Some(stem) => Some((format!("{stem}."), format!("{stem}/"))),
            None => Some((pattern.to_owned(), pattern.to_owned())),
        }
    }

    fn covers(&self, scope: &str) -> bool {
        match self {
            ScopeFilter::All => true,
            ScopeFilter::Pattern(pattern) => pattern_covers(pattern, scope),
        }
    }
}

/// Opens (creating when new) the database at `path`: WAL, `synchronous=FULL`, schema checked.
pub(crate) fn open(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path).map_err(StoreError::db("open the database"))?;
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
        .map_err(StoreError::db("switch to WAL"))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Invalid {
            what: "metadata database",
            problem: format!("journal mode is {mode}, not WAL"),
        });
    }
    conn.pragma_update(None, "synchronous", "FULL").map_err(StoreError::db("set synchronous=FULL"))?;
    let found: i64 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(StoreError::db("read the schema version"))?;
    match found {
        0 => {
            let script = format!("BEGIN IMMEDIATE; {SCHEMA} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;");
            conn.execute_batch(&script).map_err(StoreError::db("create the schema"))?;
        }
        SCHEMA_VERSION => {}
        found => return Err(StoreError::Schema { path: path.to_owned(), found, known: SCHEMA_VERSION }),
    }
    Ok(conn)
}

fn to_int(what: &'static str, value: u64) -> Result<i64> {
    i64::try_from(value).map_err(|_| StoreError::Invalid { what, problem: format!("{value} is above {}", i64::MAX) })
}

const COLUMNS: &str = "id, scope, name, version, size, sha256, created_at, chain_file_id, blob_key";

fn conversion(column: usize, e: impl std::error::Error + Send + Sync + 'static) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Integer, Box::new(e))
}

/// Column `column` as a `u64` (the schema's CHECK constraints keep it non-negative).
fn unsigned(row: &Row<'_>, column: usize) -> rusqlite::Result<u64> {
    let value: i64 = row.get(column)?;
    u64::try_from(value).map_err(|e| conversion(column, e))
}

/// Reads a row selected with [`COLUMNS`]; the CHECK constraints keep every value in range.
fn row_to_meta(row: &Row<'_>) -> rusqlite::Result<(FileMeta, String)> {
    let sha: Vec<u8> = row.get(5)?;
    let sha256 = B256::try_from(sha.as_slice()).map_err(|e| conversion(5, e))?;
    let chain: Option<i64> = row.get(7)?;
    let chain = chain.map(|c| u64::try_from(c).map_err(|e| conversion(7, e))).transpose()?;
    let meta = FileMeta {
        id: unsigned(row, 0)?,
        scope: row.get(1)?,
        name: row.get(2)?,
        version: row.get(3)?,
        size: unsigned(row, 4)?,
        sha256,
        created_at: unsigned(row, 6)?,
        chain_file_id: chain,
    };
    Ok((meta, row.get(8)?))
}

/// Inserts the row for a staged blob in one transaction and returns it.
pub(crate) fn insert(
    conn: &mut Connection,
    key: &str,
    sha256: &[u8; 32],
    size: u64,
    new: &NewFile,
) -> Result<FileMeta> {
    let size_int = to_int("size", size)?;
    let created = to_int("created_at", new.created_at)?;
    let chain = new.chain_file_id.map(|c| to_int("chain_file_id", c)).transpose()?;
    let tx =
        conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(StoreError::db("begin a commit"))?;
    let version: i64 = tx
        .query_row(
            "INSERT INTO names (scope, name, last_version) VALUES (?1, ?2, 1)
             ON CONFLICT (scope, name) DO UPDATE SET last_version = last_version + 1
             RETURNING last_version",
            params![new.scope, new.name],
            |row| row.get(0),
        )
        .map_err(StoreError::db("number the version"))?;
    if version > i64::from(u32::MAX) {
        return Err(StoreError::Invalid {
            what: "file name",
            problem: format!("{:?} has run out of versions", new.name),
        });
    }
    tx.execute(
        "INSERT INTO files (scope, name, version, size, sha256, created_at, chain_file_id, blob_key)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![new.scope, new.name, version, size_int, sha256.as_slice(), created, chain, key],
    )
    .map_err(StoreError::db("insert the file row"))?;
    let id = tx.last_insert_rowid();
    tx.commit().map_err(StoreError::db("commit the file row"))?;
    Ok(FileMeta {
        id: id.cast_unsigned(),
        scope: new.scope.clone(),
        name: new.name.clone(),
        // Checked against u32::MAX above; versions start at 1.
        version: u32::try_from(version).unwrap_or(u32::MAX),
        size,
        sha256: B256::from(*sha256),
        created_at: new.created_at,
        chain_file_id: new.chain_file_id,
    })
}

/// The row with `id` and its blob key.
pub(crate) fn get(conn: &Connection, id: u64) -> Result<Option<(FileMeta, String)>> {
    let Ok(id) = i64::try_from(id) else { return Ok(None) };
    conn.query_row(&format!("SELECT {COLUMNS} FROM files WHERE id = ?1"), [id], row_to_meta)
        .optional()
        .map_err(StoreError::db("read a file row"))
}

/// Removes the row with `id` in one transaction; returns what it held.
pub(crate) fn delete(conn: &mut Connection, id: u64) -> Result<Option<(FileMeta, String)>> {
    let Ok(id_int) = i64::try_from(id) else { return Ok(None) };
    let tx =
        conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(StoreError::db("begin a delete"))?;
    let row = tx
        .query_row(&format!("DELETE FROM files WHERE id = ?1 RETURNING {COLUMNS}"), [id_int], row_to_meta)
        .optional()
        .map_err(StoreError::db("delete a file row"))?;
    tx.commit().map_err(StoreError::db("commit a delete"))?;
    Ok(row)
}

/// Up to `limit` rows with id above `after_id` whose scope `filter` covers, by id.
pub(crate) fn list(conn: &Connection, filter: &ScopeFilter, after_id: u64, limit: usize) -> Result<Vec<FileMeta>> {
    let mut out = Vec::with_capacity(limit);
    let Ok(mut after) = i64::try_from(after_id) else { return Ok(out) };
    let range = filter.range();
    let sql = match range {
        None => format!("SELECT {COLUMNS} FROM files WHERE id > ?1 ORDER BY id LIMIT ?2"),
        Some(_) => {
            format!("SELECT {COLUMNS} FROM files WHERE id > ?1 AND scope BETWEEN ?3 AND ?4 ORDER BY id LIMIT ?2")
        }
    };
    let mut stmt = conn.prepare(&sql).map_err(StoreError::db("prepare a listing"))?;
    let batch = i64::try_from(limit).unwrap_or(i64::MAX);
    while out.len() < limit {
        let rows: Vec<(FileMeta, String)> = match &range {
            None => stmt.query_map(params![after, batch], row_to_meta),
            Some((from, to)) => stmt.query_map(params![after, batch, from, to], row_to_meta),
        }
        .and_then(|rows| rows.collect())
        .map_err(StoreError::db("list file rows"))?;
        let Some((last, _)) = rows.last() else { break };
        after = to_int("file id", last.id)?;
        let fetched = rows.len();
        out.extend(
            rows.into_iter().map(|(meta, _)| meta).filter(|meta| filter.covers(&meta.scope)).take(limit - out.len()),
        );
        if fetched < limit {
            break;
        }
    }
    Ok(out)
}

/// Whether some committed row owns the blob `key`.
pub(crate) fn has_blob(conn: &Connection, key: &str) -> Result<bool> {
    conn.prepare("SELECT 1 FROM files WHERE blob_key = ?1")
        .and_then(|mut stmt| stmt.exists([key]))
        .map_err(StoreError::db("look up a blob key"))
}
