//! `hearth app register|get`: the app's side. The app's key file holds a secp256k1 key
//! (its identity on chain and in signed requests) and an age identity (what it reads
//! data with), in the same sealed-or-0600 format as a server key file.

use std::io::Write;
use std::path::{Path, PathBuf};

use hearth_chain::Wallet;
use hearth_crypto::ServerKeys;
use hearth_server::jobs::Phase;
use hearth_server::routes::app::{AppRegistration, AppStatus, IndexEntry};
use hearth_server::routes::operations::{Accepted, OperationRequest, OperationStatus};

use crate::client::Client;
use crate::error::CliError;

/// The app's key file inside `--app-dir`.
pub const APP_KEY_FILE: &str = "app.key";

fn load_or_create(dir: &Path) -> Result<(ServerKeys, Wallet), CliError> {
    let path = dir.join(APP_KEY_FILE);
    if !path.exists() {
        std::fs::create_dir_all(dir)
            .map_err(|source| CliError::Io { what: format!("creating {}", dir.display()), source })?;
        hearth_crypto::write_key_file(&path, &ServerKeys::generate(), None)?;
    }
    let keys = hearth_crypto::read_key_file(&path, None)?;
    let wallet = Wallet::from_secret_bytes(keys.secp256k1_secret())?;
    Ok((keys, wallet))
}

/// `hearth app register`.
pub async fn register(server: &str, app_dir: &Path, name: &str, url: &str) -> Result<(), CliError> {
    let (keys, wallet) = load_or_create(app_dir)?;
    let client = Client::connect(server, wallet.clone()).await?;
    let recipient = keys.age_recipient().to_string();
    let status: AppStatus = client.public(&format!("/v1/apps/{}", wallet.address())).await?;
    if status.recipient.as_deref() != Some(recipient.as_str()) {
        let signature = client.signing().sign_app_registration(&wallet, &recipient, name, url, status.nonce)?;
        let registration = AppRegistration {
            app: wallet.address(),
            recipient: recipient.clone(),
            name: name.to_owned(),
            url: url.to_owned(),
            nonce: status.nonce,
            signature,
        };
        client.post_public("/v1/apps", &registration).await?;
    }
    println!("app address      {}", wallet.address());
    println!("app recipient    {recipient}");
    Ok(())
}

/// Options of `hearth app get`.
pub struct GetArgs {
    /// Server URL.
    pub server: String,
    /// Where the app key is.
    pub app_dir: PathBuf,
    /// Grant id.
    pub grant: String,
    /// Scope.
    pub scope: String,
    /// Which file.
    pub file: Option<u64>,
    /// Output path.
    pub out: PathBuf,
}

/// `hearth app get`.
pub async fn get(args: GetArgs) -> Result<(), CliError> {
    let (keys, wallet) = load_or_create(&args.app_dir)?;
    let client = Client::connect(&args.server, wallet).await?;
    let index: Vec<IndexEntry> =
        client.json("GET", &format!("/v1/data/{}?grant={}", args.scope, args.grant), vec![]).await?;
    let id = match (args.file, index.as_slice()) {
        (Some(id), _) => id,
        (None, [only]) => only.id,
        (None, []) => return Err(CliError::Missing(format!("scope {} holds no files", args.scope))),
        (None, many) => {
            let ids: Vec<String> = many.iter().map(|f| format!("{} ({})", f.id, f.name)).collect();
            return Err(CliError::Missing(format!(
                "scope {} holds several files; pick one with --file: {}",
                args.scope,
                ids.join(", ")
            )));
        }
    };
    let response = client.call("GET", &format!("/v1/data/{}/{id}?grant={}", args.scope, args.grant), vec![]).await?;
    let ciphertext = response.bytes().await.map_err(|e| CliError::Missing(format!("download failed: {e}")))?;
    let partial = args.out.with_extension("partial");
    let mut file = std::fs::File::create(&partial)
        .map_err(|source| CliError::Io { what: format!("creating {}", partial.display()), source })?;
    let decrypted =
        hearth_crypto::decrypt(keys.age_identity(), &ciphertext[..], &mut file).map_err(CliError::from).and_then(|n| {
            file.flush()
                .and_then(|()| file.sync_all())
                .map(|()| n)
                .map_err(|source| CliError::Io { what: "writing".into(), source })
        });
    match decrypted {
        Ok(n) => {
            std::fs::rename(&partial, &args.out)
                .map_err(|source| CliError::Io { what: format!("writing {}", args.out.display()), source })?;
            println!("wrote {n} bytes of file {id} to {}", args.out.display());
            Ok(())
        }
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e)
        }
    }
}

/// `hearth app job`.
pub async fn job(server: &str, app_dir: &Path, id: &str) -> Result<(), CliError> {
    let (_, wallet) = load_or_create(app_dir)?;
    let client = Client::connect(server, wallet).await?;
    let status: OperationStatus = client.json("GET", &format!("/v1/operations/{id}"), vec![]).await?;
    let text = serde_json::to_string_pretty(&status).map_err(|e| CliError::Missing(e.to_string()))?;
    println!("{text}");
    Ok(())
}

/// Options of `hearth app run`.
pub struct RunArgs {
    /// Server URL.
    pub server: String,
    /// Where the app key is.
    pub app_dir: PathBuf,
    /// Grant id.
    pub grant: String,
    /// Operation digest.
    pub operation: String,
    /// Scope.
    pub scope: String,
    /// Parameters, JSON.
    pub params: String,
    /// Where to write decrypted output files.
    pub out_dir: Option<PathBuf>,
}

/// Longest `hearth app run` waits for a job to end, in seconds.
pub const RUN_WAIT_SECS_MAX: u64 = 3600;
/// Pause between two status polls, in milliseconds.
const POLL_MILLIS: u64 = 200;

/// `hearth app run`.
pub async fn run(args: RunArgs) -> Result<(), CliError> {
    let (keys, wallet) = load_or_create(&args.app_dir)?;
    let client = Client::connect(&args.server, wallet).await?;
    let bad = |what: &str, value: &str| CliError::Missing(format!("invalid {what}: {value}"));
    let request = OperationRequest {
        grant: args.grant.parse().map_err(|_| bad("grant id", &args.grant))?,
        operation: super::grant::parse_operation(&args.operation)?,
        scope: args.scope.clone(),
        params: serde_json::from_str(&args.params)
            .map_err(|e| CliError::Missing(format!("--params is not JSON: {e}")))?,
    };
    let body = serde_json::to_vec(&request).map_err(|e| CliError::Missing(e.to_string()))?;
    let accepted: Accepted = client.json("POST", "/v1/operations", body).await?;
    println!("job {} queued", accepted.id);
    let path = format!("/v1/operations/{}", accepted.id);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(RUN_WAIT_SECS_MAX);
    let mut shown = 1;
    let status: OperationStatus = loop {
        let status: OperationStatus = client.json("GET", &path, vec![]).await?;
        for entered in status.job.phases.iter().skip(shown) {
            println!("  {:<10} at {}", entered.phase.as_str(), entered.at);
        }
        shown = status.job.phases.len();
        if status.job.phase.is_terminal() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            return Err(CliError::Missing(format!("job {} did not end within {RUN_WAIT_SECS_MAX} s", accepted.id)));
        }
        tokio::time::sleep(std::time::Duration::from_millis(POLL_MILLIS)).await;
    };
    if status.job.phase != Phase::Succeeded {
        return Err(CliError::CheckFailed(format!(
            "job {} ended as {} ({})",
            status.job.id,
            status.job.phase.as_str(),
            status.job.reason.as_deref().unwrap_or("no reason given")
        )));
    }
    let result = serde_json::to_string_pretty(&status.result).map_err(|e| CliError::Missing(e.to_string()))?;
    println!("result hash {}", status.job.result_hash.unwrap_or_default());
    println!("result.json {result}");
    if let Some(out_dir) = &args.out_dir {
        std::fs::create_dir_all(out_dir)
            .map_err(|source| CliError::Io { what: format!("creating {}", out_dir.display()), source })?;
        for file in &status.job.files {
            let name = file.name.replace('/', "%2F");
            let response = client.call("GET", &format!("{path}/files/{name}"), vec![]).await?;
            let ciphertext = response.bytes().await.map_err(|e| CliError::Missing(format!("download failed: {e}")))?;
            let mut plain = Vec::new();
            hearth_crypto::decrypt(keys.age_identity(), &ciphertext[..], &mut plain)?;
            let target = out_dir.join(file.name.replace('/', "_"));
            std::fs::write(&target, &plain)
                .map_err(|source| CliError::Io { what: format!("writing {}", target.display()), source })?;
            println!("wrote {}", target.display());
        }
    }
    Ok(())
}
