//! Test fixtures: a data directory per test, the local and S3 backends (a shared
//! `moto_server` with a bucket per test), and the fault injection the tests need
//! (flip a blob's byte, remove it, leave an unfinished upload).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hearth_store::{BLOBS_DIR, BlobConfig, DB_FILE, FileMeta, NewFile, S3Config, Store, StoreConfig, StoreError};
use tokio::io::AsyncReadExt;

/// How long moto may take to start answering.
const MOTO_START_SECS_MAX: u64 = 60;
/// The install line printed when `moto_server` is missing.
pub const MOTO_INSTALL: &str = "pip install 'moto[server]'";
/// moto accepts any credentials; this one must never show up in messages.
pub const S3_SECRET: &str = "hearth-test-secret-DO-NOT-PRINT";

/// Runs each named async test function against both backends.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod local {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name($crate::harness::Fixture::local()).await
                }
            )*
        }
        mod s3 {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name($crate::harness::Fixture::s3()).await
                }
            )*
        }
    };
}

/// Which backend a fixture uses.
pub enum Backend {
    Local,
    S3 { port: u16, bucket: String },
}

/// A fresh data directory (and, for S3, a fresh bucket).
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub backend: Backend,
}

fn unique() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::SeqCst)
}

impl Fixture {
    pub fn local() -> Fixture {
        Fixture { dir: tempfile::tempdir().unwrap(), backend: Backend::Local }
    }

    pub fn s3() -> Fixture {
        let moto = moto();
        let bucket = format!("hearth-{}-{}", std::process::id(), unique());
        let (status, body) = http(moto.port, "PUT", &format!("/{bucket}"), b"");
        assert_eq!(status, 200, "create bucket {bucket}: {}", String::from_utf8_lossy(&body));
        Fixture { dir: tempfile::tempdir().unwrap(), backend: Backend::S3 { port: moto.port, bucket } }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn config(&self) -> StoreConfig {
        let blobs = match &self.backend {
            Backend::Local => BlobConfig::Local,
            Backend::S3 { port, bucket } => BlobConfig::S3(S3Config {
                bucket: bucket.clone(),
                region: "us-east-1".into(),
                endpoint: Some(format!("http://127.0.0.1:{port}")),
                access_key_id: "hearth-test-key".into(),
                secret_access_key: S3_SECRET.into(),
                allow_http: true,
            }),
        };
        StoreConfig { blobs, ..StoreConfig::new(self.data_dir()) }
    }

    pub async fn open(&self) -> Store {
        Store::open(&self.config()).await.unwrap()
    }

    /// The blob key of file `id`, read from the metadata database.
    pub fn key_of(&self, id: u64) -> String {
        let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY;
        let conn = rusqlite::Connection::open_with_flags(self.data_dir().join(DB_FILE), flags).unwrap();
        conn.query_row("SELECT blob_key FROM files WHERE id = ?1", [id as i64], |row| row.get(0)).unwrap()
    }

    fn local_path(&self, key: &str) -> PathBuf {
        self.data_dir().join(BLOBS_DIR).join(key)
    }

    pub fn read_blob(&self, key: &str) -> Vec<u8> {
        match &self.backend {
            Backend::Local => std::fs::read(self.local_path(key)).unwrap(),
            Backend::S3 { port, bucket } => {
                let (status, body) = http(*port, "GET", &format!("/{bucket}/{key}"), b"");
                assert_eq!(status, 200, "get {key}");
                body
            }
        }
    }

    pub fn write_blob(&self, key: &str, bytes: &[u8]) {
        match &self.backend {
            Backend::Local => std::fs::write(self.local_path(key), bytes).unwrap(),
            Backend::S3 { port, bucket } => {
                let (status, _) = http(*port, "PUT", &format!("/{bucket}/{key}"), bytes);
                assert_eq!(status, 200, "put {key}");
            }
        }
    }

    pub fn remove_blob(&self, key: &str) {
        match &self.backend {
            Backend::Local => std::fs::remove_file(self.local_path(key)).unwrap(),
            Backend::S3 { port, bucket } => {
                let (status, _) = http(*port, "DELETE", &format!("/{bucket}/{key}"), b"");
                assert_eq!(status, 204, "delete {key}");
            }
        }
    }

    /// Leaves an unfinished upload as a crash mid-stage would: a `<key>#1` temporary file
    /// for the local backend, an open multipart upload with one part for S3.
    pub fn leave_partial(&self) {
        let n = unique();
        let key = format!("cd/cd{n:030x}");
        match &self.backend {
            Backend::Local => {
                let path = self.data_dir().join(BLOBS_DIR).join(format!("{key}#1"));
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(path, b"half a ciphertext").unwrap();
            }
            Backend::S3 { port, bucket } => {
                let (status, body) = http(*port, "POST", &format!("/{bucket}/{key}?uploads"), b"");
                assert_eq!(status, 200, "create multipart upload");
                let body = String::from_utf8(body).unwrap();
                let id = between(&body, "<UploadId>", "</UploadId>").unwrap();
                let target = format!("/{bucket}/{key}?partNumber=1&uploadId={id}");
                let (status, _) = http(*port, "PUT", &target, b"half a ciphertext");
                assert_eq!(status, 200, "upload part");
            }
        }
    }

    /// Complete blobs in the backend.
    pub fn blob_count(&self) -> usize {
        match &self.backend {
            Backend::Local => local_files(&self.data_dir().join(BLOBS_DIR)).iter().filter(|n| !n.contains('#')).count(),
            Backend::S3 { port, bucket } => {
                let (status, body) = http(*port, "GET", &format!("/{bucket}?list-type=2"), b"");
                assert_eq!(status, 200, "list objects");
                String::from_utf8(body).unwrap().matches("<Key>").count()
            }
        }
    }

    /// Unfinished uploads in the backend.
    pub fn partial_count(&self) -> usize {
        match &self.backend {
            Backend::Local => local_files(&self.data_dir().join(BLOBS_DIR)).iter().filter(|n| n.contains('#')).count(),
            Backend::S3 { port, bucket } => {
                let (status, body) = http(*port, "GET", &format!("/{bucket}?uploads"), b"");
                assert_eq!(status, 200, "list uploads");
                String::from_utf8(body).unwrap().matches("<UploadId>").count()
            }
        }
    }
}

fn local_files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(local_files(&path));
        } else {
            out.push(path.file_name().unwrap().to_string_lossy().into_owned());
        }
    }
    out
}

fn between<'a>(s: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = s.find(open)? + open.len();
    let len = s[start..].find(close)?;
    Some(&s[start..start + len])
}

/// Deterministic test bytes.
pub fn bytes(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect()
}

/// Stages and commits `data` as `scope`/`name`.
pub async fn put(store: &Store, scope: &str, name: &str, data: &[u8]) -> FileMeta {
    let staged = store.stage(data).await.unwrap();
    let new = NewFile { scope: scope.into(), name: name.into(), chain_file_id: None, created_at: 1_700_000_000 };
    store.commit(staged, new).await.unwrap()
}

/// Reads file `id` to the end; the error is the store's.
pub async fn read(store: &Store, id: u64) -> Result<Vec<u8>, StoreError> {
    let (_, mut reader) = store.open_blob(id).await?;
    let mut out = Vec::new();
    reader.read_to_end(&mut out).await?;
    Ok(out)
}

/// A running `moto_server`. Dropping it ends the server; so does the end of the test
/// process (the wrapper shell kills moto when its stdin closes), since a static is never
/// dropped.
pub struct Moto {
    child: Child,
    stdin: Option<ChildStdin>,
    pub port: u16,
    _log: tempfile::NamedTempFile,
}

impl Drop for Moto {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}

/// The moto server shared by the tests of this process; panics (failing the test) with
/// the install line if `moto_server` cannot be started.
pub fn moto() -> &'static Moto {
    static MOTO: OnceLock<Result<Moto, String>> = OnceLock::new();
    match MOTO.get_or_init(Moto::start) {
        Ok(moto) => moto,
        Err(e) => panic!("{e}"),
    }
}

impl Moto {
    pub fn start() -> Result<Moto, String> {
        match Command::new("moto_server").arg("--help").stdout(Stdio::null()).stderr(Stdio::null()).status() {
            Ok(status) if status.success() => {}
            Ok(status) => return Err(format!("`moto_server --help` failed ({status}); reinstall: {MOTO_INSTALL}")),
            Err(e) => return Err(format!("moto_server not found ({e}); the S3 tests need it: {MOTO_INSTALL}")),
        }
        let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_err(|e| e.to_string())?.port();
        let log = tempfile::NamedTempFile::new().map_err(|e| e.to_string())?;
        let log_out = log.reopen().map_err(|e| e.to_string())?;
        // moto in the background; a watcher kills it once our end of stdin (kept as fd 3:
        // background jobs get /dev/null as stdin) closes; the shell itself exits when moto
        // does, so a crash at start is seen at once.
        let script = r#"exec 3<&0; moto_server -H 127.0.0.1 -p "$1" </dev/null & pid=$!; (cat <&3 >/dev/null; kill "$pid" 2>/dev/null) & wait "$pid""#;
        let mut child = Command::new("sh")
            .args(["-c", script, "sh", &port.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(log_out)
            .spawn()
            .map_err(|e| format!("cannot start moto_server: {e}"))?;
        let stdin = child.stdin.take();
        let mut moto = Moto { child, stdin, port, _log: log };
        let deadline = Instant::now() + Duration::from_secs(MOTO_START_SECS_MAX);
        loop {
            if try_http(port, "GET", "/", b"").is_ok() {
                return Ok(moto);
            }
            let exited = moto.child.try_wait().ok().flatten();
            if exited.is_some() || Instant::now() > deadline {
                let log = std::fs::read_to_string(moto._log.path()).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(5).collect();
                return Err(format!(
                    "moto_server did not start on port {port} ({MOTO_INSTALL}?): {}",
                    tail.join(" | ")
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// One HTTP/1.1 request to moto (unsigned: moto does not check signatures).
pub fn http(port: u16, method: &str, target: &str, body: &[u8]) -> (u16, Vec<u8>) {
    try_http(port, method, target, body).unwrap_or_else(|e| panic!("{method} {target}: {e}"))
}

fn try_http(port: u16, method: &str, target: &str, body: &[u8]) -> std::io::Result<(u16, Vec<u8>)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let head = format!(
        "{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").ok_or_else(|| std::io::Error::other("no header end"))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line: {head}")))?;
    let mut body = raw[split + 4..].to_vec();
    if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        body = dechunk(&body);
    }
    Ok((status, body))
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = raw.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(String::from_utf8_lossy(&raw[..eol]).trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.extend_from_slice(&raw[eol + 2..eol + 2 + size]);
        raw = &raw[eol + 2 + size + 2..];
    }
    out
}
