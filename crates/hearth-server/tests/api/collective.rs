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

struct Dao {
    collective: Collective,
    members: [Wallet; 3],
}

async fn make_collective_node(s: &mut Server) -> Dao {
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

    async fn approve(&self, s: &Server, digest: B256, export_to: Option<Address>) {
        let code = self.collective.code();
        self.pass(s, &code.approve_proposal(digest, "https://dao.example/code", export_to, "approve")).await;
    }

    async fn revoke(&self, s: &Server, digest: B256) {
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
