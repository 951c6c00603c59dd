//! The collective contracts, each test on both backends: setup and hand-over to the timelock,
//! a code approval through propose → vote → queue → timelock → execute, a defeated proposal,
//! a revocation, who may vote, and liveness challenges with their rewards.
//!
//! Time moves by `Harness::advance`: the embedded chain's manual clock (its views and next
//! block use it at once; no empty blocks are needed because every collective delay counts
//! seconds, not blocks), or anvil's `evm_increaseTime` plus one mined block.

use alloy_primitives::{Address, B256, U256, keccak256};
use hearth_chain::{
    ChainError, ChallengeResult, Collective, CollectiveDeployment, CollectiveParams, DEFAULT_ADMIN_ROLE, ProposalState,
    StorageCommitment, Support, Wallet, canceller_role, challenge_chunk, chunk_leaf, deploy_collective, executor_role,
    proposer_role,
};

use crate::harness::Harness;

/// Seconds between a proposal and the start of its vote.
const VOTING_DELAY_SECS: u64 = 100;
/// Seconds a vote stays open.
const VOTING_PERIOD_SECS: u32 = 1_000;
/// Seconds between queueing and execution.
const TIMELOCK_DELAY_SECS: u64 = 600;
/// Liveness epoch length.
const EPOCH_SECS: u64 = 3_600;
/// Tokens each initial member gets.
const MEMBER_TOKENS: u64 = 100;
/// Tokens a passed challenge earns.
const REWARD_PER_PASS: u64 = 5;
/// Tokens the liveness registry starts with: one reward and a bit, so a second claim runs dry.
const REWARD_POOL: u64 = 7;

#[track_caller]
fn assert_reverted<T: std::fmt::Debug>(result: Result<T, ChainError>, error: &str, backend: &str) {
    match result {
        Err(ChainError::Reverted { reason, .. }) => {
            assert!(reason.starts_with(error), "[{backend}] expected {error}, got {reason}")
        }
        other => panic!("[{backend}] expected a revert with {error}, got {other:?}"),
    }
}

/// A collective of three members who delegated to themselves, and its node.
struct Setup {
    h: Harness,
    c: Collective,
    members: [Wallet; 3],
    node: Wallet,
    n: String,
}

fn params(members: &[Wallet], node: &Wallet, proposal_threshold: U256) -> CollectiveParams {
    CollectiveParams {
        name: "hearth.TestCollective".into(),
        symbol: "HTC".into(),
        members: members.iter().map(|m| (m.address(), U256::from(MEMBER_TOKENS))).collect(),
        voting_delay_secs: VOTING_DELAY_SECS,
        voting_period_secs: VOTING_PERIOD_SECS,
        proposal_threshold,
        quorum_percent: 50,
        timelock_delay_secs: TIMELOCK_DELAY_SECS,
        challenger: node.address(),
        epoch_secs: EPOCH_SECS,
        reward_per_pass: U256::from(REWARD_PER_PASS),
        reward_pool: U256::from(REWARD_POOL),
    }
}

async fn setup_with(h: Harness, proposal_threshold: U256) -> Setup {
    let members = [h.wallet().await, h.wallet().await, h.wallet().await];
    let node = h.wallet().await;
    let chain = h.contracts.chain().clone();
    let deployment = deploy_collective(chain.as_ref(), &h.relayer, &params(&members, &node, proposal_threshold))
        .await
        .expect("deploy collective");
    let c = Collective::connect(chain, deployment).await.expect("connect");
    for m in &members {
        c.token().delegate(m, m.address()).await.expect("self-delegate");
    }
    // Votes count from the second after delegation (the governor reads the proposer's votes
    // at `clock() - 1`, and a snapshot must lie in the past).
    h.advance(1).await;
    let n = h.name();
    Setup { h, c, members, node, n }
}

async fn setup(h: Harness) -> Setup {
    setup_with(h, U256::ZERO).await
}

async fn latest_time(s: &Setup) -> u64 {
    s.c.chain().block_timestamp().await.expect("block time")
}

/// Runs `proposal` from proposal to execution with every member voting for it.
async fn pass(s: &Setup, proposal: &hearth_chain::Proposal) {
    let g = s.c.governance();
    let (id, _) = g.propose(&s.members[0], proposal).await.expect("propose");
    s.h.advance(VOTING_DELAY_SECS + 1).await;
    for m in &s.members {
        g.cast_vote(m, id, Support::For).await.expect("vote for");
    }
    s.h.advance(u64::from(VOTING_PERIOD_SECS) + 1).await;
    g.queue(&s.members[1], proposal).await.expect("queue");
    s.h.advance(TIMELOCK_DELAY_SECS + 1).await;
    g.execute(&s.members[2], proposal).await.expect("execute");
    assert_eq!(g.state(id).await.unwrap(), ProposalState::Executed, "[{}]", s.n);
}

#[tokio::test]
async fn setup_hands_every_power_to_the_timelock() {
    for h in Harness::both().await {
        let s = setup(h).await;
        let (c, n, deployer) = (&s.c, &s.n, &s.h.relayer);
        let d = c.deployment();
        let g = c.governance();
        assert_eq!(c.token().owner().await.unwrap(), d.timelock, "[{n}] token owner");
        assert_eq!(c.code().owner().await.unwrap(), d.timelock, "[{n}] registry owner");
        assert!(g.timelock_has_role(proposer_role(), d.governor).await.unwrap(), "[{n}] governor proposes");
        assert!(g.timelock_has_role(canceller_role(), d.governor).await.unwrap(), "[{n}] governor cancels");
        assert!(g.timelock_has_role(executor_role(), Address::ZERO).await.unwrap(), "[{n}] anyone executes");
        assert!(!g.timelock_has_role(DEFAULT_ADMIN_ROLE, deployer.address()).await.unwrap(), "[{n}] admin renounced");
        assert!(!g.timelock_has_role(proposer_role(), deployer.address()).await.unwrap(), "[{n}] deployer");
        assert!(g.timelock_has_role(DEFAULT_ADMIN_ROLE, d.timelock).await.unwrap(), "[{n}] self-administered");

        let settings = g.settings().await.unwrap();
        assert_eq!(settings.voting_delay_secs, VOTING_DELAY_SECS, "[{n}]");
        assert_eq!(settings.voting_period_secs, u64::from(VOTING_PERIOD_SECS), "[{n}]");
        assert_eq!((settings.quorum_percent, settings.timelock_delay_secs), (50, TIMELOCK_DELAY_SECS), "[{n}]");
        assert_eq!(c.token().clock_mode().await.unwrap(), "mode=timestamp", "[{n}] seconds, not blocks");

        for m in &s.members {
            assert_eq!(c.token().balance(m.address()).await.unwrap(), U256::from(MEMBER_TOKENS), "[{n}]");
            assert_eq!(c.token().votes(m.address()).await.unwrap(), U256::from(MEMBER_TOKENS), "[{n}] delegated");
            assert_eq!(c.token().delegates(m.address()).await.unwrap(), m.address(), "[{n}]");
        }
        let supply = U256::from(3 * MEMBER_TOKENS + REWARD_POOL);
        assert_eq!(c.token().total_supply().await.unwrap(), supply, "[{n}]");
        assert_eq!(c.token().balance(d.liveness).await.unwrap(), U256::from(REWARD_POOL), "[{n}] reward pool");

        // The deployer kept no power: it can neither mint nor approve code.
        let stranger = Wallet::random().address();
        assert_reverted(c.token().mint(deployer, stranger, U256::from(1)).await, "OwnableUnauthorizedAccount", n);
        let direct = c.code().approve_directly(deployer, B256::repeat_byte(1), "https://x.example", None).await;
        assert_reverted(direct, "OwnableUnauthorizedAccount", n);

        // A deployment whose parts do not belong together is refused.
        let swapped = CollectiveDeployment { token: d.liveness, liveness: d.token, ..d };
        let err = Collective::connect(c.chain().clone(), swapped).await.expect_err("miswired");
        assert!(err.to_string().contains("not a hearth collective"), "[{n}] {err}");
    }
}

#[tokio::test]
async fn an_approval_goes_through_vote_queue_and_timelock() {
    for h in Harness::both().await {
        let s = setup(h).await;
        let (c, n) = (&s.c, &s.n);
        let g = c.governance();
        let digest = B256::repeat_byte(0xd1);
        let proposal = c.code().approve_proposal(digest, "https://collective.example/code/d1", None, "Run d1");
        assert_eq!(g.hash_proposal(&proposal).await.unwrap(), proposal.id(), "[{n}] Rust and contract ids agree");

        let (id, _) = g.propose(&s.members[0], &proposal).await.expect("propose");
        let proposed_at = latest_time(&s).await;
        assert_eq!(id, proposal.id());
        assert_eq!(g.state(id).await.unwrap(), ProposalState::Pending, "[{n}]");
        let times = g.times(id).await.unwrap();
        assert_eq!(times.snapshot, proposed_at + VOTING_DELAY_SECS, "[{n}] snapshot");
        assert_eq!(times.deadline, times.snapshot + u64::from(VOTING_PERIOD_SECS), "[{n}] deadline");
        assert_eq!(times.eta, None, "[{n}] not queued");
        assert_reverted(g.cast_vote(&s.members[0], id, Support::For).await, "GovernorUnexpectedProposalState", n);
        let listed = g.proposals(0).await.unwrap();
        assert_eq!(listed.len(), 1, "[{n}]");
        assert_eq!((listed[0].id, &listed[0].proposal), (id, &proposal), "[{n}] recovered from the event");
        assert_eq!(listed[0].proposer, s.members[0].address(), "[{n}]");

        s.h.advance(VOTING_DELAY_SECS + 1).await;
        assert_eq!(g.state(id).await.unwrap(), ProposalState::Active, "[{n}]");
        g.cast_vote(&s.members[0], id, Support::For).await.expect("for");
        g.cast_vote(&s.members[1], id, Support::For).await.expect("for");
        g.cast_vote(&s.members[2], id, Support::Against).await.expect("against");
        let tally = g.tally(id).await.unwrap();
        let hundred = U256::from(MEMBER_TOKENS);
        assert_eq!((tally.for_votes, tally.against, tally.abstain), (hundred * U256::from(2), hundred, U256::ZERO));
        assert!(g.has_voted(id, s.members[2].address()).await.unwrap(), "[{n}]");
        assert_eq!(g.quorum(times.snapshot).await.unwrap(), U256::from((3 * MEMBER_TOKENS + REWARD_POOL) / 2));
        assert_reverted(g.queue(&s.members[0], &proposal).await, "GovernorUnexpectedProposalState", n);

        s.h.advance(u64::from(VOTING_PERIOD_SECS) + 1).await;
        assert_eq!(g.state(id).await.unwrap(), ProposalState::Succeeded, "[{n}]");
        assert!(!c.code().is_approved(digest).await.unwrap(), "[{n}] nothing happens before execution");

        g.queue(&s.members[1], &proposal).await.expect("queue");
        let queued_at = latest_time(&s).await;
        assert_eq!(g.state(id).await.unwrap(), ProposalState::Queued, "[{n}]");
        assert_eq!(g.times(id).await.unwrap().eta, Some(queued_at + TIMELOCK_DELAY_SECS), "[{n}] eta");
        // The timelock holds it: executing now names the timelock's refusal.
        assert_reverted(g.execute(&s.members[2], &proposal).await, "TimelockUnexpectedOperationState", n);
        assert!(!c.code().is_approved(digest).await.unwrap(), "[{n}]");

        s.h.advance(TIMELOCK_DELAY_SECS + 1).await;
        g.execute(&s.members[2], &proposal).await.expect("execute");
        assert_eq!(g.state(id).await.unwrap(), ProposalState::Executed, "[{n}]");
        assert!(c.code().is_approved(digest).await.unwrap(), "[{n}] approved");
        let approval = c.code().approval(digest).await.unwrap();
        assert_eq!(approval.description_uri, "https://collective.example/code/d1", "[{n}]");
        assert_eq!((approval.export_to, approval.revoked_at), (None, None), "[{n}]");
        assert!(approval.approved_at.is_some_and(|t| t >= queued_at + TIMELOCK_DELAY_SECS), "[{n}] approved at");
        assert_reverted(g.execute(&s.members[2], &proposal).await, "GovernorUnexpectedProposalState", n);
    }
}

#[tokio::test]
async fn a_defeated_proposal_leaves_the_digest_unapproved_and_cannot_be_queued() {
    for h in Harness::both().await {
        let s = setup(h).await;
        let (c, n) = (&s.c, &s.n);
        let g = c.governance();
        let digest = B256::repeat_byte(0xd2);
        let proposal = c.code().approve_proposal(digest, "https://collective.example/code/d2", None, "Run d2");
        let (id, _) = g.propose(&s.members[0], &proposal).await.expect("propose");
        s.h.advance(VOTING_DELAY_SECS + 1).await;
        g.cast_vote(&s.members[0], id, Support::For).await.unwrap();
        g.cast_vote(&s.members[1], id, Support::Against).await.unwrap();
        g.cast_vote(&s.members[2], id, Support::Against).await.unwrap();
        s.h.advance(u64::from(VOTING_PERIOD_SECS) + 1).await;
        assert_eq!(g.state(id).await.unwrap(), ProposalState::Defeated, "[{n}]");
        assert_reverted(g.queue(&s.members[0], &proposal).await, "GovernorUnexpectedProposalState", n);
        assert_reverted(g.execute(&s.members[0], &proposal).await, "GovernorUnexpectedProposalState", n);
        assert!(!c.code().is_approved(digest).await.unwrap(), "[{n}] still unapproved");
        assert_eq!(c.code().approval(digest).await.unwrap().approved_at, None, "[{n}] never approved");
    }
}

#[tokio::test]
async fn a_second_proposal_revokes_an_approval() {
    for h in Harness::both().await {
        let s = setup(h).await;
        let (c, n) = (&s.c, &s.n);
        let digest = B256::repeat_byte(0xd3);
        let heavy_node = Wallet::random().address();
        let uri = "https://collective.example/code/d3";
        pass(&s, &c.code().approve_proposal(digest, uri, Some(heavy_node), "Export to a GPU node for d3")).await;
        let approved = c.code().approval(digest).await.unwrap();
        assert!(approved.approved && approved.export_to == Some(heavy_node), "[{n}] {approved:?}");

        pass(&s, &c.code().revoke_proposal(digest, "Stop d3")).await;
        assert!(!c.code().is_approved(digest).await.unwrap(), "[{n}] revoked");
        let revoked = c.code().approval(digest).await.unwrap();
        assert!(revoked.revoked_at.is_some_and(|r| r >= approved.approved_at.unwrap()), "[{n}] {revoked:?}");
        assert_eq!((revoked.description_uri.as_str(), revoked.export_to), (uri, Some(heavy_node)), "[{n}] kept");
        let listed = c.code().list().await.unwrap();
        assert_eq!(listed, vec![(digest, revoked)], "[{n}] listed once, as revoked");

        // Revoking again passes the vote but the registry refuses, so execution reverts with
        // the registry's error, and the proposal stays queued.
        let again = c.code().revoke_proposal(digest, "Stop d3 again");
        let g = c.governance();
        let (id, _) = g.propose(&s.members[0], &again).await.unwrap();
        s.h.advance(VOTING_DELAY_SECS + 1).await;
        for m in &s.members {
            g.cast_vote(m, id, Support::For).await.unwrap();
        }
        s.h.advance(u64::from(VOTING_PERIOD_SECS) + 1).await;
        g.queue(&s.members[0], &again).await.unwrap();
        s.h.advance(TIMELOCK_DELAY_SECS + 1).await;
        assert_reverted(g.execute(&s.members[0], &again).await, "NotApproved", n);
        assert_eq!(g.state(id).await.unwrap(), ProposalState::Queued, "[{n}]");
    }
}

#[tokio::test]
async fn only_votes_delegated_before_the_snapshot_count() {
    for h in Harness::both().await {
        let s = setup(h).await;
        let (c, n) = (&s.c, &s.n);
        let g = c.governance();
        // A holder who has tokens but has not delegated, and a stranger without tokens.
        let (holder, stranger) = (s.h.wallet().await, s.h.wallet().await);
        c.token().transfer(&s.members[0], holder.address(), U256::from(10)).await.unwrap();
        let proposal = c.code().approve_proposal(B256::repeat_byte(0xd4), "https://x.example/d4", None, "Run d4");
        let (id, _) = g.propose(&stranger, &proposal).await.expect("anyone may propose at threshold zero");
        s.h.advance(VOTING_DELAY_SECS + 1).await;
        // The governor refuses a vote without weight at the snapshot (it does not count it as zero).
        assert_reverted(g.cast_vote(&stranger, id, Support::For).await, "NoVotingPower", n);
        assert!(!g.has_voted(id, stranger.address()).await.unwrap(), "[{n}] not recorded");
        assert_reverted(g.cast_vote(&holder, id, Support::For).await, "NoVotingPower", n);
        // The holder delegates now, after the snapshot: its votes count for later proposals only.
        c.token().delegate(&holder, holder.address()).await.unwrap();
        assert_eq!(c.token().votes(holder.address()).await.unwrap(), U256::from(10), "[{n}] votes now");
        assert_reverted(g.cast_vote(&holder, id, Support::For).await, "NoVotingPower", n);
        g.cast_vote(&s.members[0], id, Support::Against).await.unwrap();
        assert_reverted(g.cast_vote(&s.members[0], id, Support::For).await, "GovernorAlreadyCastVote", n);
        let tally = g.tally(id).await.unwrap();
        assert_eq!((tally.for_votes, tally.against), (U256::ZERO, U256::from(MEMBER_TOKENS - 10)), "[{n}]");
    }
}

#[tokio::test]
async fn a_proposal_threshold_keeps_non_members_from_proposing() {
    for h in Harness::both().await {
        let s = setup_with(h, U256::from(MEMBER_TOKENS / 2)).await;
        let (c, n) = (&s.c, &s.n);
        let g = c.governance();
        let stranger = s.h.wallet().await;
        let proposal = c.code().approve_proposal(B256::repeat_byte(0xd5), "https://x.example/d5", None, "Run d5");
        assert_reverted(g.propose(&stranger, &proposal).await, "GovernorInsufficientProposerVotes", n);
        let (id, _) = g.propose(&s.members[0], &proposal).await.expect("a member may");
        // The proposer may cancel while the vote has not started.
        g.cancel(&s.members[0], &proposal).await.expect("cancel");
        assert_eq!(g.state(id).await.unwrap(), ProposalState::Canceled, "[{n}]");
    }
}

#[tokio::test]
async fn a_new_member_is_admitted_by_a_vote() {
    for h in Harness::both().await {
        let s = setup(h).await;
        let (c, n) = (&s.c, &s.n);
        let newcomer = Wallet::random().address();
        pass(&s, &c.token().mint_proposal(newcomer, U256::from(40), "Admit a member")).await;
        assert_eq!(c.token().balance(newcomer).await.unwrap(), U256::from(40), "[{n}] minted by the timelock");
    }
}

/// A sorted-pair Merkle tree (OpenZeppelin's `MerkleProof`) over four leaves: root and the
/// proof of each leaf.
fn tree4(leaves: [B256; 4]) -> (B256, [Vec<B256>; 4]) {
    let pair = |a: B256, b: B256| {
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        keccak256([lo.as_slice(), hi.as_slice()].concat())
    };
    let (left, right) = (pair(leaves[0], leaves[1]), pair(leaves[2], leaves[3]));
    let root = pair(left, right);
    let proofs = [vec![leaves[1], right], vec![leaves[0], right], vec![leaves[3], left], vec![leaves[2], left]];
    (root, proofs)
}

#[tokio::test]
async fn liveness_passes_earn_rewards_that_claims_pay() {
    for h in Harness::both().await {
        let s = setup(h).await;
        let (c, n, node) = (&s.c, &s.n, &s.node);
        let l = c.liveness();
        let (alice, bob) = (&s.members[0], &s.members[1]);
        assert_eq!(l.challenger().await.unwrap(), node.address(), "[{n}]");
        assert_eq!(l.epoch_secs().await.unwrap(), EPOCH_SECS, "[{n}]");

        let chunk_hashes = [1u8, 2, 3, 4].map(B256::repeat_byte);
        let leaves = [0u64, 1, 2, 3].map(|i| chunk_leaf(i, chunk_hashes[i as usize]));
        let (root, proofs) = tree4(leaves);
        let commitment = StorageCommitment {
            merkle_root: root,
            ciphertext_sha256: B256::repeat_byte(9),
            chunk_count: 4,
            chunk_size: 1024,
        };
        let a = l.register(alice, &commitment).await.expect("register");
        let b = l.register(bob, &StorageCommitment { merkle_root: B256::repeat_byte(8), ..commitment }).await.unwrap();
        assert_eq!((a, b), (U256::from(1), U256::from(2)), "[{n}] ids from 1");
        assert_eq!(l.contribution_count().await.unwrap(), 2, "[{n}]");
        let stored = l.contribution(a).await.unwrap();
        assert_eq!((stored.contributor, stored.merkleRoot, stored.chunkCount), (alice.address(), root, 4), "[{n}]");
        let zero = StorageCommitment { merkle_root: B256::ZERO, ..commitment };
        assert_reverted(l.register(alice, &zero).await, "ZeroCommitment", n);
        assert_reverted(
            l.register(alice, &StorageCommitment { chunk_count: 0, ..commitment }).await,
            "InvalidChunkCount",
            n,
        );

        // The Merkle format is the same in Rust and in the contract.
        for i in 0..4u64 {
            let idx = i as usize;
            assert_eq!(l.chunk_leaf(i, chunk_hashes[idx]).await.unwrap(), leaves[idx], "[{n}] leaf {i}");
            assert!(l.verify_chunk(a, i, chunk_hashes[idx], &proofs[idx]).await.unwrap(), "[{n}] proof {i}");
        }
        assert!(!l.verify_chunk(a, 0, B256::repeat_byte(7), &proofs[0]).await.unwrap(), "[{n}] wrong chunk");
        assert!(!l.verify_chunk(a, 1, chunk_hashes[0], &proofs[0]).await.unwrap(), "[{n}] wrong index");

        // Epoch 0: nothing before it is opened; only the node opens and records.
        assert_eq!(l.current_epoch().await.unwrap(), 0, "[{n}]");
        assert_reverted(l.challenge_seed(0).await, "EpochNotOpen", n);
        assert_reverted(l.record_result(node, a, 0, true).await, "EpochNotOpen", n);
        assert_reverted(l.open_epoch(alice).await, "NotChallenger", n);
        let (epoch, seed) = l.open_epoch(node).await.expect("open epoch");
        assert_eq!((epoch, l.challenge_seed(0).await.unwrap()), (0, seed), "[{n}]");
        assert_ne!(seed, B256::ZERO, "[{n}]");
        assert_reverted(l.open_epoch(node).await, "EpochAlreadyOpen", n);
        for i in 0..3 {
            let on_chain = l.challenge_chunk(a, 0, i).await.unwrap();
            assert_eq!(on_chain, challenge_chunk(seed, a, i, 4).unwrap(), "[{n}] challenge {i}");
            assert!(on_chain < 4);
        }

        assert_reverted(l.record_result(alice, a, 0, true).await, "NotChallenger", n);
        l.record_result(node, a, 0, true).await.expect("pass");
        assert_eq!(l.rewards(alice.address()).await.unwrap(), U256::from(REWARD_PER_PASS), "[{n}] accrued");
        assert_eq!(l.result(a, 0).await.unwrap(), ChallengeResult::Passed, "[{n}]");
        assert_reverted(l.record_result(node, a, 0, false).await, "AlreadyRecorded", n);
        l.record_result(node, b, 0, false).await.expect("fail");
        assert_eq!(l.rewards(bob.address()).await.unwrap(), U256::ZERO, "[{n}] a fail earns nothing");
        assert_eq!(l.result(b, 0).await.unwrap(), ChallengeResult::Failed, "[{n}]");
        assert_reverted(l.record_result(node, U256::from(3), 0, true).await, "UnknownContribution", n);

        let before = c.token().balance(alice.address()).await.unwrap();
        assert_eq!(l.claim(alice).await.expect("claim"), U256::from(REWARD_PER_PASS), "[{n}]");
        assert_eq!(c.token().balance(alice.address()).await.unwrap(), before + U256::from(REWARD_PER_PASS), "[{n}]");
        assert_eq!(l.rewards(alice.address()).await.unwrap(), U256::ZERO, "[{n}]");
        assert_reverted(l.claim(alice).await, "NothingToClaim", n);
        assert_reverted(l.claim(bob).await, "NothingToClaim", n);

        // Epoch 1: a result may still be recorded for epoch 0; two epochs on, no longer.
        s.h.advance(EPOCH_SECS).await;
        assert_eq!(l.current_epoch().await.unwrap(), 1, "[{n}]");
        assert_reverted(l.record_result(node, a, 1, true).await, "EpochNotOpen", n);
        let (epoch, seed1) = l.open_epoch(node).await.unwrap();
        assert!(epoch == 1 && seed1 != seed, "[{n}] a new seed");
        l.record_result(node, a, 1, true).await.expect("pass in epoch 1");
        // The pool held 7 and paid 5: the second reward of 5 stays accrued until funded.
        assert_reverted(l.claim(alice).await, "InsufficientRewardFunds", n);
        assert_eq!(l.rewards(alice.address()).await.unwrap(), U256::from(REWARD_PER_PASS), "[{n}] kept");
        assert_eq!(l.outstanding_rewards().await.unwrap(), U256::from(REWARD_PER_PASS), "[{n}]");
        s.h.advance(EPOCH_SECS).await;
        l.record_result(node, b, 1, true).await.expect("one epoch late is still accepted");
        assert_reverted(l.record_result(node, b, 1, true).await, "AlreadyRecorded", n);
        assert_eq!(l.open_epoch(node).await.unwrap().0, 2, "[{n}]");
        s.h.advance(EPOCH_SECS).await;
        let c3 = l.register(bob, &commitment).await.unwrap();
        assert_reverted(l.record_result(node, c3, 2, true).await, "NotRegisteredInEpoch", n);
        assert_reverted(l.record_result(node, a, 1, true).await, "EpochClosed", n);
        let (epoch, _) = l.open_epoch(node).await.unwrap();
        assert_eq!(epoch, 3, "[{n}]");
        l.record_result(node, c3, 3, true).await.expect("a new contribution counts from its epoch");
    }
}
