//! The data directory and its config file (`hearth.toml`), one typed section per concern.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use hearth_chain::ChainConfig;
use serde::{Deserialize, Serialize};

use crate::error::CliError;

/// The config file's name inside the data directory.
pub const CONFIG_FILE: &str = "hearth.toml";
/// Largest config file read.
pub const CONFIG_BYTES_MAX: u64 = 1024 * 1024;

/// The whole config file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Which chain holds permissions.
    #[serde(default)]
    pub chain: ChainConfig,
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

/// Writes the config of `dir` atomically (aside, then renamed over).
pub fn save(dir: &Path, config: &Config) -> Result<(), CliError> {
    let path = dir.join(CONFIG_FILE);
    let bad = |reason: String| CliError::Config { path: path.clone(), reason };
    fs::create_dir_all(dir).map_err(|e| bad(e.to_string()))?;
    let text = toml::to_string_pretty(config).map_err(|e| bad(e.to_string()))?;
    let tmp = path.with_extension("toml.writing");
    let mut f = fs::File::create(&tmp).map_err(|e| bad(e.to_string()))?;
    f.write_all(text.as_bytes()).and_then(|()| f.sync_all()).map_err(|e| bad(e.to_string()))?;
    fs::rename(&tmp, &path).map_err(|e| bad(e.to_string()))
}
