//! A server with one owner, one file in `journal`, a registered app holding a READ grant.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use alloy_primitives::{Address, B256, U256};
use axum::body::Body;
use axum::http::{Request, Response};
use hearth_chain::anvil::Anvil;
use hearth_chain::{Contracts, EmbeddedChain, EmbeddedConfig, Wallet, deploy_suite};
use hearth_core::{Access, Clock, GrantTerms, ManualClock, SystemClock};
use hearth_crypto::ServerKeys;
use hearth_crypto::age::x25519::Identity;
use hearth_sandbox::images::ImageStore;
use hearth_sandbox::images::example::build_example_image;
use hearth_server::auth::RequestSigner;
use hearth_server::state::{AppState, Parts};
use hearth_server::{ServeConfig, router};
use hearth_store::{NewFile, Store, StoreConfig};
use tower::ServiceExt;

pub const PLAIN: &[u8] = b"dear diary, today the permissions held";

pub struct Server {
    pub dir: tempfile::TempDir,
    pub clock: ManualClock,
    state: Option<Arc<AppState>>,
    pub contracts: Contracts,
    pub owner: Wallet,
    pub app: Wallet,
    pub app_identity: Identity,
    pub grant: B256,
    pub grant_terms: GrantTerms,
    pub file_id: u64,
    pub config: ServeConfig,
    _anvil: Option<Anvil>,
}

pub enum Backend {
    Embedded,
    Anvil,
}

async fn contracts(backend: &Backend, dir: &Path, clock: &ManualClock) -> (Contracts, Option<Anvil>, Wallet) {
    match backend {
        Backend::Embedded => {
            let config = EmbeddedConfig { clock: Arc::new(clock.clone()), ..EmbeddedConfig::default() };
            let chain = EmbeddedChain::open(&dir.join("chain"), config).unwrap();
            let d = chain.deployment();
            (Contracts::connect(Arc::new(chain), d, None).await.unwrap(), None, Wallet::random())
        }
        Backend::Anvil => {
            let anvil = Anvil::start().unwrap();
            let chain = anvil.chain().unwrap();
            let d = deploy_suite(&chain, &anvil.dev_wallet()).await.unwrap();
            let c = Contracts::connect(Arc::new(chain), d, None).await.unwrap();
            let relayer = anvil.dev_wallet();
            (c, Some(anvil), relayer)
        }
    }
}

impl Server {
    pub async fn start(backend: Backend) -> Server {
        Server::start_with(backend, ServeConfig::default()).await
    }

    pub async fn start_with(backend: Backend, config: ServeConfig) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::new(SystemClock.now_secs());
        let (contracts, anvil, _) = contracts(&backend, dir.path(), &clock).await;
        Server::start_in(dir, clock, contracts, anvil, config, "http://test").await
    }

    /// Another server, with its own owner and keys, on `other`'s (embedded) chain and
    /// clock, registered in `ServerRegistry` at `url`.
    pub async fn start_beside(other: &Server, config: ServeConfig, url: &str) -> Server {
        let dir = tempfile::tempdir().unwrap();
        Server::start_in(dir, other.clock.clone(), other.contracts.clone(), None, config, url).await
    }

    async fn start_in(
        dir: tempfile::TempDir,
        clock: ManualClock,
        contracts: Contracts,
        anvil: Option<Anvil>,
        config: ServeConfig,
        url: &str,
    ) -> Server {
        let keys = ServerKeys::generate();
        hearth_crypto::write_key_file(&dir.path().join("server.key"), &keys, None).unwrap();
        let server = Wallet::from_secret_bytes(keys.secp256k1_secret()).unwrap();
        if let Some(a) = &anvil {
            a.fund(server.address()).await.unwrap();
        }
        let owner = Wallet::random();
        let owner_identity = Identity::generate();
        contracts.servers().register(&server, &server, &keys.age_recipient().to_string(), url).await.unwrap();
        contracts.servers().set_trust_signed(&server, &owner, server.address(), true).await.unwrap();

        let store =
            Store::open(&StoreConfig { data_dir: dir.path().to_owned(), ..StoreConfig::default() }).await.unwrap();
        let mut ciphertext = Vec::new();
        hearth_crypto::encrypt(&[keys.age_recipient(), owner_identity.to_public()], PLAIN, &mut ciphertext).unwrap();
        let staged = store.stage(&ciphertext[..]).await.unwrap();
        let file = store
            .commit(
                staged,
                NewFile {
                    scope: "journal".into(),
                    name: "diary.txt".into(),
                    chain_file_id: None,
                    created_at: clock.now_secs(),
                },
            )
            .await
            .unwrap();

        let app = Wallet::random();
        let app_identity = Identity::generate();
        contracts
            .apps()
            .register(&server, &app, &app_identity.to_public().to_string(), "reader", "http://app")
            .await
            .unwrap();
        let now = clock.now_secs();
        let grant_terms = GrantTerms {
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
        let sig = contracts.permissions().sign_grant(&owner, &grant_terms).unwrap();
        let (grant, _) = contracts.permissions().submit_grant(&server, &grant_terms, sig).await.unwrap();

        let parts = Parts {
            config: config.clone(),
            data_dir: dir.path().to_owned(),
            keys,
            owner: owner.address(),
            owner_recipient: owner_identity.to_public().to_string(),
            contracts: contracts.clone(),
            store,
            clock: Arc::new(clock.clone()),
        };
        let state = Arc::new(AppState::open(parts).unwrap());
        hearth_server::jobs::resume(&state);
        let state = Some(state);
        Server {
            dir,
            clock,
            state,
            contracts,
            owner,
            app,
            app_identity,
            grant,
            grant_terms,
            file_id: file.id,
            config,
            _anvil: anvil,
        }
    }

    /// Drops the state (closing its stores) and opens it again on the same directory.
    pub async fn restart(&mut self) {
        let old = self.state.take().unwrap();
        let (owner, owner_recipient) = (old.owner, old.owner_recipient.clone());
        assert_eq!(Arc::strong_count(&old), 1, "no request may hold the state across a restart");
        drop(old);
        let keys = hearth_crypto::read_key_file(&self.dir.path().join("server.key"), None).unwrap();
        let store =
            Store::open(&StoreConfig { data_dir: self.dir.path().to_owned(), ..StoreConfig::default() }).await.unwrap();
        let parts = Parts {
            config: self.config.clone(),
            data_dir: self.dir.path().to_owned(),
            keys,
            owner,
            owner_recipient,
            contracts: self.contracts.clone(),
            store,
            clock: Arc::new(self.clock.clone()),
        };
        let state = Arc::new(AppState::open(parts).unwrap());
        hearth_server::jobs::resume(&state);
        self.state = Some(state);
    }

    /// Stops the anvil node behind the rpc backend.
    pub fn kill_anvil(&mut self) {
        self._anvil.take();
    }

    /// Makes this server a collective node (before any job holds the state).
    pub fn set_collective(&mut self, collective: hearth_chain::Collective) {
        let state = Arc::get_mut(self.state.as_mut().unwrap()).expect("no job holds the state yet");
        state.collective = Some(collective);
    }

    pub fn state(&self) -> &Arc<AppState> {
        self.state.as_ref().unwrap()
    }

    pub fn server_address(&self) -> Address {
        self.state().server.address()
    }

    pub fn signer(&self, wallet: &Wallet) -> RequestSigner {
        RequestSigner::new(wallet.clone(), self.server_address(), self.contracts.chain_id())
    }

    pub fn signed(&self, signer: &RequestSigner, method: &str, target: &str, body: Vec<u8>) -> Request<Body> {
        let headers = signer.sign(method, target, &body, self.clock.now_secs(), 60).unwrap();
        build(method, target, &headers.to_pairs(), body)
    }

    pub async fn send(&self, request: Request<Body>) -> Response<Body> {
        router(self.state().clone()).oneshot(request).await.unwrap()
    }

    pub fn read_target(&self, scope: &str) -> String {
        format!("/v1/data/{scope}/{}?grant={}", self.file_id, self.grant)
    }

    /// Imports operation `name` (an example in `examples/operations`, or `testop`) into
    /// this server's image store; returns its digest.
    pub fn import(&self, name: &str) -> B256 {
        let images = ImageStore::open(&self.dir.path().join(hearth_server::jobs::IMAGES_DIR)).unwrap();
        images.import(&operation_image(name)).unwrap().digest
    }

    /// Submits a COMPUTE grant from the owner to `app` for `operations` over `journal`.
    pub async fn compute_grant(&self, app: &Wallet, operations: Vec<B256>, params_hash: B256) -> B256 {
        let now = self.clock.now_secs();
        let p = self.contracts.permissions();
        let terms = GrantTerms {
            grantor: self.owner.address(),
            grantee: app.address(),
            scopes: vec!["journal".into()],
            access: Access::Compute,
            operations,
            params_hash,
            not_before: now - 60,
            expires_at: now + 3600,
            nonce: p.nonce(self.owner.address()).await.unwrap(),
        };
        let sig = p.sign_grant(&self.owner, &terms).unwrap();
        p.submit_grant(&self.state().server, &terms, sig).await.unwrap().0
    }

    pub fn last_outcome(&self) -> String {
        let last = self.state().audit.last_seq().unwrap();
        self.state().audit.records(last - 1, 1).unwrap()[0].entry.outcome.clone()
    }
}

/// The OCI image tar of operation `name`, built once per test binary.
pub fn operation_image(name: &str) -> PathBuf {
    static BUILT: Mutex<BTreeMap<String, PathBuf>> = Mutex::new(BTreeMap::new());
    let mut built = BUILT.lock().unwrap();
    if let Some(path) = built.get(name) {
        return path.clone();
    }
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let source = if name == "testop" {
        manifest.join("tests/ops/testop.rs")
    } else {
        manifest.join(format!("../../examples/operations/{name}.rs"))
    };
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("server-operations");
    let path = build_example_image(&source, &out).unwrap();
    built.insert(name.to_owned(), path.clone());
    path
}

pub fn build(method: &str, target: &str, headers: &[(&'static str, String)], body: Vec<u8>) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(target);
    for (name, value) in headers {
        builder = builder.header(*name, value);
    }
    builder.body(Body::from(body)).unwrap()
}

pub async fn body_bytes(response: Response<Body>) -> Vec<u8> {
    axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap().to_vec()
}

/// Status and `code` of an error response.
pub async fn refusal(response: Response<Body>) -> (u16, String) {
    let status = response.status().as_u16();
    let v: serde_json::Value = serde_json::from_slice(&body_bytes(response).await).unwrap();
    (status, v["code"].as_str().unwrap_or_default().to_owned())
}
