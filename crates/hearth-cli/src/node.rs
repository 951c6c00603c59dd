//! Opening the pieces of a data directory that commands need: config, server keys,
//! owner wallet, chain and store.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use hearth_chain::{Chain, Collective, Contracts, EmbeddedConfig, Wallet};
use hearth_crypto::{SecretString, ServerKeys};
use hearth_store::{Store, StoreConfig};

use crate::config::{self, CollectiveSection, Config, KEY_FILE, OwnerSection, ServerSection};
use crate::error::CliError;
use crate::secrets;

/// An initialised data directory with its config loaded.
pub struct Node {
    /// The data directory.
    pub data_dir: PathBuf,
    /// Its config.
    pub config: Config,
}

impl Node {
    /// Loads the config of an initialised data directory.
    pub fn load(data_dir: &Path) -> Result<Node, CliError> {
        let config = config::load(data_dir)?;
        if config.server.is_none() || config.owner.is_none() {
            return Err(CliError::NotInitialised(data_dir.to_owned()));
        }
        Ok(Node { data_dir: data_dir.to_owned(), config })
    }

    /// `[server]`.
    pub fn server(&self) -> &ServerSection {
        // Checked in `load`.
        self.config.server.as_ref().unwrap_or_else(|| unreachable!("checked in Node::load"))
    }

    /// `[owner]`.
    pub fn owner(&self) -> &OwnerSection {
        self.config.owner.as_ref().unwrap_or_else(|| unreachable!("checked in Node::load"))
    }

    /// Reads the server's key file, asking for its passphrase when it is sealed.
    pub fn server_keys(&self) -> Result<(ServerKeys, Wallet), CliError> {
        let (keys, wallet) = read_server_keys(&self.data_dir)?;
        if wallet.address() != self.server().address {
            return Err(CliError::Config {
                path: self.data_dir.join(config::CONFIG_FILE),
                reason: format!(
                    "the key file belongs to server {}, the config names {}",
                    wallet.address(),
                    self.server().address
                ),
            });
        }
        Ok((keys, wallet))
    }

    /// The owner's wallet: HEARTH_OWNER_KEY, or the configured keystore unlocked with
    /// HEARTH_OWNER_PASSPHRASE or a prompt. Must match the configured owner.
    pub fn owner_wallet(&self) -> Result<Wallet, CliError> {
        let wallet = owner_wallet(&self.data_dir, self.owner().keystore.as_deref())?;
        if wallet.address() != self.owner().address {
            return Err(CliError::Missing(format!(
                "the owner wallet given is {}, but this server belongs to {}",
                wallet.address(),
                self.owner().address
            )));
        }
        Ok(wallet)
    }

    /// Connects to the configured chain and its contracts.
    pub async fn contracts(&self) -> Result<Contracts, CliError> {
        Ok(self.config.chain.connect(&self.data_dir, EmbeddedConfig::default()).await?)
    }

    /// `[collective]`, or advice to create one.
    pub fn collective_section(&self) -> Result<&CollectiveSection, CliError> {
        self.config.collective.as_ref().ok_or_else(|| {
            CliError::Missing(format!(
                "{} has no collective: run `hearth collective init` first",
                self.data_dir.display()
            ))
        })
    }

    /// The acting collective member: HEARTH_MEMBER_KEY when set, otherwise the owner's wallet.
    pub fn member_wallet(&self) -> Result<Wallet, CliError> {
        if let Some(key) = secrets::from_env(secrets::MEMBER_KEY_ENV) {
            use hearth_crypto::ExposeSecret;
            return Wallet::from_hex(key.expose_secret()).map_err(|_| {
                CliError::Missing(format!("{} is not a private key (32 bytes of hex)", secrets::MEMBER_KEY_ENV))
            });
        }
        self.owner_wallet()
    }

    /// Connects to the configured chain and the collective on it.
    pub async fn collective(&self) -> Result<Collective, CliError> {
        let section = self.collective_section()?;
        let contracts = self.contracts().await?;
        connect_collective(contracts.chain().clone(), section).await
    }

    /// Opens the blob store (and cleans up what a crash left behind).
    pub async fn store(&self) -> Result<Store, CliError> {
        open_store(&self.data_dir, &self.config).await
    }
}

/// Opens the blob store of `data_dir`.
pub async fn open_store(data_dir: &Path, config: &Config) -> Result<Store, CliError> {
    let store_config =
        StoreConfig { data_dir: data_dir.to_owned(), blobs: config.store.clone(), ..StoreConfig::default() };
    Ok(Store::open(&store_config).await?)
}

/// Reads `data_dir`'s key file, unsealing it with HEARTH_PASSPHRASE or a prompt if needed.
pub fn read_server_keys(data_dir: &Path) -> Result<(ServerKeys, Wallet), CliError> {
    let path = data_dir.join(KEY_FILE);
    let passphrase: Option<SecretString> = if hearth_crypto::key_file_is_sealed(&path)? {
        Some(secrets::from_env_or_prompt(secrets::PASSPHRASE_ENV, "passphrase of the server key file")?)
    } else {
        None
    };
    let keys = hearth_crypto::read_key_file(&path, passphrase.as_ref())?;
    let wallet = Wallet::from_secret_bytes(keys.secp256k1_secret())?;
    Ok((keys, wallet))
}

/// The owner's wallet from HEARTH_OWNER_KEY or a keystore.
pub fn owner_wallet(data_dir: &Path, keystore: Option<&Path>) -> Result<Wallet, CliError> {
    if let Some(key) = secrets::from_env(secrets::OWNER_KEY_ENV) {
        use hearth_crypto::ExposeSecret;
        return Ok(Wallet::from_hex(key.expose_secret())?);
    }
    let Some(keystore) = keystore else {
        return Err(CliError::Missing(format!(
            "no owner wallet: set {} or pass the keystore to `hearth init --owner-keystore FILE`",
            secrets::OWNER_KEY_ENV
        )));
    };
    let path = data_dir.join(keystore);
    let passphrase = secrets::from_env_or_prompt(secrets::OWNER_PASSPHRASE_ENV, "passphrase of the owner keystore")?;
    let secret = hearth_crypto::read_keystore(&path, &passphrase)?;
    Ok(Wallet::from_secret_bytes(&secret)?)
}

/// Connects to the collective of `section` on `chain`, which must be the chain it was deployed on.
pub async fn connect_collective(chain: Arc<dyn Chain>, section: &CollectiveSection) -> Result<Collective, CliError> {
    let chain_id = chain.chain_id().await?;
    if chain_id != section.chain_id {
        return Err(CliError::Missing(format!(
            "the collective was deployed on chain {}, but this data directory now uses chain {chain_id}",
            section.chain_id
        )));
    }
    Collective::connect(chain, section.contracts).await.map_err(|e| match e {
        hearth_chain::ChainError::MissingContract { contract, address, chain_id } => CliError::Missing(format!(
            "no {contract} contract at {address} on chain {chain_id}: [collective] in {} names another deployment",
            config::CONFIG_FILE
        )),
        other => other.into(),
    })
}
