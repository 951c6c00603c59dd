//! Handlers, one module per resource, and what they share: authentication of signed
//! requests, per-caller rate limits and the audit of app actions.

pub mod app;
pub mod contributions;
pub mod exports;
pub mod liveness;
pub mod operations;
pub mod owner;
pub mod system;

use alloy_primitives::{Address, B256};
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, StatusCode, Uri};

use crate::audit::Entry;
use crate::auth::SignedHeaders;
use crate::error::ApiError;
use crate::metrics::RefusalLabels;
use crate::state::AppState;

/// The query parameters of a request target (values with `%2F` and `%20` decoded).
pub fn query(uri: &Uri) -> std::collections::HashMap<String, String> {
    let mut params = std::collections::HashMap::new();
    for (k, v) in uri.query().unwrap_or("").split('&').filter_map(|kv| kv.split_once('=')) {
        // A repeated parameter keeps its first value.
        params.entry(k.to_owned()).or_insert_with(|| v.replace("%2F", "/").replace("%20", " "));
    }
    params
}

/// A verified call: who signed it and the body they signed.
pub struct Call {
    /// The signer, verified.
    pub caller: Address,
    /// The request body (bounded).
    pub body: Bytes,
}

fn claimed_signer(headers: &HeaderMap) -> Address {
    headers
        .get(crate::auth::SIGNER_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(Address::ZERO)
}

/// Reads the body (at most `body_bytes_max`), verifies the signature, audience, method,
/// path and query, body hash, time and nonce, then applies the signer's rate limit.
pub async fn authenticate(
    state: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Body,
) -> Result<Call, ApiError> {
    let limit = state.config.body_bytes_max;
    let body = axum::body::to_bytes(body, limit).await.map_err(|_| {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", format!("the body exceeds {limit} bytes"))
    })?;
    for name in crate::auth::ALL_HEADERS {
        if headers.get_all(*name).iter().nth(1).is_some() {
            return Err(ApiError::bad_request("malformed_header", format!("{name} is repeated")));
        }
    }
    let signed = SignedHeaders::parse(|name| headers.get(name).map(|v| v.as_bytes())).map_err(auth_error)?;
    let path_and_query = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    // Verification fsyncs the nonce; keep it off the async workers.
    let caller = tokio::task::block_in_place(|| state.verifier.verify(method.as_str(), path_and_query, &body, &signed))
        .map_err(auth_error)?;
    // Limited by the verified signer: a forged header cannot drain another app's budget.
    if !state.limits.allow(caller) {
        return Err(ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", "too many requests; slow down"));
    }
    Ok(Call { caller, body })
}

fn auth_error(e: crate::auth::AuthError) -> ApiError {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::UNAUTHORIZED);
    ApiError::new(status, e.code(), e.to_string())
}

/// A request verified as signed (by anyone); extracts last (it reads the body). For
/// handlers that do not audit a failed authentication.
pub struct Signed {
    /// The verified call.
    pub call: Call,
    /// The request target as sent.
    pub uri: Uri,
}

impl axum::extract::FromRequest<std::sync::Arc<AppState>> for Signed {
    type Rejection = ApiError;

    async fn from_request(request: axum::extract::Request, state: &std::sync::Arc<AppState>) -> Result<Self, ApiError> {
        let (parts, body) = request.into_parts();
        let uri =
            parts.extensions.get::<axum::extract::OriginalUri>().map_or_else(|| parts.uri.clone(), |o| o.0.clone());
        let call = authenticate(state, &parts.method, &uri, &parts.headers, body).await?;
        Ok(Signed { call, uri })
    }
}

/// A request verified as signed by the owner; extracts last (it reads the body).
pub struct Owner {
    /// The verified call.
    pub call: Call,
    /// The request target as sent.
    pub uri: Uri,
}

impl axum::extract::FromRequest<std::sync::Arc<AppState>> for Owner {
    type Rejection = ApiError;

    async fn from_request(request: axum::extract::Request, state: &std::sync::Arc<AppState>) -> Result<Self, ApiError> {
        let Signed { call, uri } = Signed::from_request(request, state).await?;
        require_owner(state, &call)?;
        Ok(Owner { call, uri })
    }
}

/// Refuses unless the caller is the owner.
pub fn require_owner(state: &AppState, call: &Call) -> Result<(), ApiError> {
    if call.caller != state.owner {
        return Err(ApiError::forbidden("not_owner", "only the owner may do this"));
    }
    Ok(())
}

/// Records the outcome of an app action. Failing to record is failing the action.
pub fn audit(
    state: &AppState,
    actor: Address,
    action: &str,
    grant: Option<B256>,
    files: Vec<B256>,
    outcome: &str,
) -> Result<(), ApiError> {
    let entry = Entry {
        actor,
        action: action.to_owned(),
        grant_id: grant,
        files,
        code_digest: None,
        params_hash: None,
        result_hash: None,
        outcome: outcome.to_owned(),
    };
    tokio::task::block_in_place(|| state.record(entry)).map_err(ApiError::audit_unavailable)?;
    if outcome != "granted" {
        state.metrics.refusals.get_or_create(&RefusalLabels { code: outcome.to_owned() }).inc();
    }
    Ok(())
}

/// Audits `result` (granted, or the refusal's code) for `actor` and passes it on. When
/// the audit itself fails, the answer is 503: no record, no access.
pub fn audited<T>(
    state: &AppState,
    actor: Address,
    action: &str,
    grant: Option<B256>,
    files: Vec<B256>,
    result: Result<T, ApiError>,
) -> Result<T, ApiError> {
    let outcome = match &result {
        Ok(_) => "granted",
        Err(e) => e.code,
    };
    audit(state, actor, action, grant, files, outcome)?;
    result
}

/// A signed upload from someone other than the owner (a member's contribution, a
/// collective's delivery): authenticates it, lets `keep` check and keep the file, and
/// audits the outcome under `action`, a failed authentication under the claimed signer.
/// A kept file whose record cannot be written is removed again and the answer is 503.
pub async fn audited_upload(
    state: &AppState,
    action: &str,
    request: (&Method, &Uri, &HeaderMap, Body),
    keep: impl AsyncFnOnce(&Call) -> Result<hearth_store::FileMeta, ApiError>,
) -> Result<(StatusCode, axum::Json<hearth_store::FileMeta>), ApiError> {
    let (method, uri, headers, body) = request;
    let call = match authenticate(state, method, uri, headers, body).await {
        Ok(call) => call,
        Err(e) => return audited(state, claimed_signer(headers), action, None, vec![], Err(e)),
    };
    let kept = keep(&call).await;
    let files = kept.as_ref().map(|m| vec![m.sha256]).unwrap_or_default();
    let outcome = kept.as_ref().map_or_else(|e| e.code, |_| "granted");
    if let Err(unaudited) = audit(state, call.caller, action, None, files, outcome) {
        // No record, nothing kept: a file must not sit in the store without its record.
        if let Ok(meta) = &kept
            && let Err(e) = state.store.delete(meta.id).await
        {
            tracing::error!(file = meta.id, error = %e, "an upload whose audit failed could not be removed");
        }
        return Err(unaudited);
    }
    kept.map(|meta| (StatusCode::CREATED, axum::Json(meta)))
}

/// What an upload that must open with this server's key answers when it does not:
/// 400 `wrong_recipient` when it is for another key, else 400 `invalid_ciphertext`.
pub fn not_for_this_server(what: &'static str) -> impl FnOnce(hearth_crypto::CryptoError) -> ApiError {
    move |e| match e {
        hearth_crypto::CryptoError::NotForThisKey => ApiError::bad_request(
            "wrong_recipient",
            format!("{what} is not encrypted to this server's registered age recipient"),
        ),
        other => ApiError::bad_request("invalid_ciphertext", format!("{what} does not decrypt: {other}")),
    }
}

/// The claimed signer of a request that failed before verification (for the audit).
pub fn claimed(headers: &HeaderMap) -> Address {
    claimed_signer(headers)
}
