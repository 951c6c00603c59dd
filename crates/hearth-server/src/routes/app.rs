//! App endpoints: read a scope's files under a READ grant, re-encrypted to the app's
//! registered age recipient; register an app (relayed, signed by the app). Every read
//! and every refusal is audited.

use std::str::FromStr;
use std::sync::Arc;

use alloy_primitives::{Address, B256, Bytes as ChainBytes, U256};
use axum::Json;
use axum::body::Body;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use hearth_core::Wanted;
use hearth_store::FileMeta;
use serde::{Deserialize, Serialize};
use tokio_util::io::{ReaderStream, SyncIoBridge};

use super::{audited, authenticate, claimed};
use crate::error::ApiError;
use crate::state::AppState;

/// Bytes buffered between the re-encryption thread and the response.
const PIPE_BYTES: usize = 256 * 1024;
/// Most files one index lists.
pub const INDEX_FILES_MAX: usize = hearth_store::LIST_PAGE_SIZE_MAX;

fn grant_param(uri: &Uri) -> Result<B256, ApiError> {
    let q = super::query(uri);
    let value = q
        .get("grant")
        .ok_or_else(|| ApiError::bad_request("missing_grant", "the `grant` query parameter is required"))?;
    B256::from_str(value)
        .map_err(|_| ApiError::bad_request("malformed_grant", "`grant` must be 0x and 32 bytes of hex"))
}

/// One file in a scope's index.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct IndexEntry {
    /// The file's id.
    pub id: u64,
    /// Its original name.
    pub name: String,
    /// Its version.
    pub version: u32,
    /// Ciphertext bytes as stored.
    pub size: u64,
    /// Ciphertext sha256 as stored (and registered on chain).
    pub sha256: B256,
}

impl From<&FileMeta> for IndexEntry {
    fn from(m: &FileMeta) -> Self {
        IndexEntry { id: m.id, name: m.name.clone(), version: m.version, size: m.size, sha256: m.sha256 }
    }
}

/// `GET /v1/data/{scope}?grant=ID`: the files of a scope under a READ grant.
pub async fn index(
    State(state): State<Arc<AppState>>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    Path(scope): Path<String>,
    body: Body,
) -> Result<Json<Vec<IndexEntry>>, ApiError> {
    let grant = grant_param(&uri).ok();
    let call = match authenticate(&state, &method, &uri, &headers, body).await {
        Ok(call) => call,
        Err(e) => return audited(&state, claimed(&headers), "data.list", grant, vec![], Err(e)),
    };
    let result = async {
        let grant = grant_param(&uri)?;
        state.permissions.check(call.caller, grant, &scope, Wanted::Read).await?;
        let files = state.store.list(Some(&scope), 0, INDEX_FILES_MAX).await?;
        Ok(files.iter().filter(|f| f.scope == scope).map(IndexEntry::from).collect::<Vec<_>>())
    }
    .await;
    let hashes = result.as_ref().map(|files| files.iter().map(|f| f.sha256).collect()).unwrap_or_default();
    audited(&state, call.caller, "data.list", grant, hashes, result).map(Json)
}

/// `GET /v1/data/{scope}/{id}?grant=ID`: one file, re-encrypted to the app's recipient.
pub async fn read(
    State(state): State<Arc<AppState>>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    Path((scope, id)): Path<(String, u64)>,
    body: Body,
) -> Result<Response, ApiError> {
    let grant = grant_param(&uri).ok();
    let call = match authenticate(&state, &method, &uri, &headers, body).await {
        Ok(call) => call,
        Err(e) => return audited(&state, claimed(&headers), "data.read", grant, vec![], Err(e)),
    };
    let checked = async {
        let grant = grant_param(&uri)?;
        state.permissions.check(call.caller, grant, &scope, Wanted::Read).await?;
        let meta = state.store.get(id).await?;
        if meta.scope != scope {
            return Err(ApiError::not_found(format!("no file {id} in scope {scope}")));
        }
        let app = state.contracts.apps().get(call.caller).await.map_err(|_| {
            ApiError::forbidden("app_not_registered", "the caller has no age recipient registered in AppRegistry")
        })?;
        let recipient = hearth_crypto::parse_recipient(&app.recipient).map_err(|_| {
            ApiError::forbidden(
                "app_recipient_invalid",
                "the app's registered recipient is not an X25519 age recipient",
            )
        })?;
        Ok((meta, recipient))
    }
    .await;
    let files = checked.as_ref().map(|(m, _)| vec![m.sha256]).unwrap_or_default();
    // The record is written before a byte is sent: no record, no access.
    let (meta, recipient) = audited(&state, call.caller, "data.read", grant, files, checked)?;
    let (_, blob) = state.store.open_blob(meta.id).await?;
    let (pipe_in, pipe_out) = tokio::io::duplex(PIPE_BYTES);
    let reader = SyncIoBridge::new(blob);
    let writer = SyncIoBridge::new(pipe_in);
    let identity = state.keys.age_identity().clone();
    tokio::task::spawn_blocking(move || {
        if let Err(e) = hearth_crypto::reencrypt(&identity, &[recipient], reader, writer) {
            // The client sees a truncated age stream, which fails to decrypt.
            tracing::warn!(file = meta.id, error = %e, "re-encryption for an app failed mid-stream");
        }
    });
    Ok(([(header::CONTENT_TYPE, "application/octet-stream")], Body::from_stream(ReaderStream::new(pipe_out)))
        .into_response())
}

/// `POST /v1/apps` body: an app registration signed by the app's key.
#[derive(Deserialize, Serialize, Debug, Clone)]
pub struct AppRegistration {
    /// The app's address.
    pub app: Address,
    /// The app's age recipient.
    pub recipient: String,
    /// Display name.
    pub name: String,
    /// The app's URL.
    pub url: String,
    /// The app's nonce in AppRegistry.
    pub nonce: U256,
    /// EIP-712 `AppRegistration` signature by the app.
    pub signature: ChainBytes,
}

/// `POST /v1/apps`: relays an app's signed registration to AppRegistry (the server pays).
pub async fn register(
    State(state): State<Arc<AppState>>,
    Json(reg): Json<AppRegistration>,
) -> Result<StatusCode, ApiError> {
    if !state.limits.allow(reg.app) {
        return Err(ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", "too many requests; slow down"));
    }
    hearth_crypto::parse_recipient(&reg.recipient)
        .map_err(|e| ApiError::bad_request("invalid_recipient", e.to_string()))?;
    state
        .contracts
        .apps()
        .register_signed(&state.server, reg.app, &reg.recipient, &reg.name, &reg.url, reg.nonce, reg.signature)
        .await?;
    Ok(StatusCode::CREATED)
}

/// What `GET /v1/apps/{address}` returns.
#[derive(Deserialize, Serialize, Debug, Clone)]
pub struct AppStatus {
    /// Whether the app is registered in AppRegistry.
    pub registered: bool,
    /// Its registered age recipient, if any.
    pub recipient: Option<String>,
    /// The nonce its next signed registration must carry.
    pub nonce: U256,
}

/// `GET /v1/apps/{address}`: an app's registration and next nonce (public facts).
pub async fn status(State(state): State<Arc<AppState>>, Path(app): Path<Address>) -> Result<Json<AppStatus>, ApiError> {
    let apps = state.contracts.apps();
    let nonce = apps.nonce(app).await?;
    let recipient = apps.get(app).await.ok().map(|a| a.recipient);
    Ok(Json(AppStatus { registered: recipient.is_some(), recipient, nonce }))
}
