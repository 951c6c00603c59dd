//! Job endpoints: an app submits an operation over a scope under a COMPUTE grant, then
//! follows it, cancels it and fetches its result. Only the app that submitted a job,
//! or the owner, may see or cancel it.

use std::str::FromStr;
use std::sync::Arc;

use alloy_primitives::B256;
use axum::Json;
use axum::body::Body;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::{Call, Signed, audited, authenticate, claimed};
use crate::error::ApiError;
use crate::jobs::{self, JobRecord, PARAMS_BYTES_MAX, Phase, PhaseTime};
use crate::state::AppState;

/// `POST /v1/operations` body.
#[derive(Deserialize, Serialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct OperationRequest {
    /// The COMPUTE grant to run under; zero on a collective node, where the code must
    /// be approved in the collective's `CodeRegistry` instead.
    pub grant: B256,
    /// The operation: an image manifest digest listed in the grant.
    pub operation: B256,
    /// The scope whose files are the inputs.
    pub scope: String,
    /// Parameters, given to the code as `/input/params.json` (canonical JSON); their
    /// keccak256 must equal the grant's `paramsHash` when the grant fixes one.
    #[serde(default)]
    pub params: serde_json::Value,
}

/// `202` answer to a submission.
#[derive(Deserialize, Serialize, Debug, Clone)]
pub struct Accepted {
    /// The job id.
    pub id: String,
    /// `queued`.
    pub phase: Phase,
}

/// A job as its app or the owner sees it.
#[derive(Deserialize, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct OperationStatus {
    /// The job.
    #[serde(flatten)]
    pub job: JobRecord,
    /// `result.json` once the job succeeded.
    pub result: Option<serde_json::Value>,
}

impl OperationStatus {
    /// When the job entered `phase`, if it did.
    pub fn entered(&self, phase: Phase) -> Option<&PhaseTime> {
        self.job.phases.iter().find(|p| p.phase == phase)
    }
}

fn parse_request(body: &[u8]) -> Result<(OperationRequest, Vec<u8>), ApiError> {
    let request: OperationRequest = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request("malformed_body", format!("not an operation request: {e}")))?;
    hearth_core::Scope::from_str(&request.scope).map_err(|e| ApiError::bad_request("invalid_scope", e.to_string()))?;
    let params = jobs::canonical_params(&request.params);
    if params.len() > PARAMS_BYTES_MAX {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "params_too_large",
            format!("params take {} bytes as JSON, at most {PARAMS_BYTES_MAX}", params.len()),
        ));
    }
    Ok((request, params))
}

/// `POST /v1/operations`: queues a run of an operation over a scope.
pub async fn submit(
    State(state): State<Arc<AppState>>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let call = match authenticate(&state, &method, &uri, &headers, body).await {
        Ok(call) => call,
        Err(e) => return audited(&state, claimed(&headers), "operation.submit", None, vec![], Err(e)),
    };
    let grant = serde_json::from_slice::<serde_json::Value>(&call.body)
        .ok()
        .and_then(|v| v.get("grant").and_then(|g| g.as_str()).and_then(|g| B256::from_str(g).ok()));
    let admitted = admit(&state, &call).await;
    let accepted = audited(&state, call.caller, "operation.submit", grant, vec![], admitted)?;
    jobs::spawn(&state, accepted.id.clone());
    let location = format!("/v1/operations/{}", accepted.id);
    Ok((StatusCode::ACCEPTED, [(header::LOCATION, location)], Json(accepted)).into_response())
}

async fn admit(state: &Arc<AppState>, call: &Call) -> Result<Accepted, ApiError> {
    let (request, params_json) = parse_request(&call.body)?;
    let params_hash = alloy_primitives::keccak256(&params_json);
    jobs::authorize(state, call.caller, request.grant, &request.scope, request.operation, params_hash).await?;
    let compute = state.jobs.compute().map_err(|reason| {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "compute_unavailable", format!("jobs cannot run here: {reason}"))
    })?;
    compute.images().get(&request.operation).map_err(|_| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "operation_not_imported",
            "this server has no image with that digest; the owner imports it with `hearth image import`",
        )
    })?;
    let id = jobs::new_id().map_err(ApiError::internal)?;
    let now = state.clock.now_secs();
    let job = JobRecord {
        id: id.clone(),
        app: call.caller,
        grant: request.grant,
        operation: request.operation,
        scope: request.scope,
        params_hash,
        phase: Phase::Queued,
        reason: None,
        created_at: now,
        phases: vec![PhaseTime { phase: Phase::Queued, at: now }],
        exit_code: None,
        inputs: vec![],
        result_hash: None,
        files: vec![],
    };
    let admitted = tokio::task::block_in_place(|| state.jobs.admit(&job, &params_json)).map_err(ApiError::internal)?;
    if !admitted {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "queue_full",
            format!("{} jobs are queued or running; try again later", state.jobs.config().queue_max),
        ));
    }
    Ok(Accepted { id, phase: Phase::Queued })
}

/// The job `id` if the caller may see it: the app that submitted it, or the owner.
fn visible(state: &AppState, call: &Call, id: &str) -> Result<JobRecord, ApiError> {
    let malformed = id.len() != 32 || !id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if malformed {
        return Err(ApiError::bad_request("malformed_id", "a job id is 32 lowercase hex characters"));
    }
    let job = tokio::task::block_in_place(|| state.jobs.store().get(id))
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found(format!("no operation {id}")))?;
    if job.app != call.caller && call.caller != state.owner {
        return Err(ApiError::forbidden("not_your_operation", "only the app that submitted it, or the owner, may"));
    }
    Ok(job)
}

/// `GET /v1/operations/{id}`: phase, times, reason, and the result once it succeeded.
pub async fn status(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Signed { call, .. }: Signed,
) -> Result<Json<OperationStatus>, ApiError> {
    let job = visible(&state, &call, &id)?;
    let result = if job.phase == Phase::Succeeded {
        let sealed = tokio::task::block_in_place(|| state.jobs.store().sealed_result(&id))
            .map_err(ApiError::internal)?
            .ok_or_else(|| ApiError::internal(format!("job {id} succeeded without a stored result")))?;
        let mut plain = Vec::new();
        hearth_crypto::decrypt(state.keys.age_identity(), &sealed[..], &mut plain).map_err(ApiError::internal)?;
        Some(serde_json::from_slice(&plain).map_err(ApiError::internal)?)
    } else {
        None
    };
    Ok(Json(OperationStatus { job, result }))
}

/// `POST /v1/operations/{id}/cancel`: stops a job that has not ended (202); 409 if it has.
pub async fn cancel(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Signed { call, .. }: Signed,
) -> Result<(StatusCode, Json<OperationStatus>), ApiError> {
    let job = visible(&state, &call, &id)?;
    let cancelled = if job.phase.is_terminal() {
        Err(ApiError::new(StatusCode::CONFLICT, "already_finished", format!("the job ended as {}", job.phase.as_str())))
    } else if state.jobs.cancel(&id) {
        Ok(())
    } else {
        Err(ApiError::new(StatusCode::CONFLICT, "already_finished", "the job is ending"))
    };
    audited(&state, call.caller, "operation.cancel", Some(job.grant), vec![], cancelled)?;
    Ok((StatusCode::ACCEPTED, Json(OperationStatus { job, result: None })))
}

/// `GET /v1/operations/{id}/files/{name}`: an output file, encrypted to the app.
pub async fn file(
    State(state): State<Arc<AppState>>,
    Path((id, name)): Path<(String, String)>,
    Signed { call, .. }: Signed,
) -> Result<Response, ApiError> {
    visible(&state, &call, &id)?;
    let ciphertext = tokio::task::block_in_place(|| state.jobs.store().file(&id, &name))
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found(format!("operation {id} has no output file {name}")))?;
    Ok(([(header::CONTENT_TYPE, "application/octet-stream")], ciphertext).into_response())
}
