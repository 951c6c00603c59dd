//! Liveness challenges on the embedded chain with a manual clock moved one epoch at a time:
//! the Rust verifier agrees with the contract's `verifyChunk`; a contributor that keeps its
//! data passes every epoch and claims its rewards; one that changed a challenged chunk or
//! deleted its data fails and earns nothing for that epoch; an answer replayed from the
//! previous epoch fails.

#![allow(clippy::unwrap_used, missing_docs)]

use std::sync::{Arc, Mutex};

use alloy_primitives::{B256, U256};
use hearth_chain::{
    Chain, ChallengeResult, Collective, CollectiveParams, EmbeddedChain, EmbeddedConfig, Wallet, deploy_collective,
};
use hearth_core::ManualClock;
use hearth_server::liveness::{
    Answer, Answerer, Challenge, ChunkProof, LivenessError, answer, challenge_indexes, check_answer, commit, prove,
    run_epoch, verify,
};
use sha2::{Digest, Sha256};

/// Unix time the manual clock starts at (2026-01-01).
const START_SECS: u64 = 1_767_225_600;
/// Liveness epoch length, in seconds.
const EPOCH_SECS: u64 = 3_600;
/// Tokens a passed challenge earns.
const REWARD_PER_PASS: u64 = 5;
/// Tokens the registry starts with.
const REWARD_POOL: u64 = 1_000;
/// Bytes per chunk.
const CHUNK_BYTES: usize = 1024;
/// Ciphertext length: ten chunks, the last one short.
const CIPHERTEXT_BYTES: usize = 10 * CHUNK_BYTES - 300;
/// Chunks challenged per contribution and epoch.
const CHALLENGED: usize = 8;

struct Setup {
    _dir: tempfile::TempDir,
    clock: ManualClock,
    c: Collective,
    node: Wallet,
}

async fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(START_SECS);
    let config = EmbeddedConfig { clock: Arc::new(clock.clone()), ..EmbeddedConfig::default() };
    let chain: Arc<dyn Chain> = Arc::new(EmbeddedChain::open(&dir.path().join("chain"), config).unwrap());
    let node = Wallet::random();
    let params = CollectiveParams {
        name: "hearth.TestCollective".into(),
        symbol: "HTC".into(),
        members: vec![(Wallet::random().address(), U256::from(100))],
        voting_delay_secs: 10,
        voting_period_secs: 100,
        proposal_threshold: U256::ZERO,
        quorum_percent: 50,
        timelock_delay_secs: 60,
        challenger: node.address(),
        epoch_secs: EPOCH_SECS,
        reward_per_pass: U256::from(REWARD_PER_PASS),
        reward_pool: U256::from(REWARD_POOL),
    };
    let deployment = deploy_collective(chain.as_ref(), &node, &params).await.unwrap();
    let c = Collective::connect(chain, deployment).await.unwrap();
    Setup { _dir: dir, clock, c, node }
}

/// A ciphertext stand-in, different per `seed`.
fn ciphertext(seed: u8) -> Vec<u8> {
    (0..CIPHERTEXT_BYTES).map(|i| ((i as u64 * 2_654_435_761) >> 13) as u8 ^ seed).collect()
}

fn sha256(bytes: &[u8]) -> B256 {
    B256::from(<[u8; 32]>::from(Sha256::digest(bytes)))
}

/// A contributor keeping its ciphertext (which the test may change or delete).
struct Keeper(Mutex<Option<Vec<u8>>>);

impl Keeper {
    fn new(ciphertext: Vec<u8>) -> Keeper {
        Keeper(Mutex::new(Some(ciphertext)))
    }

    fn respond(&self, challenge: &Challenge) -> Result<Answer, LivenessError> {
        match self.0.lock().unwrap().as_deref() {
            Some(ct) => answer(ct, CHUNK_BYTES, challenge),
            None => Err(LivenessError::Unanswered("the data is gone".into())),
        }
    }
}

async fn rewards(s: &Setup, who: &Wallet) -> U256 {
    s.c.liveness().rewards(who.address()).await.unwrap()
}

#[tokio::test]
async fn verify_agrees_with_the_contract_for_every_chunk_of_a_five_chunk_tree() {
    let s = setup().await;
    let l = s.c.liveness();
    let ct: Vec<u8> = ciphertext(1)[..4 * CHUNK_BYTES + 100].to_vec();
    let commitment = commit(&ct, CHUNK_BYTES).unwrap();
    assert_eq!(commitment.chunk_count, 5);
    assert_eq!(commitment.ciphertext_sha256, sha256(&ct));
    let id = l.register(&Wallet::random(), &commitment).await.unwrap();
    for i in 0..5u64 {
        let p = prove(&ct, CHUNK_BYTES, i).unwrap();
        let on_chain = l.verify_chunk(id, i, sha256(&p.chunk), &p.proof).await.unwrap();
        assert!(verify(&commitment, &p) && on_chain, "chunk {i}: rust and contract both accept");

        let mut changed = p.clone();
        changed.chunk[0] ^= 0x80;
        let on_chain = l.verify_chunk(id, i, sha256(&changed.chunk), &changed.proof).await.unwrap();
        assert!(!verify(&commitment, &changed) && !on_chain, "chunk {i} with a changed byte: both refuse");

        let wrong = ChunkProof { index: (i + 1) % 5, ..p.clone() };
        let on_chain = l.verify_chunk(id, wrong.index, sha256(&wrong.chunk), &wrong.proof).await.unwrap();
        assert!(!verify(&commitment, &wrong) && !on_chain, "chunk {i} shown as {}: both refuse", wrong.index);
    }
}

#[tokio::test]
async fn a_contributor_that_keeps_its_data_passes_three_epochs_and_claims_its_rewards() {
    let s = setup().await;
    let l = s.c.liveness();
    let alice = Wallet::random();
    let ct = ciphertext(2);
    let id = l.register(&alice, &commit(&ct, CHUNK_BYTES).unwrap()).await.unwrap();
    let keeper = |ch: &Challenge| answer(&ct, CHUNK_BYTES, ch);
    for expected_epoch in 0..3u64 {
        let (epoch, results) = run_epoch(&s.c, &s.node, &[(id, &keeper as &dyn Answerer)], CHALLENGED).await.unwrap();
        assert_eq!(epoch, expected_epoch);
        assert!(results[0].passed, "epoch {epoch}: {:?}", results[0].failure);
        assert_eq!(l.result(id, epoch).await.unwrap(), ChallengeResult::Passed);
        assert_eq!(rewards(&s, &alice).await, U256::from(REWARD_PER_PASS * (epoch + 1)), "epoch {epoch}");
        s.clock.advance(EPOCH_SECS);
    }
    let before = s.c.token().balance(alice.address()).await.unwrap();
    let paid = l.claim(&alice).await.unwrap();
    assert_eq!(paid, U256::from(3 * REWARD_PER_PASS));
    assert_eq!(s.c.token().balance(alice.address()).await.unwrap(), before + paid);
    assert_eq!(rewards(&s, &alice).await, U256::ZERO);
}

#[tokio::test]
async fn a_contributor_that_changed_a_challenged_chunk_or_deleted_its_data_fails_and_earns_nothing() {
    let s = setup().await;
    let l = s.c.liveness();
    let (bob, carol) = (Wallet::random(), Wallet::random());
    let (bob_ct, carol_ct) = (ciphertext(3), ciphertext(4));
    let bob_commitment = commit(&bob_ct, CHUNK_BYTES).unwrap();
    let b = l.register(&bob, &bob_commitment).await.unwrap();
    let c = l.register(&carol, &commit(&carol_ct, CHUNK_BYTES).unwrap()).await.unwrap();
    let (bob_keeper, carol_keeper) = (Keeper::new(bob_ct), Keeper::new(carol_ct));
    let bob_answers = |ch: &Challenge| bob_keeper.respond(ch);
    let carol_answers = |ch: &Challenge| carol_keeper.respond(ch);
    let both = [(b, &bob_answers as &dyn Answerer), (c, &carol_answers as &dyn Answerer)];

    let (_, results) = run_epoch(&s.c, &s.node, &both, CHALLENGED).await.unwrap();
    assert!(results.iter().all(|r| r.passed), "epoch 0, data intact: {results:?}");
    assert_eq!((rewards(&s, &bob).await, rewards(&s, &carol).await), (U256::from(5), U256::from(5)));

    // Epoch 1: open it first to learn bob's challenged chunks, change one of them; carol deletes.
    s.clock.advance(EPOCH_SECS);
    let (epoch, seed) = l.open_epoch(&s.node).await.unwrap();
    assert_eq!(epoch, 1);
    let challenged = challenge_indexes(seed, b, bob_commitment.chunk_count, CHALLENGED).unwrap();
    let target = challenged[0] as usize * CHUNK_BYTES;
    bob_keeper.0.lock().unwrap().as_mut().unwrap()[target] ^= 1;
    *carol_keeper.0.lock().unwrap() = None;

    let (epoch, results) = run_epoch(&s.c, &s.node, &both, CHALLENGED).await.unwrap();
    assert_eq!(epoch, 1, "run_epoch uses the epoch already opened");
    assert!(!results[0].passed, "bob changed chunk {}", challenged[0]);
    assert_eq!(results[0].failure.as_deref(), Some("the answer does not verify"));
    assert!(!results[1].passed && results[1].failure.as_deref().unwrap().contains("the data is gone"));
    assert_eq!(l.result(b, 1).await.unwrap(), ChallengeResult::Failed);
    assert_eq!(l.result(c, 1).await.unwrap(), ChallengeResult::Failed);
    assert_eq!(
        (rewards(&s, &bob).await, rewards(&s, &carol).await),
        (U256::from(5), U256::from(5)),
        "nothing earned in epoch 1"
    );
}

#[tokio::test]
async fn an_answer_replayed_from_the_previous_epoch_fails() {
    let s = setup().await;
    let l = s.c.liveness();
    let dave = Wallet::random();
    let ct = ciphertext(5);
    let commitment = commit(&ct, CHUNK_BYTES).unwrap();
    let id = l.register(&dave, &commitment).await.unwrap();

    // Epoch 0: an honest answer, which dave keeps, then drops the data.
    let kept: Mutex<Option<Answer>> = Mutex::new(None);
    let honest = |ch: &Challenge| {
        let a = answer(&ct, CHUNK_BYTES, ch)?;
        *kept.lock().unwrap() = Some(a.clone());
        Ok(a)
    };
    let (_, results) = run_epoch(&s.c, &s.node, &[(id, &honest as &dyn Answerer)], CHALLENGED).await.unwrap();
    assert!(results[0].passed);
    let old = kept.lock().unwrap().clone().unwrap();
    assert_eq!(old.epoch, 0);

    // Epoch 1: the epoch-0 answer as it was.
    s.clock.advance(EPOCH_SECS);
    let replay = |_: &Challenge| Ok(old.clone());
    let (epoch, results) = run_epoch(&s.c, &s.node, &[(id, &replay as &dyn Answerer)], CHALLENGED).await.unwrap();
    assert_eq!(epoch, 1);
    assert!(!results[0].passed, "the epoch-0 answer does not answer epoch 1");
    assert_eq!(l.result(id, 1).await.unwrap(), ChallengeResult::Failed);

    // Epoch 2: the epoch-0 answer relabelled with the new epoch still shows the old seed's chunks.
    s.clock.advance(EPOCH_SECS);
    let relabelled = |ch: &Challenge| Ok(Answer { epoch: ch.epoch, ..old.clone() });
    let (_, seed) = l.open_epoch(&s.node).await.unwrap();
    let new_indexes = challenge_indexes(seed, id, commitment.chunk_count, CHALLENGED).unwrap();
    let old_indexes: Vec<u64> = old.proofs.iter().map(|p| p.index).collect();
    assert_ne!(new_indexes, old_indexes, "a new seed picks other chunks");
    let challenge = Challenge { contribution_id: id, epoch: 2, indexes: new_indexes };
    assert!(!check_answer(&commitment, &challenge, &relabelled(&challenge).unwrap()));
    let (epoch, results) = run_epoch(&s.c, &s.node, &[(id, &relabelled as &dyn Answerer)], CHALLENGED).await.unwrap();
    assert_eq!(epoch, 2);
    assert!(!results[0].passed);
    assert_eq!(l.result(id, 2).await.unwrap(), ChallengeResult::Failed);
    assert_eq!(rewards(&s, &dave).await, U256::from(REWARD_PER_PASS), "only epoch 0 earned");
}
