//! The embedded chain: an in-process EVM (revm) holding the hearth contract suite from
//! genesis, mining each transaction into its own block at once, persisted as a journal of
//! signed transactions under the data directory and rebuilt by replay on open.
//!
//! Gas is free here (base fee zero), so owners, apps and the server need no funds. A
//! transaction that would revert is refused, not mined: the sender's nonce is not used.
//!
//! Block hashes (what `BLOCKHASH` answers for the last [`BLOCK_HASHES_KEPT`] blocks) are a
//! keccak chain over the mined blocks: each covers the previous hash, the block's number, time,
//! transaction hash and outcome. So they are the same on every replay, yet cannot be known
//! before the block is mined (revm's default would be a hash of the block number alone, which
//! would make on-chain challenge seeds predictable).

mod journal;

use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use alloy_consensus::transaction::SignerRecoverable;
use alloy_consensus::{Transaction, TxEnvelope};
use alloy_eips::eip2718::{Decodable2718, Typed2718};
use alloy_primitives::{Address, B256, Bytes, TxKind, U256, keccak256};
use hearth_core::{Clock, SystemClock};
use revm::context::result::{EVMError, ExecutionResult, ResultAndState};
use revm::context::{BlockEnv, CfgEnv, TxEnv};
use revm::database::{CacheDB, EmptyDB};
use revm::primitives::hardfork::SpecId;
use revm::{Context, Database, DatabaseCommit, ExecuteEvm, MainBuilder, MainContext};

use crate::chain::{Backend, CallRequest, Chain, Fees, LogEntry, LogFilter, Receipt};
use crate::contracts::{Deployment, suite_init_codes};
use crate::error::{ChainError, Result};
use crate::limits::{BLOCK_GAS_MAX, BLOCK_HASHES_KEPT, LOGS_PER_QUERY_MAX, RAW_TX_BYTES_MAX, TX_GAS_MAX};
use journal::{Header, Journal, Opened, Record};

/// Chain id of embedded chains: ASCII "hear", distinct from public chains and anvil's.
pub const EMBEDDED_CHAIN_ID: u64 = 0x6865_6172;
/// File name of the journal inside the chain directory.
pub const JOURNAL_FILE: &str = "embedded.journal";

/// The account that deploys the suite at genesis (no key exists for it).
pub fn genesis_deployer() -> Address {
    Address::from_word(keccak256(b"hearth.embedded.genesis-deployer"))
}

/// Settings of an embedded chain.
#[derive(Debug, Clone)]
pub struct EmbeddedConfig {
    /// The chain id signed transactions must carry.
    pub chain_id: u64,
    /// Source of block timestamps.
    pub clock: Arc<dyn Clock>,
}

impl Default for EmbeddedConfig {
    fn default() -> Self {
        EmbeddedConfig { chain_id: EMBEDDED_CHAIN_ID, clock: Arc::new(SystemClock) }
    }
}

struct State {
    db: CacheDB<EmptyDB>,
    number: u64,
    timestamp: u64,
    /// The hash of block `number`.
    hash: B256,
    logs: Vec<LogEntry>,
    journal: Option<Journal>,
}

/// An in-process EVM chain persisted under a directory.
pub struct EmbeddedChain {
    chain_id: u64,
    clock: Arc<dyn Clock>,
    path: PathBuf,
    deployment: Deployment,
    torn_tail_bytes: u64,
    state: RwLock<State>,
}

impl std::fmt::Debug for EmbeddedChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedChain").field("chain_id", &self.chain_id).field("path", &self.path).finish()
    }
}

fn cfg(chain_id: u64, for_call: bool) -> CfgEnv {
    let mut cfg = CfgEnv::new_with_spec(SpecId::PRAGUE);
    cfg.chain_id = chain_id;
    cfg.disable_nonce_check = for_call;
    cfg
}

fn block(number: u64, timestamp: u64) -> BlockEnv {
    BlockEnv {
        number: U256::from(number),
        timestamp: U256::from(timestamp),
        gas_limit: BLOCK_GAS_MAX,
        basefee: 0,
        ..BlockEnv::default()
    }
}

fn execute<DB>(db: DB, cfg: CfgEnv, block: BlockEnv, tx: TxEnv) -> Result<ResultAndState>
where
    DB: Database<Error = Infallible>,
{
    let mut evm = Context::mainnet().with_cfg(cfg).with_block(block).with_db(db).build_mainnet();
    evm.transact(tx).map_err(|e| match e {
        EVMError::Transaction(invalid) => ChainError::InvalidTransaction(invalid.to_string()),
        other => ChainError::InvalidTransaction(other.to_string()),
    })
}

/// Turns a failed execution into an error carrying its revert data.
fn ensure_success(result: &ExecutionResult) -> Result<()> {
    match result {
        ExecutionResult::Success { .. } => Ok(()),
        ExecutionResult::Revert { output, .. } => Err(ChainError::Reverted {
            contract: "transaction",
            reason: crate::contracts::decode_revert(output),
            data: output.clone(),
        }),
        ExecutionResult::Halt { reason, .. } => Err(ChainError::Reverted {
            contract: "transaction",
            reason: format!("halted: {reason:?}"),
            data: Bytes::new(),
        }),
    }
}

/// The digest of what a transaction did, compared on replay.
fn outcome_digest(result: &ExecutionResult) -> B256 {
    let mut buf = Vec::new();
    buf.extend_from_slice(&result.tx_gas_used().to_be_bytes());
    for log in result.logs() {
        buf.extend_from_slice(log.address.as_slice());
        for topic in log.topics() {
            buf.extend_from_slice(topic.as_slice());
        }
        buf.extend_from_slice(keccak256(&log.data.data).as_slice());
    }
    keccak256(buf)
}

struct Decoded {
    hash: B256,
    tx: TxEnv,
}

fn decode_tx(raw: &[u8], chain_id: u64) -> Result<Decoded> {
    if raw.len() > RAW_TX_BYTES_MAX {
        return Err(ChainError::LimitExceeded {
            what: "signed transaction bytes",
            actual: raw.len() as u64,
            max: RAW_TX_BYTES_MAX as u64,
        });
    }
    let envelope = TxEnvelope::decode_2718(&mut &raw[..])
        .map_err(|e| ChainError::InvalidTransaction(format!("undecodable transaction: {e}")))?;
    if !matches!(envelope, TxEnvelope::Legacy(_) | TxEnvelope::Eip2930(_) | TxEnvelope::Eip1559(_)) {
        return Err(ChainError::InvalidTransaction(
            "only legacy, EIP-2930 and EIP-1559 transactions are supported".into(),
        ));
    }
    match envelope.chain_id() {
        Some(id) if id == chain_id => {}
        Some(id) => {
            return Err(ChainError::InvalidTransaction(format!("signed for chain id {id}, this chain is {chain_id}")));
        }
        None => {
            return Err(ChainError::InvalidTransaction(
                "transactions without a chain id (pre-EIP-155) are refused".into(),
            ));
        }
    }
    if envelope.gas_limit() > TX_GAS_MAX {
        return Err(ChainError::LimitExceeded {
            what: "transaction gas",
            actual: envelope.gas_limit(),
            max: TX_GAS_MAX,
        });
    }
    let caller =
        envelope.recover_signer().map_err(|e| ChainError::InvalidTransaction(format!("bad signature: {e}")))?;
    let tx = TxEnv {
        tx_type: envelope.ty(),
        caller,
        gas_limit: envelope.gas_limit(),
        gas_price: envelope.max_fee_per_gas(),
        kind: envelope.kind(),
        value: envelope.value(),
        data: envelope.input().clone(),
        nonce: envelope.nonce(),
        chain_id: Some(chain_id),
        access_list: envelope.access_list().cloned().unwrap_or_default(),
        gas_priority_fee: envelope.max_priority_fee_per_gas(),
        ..TxEnv::default()
    };
    Ok(Decoded { hash: *envelope.tx_hash(), tx })
}

fn to_entries(result: &ExecutionResult, number: u64, tx_hash: B256) -> Vec<LogEntry> {
    result
        .logs()
        .iter()
        .enumerate()
        .map(|(i, log)| LogEntry {
            address: log.address,
            topics: log.topics().to_vec(),
            data: log.data.data.clone(),
            block_number: number,
            transaction_hash: tx_hash,
            log_index: i as u64,
        })
        .collect()
}

impl State {
    /// Records block `number`'s hash (chained to the previous one) where `BLOCKHASH` finds it,
    /// forgetting the one that falls out of the window.
    fn seal(&mut self, number: u64, timestamp: u64, tx_hash: B256, outcome: B256) {
        let mut buf = Vec::with_capacity(32 * 3 + 16);
        buf.extend_from_slice(self.hash.as_slice());
        buf.extend_from_slice(&number.to_be_bytes());
        buf.extend_from_slice(&timestamp.to_be_bytes());
        buf.extend_from_slice(tx_hash.as_slice());
        buf.extend_from_slice(outcome.as_slice());
        self.hash = keccak256(buf);
        self.db.cache.block_hashes.insert(U256::from(number), self.hash);
        if let Some(old) = number.checked_sub(BLOCK_HASHES_KEPT) {
            self.db.cache.block_hashes.remove(&U256::from(old));
        }
    }
}

/// The contract suite at genesis: who deploys it, where, with which code, and its hash.
struct Genesis {
    deployer: Address,
    deployment: Deployment,
    codes: Vec<(&'static str, Bytes)>,
    hash: B256,
}

impl Genesis {
    fn new(chain_id: u64) -> Genesis {
        let deployer = genesis_deployer();
        let deployment = Deployment::predict(deployer, 0);
        let codes = suite_init_codes(deployment.server_registry);
        let hash = genesis_hash(chain_id, &codes);
        Genesis { deployer, deployment, codes, hash }
    }
}

fn genesis_hash(chain_id: u64, codes: &[(&'static str, Bytes)]) -> B256 {
    let mut buf = chain_id.to_be_bytes().to_vec();
    for (name, code) in codes {
        buf.extend_from_slice(name.as_bytes());
        buf.extend_from_slice(keccak256(code).as_slice());
    }
    keccak256(buf)
}

impl EmbeddedChain {
    /// Opens the chain stored in `dir`, creating it (with the contract suite at genesis)
    /// when `dir` holds none. A journal that does not verify is an error; nothing is reset.
    pub fn open(dir: &Path, config: EmbeddedConfig) -> Result<EmbeddedChain> {
        let path = dir.join(JOURNAL_FILE);
        let genesis = Genesis::new(config.chain_id);
        let (journal, header, records, torn_tail_bytes) = if path.exists() {
            let Opened { journal, header, records, torn_tail_bytes } = Journal::open(&path)?;
            (journal, header, records, torn_tail_bytes)
        } else {
            let header = Header::new(config.chain_id, genesis.hash, config.clock.now_secs());
            (Journal::create(&path, &header)?, header, Vec::new(), 0)
        };
        let mut chain = Self::replayed(path, config, genesis, &header, &records, torn_tail_bytes)?;
        chain.state.get_mut().unwrap_or_else(std::sync::PoisonError::into_inner).journal = Some(journal);
        Ok(chain)
    }

    /// A read-only view of the chain stored in `dir` as it is now, even while another
    /// process has it open (that process's lock is not taken). Transactions sent to the
    /// view are refused; views and logs answer as of the last complete block.
    pub fn snapshot(dir: &Path, config: EmbeddedConfig) -> Result<EmbeddedChain> {
        let path = dir.join(JOURNAL_FILE);
        if !path.exists() {
            return Err(ChainError::Invalid(format!("no embedded chain at {}", path.display())));
        }
        let (header, records) = Journal::snapshot(&path)?;
        let genesis = Genesis::new(config.chain_id);
        Self::replayed(path, config, genesis, &header, &records, 0)
    }

    /// The chain at genesis with `records` replayed on it, without a journal to append to.
    fn replayed(
        path: PathBuf,
        config: EmbeddedConfig,
        genesis: Genesis,
        header: &Header,
        records: &[Record],
        torn_tail_bytes: u64,
    ) -> Result<EmbeddedChain> {
        let Genesis { deployer, deployment, codes, hash: genesis } = genesis;
        let corrupted = |reason: String| ChainError::Corrupted { path: path.clone(), reason };
        if header.chain_id != config.chain_id {
            return Err(ChainError::WrongChainId { expected: config.chain_id, actual: header.chain_id });
        }
        if header.genesis != genesis {
            return Err(corrupted("it was created by a build with different contract code".into()));
        }
        let mut state = State {
            db: CacheDB::new(EmptyDB::default()),
            number: 0,
            timestamp: header.genesis_timestamp,
            hash: keccak256([b"hearth.embedded.block0".as_slice(), genesis.as_slice()].concat()),
            logs: Vec::new(),
            journal: None,
        };
        for (nonce, (name, code)) in codes.iter().enumerate() {
            let tx = TxEnv {
                caller: deployer,
                gas_limit: TX_GAS_MAX,
                kind: TxKind::Create,
                data: code.clone(),
                nonce: nonce as u64,
                chain_id: Some(config.chain_id),
                ..TxEnv::default()
            };
            let out = execute(&mut state.db, cfg(config.chain_id, false), block(0, header.genesis_timestamp), tx)?;
            ensure_success(&out.result).map_err(|e| corrupted(format!("genesis deployment of {name} failed: {e}")))?;
            state.db.commit(out.state);
        }
        state.db.cache.block_hashes.insert(U256::ZERO, state.hash);
        for record in records {
            Self::replay(&mut state, config.chain_id, record).map_err(|e| match e {
                ChainError::Corrupted { .. } => e,
                other => corrupted(format!("block {} does not replay: {other}", record.n)),
            })?;
        }
        Ok(EmbeddedChain {
            chain_id: config.chain_id,
            clock: config.clock,
            path,
            deployment,
            torn_tail_bytes,
            state: RwLock::new(state),
        })
    }

    fn replay(state: &mut State, chain_id: u64, record: &Record) -> Result<()> {
        let decoded = decode_tx(&record.tx, chain_id)?;
        let out = execute(&mut state.db, cfg(chain_id, false), block(record.n, record.ts), decoded.tx)?;
        ensure_success(&out.result)?;
        if outcome_digest(&out.result) != record.outcome {
            return Err(ChainError::Invalid(format!("block {} replays to a different outcome", record.n)));
        }
        state.logs.extend(to_entries(&out.result, record.n, decoded.hash));
        state.db.commit(out.state);
        state.number = record.n;
        state.timestamp = record.ts;
        state.seal(record.n, record.ts, decoded.hash, record.outcome);
        Ok(())
    }

    /// The addresses of the contract suite deployed at genesis.
    pub fn deployment(&self) -> Deployment {
        self.deployment
    }

    /// The journal file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes of an unfinished record (a write cut short by a crash) dropped on open.
    pub fn torn_tail_bytes(&self) -> u64 {
        self.torn_tail_bytes
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        // A panic while holding the lock leaves no partial state: commits happen last.
        self.state.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn simulate(&self, request: &CallRequest) -> Result<ExecutionResult> {
        let state = self.read();
        let timestamp = self.clock.now_secs().max(state.timestamp);
        let tx = TxEnv {
            caller: request.from.unwrap_or_default(),
            gas_limit: TX_GAS_MAX,
            kind: request.to.map_or(TxKind::Create, TxKind::Call),
            data: request.input.clone(),
            chain_id: Some(self.chain_id),
            ..TxEnv::default()
        };
        let out = execute(
            revm::database::WrapDatabaseRef(&state.db),
            cfg(self.chain_id, true),
            block(state.number + 1, timestamp),
            tx,
        )?;
        Ok(out.result)
    }
}

#[async_trait::async_trait]
impl Chain for EmbeddedChain {
    fn backend(&self) -> Backend {
        Backend::Embedded
    }

    async fn chain_id(&self) -> Result<u64> {
        Ok(self.chain_id)
    }

    async fn block_number(&self) -> Result<u64> {
        Ok(self.read().number)
    }

    async fn block_timestamp(&self) -> Result<u64> {
        Ok(self.read().timestamp)
    }

    async fn call(&self, request: &CallRequest) -> Result<Bytes> {
        let result = self.simulate(request)?;
        ensure_success(&result)?;
        Ok(result.into_output().unwrap_or_default())
    }

    async fn estimate_gas(&self, request: &CallRequest) -> Result<u64> {
        let result = self.simulate(request)?;
        ensure_success(&result)?;
        // Gas is free here; leave headroom for refunds and the 63/64 rule.
        Ok((result.tx_gas_used() * 3 / 2).clamp(21_000, TX_GAS_MAX))
    }

    async fn transaction_count(&self, address: Address) -> Result<u64> {
        let state = self.read();
        let info = revm::DatabaseRef::basic_ref(&state.db, address).unwrap_or_else(|never| match never {});
        Ok(info.map_or(0, |i| i.nonce))
    }

    async fn fees(&self) -> Result<Fees> {
        Ok(Fees { max_fee_per_gas: 0, max_priority_fee_per_gas: 0 })
    }

    async fn code(&self, address: Address) -> Result<Bytes> {
        let state = self.read();
        let info = revm::DatabaseRef::basic_ref(&state.db, address).unwrap_or_else(|never| match never {});
        Ok(info.and_then(|i| i.code).map(|c| c.original_bytes()).unwrap_or_default())
    }

    async fn send_raw_transaction(&self, raw: Bytes) -> Result<Receipt> {
        let decoded = decode_tx(&raw, self.chain_id)?;
        let mut guard = self.write();
        let state = &mut *guard;
        let number = state.number + 1;
        let timestamp = self.clock.now_secs().max(state.timestamp);
        let out = execute(&mut state.db, cfg(self.chain_id, false), block(number, timestamp), decoded.tx)?;
        ensure_success(&out.result)?;
        let journal = state
            .journal
            .as_mut()
            .ok_or_else(|| ChainError::Invalid("this is a read-only snapshot of the embedded chain".into()))?;
        // Durable first: state changes only once the record is on disk.
        let outcome = outcome_digest(&out.result);
        journal.append(number, timestamp, &raw, outcome)?;
        let logs = to_entries(&out.result, number, decoded.hash);
        state.db.commit(out.state);
        state.number = number;
        state.timestamp = timestamp;
        state.seal(number, timestamp, decoded.hash, outcome);
        state.logs.extend(logs.iter().cloned());
        Ok(Receipt {
            transaction_hash: decoded.hash,
            block_number: number,
            success: true,
            gas_used: out.result.tx_gas_used(),
            contract_address: out.result.created_address(),
            logs,
        })
    }

    async fn logs(&self, filter: &LogFilter) -> Result<Vec<LogEntry>> {
        let state = self.read();
        let to = filter.to_block.unwrap_or(state.number);
        let start = state.logs.partition_point(|l| l.block_number < filter.from_block);
        let mut found = Vec::new();
        for log in state.logs[start..].iter().take_while(|l| l.block_number <= to) {
            if filter.matches(log) {
                if found.len() == LOGS_PER_QUERY_MAX {
                    return Err(ChainError::LimitExceeded {
                        what: "logs in one query (narrow the block range)",
                        actual: found.len() as u64 + 1,
                        max: LOGS_PER_QUERY_MAX as u64,
                    });
                }
                found.push(log.clone());
            }
        }
        Ok(found)
    }
}
