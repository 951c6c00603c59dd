//! The rpc backend: any EVM JSON-RPC endpoint (anvil, a testnet, mainnet) through alloy.
//! Every request is bounded by [`RPC_TIMEOUT_SECS`]; a dead endpoint is an error, never a hang.

use std::future::Future;
use std::time::{Duration, Instant};

use alloy_json_rpc::RpcError;
use alloy_primitives::{Address, Bytes, TxKind};
use alloy_provider::network::Ethereum;
use alloy_provider::{Provider, RootProvider};
use alloy_rpc_types_eth::{BlockNumberOrTag, Filter, Log, TransactionInput, TransactionRequest};
use alloy_transport::TransportErrorKind;

use crate::chain::{Backend, CallRequest, Chain, Fees, LogEntry, LogFilter, Receipt};
use crate::contracts::decode_revert;
use crate::error::{ChainError, Result};
use crate::limits::{
    LOGS_PER_QUERY_MAX, RECEIPT_POLL_MILLIS_MAX, RECEIPT_POLL_MILLIS_MIN, RECEIPT_WAIT_SECS_MAX, RPC_TIMEOUT_SECS,
};

/// A chain reached over JSON-RPC (HTTP).
#[derive(Debug, Clone)]
pub struct RpcChain {
    provider: RootProvider<Ethereum>,
    /// The endpoint without credentials, for messages.
    shown_url: String,
}

impl RpcChain {
    /// A client for `url` (`http://` or `https://`). Nothing is sent until the first call.
    pub fn new(url: &str) -> Result<RpcChain> {
        let parsed: url::Url = url.parse().map_err(|e| ChainError::Invalid(format!("invalid RPC URL: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(ChainError::Invalid(format!(
                "unsupported RPC URL scheme {:?}: use http or https",
                parsed.scheme()
            )));
        }
        let mut shown = parsed.clone();
        // Credentials in a URL are secrets: never show them.
        let _ = shown.set_username("");
        let _ = shown.set_password(None);
        Ok(RpcChain { provider: RootProvider::new_http(parsed), shown_url: shown.to_string() })
    }

    /// The endpoint as shown in messages (credentials removed).
    pub fn url(&self) -> &str {
        &self.shown_url
    }

    /// The underlying provider, for test harness calls such as `evm_increaseTime`.
    pub fn provider(&self) -> &RootProvider<Ethereum> {
        &self.provider
    }

    fn map_err(&self, method: &'static str, e: RpcError<TransportErrorKind>) -> ChainError {
        match e {
            RpcError::ErrorResp(payload) => match payload.as_revert_data() {
                Some(data) => ChainError::Reverted { contract: "transaction", reason: decode_revert(&data), data },
                None if payload.message.contains("revert") => ChainError::Reverted {
                    contract: "transaction",
                    reason: payload.message.to_string(),
                    data: Bytes::new(),
                },
                None => ChainError::Rpc { method, message: payload.message.to_string() },
            },
            RpcError::Transport(kind) => {
                ChainError::Unreachable { url: self.shown_url.clone(), reason: kind.to_string() }
            }
            other => ChainError::Rpc { method, message: other.to_string() },
        }
    }

    async fn bounded<T, F>(&self, method: &'static str, fut: F) -> Result<T>
    where
        F: Future<Output = std::result::Result<T, RpcError<TransportErrorKind>>>,
    {
        match tokio::time::timeout(Duration::from_secs(RPC_TIMEOUT_SECS), fut).await {
            Ok(result) => result.map_err(|e| self.map_err(method, e)),
            Err(_) => Err(ChainError::Unreachable {
                url: self.shown_url.clone(),
                reason: format!("{method} got no answer within {RPC_TIMEOUT_SECS} s"),
            }),
        }
    }
}

fn to_request(request: &CallRequest) -> TransactionRequest {
    TransactionRequest {
        from: request.from,
        to: Some(request.to.map_or(TxKind::Create, TxKind::Call)),
        input: TransactionInput::new(request.input.clone()),
        ..TransactionRequest::default()
    }
}

fn to_entry(log: Log) -> Result<LogEntry> {
    let missing = |field: &str| ChainError::Decode { what: "log", reason: format!("pending log without {field}") };
    Ok(LogEntry {
        block_number: log.block_number.ok_or_else(|| missing("block number"))?,
        transaction_hash: log.transaction_hash.ok_or_else(|| missing("transaction hash"))?,
        log_index: log.log_index.ok_or_else(|| missing("log index"))?,
        address: log.inner.address,
        topics: log.inner.data.topics().to_vec(),
        data: log.inner.data.data,
    })
}

#[async_trait::async_trait]
impl Chain for RpcChain {
    fn backend(&self) -> Backend {
        Backend::Rpc
    }

    async fn chain_id(&self) -> Result<u64> {
        self.bounded("eth_chainId", async { self.provider.get_chain_id().await }).await
    }

    async fn block_number(&self) -> Result<u64> {
        self.bounded("eth_blockNumber", async { self.provider.get_block_number().await }).await
    }

    async fn block_timestamp(&self) -> Result<u64> {
        let block = self
            .bounded("eth_getBlockByNumber", async {
                self.provider.get_block_by_number(BlockNumberOrTag::Latest).await
            })
            .await?;
        let block =
            block.ok_or(ChainError::Decode { what: "latest block", reason: "the node has no latest block".into() })?;
        Ok(block.header.timestamp)
    }

    async fn call(&self, request: &CallRequest) -> Result<Bytes> {
        self.bounded("eth_call", async { self.provider.call(to_request(request)).await }).await
    }

    async fn estimate_gas(&self, request: &CallRequest) -> Result<u64> {
        let gas =
            self.bounded("eth_estimateGas", async { self.provider.estimate_gas(to_request(request)).await }).await?;
        // Headroom: estimates are tight and state can move between estimate and mining.
        Ok(gas + gas / 5)
    }

    async fn transaction_count(&self, address: Address) -> Result<u64> {
        self.bounded("eth_getTransactionCount", async { self.provider.get_transaction_count(address).pending().await })
            .await
    }

    async fn fees(&self) -> Result<Fees> {
        let gas_price = self.bounded("eth_gasPrice", async { self.provider.get_gas_price().await }).await?;
        let tip = self
            .bounded("eth_maxPriorityFeePerGas", async { self.provider.get_max_priority_fee_per_gas().await })
            .await?;
        Ok(Fees { max_fee_per_gas: gas_price * 2 + tip, max_priority_fee_per_gas: tip })
    }

    async fn code(&self, address: Address) -> Result<Bytes> {
        self.bounded("eth_getCode", async { self.provider.get_code_at(address).await }).await
    }

    async fn send_raw_transaction(&self, raw: Bytes) -> Result<Receipt> {
        let pending =
            self.bounded("eth_sendRawTransaction", async { self.provider.send_raw_transaction(&raw).await }).await?;
        let hash = *pending.tx_hash();
        let started = Instant::now();
        let mut pause = RECEIPT_POLL_MILLIS_MIN;
        loop {
            let receipt = self
                .bounded("eth_getTransactionReceipt", async { self.provider.get_transaction_receipt(hash).await })
                .await?;
            if let Some(r) = receipt {
                let logs = r.inner.logs().iter().cloned().map(to_entry).collect::<Result<Vec<_>>>()?;
                return Ok(Receipt {
                    transaction_hash: hash,
                    block_number: r.block_number.unwrap_or_default(),
                    success: r.status(),
                    gas_used: r.gas_used,
                    contract_address: r.contract_address,
                    logs,
                });
            }
            if started.elapsed() > Duration::from_secs(RECEIPT_WAIT_SECS_MAX) {
                return Err(ChainError::Unreachable {
                    url: self.shown_url.clone(),
                    reason: format!("transaction {hash} not mined within {RECEIPT_WAIT_SECS_MAX} s"),
                });
            }
            tokio::time::sleep(Duration::from_millis(pause)).await;
            pause = (pause * 2).min(RECEIPT_POLL_MILLIS_MAX);
        }
    }

    async fn logs(&self, filter: &LogFilter) -> Result<Vec<LogEntry>> {
        let mut f = Filter::new().from_block(filter.from_block).address(filter.addresses.clone());
        f = match filter.to_block {
            Some(to) => f.to_block(to),
            None => f.to_block(BlockNumberOrTag::Latest),
        };
        for (i, wanted) in filter.topics.iter().enumerate() {
            if !wanted.is_empty() {
                f.topics[i] = wanted.clone().into();
            }
        }
        let logs = self.bounded("eth_getLogs", async { self.provider.get_logs(&f).await }).await?;
        if logs.len() > LOGS_PER_QUERY_MAX {
            return Err(ChainError::LimitExceeded {
                what: "logs in one query (narrow the block range)",
                actual: logs.len() as u64,
                max: LOGS_PER_QUERY_MAX as u64,
            });
        }
        logs.into_iter().map(to_entry).collect()
    }
}
