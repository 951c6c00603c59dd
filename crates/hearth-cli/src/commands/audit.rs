//! `hearth audit verify`: every record's hash chain and every anchored root against the chain.

use std::path::Path;
use std::sync::Arc;

use hearth_core::SystemClock;
use hearth_server::audit::{AuditLog, verify_proof_on_chain};
use hearth_server::state::AUDIT_FILE;

use crate::error::CliError;
use crate::node::Node;

fn open_log(data_dir: &Path) -> Result<AuditLog, CliError> {
    AuditLog::open(&data_dir.join(AUDIT_FILE), Arc::new(SystemClock)).map_err(|e| CliError::Missing(e.to_string()))
}

/// Prints record `seq` and its inclusion proof as JSON, checked against the chain.
pub async fn proof(data_dir: &Path, seq: u64) -> Result<(), CliError> {
    let node = Node::load(data_dir)?;
    let contracts = node.contracts().await?;
    let log = open_log(data_dir)?;
    let record = log.records(seq.saturating_sub(1), 1).map_err(|e| CliError::Missing(e.to_string()))?;
    let record =
        record.into_iter().find(|r| r.seq == seq).ok_or_else(|| CliError::Missing(format!("no audit record {seq}")))?;
    let proof = log.proof(seq).map_err(|e| CliError::Missing(e.to_string()))?;
    let on_chain = verify_proof_on_chain(&proof, &contracts, node.server().address)
        .await
        .map_err(|e| CliError::Missing(e.to_string()))?;
    let holds = on_chain && proof.verify() && record.content_hash() == proof.record_hash;
    let out = serde_json::json!({ "record": record, "proof": proof, "verified_on_chain": holds });
    let text = serde_json::to_string_pretty(&out).map_err(|e| CliError::Missing(e.to_string()))?;
    if holds {
        println!("{text}");
        Ok(())
    } else {
        Err(CliError::CheckFailed(format!("{text}\nrecord {seq} does not verify against the chain")))
    }
}

/// Verifies the audit log of `data_dir` (run it while the server is stopped, or on a copy).
pub async fn verify(data_dir: &Path) -> Result<(), CliError> {
    let node = Node::load(data_dir)?;
    let contracts = node.contracts().await?;
    let log = AuditLog::open(&data_dir.join(AUDIT_FILE), Arc::new(SystemClock))
        .map_err(|e| CliError::Missing(e.to_string()))?;
    let report = log.verify(&contracts, node.server().address).await.map_err(|e| CliError::Missing(e.to_string()))?;
    if report.passed() {
        println!("{report}");
        Ok(())
    } else {
        Err(CliError::CheckFailed(report.to_string()))
    }
}
