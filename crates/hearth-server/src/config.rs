//! The server's settings (`[serve]` in `hearth.toml`), each limit with its unit last.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

/// Largest request body accepted (owner uploads through the API).
pub const BODY_BYTES_MAX: usize = 64 * 1024 * 1024;

/// How the HTTP server runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServeConfig {
    /// Where to listen.
    pub bind: SocketAddr,
    /// Largest request body, in bytes.
    pub body_bytes_max: usize,
    /// Requests per second each caller (by address) may make, sustained.
    pub rate_per_app_per_sec: u32,
    /// Requests a caller may make in a burst above the sustained rate.
    pub rate_burst: u32,
    /// How long permission answers may be served from cache while the chain is unreachable.
    pub chain_staleness_secs_max: u64,
    /// Longest a whole request may take.
    pub request_secs_max: u64,
    /// Anchor audit records at least this often…
    pub anchor_interval_secs: u64,
    /// …or as soon as this many are pending.
    pub anchor_batch_min: u64,
    /// Longest the server waits for in-flight requests on shutdown.
    pub shutdown_secs_max: u64,
    /// Cache grants and trust between requests (kept current by following events).
    pub permission_cache: bool,
    /// How jobs run (`[serve.jobs]`).
    pub jobs: crate::jobs::JobsConfig,
    /// The collectives whose exports this server accepts (`[[serve.imports_from]]`).
    /// None by default: an import nobody asked for is refused.
    pub imports_from: Vec<ImportSource>,
}

/// A collective this server accepts exports from: its `CodeRegistry`, which must approve
/// the export to this server, and the node that delivers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportSource {
    /// The collective's `CodeRegistry`.
    pub registry: alloy_primitives::Address,
    /// The collective node's server address (as registered in `ServerRegistry`).
    pub node: alloy_primitives::Address,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], 8480)),
            body_bytes_max: BODY_BYTES_MAX,
            rate_per_app_per_sec: 100,
            rate_burst: 200,
            chain_staleness_secs_max: 30,
            request_secs_max: 300,
            anchor_interval_secs: 60,
            anchor_batch_min: 256,
            shutdown_secs_max: 30,
            permission_cache: true,
            jobs: crate::jobs::JobsConfig::default(),
            imports_from: Vec::new(),
        }
    }
}
