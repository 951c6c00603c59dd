//! Exports of a collective's dataset to a requester's heavy node, and their import there.
//!
//! On the collective node, `POST /v1/exports` (signed by the node's owner) names a code
//! digest the collective approved *for export*; the approval names the destination server,
//! whose age recipient and URL come from `ServerRegistry`. Each contribution is decrypted
//! with the node's key and encrypted again to the destination's recipient alone, streamed
//! (the plaintext is never whole in memory, never on disk), and delivered in a request
//! signed by the node's key, addressed to the destination (so it cannot be replayed there
//! or sent elsewhere). The approval is read again before every file: a revocation stops
//! the export between two files. An `export.start` record listing every file is committed
//! before the first byte leaves; `export.deliver` records what was delivered.
//!
//! On the destination, `POST /v1/imports` keeps a file only when its owner listed the
//! collective (`[[serve.imports_from]]`: the `CodeRegistry` and the node that delivers),
//! the sender is that node and is registered, the collective's `CodeRegistry` approves the
//! digest for export to this very server now, and the file opens with this server's key.
//! Imported files land in the scope `imports.<first 16 hex digits of the digest>`, named by
//! the source ciphertext's sha256: members' addresses do not travel with their data.

use std::sync::Arc;
use std::time::Duration;

use alloy_primitives::{Address, B256, hex};
use axum::Json;
use axum::body::Body;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, Method, StatusCode};
use hearth_chain::{ChainError, Collective, code_approval_at};
use hearth_crypto::age::x25519::Recipient;
use hearth_store::{FileMeta, NewFile};
use serde::{Deserialize, Serialize};
use tokio_util::io::SyncIoBridge;

use super::contributions::CONTRIBUTIONS_SCOPE;
use super::{Call, Owner, audited_upload, query};
use crate::audit::Entry;
use crate::auth::RequestSigner;
use crate::error::ApiError;
use crate::state::AppState;

/// Most files one export delivers.
pub const EXPORT_FILES_MAX: usize = 10_000;
/// Longest the delivery of one file may take, in seconds.
pub const DELIVERY_SECS_MAX: u64 = 120;
/// How long the signature on one delivery stays valid, in seconds: as long as a delivery
/// may take, since the destination checks it after the whole body arrived.
pub const DELIVERY_LIFETIME_SECS: u64 = DELIVERY_SECS_MAX;
/// Largest answer read from a destination (its kept file's metadata, or a refusal), in bytes.
pub const DESTINATION_ANSWER_BYTES_MAX: usize = 64 * 1024;
/// Prefix of the scopes imported files are kept in.
pub const IMPORTS_SCOPE_PREFIX: &str = "imports";

/// The scope the files of an export of `operation` are kept in on the destination.
pub fn imports_scope(operation: B256) -> String {
    format!("{IMPORTS_SCOPE_PREFIX}.{}", hex::encode(&operation[..8]))
}

/// `POST /v1/exports` body.
#[derive(Deserialize, Serialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct ExportRequest {
    /// A code digest the collective approved for export.
    pub operation: B256,
}

/// One file delivered.
#[derive(Deserialize, Serialize, Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    /// sha256 of the contribution's ciphertext on the node.
    pub source_sha256: B256,
    /// sha256 of the ciphertext the destination kept.
    pub sha256: B256,
    /// The file's id on the destination.
    pub id: u64,
}

/// `POST /v1/exports` answer: where the dataset went.
#[derive(Deserialize, Serialize, Debug, Clone)]
pub struct ExportReport {
    /// The approved code digest.
    pub operation: B256,
    /// The destination server.
    pub destination: Address,
    /// Its registered URL.
    pub url: String,
    /// The scope the files are kept in there.
    pub scope: String,
    /// The files, in the node's order.
    pub files: Vec<Delivered>,
}

/// `POST /v1/exports {"operation": DIGEST}` (owner): re-encrypts every contribution to the
/// approved destination and delivers it. The audit record lists the files delivered and the
/// digest, also when the export stops part way.
pub async fn export(
    State(state): State<Arc<AppState>>,
    Owner { call, .. }: Owner,
) -> Result<Json<ExportReport>, ApiError> {
    let request: Result<ExportRequest, _> = serde_json::from_slice(&call.body);
    let operation = request.as_ref().ok().map(|r| r.operation);
    let caller = call.caller;
    // A task of its own: if the request times out or the client goes away, the export
    // still ends and its audit record is still written.
    let task = tokio::spawn(async move {
        let mut delivered = Vec::new();
        let result = match request {
            Ok(r) => deliver_all(&state, r.operation, &mut delivered).await,
            Err(e) => Err(ApiError::bad_request("malformed_body", format!("expected {{\"operation\": DIGEST}}: {e}"))),
        };
        let entry = Entry {
            actor: caller,
            action: "export.deliver".to_owned(),
            grant_id: None,
            files: delivered.iter().map(|d| d.source_sha256).collect(),
            // Also on a refusal: a partial export's files are audited with the code they went out for.
            code_digest: operation,
            params_hash: None,
            result_hash: None,
            outcome: result.as_ref().map_or_else(|e| e.code, |_| "granted").to_owned(),
        };
        tokio::task::block_in_place(|| state.record(entry)).map_err(ApiError::audit_unavailable)?;
        result
    });
    task.await.map_err(ApiError::internal)?.map(Json)
}

/// The destination the collective approved `operation` to be exported to, now.
async fn export_destination(collective: &Collective, operation: B256) -> Result<Address, ApiError> {
    let approval = collective.code().approval(operation).await.map_err(ApiError::chain_unavailable)?;
    if !approval.approved {
        return Err(match approval.revoked_at {
            Some(_) => ApiError::forbidden("code_revoked", "the collective revoked its approval of this code"),
            None => ApiError::forbidden("code_not_approved", "the collective has not approved this code"),
        });
    }
    approval.export_to.ok_or_else(|| {
        ApiError::forbidden("not_an_export", "the collective approved this code to run on this node, not for export")
    })
}

async fn deliver_all(
    state: &AppState,
    operation: B256,
    delivered: &mut Vec<Delivered>,
) -> Result<ExportReport, ApiError> {
    let collective =
        state.collective.as_ref().ok_or_else(|| ApiError::not_found("this server is not a collective node"))?;
    let destination = export_destination(collective, operation).await?;
    let servers = state.contracts.servers();
    let unusable = |why: &str| {
        ApiError::new(
            StatusCode::CONFLICT,
            "destination_unregistered",
            format!("the export destination {destination} {why}"),
        )
    };
    if !servers.is_registered(destination).await.map_err(ApiError::chain_unavailable)? {
        return Err(unusable("is not a registered server"));
    }
    let registered = servers.get(destination).await.map_err(ApiError::chain_unavailable)?;
    let recipient = hearth_crypto::parse_recipient(&registered.recipient)
        .map_err(|_| unusable("has no valid age recipient registered"))?;
    let url = registered.url.trim_end_matches('/').to_owned();
    let files = contributions(state).await?;
    // No byte leaves before the export is on the audit trail, with every file it will send.
    let start = Entry {
        actor: state.owner,
        action: "export.start".to_owned(),
        grant_id: None,
        files: files.iter().map(|m| m.sha256).collect(),
        code_digest: Some(operation),
        params_hash: None,
        result_hash: None,
        outcome: "granted".to_owned(),
    };
    tokio::task::block_in_place(|| state.record(start)).map_err(ApiError::audit_unavailable)?;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(DELIVERY_SECS_MAX))
        .build()
        .map_err(ApiError::internal)?;
    let signer = RequestSigner::new(state.server.clone(), destination, state.contracts.chain_id());
    let registry = collective.code().address();
    for (i, meta) in files.into_iter().enumerate() {
        // A revocation, or an approval moved to another destination, stops the export here
        // (the first file goes out on the approval read above).
        if i > 0 && export_destination(collective, operation).await? != destination {
            return Err(ApiError::forbidden("code_not_approved", "the export's destination changed mid-export"));
        }
        let ciphertext = reencrypt(state, meta.id, recipient.clone()).await?;
        let target = format!("/v1/imports?registry={registry}&operation={operation}&source={}", meta.sha256);
        let headers = signer
            .sign("POST", &target, &ciphertext, state.clock.now_secs(), DELIVERY_LIFETIME_SECS)
            .map_err(ApiError::internal)?;
        let mut request = http.post(format!("{url}{target}")).body(ciphertext);
        for (name, value) in headers.to_pairs() {
            request = request.header(name, value);
        }
        let unreachable = |e: reqwest::Error| {
            ApiError::new(
                StatusCode::BAD_GATEWAY,
                "destination_unreachable",
                format!("cannot deliver to the destination at {url}: {e}"),
            )
        };
        let response = request.send().await.map_err(unreachable)?;
        let status = response.status();
        let answer = crate::outbound::read_capped(response, DESTINATION_ANSWER_BYTES_MAX).await.map_err(unreachable)?;
        let answer = answer.ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_GATEWAY,
                "destination_unreachable",
                format!("the destination at {url} answered more than {DESTINATION_ANSWER_BYTES_MAX} B"),
            )
        })?;
        if !status.is_success() {
            let v: serde_json::Value = serde_json::from_slice(&answer).unwrap_or_default();
            return Err(ApiError::new(
                StatusCode::BAD_GATEWAY,
                "delivery_refused",
                format!(
                    "the destination refused file {} of the export: {} {}: {}",
                    delivered.len() + 1,
                    status.as_u16(),
                    v["code"].as_str().unwrap_or("unknown"),
                    v["message"].as_str().unwrap_or(""),
                ),
            ));
        }
        let kept: FileMeta = serde_json::from_slice(&answer).map_err(|e| {
            ApiError::new(
                StatusCode::BAD_GATEWAY,
                "destination_unreachable",
                format!("the destination at {url} did not answer with the kept file: {e}"),
            )
        })?;
        delivered.push(Delivered { source_sha256: meta.sha256, sha256: kept.sha256, id: kept.id });
    }
    Ok(ExportReport { operation, destination, url, scope: imports_scope(operation), files: delivered.clone() })
}

/// Every contribution, at most [`EXPORT_FILES_MAX`].
async fn contributions(state: &AppState) -> Result<Vec<FileMeta>, ApiError> {
    state.store.list_all(Some(CONTRIBUTIONS_SCOPE), EXPORT_FILES_MAX).await?.ok_or_else(|| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "export_too_large",
            format!("the dataset has more than {EXPORT_FILES_MAX} files"),
        )
    })
}

/// File `id`'s ciphertext, re-encrypted from this server's key to `recipient` alone.
async fn reencrypt(state: &AppState, id: u64, recipient: Recipient) -> Result<Vec<u8>, ApiError> {
    let (_, blob) = state.store.open_blob(id).await?;
    let identity = state.keys.age_identity().clone();
    let reader = SyncIoBridge::new(blob);
    tokio::task::spawn_blocking(move || {
        let mut out = Vec::new();
        hearth_crypto::reencrypt(&identity, &[recipient], reader, &mut out).map(|_| out)
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(|e| ApiError::internal(format!("file {id} does not re-encrypt: {e}")))
}

/// `POST /v1/imports?registry=R&operation=D&source=S` (a collective node) with the file,
/// age-encrypted to this server.
pub async fn import(
    State(state): State<Arc<AppState>>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<FileMeta>), ApiError> {
    audited_upload(&state, "import.add", (&method, &uri, &headers, body), async |call| keep(&state, call, &uri).await)
        .await
}

async fn keep(state: &AppState, call: &Call, uri: &axum::http::Uri) -> Result<FileMeta, ApiError> {
    let q = query(uri);
    let bad = |name: &str| ApiError::bad_request("malformed_parameter", format!("`{name}` is missing or malformed"));
    let registry: Address = q.get("registry").and_then(|v| v.parse().ok()).ok_or_else(|| bad("registry"))?;
    let operation: B256 = q.get("operation").and_then(|v| v.parse().ok()).ok_or_else(|| bad("operation"))?;
    let source: B256 = q.get("source").and_then(|v| v.parse().ok()).ok_or_else(|| bad("source"))?;
    if !state.config.imports_from.iter().any(|s| s.registry == registry && s.node == call.caller) {
        return Err(ApiError::forbidden(
            "import_not_expected",
            format!("this server accepts no exports from collective {registry} delivered by {}", call.caller),
        ));
    }
    if !state.contracts.servers().is_registered(call.caller).await.map_err(ApiError::chain_unavailable)? {
        return Err(ApiError::forbidden("not_a_server", "the sender is not a registered server"));
    }
    let chain = state.contracts.chain().as_ref();
    let approval = match code_approval_at(chain, registry, operation).await {
        Ok(approval) => approval,
        Err(ChainError::MissingContract { .. }) => {
            return Err(ApiError::forbidden("export_not_approved", format!("{registry} holds no code registry")));
        }
        Err(e) => return Err(ApiError::chain_unavailable(e)),
    };
    let here = state.server.address();
    if !approval.approved {
        return Err(match approval.revoked_at {
            Some(_) => ApiError::forbidden("export_revoked", "the collective revoked this export"),
            None => ApiError::forbidden("export_not_approved", "the collective has not approved this export"),
        });
    }
    if approval.export_to != Some(here) {
        let to = approval.export_to.map_or_else(|| "run on its node".to_owned(), |a| format!("be exported to {a}"));
        return Err(ApiError::forbidden(
            "export_not_approved",
            format!("the collective approved this code to {to}, not to be exported to this server"),
        ));
    }
    if call.body.is_empty() {
        return Err(ApiError::bad_request("empty_file", "the body is empty"));
    }
    super::owner::check_opens(state, &call.body, super::not_for_this_server("the file")).await?;
    let staged = state.store.stage(&call.body[..]).await?;
    let new = NewFile {
        scope: imports_scope(operation),
        name: format!("{source:x}"),
        chain_file_id: None,
        created_at: state.clock.now_secs(),
    };
    Ok(state.store.commit(staged, new).await?)
}
