//! Which chain to use, as written in the data directory's config, and how to open it.

use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::chain::{Backend, Chain};
use crate::contracts::{Contracts, Deployment};
use crate::embedded::{EmbeddedChain, EmbeddedConfig};
use crate::error::{ChainError, Result};
use crate::rpc::RpcChain;

/// The directory under the data directory that holds the embedded chain.
pub const EMBEDDED_DIR: &str = "chain";

/// The `[chain]` section of the config.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainConfig {
    /// `embedded` (the default) or `rpc`.
    pub backend: Backend,
    /// The JSON-RPC endpoint, for `rpc`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpc_url: Option<String>,
    /// The chain id the endpoint must report, for `rpc`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain_id: Option<u64>,
    /// Where the suite is deployed, for `rpc` (the embedded chain has it at genesis).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contracts: Option<Deployment>,
}

impl Default for ChainConfig {
    fn default() -> Self {
        ChainConfig { backend: Backend::Embedded, rpc_url: None, chain_id: None, contracts: None }
    }
}

impl ChainConfig {
    /// Opens the configured chain and connects to the suite on it, checking the chain id
    /// and that each contract has code.
    pub async fn connect(&self, data_dir: &Path, embedded: EmbeddedConfig) -> Result<Contracts> {
        self.connect_with(|| EmbeddedChain::open(&data_dir.join(EMBEDDED_DIR), embedded)).await
    }

    /// [`ChainConfig::connect`] for reading only: an embedded chain is opened as a
    /// read-only snapshot ([`EmbeddedChain::snapshot`]), so this works while `hearth serve`
    /// holds it; an rpc chain is connected as usual.
    pub async fn connect_read_only(&self, data_dir: &Path, embedded: EmbeddedConfig) -> Result<Contracts> {
        self.connect_with(|| EmbeddedChain::snapshot(&data_dir.join(EMBEDDED_DIR), embedded)).await
    }

    async fn connect_with(&self, open_embedded: impl FnOnce() -> Result<EmbeddedChain>) -> Result<Contracts> {
        match self.backend {
            Backend::Embedded => {
                let chain = open_embedded()?;
                let deployment = chain.deployment();
                let chain: Arc<dyn Chain> = Arc::new(chain);
                Contracts::connect(chain, deployment, None).await
            }
            Backend::Rpc => {
                let url = self.rpc_url.as_deref().ok_or_else(|| {
                    ChainError::Invalid(
                        "backend is rpc but no rpc_url is configured; run `hearth chain deploy --rpc URL`".into(),
                    )
                })?;
                let deployment = self.contracts.ok_or_else(|| {
                    ChainError::Invalid(
                        "backend is rpc but no contract addresses are configured; run `hearth chain deploy --rpc URL`"
                            .into(),
                    )
                })?;
                let chain: Arc<dyn Chain> = Arc::new(RpcChain::new(url)?);
                Contracts::connect(chain, deployment, self.chain_id).await
            }
        }
    }
}
