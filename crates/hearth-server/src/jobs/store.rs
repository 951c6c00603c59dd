//! The jobs table in its own SQLite file (`jobs.sqlite`): each job's request, phase
//! history and sealed outputs. Only ciphertext and hashes are stored: `result.json`
//! sealed to the server's own age key, other output files sealed to the app's.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use alloy_primitives::{Address, B256};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::{JobRecord, OutputFile, Phase, PhaseTime, REASON_SERVER_RESTARTED};

/// The schema this code reads and writes (`PRAGMA user_version`).
const SCHEMA_VERSION: i64 = 1;
const SCHEMA: &str = "
CREATE TABLE jobs (
    id          TEXT PRIMARY KEY,
    app         TEXT NOT NULL,
    grant_id    TEXT NOT NULL,
    operation   TEXT NOT NULL,
    scope       TEXT NOT NULL,
    params      BLOB NOT NULL,
    params_hash TEXT NOT NULL,
    phase       TEXT NOT NULL,
    reason      TEXT,
    created_at  INTEGER NOT NULL,
    phases      TEXT NOT NULL,
    exit_code   INTEGER,
    inputs      TEXT NOT NULL DEFAULT '[]',
    result_hash TEXT,
    result      BLOB
);
CREATE INDEX jobs_by_phase ON jobs (phase, created_at);
CREATE TABLE job_files (
    job_id     TEXT NOT NULL REFERENCES jobs (id),
    name       TEXT NOT NULL,
    sha256     TEXT NOT NULL,
    ciphertext BLOB NOT NULL,
    PRIMARY KEY (job_id, name)
);
";

/// Why the job store failed: a database error, with the operation that failed.
#[derive(Debug, thiserror::Error)]
#[error("jobs database: {what}: {source}")]
pub struct JobStoreError {
    what: &'static str,
    #[source]
    source: rusqlite::Error,
}

fn db(what: &'static str) -> impl FnOnce(rusqlite::Error) -> JobStoreError {
    move |source| JobStoreError { what, source }
}

type Result<T> = std::result::Result<T, JobStoreError>;

/// What the pipeline stores when a job ends.
pub struct Ending<'a> {
    /// The terminal phase.
    pub phase: Phase,
    /// Why, unless it succeeded.
    pub reason: Option<&'a str>,
    /// When, unix seconds.
    pub at: u64,
    /// The container's exit code, if it ran.
    pub exit_code: Option<i32>,
    /// The hash the audit record names.
    pub result_hash: Option<B256>,
    /// `result.json` sealed to the server's key.
    pub sealed_result: Option<Vec<u8>>,
    /// Output files: name, plaintext sha256, ciphertext to the app.
    pub files: Vec<(String, B256, Vec<u8>)>,
}

/// The jobs database. `Send + Sync`; its methods block (call them off the async workers).
pub struct JobStore {
    conn: Mutex<Connection>,
}

impl JobStore {
    /// Opens (or creates) the database at `path`.
    pub fn open(path: &Path) -> Result<JobStore> {
        let conn = Connection::open(path).map_err(db("open"))?;
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get::<_, String>(0))
            .map_err(db("set journal_mode=WAL"))?;
        conn.pragma_update(None, "synchronous", "FULL").map_err(db("set synchronous=FULL"))?;
        let version: i64 =
            conn.pragma_query_value(None, "user_version", |row| row.get(0)).map_err(db("read version"))?;
        if version == 0 {
            let script = format!("BEGIN IMMEDIATE; {SCHEMA} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;");
            conn.execute_batch(&script).map_err(db("create the schema"))?;
        } else if version != SCHEMA_VERSION {
            return Err(JobStoreError {
                what: "check the schema version",
                source: rusqlite::Error::InvalidParameterName(format!("unknown jobs schema version {version}")),
            });
        }
        Ok(JobStore { conn: Mutex::new(conn) })
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // SQLite rolls back an open transaction when its guard is dropped mid-panic.
        self.conn.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Ends every job a stopped server left in a working phase as failed with
    /// `server_restarted`; returns the ids still queued, oldest first, to run again.
    pub fn recover(&self, at: u64) -> Result<(Vec<String>, Vec<String>)> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db("begin recovery"))?;
        let working: Vec<(String, String)> = {
            let mut stmt = tx
                .prepare("SELECT id, phases FROM jobs WHERE phase IN ('verifying', 'preparing', 'running', 'sealing')")
                .map_err(db("find interrupted jobs"))?;
            stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
                .map_err(db("find interrupted jobs"))?
                .collect::<std::result::Result<_, _>>()
                .map_err(db("find interrupted jobs"))?
        };
        for (id, phases) in &working {
            let phases = push_phase(phases, Phase::Failed, at);
            tx.execute(
                "UPDATE jobs SET phase = 'failed', reason = ?2, phases = ?3 WHERE id = ?1",
                params![id, REASON_SERVER_RESTARTED, phases],
            )
            .map_err(db("end an interrupted job"))?;
        }
        let queued: Vec<String> = {
            let mut stmt = tx
                .prepare("SELECT id FROM jobs WHERE phase = 'queued' ORDER BY created_at, rowid")
                .map_err(db("find queued jobs"))?;
            stmt.query_map([], |row| row.get(0))
                .map_err(db("find queued jobs"))?
                .collect::<std::result::Result<_, _>>()
                .map_err(db("find queued jobs"))?
        };
        tx.commit().map_err(db("commit recovery"))?;
        Ok((working.into_iter().map(|(id, _)| id).collect(), queued))
    }

    /// Jobs not yet in a terminal phase.
    pub fn unfinished(&self) -> Result<usize> {
        let n: i64 = self
            .lock()
            .query_row(
                "SELECT COUNT(*) FROM jobs WHERE phase IN ('queued', 'verifying', 'preparing', 'running', 'sealing')",
                [],
                |row| row.get(0),
            )
            .map_err(db("count unfinished jobs"))?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    /// Stores a new, queued job.
    pub fn insert(&self, job: &JobRecord, params_json: &[u8]) -> Result<()> {
        let phases = serde_json::to_string(&job.phases).unwrap_or_else(|_| "[]".into());
        self.lock()
            .execute(
                "INSERT INTO jobs (id, app, grant_id, operation, scope, params, params_hash, phase, created_at, phases)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    job.id,
                    job.app.to_string(),
                    job.grant.to_string(),
                    job.operation.to_string(),
                    job.scope,
                    params_json,
                    job.params_hash.to_string(),
                    job.phase.as_str(),
                    job.created_at as i64,
                    phases
                ],
            )
            .map_err(db("insert a job"))?;
        Ok(())
    }

    /// Moves a job that is not finished to a working phase; false if it had already
    /// finished (a cancel won the race).
    pub fn advance(&self, id: &str, phase: Phase, at: u64) -> Result<bool> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db("begin a phase change"))?;
        let Some((current, phases)) = current(&tx, id)? else { return Ok(false) };
        if current.is_terminal() {
            return Ok(false);
        }
        tx.execute(
            "UPDATE jobs SET phase = ?2, phases = ?3 WHERE id = ?1",
            params![id, phase.as_str(), push_phase(&phases, phase, at)],
        )
        .map_err(db("change a phase"))?;
        tx.commit().map_err(db("commit a phase change"))?;
        Ok(true)
    }

    /// Records the ciphertext hashes of a job's inputs.
    pub fn set_inputs(&self, id: &str, inputs: &[B256]) -> Result<()> {
        let inputs = serde_json::to_string(inputs).unwrap_or_else(|_| "[]".into());
        self.lock()
            .execute("UPDATE jobs SET inputs = ?2 WHERE id = ?1", params![id, inputs])
            .map_err(db("set inputs"))?;
        Ok(())
    }

    /// Ends a job, unless it has already ended; false if it had.
    pub fn finish(&self, id: &str, ending: Ending<'_>) -> Result<bool> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db("begin finishing a job"))?;
        let Some((current, phases)) = current(&tx, id)? else { return Ok(false) };
        if current.is_terminal() {
            return Ok(false);
        }
        tx.execute(
            "UPDATE jobs SET phase = ?2, reason = ?3, phases = ?4, exit_code = ?5, result_hash = ?6, result = ?7
             WHERE id = ?1",
            params![
                id,
                ending.phase.as_str(),
                ending.reason,
                push_phase(&phases, ending.phase, ending.at),
                ending.exit_code,
                ending.result_hash.map(|h| h.to_string()),
                ending.sealed_result
            ],
        )
        .map_err(db("finish a job"))?;
        for (name, sha256, ciphertext) in &ending.files {
            tx.execute(
                "INSERT INTO job_files (job_id, name, sha256, ciphertext) VALUES (?1, ?2, ?3, ?4)",
                params![id, name, sha256.to_string(), ciphertext],
            )
            .map_err(db("store an output file"))?;
        }
        tx.commit().map_err(db("commit a finished job"))?;
        Ok(true)
    }

    /// One job, without its outputs' bytes.
    pub fn get(&self, id: &str) -> Result<Option<JobRecord>> {
        let conn = self.lock();
        let job = conn
            .query_row(
                "SELECT id, app, grant_id, operation, scope, params_hash, phase, reason, created_at, phases, exit_code,
                        inputs, result_hash
                 FROM jobs WHERE id = ?1",
                [id],
                |row| {
                    let parse_b256 = |i: usize| -> rusqlite::Result<B256> {
                        let text: String = row.get(i)?;
                        text.parse().map_err(|_| conversion(i, "a 32-byte hex hash"))
                    };
                    let app: String = row.get(1)?;
                    let phase: String = row.get(6)?;
                    let phases: String = row.get(9)?;
                    let inputs: String = row.get(11)?;
                    let result_hash: Option<String> = row.get(12)?;
                    Ok(JobRecord {
                        id: row.get(0)?,
                        app: app.parse::<Address>().map_err(|_| conversion(1, "an address"))?,
                        grant: parse_b256(2)?,
                        operation: parse_b256(3)?,
                        scope: row.get(4)?,
                        params_hash: parse_b256(5)?,
                        phase: Phase::parse(&phase).ok_or_else(|| conversion(6, "a phase"))?,
                        reason: row.get(7)?,
                        created_at: row.get::<_, i64>(8)? as u64,
                        phases: serde_json::from_str(&phases).map_err(|_| conversion(9, "a phase list"))?,
                        exit_code: row.get(10)?,
                        inputs: serde_json::from_str(&inputs).map_err(|_| conversion(11, "a hash list"))?,
                        result_hash: result_hash
                            .map(|h| h.parse().map_err(|_| conversion(12, "a 32-byte hex hash")))
                            .transpose()?,
                        files: Vec::new(),
                    })
                },
            )
            .optional()
            .map_err(db("read a job"))?;
        let Some(mut job) = job else { return Ok(None) };
        let mut stmt = conn
            .prepare("SELECT name, sha256, length(ciphertext) FROM job_files WHERE job_id = ?1 ORDER BY name")
            .map_err(db("list output files"))?;
        job.files = stmt
            .query_map([id], |row| {
                let sha256: String = row.get(1)?;
                Ok(OutputFile {
                    name: row.get(0)?,
                    sha256: sha256.parse().map_err(|_| conversion(1, "a 32-byte hex hash"))?,
                    size: row.get::<_, i64>(2)? as u64,
                })
            })
            .map_err(db("list output files"))?
            .collect::<std::result::Result<_, _>>()
            .map_err(db("list output files"))?;
        Ok(Some(job))
    }

    /// A job's `params.json` bytes.
    pub fn params(&self, id: &str) -> Result<Option<Vec<u8>>> {
        self.lock()
            .query_row("SELECT params FROM jobs WHERE id = ?1", [id], |row| row.get(0))
            .optional()
            .map_err(db("read parameters"))
    }

    /// A finished job's sealed `result.json`.
    pub fn sealed_result(&self, id: &str) -> Result<Option<Vec<u8>>> {
        Ok(self
            .lock()
            .query_row("SELECT result FROM jobs WHERE id = ?1", [id], |row| row.get::<_, Option<Vec<u8>>>(0))
            .optional()
            .map_err(db("read a result"))?
            .flatten())
    }

    /// One output file's ciphertext (to the app).
    pub fn file(&self, id: &str, name: &str) -> Result<Option<Vec<u8>>> {
        self.lock()
            .query_row("SELECT ciphertext FROM job_files WHERE job_id = ?1 AND name = ?2", [id, name], |row| row.get(0))
            .optional()
            .map_err(db("read an output file"))
    }
}

fn current(conn: &Connection, id: &str) -> Result<Option<(Phase, String)>> {
    let row: Option<(String, String)> = conn
        .query_row("SELECT phase, phases FROM jobs WHERE id = ?1", [id], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()
        .map_err(db("read a phase"))?;
    // An unknown phase string can only come from a newer version: treat it as finished.
    Ok(row.map(|(phase, phases)| (Phase::parse(&phase).unwrap_or(Phase::Failed), phases)))
}

fn push_phase(phases: &str, phase: Phase, at: u64) -> String {
    let mut list: Vec<PhaseTime> = serde_json::from_str(phases).unwrap_or_default();
    list.push(PhaseTime { phase, at });
    serde_json::to_string(&list).unwrap_or_else(|_| "[]".into())
}

fn conversion(column: usize, what: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        column,
        rusqlite::types::Type::Text,
        format!("the jobs database holds something other than {what}").into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(id: &str, created_at: u64) -> JobRecord {
        JobRecord {
            id: id.to_owned(),
            app: Address::repeat_byte(1),
            grant: B256::repeat_byte(2),
            operation: B256::repeat_byte(3),
            scope: "journal".into(),
            params_hash: alloy_primitives::keccak256(b"{}"),
            phase: Phase::Queued,
            reason: None,
            created_at,
            phases: vec![PhaseTime { phase: Phase::Queued, at: created_at }],
            exit_code: None,
            inputs: vec![],
            result_hash: None,
            files: vec![],
        }
    }

    #[test]
    fn a_restart_fails_working_jobs_and_requeues_queued_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jobs.sqlite");
        let store = JobStore::open(&path).unwrap();
        for (id, at) in [("running", 10), ("queued-late", 12), ("queued-early", 11), ("done", 9)] {
            store.insert(&job(id, at), b"{}").unwrap();
        }
        assert!(store.advance("running", Phase::Verifying, 20).unwrap());
        assert!(store.advance("running", Phase::Running, 21).unwrap());
        let ending = Ending {
            phase: Phase::Succeeded,
            reason: None,
            at: 22,
            exit_code: Some(0),
            result_hash: Some(B256::repeat_byte(7)),
            sealed_result: Some(b"sealed".to_vec()),
            files: vec![("out.txt".into(), B256::repeat_byte(8), b"ciphertext".to_vec())],
        };
        assert!(store.finish("done", ending).unwrap());
        drop(store);

        let store = JobStore::open(&path).unwrap();
        let (restarted, queued) = store.recover(30).unwrap();
        assert_eq!(restarted, ["running"]);
        assert_eq!(queued, ["queued-early", "queued-late"], "oldest first");
        let ended = store.get("running").unwrap().unwrap();
        assert_eq!(ended.phase, Phase::Failed);
        assert_eq!(ended.reason.as_deref(), Some(REASON_SERVER_RESTARTED));
        let times: Vec<(Phase, u64)> = ended.phases.iter().map(|p| (p.phase, p.at)).collect();
        assert_eq!(times, [(Phase::Queued, 10), (Phase::Verifying, 20), (Phase::Running, 21), (Phase::Failed, 30)]);
        let done = store.get("done").unwrap().unwrap();
        assert_eq!(done.phase, Phase::Succeeded, "finished jobs stay as they were");
        assert_eq!(done.files, [OutputFile { name: "out.txt".into(), sha256: B256::repeat_byte(8), size: 10 }]);
        assert_eq!(store.sealed_result("done").unwrap().as_deref(), Some(&b"sealed"[..]));
        assert_eq!(store.unfinished().unwrap(), 2);
    }

    #[test]
    fn a_finished_job_does_not_move_again() {
        let dir = tempfile::tempdir().unwrap();
        let store = JobStore::open(&dir.path().join("jobs.sqlite")).unwrap();
        store.insert(&job("a", 1), b"{}").unwrap();
        let cancelled = Ending {
            phase: Phase::Cancelled,
            reason: Some("cancelled"),
            at: 2,
            exit_code: None,
            result_hash: None,
            sealed_result: None,
            files: vec![],
        };
        assert!(store.finish("a", cancelled).unwrap());
        assert!(!store.advance("a", Phase::Running, 3).unwrap(), "a cancel that won the race stands");
        assert_eq!(store.get("a").unwrap().unwrap().phase, Phase::Cancelled);
        assert!(store.get("missing").unwrap().is_none());
    }
}
