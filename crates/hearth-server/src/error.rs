//! `ApiError`: an HTTP status, a stable code and a client-safe message. The cause is
//! logged once on the server; it is never sent to the client.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// One error the API returns, as `{"code": …, "message": …}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable, snake_case, documented in the OpenAPI document.
    pub code: &'static str,
    /// For people; no internal detail, no secret.
    pub message: String,
}

#[derive(Serialize)]
struct Body<'a> {
    code: &'a str,
    message: &'a str,
}

impl ApiError {
    /// A new error.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into() }
    }

    /// 400 with `code`.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 403 with `code`.
    pub fn forbidden(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, code, message)
    }

    /// 404 `not_found`.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 500 `internal`, after logging `cause` (never sent).
    pub fn internal(cause: impl std::fmt::Display) -> ApiError {
        tracing::error!(%cause, "internal error");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error; see the server log")
    }

    /// 503 `chain_unavailable`, after logging `cause`.
    pub fn chain_unavailable(cause: impl std::fmt::Display) -> ApiError {
        tracing::warn!(%cause, "chain unavailable");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "chain_unavailable",
            "the chain cannot be reached; try again later",
        )
    }

    /// 503 `audit_unavailable`: no record, no access.
    pub fn audit_unavailable(cause: impl std::fmt::Display) -> ApiError {
        tracing::error!(%cause, "audit append failed");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "audit_unavailable",
            "the audit trail cannot be written; access refused",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(Body { code: self.code, message: &self.message })).into_response()
    }
}

impl From<hearth_store::StoreError> for ApiError {
    fn from(e: hearth_store::StoreError) -> Self {
        match e {
            hearth_store::StoreError::NotFound { id } => ApiError::not_found(format!("no file {id}")),
            hearth_store::StoreError::Integrity { id, .. } => ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "integrity",
                format!("file {id} failed its integrity check"),
            ),
            other => ApiError::internal(other),
        }
    }
}

impl From<hearth_chain::ChainError> for ApiError {
    fn from(e: hearth_chain::ChainError) -> Self {
        use hearth_chain::ChainError as C;
        match e {
            C::Reverted { contract, reason, .. } => {
                ApiError::bad_request("chain_refused", format!("{contract} refused it: {reason}"))
            }
            C::Invalid(m) => ApiError::bad_request("invalid", m),
            other @ (C::Unreachable { .. } | C::Rpc { .. } | C::WrongChainId { .. }) => {
                ApiError::chain_unavailable(other)
            }
            other => ApiError::internal(other),
        }
    }
}
