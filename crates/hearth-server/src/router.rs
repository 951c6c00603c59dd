//! Every route of the API in one place. `ROUTES` lists them for the test that compares
//! the router with `openapi.json`.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{delete, get, post};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::metrics::RequestLabels;
use crate::routes::{app, contributions, exports, liveness, operations, owner, system};
use crate::state::AppState;

/// (method, path template) of every route.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/healthz"),
    ("GET", "/metrics"),
    ("GET", "/openapi.json"),
    ("GET", "/v1/identity"),
    ("POST", "/v1/apps"),
    ("GET", "/v1/apps/{address}"),
    ("GET", "/v1/data/{scope}"),
    ("GET", "/v1/data/{scope}/{id}"),
    ("POST", "/v1/contributions"),
    ("GET", "/v1/contributions/nonce/{address}"),
    ("POST", "/v1/exports"),
    ("POST", "/v1/imports"),
    ("POST", "/v1/operations"),
    ("GET", "/v1/operations/{id}"),
    ("POST", "/v1/operations/{id}/cancel"),
    ("GET", "/v1/operations/{id}/files/{name}"),
    ("POST", "/v1/owner/files"),
    ("GET", "/v1/owner/files"),
    ("GET", "/v1/owner/files/{id}"),
    ("DELETE", "/v1/owner/files/{id}"),
    ("POST", "/v1/owner/grants"),
    ("GET", "/v1/owner/grants"),
    ("POST", "/v1/owner/grants/{id}/revoke"),
    ("GET", "/v1/audit"),
    ("GET", "/v1/owner/nonce"),
    ("POST", "/v1/owner/liveness"),
    ("POST", "/v1/liveness/answer"),
];

async fn count(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let route =
        request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned()).unwrap_or_else(|| "unmatched".into());
    let response = next.run(request).await;
    state.metrics.requests.get_or_create(&RequestLabels { route, status: response.status().as_u16() }).inc();
    response
}

/// The whole API.
pub fn router(state: Arc<AppState>) -> Router {
    let timeout = Duration::from_secs(state.config.request_secs_max);
    Router::new()
        .route("/healthz", get(system::healthz))
        .route("/metrics", get(system::metrics))
        .route("/openapi.json", get(system::openapi))
        .route("/v1/identity", get(system::identity))
        .route("/v1/apps", post(app::register))
        .route("/v1/apps/{address}", get(app::status))
        .route("/v1/data/{scope}", get(app::index))
        .route("/v1/data/{scope}/{id}", get(app::read))
        .route("/v1/contributions", post(contributions::add))
        .route("/v1/contributions/nonce/{address}", get(contributions::nonce))
        .route("/v1/exports", post(exports::export))
        .route("/v1/imports", post(exports::import))
        .route("/v1/operations", post(operations::submit))
        .route("/v1/operations/{id}", get(operations::status))
        .route("/v1/operations/{id}/cancel", post(operations::cancel))
        .route("/v1/operations/{id}/files/{name}", get(operations::file))
        .route("/v1/owner/files", post(owner::add).get(owner::list))
        .route("/v1/owner/files/{id}", get(owner::read).merge(delete(owner::delete)))
        .route("/v1/owner/grants", post(owner::submit_grant).get(owner::list_grants))
        .route("/v1/owner/grants/{id}/revoke", post(owner::revoke_grant))
        .route("/v1/audit", get(owner::audit))
        .route("/v1/owner/nonce", get(owner::nonce))
        .route("/v1/owner/liveness", post(liveness::keep))
        .route("/v1/liveness/answer", post(liveness::answer_challenge))
        .layer(middleware::from_fn_with_state(state.clone(), count))
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::REQUEST_TIMEOUT, timeout))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
