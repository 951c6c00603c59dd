//! Unauthenticated endpoints: health, metrics, the OpenAPI document, the server's identity.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde::Serialize;

use crate::state::AppState;

/// The OpenAPI document; a test checks it lists exactly the router's routes.
pub const OPENAPI: &str = include_str!("../../openapi.json");

/// `GET /healthz`
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// `GET /metrics`
pub async fn metrics(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.metrics.encode())
}

/// `GET /openapi.json`
pub async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI)
}

/// What `GET /v1/identity` returns.
#[derive(Serialize, serde::Deserialize, Debug, Clone)]
pub struct Identity {
    /// The server's Ethereum address (the audience of signed requests).
    pub server: alloy_primitives::Address,
    /// The server's age recipient: encrypt uploads to it.
    pub recipient: String,
    /// The owner whose data this server holds.
    pub owner: alloy_primitives::Address,
    /// The chain id signed requests and grants use.
    pub chain_id: u64,
    /// The contracts.
    pub contracts: hearth_chain::Deployment,
}

/// `GET /v1/identity`
pub async fn identity(State(state): State<Arc<AppState>>) -> Json<Identity> {
    Json(Identity {
        server: state.server.address(),
        recipient: state.keys.age_recipient().to_string(),
        owner: state.owner,
        chain_id: state.contracts.chain_id(),
        contracts: state.contracts.deployment(),
    })
}
