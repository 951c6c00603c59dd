//! A real `anvil` node for tests and benchmarks: started on a free loopback port from the
//! npm package pinned in `contracts/package-lock.json`, killed on drop.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use alloy_primitives::{Address, U256};
use alloy_provider::Provider;

use crate::error::{ChainError, Result};
use crate::rpc::RpcChain;
use crate::wallet::Wallet;

/// The first of anvil's well-known development keys (funded at genesis).
pub const DEV_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
/// anvil's default chain id.
pub const ANVIL_CHAIN_ID: u64 = 31_337;
/// How long anvil may take to start listening.
pub const START_SECS_MAX: u64 = 30;
/// Environment variable naming an anvil binary to use instead of the npm one.
pub const ANVIL_ENV: &str = "HEARTH_ANVIL";

/// A running anvil process.
#[derive(Debug)]
pub struct Anvil {
    child: Child,
    url: String,
}

fn binary() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os(ANVIL_ENV) {
        return Ok(PathBuf::from(path));
    }
    let contracts = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../contracts/node_modules");
    let native = contracts.join("@foundry-rs/anvil-linux-amd64/bin/anvil");
    if native.exists() {
        return Ok(native);
    }
    Err(ChainError::Invalid(format!(
        "anvil not found at {}: run `npm --prefix contracts install` (or set {ANVIL_ENV})",
        native.display()
    )))
}

impl Anvil {
    /// Starts anvil on a free port on 127.0.0.1 and waits until it listens.
    pub fn start() -> Result<Anvil> {
        let bin = binary()?;
        let mut child = Command::new(&bin)
            .args(["--host", "127.0.0.1", "--port", "0", "--chain-id", &ANVIL_CHAIN_ID.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| ChainError::Invalid(format!("cannot start {}: {e}", bin.display())))?;
        let stdout = child.stdout.take().ok_or_else(|| ChainError::Invalid("anvil has no stdout".into()))?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stdout).lines().map_while(|l| l.ok()) {
                if !sent && let Some(addr) = line.strip_prefix("Listening on ") {
                    sent = tx.send(addr.trim().to_owned()).is_ok();
                }
                // Keep draining so anvil never blocks on a full pipe.
            }
        });
        let deadline = Instant::now() + Duration::from_secs(START_SECS_MAX);
        let addr = loop {
            if let Ok(addr) = rx.recv_timeout(Duration::from_millis(100)) {
                break addr;
            }
            if Instant::now() > deadline || child.try_wait().ok().flatten().is_some() {
                let _ = child.kill();
                let _ = child.wait();
                return Err(ChainError::Invalid("anvil did not start listening".into()));
            }
        };
        Ok(Anvil { child, url: format!("http://{addr}") })
    }

    /// The node's JSON-RPC URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A client for the node.
    pub fn chain(&self) -> Result<RpcChain> {
        RpcChain::new(&self.url)
    }

    /// The funded development wallet.
    pub fn dev_wallet(&self) -> Wallet {
        // A constant, well-known test key: cannot fail to parse.
        Wallet::from_hex(DEV_KEY).unwrap_or_else(|_| unreachable!("DEV_KEY is a valid key"))
    }

    /// Gives `address` 1000 ETH (`anvil_setBalance`).
    pub async fn fund(&self, address: Address) -> Result<()> {
        let chain = self.chain()?;
        let amount = U256::from(1000u64) * U256::from(10u64).pow(U256::from(18u64));
        chain
            .provider()
            .raw_request::<_, ()>("anvil_setBalance".into(), (address, amount))
            .await
            .map_err(|e| ChainError::Rpc { method: "anvil_setBalance", message: e.to_string() })
    }

    /// Moves the node's clock forward and mines a block, so views see the new time.
    pub async fn advance(&self, secs: u64) -> Result<()> {
        let chain = self.chain()?;
        let p = chain.provider();
        p.raw_request::<_, serde_json::Value>("evm_increaseTime".into(), (secs,))
            .await
            .map_err(|e| ChainError::Rpc { method: "evm_increaseTime", message: e.to_string() })?;
        p.raw_request::<_, serde_json::Value>("evm_mine".into(), ())
            .await
            .map_err(|e| ChainError::Rpc { method: "evm_mine", message: e.to_string() })?;
        Ok(())
    }
}

impl Drop for Anvil {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
