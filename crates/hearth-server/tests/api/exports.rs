//! Export to a requester's heavy node: a collective node re-encrypts its contributions to
//! the destination the collective approved and delivers them over real HTTP; the
//! destination keeps them; only the destination's identity opens them. Every refusal on
//! either side has its own code and keeps nothing.

use std::collections::BTreeSet;

use alloy_primitives::{Address, B256};
use hearth_chain::Wallet;
use hearth_core::Clock;
use hearth_crypto::age::x25519::Identity;
use hearth_crypto::{CryptoError, ExposeSecret, OWNER_KEY_MESSAGE};
use hearth_server::ServeConfig;
use hearth_server::config::ImportSource;
use hearth_server::routes::exports::{ExportReport, imports_scope};
use serde_json::json;
use tokio::io::AsyncReadExt;

use crate::collective::{Dao, contribution, make_collective_node, send_contribution};
use crate::harness::{Server, body_bytes, refusal};

/// The code the requester wants to run on its own node (the export does not run it).
const EXPORTED: B256 = B256::repeat_byte(0x77);

struct Setup {
    node: Server,
    dao: Dao,
    destination: Server,
    plaintexts: BTreeSet<Vec<u8>>,
}

/// A collective node holding three members' contributions, and a destination server
/// listening on a real port that accepts exports from this collective (and, to test its
/// checks, from `also_accept`).
async fn setup(also_accept: Option<Address>) -> Setup {
    let mut node = Server::start(crate::harness::Backend::Embedded).await;
    let dao = make_collective_node(&mut node).await;
    let recipient = node.state().keys.age_recipient().to_string();
    let mut plaintexts = BTreeSet::new();
    for (i, m) in dao.members.iter().enumerate() {
        let text = format!("member {i} keeps {} words here", i + 3).into_bytes();
        let (body, target) = contribution(&node, m, &format!("c{i}.txt"), &text, &recipient).await;
        assert_eq!(send_contribution(&node, m, &target, body).await, (201, String::new()));
        plaintexts.insert(text);
    }
    let registry = dao.collective.code().address();
    let mut imports_from = vec![ImportSource { registry, node: node.server_address() }];
    imports_from.extend(also_accept.map(|other| ImportSource { registry, node: other }));
    let destination = serve_beside(&node, ServeConfig { imports_from, ..ServeConfig::default() }).await;
    Setup { node, dao, destination, plaintexts }
}

/// A server on `node`'s chain, serving HTTP on a free local port it is registered at.
async fn serve_beside(node: &Server, config: ServeConfig) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = Server::start_beside(node, config, &url).await;
    let app = hearth_server::router(server.state().clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    server
}

async fn export(node: &Server, operation: B256) -> (u16, serde_json::Value) {
    let body = serde_json::to_vec(&json!({ "operation": operation })).unwrap();
    let response = node.send(node.signed(&node.signer(&node.owner), "POST", "/v1/exports", body)).await;
    let status = response.status().as_u16();
    (status, serde_json::from_slice(&body_bytes(response).await).unwrap())
}

async fn kept(server: &Server, operation: B256) -> Vec<Vec<u8>> {
    let store = &server.state().store;
    let mut out = Vec::new();
    for meta in store.list(Some(&imports_scope(operation)), 0, 1000).await.unwrap() {
        let (_, mut blob) = store.open_blob(meta.id).await.unwrap();
        let mut ciphertext = Vec::new();
        blob.read_to_end(&mut ciphertext).await.unwrap();
        out.push(ciphertext);
    }
    out
}

fn open(identity: &Identity, ciphertext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let mut plain = Vec::new();
    hearth_crypto::decrypt(identity, ciphertext, &mut plain).map(|_| plain)
}

/// `age -d -i IDENTITY` on `ciphertext`, with the real age CLI.
fn age_cli_opens(identity: &Identity, ciphertext: &[u8]) -> Option<Vec<u8>> {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("identity.txt");
    std::fs::write(&key, hearth_crypto::identity_to_string(identity).expose_secret()).unwrap();
    let input = dir.path().join("file.age");
    std::fs::write(&input, ciphertext).unwrap();
    let out = std::process::Command::new("age").arg("-d").arg("-i").arg(&key).arg(&input).output().unwrap();
    out.status.success().then_some(out.stdout)
}

#[tokio::test(flavor = "multi_thread")]
async fn an_approved_export_opens_only_with_the_destinations_identity() {
    let Setup { node, dao, destination, plaintexts } = setup(None).await;
    dao.approve(&node, EXPORTED, Some(destination.server_address())).await;

    let (status, report) = export(&node, EXPORTED).await;
    assert_eq!(status, 200, "{report}");
    let report: ExportReport = serde_json::from_value(report).unwrap();
    assert_eq!(report.destination, destination.server_address());
    assert_eq!(report.scope, imports_scope(EXPORTED));
    assert_eq!(report.files.len(), 3);

    let files = kept(&destination, EXPORTED).await;
    assert_eq!(files.len(), 3, "the destination imported every contribution");
    let own = destination.state().keys.age_identity();
    let opened: BTreeSet<Vec<u8>> = files.iter().map(|c| open(own, c).unwrap()).collect();
    assert_eq!(opened, plaintexts, "the destination reads exactly the members' data");

    let node_identity = node.state().keys.age_identity();
    let member = &dao.members[0];
    let member_identity =
        hearth_crypto::owner_identity_from_signature(&member.sign_message(OWNER_KEY_MESSAGE.as_bytes()).unwrap())
            .unwrap();
    let stranger = Identity::generate();
    for ciphertext in &files {
        for (who, identity) in [("the node", node_identity), ("a member", &member_identity), ("a stranger", &stranger)]
        {
            assert!(
                matches!(open(identity, ciphertext), Err(CryptoError::NotForThisKey)),
                "{who}'s identity must not open an exported file"
            );
        }
    }
    // The same with the age CLI: the destination's identity opens it, the node's does not.
    let plain = age_cli_opens(own, &files[0]).expect("age -d with the destination's identity");
    assert!(plaintexts.contains(&plain));
    assert_eq!(age_cli_opens(node_identity, &files[0]), None, "age -d with the node's identity fails");

    let started = node.records_for("export.start");
    assert_eq!(started.len(), 1, "the export was audited before anything was sent");
    assert!(started[0].seq < node.records_for("export.deliver")[0].seq);
    assert_eq!(started[0].entry.files.len(), 3);
    let exports = node.records_for("export.deliver");
    assert_eq!(exports.len(), 1);
    assert_eq!(exports[0].entry.outcome, "granted");
    assert_eq!(exports[0].entry.code_digest, Some(EXPORTED));
    assert_eq!(exports[0].entry.files.len(), 3, "the node's audit lists every file it sent");
    let imports = destination.records_for("import.add");
    assert_eq!(imports.len(), 3);
    assert!(imports.iter().all(|r| r.entry.outcome == "granted" && r.entry.actor == node.server_address()));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_node_exports_only_what_the_collective_approved_for_export() {
    let Setup { node, dao, destination, .. } = setup(None).await;
    assert_eq!(export(&node, EXPORTED).await.1["code"], "code_not_approved");

    let runs_here = B256::repeat_byte(0x11);
    dao.approve(&node, runs_here, None).await;
    assert_eq!(export(&node, runs_here).await.1["code"], "not_an_export");

    let nowhere = B256::repeat_byte(0x22);
    dao.approve(&node, nowhere, Some(Address::repeat_byte(0xee))).await;
    let (status, refused) = export(&node, nowhere).await;
    assert_eq!((status, refused["code"].as_str()), (409, Some("destination_unregistered")));

    // A registered server that did not list this collective refuses the delivery.
    let unwilling = serve_beside(&node, ServeConfig::default()).await;
    let unasked = B256::repeat_byte(0x33);
    dao.approve(&node, unasked, Some(unwilling.server_address())).await;
    let (status, refused) = export(&node, unasked).await;
    assert_eq!((status, refused["code"].as_str()), (502, Some("delivery_refused")));
    assert!(refused["message"].as_str().unwrap().contains("import_not_expected"), "{refused}");
    assert!(kept(&unwilling, unasked).await.is_empty(), "nothing kept");

    dao.approve(&node, EXPORTED, Some(destination.server_address())).await;
    dao.revoke(&node, EXPORTED).await;
    assert_eq!(export(&node, EXPORTED).await.1["code"], "code_revoked");
    assert!(kept(&destination, EXPORTED).await.is_empty(), "a revoked export delivers nothing");

    let records = node.records_for("export.deliver");
    let outcomes: Vec<&str> = records.iter().map(|r| r.entry.outcome.as_str()).collect();
    assert!(outcomes.iter().all(|o| *o != "granted"), "every refusal is audited as such: {outcomes:?}");
    let refused = records.iter().find(|r| r.entry.outcome == "delivery_refused").unwrap();
    assert_eq!(refused.entry.code_digest, Some(unasked), "a refusal names the code it was for");
}

/// A delivery as a collective node makes it: `ciphertext` signed by `sender` for `to`.
async fn deliver(to: &Server, sender: &Wallet, registry: Address, operation: B256, body: Vec<u8>) -> (u16, String) {
    let target = format!("/v1/imports?registry={registry}&operation={operation}&source={}", B256::repeat_byte(0x5a));
    let response = to.send(to.signed(&to.signer(sender), "POST", &target, body)).await;
    match response.status().as_u16() {
        201 => (201, String::new()),
        _ => refusal(response).await,
    }
}

fn encrypt_to(recipient: hearth_crypto::age::x25519::Recipient, plain: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    hearth_crypto::encrypt(&[recipient], plain, &mut out).unwrap();
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn the_destination_keeps_only_approved_deliveries_that_open_with_its_key() {
    let unregistered = Wallet::random();
    let Setup { node, dao, destination, .. } = setup(Some(unregistered.address())).await;
    let d = &destination;
    let registry = dao.collective.code().address();
    let sender = node.state().server.clone();
    let to_d = || encrypt_to(d.state().keys.age_recipient(), b"exported bytes");

    // Before any approval.
    assert_eq!(deliver(d, &sender, registry, EXPORTED, to_d()).await, (403, "export_not_approved".into()));
    dao.approve(&node, EXPORTED, Some(d.server_address())).await;

    // A collective or node this server did not list; a listed node that is not registered.
    let stranger = Wallet::random();
    assert_eq!(deliver(d, &stranger, registry, EXPORTED, to_d()).await, (403, "import_not_expected".into()));
    let elsewhere = Address::repeat_byte(0x42);
    assert_eq!(deliver(d, &sender, elsewhere, EXPORTED, to_d()).await, (403, "import_not_expected".into()));
    assert_eq!(deliver(d, &unregistered, registry, EXPORTED, to_d()).await, (403, "not_a_server".into()));

    // Approved to run on the node, or to go to another server: not an export to here.
    let runs_here = B256::repeat_byte(0x11);
    dao.approve(&node, runs_here, None).await;
    assert_eq!(deliver(d, &sender, registry, runs_here, to_d()).await, (403, "export_not_approved".into()));

    // Encrypted to another key, tampered after encryption, empty.
    let to_node = encrypt_to(node.state().keys.age_recipient(), b"for the node only");
    assert_eq!(deliver(d, &sender, registry, EXPORTED, to_node).await, (400, "wrong_recipient".into()));
    let mut tampered = to_d();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    assert_eq!(deliver(d, &sender, registry, EXPORTED, tampered).await, (400, "invalid_ciphertext".into()));
    assert_eq!(deliver(d, &sender, registry, EXPORTED, vec![]).await, (400, "empty_file".into()));

    // A good delivery is kept once; the same signed request again is a replay.
    let target = format!("/v1/imports?registry={registry}&operation={EXPORTED}&source={}", B256::repeat_byte(1));
    let body = to_d();
    let headers = d.signer(&sender).sign("POST", &target, &body, d.clock.now_secs(), 60).unwrap();
    let first = d.send(crate::harness::build("POST", &target, &headers.to_pairs(), body.clone())).await;
    assert_eq!(first.status().as_u16(), 201);
    let again = d.send(crate::harness::build("POST", &target, &headers.to_pairs(), body)).await;
    assert_eq!(refusal(again).await, (401, "replayed".into()));

    dao.revoke(&node, EXPORTED).await;
    assert_eq!(deliver(d, &sender, registry, EXPORTED, to_d()).await, (403, "export_revoked".into()));

    assert_eq!(kept(d, EXPORTED).await.len(), 1, "only the one good delivery was kept");
    let outcomes: Vec<String> = d.records_for("import.add").into_iter().map(|r| r.entry.outcome).collect();
    assert_eq!(outcomes.iter().filter(|o| *o == "granted").count(), 1, "each refusal audited: {outcomes:?}");
    assert_eq!(outcomes.len(), 11);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_destination_that_answers_without_end_is_cut_off() {
    let Setup { node, dao, .. } = setup(None).await;
    // A fault a real hearth server cannot make: a registered destination whose answer never
    // stops growing (a megabyte stands for it).
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let flood = axum::Router::new().route(
        "/v1/imports",
        axum::routing::post(|| async { (axum::http::StatusCode::CREATED, vec![b' '; 1024 * 1024]) }),
    );
    tokio::spawn(async move { axum::serve(listener, flood).await });
    let hostile = Wallet::random();
    let recipient = Identity::generate().to_public().to_string();
    node.contracts.servers().register(&node.state().server, &hostile, &recipient, &url).await.unwrap();
    dao.approve(&node, EXPORTED, Some(hostile.address())).await;

    let (status, refused) = export(&node, EXPORTED).await;
    assert_eq!((status, refused["code"].as_str()), (502, Some("destination_unreachable")), "{refused}");
    assert!(refused["message"].as_str().unwrap().contains("answered more than"), "{refused}");
    let audited = node.records_for("export.deliver");
    assert_eq!(audited.last().unwrap().entry.outcome, "destination_unreachable");
    assert!(audited.last().unwrap().entry.files.is_empty(), "no file counts as delivered");
}
