//! Prometheus metrics served at `/metrics`.

use std::sync::Mutex;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

/// Labels of the request counter.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// The route template (`/v1/data/{scope}`).
    pub route: String,
    /// The HTTP status.
    pub status: u16,
}

/// Labels of the refusal counter.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RefusalLabels {
    /// The stable error code.
    pub code: String,
}

/// Labels of the finished-jobs counter.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct JobLabels {
    /// The terminal phase (`succeeded`, `failed`, `cancelled`, `timed_out`).
    pub phase: &'static str,
}

/// The server's counters.
pub struct Metrics {
    registry: Mutex<Registry>,
    /// Requests by route and status.
    pub requests: Family<RequestLabels, Counter>,
    /// Refusals by code.
    pub refusals: Family<RefusalLabels, Counter>,
    /// Audit records appended.
    pub audit_records: Counter,
    /// Jobs finished, by terminal phase.
    pub jobs: Family<JobLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("hearth");
        let requests = Family::<RequestLabels, Counter>::default();
        let refusals = Family::<RefusalLabels, Counter>::default();
        let audit_records = Counter::default();
        registry.register("http_requests", "HTTP requests by route and status", requests.clone());
        registry.register("refusals", "Refused requests by error code", refusals.clone());
        registry.register("audit_records", "Audit records appended", audit_records.clone());
        let jobs = Family::<JobLabels, Counter>::default();
        registry.register("jobs", "Jobs finished by terminal phase", jobs.clone());
        Metrics { registry: Mutex::new(registry), requests, refusals, audit_records, jobs }
    }
}

impl Metrics {
    /// The text exposition format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        let registry = self.registry.lock().unwrap_or_else(|p| p.into_inner());
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &registry);
        out
    }
}
