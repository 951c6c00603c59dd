//! One test per attack, each refused with its own code and recorded in the audit trail.

use alloy_primitives::{B256, U256};
use hearth_chain::Wallet;
use hearth_core::{Access, GrantTerms};
use hearth_server::ServeConfig;
use hearth_server::auth::RequestSigner;

use crate::harness::{Backend, PLAIN, Server, body_bytes, build, refusal};

#[track_caller]
fn assert_code(got: (u16, String), status: u16, code: &str) {
    assert_eq!(got, (status, code.to_owned()));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_granted_read_returns_the_file_re_encrypted_to_the_app() {
    let s = Server::start(Backend::Embedded).await;
    let signer = s.signer(&s.app);
    let index = s.send(s.signed(&signer, "GET", &format!("/v1/data/journal?grant={}", s.grant), vec![])).await;
    assert_eq!(index.status(), 200);
    let files: serde_json::Value = serde_json::from_slice(&body_bytes(index).await).unwrap();
    assert_eq!(files.as_array().unwrap().len(), 1);
    let response = s.send(s.signed(&signer, "GET", &s.read_target("journal"), vec![])).await;
    assert_eq!(response.status(), 200);
    let ciphertext = body_bytes(response).await;
    let mut plain = Vec::new();
    hearth_crypto::decrypt(&s.app_identity, &ciphertext[..], &mut plain).unwrap();
    assert_eq!(plain, PLAIN);
    assert_eq!(s.last_outcome(), "granted");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_forged_signature_is_refused() {
    let s = Server::start(Backend::Embedded).await;
    let forger = s.signer(&Wallet::random());
    let mut headers = forger.sign("GET", &s.read_target("journal"), &[], s.clock_now(), 60).unwrap();
    headers.signer = s.app.address(); // claims to be the app
    let response = s.send(build("GET", &s.read_target("journal"), &headers.to_pairs(), vec![])).await;
    assert_code(refusal(response).await, 401, "bad_signature");
    assert_eq!(s.last_outcome(), "bad_signature");
}

#[tokio::test(flavor = "multi_thread")]
async fn another_apps_valid_signature_does_not_use_this_apps_grant() {
    let s = Server::start(Backend::Embedded).await;
    let other = s.signer(&Wallet::random());
    let response = s.send(s.signed(&other, "GET", &s.read_target("journal"), vec![])).await;
    assert_code(refusal(response).await, 403, "grant_wrong_grantee");
    assert_eq!(s.last_outcome(), "grant_wrong_grantee");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replayed_request_is_refused() {
    let s = Server::start(Backend::Embedded).await;
    let signer = s.signer(&s.app);
    let headers = signer.sign("GET", &s.read_target("journal"), &[], s.clock_now(), 60).unwrap();
    let first = s.send(build("GET", &s.read_target("journal"), &headers.to_pairs(), vec![])).await;
    assert_eq!(first.status(), 200);
    let again = s.send(build("GET", &s.read_target("journal"), &headers.to_pairs(), vec![])).await;
    assert_code(refusal(again).await, 401, "replayed");
    assert_eq!(s.last_outcome(), "replayed");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_request_is_refused() {
    let s = Server::start(Backend::Embedded).await;
    let signer = s.signer(&s.app);
    let headers = signer.sign("GET", &s.read_target("journal"), &[], s.clock_now() - 120, 60).unwrap();
    let response = s.send(build("GET", &s.read_target("journal"), &headers.to_pairs(), vec![])).await;
    assert_code(refusal(response).await, 401, "expired");
    assert_eq!(s.last_outcome(), "expired");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_for_another_server_is_refused() {
    let s = Server::start(Backend::Embedded).await;
    let elsewhere = RequestSigner::new(s.app.clone(), Wallet::random().address(), s.contracts.chain_id());
    let response = s.send(s.signed(&elsewhere, "GET", &s.read_target("journal"), vec![])).await;
    assert_code(refusal(response).await, 401, "wrong_audience");
    assert_eq!(s.last_outcome(), "wrong_audience");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_query_string_changed_after_signing_is_refused() {
    let s = Server::start(Backend::Embedded).await;
    let signer = s.signer(&s.app);
    let signed_for = s.read_target("journal");
    let headers = signer.sign("GET", &signed_for, &[], s.clock_now(), 60).unwrap();
    let tampered = format!("{signed_for}&extra=1");
    let response = s.send(build("GET", &tampered, &headers.to_pairs(), vec![])).await;
    assert_code(refusal(response).await, 401, "bad_signature");
    assert_eq!(s.last_outcome(), "bad_signature");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_changed_after_signing_is_refused() {
    let s = Server::start(Backend::Embedded).await;
    let signer = s.signer(&s.owner);
    let headers = signer.sign("POST", "/v1/owner/grants", b"{\"a\":1}", s.clock_now(), 60).unwrap();
    let response = s.send(build("POST", "/v1/owner/grants", &headers.to_pairs(), b"{\"a\":2}".to_vec())).await;
    assert_code(refusal(response).await, 401, "body_hash_mismatch");
}

#[tokio::test(flavor = "multi_thread")]
async fn scope_outside_the_grant_is_refused() {
    let s = Server::start(Backend::Embedded).await;
    let target = format!("/v1/data/email?grant={}", s.grant);
    let response = s.send(s.signed(&s.signer(&s.app), "GET", &target, vec![])).await;
    assert_code(refusal(response).await, 403, "scope_not_granted");
    assert_eq!(s.last_outcome(), "scope_not_granted");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_grant_is_refused() {
    let s = Server::start(Backend::Embedded).await;
    s.clock.advance(7200);
    let response = s.send(s.signed(&s.signer(&s.app), "GET", &s.read_target("journal"), vec![])).await;
    assert_code(refusal(response).await, 403, "grant_expired");
    assert_eq!(s.last_outcome(), "grant_expired");
}

#[tokio::test(flavor = "multi_thread")]
async fn read_on_a_compute_grant_is_refused() {
    let s = Server::start(Backend::Embedded).await;
    let now = s.clock_now();
    let terms = GrantTerms {
        access: Access::Compute,
        operations: vec![B256::repeat_byte(1)],
        nonce: U256::from(1),
        not_before: now - 10,
        ..s.grant_terms.clone()
    };
    let p = s.contracts.permissions();
    let sig = p.sign_grant(&s.owner, &terms).unwrap();
    let (compute, _) = p.submit_grant(&Wallet::random(), &terms, sig).await.unwrap();
    let target = format!("/v1/data/journal/{}?grant={compute}", s.file_id);
    let response = s.send(s.signed(&s.signer(&s.app), "GET", &target, vec![])).await;
    assert_code(refusal(response).await, 403, "read_not_granted");
    assert_eq!(s.last_outcome(), "read_not_granted");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_the_grantor_does_not_trust_is_refused() {
    let s = Server::start(Backend::Embedded).await;
    let relayer = Wallet::random();
    s.contracts.servers().set_trust_signed(&relayer, &s.owner, s.server_address(), false).await.unwrap();
    let response = s.send(s.signed(&s.signer(&s.app), "GET", &s.read_target("journal"), vec![])).await;
    assert_code(refusal(response).await, 403, "server_not_trusted");
    assert_eq!(s.last_outcome(), "server_not_trusted");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_oversized_body_is_refused() {
    let config = ServeConfig { body_bytes_max: 1024, ..ServeConfig::default() };
    let s = Server::start_with(Backend::Embedded, config).await;
    let body = vec![b'x'; 2048];
    let response = s.send(s.signed(&s.signer(&s.app), "GET", &s.read_target("journal"), body)).await;
    assert_code(refusal(response).await, 413, "body_too_large");
    assert_eq!(s.last_outcome(), "body_too_large");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_malformed_header_is_refused() {
    let s = Server::start(Backend::Embedded).await;
    let headers = s.signer(&s.app).sign("GET", &s.read_target("journal"), &[], s.clock_now(), 60).unwrap();
    let mut pairs = headers.to_pairs();
    for (name, value) in pairs.iter_mut() {
        if *name == hearth_server::auth::NONCE_HEADER {
            *value = "0xnot-hex".into();
        }
    }
    let response = s.send(build("GET", &s.read_target("journal"), &pairs, vec![])).await;
    assert_code(refusal(response).await, 400, "malformed_header");
    assert_eq!(s.last_outcome(), "malformed_header");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unsigned_request_is_refused() {
    let s = Server::start(Backend::Embedded).await;
    let response = s.send(build("GET", &s.read_target("journal"), &[], vec![])).await;
    let (status, code) = refusal(response).await;
    assert_eq!(status, 401);
    assert!(code.starts_with("missing_"), "{code}");
}

#[tokio::test(flavor = "multi_thread")]
async fn only_the_owner_reaches_owner_endpoints() {
    let s = Server::start(Backend::Embedded).await;
    let response = s.send(s.signed(&s.signer(&s.app), "GET", "/v1/owner/files", vec![])).await;
    assert_code(refusal(response).await, 403, "not_owner");
    let response = s.send(s.signed(&s.signer(&s.owner), "GET", "/v1/owner/files", vec![])).await;
    assert_eq!(response.status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_caller_over_its_rate_is_refused_and_others_are_not() {
    let config = ServeConfig { rate_per_app_per_sec: 1, rate_burst: 2, ..ServeConfig::default() };
    let s = Server::start_with(Backend::Embedded, config).await;
    let signer = s.signer(&s.app);
    let mut codes = Vec::new();
    for _ in 0..3 {
        let response = s.send(s.signed(&signer, "GET", &s.read_target("journal"), vec![])).await;
        codes.push(response.status().as_u16());
    }
    assert_eq!(codes, [200, 200, 429]);
    // A forger claiming the app's address does not spend the owner's budget.
    let owner = s.send(s.signed(&s.signer(&s.owner), "GET", "/v1/owner/files", vec![])).await;
    assert_eq!(owner.status(), 200);
}
