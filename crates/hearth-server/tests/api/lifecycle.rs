//! Revocation on both backends, restart, chain outage, owner endpoints, OpenAPI.

use std::collections::BTreeSet;

use alloy_primitives::U256;
use hearth_chain::Wallet;
use hearth_core::Clock;
use hearth_server::ROUTES;
use hearth_server::routes::owner::{SignedGrant, SignedRevoke};

use crate::harness::{Backend, Server, body_bytes, build, refusal};

impl Server {
    pub fn clock_now(&self) -> u64 {
        self.clock.now_secs()
    }
}

async fn revocation_is_enforced_on_the_next_request(backend: Backend) {
    let s = Server::start(backend).await;
    let signer = s.signer(&s.app);
    let ok = s.send(s.signed(&signer, "GET", &s.read_target("journal"), vec![])).await;
    assert_eq!(ok.status(), 200, "the cache is warm with an active grant");
    // The owner revokes through the API (signed revocation relayed by the server).
    let p = s.contracts.permissions();
    let nonce = p.nonce(s.owner.address()).await.unwrap();
    let signature = p.sign_revoke(&s.owner, s.grant, nonce).unwrap();
    let body = serde_json::to_vec(&SignedRevoke { nonce, signature }).unwrap();
    let target = format!("/v1/owner/grants/{}/revoke", s.grant);
    let revoked = s.send(s.signed(&s.signer(&s.owner), "POST", &target, body)).await;
    assert_eq!(revoked.status(), 204);
    let next = s.send(s.signed(&signer, "GET", &s.read_target("journal"), vec![])).await;
    assert_eq!(refusal(next).await, (403, "grant_revoked".to_owned()));
    assert_eq!(s.last_outcome(), "grant_revoked");
}

#[tokio::test(flavor = "multi_thread")]
async fn revocation_is_enforced_on_the_next_request_embedded() {
    revocation_is_enforced_on_the_next_request(Backend::Embedded).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn revocation_is_enforced_on_the_next_request_anvil() {
    revocation_is_enforced_on_the_next_request(Backend::Anvil).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn nonces_and_audit_survive_a_restart() {
    let mut s = Server::start(Backend::Embedded).await;
    let signer = s.signer(&s.app);
    let headers = signer.sign("GET", &s.read_target("journal"), &[], s.clock_now(), 60).unwrap();
    let first = s.send(build("GET", &s.read_target("journal"), &headers.to_pairs(), vec![])).await;
    assert_eq!(first.status(), 200);
    let before = s.state().audit.last_seq().unwrap();
    s.restart().await;
    assert_eq!(s.state().audit.last_seq().unwrap(), before, "audit kept");
    let replay = s.send(build("GET", &s.read_target("journal"), &headers.to_pairs(), vec![])).await;
    assert_eq!(refusal(replay).await, (401, "replayed".to_owned()));
    assert_eq!(s.state().audit.last_seq().unwrap(), before + 1, "the replay is audited too");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_chain_beyond_the_staleness_bound_is_503() {
    let mut s = Server::start(Backend::Anvil).await;
    let signer = s.signer(&s.app);
    let ok = s.send(s.signed(&signer, "GET", &s.read_target("journal"), vec![])).await;
    assert_eq!(ok.status(), 200);
    s.kill_anvil();
    s.clock.advance(s.config.chain_staleness_secs_max + 1);
    let refused = s.send(s.signed(&signer, "GET", &s.read_target("journal"), vec![])).await;
    assert_eq!(refusal(refused).await, (503, "chain_unavailable".to_owned()));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_owner_submits_and_lists_grants_through_the_api() {
    let s = Server::start(Backend::Embedded).await;
    let p = s.contracts.permissions();
    let terms =
        hearth_core::GrantTerms { grantee: Wallet::random().address(), nonce: U256::from(1), ..s.grant_terms.clone() };
    let signature = p.sign_grant(&s.owner, &terms).unwrap();
    let body = serde_json::to_vec(&SignedGrant { terms: terms.clone(), signature }).unwrap();
    let submitted = s.send(s.signed(&s.signer(&s.owner), "POST", "/v1/owner/grants", body)).await;
    assert_eq!(submitted.status(), 201);
    let listed = s.send(s.signed(&s.signer(&s.owner), "GET", "/v1/owner/grants", vec![])).await;
    let grants: serde_json::Value = serde_json::from_slice(&body_bytes(listed).await).unwrap();
    assert_eq!(grants.as_array().unwrap().len(), 2);
    assert_eq!(grants[1]["grant_id"].as_str().unwrap().parse::<alloy_primitives::B256>().unwrap(), p.grant_id(&terms));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_openapi_document_lists_exactly_the_routes() {
    let s = Server::start(Backend::Embedded).await;
    let doc = s.send(build("GET", "/openapi.json", &[], vec![])).await;
    let doc: serde_json::Value = serde_json::from_slice(&body_bytes(doc).await).unwrap();
    let mut documented = BTreeSet::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            documented.insert((method.to_uppercase(), path.clone()));
        }
    }
    let routed: BTreeSet<_> = ROUTES.iter().map(|(m, p)| (m.to_string(), p.to_string())).collect();
    assert_eq!(documented, routed);
    // And each listed route exists in the router (not 404/405).
    for (method, path) in &routed {
        let concrete = path
            .replace("{scope}", "journal")
            .replace("{id}", "1")
            .replace("{address}", "0x0000000000000000000000000000000000000001");
        let response = s.send(build(method, &concrete, &[], vec![])).await;
        assert!(![404, 405].contains(&response.status().as_u16()) || path.contains("{id}"), "{method} {path}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn health_metrics_and_identity_answer() {
    let s = Server::start(Backend::Embedded).await;
    assert_eq!(s.send(build("GET", "/healthz", &[], vec![])).await.status(), 200);
    let _ = s.send(s.signed(&s.signer(&Wallet::random()), "GET", &s.read_target("journal"), vec![])).await;
    let metrics = String::from_utf8(body_bytes(s.send(build("GET", "/metrics", &[], vec![])).await).await).unwrap();
    assert!(metrics.contains("hearth_refusals_total{code=\"grant_wrong_grantee\"} 1"), "{metrics}");
    let identity: serde_json::Value =
        serde_json::from_slice(&body_bytes(s.send(build("GET", "/v1/identity", &[], vec![])).await).await).unwrap();
    assert_eq!(identity["server"].as_str().unwrap().parse::<alloy_primitives::Address>().unwrap(), s.server_address());
    assert_eq!(identity["chain_id"].as_u64().unwrap(), s.contracts.chain_id());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_owner_uploads_ciphertext_lists_reads_and_deletes_through_the_api() {
    let s = Server::start(Backend::Embedded).await;
    let owner = s.signer(&s.owner);
    let plain = b"written on the owner's device";
    let server_recipient = s.state().keys.age_recipient();
    let mut ciphertext = Vec::new();
    hearth_crypto::encrypt(&[server_recipient], &plain[..], &mut ciphertext).unwrap();
    let sha = alloy_primitives::B256::from_slice(&<sha2::Sha256 as sha2::Digest>::digest(&ciphertext));
    let uri = hearth_server::routes::owner::file_uri(s.server_address(), sha);
    let data = s.contracts.data();
    let nonce = data.nonce(s.owner.address()).await.unwrap();
    let registration = data.sign_add_file(&s.owner, &uri, sha, "notes", nonce).unwrap();
    let target = format!("/v1/owner/files?scope=notes&name=n.txt&nonce={nonce}&registration={registration}");
    let added = s.send(s.signed(&owner, "POST", &target, ciphertext.clone())).await;
    assert_eq!(added.status(), 201, "{:?}", String::from_utf8_lossy(&body_bytes(added).await));
    let listed = s.send(s.signed(&owner, "GET", "/v1/owner/files?scope=notes", vec![])).await;
    let files: serde_json::Value = serde_json::from_slice(&body_bytes(listed).await).unwrap();
    assert_eq!(files.as_array().unwrap().len(), 1);
    let id = files[0]["id"].as_u64().unwrap();
    assert!(files[0]["chain_file_id"].as_u64().is_some(), "registered in DataRegistry");
    let read = s.send(s.signed(&owner, "GET", &format!("/v1/owner/files/{id}"), vec![])).await;
    assert_eq!(body_bytes(read).await, ciphertext, "the owner gets the ciphertext back");
    // An upload the server cannot open is refused and nothing is stored.
    let mut foreign = Vec::new();
    hearth_crypto::encrypt(&[hearth_crypto::age::x25519::Identity::generate().to_public()], &plain[..], &mut foreign)
        .unwrap();
    let refused = s.send(s.signed(&owner, "POST", &target, foreign)).await;
    assert_eq!(refusal(refused).await, (400, "invalid_ciphertext".to_owned()));
    let deleted = s.send(s.signed(&owner, "DELETE", &format!("/v1/owner/files/{id}"), vec![])).await;
    assert_eq!(deleted.status(), 200);
    let audit = s.send(s.signed(&owner, "GET", "/v1/audit", vec![])).await;
    assert_eq!(audit.status(), 200);
}
