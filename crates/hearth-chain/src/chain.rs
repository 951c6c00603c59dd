//! The `Chain` interface: the few EVM operations hearth needs, answered by either backend.

use alloy_primitives::{Address, B256, Bytes};
use serde::{Deserialize, Serialize};

use crate::error::Result;

/// Which backend answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// In-process EVM persisted under the data directory.
    Embedded,
    /// An EVM JSON-RPC endpoint.
    Rpc,
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Backend::Embedded => "embedded",
            Backend::Rpc => "rpc",
        })
    }
}

/// A read-only call (`eth_call`) or a gas estimate.
#[derive(Debug, Clone, Default)]
pub struct CallRequest {
    /// The caller; zero when absent.
    pub from: Option<Address>,
    /// The contract called; `None` estimates a deployment.
    pub to: Option<Address>,
    /// ABI-encoded call data.
    pub input: Bytes,
}

/// One log emitted by a mined transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    /// The emitting contract.
    pub address: Address,
    /// Indexed topics; the first is the event signature hash.
    pub topics: Vec<B256>,
    /// ABI-encoded non-indexed fields.
    pub data: Bytes,
    /// The block it was mined in.
    pub block_number: u64,
    /// The transaction that emitted it.
    pub transaction_hash: B256,
    /// Position in the block.
    pub log_index: u64,
}

/// The outcome of a mined transaction.
#[derive(Debug, Clone)]
pub struct Receipt {
    /// The transaction's hash.
    pub transaction_hash: B256,
    /// The block it was mined in.
    pub block_number: u64,
    /// Whether it succeeded.
    pub success: bool,
    /// Gas it used.
    pub gas_used: u64,
    /// The address of a contract it created.
    pub contract_address: Option<Address>,
    /// Logs it emitted.
    pub logs: Vec<LogEntry>,
}

/// Which logs to fetch; every listed condition must hold.
#[derive(Debug, Clone, Default)]
pub struct LogFilter {
    /// First block, inclusive.
    pub from_block: u64,
    /// Last block, inclusive; `None` is the latest.
    pub to_block: Option<u64>,
    /// Emitting contracts; empty matches any.
    pub addresses: Vec<Address>,
    /// Per topic position, the accepted values; an empty set matches any.
    pub topics: [Vec<B256>; 4],
}

impl LogFilter {
    /// Whether `log` satisfies the address and topic conditions (block range not checked).
    pub fn matches(&self, log: &LogEntry) -> bool {
        if !self.addresses.is_empty() && !self.addresses.contains(&log.address) {
            return false;
        }
        self.topics
            .iter()
            .enumerate()
            .all(|(i, wanted)| wanted.is_empty() || log.topics.get(i).is_some_and(|t| wanted.contains(t)))
    }
}

/// Fee parameters for an EIP-1559 transaction.
#[derive(Debug, Clone, Copy)]
pub struct Fees {
    /// `maxFeePerGas`, in wei.
    pub max_fee_per_gas: u128,
    /// `maxPriorityFeePerGas`, in wei.
    pub max_priority_fee_per_gas: u128,
}

/// An EVM chain as hearth uses it. Only `hearth-chain` implements or calls the network
/// behind this; everything else goes through the typed contract wrappers.
#[async_trait::async_trait]
pub trait Chain: Send + Sync + 'static {
    /// Which backend this is.
    fn backend(&self) -> Backend;
    /// The chain id (EIP-155).
    async fn chain_id(&self) -> Result<u64>;
    /// The latest block number.
    async fn block_number(&self) -> Result<u64>;
    /// The latest block's timestamp, in unix seconds.
    async fn block_timestamp(&self) -> Result<u64>;
    /// Runs a read-only call against the latest state. A revert is
    /// [`ChainError::Reverted`](crate::ChainError::Reverted) with the raw data.
    async fn call(&self, request: &CallRequest) -> Result<Bytes>;
    /// Estimates the gas a transaction needs; reverts like [`Chain::call`].
    async fn estimate_gas(&self, request: &CallRequest) -> Result<u64>;
    /// The next nonce of `address`.
    async fn transaction_count(&self, address: Address) -> Result<u64>;
    /// Fees that get a transaction mined now.
    async fn fees(&self) -> Result<Fees>;
    /// The code deployed at `address` (empty when none).
    async fn code(&self, address: Address) -> Result<Bytes>;
    /// Submits an EIP-2718 signed transaction and waits until it is mined.
    /// A revert is [`ChainError::Reverted`](crate::ChainError::Reverted) when the backend
    /// can tell the data, otherwise a receipt with `success == false`.
    async fn send_raw_transaction(&self, raw: Bytes) -> Result<Receipt>;
    /// Logs matching `filter`, oldest first, at most
    /// [`LOGS_PER_QUERY_MAX`](crate::limits::LOGS_PER_QUERY_MAX).
    async fn logs(&self, filter: &LogFilter) -> Result<Vec<LogEntry>>;
}
