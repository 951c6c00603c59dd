//! `hearth init`: keys, owner, and the server's registration on chain.

use std::os::unix::fs::DirBuilderExt;
use std::path::Path;

use hearth_chain::EmbeddedConfig;
use hearth_crypto::{OWNER_KEY_MESSAGE, ServerKeys};

use crate::cli::InitArgs;
use crate::config::{self, KEY_FILE, OWNER_KEYSTORE_FILE, OwnerSection, ServerSection};
use crate::error::CliError;
use crate::node::{owner_wallet, read_server_keys};
use crate::secrets;

/// Sets up `data_dir`. Existing keys are kept; running it again only completes what is
/// missing (for instance the on-chain registration).
pub async fn run(data_dir: &Path, args: InitArgs) -> Result<(), CliError> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(data_dir)
        .map_err(|source| CliError::Io { what: format!("creating {}", data_dir.display()), source })?;
    let mut cfg = config::load(data_dir)?;
    let key_path = data_dir.join(KEY_FILE);

    let created = !key_path.exists();
    if created {
        let passphrase = match secrets::from_env(secrets::PASSPHRASE_ENV) {
            Some(p) => Some(p),
            None if args.seal => {
                Some(secrets::from_env_or_prompt(secrets::PASSPHRASE_ENV, "new passphrase for the server key file")?)
            }
            None => None,
        };
        hearth_crypto::write_key_file(&key_path, &ServerKeys::generate(), passphrase.as_ref())?;
    }
    let (keys, server) = read_server_keys(data_dir)?;

    let keystore = if args.new_owner {
        let path = data_dir.join(OWNER_KEYSTORE_FILE);
        let passphrase =
            secrets::from_env_or_prompt(secrets::OWNER_PASSPHRASE_ENV, "new passphrase for the owner keystore")?;
        hearth_crypto::create_keystore(&path, &passphrase)?;
        Some(OWNER_KEYSTORE_FILE.into())
    } else {
        args.owner_keystore.or_else(|| cfg.owner.as_ref().and_then(|o| o.keystore.clone()))
    };
    let owner = owner_wallet(data_dir, keystore.as_deref())?;
    if let Some(existing) = &cfg.owner
        && existing.address != owner.address()
    {
        return Err(CliError::Missing(format!(
            "this data directory belongs to owner {}, not {}",
            existing.address,
            owner.address()
        )));
    }
    let signature = owner.sign_message(OWNER_KEY_MESSAGE.as_bytes())?;
    let owner_recipient = hearth_crypto::owner_identity_from_signature(&signature)?.to_public().to_string();
    let server_recipient = keys.age_recipient().to_string();

    cfg.server =
        Some(ServerSection { address: server.address(), recipient: server_recipient.clone(), url: args.url.clone() });
    cfg.owner = Some(OwnerSection { address: owner.address(), recipient: owner_recipient.clone(), keystore });
    config::save(data_dir, &cfg)?;

    let contracts = cfg.chain.connect(data_dir, EmbeddedConfig::default()).await?;
    let servers = contracts.servers();
    let registered = servers.is_registered(server.address()).await?
        && servers.get(server.address()).await?.recipient == server_recipient;
    if !registered {
        servers.register(&server, &server, &server_recipient, &args.url).await?;
    }
    if !servers.is_trusted(owner.address(), server.address()).await? {
        servers.set_trust_signed(&server, &owner, server.address(), true).await?;
    }

    println!("{} {}", if created { "initialised" } else { "already initialised" }, data_dir.display());
    println!("server address      {}", server.address());
    println!("server recipient    {server_recipient}");
    println!("owner address       {}", owner.address());
    println!("owner recipient     {owner_recipient}");
    println!("chain               {} (chain id {})", contracts.chain().backend(), contracts.chain_id());
    Ok(())
}
