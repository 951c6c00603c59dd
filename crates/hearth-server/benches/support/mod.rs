//! What the benchmarks share: a node (keys, chain, registered and trusted by a fresh
//! owner, an empty store) and a running server on loopback.

#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;

use hearth_chain::anvil::Anvil;
use hearth_chain::{Contracts, EmbeddedChain, EmbeddedConfig, Wallet};
use hearth_core::SystemClock;
use hearth_crypto::ServerKeys;
use hearth_crypto::age::x25519::Identity;
use hearth_server::ServeConfig;
use hearth_server::state::{AppState, Parts};
use hearth_store::{Store, StoreConfig};

/// A server's pieces before its state is opened.
pub struct Node {
    pub contracts: Contracts,
    pub keys: ServerKeys,
    pub server: Wallet,
    pub owner: Wallet,
    pub owner_identity: Identity,
    pub store: Store,
}

/// A node in `dir` on the embedded chain, or on `anvil` (suite deployed, server funded).
pub async fn node(dir: &Path, anvil: Option<&Anvil>) -> Node {
    let contracts = match anvil {
        None => {
            let chain = EmbeddedChain::open(&dir.join("chain"), EmbeddedConfig::default()).expect("chain");
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
    let servers = contracts.servers();
    servers.register(&server, &server, &keys.age_recipient().to_string(), "http://bench").await.expect("register");
    servers.set_trust_signed(&server, &owner, server.address(), true).await.expect("trust");
    let store = Store::open(&StoreConfig { data_dir: dir.to_owned(), ..StoreConfig::default() }).await.expect("store");
    Node { contracts, keys, server, owner, owner_identity: Identity::generate(), store }
}

/// Settings that keep rate limits and anchoring out of the measurement.
pub fn config() -> ServeConfig {
    ServeConfig {
        rate_per_app_per_sec: 1_000_000,
        rate_burst: 1_000_000,
        anchor_interval_secs: 3600,
        anchor_batch_min: 1_000_000,
        ..ServeConfig::default()
    }
}

/// Opens the state of `node` in `dir`; `adjust` may set what `open` leaves unset.
pub fn state(node: Node, dir: &Path, config: ServeConfig, adjust: impl FnOnce(&mut AppState)) -> Arc<AppState> {
    let parts = Parts {
        config,
        data_dir: dir.to_owned(),
        keys: node.keys,
        owner: node.owner.address(),
        owner_recipient: node.owner_identity.to_public().to_string(),
        contracts: node.contracts,
        store: node.store,
        clock: Arc::new(SystemClock),
    };
    let mut state = AppState::open(parts).expect("state");
    adjust(&mut state);
    Arc::new(state)
}

/// Serves `state` on a free loopback port; returns its URL and what stops it.
pub async fn serve(state: Arc<AppState>) -> (String, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(hearth_server::serve(state, listener, async move {
        let _ = stopped.await;
    }));
    (url, stop)
}
