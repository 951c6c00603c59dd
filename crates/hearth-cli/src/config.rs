//! The data directory and its config file (`hearth.toml`), one typed section per concern.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use alloy_primitives::Address;
use hearth_chain::{ChainConfig, CollectiveDeployment};
use hearth_store::BlobConfig;
use serde::{Deserialize, Serialize};

use crate::error::CliError;

/// The config file's name inside the data directory.
pub const CONFIG_FILE: &str = "hearth.toml";
/// Largest config file read.
pub const CONFIG_BYTES_MAX: u64 = 1024 * 1024;

/// The server's key file inside the data directory.
pub const KEY_FILE: &str = "server.key";
/// The owner keystore `hearth init --new-owner` creates inside the data directory.
pub const OWNER_KEYSTORE_FILE: &str = "owner.keystore.json";

/// The whole config file.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Which chain holds permissions.
    #[serde(default)]
    pub chain: ChainConfig,
    /// This server's public identity, written by `hearth init`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<ServerSection>,
    /// The owner's public identity, written by `hearth init`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<OwnerSection>,
    /// Where blobs go (local disk by default, or S3).
    #[serde(default = "local_blobs")]
    pub store: BlobConfig,
    /// How `hearth serve` runs.
    #[serde(default)]
    pub serve: hearth_server::ServeConfig,
    /// The data collective this node serves, written by `hearth collective init`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collective: Option<CollectiveSection>,
}

fn local_blobs() -> BlobConfig {
    BlobConfig::Local
}

/// `[server]`: public facts about this server (its keys are in [`KEY_FILE`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSection {
    /// The server's Ethereum address.
    pub address: Address,
    /// The server's age recipient: clients encrypt to it.
    pub recipient: String,
    /// The URL registered on chain.
    pub url: String,
}

/// `[owner]`: public facts about the owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OwnerSection {
    /// The owner's wallet address.
    pub address: Address,
    /// The owner's age recipient (derived from a wallet signature): every file is also encrypted to it.
    pub recipient: String,
    /// The owner's keystore, when the CLI holds one (relative to the data directory or absolute).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keystore: Option<PathBuf>,
}

/// `[collective]`: where a data collective's contracts are and how contributions are kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectiveSection {
    /// How contributions are kept.
    pub custody: Custody,
    /// The chain the contracts are on (the `[chain]` of the deployment).
    pub chain_id: u64,
    /// The block of the first deployment transaction: proposals are read from events since.
    pub deployed_at_block: u64,
    /// The contracts.
    pub contracts: CollectiveDeployment,
}

/// Where a collective's contributions live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Custody {
    /// The node holds the encrypted contributions.
    Escrow,
    /// Contributors keep their data and answer storage challenges for rewards.
    Liveness,
}

impl Custody {
    /// The lowercase name, as written in `hearth.toml`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Custody::Escrow => "escrow",
            Custody::Liveness => "liveness",
        }
    }
}

/// The data directory chosen by flag, environment, or the platform default.
pub fn data_dir(flag: Option<PathBuf>) -> Result<PathBuf, CliError> {
    if let Some(dir) = flag {
        return Ok(dir);
    }
    if let Some(xdg) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(xdg).join("hearth"));
    }
    match std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        Some(home) => Ok(PathBuf::from(home).join(".local/share/hearth")),
        None => Err(CliError::Missing("no data directory: pass --data-dir or set HEARTH_DATA_DIR".into())),
    }
}

/// Loads the config of `dir`; a missing file means the defaults.
pub fn load(dir: &Path) -> Result<Config, CliError> {
    let path = dir.join(CONFIG_FILE);
    let bad = |reason: String| CliError::Config { path: path.clone(), reason };
    let meta = match fs::metadata(&path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
        Err(e) => return Err(bad(e.to_string())),
    };
    if meta.len() > CONFIG_BYTES_MAX {
        return Err(bad(format!("larger than {CONFIG_BYTES_MAX} bytes")));
    }
    let text = fs::read_to_string(&path).map_err(|e| bad(e.to_string()))?;
    toml::from_str(&text).map_err(|e| bad(e.message().to_owned()))
}

/// Writes the config of `dir` atomically (aside, then renamed over), mode 0600: it may
/// hold S3 credentials.
pub fn save(dir: &Path, config: &Config) -> Result<(), CliError> {
    let path = dir.join(CONFIG_FILE);
    let bad = |reason: String| CliError::Config { path: path.clone(), reason };
    fs::create_dir_all(dir).map_err(|e| bad(e.to_string()))?;
    let text = toml::to_string_pretty(config).map_err(|e| bad(e.to_string()))?;
    let tmp = path.with_extension("toml.writing");
    let mut f = {
        use std::os::unix::fs::OpenOptionsExt;
        fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp)
    }
    .map_err(|e| bad(e.to_string()))?;
    f.write_all(text.as_bytes()).and_then(|()| f.sync_all()).map_err(|e| bad(e.to_string()))?;
    fs::rename(&tmp, &path).map_err(|e| bad(e.to_string()))
}
