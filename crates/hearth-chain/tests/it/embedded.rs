//! The embedded backend's own promises: state survives a restart of the process, a
//! corrupted journal stops the open (nothing is reset), reverts are not mined, and a
//! read-only snapshot sees the chain while another handle holds it open.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use alloy_primitives::U256;
use hearth_chain::{ChainError, Contracts, EMBEDDED_CHAIN_ID, EmbeddedChain, EmbeddedConfig, JOURNAL_FILE, Wallet};
use hearth_core::{Access, ManualClock};

use crate::harness::{T0, op, terms};

const PHASE_ENV: &str = "HEARTH_TEST_RESTART_PHASE";
const DIR_ENV: &str = "HEARTH_TEST_RESTART_DIR";

fn config(clock: &ManualClock) -> EmbeddedConfig {
    EmbeddedConfig { chain_id: EMBEDDED_CHAIN_ID, clock: Arc::new(clock.clone()) }
}

async fn open(dir: &Path, clock: &ManualClock) -> Result<Contracts, ChainError> {
    let chain = EmbeddedChain::open(dir, config(clock))?;
    let deployment = chain.deployment();
    Contracts::connect(Arc::new(chain), deployment, Some(EMBEDDED_CHAIN_ID)).await
}

/// Fixed keys so the writing and the reading process agree.
fn owner() -> Wallet {
    Wallet::from_hex("0x1111111111111111111111111111111111111111111111111111111111111111").unwrap()
}
fn app() -> Wallet {
    Wallet::from_hex("0x2222222222222222222222222222222222222222222222222222222222222222").unwrap()
}

/// Runs twice: this process spawns itself (same test, phase "write") to add a grant and
/// exit; then this process opens the same directory and must find the grant.
#[tokio::test]
async fn a_grant_survives_a_process_restart() {
    let clock = ManualClock::new(T0);
    let t = terms(owner().address(), app().address(), U256::ZERO, T0);
    if std::env::var(PHASE_ENV).as_deref() == Ok("write") {
        let dir = std::env::var(DIR_ENV).expect("directory from the parent");
        let contracts = open(Path::new(&dir), &clock).await.expect("open");
        let p = contracts.permissions();
        let sig = p.sign_grant(&owner(), &t).unwrap();
        p.submit_grant(&Wallet::random(), &t, sig).await.expect("submit");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let status = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "embedded::a_grant_survives_a_process_restart", "--nocapture"])
        .env(PHASE_ENV, "write")
        .env(DIR_ENV, dir.path())
        .status()
        .expect("spawn writer");
    assert!(status.success(), "the writing process failed");
    let contracts = open(dir.path(), &clock).await.expect("reopen");
    let p = contracts.permissions();
    let id = p.grant_id(&t);
    assert_eq!(p.grant(id).await.expect("grant after restart").terms, t);
    assert!(p.is_active(id, app().address(), "journal", Access::Compute, op()).await.unwrap());
    assert_eq!(contracts.chain().block_number().await.unwrap(), 1);
    assert_eq!(p.nonce(owner().address()).await.unwrap(), U256::from(1));
}

#[tokio::test]
async fn state_after_reopen_equals_state_before() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let (owner, app) = (Wallet::random(), Wallet::random());
    let before = {
        let c = open(dir.path(), &clock).await.unwrap();
        let p = c.permissions();
        for i in 0..5u64 {
            clock.advance(7);
            let t = terms(owner.address(), app.address(), U256::from(i), clock.now());
            let sig = p.sign_grant(&owner, &t).unwrap();
            p.submit_grant(&Wallet::random(), &t, sig).await.unwrap();
        }
        let id = p.grant_id(&terms(owner.address(), app.address(), U256::from(2), T0 + 21));
        p.revoke(&owner, id).await.unwrap();
        let events = p.events(0).await.unwrap();
        (
            c.chain().block_number().await.unwrap(),
            c.chain().block_timestamp().await.unwrap(),
            events.len(),
            p.grant(id).await.unwrap(),
        )
    };
    clock.advance(1000);
    let c = open(dir.path(), &clock).await.unwrap();
    let p = c.permissions();
    let id = p.grant_id(&terms(owner.address(), app.address(), U256::from(2), T0 + 21));
    let after = (
        c.chain().block_number().await.unwrap(),
        c.chain().block_timestamp().await.unwrap(),
        p.events(0).await.unwrap().len(),
        p.grant(id).await.unwrap(),
    );
    assert_eq!(before, after);
    assert_eq!(after.0, 6);
    assert!(after.3.revoked_at.is_some());
}

trait Now {
    fn now(&self) -> u64;
}
impl Now for ManualClock {
    fn now(&self) -> u64 {
        hearth_core::Clock::now_secs(self)
    }
}

async fn one_grant(dir: &Path) {
    let clock = ManualClock::new(T0);
    let c = open(dir, &clock).await.unwrap();
    let (owner, app) = (Wallet::random(), Wallet::random());
    let t = terms(owner.address(), app.address(), U256::ZERO, T0);
    let sig = c.permissions().sign_grant(&owner, &t).unwrap();
    c.permissions().submit_grant(&Wallet::random(), &t, sig).await.unwrap();
}

#[tokio::test]
async fn a_snapshot_reads_a_chain_held_open_elsewhere_and_refuses_transactions() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let held = open(dir.path(), &clock).await.unwrap();
    let busy = EmbeddedChain::open(dir.path(), config(&clock)).expect_err("held");
    assert!(matches!(busy, ChainError::Busy { .. }), "{busy}");
    let (owner, app) = (Wallet::random(), Wallet::random());
    let t = terms(owner.address(), app.address(), U256::ZERO, T0);
    let sig = held.permissions().sign_grant(&owner, &t).unwrap();
    held.permissions().submit_grant(&Wallet::random(), &t, sig).await.unwrap();

    let snapshot = EmbeddedChain::snapshot(dir.path(), config(&clock)).expect("no lock needed");
    let deployment = snapshot.deployment();
    let view = Contracts::connect(Arc::new(snapshot), deployment, Some(EMBEDDED_CHAIN_ID)).await.unwrap();
    assert_eq!(view.chain().block_number().await.unwrap(), 1);
    let id = view.permissions().grant_id(&t);
    let seen = view.permissions().grant(id).await.unwrap();
    assert_eq!(seen.terms.grantee, app.address(), "the snapshot sees the grant");
    let err = view.permissions().revoke(&owner, id).await.expect_err("read-only");
    assert!(err.to_string().contains("read-only"), "{err}");
    assert_eq!(held.chain().block_number().await.unwrap(), 1, "the holder is untouched");

    let empty = tempfile::tempdir().unwrap();
    let err = EmbeddedChain::snapshot(empty.path(), config(&clock)).expect_err("nothing to read");
    assert!(err.to_string().contains("no embedded chain"), "{err}");
    assert!(!empty.path().join(JOURNAL_FILE).exists(), "a snapshot creates nothing");
}

#[tokio::test]
async fn a_corrupted_journal_is_an_error_and_is_left_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    one_grant(dir.path()).await;
    let path = dir.path().join(JOURNAL_FILE);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    // Flip one hex digit inside the signed transaction of block 1.
    let record = &mut lines[1];
    let at = record.find("\"tx\":\"0x").unwrap() + 40;
    let flipped = if &record[at..at + 1] == "0" { "1" } else { "0" };
    record.replace_range(at..at + 1, flipped);
    let corrupted = lines.join("\n") + "\n";
    std::fs::write(&path, &corrupted).unwrap();
    let err = EmbeddedChain::open(dir.path(), EmbeddedConfig::default()).expect_err("must refuse");
    let message = err.to_string();
    assert!(matches!(err, ChainError::Corrupted { .. }), "{message}");
    assert!(message.contains(JOURNAL_FILE) && message.contains("record 1"), "{message}");
    assert!(!message.contains('\n'), "one line");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), corrupted, "nothing is reset");
}

#[tokio::test]
async fn a_journal_of_another_chain_id_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    one_grant(dir.path()).await;
    let other = EmbeddedConfig { chain_id: 7, ..EmbeddedConfig::default() };
    let err = EmbeddedChain::open(dir.path(), other).expect_err("must refuse");
    assert!(matches!(err, ChainError::WrongChainId { expected: 7, actual: EMBEDDED_CHAIN_ID }), "{err}");
}

#[tokio::test]
async fn a_reverting_transaction_is_not_mined_and_keeps_the_nonce() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let c = open(dir.path(), &clock).await.unwrap();
    let stranger = Wallet::random();
    let err = c.permissions().revoke(&stranger, alloy_primitives::B256::repeat_byte(1)).await.expect_err("revert");
    assert!(err.to_string().contains("UnknownGrant"), "{err}");
    assert_eq!(c.chain().block_number().await.unwrap(), 0);
    assert_eq!(c.chain().transaction_count(stranger.address()).await.unwrap(), 0);
}

#[tokio::test]
async fn a_transaction_for_another_chain_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let c = open(dir.path(), &clock).await.unwrap();
    let w = Wallet::random();
    let call = hearth_chain::bindings::PermissionRegistry::noncesCall { owner: w.address() };
    let input = alloy_sol_types::SolCall::abi_encode(&call).into();
    let err =
        w.send(c.chain().as_ref(), 1, Some(c.deployment().permission_registry), input).await.expect_err("refused");
    assert!(matches!(&err, ChainError::InvalidTransaction(m) if m.contains("chain id 1")), "{err}");
    assert_eq!(c.chain().block_number().await.unwrap(), 0);
}

/// The liveness challenge seed comes from `BLOCKHASH`: here a keccak chain over the mined
/// blocks, not revm's hash of the block number, and the same again when the journal replays.
#[tokio::test]
async fn block_hashes_chain_the_history_and_replay_identically() {
    use alloy_primitives::{B256, keccak256};
    use alloy_sol_types::SolValue;
    use hearth_chain::{Chain, Collective, CollectiveParams, deploy_collective};

    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let (deployer, node, member) = (Wallet::random(), Wallet::random(), Wallet::random());
    let params = CollectiveParams {
        name: "hearth.ReplayCollective".into(),
        symbol: "HRC".into(),
        members: vec![(member.address(), U256::from(1))],
        voting_delay_secs: 1,
        voting_period_secs: 10,
        proposal_threshold: U256::ZERO,
        quorum_percent: 50,
        timelock_delay_secs: 1,
        challenger: node.address(),
        epoch_secs: 60,
        reward_per_pass: U256::ZERO,
        reward_pool: U256::ZERO,
    };
    let (deployment, seed, opened_in) = {
        let chain: Arc<dyn Chain> = Arc::new(EmbeddedChain::open(dir.path(), config(&clock)).unwrap());
        let deployment = deploy_collective(chain.as_ref(), &deployer, &params).await.expect("deploy");
        let c = Collective::connect(chain.clone(), deployment).await.unwrap();
        let (epoch, seed) = c.liveness().open_epoch(&node).await.expect("open epoch");
        assert_eq!(epoch, 0);
        (deployment, seed, chain.block_number().await.unwrap())
    };
    // What the seed would be with revm's default block hash (keccak of the decimal number).
    let placeholder = keccak256((opened_in - 1).to_string());
    let predictable = keccak256((placeholder, B256::ZERO, 0u64, deployment.liveness).abi_encode_params());
    assert_ne!(seed, predictable, "the seed must not follow from the block number alone");

    let chain: Arc<dyn Chain> = Arc::new(EmbeddedChain::open(dir.path(), config(&clock)).expect("replays"));
    let c = Collective::connect(chain, deployment).await.unwrap();
    assert_eq!(c.liveness().challenge_seed(0).await.unwrap(), seed);
}
