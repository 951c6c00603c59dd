//! Test harness: the same contract suite over the embedded chain (with a manual clock)
//! or a real anvil.

use std::sync::Arc;

use alloy_primitives::{Address, B256, U256};
use hearth_chain::anvil::Anvil;
use hearth_chain::{Contracts, EMBEDDED_CHAIN_ID, EmbeddedChain, EmbeddedConfig, Wallet, deploy_suite};
use hearth_core::{Access, Clock, GrantTerms, ManualClock, SystemClock};

/// Unix time the manual clock starts at (2026-01-01).
pub const T0: u64 = 1_767_225_600;

/// A chain with the suite deployed, plus the means to move its time.
pub struct Harness {
    pub contracts: Contracts,
    /// Pays for transactions (funded on anvil; gas is free on embedded).
    pub relayer: Wallet,
    clock: Option<ManualClock>,
    anvil: Option<Anvil>,
    _dir: Option<tempfile::TempDir>,
}

impl Harness {
    pub async fn embedded() -> Harness {
        let dir = tempfile::tempdir().expect("tempdir");
        let clock = ManualClock::new(T0);
        let config = EmbeddedConfig { chain_id: EMBEDDED_CHAIN_ID, clock: Arc::new(clock.clone()) };
        let chain = EmbeddedChain::open(dir.path(), config).expect("open embedded chain");
        let deployment = chain.deployment();
        let contracts =
            Contracts::connect(Arc::new(chain), deployment, Some(EMBEDDED_CHAIN_ID)).await.expect("connect");
        Harness { contracts, relayer: Wallet::random(), clock: Some(clock), anvil: None, _dir: Some(dir) }
    }

    pub async fn anvil() -> Harness {
        let anvil = Anvil::start().expect("start anvil (run `npm --prefix contracts install`)");
        let chain = anvil.chain().expect("rpc client");
        let deployer = anvil.dev_wallet();
        let deployment = deploy_suite(&chain, &deployer).await.expect("deploy suite");
        let contracts = Contracts::connect(Arc::new(chain), deployment, None).await.expect("connect");
        Harness { contracts, relayer: deployer, clock: None, anvil: Some(anvil), _dir: None }
    }

    /// Both backends, for tests that must hold on each.
    pub async fn both() -> [Harness; 2] {
        [Harness::embedded().await, Harness::anvil().await]
    }

    pub fn name(&self) -> String {
        self.contracts.chain().backend().to_string()
    }

    /// A new key that can send transactions on this chain.
    pub async fn wallet(&self) -> Wallet {
        let w = Wallet::random();
        if let Some(anvil) = &self.anvil {
            anvil.fund(w.address()).await.expect("fund");
        }
        w
    }

    /// The time views see now.
    pub async fn now(&self) -> u64 {
        match &self.clock {
            Some(clock) => clock.now_secs(),
            None => self.contracts.chain().block_timestamp().await.expect("timestamp").max(SystemClock.now_secs()),
        }
    }

    /// Moves chain time forward by `secs`.
    pub async fn advance(&self, secs: u64) {
        match (&self.clock, &self.anvil) {
            (Some(clock), _) => clock.advance(secs),
            (None, Some(anvil)) => anvil.advance(secs).await.expect("advance anvil"),
            (None, None) => unreachable!("a harness has a clock or an anvil"),
        }
    }
}

/// Compute terms from `grantor` to `grantee` valid from `now` for an hour.
pub fn terms(grantor: Address, grantee: Address, nonce: U256, now: u64) -> GrantTerms {
    GrantTerms {
        grantor,
        grantee,
        scopes: vec!["journal".into(), "messages.*".into()],
        access: Access::Compute,
        operations: vec![B256::repeat_byte(0xab)],
        params_hash: B256::ZERO,
        not_before: now.saturating_sub(60),
        expires_at: now + 3600,
        nonce,
    }
}

/// The operation digest [`terms`] lists.
pub fn op() -> B256 {
    B256::repeat_byte(0xab)
}
