//! Integration tests of hearth-chain, one module per topic; the contract suite runs
//! against both backends (embedded, and a real anvil started on a free port).

#![allow(clippy::unwrap_used, missing_docs)]

mod artifacts;
mod collective;
mod contracts;
mod embedded;
mod harness;
mod rpc;
