//! A collective node: with the zero grant, a job runs only code the collective approved
//! in its `CodeRegistry` (through a vote, the timelock and execution), checked at
//! submission and again before the start; a revocation by a second proposal stops new
//! runs; export-only approvals do not run on the node.

use alloy_primitives::{Address, B256, U256};
use hearth_chain::{Collective, CollectiveParams, Proposal, ProposalState, Support, Wallet, deploy_collective};
use hearth_server::jobs::Phase;
use serde_json::json;

use crate::harness::{Backend, Server, refusal};
use crate::jobs::{config, phases};

const VOTING_DELAY_SECS: u64 = 10;
const VOTING_PERIOD_SECS: u32 = 100;
const TIMELOCK_DELAY_SECS: u64 = 60;

pub struct Dao {
    pub collective: Collective,
    pub members: [Wallet; 3],
}

pub async fn make_collective_node(s: &mut Server) -> Dao {
    let members = [Wallet::random(), Wallet::random(), Wallet::random()];
    let node = s.state().server.clone();
    let params = CollectiveParams {
        name: "hearth.TestCollective".into(),
        symbol: "HTC".into(),
        members: members.iter().map(|m| (m.address(), U256::from(100))).collect(),
        voting_delay_secs: VOTING_DELAY_SECS,
        voting_period_secs: VOTING_PERIOD_SECS,
        proposal_threshold: U256::ZERO,
        quorum_percent: 50,
        timelock_delay_secs: TIMELOCK_DELAY_SECS,
        challenger: node.address(),
        epoch_secs: 3600,
        reward_per_pass: U256::from(1),
        reward_pool: U256::from(10),
    };
    let chain = s.contracts.chain().clone();
    let deployment = deploy_collective(chain.as_ref(), &node, &params).await.unwrap();
    let collective = Collective::connect(chain, deployment).await.unwrap();
    for m in &members {
        collective.token().delegate(m, m.address()).await.unwrap();
    }
    s.clock.advance(1);
    s.set_collective(collective.clone());
    Dao { collective, members }
}

impl Dao {
    /// Proposes, votes (all three for), queues and executes `proposal`.
    async fn pass(&self, s: &Server, proposal: &Proposal) {
        let g = self.collective.governance();
        let (id, _) = g.propose(&self.members[0], proposal).await.unwrap();
        s.clock.advance(VOTING_DELAY_SECS + 1);
        for m in &self.members {
            g.cast_vote(m, id, Support::For).await.unwrap();
        }
        s.clock.advance(u64::from(VOTING_PERIOD_SECS) + 1);
        g.queue(&self.members[1], proposal).await.unwrap();
        s.clock.advance(TIMELOCK_DELAY_SECS + 1);
        g.execute(&self.members[2], proposal).await.unwrap();
        assert_eq!(g.state(id).await.unwrap(), ProposalState::Executed);
    }

    pub async fn approve(&self, s: &Server, digest: B256, export_to: Option<Address>) {
        let code = self.collective.code();
        self.pass(s, &code.approve_proposal(digest, "https://dao.example/code", export_to, "approve")).await;
    }

    pub async fn revoke(&self, s: &Server, digest: B256) {
        self.pass(s, &self.collective.code().revoke_proposal(digest, "revoke")).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_collective_node_runs_only_approved_code_until_the_approval_is_revoked() {
    let mut s = Server::start(Backend::Embedded).await;
    let testop = s.import("testop");
    let wordcount = s.import("wordcount");
    let dao = make_collective_node(&mut s).await;

    let early = s.submit_as(&s.app, B256::ZERO, testop, json!({})).await;
    assert_eq!(refusal(early).await, (403, "code_not_approved".to_owned()));
    assert_eq!(s.last_outcome(), "code_not_approved", "the refusal is audited");

    dao.approve(&s, testop, None).await;
    let id = s.submit(B256::ZERO, testop, json!({})).await;
    let done = s.wait_end(&id).await;
    assert_eq!(done.job.phase, Phase::Succeeded, "reason: {:?}", done.job.reason);
    assert_eq!(done.result, Some(json!({"files": 1, "bytes": crate::harness::PLAIN.len()})));
    let end = s.records_for("operation.end");
    assert_eq!(end[0].entry.code_digest, Some(testop));
    assert_eq!(end[0].entry.grant_id, None, "ran under the collective's approval, not a grant");

    let other = s.submit_as(&s.app, B256::ZERO, wordcount, json!({})).await;
    assert_eq!(refusal(other).await, (403, "code_not_approved".to_owned()), "only the approved digest runs");

    dao.approve(&s, wordcount, Some(Address::repeat_byte(0xee))).await;
    let export = s.submit_as(&s.app, B256::ZERO, wordcount, json!({})).await;
    assert_eq!(refusal(export).await, (403, "code_export_only".to_owned()));

    dao.revoke(&s, testop).await;
    let revoked = s.submit_as(&s.app, B256::ZERO, testop, json!({})).await;
    assert_eq!(refusal(revoked).await, (403, "code_revoked".to_owned()));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_revocation_while_queued_stops_the_job_before_it_starts() {
    let mut s = Server::start_with(Backend::Embedded, config(1, 8, 60)).await;
    let testop = s.import("testop");
    let dao = make_collective_node(&mut s).await;
    dao.approve(&s, testop, None).await;
    let busy = s.submit(B256::ZERO, testop, json!({"mode": "sleep", "secs": 5})).await;
    s.wait_for(&busy, |st| st.job.phase == Phase::Running).await;
    let waiting = s.submit(B256::ZERO, testop, json!({})).await;
    dao.revoke(&s, testop).await;
    let ended = s.wait_end(&waiting).await;
    assert_eq!((ended.job.phase, ended.job.reason.as_deref()), (Phase::Failed, Some("code_revoked")));
    assert_eq!(phases(&ended), [Phase::Queued, Phase::Verifying, Phase::Failed], "never ran");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_zero_grant_means_nothing_on_a_personal_server() {
    let s = Server::start(Backend::Embedded).await;
    let testop = s.import("testop");
    let refused = s.submit_as(&s.app, B256::ZERO, testop, json!({})).await;
    assert_eq!(refusal(refused).await, (403, "unknown_grant".to_owned()));
}

/// A contribution as a member's device makes it: encrypted to `recipient`, its
/// ciphertext hash signed in an `AddFile` for the `contributions` scope.
pub async fn contribution(s: &Server, member: &Wallet, name: &str, plain: &[u8], recipient: &str) -> (Vec<u8>, String) {
    use sha2::Digest;
    let recipient = hearth_crypto::parse_recipient(recipient).unwrap();
    let mut ciphertext = Vec::new();
    hearth_crypto::encrypt(&[recipient], plain, &mut ciphertext).unwrap();
    let sha256 = B256::from_slice(&sha2::Sha256::digest(&ciphertext));
    let uri = hearth_server::routes::owner::file_uri(s.server_address(), sha256);
    let data = s.contracts.data();
    let nonce = data.nonce(member.address()).await.unwrap();
    let scope = hearth_server::routes::contributions::CONTRIBUTIONS_SCOPE;
    let signature = data.sign_add_file(member, &uri, sha256, scope, nonce).unwrap();
    (ciphertext, format!("/v1/contributions?name={name}&nonce={nonce}&registration={signature}"))
}

pub async fn send_contribution(s: &Server, member: &Wallet, target: &str, body: Vec<u8>) -> (u16, String) {
    let response = s.send(s.signed(&s.signer(member), "POST", target, body)).await;
    let status = response.status().as_u16();
    if status == 201 {
        return (201, String::new());
    }
    refusal(response).await
}

#[tokio::test(flavor = "multi_thread")]
async fn contributions_are_checked_then_an_approved_job_aggregates_them() {
    let mut s = Server::start(Backend::Embedded).await;
    let testop = s.import("testop");
    let member = Wallet::random();
    let node_recipient = s.state().keys.age_recipient().to_string();
    let (body, target) = contribution(&s, &member, "early.txt", b"too early", &node_recipient).await;
    assert_eq!(
        send_contribution(&s, &member, &target, body).await,
        (404, "not_found".to_owned()),
        "a personal server takes no contributions"
    );

    let dao = make_collective_node(&mut s).await;
    for (i, m) in dao.members.iter().enumerate() {
        let text = format!("member {i} contributes {} bytes", 10 + i);
        let (body, target) = contribution(&s, m, &format!("c{i}.txt"), text.as_bytes(), &node_recipient).await;
        assert_eq!(send_contribution(&s, m, &target, body).await, (201, String::new()));
    }

    // Encrypted to another key: refused, nothing kept.
    let stranger = hearth_crypto::age::x25519::Identity::generate().to_public().to_string();
    let (body, target) = contribution(&s, &member, "wrong.txt", b"to the wrong key", &stranger).await;
    assert_eq!(send_contribution(&s, &member, &target, body).await, (400, "wrong_recipient".to_owned()));
    // Changed after signing: the ciphertext no longer opens (or no longer matches its signed hash).
    let (mut body, target) = contribution(&s, &member, "tampered.txt", b"honest words", &node_recipient).await;
    let last = body.len() - 1;
    body[last] ^= 1;
    assert_eq!(send_contribution(&s, &member, &target, body).await, (400, "invalid_ciphertext".to_owned()));
    // Signed for one ciphertext, sent with another that decrypts fine.
    let (_, target) = contribution(&s, &member, "swapped.txt", b"signed bytes", &node_recipient).await;
    let (other, _) = contribution(&s, &member, "swapped.txt", b"other bytes", &node_recipient).await;
    assert_eq!(send_contribution(&s, &member, &target, other).await, (400, "registration_mismatch".to_owned()));
    // An empty body, a name with a slash, a missing signature: refused before anything is staged.
    let (_, target) = contribution(&s, &member, "empty.txt", b"x", &node_recipient).await;
    assert_eq!(send_contribution(&s, &member, &target, vec![]).await, (400, "empty_file".to_owned()));
    let (body, target) = contribution(&s, &member, "a%2Fb.txt", b"slash", &node_recipient).await;
    assert_eq!(send_contribution(&s, &member, &target, body).await, (400, "malformed_parameter".to_owned()));
    let (body, _) = contribution(&s, &member, "unsigned.txt", b"unsigned", &node_recipient).await;
    let unsigned = "/v1/contributions?name=unsigned.txt&nonce=0";
    assert_eq!(send_contribution(&s, &member, unsigned, body).await, (400, "malformed_parameter".to_owned()));
    let kept = s.state().store.list(Some("contributions"), 0, 100).await.unwrap();
    assert_eq!(kept.len(), 3, "only the three valid contributions were kept");

    dao.approve(&s, testop, None).await;
    let request = hearth_server::routes::operations::OperationRequest {
        grant: B256::ZERO,
        operation: testop,
        scope: "contributions".into(),
        params: json!({}),
    };
    let response =
        s.send(s.signed(&s.signer(&s.app), "POST", "/v1/operations", serde_json::to_vec(&request).unwrap())).await;
    assert_eq!(response.status(), 202);
    let accepted: hearth_server::routes::operations::Accepted =
        serde_json::from_slice(&crate::harness::body_bytes(response).await).unwrap();
    let done = s.wait_end(&accepted.id).await;
    assert_eq!(done.job.phase, Phase::Succeeded, "reason: {:?}", done.job.reason);
    let bytes: usize = (0..3).map(|i| format!("member {i} contributes {} bytes", 10 + i).len()).sum();
    assert_eq!(done.result, Some(json!({"files": 3, "bytes": bytes})), "an aggregate over every contribution");
    assert_eq!(done.job.inputs.len(), 3);
}
