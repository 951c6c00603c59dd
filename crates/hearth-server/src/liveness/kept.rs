//! The contributor's side: which kept file answers for which contribution of which
//! `LivenessRegistry` (`liveness.sqlite`). A row is written only when the owner registers
//! the commitment through this server (`POST /v1/owner/liveness`), after the server has
//! checked it on chain, so the server answers only registries its owner chose, only to
//! their challenger, and only for files the owner committed.

use std::path::Path;
use std::sync::{Mutex, PoisonError};

use alloy_primitives::{Address, B256, U256};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

/// File of the kept commitments inside the data directory.
pub const KEPT_FILE: &str = "liveness.sqlite";
/// Most commitments one server answers for.
pub const KEPT_COMMITMENTS_MAX: u64 = 10_000;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS kept (
    registry          TEXT    NOT NULL,
    contribution_id   TEXT    NOT NULL,
    file_id           INTEGER NOT NULL CHECK (file_id >= 0),
    challenger        TEXT    NOT NULL,
    ciphertext_sha256 TEXT    NOT NULL,
    chunk_size        INTEGER NOT NULL CHECK (chunk_size > 0),
    PRIMARY KEY (registry, contribution_id)
);
";

/// One contribution this server answers for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeptCommitment {
    /// The `LivenessRegistry`.
    pub registry: Address,
    /// The contribution's id there.
    pub contribution_id: U256,
    /// The kept file (its id in this server's store).
    pub file_id: u64,
    /// The only signer whose challenges are answered (the registry's immutable challenger).
    pub challenger: Address,
    /// sha256 of the committed ciphertext.
    pub ciphertext_sha256: B256,
    /// Bytes per chunk.
    pub chunk_size: u32,
}

/// Why the kept commitments could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum KeptError {
    /// SQLite failed.
    #[error("liveness.sqlite: {0}")]
    Db(#[from] rusqlite::Error),
    /// A stored value does not parse (the file was edited by hand).
    #[error("liveness.sqlite holds a malformed {0}")]
    Malformed(&'static str),
    /// [`KEPT_COMMITMENTS_MAX`] reached.
    #[error("this server already answers for {KEPT_COMMITMENTS_MAX} commitments")]
    Full,
}

/// The kept commitments: one SQLite file, calls serialised.
pub struct Kept(Mutex<Connection>);

impl std::fmt::Debug for Kept {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Kept")
    }
}

impl Kept {
    /// Opens (or creates) the file at `path`.
    pub fn open(path: &Path) -> Result<Kept, KeptError> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.execute_batch(SCHEMA)?;
        Ok(Kept(Mutex::new(conn)))
    }

    /// Records `k`, replacing an earlier record of the same contribution. Blocks on an fsync.
    pub fn insert(&self, k: &KeptCommitment) -> Result<(), KeptError> {
        let conn = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let count: i64 = conn.query_row("SELECT count(*) FROM kept", [], |r| r.get(0))?;
        let exists = get(&conn, k.registry, k.contribution_id)?.is_some();
        if u64::try_from(count).unwrap_or(u64::MAX) >= KEPT_COMMITMENTS_MAX && !exists {
            return Err(KeptError::Full);
        }
        conn.execute(
            "INSERT OR REPLACE INTO kept VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                k.registry.to_string(),
                k.contribution_id.to_string(),
                i64::try_from(k.file_id).map_err(|_| KeptError::Malformed("file id"))?,
                k.challenger.to_string(),
                k.ciphertext_sha256.to_string(),
                k.chunk_size
            ],
        )?;
        Ok(())
    }

    /// The record of contribution `id` of `registry`, if this server answers for it.
    pub fn get(&self, registry: Address, id: U256) -> Result<Option<KeptCommitment>, KeptError> {
        get(&self.0.lock().unwrap_or_else(PoisonError::into_inner), registry, id)
    }
}

fn get(conn: &Connection, registry: Address, id: U256) -> Result<Option<KeptCommitment>, KeptError> {
    let row = conn
        .query_row(
            "SELECT file_id, challenger, ciphertext_sha256, chunk_size FROM kept
             WHERE registry = ?1 AND contribution_id = ?2",
            params![registry.to_string(), id.to_string()],
            |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, u32>(3)?)),
        )
        .optional()?;
    let Some((file_id, challenger, sha256, chunk_size)) = row else { return Ok(None) };
    Ok(Some(KeptCommitment {
        registry,
        contribution_id: id,
        file_id: u64::try_from(file_id).map_err(|_| KeptError::Malformed("file id"))?,
        challenger: challenger.parse().map_err(|_| KeptError::Malformed("challenger"))?,
        ciphertext_sha256: sha256.parse().map_err(|_| KeptError::Malformed("ciphertext sha256"))?,
        chunk_size,
    }))
}
