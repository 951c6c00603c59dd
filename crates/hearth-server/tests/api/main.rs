//! The HTTP API through `router(state).oneshot(request)`, on the embedded chain and on a
//! real anvil: every attack refused with its own code and audited; revocation enforced on
//! the next request; nonces and audit surviving a restart; the OpenAPI document matching
//! the routes.

#![allow(clippy::unwrap_used, missing_docs)]

mod attacks;
mod collective;
mod exports;
mod harness;
mod jobs;
mod lifecycle;
mod liveness_http;
