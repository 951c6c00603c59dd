//! `hearth liveness commit|claim|status`: a contributor's side of a liveness collective.
//! The contributor keeps its ciphertext on its own hearth server; `commit` registers the
//! Merkle commitment over a kept file in the collective's `LivenessRegistry` (with the
//! owner's wallet, so rewards go to the owner) and tells the server to answer the
//! collective's challenges for it; `claim` and `status` read and collect the rewards.
//!
//! The chain is this data directory's `[chain]`: it must be the collective's, and it must
//! be reachable while the server runs (an rpc chain; an embedded chain is the server's).

use std::path::Path;

use alloy_primitives::{Address, U256};
use hearth_chain::{ChallengeResult, Liveness};
use hearth_server::liveness::kept::KeptCommitment;
use hearth_server::routes::liveness::KeepRequest;
use serde::Serialize;

use super::collective::format_tokens;
use crate::client::Client;
use crate::error::CliError;
use crate::node::Node;

/// Chunk size `commit` uses unless told otherwise, in bytes (age's 64 KiB STREAM chunk).
pub const COMMIT_CHUNK_BYTES_DEFAULT: usize = 64 * 1024;
/// Most contributions `status` looks through.
pub const STATUS_CONTRIBUTIONS_MAX: u64 = 10_000;

/// The registry named by `--registry`, else the one in this data directory's `[collective]`.
fn registry(node: &Node, registry: Option<Address>) -> Result<Address, CliError> {
    match registry {
        Some(address) => Ok(address),
        None => node
            .collective_section()
            .map(|c| c.contracts.liveness)
            .map_err(|_| CliError::Missing("name the collective's LivenessRegistry with --registry ADDRESS".into())),
    }
}

/// `hearth liveness commit --server URL [--registry ADDR] [--chunk-bytes N] FILE_ID`
pub async fn commit(
    data_dir: &Path,
    server: &str,
    registry_arg: Option<Address>,
    chunk_bytes: usize,
    file_id: u64,
) -> Result<(), CliError> {
    use hearth_server::liveness::{CHUNK_BYTES_MAX, CHUNK_BYTES_MIN};
    if !(CHUNK_BYTES_MIN..=CHUNK_BYTES_MAX).contains(&chunk_bytes) {
        return Err(CliError::Missing(format!(
            "--chunk-bytes {chunk_bytes} is not between {CHUNK_BYTES_MIN} and {CHUNK_BYTES_MAX}"
        )));
    }
    let node = Node::load(data_dir)?;
    let registry = registry(&node, registry_arg)?;
    let owner = node.owner_wallet()?;
    let client = Client::connect(server, owner.clone()).await?;
    let ciphertext = client
        .call("GET", &format!("/v1/owner/files/{file_id}"), vec![])
        .await?
        .bytes()
        .await
        .map_err(|e| CliError::Missing(format!("reading file {file_id} from the server: {e}")))?;
    let commitment = hearth_server::liveness::commit(&ciphertext, chunk_bytes)
        .map_err(|e| CliError::Missing(format!("file {file_id}: {e}")))?;
    let contracts = node.contracts().await?;
    let liveness = Liveness::at(contracts.chain().as_ref(), registry).await?;
    let id = liveness.register(&owner, &commitment).await?;
    let request = KeepRequest { registry, contribution_id: id, file_id };
    let body = serde_json::to_vec(&request).map_err(|e| CliError::Missing(e.to_string()))?;
    let kept: KeptCommitment = client.json("POST", "/v1/owner/liveness", body).await?;
    println!(
        "committed file {file_id} as contribution {id} of {registry} ({} chunks of {} bytes); \
         the server answers challenges from {}",
        commitment.chunk_count, commitment.chunk_size, kept.challenger
    );
    Ok(())
}

/// `hearth liveness claim [--registry ADDR]`
pub async fn claim(data_dir: &Path, registry_arg: Option<Address>) -> Result<(), CliError> {
    let node = Node::load(data_dir)?;
    let registry = registry(&node, registry_arg)?;
    // The owner's wallet, as for `commit`: rewards accrue to whoever registered.
    let wallet = node.owner_wallet()?;
    let contracts = node.contracts().await?;
    let liveness = Liveness::at(contracts.chain().as_ref(), registry).await?;
    let paid = liveness.claim(&wallet).await?;
    println!("claimed {} tokens to {}", format_tokens(paid), wallet.address());
    Ok(())
}

#[derive(Serialize)]
struct Status {
    contributor: Address,
    epoch: u64,
    /// Whether the challenger opened the current epoch (fixed its seed).
    epoch_open: bool,
    rewards: U256,
    contributions: Vec<ContributionStatus>,
}

#[derive(Serialize)]
struct ContributionStatus {
    id: U256,
    chunks: u64,
    this_epoch: ChallengeResult,
    last_epoch: Option<ChallengeResult>,
}

/// `hearth liveness status [--registry ADDR] [--json]`
pub async fn status(data_dir: &Path, registry_arg: Option<Address>, json: bool) -> Result<(), CliError> {
    let node = Node::load(data_dir)?;
    let registry = registry(&node, registry_arg)?;
    let contributor = node.owner_wallet()?.address();
    let contracts = node.contracts().await?;
    let l = Liveness::at(contracts.chain().as_ref(), registry).await?;
    let epoch = l.current_epoch().await?;
    let mut contributions = Vec::new();
    for id in (1..=l.contribution_count().await?.min(STATUS_CONTRIBUTIONS_MAX)).map(U256::from) {
        let c = l.contribution(id).await?;
        if c.contributor != contributor {
            continue;
        }
        let last_epoch = match epoch.checked_sub(1) {
            Some(last) if last >= c.registeredEpoch => Some(l.result(id, last).await?),
            _ => None,
        };
        let this_epoch = l.result(id, epoch).await?;
        contributions.push(ContributionStatus { id, chunks: c.chunkCount, this_epoch, last_epoch });
    }
    let epoch_open = l.challenge_seed(epoch).await.is_ok();
    let status = Status { contributor, epoch, epoch_open, rewards: l.rewards(contributor).await?, contributions };
    if json {
        let text = serde_json::to_string_pretty(&status).map_err(|e| CliError::Missing(e.to_string()))?;
        return super::emit(&format!("{text}\n"));
    }
    let mut out = String::new();
    let open = if epoch_open { "challenged" } else { "not challenged yet" };
    put!(out, "contributor {contributor}: {} tokens to claim; epoch {epoch} ({open})", format_tokens(status.rewards));
    for c in &status.contributions {
        let name = |r: &ChallengeResult| match r {
            ChallengeResult::None => "pending",
            ChallengeResult::Passed => "passed",
            ChallengeResult::Failed => "failed",
        };
        let last = c.last_epoch.as_ref().map_or("-", name);
        put!(out, "contribution {} ({} chunks): this epoch {}, last epoch {last}", c.id, c.chunks, name(&c.this_epoch));
    }
    super::emit(&out)
}
