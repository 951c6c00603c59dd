//! Liveness on a contributor's personal server: the owner registers which kept file backs a
//! contribution of a collective's `LivenessRegistry` (`POST /v1/owner/liveness`), and the
//! collective's challenger asks for the challenged chunks with their Merkle proofs
//! (`POST /v1/liveness/answer?registry=ADDR`, the body a [`Challenge`]).
//!
//! The answer endpoint is signed like every `/v1` call (audience: this server; a nonce,
//! so a replayed challenge request is refused) and answers only the registry's challenger,
//! only for contributions the owner registered here: chunks of the owner's ciphertext go to
//! no one else. Answers and refusals are audited (`liveness.answer`).

use std::sync::Arc;

use alloy_primitives::{Address, B256, U256};
use axum::Json;
use axum::body::Body;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, Method, StatusCode};
use hearth_chain::{ChainError, Liveness};
use serde::{Deserialize, Serialize};
use tokio::io::AsyncReadExt;

use super::{Call, Owner, audited, authenticate, claimed, query};
use crate::error::ApiError;
use crate::liveness::kept::{KeptCommitment, KeptError};
use crate::liveness::{Answer, CHALLENGE_CHUNKS_MAX, Challenge, answer, commit};
use crate::state::AppState;

/// Most chunk bytes one answer carries (its JSON is about twice this, in hex).
pub const ANSWER_CHUNK_BYTES_MAX: usize = 64 * 1024 * 1024;
/// Largest kept file liveness covers, in bytes: answers are proved from the whole file in
/// memory.
pub const KEPT_FILE_BYTES_MAX: u64 = 256 * 1024 * 1024;

/// `POST /v1/owner/liveness` body: the contribution `contribution_id` of `registry` is the
/// kept file `file_id`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeepRequest {
    /// The collective's `LivenessRegistry`.
    pub registry: Address,
    /// The contribution's id there (registered by the owner).
    pub contribution_id: U256,
    /// The kept file in this server's store.
    pub file_id: u64,
}

fn kept_error(e: KeptError) -> ApiError {
    match e {
        KeptError::Full => ApiError::new(StatusCode::INSUFFICIENT_STORAGE, "liveness_full", e.to_string()),
        other => ApiError::internal(other),
    }
}

/// `POST /v1/owner/liveness`: checks on chain that the contribution is the owner's and that
/// the kept file is exactly what it commits to (sha256, chunk count, Merkle root), then
/// records it so this server answers its challenges.
pub async fn keep(
    State(state): State<Arc<AppState>>,
    Owner { call, .. }: Owner,
) -> Result<(StatusCode, Json<KeptCommitment>), ApiError> {
    let req: KeepRequest = serde_json::from_slice(&call.body)
        .map_err(|e| ApiError::bad_request("malformed_body", format!("not a liveness registration: {e}")))?;
    let l = Liveness::at(state.contracts.chain().as_ref(), req.registry).await.map_err(|e| match e {
        ChainError::MissingContract { .. } => {
            ApiError::bad_request("unknown_registry", format!("no LivenessRegistry at {}", req.registry))
        }
        other => other.into(),
    })?;
    let c = l.contribution(req.contribution_id).await.map_err(|e| match e {
        ChainError::Reverted { .. } => ApiError::bad_request(
            "unknown_contribution",
            format!("{} has no contribution {}", req.registry, req.contribution_id),
        ),
        other => other.into(),
    })?;
    if c.contributor != state.owner {
        return Err(ApiError::bad_request(
            "not_owners_contribution",
            format!(
                "contribution {} was registered by {}, not by this server's owner",
                req.contribution_id, c.contributor
            ),
        ));
    }
    let ciphertext = read_kept(&state, req.file_id).await?;
    let chunk_size = c.chunkSize as usize;
    let local = tokio::task::spawn_blocking(move || commit(&ciphertext, chunk_size))
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| ApiError::bad_request("commitment_mismatch", e.to_string()))?;
    if local.merkle_root != c.merkleRoot
        || local.ciphertext_sha256 != c.ciphertextSha256
        || local.chunk_count != c.chunkCount
    {
        return Err(ApiError::bad_request(
            "commitment_mismatch",
            format!("file {} is not what contribution {} commits to", req.file_id, req.contribution_id),
        ));
    }
    let kept = KeptCommitment {
        registry: req.registry,
        contribution_id: req.contribution_id,
        file_id: req.file_id,
        challenger: l.challenger().await?,
        ciphertext_sha256: c.ciphertextSha256,
        chunk_size: c.chunkSize,
    };
    tokio::task::block_in_place(|| state.liveness.insert(&kept)).map_err(kept_error)?;
    Ok((StatusCode::CREATED, Json(kept)))
}

/// The kept file's ciphertext, whole (the store checks its size and sha256 at the end);
/// refused above [`KEPT_FILE_BYTES_MAX`], before anything is read.
async fn read_kept(state: &AppState, file_id: u64) -> Result<Vec<u8>, ApiError> {
    let (meta, mut blob) = state.store.open_blob(file_id).await?;
    if meta.size > KEPT_FILE_BYTES_MAX {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "kept_file_too_large",
            format!("file {file_id} has {} B; liveness covers files of at most {KEPT_FILE_BYTES_MAX} B", meta.size),
        ));
    }
    let mut ciphertext = Vec::with_capacity(usize::try_from(meta.size).unwrap_or(0));
    blob.read_to_end(&mut ciphertext).await.map_err(|e| {
        ApiError::new(StatusCode::CONFLICT, "not_kept", format!("file {file_id} cannot be read whole: {e}"))
    })?;
    Ok(ciphertext)
}

/// `POST /v1/liveness/answer?registry=ADDR` with a [`Challenge`]: the challenged chunks and
/// their proofs from the kept file.
pub async fn answer_challenge(
    State(state): State<Arc<AppState>>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Answer>, ApiError> {
    let call = match authenticate(&state, &method, &uri, &headers, body).await {
        Ok(call) => call,
        Err(e) => return audited(&state, claimed(&headers), "liveness.answer", None, vec![], Err(e)),
    };
    let answered = respond(&state, &call, &uri).await;
    let files = answered.as_ref().map(|(_, sha)| vec![*sha]).unwrap_or_default();
    let (answer, _) = audited(&state, call.caller, "liveness.answer", None, files, answered)?;
    Ok(Json(answer))
}

async fn respond(state: &AppState, call: &Call, uri: &axum::http::Uri) -> Result<(Answer, B256), ApiError> {
    let registry: Address = query(uri)
        .get("registry")
        .and_then(|r| r.parse().ok())
        .ok_or_else(|| ApiError::bad_request("malformed_parameter", "`registry` is missing or malformed"))?;
    let challenge: Challenge = serde_json::from_slice(&call.body)
        .map_err(|e| ApiError::bad_request("malformed_body", format!("not a liveness challenge: {e}")))?;
    let n = challenge.indexes.len();
    if n == 0 || n > CHALLENGE_CHUNKS_MAX {
        return Err(ApiError::bad_request(
            "challenge_size",
            format!("{n} challenged chunks is not between 1 and {CHALLENGE_CHUNKS_MAX}"),
        ));
    }
    let not_kept = || {
        ApiError::not_found(format!("this server keeps no contribution {} of {registry}", challenge.contribution_id))
    };
    let kept = tokio::task::block_in_place(|| state.liveness.get(registry, challenge.contribution_id))
        .map_err(kept_error)?
        .ok_or_else(not_kept)?;
    if call.caller != kept.challenger {
        return Err(ApiError::forbidden("not_challenger", "only the registry's challenger may challenge"));
    }
    if n.saturating_mul(kept.chunk_size as usize) > ANSWER_CHUNK_BYTES_MAX {
        return Err(ApiError::bad_request(
            "challenge_size",
            format!("{n} chunks of {} B exceed {ANSWER_CHUNK_BYTES_MAX} B", kept.chunk_size),
        ));
    }
    let ciphertext = read_kept(state, kept.file_id).await?;
    let chunk_size = kept.chunk_size as usize;
    let answered = tokio::task::spawn_blocking(move || answer(&ciphertext, chunk_size, &challenge))
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| ApiError::bad_request("unanswerable", e.to_string()))?;
    Ok((answered, kept.ciphertext_sha256))
}
