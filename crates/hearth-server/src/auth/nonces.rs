//! Nonces already used, per signer, kept in SQLite until they expire so a replay is
//! refused even after a restart.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use alloy_primitives::{Address, B256};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::{AuthError, EXPIRES_AT_HEADER};

/// Most unexpired nonces held at once; beyond it requests are refused
/// ([`AuthError::NonceStoreFull`]) rather than let the file grow without bound.
pub const NONCES_MAX: u64 = 1_000_000;
/// Most expired nonces deleted by one insert, so no request pays for a long purge
/// (a full purge runs only when the store is at its limit).
const PURGE_BATCH_ROWS_MAX: i64 = 1_024;
/// Longest wait for a lock held by another connection to the same file.
const BUSY_WAIT_MILLIS_MAX: u64 = 5_000;
/// The schema this code reads and writes (`PRAGMA user_version`).
const SCHEMA_VERSION: i64 = 1;

/// `state` is one row: the number of rows in `nonces` (kept by triggers, so the limit
/// check needs no `COUNT(*)` scan) and the latest time the store has been told.
const SCHEMA: &str = "
CREATE TABLE nonces (
    signer     BLOB    NOT NULL CHECK (length(signer) = 20),
    nonce      BLOB    NOT NULL CHECK (length(nonce) = 32),
    expires_at INTEGER NOT NULL CHECK (expires_at >= 0),
    PRIMARY KEY (signer, nonce)
);
CREATE INDEX nonces_by_expiry ON nonces (expires_at);
CREATE TABLE state (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    nonces   INTEGER NOT NULL CHECK (nonces >= 0),
    now_high INTEGER NOT NULL CHECK (now_high >= 0)
);
INSERT INTO state (id, nonces, now_high) VALUES (1, 0, 0);
CREATE TRIGGER nonces_counted_in AFTER INSERT ON nonces
    BEGIN UPDATE state SET nonces = nonces + 1 WHERE id = 1; END;
CREATE TRIGGER nonces_counted_out AFTER DELETE ON nonces
    BEGIN UPDATE state SET nonces = nonces - 1 WHERE id = 1; END;
";

/// The used nonces: an SQLite file (WAL, `synchronous=FULL`), one row per (signer,
/// nonce) until it expires. Shareable across threads; calls are serialised.
pub struct NonceStore {
    path: PathBuf,
    conn: Mutex<Connection>,
    nonces_max: u64,
}

impl std::fmt::Debug for NonceStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NonceStore").field("path", &self.path).field("nonces_max", &self.nonces_max).finish()
    }
}

impl NonceStore {
    /// Opens the store at `path`, creating it when new, holding at most [`NONCES_MAX`].
    pub fn open(path: &Path) -> Result<NonceStore, AuthError> {
        NonceStore::open_with_limit(path, NONCES_MAX)
    }

    /// Opens the store at `path` holding at most `nonces_max` unexpired nonces.
    pub fn open_with_limit(path: &Path, nonces_max: u64) -> Result<NonceStore, AuthError> {
        let conn = Connection::open(path).map_err(AuthError::store("open the database"))?;
        conn.busy_timeout(Duration::from_millis(BUSY_WAIT_MILLIS_MAX))
            .map_err(AuthError::store("set the busy timeout"))?;
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .map_err(AuthError::store("switch to WAL"))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(unavailable("switch to WAL", format!("journal mode is {mode}, not WAL")));
        }
        conn.pragma_update(None, "synchronous", "FULL").map_err(AuthError::store("set synchronous=FULL"))?;
        let found: i64 = conn
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .map_err(AuthError::store("read the schema version"))?;
        match found {
            0 => {
                let script = format!("BEGIN IMMEDIATE; {SCHEMA} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;");
                conn.execute_batch(&script).map_err(AuthError::store("create the schema"))?;
            }
            SCHEMA_VERSION => {}
            found => {
                return Err(unavailable(
                    "read the schema version",
                    format!("schema version {found}; this build knows {SCHEMA_VERSION}"),
                ));
            }
        }
        Ok(NonceStore { path: path.to_owned(), conn: Mutex::new(conn), nonces_max })
    }

    /// Records (signer, nonce) until `expires_at`; `Ok(false)` if already seen. Purges
    /// expired entries as it goes. Refuses with [`AuthError::NonceStoreFull`] when, after
    /// purging, `nonces_max` unexpired nonces are held, and with [`AuthError::Expired`]
    /// when `expires_at` is not after the latest `now` the store has been given (so a
    /// clock set back cannot bring a purged nonce back to life).
    pub fn insert(&self, signer: Address, nonce: B256, expires_at: u64, now: u64) -> Result<bool, AuthError> {
        let expires_int = to_int(expires_at)?;
        let now_int = i64::try_from(now).map_err(|e| unavailable("read the clock", e.to_string()))?;
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(AuthError::store("begin a transaction"))?;
        let now_high: i64 = tx
            .query_row("SELECT now_high FROM state WHERE id = 1", [], |row| row.get(0))
            .map_err(AuthError::store("read the state"))?;
        let now_high = now_high.max(now_int);
        if expires_int <= now_high {
            return Err(AuthError::Expired { expires_at, now: u64::try_from(now_high).unwrap_or(now) });
        }
        tx.execute("UPDATE state SET now_high = ?1 WHERE id = 1", params![now_high])
            .map_err(AuthError::store("record the time"))?;
        tx.execute(
            "DELETE FROM nonces WHERE rowid IN
                (SELECT rowid FROM nonces WHERE expires_at <= ?1 LIMIT ?2)",
            params![now_high, PURGE_BATCH_ROWS_MAX],
        )
        .map_err(AuthError::store("purge expired nonces"))?;
        let seen = tx
            .query_row(
                "SELECT 1 FROM nonces WHERE signer = ?1 AND nonce = ?2",
                params![signer.as_slice(), nonce.as_slice()],
                |_| Ok(()),
            )
            .optional()
            .map_err(AuthError::store("look the nonce up"))?
            .is_some();
        if seen {
            tx.commit().map_err(AuthError::store("commit"))?;
            return Ok(false);
        }
        if count(&tx)? >= self.nonces_max {
            tx.execute("DELETE FROM nonces WHERE expires_at <= ?1", params![now_high])
                .map_err(AuthError::store("purge expired nonces"))?;
            if count(&tx)? >= self.nonces_max {
                tx.commit().map_err(AuthError::store("commit"))?;
                return Err(AuthError::NonceStoreFull);
            }
        }
        tx.execute(
            "INSERT INTO nonces (signer, nonce, expires_at) VALUES (?1, ?2, ?3)",
            params![signer.as_slice(), nonce.as_slice(), expires_int],
        )
        .map_err(AuthError::store("record the nonce"))?;
        tx.commit().map_err(AuthError::store("commit"))?;
        Ok(true)
    }

    /// How many nonces are held, expired ones not yet purged included.
    pub fn len(&self) -> Result<u64, AuthError> {
        count(&self.lock())
    }

    /// Whether no nonce is held.
    pub fn is_empty(&self) -> Result<bool, AuthError> {
        Ok(self.len()? == 0)
    }

    /// The most unexpired nonces this store holds.
    pub fn nonces_max(&self) -> u64 {
        self.nonces_max
    }

    /// The connection. A panic while it was held left no transaction open (rusqlite rolls
    /// back on drop), so a poisoned lock is still a usable connection.
    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn count(conn: &Connection) -> Result<u64, AuthError> {
    let n: i64 = conn
        .query_row("SELECT nonces FROM state WHERE id = 1", [], |row| row.get(0))
        .map_err(AuthError::store("count the nonces"))?;
    u64::try_from(n).map_err(|e| unavailable("count the nonces", e.to_string()))
}

/// An expiry as SQLite's signed integer.
fn to_int(expires_at: u64) -> Result<i64, AuthError> {
    i64::try_from(expires_at)
        .map_err(|_| AuthError::Malformed { header: EXPIRES_AT_HEADER, problem: "out of range for unix seconds" })
}

fn unavailable(action: &'static str, problem: String) -> AuthError {
    AuthError::NonceStoreUnavailable { action, source: problem.into() }
}
