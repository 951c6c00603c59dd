//! API benchmark: a signed, permission-checked, audited 4 KiB read
//! (`GET /v1/data/{scope}/{id}?grant=…`, re-encrypted to the app) over HTTP on loopback,
//! 64 concurrent clients, with a warm and a cold permission cache. Prints throughput and
//! p50/p99 latency. Run with `bench/api.sh`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy_primitives::{B256, U256};
use hearth_chain::anvil::Anvil;
use hearth_chain::{Contracts, EmbeddedChain, EmbeddedConfig, Wallet};
use hearth_core::{Access, Clock, GrantTerms, SystemClock};
use hearth_crypto::ServerKeys;
use hearth_crypto::age::x25519::Identity;
use hearth_server::ServeConfig;
use hearth_server::auth::RequestSigner;
use hearth_server::state::{AppState, Parts};
use hearth_store::{NewFile, Store, StoreConfig};

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
    let contracts = match anvil {
        None => {
            let chain = EmbeddedChain::open(&dir.path().join("chain"), EmbeddedConfig::default()).expect("chain");
            let deployment = chain.deployment();
            Contracts::connect(Arc::new(chain), deployment, None).await.expect("contracts")
        }
        Some(anvil) => {
            let chain = anvil.chain().expect("rpc");
            let deployment = hearth_chain::deploy_suite(&chain, &anvil.dev_wallet()).await.expect("deploy");
            Contracts::connect(Arc::new(chain), deployment, None).await.expect("contracts")
        }
    };
    let keys = ServerKeys::generate();
    let server = Wallet::from_secret_bytes(keys.secp256k1_secret()).expect("wallet");
    if let Some(anvil) = anvil {
        anvil.fund(server.address()).await.expect("fund");
    }
    let owner = Wallet::random();
    let owner_identity = Identity::generate();
    contracts
        .servers()
        .register(&server, &server, &keys.age_recipient().to_string(), "http://bench")
        .await
        .expect("register");
    contracts.servers().set_trust_signed(&server, &owner, server.address(), true).await.expect("trust");
    let store =
        Store::open(&StoreConfig { data_dir: dir.path().to_owned(), ..StoreConfig::default() }).await.expect("store");
    let mut ciphertext = Vec::new();
    hearth_crypto::encrypt(
        &[keys.age_recipient(), owner_identity.to_public()],
        &vec![7u8; FILE_BYTES][..],
        &mut ciphertext,
    )
    .expect("encrypt");
    let staged = store.stage(&ciphertext[..]).await.expect("stage");
    let now = SystemClock.now_secs();
    let file = store
        .commit(staged, NewFile { scope: "journal".into(), name: "4k".into(), chain_file_id: None, created_at: now })
        .await
        .expect("commit");
    let app = Wallet::random();
    contracts
        .apps()
        .register(&server, &app, &Identity::generate().to_public().to_string(), "bench", "")
        .await
        .expect("app");
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
    let config = ServeConfig {
        permission_cache,
        rate_per_app_per_sec: 1_000_000,
        rate_burst: 1_000_000,
        anchor_interval_secs: 3600,
        anchor_batch_min: 1_000_000,
        ..ServeConfig::default()
    };
    let parts = Parts {
        config,
        data_dir: dir.path().to_owned(),
        keys,
        owner: owner.address(),
        owner_recipient: owner_identity.to_public().to_string(),
        contracts: contracts.clone(),
        store,
        clock: Arc::new(SystemClock),
    };
    let state = Arc::new(AppState::open(parts).expect("state"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(hearth_server::serve(state, listener, async move {
        let _ = stopped.await;
    }));
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
