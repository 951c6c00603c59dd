//! Jobs through the API on the embedded chain with real runc: results without raw
//! data, the grant checked at submission and again before the start, the queue bound,
//! cancellation, limits, sealed outputs and the audit records of every job.

use std::time::Duration;

use alloy_primitives::B256;
use hearth_chain::Wallet;
use hearth_crypto::age::x25519::Identity;
use hearth_server::ServeConfig;
use hearth_server::jobs::{JobsConfig, Phase, params_hash, result_hash};
use hearth_server::routes::operations::{Accepted, OperationRequest, OperationStatus};
use serde_json::json;

use crate::harness::{Backend, PLAIN, Server, body_bytes, refusal};

/// Longest a test waits for a job to end.
const JOB_WAIT_SECS_MAX: u64 = 120;

pub fn config(concurrent_max: usize, queue_max: usize, wall_secs_max: u64) -> ServeConfig {
    ServeConfig {
        jobs: JobsConfig { concurrent_max, queue_max, wall_secs_max, ..JobsConfig::default() },
        ..ServeConfig::default()
    }
}

impl Server {
    pub async fn submit_as(
        &self,
        app: &Wallet,
        grant: B256,
        operation: B256,
        params: serde_json::Value,
    ) -> axum::http::Response<axum::body::Body> {
        let request = OperationRequest { grant, operation, scope: "journal".into(), params };
        let body = serde_json::to_vec(&request).unwrap();
        self.send(self.signed(&self.signer(app), "POST", "/v1/operations", body)).await
    }

    pub async fn submit(&self, grant: B256, operation: B256, params: serde_json::Value) -> String {
        let response = self.submit_as(&self.app, grant, operation, params).await;
        assert_eq!(response.status(), 202);
        let accepted: Accepted = serde_json::from_slice(&body_bytes(response).await).unwrap();
        assert_eq!(accepted.phase, Phase::Queued);
        accepted.id
    }

    async fn status_as(&self, who: &Wallet, id: &str) -> axum::http::Response<axum::body::Body> {
        self.send(self.signed(&self.signer(who), "GET", &format!("/v1/operations/{id}"), vec![])).await
    }

    pub async fn status(&self, id: &str) -> OperationStatus {
        let response = self.status_as(&self.app, id).await;
        assert_eq!(response.status(), 200);
        serde_json::from_slice(&body_bytes(response).await).unwrap()
    }

    pub async fn wait_for(&self, id: &str, done: impl Fn(&OperationStatus) -> bool) -> OperationStatus {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(JOB_WAIT_SECS_MAX);
        loop {
            let status = self.status(id).await;
            if done(&status) {
                return status;
            }
            assert!(tokio::time::Instant::now() < deadline, "job {id} stuck in {:?}", status.job.phase);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn wait_end(&self, id: &str) -> OperationStatus {
        self.wait_for(id, |s| s.job.phase.is_terminal()).await
    }

    pub fn records_for(&self, action: &str) -> Vec<hearth_server::audit::Record> {
        let records = self.state().audit.records(0, 1000).unwrap();
        records.into_iter().filter(|r| r.entry.action == action).collect()
    }
}

pub fn phases(status: &OperationStatus) -> Vec<Phase> {
    status.job.phases.iter().map(|p| p.phase).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_compute_grant_gives_the_result_and_never_the_data() {
    let s = Server::start(Backend::Embedded).await;
    let wordcount = s.import("wordcount");
    let grant = s.compute_grant(&s.app, vec![wordcount], B256::ZERO).await;
    let id = s.submit(grant, wordcount, json!({})).await;
    let done = s.wait_end(&id).await;
    assert_eq!(done.job.phase, Phase::Succeeded, "reason: {:?}", done.job.reason);
    let words = std::str::from_utf8(PLAIN).unwrap().split_whitespace().count();
    assert_eq!(done.result, Some(json!({"words": words, "lines": 1, "bytes": PLAIN.len()})));
    assert_eq!(
        phases(&done),
        [Phase::Queued, Phase::Verifying, Phase::Preparing, Phase::Running, Phase::Sealing, Phase::Succeeded]
    );
    let file = s.state().store.get(s.file_id).await.unwrap();
    assert_eq!(done.job.inputs, vec![file.sha256]);
    // wordcount writes its result.json in this exact form; the hash covers those bytes.
    let written = format!("{{\"words\": {words}, \"lines\": 1, \"bytes\": {}}}\n", PLAIN.len());
    let expected_hash = result_hash(written.as_bytes(), &[]);
    let end = s.records_for("operation.end");
    assert_eq!(end.len(), 1);
    let entry = &end[0].entry;
    assert_eq!(entry.outcome, "succeeded");
    assert_eq!(entry.code_digest, Some(wordcount));
    assert_eq!(entry.params_hash, Some(params_hash(&json!({}))));
    assert_eq!(entry.files, vec![file.sha256]);
    assert_eq!(entry.grant_id, Some(grant));
    assert_eq!(entry.result_hash, done.job.result_hash);
    assert_eq!(entry.result_hash, Some(expected_hash), "the result hash covers result.json as the code wrote it");
    assert_eq!(s.records_for("operation.start")[0].entry.files, vec![file.sha256]);
    // The raw data stays behind: a read under the COMPUTE grant is refused.
    let target = format!("/v1/data/journal/{}?grant={grant}", s.file_id);
    let read = s.send(s.signed(&s.signer(&s.app), "GET", &target, vec![])).await;
    assert_eq!(refusal(read).await, (403, "read_not_granted".to_owned()));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_operation_outside_the_grant_never_starts() {
    let s = Server::start(Backend::Embedded).await;
    let wordcount = s.import("wordcount");
    let keywords = s.import("keywords");
    let grant = s.compute_grant(&s.app, vec![wordcount], B256::ZERO).await;
    let refused = s.submit_as(&s.app, grant, keywords, json!({})).await;
    assert_eq!(refusal(refused).await, (403, "operation_not_granted".to_owned()));
    assert_eq!(s.last_outcome(), "operation_not_granted");
    assert!(s.records_for("operation.start").is_empty(), "nothing was decrypted");
    assert_eq!(s.state().jobs.store().unfinished().unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn parameters_other_than_the_granted_ones_never_start() {
    let s = Server::start(Backend::Embedded).await;
    let keywords = s.import("keywords");
    let fixed = json!({"keywords": ["diary", "permissions"]});
    let grant = s.compute_grant(&s.app, vec![keywords], params_hash(&fixed)).await;
    let refused = s.submit_as(&s.app, grant, keywords, json!({"keywords": ["password"]})).await;
    assert_eq!(refusal(refused).await, (403, "params_mismatch".to_owned()));
    assert!(s.records_for("operation.start").is_empty());
    let id = s.submit(grant, keywords, fixed.clone()).await;
    let done = s.wait_end(&id).await;
    assert_eq!(done.job.phase, Phase::Succeeded, "reason: {:?}", done.job.reason);
    assert_eq!(done.job.params_hash, params_hash(&fixed));
    assert_eq!(done.result, Some(json!({"counts": {"diary": 1, "permissions": 1}})));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_grant_revoked_while_queued_stops_the_job_before_it_starts() {
    let s = Server::start_with(Backend::Embedded, config(1, 8, 60)).await;
    let testop = s.import("testop");
    let first = s.compute_grant(&s.app, vec![testop], B256::ZERO).await;
    let second = s.compute_grant(&s.app, vec![testop], B256::ZERO).await;
    let busy = s.submit(first, testop, json!({"mode": "sleep", "secs": 3})).await;
    s.wait_for(&busy, |st| st.job.phase == Phase::Running).await;
    let waiting = s.submit(second, testop, json!({})).await;
    assert_eq!(s.status(&waiting).await.job.phase, Phase::Queued, "one slot, held by the busy job");
    let p = s.contracts.permissions();
    let nonce = p.nonce(s.owner.address()).await.unwrap();
    let signature = p.sign_revoke(&s.owner, second, nonce).unwrap();
    p.revoke_with_sig(&s.state().server, second, nonce, signature).await.unwrap();
    let ended = s.wait_end(&waiting).await;
    assert_eq!(ended.job.phase, Phase::Failed);
    assert_eq!(ended.job.reason.as_deref(), Some("grant_revoked"));
    assert_eq!(phases(&ended), [Phase::Queued, Phase::Verifying, Phase::Failed], "never prepared nor ran");
    assert!(ended.job.inputs.is_empty(), "no input was decrypted");
    assert_eq!(s.wait_end(&busy).await.job.phase, Phase::Succeeded);
    let outcomes: Vec<String> = s.records_for("operation.end").into_iter().map(|r| r.entry.outcome).collect();
    assert!(outcomes.contains(&"grant_revoked".to_owned()), "{outcomes:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_queue_answers_429() {
    let s = Server::start_with(Backend::Embedded, config(1, 1, 60)).await;
    let testop = s.import("testop");
    let grant = s.compute_grant(&s.app, vec![testop], B256::ZERO).await;
    let busy = s.submit(grant, testop, json!({"mode": "sleep", "secs": 2})).await;
    let refused = s.submit_as(&s.app, grant, testop, json!({})).await;
    assert_eq!(refusal(refused).await, (429, "queue_full".to_owned()));
    // The busy job appends its own records meanwhile, so look for the refusal by action.
    let submits: Vec<String> = s.records_for("operation.submit").into_iter().map(|r| r.entry.outcome).collect();
    assert_eq!(submits, ["granted", "queue_full"], "the refusal is audited");
    assert_eq!(s.wait_end(&busy).await.job.phase, Phase::Succeeded);
    let id = s.submit(grant, testop, json!({})).await;
    assert_eq!(s.wait_end(&id).await.job.phase, Phase::Succeeded, "room again once the first ended");
}

#[tokio::test(flavor = "multi_thread")]
async fn cancelling_stops_a_running_job_and_a_finished_one_cannot_be() {
    let s = Server::start(Backend::Embedded).await;
    let testop = s.import("testop");
    let grant = s.compute_grant(&s.app, vec![testop], B256::ZERO).await;
    let id = s.submit(grant, testop, json!({"mode": "sleep", "secs": 60})).await;
    s.wait_for(&id, |st| st.job.phase == Phase::Running).await;
    let target = format!("/v1/operations/{id}/cancel");
    let cancel = s.send(s.signed(&s.signer(&s.app), "POST", &target, vec![])).await;
    assert_eq!(cancel.status(), 202);
    let ended = s.wait_end(&id).await;
    assert_eq!(ended.job.phase, Phase::Cancelled);
    assert_eq!(ended.result, None);
    let again = s.send(s.signed(&s.signer(&s.app), "POST", &target, vec![])).await;
    assert_eq!(refusal(again).await, (409, "already_finished".to_owned()));
}

#[tokio::test(flavor = "multi_thread")]
async fn only_the_submitting_app_and_the_owner_see_a_job() {
    let s = Server::start(Backend::Embedded).await;
    let testop = s.import("testop");
    let grant = s.compute_grant(&s.app, vec![testop], B256::ZERO).await;
    let id = s.submit(grant, testop, json!({})).await;
    let stranger = Wallet::random();
    assert_eq!(refusal(s.status_as(&stranger, &id).await).await, (403, "not_your_operation".to_owned()));
    let cancel = s.send(s.signed(&s.signer(&stranger), "POST", &format!("/v1/operations/{id}/cancel"), vec![])).await;
    assert_eq!(refusal(cancel).await, (403, "not_your_operation".to_owned()));
    assert_eq!(s.status_as(&s.owner, &id).await.status(), 200);
    let unknown = s.status_as(&s.app, &"0".repeat(32)).await;
    assert_eq!(refusal(unknown).await, (404, "not_found".to_owned()));
    let malformed = s.status_as(&s.app, "../../etc").await;
    assert_eq!(malformed.status().as_u16() / 100, 4);
    // Another app's grant is not this app's either.
    let refused = s.submit_as(&stranger, grant, testop, json!({})).await;
    assert_eq!(refusal(refused).await, (403, "grant_wrong_grantee".to_owned()));
}

#[tokio::test(flavor = "multi_thread")]
async fn output_files_are_sealed_to_the_app_and_hashed_in_the_audit() {
    let s = Server::start(Backend::Embedded).await;
    let testop = s.import("testop");
    let grant = s.compute_grant(&s.app, vec![testop], B256::ZERO).await;
    let id = s.submit(grant, testop, json!({"mode": "files"})).await;
    let done = s.wait_end(&id).await;
    assert_eq!(done.job.phase, Phase::Succeeded, "reason: {:?}", done.job.reason);
    assert_eq!(done.job.files.len(), 1);
    let response =
        s.send(s.signed(&s.signer(&s.app), "GET", &format!("/v1/operations/{id}/files/report.txt"), vec![])).await;
    assert_eq!(response.status(), 200);
    let ciphertext = body_bytes(response).await;
    let mut plain = Vec::new();
    hearth_crypto::decrypt(&s.app_identity, &ciphertext[..], &mut plain).unwrap();
    assert_eq!(plain, b"a report only the app can read\n");
    let mut other = Vec::new();
    assert!(hearth_crypto::decrypt(&Identity::generate(), &ciphertext[..], &mut other).is_err());
    let file_hash = done.job.files[0].sha256;
    let expected = result_hash(br#"{"report":"report.txt"}"#, &[("report.txt".to_owned(), file_hash)]);
    assert_eq!(done.job.result_hash, Some(expected));
    let missing =
        s.send(s.signed(&s.signer(&s.app), "GET", &format!("/v1/operations/{id}/files/nothing"), vec![])).await;
    assert_eq!(refusal(missing).await, (404, "not_found".to_owned()));
}

#[tokio::test(flavor = "multi_thread")]
async fn jobs_that_break_their_rules_end_with_a_reason() {
    let s = Server::start_with(Backend::Embedded, config(2, 8, 1)).await;
    let testop = s.import("testop");
    let grant = s.compute_grant(&s.app, vec![testop], B256::ZERO).await;
    let cases = [
        (json!({"mode": "sleep", "secs": 30}), Phase::TimedOut, "wall_time_limit"),
        (json!({"mode": "noresult"}), Phase::Failed, "result_missing"),
        (json!({"mode": "fail"}), Phase::Failed, "operation_failed"),
    ];
    for (params, phase, reason) in cases {
        let id = s.submit(grant, testop, params.clone()).await;
        let done = s.wait_end(&id).await;
        assert_eq!((done.job.phase, done.job.reason.as_deref()), (phase, Some(reason)), "{params}");
        assert_eq!(done.result, None);
    }
    let outcomes: Vec<String> = s.records_for("operation.end").into_iter().map(|r| r.entry.outcome).collect();
    assert_eq!(outcomes, ["wall_time_limit", "result_missing", "operation_failed"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_operation_that_is_not_imported_is_refused() {
    let s = Server::start(Backend::Embedded).await;
    let absent = B256::repeat_byte(0x42);
    let grant = s.compute_grant(&s.app, vec![absent], B256::ZERO).await;
    let refused = s.submit_as(&s.app, grant, absent, json!({})).await;
    assert_eq!(refusal(refused).await, (404, "operation_not_imported".to_owned()));
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_and_oversized_requests_are_refused() {
    let s = Server::start(Backend::Embedded).await;
    let testop = s.import("testop");
    let grant = s.compute_grant(&s.app, vec![testop], B256::ZERO).await;
    let signer = s.signer(&s.app);
    let garbage = s.send(s.signed(&signer, "POST", "/v1/operations", b"{not json".to_vec())).await;
    assert_eq!(refusal(garbage).await, (400, "malformed_body".to_owned()));
    let bad_scope = json!({"grant": grant, "operation": testop, "scope": "Not A Scope", "params": {}});
    let response = s.send(s.signed(&signer, "POST", "/v1/operations", serde_json::to_vec(&bad_scope).unwrap())).await;
    assert_eq!(refusal(response).await, (400, "invalid_scope".to_owned()));
    let huge = json!({"blob": "x".repeat(hearth_server::jobs::PARAMS_BYTES_MAX)});
    let response = s.submit_as(&s.app, grant, testop, huge).await;
    assert_eq!(refusal(response).await, (413, "params_too_large".to_owned()));
    assert_eq!(s.state().jobs.store().unfinished().unwrap(), 0, "nothing queued");
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_runtime_jobs_are_refused_with_how_to_install_it() {
    let mut config = config(1, 8, 60);
    config.jobs.runtime = "/nonexistent/runc".into();
    let s = Server::start_with(Backend::Embedded, config).await;
    let testop = s.import("testop");
    let grant = s.compute_grant(&s.app, vec![testop], B256::ZERO).await;
    let response = s.submit_as(&s.app, grant, testop, json!({})).await;
    assert_eq!(response.status(), 503);
    let body: serde_json::Value = serde_json::from_slice(&body_bytes(response).await).unwrap();
    assert_eq!(body["code"], "compute_unavailable");
    assert!(body["message"].as_str().unwrap().contains("apt-get install runc"), "{body}");
}
