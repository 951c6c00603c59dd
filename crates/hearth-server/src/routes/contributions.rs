//! Contributions to a collective node: a member's age file, encrypted on the member's
//! device to the node's registered recipient, with the member's EIP-712 `AddFile`
//! signature over its ciphertext hash. The node checks that the file opens with its own
//! key end to end (the recipient), relays the registration to `DataRegistry` (which
//! checks the signature, so a ciphertext changed after signing is refused), and only
//! then keeps it in the `contributions` scope.

use std::sync::Arc;

use alloy_primitives::{Address, Bytes as ChainBytes, U256};
use axum::Json;
use axum::body::Body;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use hearth_store::FileMeta;
use serde::{Deserialize, Serialize};

use super::{Call, audited_upload, query};
use crate::error::ApiError;
use crate::state::AppState;

/// The scope contributions are kept in on a collective node; jobs name it as their scope.
pub const CONTRIBUTIONS_SCOPE: &str = "contributions";
/// Longest contribution name, in bytes.
pub const CONTRIBUTION_NAME_BYTES_MAX: usize = 200;

/// `GET /v1/contributions/nonce/{address}`: what a contributor's next `AddFile` signs.
#[derive(Deserialize, Serialize, Debug, Clone)]
pub struct ContributionNonce {
    /// The contributor's nonce in `DataRegistry`.
    pub nonce: U256,
}

/// `GET /v1/contributions/nonce/{address}` (public: a nonce is not a secret).
pub async fn nonce(
    State(state): State<Arc<AppState>>,
    Path(contributor): Path<Address>,
) -> Result<Json<ContributionNonce>, ApiError> {
    Ok(Json(ContributionNonce { nonce: state.contracts.data().nonce(contributor).await? }))
}

/// `POST /v1/contributions?name=N&nonce=K&registration=SIG` with the age ciphertext.
pub async fn add(
    State(state): State<Arc<AppState>>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<FileMeta>), ApiError> {
    audited_upload(&state, "contribution.add", (&method, &uri, &headers, body), async |call| {
        keep(&state, call, &uri).await
    })
    .await
}

async fn keep(state: &AppState, call: &Call, uri: &axum::http::Uri) -> Result<FileMeta, ApiError> {
    if state.collective.is_none() {
        return Err(ApiError::not_found("this server is not a collective node"));
    }
    let q = query(uri);
    let bad = |name: &str| ApiError::bad_request("malformed_parameter", format!("`{name}` is missing or malformed"));
    let name = q.get("name").filter(|n| valid_name(n)).ok_or_else(|| bad("name"))?;
    let nonce: U256 = q.get("nonce").and_then(|n| n.parse().ok()).ok_or_else(|| bad("nonce"))?;
    let registration: ChainBytes =
        q.get("registration").and_then(|r| r.parse().ok()).ok_or_else(|| bad("registration"))?;
    if call.body.is_empty() {
        return Err(ApiError::bad_request("empty_file", "the body is empty"));
    }
    super::owner::check_opens(state, &call.body, super::not_for_this_server("the contribution")).await?;
    let name = format!("{:#x}-{name}", call.caller);
    let kept =
        super::owner::register_and_keep(state, call.caller, &call.body, CONTRIBUTIONS_SCOPE, name, nonce, registration)
            .await;
    kept.map_err(|e| match e {
        refused if refused.code == "chain_refused" => ApiError::bad_request(
            "registration_mismatch",
            "DataRegistry refused the registration: it was not signed by the caller over this \
             ciphertext's hash (changed after signing?) or its nonce is used",
        ),
        other => other,
    })
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= CONTRIBUTION_NAME_BYTES_MAX
        && !name.contains(['/', '\0'])
        && !name.chars().any(char::is_control)
}
