//! hearth's chain layer: bindings to the hearth contracts and one [`Chain`] interface
//! with two backends — [`EmbeddedChain`] (an in-process EVM, the default) and
//! [`RpcChain`] (any EVM JSON-RPC endpoint).
//!
//! Architecture invariant: this is the only crate that talks to a chain.

#![forbid(unsafe_code)]

pub mod anvil;
pub mod bindings;
mod chain;
mod config;
mod contracts;
mod embedded;
mod error;
pub mod limits;
mod rpc;
mod wallet;

pub use chain::{Backend, CallRequest, Chain, Fees, LogEntry, LogFilter, Receipt};
pub use config::{ChainConfig, EMBEDDED_DIR};
pub use contracts::{
    Apps, Audit, Contracts, DOMAIN_VERSION, Data, Deployment, GrantRecord, Permissions, Servers, Signing,
    decode_revert, deploy_suite,
};
pub use embedded::{EMBEDDED_CHAIN_ID, EmbeddedChain, EmbeddedConfig, JOURNAL_FILE, genesis_deployer};
pub use error::{ChainError, Result};
pub use rpc::RpcChain;
pub use wallet::Wallet;
