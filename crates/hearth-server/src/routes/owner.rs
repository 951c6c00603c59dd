//! Owner endpoints (signed by the owner's wallet): files, grants, the audit trail.
//!
//! Uploads are age ciphertext made on the owner's device (to this server and the
//! owner), with the owner's EIP-712 `AddFile` signature so the server can register the
//! file in `DataRegistry`: plaintext never crosses the network. Reads return the stored
//! ciphertext, which the owner decrypts with the wallet-derived identity.

use std::collections::HashMap;
use std::sync::Arc;

use alloy_primitives::{Address, B256, Bytes as ChainBytes, U256};
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use hearth_chain::bindings::PermissionRegistry::PermissionRegistryEvents;
use hearth_core::GrantTerms;
use hearth_store::{FileMeta, NewFile};
use serde::{Deserialize, Serialize};
use tokio_util::io::ReaderStream;

use super::{Owner, query};
use crate::audit::Record;
use crate::error::ApiError;
use crate::state::AppState;

fn param<'a>(q: &'a HashMap<String, String>, name: &'static str) -> Result<&'a str, ApiError> {
    q.get(name)
        .map(String::as_str)
        .ok_or_else(|| ApiError::bad_request("missing_parameter", format!("`{name}` is required")))
}

fn parsed<T: std::str::FromStr>(q: &HashMap<String, String>, name: &'static str) -> Result<T, ApiError> {
    param(q, name)?.parse().map_err(|_| ApiError::bad_request("malformed_parameter", format!("`{name}` is malformed")))
}

/// The storage URI a file gets on chain; the owner's `AddFile` signature covers it.
pub fn file_uri(server: Address, sha256: B256) -> String {
    format!("hearth://{server}/sha256/{sha256:x}")
}

/// `POST /v1/owner/files?scope=S&name=N&nonce=K&registration=SIG` with age ciphertext.
pub async fn add(
    State(state): State<Arc<AppState>>,
    Owner { call, uri }: Owner,
) -> Result<(StatusCode, Json<FileMeta>), ApiError> {
    let q = query(&uri);
    let scope: hearth_core::Scope = parsed(&q, "scope")?;
    let name = param(&q, "name")?.to_owned();
    let nonce: U256 = parsed(&q, "nonce")?;
    let registration: ChainBytes = parsed(&q, "registration")?;
    if call.body.is_empty() {
        return Err(ApiError::bad_request("empty_file", "the body is empty"));
    }
    check_opens(&state, &call.body, |e| ApiError::bad_request("invalid_ciphertext", e.to_string())).await?;
    let meta = register_and_keep(&state, state.owner, &call.body, scope.as_str(), name, nonce, registration).await?;
    Ok((StatusCode::CREATED, Json(meta)))
}

/// Checks that `ciphertext` decrypts, end to end, with this server's key (so it is what
/// it claims to be, for this server); `refuse` turns the failure into the answer.
pub(crate) async fn check_opens(
    state: &AppState,
    ciphertext: &axum::body::Bytes,
    refuse: impl FnOnce(hearth_crypto::CryptoError) -> ApiError,
) -> Result<(), ApiError> {
    let identity = state.keys.age_identity().clone();
    let bytes = ciphertext.clone();
    tokio::task::spawn_blocking(move || hearth_crypto::decrypt(&identity, &bytes[..], std::io::sink()))
        .await
        .map_err(ApiError::internal)?
        .map(|_| ())
        .map_err(refuse)
}

/// Stages `ciphertext`, relays `signer`'s `AddFile` registration of its sha256 to
/// `DataRegistry`, and commits it; the staged blob is aborted if the chain refuses.
pub(crate) async fn register_and_keep(
    state: &AppState,
    signer: Address,
    ciphertext: &axum::body::Bytes,
    scope: &str,
    name: String,
    nonce: U256,
    registration: ChainBytes,
) -> Result<FileMeta, ApiError> {
    let staged = state.store.stage(&ciphertext[..]).await?;
    let sha256 = B256::from(staged.sha256);
    let uri = file_uri(state.server.address(), sha256);
    let data = state.contracts.data();
    let chain_id = match data.add_file_signed(&state.server, signer, &uri, sha256, scope, nonce, registration).await {
        Ok(id) => id,
        Err(e) => {
            state.store.abort(staged).await?;
            return Err(e.into());
        }
    };
    let new = NewFile {
        scope: scope.to_owned(),
        name,
        chain_file_id: Some(u64::try_from(chain_id).unwrap_or(u64::MAX)),
        created_at: state.clock.now_secs(),
    };
    Ok(state.store.commit(staged, new).await?)
}

/// `GET /v1/owner/files?scope=PATTERN&after=ID`
pub async fn list(
    State(state): State<Arc<AppState>>,
    Owner { uri, .. }: Owner,
) -> Result<Json<Vec<FileMeta>>, ApiError> {
    let q = query(&uri);
    let after: u64 = q.get("after").map(|_| parsed(&q, "after")).transpose()?.unwrap_or(0);
    let scope = q.get("scope").map(String::as_str);
    Ok(Json(state.store.list(scope, after, hearth_store::LIST_PAGE_SIZE_MAX).await?))
}

/// `GET /v1/owner/files/{id}`: the stored ciphertext.
pub async fn read(
    State(state): State<Arc<AppState>>,
    Path(id): Path<u64>,
    _owner: Owner,
) -> Result<Response, ApiError> {
    let (_, blob) = state.store.open_blob(id).await?;
    Ok(([(header::CONTENT_TYPE, "application/octet-stream")], Body::from_stream(ReaderStream::new(blob)))
        .into_response())
}

/// `DELETE /v1/owner/files/{id}`
pub async fn delete(
    State(state): State<Arc<AppState>>,
    Path(id): Path<u64>,
    _owner: Owner,
) -> Result<Json<FileMeta>, ApiError> {
    Ok(Json(state.store.delete(id).await?))
}

/// `POST /v1/owner/grants` body.
#[derive(Deserialize, Serialize, Debug, Clone)]
pub struct SignedGrant {
    /// The terms the owner signed.
    pub terms: GrantTerms,
    /// The owner's EIP-712 signature.
    pub signature: ChainBytes,
}

/// What a grant submission returns.
#[derive(Deserialize, Serialize, Debug, Clone)]
pub struct Submitted {
    /// The grant's id (its EIP-712 digest).
    pub grant_id: B256,
    /// The block it was mined in.
    pub block: u64,
}

/// `POST /v1/owner/grants`: relays an owner-signed grant to the chain.
pub async fn submit_grant(
    State(state): State<Arc<AppState>>,
    Owner { call, .. }: Owner,
) -> Result<(StatusCode, Json<Submitted>), ApiError> {
    let grant: SignedGrant =
        serde_json::from_slice(&call.body).map_err(|e| ApiError::bad_request("malformed_body", e.to_string()))?;
    if grant.terms.grantor != state.owner {
        return Err(ApiError::bad_request("not_owner", "the grantor must be this server's owner"));
    }
    grant.terms.validate().map_err(|e| ApiError::bad_request("invalid_grant", e.to_string()))?;
    let (grant_id, receipt) =
        state.contracts.permissions().submit_grant(&state.server, &grant.terms, grant.signature).await?;
    Ok((StatusCode::CREATED, Json(Submitted { grant_id, block: receipt.block_number })))
}

/// One grant in `GET /v1/owner/grants`.
#[derive(Deserialize, Serialize, Debug, Clone)]
pub struct Listed {
    /// Its id.
    pub grant_id: B256,
    /// The app.
    pub grantee: Address,
    /// Its scopes.
    pub scopes: Vec<String>,
    /// 1 compute, 2 read.
    pub access: u8,
    /// Unix seconds.
    pub not_before: u64,
    /// Unix seconds.
    pub expires_at: u64,
    /// Whether it has been revoked.
    pub revoked: bool,
}

/// `GET /v1/owner/grants`: the owner's grants, from the chain's events.
pub async fn list_grants(State(state): State<Arc<AppState>>, _owner: Owner) -> Result<Json<Vec<Listed>>, ApiError> {
    let events = state.contracts.permissions().events(0).await?;
    let mut out: Vec<Listed> = Vec::new();
    for (_, event) in events {
        match event {
            PermissionRegistryEvents::GrantSubmitted(g) if g.grantor == state.owner => out.push(Listed {
                grant_id: g.grantId,
                grantee: g.grantee,
                scopes: g.scopes,
                access: g.access,
                not_before: g.notBefore,
                expires_at: g.expiresAt,
                revoked: false,
            }),
            PermissionRegistryEvents::GrantRevoked(r) => {
                if let Some(l) = out.iter_mut().find(|l| l.grant_id == r.grantId) {
                    l.revoked = true;
                }
            }
            _ => {}
        }
    }
    Ok(Json(out))
}

/// `POST /v1/owner/grants/{id}/revoke` body.
#[derive(Deserialize, Serialize, Debug, Clone)]
pub struct SignedRevoke {
    /// The owner's nonce.
    pub nonce: U256,
    /// The owner's EIP-712 `Revoke` signature.
    pub signature: ChainBytes,
}

/// `POST /v1/owner/grants/{id}/revoke`: relays an owner-signed revocation.
pub async fn revoke_grant(
    State(state): State<Arc<AppState>>,
    Path(id): Path<B256>,
    Owner { call, .. }: Owner,
) -> Result<StatusCode, ApiError> {
    let revoke: SignedRevoke =
        serde_json::from_slice(&call.body).map_err(|e| ApiError::bad_request("malformed_body", e.to_string()))?;
    state.contracts.permissions().revoke_with_sig(&state.server, id, revoke.nonce, revoke.signature).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v1/audit?after=SEQ&limit=N` (owner only)
pub async fn audit(
    State(state): State<Arc<AppState>>,
    Owner { uri, .. }: Owner,
) -> Result<Json<Vec<Record>>, ApiError> {
    let q = query(&uri);
    let after: u64 = q.get("after").map(|_| parsed(&q, "after")).transpose()?.unwrap_or(0);
    let limit: usize =
        q.get("limit").map(|_| parsed(&q, "limit")).transpose()?.unwrap_or(crate::audit::RECORDS_PAGE_MAX);
    Ok(Json(state.audit.records(after, limit).map_err(ApiError::internal)?))
}

/// What `GET /v1/owner/nonce` returns.
#[derive(Deserialize, Serialize, Debug, Clone)]
pub struct Nonce {
    /// The owner's next unused nonce in PermissionRegistry (grants and signed revocations).
    pub nonce: U256,
}

/// `GET /v1/owner/nonce`: the nonce the owner's next grant or revocation must carry.
pub async fn nonce(State(state): State<Arc<AppState>>, _owner: Owner) -> Result<Json<Nonce>, ApiError> {
    Ok(Json(Nonce { nonce: state.contracts.permissions().nonce(state.owner).await? }))
}
