//! hearth-server: the HTTP API. Every app or owner call is a signed request; every app
//! action is checked against the grant on chain and recorded in the audit trail.

#![forbid(unsafe_code)]

pub mod app;
pub mod audit;
pub mod auth;
pub mod config;
pub mod error;
pub mod jobs;
pub mod liveness;
mod merkle;
pub mod metrics;
mod outbound;
pub mod permission;
pub mod ratelimit;
pub mod router;
pub mod routes;
pub mod state;

pub use app::serve;
pub use config::ServeConfig;
pub use error::ApiError;
pub use router::{ROUTES, router};
pub use state::AppState;
