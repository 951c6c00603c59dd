//! Liveness over real HTTP on the embedded chain: the contributor's server (this harness's
//! server, on a socket) answers the collective's challenger; a kept file passes every epoch
//! and earns claimable rewards; a changed or deleted one fails and earns nothing; a replayed
//! answer fails; unsigned, forged, replayed or misaddressed challenge requests are refused
//! and audited; an unreachable contributor fails while the epoch goes on for the others.

use std::path::Path;
use std::sync::Arc;

use alloy_primitives::U256;
use hearth_chain::{ChallengeResult, Collective, CollectiveParams, Wallet, deploy_collective};
use hearth_core::Clock;
use hearth_server::liveness::schedule::{ScheduleConfig, challenge_all};
use hearth_server::liveness::{Answer, Answerer, Challenge, Recording, commit, run_epoch};
use hearth_store::NewFile;

use super::harness::{Backend, Server, body_bytes, refusal};

/// Liveness epoch length, in seconds.
const EPOCH_SECS: u64 = 3_600;
/// Tokens a pass earns (smallest unit).
const REWARD_PER_PASS: u64 = 5;
/// Bytes per chunk.
const CHUNK_BYTES: usize = 256;

struct Setup {
    s: Server,
    c: Collective,
    node: Wallet,
    url: String,
}

impl Setup {
    fn clock(&self) -> Arc<dyn Clock> {
        Arc::new(self.s.clock.clone())
    }

    async fn round(&self) -> (u64, Vec<hearth_server::liveness::EpochResult>) {
        let config = ScheduleConfig { chunks: 4, answer_secs_max: 5 };
        challenge_all(&self.c, &self.s.contracts, &self.node, self.clock(), &config).await.unwrap()
    }

    async fn rewards(&self) -> U256 {
        self.c.liveness().rewards(self.s.owner.address()).await.unwrap()
    }

    /// A signed challenge request from `who` to the contributor's server.
    fn challenge_request(&self, who: &Wallet, challenge: &Challenge) -> axum::http::Request<axum::body::Body> {
        let target = format!("/v1/liveness/answer?registry={}", self.c.liveness().address());
        self.s.signed(&self.s.signer(who), "POST", &target, serde_json::to_vec(challenge).unwrap())
    }
}

/// The harness server on a socket, registered at its URL, in a fresh collective.
async fn setup() -> Setup {
    let s = Server::start(Backend::Embedded).await;
    let node = Wallet::random();
    let params = CollectiveParams {
        name: "hearth.LiveCollective".into(),
        symbol: "HLC".into(),
        members: vec![(Wallet::random().address(), U256::from(100))],
        voting_delay_secs: 10,
        voting_period_secs: 100,
        proposal_threshold: U256::ZERO,
        quorum_percent: 50,
        timelock_delay_secs: 60,
        challenger: node.address(),
        epoch_secs: EPOCH_SECS,
        reward_per_pass: U256::from(REWARD_PER_PASS),
        reward_pool: U256::from(1_000),
    };
    let chain = s.contracts.chain().clone();
    let deployment = deploy_collective(chain.as_ref(), &node, &params).await.unwrap();
    let c = Collective::connect(chain, deployment).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(axum::serve(listener, hearth_server::router(s.state().clone())).into_future());
    let server = s.state().server.clone();
    let recipient = s.state().keys.age_recipient().to_string();
    s.contracts.servers().register(&server, &server, &recipient, &url).await.unwrap();
    Setup { s, c, node, url }
}

/// Ciphertext stand-in of `len` bytes, different per `seed`.
fn bytes(seed: u8, len: usize) -> Vec<u8> {
    (0..len).map(|i| ((i as u64 * 2_654_435_761) >> 11) as u8 ^ seed).collect()
}

/// Keeps `ciphertext` in the contributor's store, registers its commitment on chain as the
/// owner and records it on the server; returns (file id, contribution id).
async fn keep(st: &Setup, ciphertext: &[u8]) -> (u64, U256) {
    let store = &st.s.state().store;
    let staged = store.stage(ciphertext).await.unwrap();
    let new = NewFile {
        scope: "journal".into(),
        name: format!("kept-{}", ciphertext.len()),
        chain_file_id: None,
        created_at: st.s.clock.now_secs(),
    };
    let file = store.commit(staged, new).await.unwrap();
    let id = register(st, &st.s.owner, ciphertext).await;
    let body = serde_json::json!({ "registry": st.c.liveness().address(), "contribution_id": id, "file_id": file.id });
    let request = st.s.signed(&st.s.signer(&st.s.owner), "POST", "/v1/owner/liveness", body.to_string().into_bytes());
    let response = st.s.send(request).await;
    assert_eq!(response.status(), 201, "{}", String::from_utf8_lossy(&body_bytes(response).await));
    (file.id, id)
}

/// `who` registers the commitment of `ciphertext` in the registry.
async fn register(st: &Setup, who: &Wallet, ciphertext: &[u8]) -> U256 {
    st.c.liveness().register(who, &commit(ciphertext, CHUNK_BYTES).unwrap()).await.unwrap()
}

/// The blob file holding exactly `content` under `dir`.
fn blob_holding(dir: &Path, content: &[u8]) -> std::path::PathBuf {
    let mut pending = vec![dir.to_owned()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if std::fs::read(&path).map(|b| b == content).unwrap_or(false) {
                return path;
            }
        }
    }
    panic!("no blob holds the content");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_kept_file_passes_every_epoch_over_http_and_its_rewards_can_be_claimed() {
    let st = setup().await;
    let (_, id) = keep(&st, &bytes(1, 10 * CHUNK_BYTES - 40)).await;
    for expected in 0..2u64 {
        let (epoch, results) = st.round().await;
        assert_eq!(epoch, expected);
        assert_eq!(results.len(), 1);
        assert!(results[0].passed, "epoch {epoch}: {:?}", results[0].failure);
        assert_eq!(results[0].recording, Recording::Recorded);
        assert_eq!(st.c.liveness().result(id, epoch).await.unwrap(), ChallengeResult::Passed);
        assert_eq!(st.rewards().await, U256::from(REWARD_PER_PASS * (expected + 1)));
        // A second round in the same epoch asks no one and records nothing twice.
        let (_, again) = st.round().await;
        assert_eq!(again[0].recording, Recording::AlreadyRecorded);
        assert!(again[0].passed);
        st.s.clock.advance(EPOCH_SECS);
    }
    let paid = st.c.liveness().claim(&st.s.owner).await.unwrap();
    assert_eq!(paid, U256::from(2 * REWARD_PER_PASS));
    assert_eq!(st.c.token().balance(st.s.owner.address()).await.unwrap(), paid);
    assert_eq!(st.rewards().await, U256::ZERO);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_changed_or_deleted_file_fails_the_next_challenge_and_earns_nothing() {
    let st = setup().await;
    let (changed, deleted) = (bytes(2, 8 * CHUNK_BYTES), bytes(3, 8 * CHUNK_BYTES + 10));
    let (_, a) = keep(&st, &changed).await;
    let (deleted_file, b) = keep(&st, &deleted).await;
    let (_, results) = st.round().await;
    assert!(results.iter().all(|r| r.passed), "{results:?}");
    let earned = st.rewards().await;
    assert_eq!(earned, U256::from(2 * REWARD_PER_PASS));

    // Every chunk of `changed` differs by one bit; `deleted` is gone from the store.
    let blob = blob_holding(&st.s.dir.path().join("blobs"), &changed);
    let flipped: Vec<u8> = changed.iter().map(|b| b ^ 1).collect();
    std::fs::write(&blob, flipped).unwrap();
    st.s.state().store.delete(deleted_file).await.unwrap();

    st.s.clock.advance(EPOCH_SECS);
    let (epoch, results) = st.round().await;
    assert_eq!(epoch, 1);
    assert!(!results[0].passed && !results[1].passed, "{results:?}");
    assert!(results.iter().all(|r| r.recording == Recording::Recorded));
    assert_eq!(st.c.liveness().result(a, 1).await.unwrap(), ChallengeResult::Failed);
    assert_eq!(st.c.liveness().result(b, 1).await.unwrap(), ChallengeResult::Failed);
    assert_eq!(st.rewards().await, earned, "nothing earned in epoch 1");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_answer_replayed_from_an_earlier_epoch_fails() {
    let st = setup().await;
    let (_, id) = keep(&st, &bytes(4, 12 * CHUNK_BYTES)).await;
    // Epoch 0: the node's real challenge over HTTP, answer kept by someone watching.
    let (epoch, seed) = st.c.liveness().open_epoch(&st.node).await.unwrap();
    let indexes = hearth_server::liveness::challenge_indexes(seed, id, 12, 4).unwrap();
    let challenge = Challenge { contribution_id: id, epoch, indexes };
    let response = st.s.send(st.challenge_request(&st.node, &challenge)).await;
    assert_eq!(response.status(), 200);
    let old: Answer = serde_json::from_slice(&body_bytes(response).await).unwrap();
    assert_eq!(old.epoch, 0);

    st.s.clock.advance(EPOCH_SECS);
    let replay = |_: &Challenge| Ok(old.clone());
    let relabelled = |ch: &Challenge| Ok(Answer { epoch: ch.epoch, ..old.clone() });
    let (epoch, results) = run_epoch(&st.c, &st.node, &[(id, &replay as &dyn Answerer)], 4).await.unwrap();
    assert_eq!(epoch, 1);
    assert!(!results[0].passed, "the epoch-0 answer does not answer epoch 1");
    st.s.clock.advance(EPOCH_SECS);
    let (_, results) = run_epoch(&st.c, &st.node, &[(id, &relabelled as &dyn Answerer)], 4).await.unwrap();
    assert!(!results[0].passed, "relabelled with the new epoch, it still shows the old chunks");
    assert_eq!(st.c.liveness().result(id, 2).await.unwrap(), ChallengeResult::Failed);
    assert_eq!(st.rewards().await, U256::ZERO);
}

#[tokio::test(flavor = "multi_thread")]
async fn unsigned_forged_replayed_or_foreign_challenge_requests_are_refused_and_audited() {
    let st = setup().await;
    let (file, id) = keep(&st, &bytes(5, 6 * CHUNK_BYTES)).await;
    let challenge = Challenge { contribution_id: id, epoch: 0, indexes: vec![0, 5, 2] };
    let target = format!("/v1/liveness/answer?registry={}", st.c.liveness().address());
    let body = serde_json::to_vec(&challenge).unwrap();

    let unsigned = super::harness::build("POST", &target, &[], body.clone());
    assert_eq!(refusal(st.s.send(unsigned).await).await, (401, "missing_signer".into()));
    assert_eq!(st.s.last_outcome(), "missing_signer");

    let signed = st.challenge_request(&st.node, &challenge);
    let headers: Vec<(String, String)> =
        signed.headers().iter().map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_owned())).collect();
    let resend = |body: Vec<u8>| {
        let mut b = axum::http::Request::builder().method("POST").uri(&target);
        for (k, v) in &headers {
            b = b.header(k, v);
        }
        b.body(axum::body::Body::from(body)).unwrap()
    };
    let other = Challenge { indexes: vec![1, 1, 1], ..challenge.clone() };
    let forged = resend(serde_json::to_vec(&other).unwrap());
    assert_eq!(refusal(st.s.send(forged).await).await, (401, "body_hash_mismatch".into()));
    let answered = st.s.send(signed).await;
    assert_eq!(answered.status(), 200);
    let answer: Answer = serde_json::from_slice(&body_bytes(answered).await).unwrap();
    assert_eq!(answer.proofs.iter().map(|p| p.index).collect::<Vec<_>>(), vec![0, 5, 2]);
    assert_eq!(st.s.last_outcome(), "granted");
    assert_eq!(refusal(st.s.send(resend(body.clone())).await).await, (401, "replayed".into()));
    assert_eq!(st.s.last_outcome(), "replayed");

    let stranger = Wallet::random();
    assert_eq!(
        refusal(st.s.send(st.challenge_request(&stranger, &challenge)).await).await,
        (403, "not_challenger".into())
    );
    assert_eq!(st.s.last_outcome(), "not_challenger");
    let elsewhere = hearth_server::auth::RequestSigner::new(st.node.clone(), Wallet::random().address(), 31337);
    let headers = elsewhere.sign("POST", &target, &body, st.s.clock.now_secs(), 60).unwrap();
    let misaddressed = super::harness::build("POST", &target, &headers.to_pairs(), body.clone());
    assert_eq!(refusal(st.s.send(misaddressed).await).await.1, "wrong_audience");

    let unknown = Challenge { contribution_id: id + U256::from(1), ..challenge.clone() };
    assert_eq!(refusal(st.s.send(st.challenge_request(&st.node, &unknown)).await).await, (404, "not_found".into()));
    let too_many = Challenge { indexes: vec![0; 65], ..challenge.clone() };
    assert_eq!(
        refusal(st.s.send(st.challenge_request(&st.node, &too_many)).await).await,
        (400, "challenge_size".into())
    );
    let out_of_range = Challenge { indexes: vec![6], ..challenge.clone() };
    assert_eq!(
        refusal(st.s.send(st.challenge_request(&st.node, &out_of_range)).await).await,
        (400, "unanswerable".into())
    );

    // Only the owner's own contributions, matching the kept file, are recorded.
    let theirs = register(&st, &stranger, &bytes(5, 6 * CHUNK_BYTES)).await;
    let owner = st.s.signer(&st.s.owner);
    for (contribution, expected) in [(theirs, "not_owners_contribution"), (id + U256::from(5), "unknown_contribution")]
    {
        let body = serde_json::json!({ "registry": st.c.liveness().address(), "contribution_id": contribution, "file_id": file });
        let request = st.s.signed(&owner, "POST", "/v1/owner/liveness", body.to_string().into_bytes());
        assert_eq!(refusal(st.s.send(request).await).await, (400, expected.into()));
    }
    let body =
        serde_json::json!({ "registry": st.c.liveness().address(), "contribution_id": id, "file_id": st.s.file_id });
    let request = st.s.signed(&owner, "POST", "/v1/owner/liveness", body.to_string().into_bytes());
    assert_eq!(refusal(st.s.send(request).await).await, (400, "commitment_mismatch".into()));
    let body = serde_json::json!({ "registry": "nowhere", "contribution_id": id, "file_id": file });
    let request = st.s.signed(&owner, "POST", "/v1/owner/liveness", body.to_string().into_bytes());
    assert_eq!(refusal(st.s.send(request).await).await.1, "malformed_body");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_kept_file_over_the_liveness_bound_is_refused_before_it_is_read() {
    use tokio::io::AsyncReadExt;
    let st = setup().await;
    let (_, id) = keep(&st, &bytes(9, 6 * CHUNK_BYTES)).await;
    let store = &st.s.state().store;
    let over = hearth_server::routes::liveness::KEPT_FILE_BYTES_MAX + 1;
    let staged = store.stage(tokio::io::repeat(7).take(over)).await.unwrap();
    let huge = store.commit(staged, NewFile::now("journal", "huge.age")).await.unwrap();
    let body = serde_json::json!({ "registry": st.c.liveness().address(), "contribution_id": id, "file_id": huge.id });
    let request = st.s.signed(&st.s.signer(&st.s.owner), "POST", "/v1/owner/liveness", body.to_string().into_bytes());
    assert_eq!(refusal(st.s.send(request).await).await, (413, "kept_file_too_large".into()));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_contributor_is_recorded_as_failed_and_the_epoch_goes_on() {
    let st = setup().await;
    // Someone else whose trusted server is registered at a port nothing listens on.
    let gone = Wallet::random();
    let gone_server = Wallet::random();
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead_url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    assert_ne!(dead_url, st.url);
    let servers = st.s.contracts.servers();
    servers
        .register(&gone_server, &gone_server, &st.s.state().keys.age_recipient().to_string(), &dead_url)
        .await
        .unwrap();
    servers.set_trust_signed(&gone_server, &gone, gone_server.address(), true).await.unwrap();
    let lost = register(&st, &gone, &bytes(6, 4 * CHUNK_BYTES)).await;
    // And someone who trusts no server at all.
    let nowhere = Wallet::random();
    let orphan = register(&st, &nowhere, &bytes(7, 4 * CHUNK_BYTES)).await;
    let (_, kept) = keep(&st, &bytes(8, 5 * CHUNK_BYTES)).await;

    let (epoch, results) = st.round().await;
    assert_eq!(results.iter().map(|r| r.contribution_id).collect::<Vec<_>>(), vec![lost, orphan, kept]);
    assert!(!results[0].passed && results[0].failure.as_deref().unwrap().contains(&gone_server.address().to_string()));
    assert!(!results[1].passed && results[1].failure.as_deref().unwrap().contains("trusts no registered server"));
    assert!(results[2].passed, "{:?}", results[2].failure);
    assert!(results.iter().all(|r| r.recording == Recording::Recorded));
    assert_eq!(st.c.liveness().result(lost, epoch).await.unwrap(), ChallengeResult::Failed);
    assert_eq!(st.c.liveness().result(orphan, epoch).await.unwrap(), ChallengeResult::Failed);
    assert_eq!(st.c.liveness().result(kept, epoch).await.unwrap(), ChallengeResult::Passed);
    assert_eq!(st.c.liveness().rewards(gone.address()).await.unwrap(), U256::ZERO);
    assert_eq!(st.rewards().await, U256::from(REWARD_PER_PASS));
}
