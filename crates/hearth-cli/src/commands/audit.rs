//! `hearth audit verify`: every record's hash chain and every anchored root against the chain.

use std::path::Path;
use std::sync::Arc;

use hearth_core::SystemClock;
use hearth_server::audit::AuditLog;
use hearth_server::state::AUDIT_FILE;

use crate::error::CliError;
use crate::node::Node;

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
