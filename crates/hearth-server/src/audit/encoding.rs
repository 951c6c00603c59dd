//! The canonical encoding of a record and its hash: Solidity ABI, so a contract (or any
//! ABI library) recomputes it with `keccak256(abi.encode(prevHash, seq, time, entry))`.

use alloy_primitives::{B256, keccak256};
use alloy_sol_types::SolValue;

use super::Entry;

alloy_sol_types::sol! {
    /// The Solidity twin of [`Entry`]. Each optional hash is a presence flag and a value
    /// (zero when absent), so `None` and `Some(0x00…00)` hash differently.
    struct AuditEntry {
        address actor;
        string action;
        bool hasGrantId;
        bytes32 grantId;
        bytes32[] files;
        bool hasCodeDigest;
        bytes32 codeDigest;
        bool hasParamsHash;
        bytes32 paramsHash;
        bool hasResultHash;
        bytes32 resultHash;
        string outcome;
    }
}

/// The Solidity declaration of [`AuditEntry`], for verifiers written in Solidity.
pub const ENTRY_SOLIDITY: &str = "struct AuditEntry { address actor; string action; bool hasGrantId; bytes32 grantId; \
     bytes32[] files; bool hasCodeDigest; bytes32 codeDigest; bool hasParamsHash; bytes32 paramsHash; \
     bool hasResultHash; bytes32 resultHash; string outcome; }";

fn to_sol(entry: &Entry) -> AuditEntry {
    AuditEntry {
        actor: entry.actor,
        action: entry.action.clone(),
        hasGrantId: entry.grant_id.is_some(),
        grantId: entry.grant_id.unwrap_or_default(),
        files: entry.files.clone(),
        hasCodeDigest: entry.code_digest.is_some(),
        codeDigest: entry.code_digest.unwrap_or_default(),
        hasParamsHash: entry.params_hash.is_some(),
        paramsHash: entry.params_hash.unwrap_or_default(),
        hasResultHash: entry.result_hash.is_some(),
        resultHash: entry.result_hash.unwrap_or_default(),
        outcome: entry.outcome.clone(),
    }
}

/// `keccak256(abi.encode(bytes32 prevHash, uint64 seq, uint64 time, AuditEntry entry))`.
pub(crate) fn record_hash(prev_hash: B256, seq: u64, time: u64, entry: &Entry) -> B256 {
    keccak256((prev_hash, seq, time, to_sol(entry)).abi_encode_params())
}
