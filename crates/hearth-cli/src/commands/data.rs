//! `hearth data add|ls|cat|rm|export`: the owner's files, age-encrypted, in the store.
//!
//! Bytes stream in constant memory: a blocking thread runs the age stream and talks to
//! the async store through a bounded in-memory pipe.

use std::fs::File;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use alloy_primitives::B256;
use hearth_chain::{Contracts, Wallet};
use hearth_core::{Clock, Scope, SystemClock, validate_pattern};
use hearth_crypto::{CryptoError, ServerKeys};
use hearth_store::{FileMeta, NewFile, Staged, Store};
use serde::Serialize;
use tokio::io::AsyncRead;
use tokio_util::io::SyncIoBridge;

use crate::error::CliError;
use crate::node::Node;

/// Bytes buffered between the age stream and the store.
const PIPE_BYTES: usize = 256 * 1024;
/// Bytes read to check an age file's header before storing it.
const HEADER_CHECK_BYTES: u64 = 64 * 1024;
/// Files at least this large get a progress bar when stdout is a terminal.
const PROGRESS_BYTES_MIN: u64 = 16 * 1024 * 1024;

fn input_error(path: &Path, reason: impl Into<String>) -> CliError {
    CliError::Input { path: path.to_owned(), reason: reason.into() }
}

/// What kind of input a file is.
enum Input {
    /// Plaintext, to be encrypted here.
    Plain,
    /// Already age-encrypted (to this server, checked), stored as it is.
    Age,
}

/// Checks a path before anything is stored: a non-empty regular file, and for an age
/// file, one this server can open.
fn check_input(path: &Path, keys: &ServerKeys) -> Result<(Input, u64), CliError> {
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => input_error(path, "no such file"),
        _ => input_error(path, e.to_string()),
    })?;
    if meta.is_dir() {
        return Err(input_error(path, "is a directory; give files"));
    }
    if !meta.is_file() {
        return Err(input_error(path, "not a regular file"));
    }
    if meta.len() == 0 {
        return Err(input_error(path, "is empty; there is nothing to store"));
    }
    let mut file = File::open(path).map_err(|e| input_error(path, e.to_string()))?;
    let mut magic = vec![0u8; hearth_crypto::AGE_MAGIC.len()];
    let n = read_up_to(&mut file, &mut magic).map_err(|e| input_error(path, e.to_string()))?;
    if !hearth_crypto::looks_like_age(&magic[..n]) {
        return Ok((Input::Plain, meta.len()));
    }
    // Decrypting a prefix checks the header (is it for us?) without reading the file;
    // the whole stream is verified while it is stored.
    let file = File::open(path).map_err(|e| input_error(path, e.to_string()))?;
    match hearth_crypto::decrypt(keys.age_identity(), file.take(HEADER_CHECK_BYTES), std::io::sink()) {
        Ok(_) | Err(CryptoError::Truncated) => Ok((Input::Age, meta.len())),
        Err(CryptoError::NotForThisKey) => {
            Err(input_error(path, "is an age file encrypted to a different recipient than this server's"))
        }
        Err(e) => Err(input_error(path, format!("is not a valid age file: {e}"))),
    }
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// Counts bytes read into a progress bar.
struct Progress<R> {
    inner: R,
    bar: Option<indicatif::ProgressBar>,
}

impl<R: Read> Read for Progress<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(bar) = &self.bar {
            bar.inc(n as u64);
        }
        Ok(n)
    }
}

/// Copies everything read into `copy` as it goes (the bytes being verified are
/// exactly the bytes being stored).
struct Tee<R, W> {
    inner: R,
    copy: W,
}

impl<R: Read, W: Write> Read for Tee<R, W> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.copy.write_all(&buf[..n])?;
        Ok(n)
    }
}

fn progress_bar(size: u64, path: &Path) -> Option<indicatif::ProgressBar> {
    if size < PROGRESS_BYTES_MIN || !std::io::stdout().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(size);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{msg} {bar:40} {bytes}/{total_bytes} {binary_bytes_per_sec}")
    {
        bar.set_style(style);
    }
    bar.set_message(path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());
    Some(bar)
}

/// Streams one input file into the store as ciphertext; returns the staged blob.
async fn stage_one(
    store: &Store,
    path: &Path,
    input: Input,
    size: u64,
    keys: &ServerKeys,
    recipients: Vec<hearth_crypto::age::x25519::Recipient>,
) -> Result<Staged, CliError> {
    let file = File::open(path).map_err(|e| input_error(path, e.to_string()))?;
    let reader = Progress { inner: file, bar: progress_bar(size, path) };
    let (pipe_in, pipe_out) = tokio::io::duplex(PIPE_BYTES);
    let sink = SyncIoBridge::new(pipe_in);
    let identity = keys.age_identity().clone();
    let owned_path = path.to_owned();
    let producer = tokio::task::spawn_blocking(move || -> Result<(), CliError> {
        let mut reader = reader;
        let result = match input {
            Input::Plain => hearth_crypto::encrypt(&recipients, &mut reader, sink).map(|_| ()),
            Input::Age => {
                let mut tee = Tee { inner: &mut reader, copy: sink };
                hearth_crypto::decrypt(&identity, &mut tee, std::io::sink()).and_then(|_| {
                    // Anything after the final chunk would be stored unverified: refuse it.
                    let mut rest = [0u8; 1];
                    match tee.inner.read(&mut rest) {
                        Ok(0) => Ok(()),
                        Ok(_) => Err(CryptoError::Integrity { reason: "data after the end of the age stream".into() }),
                        Err(e) => Err(CryptoError::from(e)),
                    }
                })
            }
        };
        if let Some(bar) = reader.bar {
            bar.finish_and_clear();
        }
        result.map_err(|e| input_error(&owned_path, e.to_string()))
    });
    let staged = store.stage(pipe_out).await;
    let produced = producer.await.map_err(|e| CliError::Missing(format!("internal error: {e}")))?;
    match (staged, produced) {
        (Ok(staged), Ok(())) => Ok(staged),
        (Ok(staged), Err(e)) => {
            store.abort(staged).await?;
            Err(e)
        }
        (Err(e), _) => Err(e.into()),
    }
}

#[derive(Serialize)]
struct Listed {
    id: u64,
    scope: String,
    name: String,
    version: u32,
    size: u64,
    sha256: B256,
    created_at: u64,
    chain_file_id: Option<u64>,
}

impl From<&FileMeta> for Listed {
    fn from(m: &FileMeta) -> Self {
        Listed {
            id: m.id,
            scope: m.scope.clone(),
            name: m.name.clone(),
            version: m.version,
            size: m.size,
            sha256: B256::from(m.sha256),
            created_at: m.created_at,
            chain_file_id: m.chain_file_id,
        }
    }
}

fn print_table(files: &[FileMeta]) {
    println!("{:>6}  {:<20} {:<24} {:>4} {:>12}  {:<16}", "ID", "SCOPE", "NAME", "VER", "BYTES", "SHA256");
    for m in files {
        let sha = alloy_primitives::hex::encode(&m.sha256[..8]);
        println!("{:>6}  {:<20} {:<24} {:>4} {:>12}  {sha}", m.id, m.scope, m.name, m.version, m.size);
    }
}

fn print_json<T: Serialize>(value: &T) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| CliError::Missing(e.to_string()))?;
    println!("{text}");
    Ok(())
}

/// `hearth data add`.
pub async fn add(data_dir: &Path, files: &[PathBuf], scope: &str, json: bool) -> Result<(), CliError> {
    let scope: Scope = scope.parse().map_err(|e: hearth_core::CoreError| CliError::Missing(e.to_string()))?;
    let node = Node::load(data_dir)?;
    let (keys, server) = node.server_keys()?;
    let inputs = files.iter().map(|f| check_input(f, &keys)).collect::<Result<Vec<_>, _>>()?;
    let owner = node.owner_wallet()?;
    let recipients = vec![keys.age_recipient(), hearth_crypto::parse_recipient(&node.owner().recipient)?];
    let contracts = node.contracts().await?;
    let store = node.store().await?;
    let mut added = Vec::new();
    for (path, (input, size)) in files.iter().zip(inputs) {
        let staged = stage_one(&store, path, input, size, &keys, recipients.clone()).await?;
        let meta = register_and_commit(&store, &contracts, &server, &owner, staged, path, &scope).await?;
        if !json {
            println!("added {} as file {} ({} bytes, scope {})", path.display(), meta.id, meta.size, meta.scope);
        }
        added.push(meta);
    }
    if json {
        print_json(&added.iter().map(Listed::from).collect::<Vec<_>>())?;
    }
    Ok(())
}

/// Registers a staged blob in `DataRegistry`, then commits it; aborts it on failure.
async fn register_and_commit(
    store: &Store,
    contracts: &Contracts,
    server: &Wallet,
    owner: &Wallet,
    staged: Staged,
    path: &Path,
    scope: &Scope,
) -> Result<FileMeta, CliError> {
    let sha256 = B256::from(staged.sha256);
    let uri = format!("hearth://{}/sha256/{sha256:x}", server.address());
    let chain_file_id = match contracts.data().add_file(server, owner, &uri, sha256, scope.as_str()).await {
        Ok(id) => u64::try_from(id).unwrap_or(u64::MAX),
        Err(e) => {
            store.abort(staged).await?;
            return Err(e.into());
        }
    };
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let new = NewFile {
        scope: scope.to_string(),
        name,
        chain_file_id: Some(chain_file_id),
        created_at: SystemClock.now_secs(),
    };
    Ok(store.commit(staged, new).await?)
}

async fn list_all(store: &Store, scope: Option<&str>) -> Result<Vec<FileMeta>, CliError> {
    // A local listing of one's own store: no bound but the store's.
    Ok(store.list_all(scope, usize::MAX).await?.unwrap_or_default())
}

/// `hearth data ls`.
pub async fn ls(data_dir: &Path, scope: Option<&str>, json: bool) -> Result<(), CliError> {
    if let Some(pattern) = scope {
        validate_pattern(pattern).map_err(|e| CliError::Missing(e.to_string()))?;
    }
    let node = Node::load(data_dir)?;
    let store = node.store().await?;
    let files = list_all(&store, scope).await?;
    if json {
        return print_json(&files.iter().map(Listed::from).collect::<Vec<_>>());
    }
    print_table(&files);
    Ok(())
}

/// Runs `work` over the blob of file `id` as a synchronous reader.
async fn with_blob<T: Send + 'static>(
    store: &Store,
    id: u64,
    work: impl FnOnce(Box<dyn Read + Send>) -> Result<T, CryptoError> + Send + 'static,
) -> Result<T, CliError> {
    let (_, blob) = store.open_blob(id).await?;
    let blob: Box<dyn AsyncRead + Unpin + Send> = Box::new(blob);
    let reader = SyncIoBridge::new(blob);
    let outcome = tokio::task::spawn_blocking(move || work(Box::new(reader)))
        .await
        .map_err(|e| CliError::Missing(format!("internal error: {e}")))?;
    outcome.map_err(|e| match e {
        CryptoError::Io(source) if source.kind() == std::io::ErrorKind::BrokenPipe => {
            CliError::Io { what: "writing to standard output".into(), source }
        }
        e @ (CryptoError::Integrity { .. } | CryptoError::Truncated) => {
            CliError::File { id, reason: format!("failed its integrity check: {e}") }
        }
        other => CliError::File { id, reason: other.to_string() },
    })
}

/// `hearth data cat`.
pub async fn cat(data_dir: &Path, id: u64) -> Result<(), CliError> {
    let node = Node::load(data_dir)?;
    let (keys, _) = node.server_keys()?;
    let store = node.store().await?;
    let identity = keys.age_identity().clone();
    with_blob(&store, id, move |blob| {
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::new(stdout.lock());
        hearth_crypto::decrypt(&identity, blob, &mut out)?;
        out.flush().map_err(CryptoError::from)
    })
    .await
}

/// `hearth data rm`.
pub async fn rm(data_dir: &Path, id: u64) -> Result<(), CliError> {
    let node = Node::load(data_dir)?;
    let store = node.store().await?;
    let meta = store.get(id).await?;
    if let Some(chain_id) = meta.chain_file_id {
        let owner = node.owner_wallet()?;
        let contracts = node.contracts().await?;
        contracts.data().remove_file(&owner, alloy_primitives::U256::from(chain_id)).await?;
    }
    store.delete(id).await?;
    println!("removed file {id}");
    Ok(())
}

/// `hearth data export`.
pub async fn export(data_dir: &Path, scope: &str, to: &str, out: &Path) -> Result<(), CliError> {
    validate_pattern(scope).map_err(|e| CliError::Missing(e.to_string()))?;
    let recipient = hearth_crypto::parse_recipient(to)?;
    let node = Node::load(data_dir)?;
    let (keys, _) = node.server_keys()?;
    let store = node.store().await?;
    let files = list_all(&store, Some(scope)).await?;
    if files.is_empty() {
        return Err(CliError::Missing(format!("no files in scope {scope}")));
    }
    std::fs::create_dir_all(out)
        .map_err(|source| CliError::Io { what: format!("creating {}", out.display()), source })?;
    for meta in &files {
        let target = out.join(format!("{}.age", meta.id));
        let partial = out.join(format!(".{}.age.partial", meta.id));
        let file = File::create(&partial)
            .map_err(|source| CliError::Io { what: format!("creating {}", partial.display()), source })?;
        let (identity, recipient) = (keys.age_identity().clone(), recipient.clone());
        let result = with_blob(&store, meta.id, move |blob| {
            let mut w = std::io::BufWriter::new(file);
            hearth_crypto::reencrypt(&identity, &[recipient], blob, &mut w)?;
            w.into_inner().map_err(|e| CryptoError::from(e.into_error()))?.sync_all().map_err(CryptoError::from)
        })
        .await;
        if let Err(e) = result {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
        std::fs::rename(&partial, &target)
            .map_err(|source| CliError::Io { what: format!("writing {}", target.display()), source })?;
        println!("exported file {} to {}", meta.id, target.display());
    }
    Ok(())
}
