//! API benchmark: a signed, permission-checked, audited 4 KiB read
//! (`GET /v1/data/{scope}/{id}?grant=…`, re-encrypted to the app) over HTTP on loopback,
//! 64 concurrent clients, with a warm and a cold permission cache. Prints throughput and
//! p50/p99 latency. Run with `bench/api.sh`.

mod support;

use std::time::{Duration, Instant};

use alloy_primitives::{B256, U256};
use hearth_chain::Wallet;
use hearth_chain::anvil::Anvil;
use hearth_core::{Access, Clock, GrantTerms, SystemClock};
use hearth_crypto::age::x25519::Identity;
use hearth_server::ServeConfig;
use hearth_server::auth::RequestSigner;
use hearth_store::NewFile;

/// Concurrent clients.
const CLIENTS: usize = 64;
/// Requests per client per run.
const REQUESTS_PER_CLIENT: usize = 40;
/// Bytes of the file read.
const FILE_BYTES: usize = 4096;

struct Setup {
    url: String,
    signer: RequestSigner,
    target: String,
    _dir: tempfile::TempDir,
    stop: tokio::sync::oneshot::Sender<()>,
}

async fn setup(permission_cache: bool, anvil: Option<&Anvil>) -> Setup {
    let dir = tempfile::tempdir().expect("tempdir");
    let node = support::node(dir.path(), anvil).await;
    let (contracts, server, owner) = (node.contracts.clone(), node.server.clone(), node.owner.clone());
    let mut ciphertext = Vec::new();
    let recipients = [node.keys.age_recipient(), node.owner_identity.to_public()];
    hearth_crypto::encrypt(&recipients, &vec![7u8; FILE_BYTES][..], &mut ciphertext).expect("encrypt");
    let staged = node.store.stage(&ciphertext[..]).await.expect("stage");
    let now = SystemClock.now_secs();
    let new = NewFile { scope: "journal".into(), name: "4k".into(), chain_file_id: None, created_at: now };
    let file = node.store.commit(staged, new).await.expect("commit");
    let app = Wallet::random();
    let app_recipient = Identity::generate().to_public().to_string();
    contracts.apps().register(&server, &app, &app_recipient, "bench", "").await.expect("app");
    let terms = GrantTerms {
        grantor: owner.address(),
        grantee: app.address(),
        scopes: vec!["journal".into()],
        access: Access::Read,
        operations: vec![],
        params_hash: B256::ZERO,
        not_before: now - 60,
        expires_at: now + 3600,
        nonce: U256::ZERO,
    };
    let sig = contracts.permissions().sign_grant(&owner, &terms).expect("sign");
    let (grant, _) = contracts.permissions().submit_grant(&server, &terms, sig).await.expect("grant");
    let config = ServeConfig { permission_cache, ..support::config() };
    let state = support::state(node, dir.path(), config, |_| {});
    let (url, stop) = support::serve(state).await;
    let signer = RequestSigner::new(app, server.address(), contracts.chain_id());
    Setup { url, signer, target: format!("/v1/data/journal/{}?grant={grant}", file.id), _dir: dir, stop }
}

async fn run(setup: &Setup) -> (f64, Duration, Duration) {
    let http = reqwest::Client::new();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CLIENTS {
        let (http, url, target, signer) = (http.clone(), setup.url.clone(), setup.target.clone(), setup.signer.clone());
        tasks.push(tokio::spawn(async move {
            let mut samples = Vec::with_capacity(REQUESTS_PER_CLIENT);
            for _ in 0..REQUESTS_PER_CLIENT {
                let one = Instant::now();
                let headers = signer.sign("GET", &target, &[], SystemClock.now_secs(), 60).expect("sign");
                let mut request = http.get(format!("{url}{target}"));
                for (name, value) in headers.to_pairs() {
                    request = request.header(name, value);
                }
                let response = request.send().await.expect("send");
                assert_eq!(response.status(), 200, "every read is granted");
                let body = response.bytes().await.expect("body");
                assert!(body.len() > FILE_BYTES, "an age file around the 4 KiB");
                samples.push(one.elapsed());
            }
            samples
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("client"));
    }
    let elapsed = started.elapsed();
    all.sort();
    (all.len() as f64 / elapsed.as_secs_f64(), all[all.len() / 2], all[all.len() * 99 / 100])
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    println!(
        "signed, permission-checked, audited 4 KiB reads; {CLIENTS} concurrent clients x {REQUESTS_PER_CLIENT} requests, HTTP on loopback"
    );
    let anvil = Anvil::start().expect("anvil (run `npm --prefix contracts install`)");
    let cases = [
        ("embedded chain, warm cache", true, None),
        ("embedded chain, cold cache", false, None),
        ("anvil rpc, warm cache", true, Some(&anvil)),
        ("anvil rpc, cold cache", false, Some(&anvil)),
    ];
    for (name, cache, anvil) in cases {
        let setup = setup(cache, anvil).await;
        let _ = run(&setup).await; // warm-up round (connections, page cache)
        let (rate, p50, p99) = run(&setup).await;
        println!("  {name:<27} {rate:>8.0} req/s   p50 {:>7.2} ms   p99 {:>7.2} ms", ms(p50), ms(p99));
        let _ = setup.stop.send(());
    }
}
