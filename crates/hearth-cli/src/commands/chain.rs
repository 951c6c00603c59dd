//! `hearth chain info` and `hearth chain deploy`.

use std::path::Path;

use hearth_chain::{Backend, ChainConfig, EmbeddedConfig, RpcChain, Wallet, deploy_suite};
use serde::Serialize;

use crate::config;
use crate::error::CliError;

/// The environment variable holding the deployer's private key (hex).
pub const DEPLOYER_KEY_ENV: &str = "HEARTH_DEPLOYER_KEY";

#[derive(Serialize)]
struct Info {
    backend: Backend,
    chain_id: u64,
    block: u64,
    endpoint: String,
    contracts: Vec<(&'static str, String)>,
}

/// Prints what chain this data directory uses and where the contracts are.
pub async fn info(data_dir: &Path, json: bool) -> Result<(), CliError> {
    let cfg = config::load(data_dir)?;
    let contracts = cfg.chain.connect(data_dir, EmbeddedConfig::default()).await?;
    let chain = contracts.chain();
    let endpoint = match cfg.chain.backend {
        Backend::Embedded => {
            data_dir.join(hearth_chain::EMBEDDED_DIR).join(hearth_chain::JOURNAL_FILE).display().to_string()
        }
        Backend::Rpc => RpcChain::new(cfg.chain.rpc_url.as_deref().unwrap_or_default())?.url().to_owned(),
    };
    let info = Info {
        backend: chain.backend(),
        chain_id: contracts.chain_id(),
        block: chain.block_number().await?,
        endpoint,
        contracts: contracts.deployment().entries().iter().map(|(n, a)| (*n, a.to_string())).collect(),
    };
    if json {
        let text = serde_json::to_string_pretty(&info).map_err(|e| CliError::Missing(e.to_string()))?;
        println!("{text}");
        return Ok(());
    }
    println!("backend             {}", info.backend);
    println!("chain id            {}", info.chain_id);
    println!("block               {}", info.block);
    println!("endpoint            {}", info.endpoint);
    for (name, address) in &info.contracts {
        println!("{name:<20}{address}");
    }
    Ok(())
}

/// Deploys the suite to `rpc_url` and points the config at it.
pub async fn deploy(data_dir: &Path, rpc_url: &str, expected_chain_id: Option<u64>) -> Result<(), CliError> {
    let mut cfg = config::load(data_dir)?;
    let key = std::env::var(DEPLOYER_KEY_ENV).map(zeroize::Zeroizing::new).map_err(|_| {
        CliError::Missing(format!("set {DEPLOYER_KEY_ENV} to the deployer's private key (hex), funded on that chain"))
    })?;
    let deployer = Wallet::from_hex(&key)?;
    let chain = RpcChain::new(rpc_url)?;
    let chain_id = hearth_chain::Chain::chain_id(&chain).await?;
    if let Some(expected) = expected_chain_id
        && expected != chain_id
    {
        return Err(hearth_chain::ChainError::WrongChainId { expected, actual: chain_id }.into());
    }
    let deployment = deploy_suite(&chain, &deployer).await?;
    cfg.chain = ChainConfig {
        backend: Backend::Rpc,
        rpc_url: Some(rpc_url.to_owned()),
        chain_id: Some(chain_id),
        contracts: Some(deployment),
    };
    config::save(data_dir, &cfg)?;
    println!("deployed to chain {chain_id} at {}", chain.url());
    for (name, address) in deployment.entries() {
        println!("{name:<20}{address}");
    }
    println!("config written to {}", data_dir.join(config::CONFIG_FILE).display());
    Ok(())
}
