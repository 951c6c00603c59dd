//! hearth's chain layer: bindings to the hearth contracts and one [`Chain`] interface
//! with two backends — [`EmbeddedChain`] (an in-process EVM, the default) and
//! [`RpcChain`] (any EVM JSON-RPC endpoint).
//!
//! Architecture invariant: this is the only crate that talks to a chain.

#![forbid(unsafe_code)]

pub mod anvil;
pub mod bindings;
mod chain;
mod collective;
mod config;
mod contracts;
mod embedded;
mod error;
pub mod limits;
mod rpc;
mod wallet;

pub use chain::{Backend, CallRequest, Chain, Fees, LogEntry, LogFilter, Receipt};
pub use collective::{
    Action, ChallengeResult, CodeAction, CodeApproval, CodeApprovals, Collective, CollectiveDeployment,
    CollectiveParams, DEFAULT_ADMIN_ROLE, EPOCH_SECS_MAX, Governance, GovernanceSettings, Liveness, Membership,
    Proposal, ProposalRecord, ProposalState, ProposalTimes, QUORUM_PERCENT_MAX, StorageCommitment, Support, Tally,
    VOTING_DELAY_SECS_MAX, canceller_role, challenge_chunk, chunk_leaf, code_approval_at, deploy_collective,
    executor_role, proposer_role,
};
pub use config::{ChainConfig, EMBEDDED_DIR};
pub use contracts::{
    Apps, Audit, Contracts, DOMAIN_VERSION, Data, Deployment, GrantRecord, Permissions, Servers, Signing,
    decode_revert, deploy_suite,
};
pub use embedded::{EMBEDDED_CHAIN_ID, EmbeddedChain, EmbeddedConfig, JOURNAL_FILE, genesis_deployer};
pub use error::{ChainError, Result};
pub use rpc::RpcChain;
pub use wallet::Wallet;
