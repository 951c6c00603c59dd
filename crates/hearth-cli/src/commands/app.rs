//! `hearth app register|get`: the app's side. The app's key file holds a secp256k1 key
//! (its identity on chain and in signed requests) and an age identity (what it reads
//! data with), in the same sealed-or-0600 format as a server key file.

use std::io::Write;
use std::path::{Path, PathBuf};

use hearth_chain::Wallet;
use hearth_crypto::ServerKeys;
use hearth_server::routes::app::{AppRegistration, AppStatus, IndexEntry};

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
