//! A data collective on any [`Chain`]: deploying its contracts (membership token, timelock,
//! governor, code registry, liveness registry) and typed access to each — delegation, proposals
//! and their life cycle, approved code digests, storage commitments, challenge results and rewards.
//!
//! Every delay, period and epoch is in seconds: the token's clock is the block timestamp, because
//! the embedded chain mines a block only when a transaction arrives (block numbers stand still on
//! an idle node, time does not).

use std::sync::Arc;

use alloy_primitives::aliases::U48;
use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use alloy_sol_types::{SolCall, SolConstructor, SolEvent, SolValue};
use serde::{Deserialize, Serialize};

use crate::bindings::{CodeRegistry, CollectiveGovernor, CollectiveTimelock, LivenessRegistry, MembershipToken};
use crate::chain::{Chain, LogEntry, Receipt};
use crate::contracts::{decode_with, events_on, in_contract, transact_on, view_on};
use crate::error::{ChainError, Result};
use crate::limits::{
    CODE_DIGESTS_LISTED_MAX, COLLECTIVE_HOLDERS_LISTED_MAX, COLLECTIVE_MEMBERS_MAX, PROPOSAL_ACTIONS_MAX,
    PROPOSAL_DESCRIPTION_BYTES_MAX,
};
use crate::wallet::Wallet;

const TOKEN: &str = "MembershipToken";
const TIMELOCK: &str = "CollectiveTimelock";
const GOVERNOR: &str = "CollectiveGovernor";
const CODE: &str = "CodeRegistry";
const LIVENESS: &str = "LivenessRegistry";

/// Largest quorum, in percent of the token supply.
pub const QUORUM_PERCENT_MAX: u8 = 100;
/// Longest liveness epoch, in seconds (the contract's `MAX_EPOCH_SECONDS`).
pub const EPOCH_SECS_MAX: u64 = 366 * 24 * 3600;
/// Longest voting delay the governor stores (`uint48`), in seconds.
pub const VOTING_DELAY_SECS_MAX: u64 = (1 << 48) - 1;

/// Gas added to the estimate of every collective transaction (per action for `execute`): a
/// vote checkpoint that lands in a later second than its estimate writes a fresh storage slot
/// (about 22,100 gas) instead of updating one, and a token transfer or mint writes up to two.
pub const VOTES_CHECKPOINT_GAS_HEADROOM: u64 = 50_000;

/// Names a collective contract's custom error (OpenZeppelin's inherited ones included).
pub(crate) fn decode_collective_revert(data: &[u8]) -> Option<String> {
    decode_with::<CollectiveGovernor::CollectiveGovernorErrors>(data)
        .or_else(|| decode_with::<CollectiveTimelock::CollectiveTimelockErrors>(data))
        .or_else(|| decode_with::<CodeRegistry::CodeRegistryErrors>(data))
        .or_else(|| decode_with::<LivenessRegistry::LivenessRegistryErrors>(data))
        .or_else(|| decode_with::<MembershipToken::MembershipTokenErrors>(data))
}

/// How a collective is set up by [`deploy_collective`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectiveParams {
    /// The collective's name: the token's name and the governor's (both EIP-712 domain names).
    pub name: String,
    /// The token's symbol.
    pub symbol: String,
    /// Initial members and their token amounts (smallest unit). Each must still delegate
    /// ([`Membership::delegate`]) before its tokens count as votes.
    pub members: Vec<(Address, U256)>,
    /// Seconds between a proposal and the start of its vote.
    pub voting_delay_secs: u64,
    /// Seconds a vote stays open (at least 1).
    pub voting_period_secs: u32,
    /// Votes needed to propose; zero lets anyone (a data requester) propose.
    pub proposal_threshold: U256,
    /// Percent of the supply at a proposal's snapshot that must vote for or abstain (1 to 100).
    pub quorum_percent: u8,
    /// Seconds between queueing a passed proposal and executing it.
    pub timelock_delay_secs: u64,
    /// The collective node: the only account that opens liveness epochs and records results.
    pub challenger: Address,
    /// Length of a liveness epoch, in seconds (1 to [`EPOCH_SECS_MAX`]).
    pub epoch_secs: u64,
    /// Tokens one passed challenge earns.
    pub reward_per_pass: U256,
    /// Tokens minted to the liveness registry at setup to pay rewards from.
    pub reward_pool: U256,
}

impl CollectiveParams {
    fn validate(&self) -> Result<()> {
        let invalid = |m: String| Err(ChainError::Invalid(m));
        if self.name.is_empty() || self.symbol.is_empty() {
            return invalid("a collective needs a name and a token symbol".into());
        }
        if self.members.is_empty() {
            return invalid("a collective needs at least one initial member".into());
        }
        if self.members.len() > COLLECTIVE_MEMBERS_MAX {
            return Err(ChainError::LimitExceeded {
                what: "initial members",
                actual: self.members.len() as u64,
                max: COLLECTIVE_MEMBERS_MAX as u64,
            });
        }
        for (i, (member, amount)) in self.members.iter().enumerate() {
            if member.is_zero() || amount.is_zero() {
                return invalid(format!("member {member} needs a non-zero address and a non-zero amount"));
            }
            if self.members[..i].iter().any(|(m, _)| m == member) {
                return invalid(format!("member {member} is listed twice"));
            }
        }
        if self.voting_delay_secs > VOTING_DELAY_SECS_MAX {
            return invalid(format!("voting delay {} s is over {VOTING_DELAY_SECS_MAX} s", self.voting_delay_secs));
        }
        if self.voting_period_secs == 0 {
            return invalid("the voting period must be at least one second".into());
        }
        if self.quorum_percent == 0 || self.quorum_percent > QUORUM_PERCENT_MAX {
            return invalid(format!("quorum {}% is not between 1% and 100%", self.quorum_percent));
        }
        if self.challenger.is_zero() {
            return invalid("the liveness challenger (the collective node) must be set".into());
        }
        if self.epoch_secs == 0 || self.epoch_secs > EPOCH_SECS_MAX {
            return invalid(format!("epoch {} s is not between 1 s and {EPOCH_SECS_MAX} s", self.epoch_secs));
        }
        Ok(())
    }
}

/// Where one collective's contracts live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectiveDeployment {
    /// `MembershipToken`: votes (owned by the timelock).
    pub token: Address,
    /// `CollectiveTimelock`: executes passed proposals after its delay.
    pub timelock: Address,
    /// `CollectiveGovernor`: proposals and votes.
    pub governor: Address,
    /// `CodeRegistry`: approved code digests (owned by the timelock).
    pub code_registry: Address,
    /// `LivenessRegistry`: storage commitments, challenge results, rewards.
    pub liveness: Address,
}

impl CollectiveDeployment {
    /// Each contract's name and address, in deployment order.
    pub fn entries(&self) -> [(&'static str, Address); 5] {
        [
            (TOKEN, self.token),
            (TIMELOCK, self.timelock),
            (GOVERNOR, self.governor),
            (CODE, self.code_registry),
            (LIVENESS, self.liveness),
        ]
    }
}

/// The timelock role that may schedule operations (`keccak256("PROPOSER_ROLE")`).
pub fn proposer_role() -> B256 {
    keccak256("PROPOSER_ROLE")
}

/// The timelock role that may cancel operations (`keccak256("CANCELLER_ROLE")`).
pub fn canceller_role() -> B256 {
    keccak256("CANCELLER_ROLE")
}

/// The timelock role that may execute operations (`keccak256("EXECUTOR_ROLE")`); held by the
/// zero address, it is open to anyone.
pub fn executor_role() -> B256 {
    keccak256("EXECUTOR_ROLE")
}

/// The admin role of the timelock (zero); renounced by the deployer at the end of setup.
pub const DEFAULT_ADMIN_ROLE: B256 = B256::ZERO;

/// Deploys `bytecode` with ABI-encoded constructor `args` and returns the new contract's address.
async fn deploy(
    chain: &dyn Chain,
    chain_id: u64,
    deployer: &Wallet,
    name: &'static str,
    bytecode: &Bytes,
    args: Vec<u8>,
) -> Result<Address> {
    let mut code = bytecode.to_vec();
    code.extend_from_slice(&args);
    let receipt = deployer.send(chain, chain_id, None, code.into()).await.map_err(|e| in_contract(e, name))?;
    receipt.contract_address.ok_or_else(|| ChainError::Decode {
        what: "deployment receipt",
        reason: format!("{name} was mined without a contract address"),
    })
}

/// Deploys a collective with `deployer` (which pays and is its only admin during setup):
/// the token (minted to the members and, as reward pool, to the liveness registry), the
/// timelock (the governor proposes and cancels, anyone executes), the governor, the code
/// registry owned by the timelock and the liveness registry. Then the token's ownership goes
/// to the timelock and the deployer renounces the timelock's admin role, so from here on only
/// votes change the collective. Not atomic: on an error, deploy again (new addresses).
pub async fn deploy_collective(
    chain: &dyn Chain,
    deployer: &Wallet,
    params: &CollectiveParams,
) -> Result<CollectiveDeployment> {
    params.validate()?;
    let chain_id = chain.chain_id().await?;
    let me = deployer.address();
    let token_args = MembershipToken::constructorCall {
        name_: params.name.clone(),
        symbol_: params.symbol.clone(),
        initialOwner: me,
    };
    let token = deploy(chain, chain_id, deployer, TOKEN, &MembershipToken::BYTECODE, token_args.abi_encode()).await?;
    let timelock_args = CollectiveTimelock::constructorCall {
        minDelay: U256::from(params.timelock_delay_secs),
        proposers: vec![],
        executors: vec![Address::ZERO],
        admin: me,
    };
    let timelock =
        deploy(chain, chain_id, deployer, TIMELOCK, &CollectiveTimelock::BYTECODE, timelock_args.abi_encode()).await?;
    let governor_args = CollectiveGovernor::constructorCall {
        token,
        timelock,
        name_: params.name.clone(),
        votingDelaySeconds: U48::from(params.voting_delay_secs),
        votingPeriodSeconds: params.voting_period_secs,
        proposalThreshold_: params.proposal_threshold,
        quorumPercent: U256::from(params.quorum_percent),
    };
    let governor =
        deploy(chain, chain_id, deployer, GOVERNOR, &CollectiveGovernor::BYTECODE, governor_args.abi_encode()).await?;
    let code_args = CodeRegistry::constructorCall { owner_: timelock };
    let code_registry =
        deploy(chain, chain_id, deployer, CODE, &CodeRegistry::BYTECODE, code_args.abi_encode()).await?;
    let liveness_args = LivenessRegistry::constructorCall {
        challenger_: params.challenger,
        epochSeconds_: params.epoch_secs,
        rewardToken_: token,
        rewardPerPass_: params.reward_per_pass,
    };
    let liveness =
        deploy(chain, chain_id, deployer, LIVENESS, &LivenessRegistry::BYTECODE, liveness_args.abi_encode()).await?;

    for role in [proposer_role(), canceller_role()] {
        let call = CollectiveTimelock::grantRoleCall { role, account: governor };
        transact_on(chain, chain_id, deployer, TIMELOCK, timelock, call, 0).await?;
    }
    let mints =
        params.members.iter().copied().chain((!params.reward_pool.is_zero()).then_some((liveness, params.reward_pool)));
    for (to, amount) in mints {
        let mint = MembershipToken::mintCall { to, amount };
        transact_on(chain, chain_id, deployer, TOKEN, token, mint, VOTES_CHECKPOINT_GAS_HEADROOM).await?;
    }
    let handover = MembershipToken::transferOwnershipCall { newOwner: timelock };
    transact_on(chain, chain_id, deployer, TOKEN, token, handover, 0).await?;
    let renounce = CollectiveTimelock::renounceRoleCall { role: DEFAULT_ADMIN_ROLE, callerConfirmation: me };
    transact_on(chain, chain_id, deployer, TIMELOCK, timelock, renounce, 0).await?;
    Ok(CollectiveDeployment { token, timelock, governor, code_registry, liveness })
}

/// A connection to one collective's contracts.
#[derive(Clone)]
pub struct Collective {
    chain: Arc<dyn Chain>,
    chain_id: u64,
    deployment: CollectiveDeployment,
}

impl std::fmt::Debug for Collective {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Collective").field("chain_id", &self.chain_id).field("deployment", &self.deployment).finish()
    }
}

impl Collective {
    /// Connects to the collective at `deployment`, checking that every contract has code and
    /// that they are wired together: the governor votes with the token and executes through
    /// the timelock, which owns the token and the code registry, and the liveness registry
    /// pays in the token.
    pub async fn connect(chain: Arc<dyn Chain>, deployment: CollectiveDeployment) -> Result<Collective> {
        let chain_id = chain.chain_id().await?;
        crate::contracts::require_code(chain.as_ref(), chain_id, deployment.entries()).await?;
        let c = Collective { chain, chain_id, deployment };
        let d = &deployment;
        let miswired = |what: &str, actual: std::result::Result<Address, ChainError>, expected: Address| match actual {
            Ok(actual) if actual == expected => Ok(()),
            Ok(actual) => {
                Err(ChainError::Invalid(format!("not a hearth collective: {what} is {actual}, expected {expected}")))
            }
            Err(e) => Err(ChainError::Invalid(format!("not a hearth collective: cannot read {what}: {e}"))),
        };
        // One at a time: a contract in the wrong place may not even have the function asked next.
        miswired(
            "the governor's token",
            c.view(GOVERNOR, d.governor, CollectiveGovernor::tokenCall {}).await,
            d.token,
        )?;
        let timelock = c.view(GOVERNOR, d.governor, CollectiveGovernor::timelockCall {}).await;
        miswired("the governor's timelock", timelock, d.timelock)?;
        miswired("the token's owner", c.view(TOKEN, d.token, MembershipToken::ownerCall {}).await, d.timelock)?;
        let code_owner = c.view(CODE, d.code_registry, CodeRegistry::ownerCall {}).await;
        miswired("the code registry's owner", code_owner, d.timelock)?;
        let reward_token = c.view(LIVENESS, d.liveness, LivenessRegistry::rewardTokenCall {}).await;
        miswired("the liveness reward token", reward_token, d.token)?;
        Ok(c)
    }

    /// The chain underneath.
    pub fn chain(&self) -> &Arc<dyn Chain> {
        &self.chain
    }

    /// The chain id.
    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// The contracts' addresses.
    pub fn deployment(&self) -> CollectiveDeployment {
        self.deployment
    }

    /// `MembershipToken`: balances, delegation, votes.
    pub fn token(&self) -> Membership<'_> {
        Membership(self)
    }

    /// `CollectiveGovernor` (and its timelock): proposals and votes.
    pub fn governance(&self) -> Governance<'_> {
        Governance(self)
    }

    /// `CodeRegistry`: approved code digests.
    pub fn code(&self) -> CodeApprovals<'_> {
        CodeApprovals(self)
    }

    /// `LivenessRegistry`: storage commitments, challenges and rewards.
    pub fn liveness(&self) -> Liveness<'_> {
        Liveness { chain: self.chain.as_ref(), chain_id: self.chain_id, address: self.deployment.liveness }
    }

    async fn view<C: SolCall>(&self, contract: &'static str, to: Address, call: C) -> Result<C::Return> {
        view_on(self.chain.as_ref(), contract, to, call).await
    }

    async fn transact<C: SolCall>(
        &self,
        sender: &Wallet,
        contract: &'static str,
        to: Address,
        call: C,
    ) -> Result<Receipt> {
        self.transact_with_gas(sender, contract, to, call, VOTES_CHECKPOINT_GAS_HEADROOM).await
    }

    async fn transact_with_gas<C: SolCall>(
        &self,
        sender: &Wallet,
        contract: &'static str,
        to: Address,
        call: C,
        extra_gas: u64,
    ) -> Result<Receipt> {
        transact_on(self.chain.as_ref(), self.chain_id, sender, contract, to, call, extra_gas).await
    }
}

fn first_event<E: SolEvent>(receipt: &Receipt, address: Address, what: &'static str) -> Result<E> {
    receipt
        .logs
        .iter()
        .filter(|log| log.address == address)
        .find_map(|log| E::decode_raw_log(log.topics.iter().copied(), &log.data).ok())
        .ok_or(ChainError::Decode { what, reason: format!("no {} event in the receipt", E::SIGNATURE) })
}

fn to_u64(value: U256, what: &'static str) -> Result<u64> {
    u64::try_from(value).map_err(|_| ChainError::Decode { what, reason: format!("{value} does not fit 64 bits") })
}

/// `MembershipToken` of one collective.
#[derive(Debug, Clone, Copy)]
pub struct Membership<'a>(&'a Collective);

impl Membership<'_> {
    /// The contract's address.
    pub fn address(&self) -> Address {
        self.0.deployment.token
    }

    /// `member` delegates its votes to `to` (itself, to vote in person). Votes count from the
    /// block this is mined in; a proposal counts the votes at its snapshot.
    pub async fn delegate(&self, member: &Wallet, to: Address) -> Result<Receipt> {
        self.0.transact(member, TOKEN, self.address(), MembershipToken::delegateCall { delegatee: to }).await
    }

    /// Whom `account` delegates to (zero if nobody: its tokens do not vote).
    pub async fn delegates(&self, account: Address) -> Result<Address> {
        self.0.view(TOKEN, self.address(), MembershipToken::delegatesCall { account }).await
    }

    /// The votes `account` holds now.
    pub async fn votes(&self, account: Address) -> Result<U256> {
        self.0.view(TOKEN, self.address(), MembershipToken::getVotesCall { account }).await
    }

    /// The votes `account` held at unix time `at` (which must be in the past).
    pub async fn past_votes(&self, account: Address, at: u64) -> Result<U256> {
        let call = MembershipToken::getPastVotesCall { account, timepoint: U256::from(at) };
        self.0.view(TOKEN, self.address(), call).await
    }

    /// The tokens `account` holds.
    pub async fn balance(&self, account: Address) -> Result<U256> {
        self.0.view(TOKEN, self.address(), MembershipToken::balanceOfCall { account }).await
    }

    /// `from` sends `amount` of its tokens to `to` (votes move only between delegates).
    pub async fn transfer(&self, from: &Wallet, to: Address, amount: U256) -> Result<Receipt> {
        self.0.transact(from, TOKEN, self.address(), MembershipToken::transferCall { to, value: amount }).await
    }

    /// All tokens in existence.
    pub async fn total_supply(&self) -> Result<U256> {
        self.0.view(TOKEN, self.address(), MembershipToken::totalSupplyCall {}).await
    }

    /// Who may mint (the timelock once set up).
    pub async fn owner(&self) -> Result<Address> {
        self.0.view(TOKEN, self.address(), MembershipToken::ownerCall {}).await
    }

    /// The ERC-6372 clock mode (`mode=timestamp`).
    pub async fn clock_mode(&self) -> Result<String> {
        self.0.view(TOKEN, self.address(), MembershipToken::CLOCK_MODECall {}).await
    }

    /// `owner` mints `amount` to `to`; only the token's owner may (during setup the deployer,
    /// afterwards a proposal built with [`Membership::mint_proposal`]).
    pub async fn mint(&self, owner: &Wallet, to: Address, amount: U256) -> Result<Receipt> {
        self.0.transact(owner, TOKEN, self.address(), MembershipToken::mintCall { to, amount }).await
    }

    /// A proposal admitting `to` with `amount` new tokens.
    pub fn mint_proposal(&self, to: Address, amount: U256, description: &str) -> Proposal {
        Proposal {
            actions: vec![Action::call(self.address(), MembershipToken::mintCall { to, amount })],
            description: description.to_owned(),
        }
    }

    /// Every account that ever received tokens since `from_block` (the deployment's block
    /// covers all), in order of first receipt; some may hold nothing now.
    pub async fn holders(&self, from_block: u64) -> Result<Vec<Address>> {
        let topic = MembershipToken::Transfer::SIGNATURE_HASH;
        let events: Vec<(LogEntry, MembershipToken::MembershipTokenEvents)> =
            events_on(self.0.chain.as_ref(), self.address(), from_block, Some(topic)).await?;
        let mut out: Vec<Address> = Vec::new();
        for (_, event) in events {
            let MembershipToken::MembershipTokenEvents::Transfer(t) = event else { continue };
            if !t.to.is_zero() && !out.contains(&t.to) {
                if out.len() == COLLECTIVE_HOLDERS_LISTED_MAX {
                    return Err(ChainError::LimitExceeded {
                        what: "token holders listed",
                        actual: out.len() as u64 + 1,
                        max: COLLECTIVE_HOLDERS_LISTED_MAX as u64,
                    });
                }
                out.push(t.to);
            }
        }
        Ok(out)
    }
}

/// One call a proposal makes through the timelock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Action {
    /// The contract called.
    pub target: Address,
    /// Wei sent with the call.
    pub value: U256,
    /// ABI-encoded call data.
    pub calldata: Bytes,
}

impl Action {
    /// A call of `call` on `target` sending no value.
    pub fn call<C: SolCall>(target: Address, call: C) -> Action {
        Action { target, value: U256::ZERO, calldata: call.abi_encode().into() }
    }
}

/// A governance proposal: the calls the timelock makes if it passes, and the text voters read.
/// Its id is a hash of both ([`Proposal::id`]); queueing and executing need the same values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proposal {
    /// The calls, made in order by the timelock.
    pub actions: Vec<Action>,
    /// What voters read (a title line, then details).
    pub description: String,
}

impl Proposal {
    fn check(&self) -> Result<()> {
        if self.actions.is_empty() {
            return Err(ChainError::Invalid("a proposal needs at least one action".into()));
        }
        if self.actions.len() > PROPOSAL_ACTIONS_MAX {
            return Err(ChainError::LimitExceeded {
                what: "actions in one proposal",
                actual: self.actions.len() as u64,
                max: PROPOSAL_ACTIONS_MAX as u64,
            });
        }
        if self.description.len() > PROPOSAL_DESCRIPTION_BYTES_MAX {
            return Err(ChainError::LimitExceeded {
                what: "proposal description bytes",
                actual: self.description.len() as u64,
                max: PROPOSAL_DESCRIPTION_BYTES_MAX as u64,
            });
        }
        Ok(())
    }

    /// The targets, values and calldatas arrays the governor takes.
    pub fn arrays(&self) -> (Vec<Address>, Vec<U256>, Vec<Bytes>) {
        let targets = self.actions.iter().map(|a| a.target).collect();
        let values = self.actions.iter().map(|a| a.value).collect();
        let calldatas = self.actions.iter().map(|a| a.calldata.clone()).collect();
        (targets, values, calldatas)
    }

    /// `keccak256` of the description, as queue and execute take it.
    pub fn description_hash(&self) -> B256 {
        keccak256(self.description.as_bytes())
    }

    /// The proposal id: `uint256(keccak256(abi.encode(targets, values, calldatas, descriptionHash)))`,
    /// the governor's `hashProposal`.
    pub fn id(&self) -> U256 {
        let (targets, values, calldatas) = self.arrays();
        let encoded = (targets, values, calldatas, self.description_hash()).abi_encode_params();
        U256::from_be_bytes(keccak256(encoded).0)
    }
}

/// Where a proposal is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProposalState {
    /// Proposed; the vote has not started (until the snapshot).
    Pending,
    /// The vote is open.
    Active,
    /// Cancelled by its proposer before the vote, or through the timelock.
    Canceled,
    /// The vote ended without quorum or without more for than against.
    Defeated,
    /// The vote passed; it can be queued.
    Succeeded,
    /// Queued in the timelock; executable once its eta has passed.
    Queued,
    /// Not used with a timelock (kept for the governor's numbering).
    Expired,
    /// Executed: its calls were made.
    Executed,
}

impl ProposalState {
    /// The state for the governor's `uint8` code.
    pub fn from_code(code: u8) -> Option<ProposalState> {
        use ProposalState::*;
        [Pending, Active, Canceled, Defeated, Succeeded, Queued, Expired, Executed].get(usize::from(code)).copied()
    }

    /// The lowercase name (`pending`, `active`, ...).
    pub fn as_str(&self) -> &'static str {
        match self {
            ProposalState::Pending => "pending",
            ProposalState::Active => "active",
            ProposalState::Canceled => "canceled",
            ProposalState::Defeated => "defeated",
            ProposalState::Succeeded => "succeeded",
            ProposalState::Queued => "queued",
            ProposalState::Expired => "expired",
            ProposalState::Executed => "executed",
        }
    }
}

impl std::fmt::Display for ProposalState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A vote's direction (the governor's simple counting).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Support {
    /// Against (code 0).
    Against,
    /// For (code 1).
    For,
    /// Abstain (code 2): counts toward quorum only.
    Abstain,
}

impl Support {
    /// The governor's code for it.
    pub fn code(&self) -> u8 {
        match self {
            Support::Against => 0,
            Support::For => 1,
            Support::Abstain => 2,
        }
    }
}

/// A proposal's timeline, in unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposalTimes {
    /// Votes are counted as delegated at this time; the vote opens just after it.
    pub snapshot: u64,
    /// The vote closes after this time.
    pub deadline: u64,
    /// When a queued proposal becomes executable; `None` until queued.
    pub eta: Option<u64>,
}

/// Votes cast on a proposal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Tally {
    /// Votes against.
    pub against: U256,
    /// Votes for.
    pub for_votes: U256,
    /// Abstentions.
    pub abstain: U256,
}

/// The governor's settings and the timelock's delay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GovernanceSettings {
    /// Seconds between a proposal and its snapshot.
    pub voting_delay_secs: u64,
    /// Seconds a vote stays open.
    pub voting_period_secs: u64,
    /// Votes needed to propose.
    pub proposal_threshold: U256,
    /// Percent of the supply needed for quorum.
    pub quorum_percent: u64,
    /// Seconds between queueing and execution.
    pub timelock_delay_secs: u64,
}

/// A proposal as announced by its `ProposalCreated` event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProposalRecord {
    /// Its id.
    pub id: U256,
    /// Who proposed it.
    pub proposer: Address,
    /// The calls and description (what queue and execute need).
    pub proposal: Proposal,
    /// The snapshot (unix seconds).
    pub vote_start: u64,
    /// The deadline (unix seconds).
    pub vote_end: u64,
    /// The block it was proposed in.
    pub block_number: u64,
}

/// `CollectiveGovernor` (and its timelock) of one collective.
#[derive(Debug, Clone, Copy)]
pub struct Governance<'a>(&'a Collective);

impl Governance<'_> {
    /// The governor's address.
    pub fn address(&self) -> Address {
        self.0.deployment.governor
    }

    /// Proposes `proposal`; `proposer` needs the proposal threshold in votes (none by
    /// default). Returns the proposal id. The vote opens after the voting delay.
    pub async fn propose(&self, proposer: &Wallet, proposal: &Proposal) -> Result<(U256, Receipt)> {
        proposal.check()?;
        let (targets, values, calldatas) = proposal.arrays();
        let call =
            CollectiveGovernor::proposeCall { targets, values, calldatas, description: proposal.description.clone() };
        let receipt = self.0.transact(proposer, GOVERNOR, self.address(), call).await?;
        Ok((proposal.id(), receipt))
    }

    /// `voter` votes on proposal `id` while it is active, with the votes delegated to it at the
    /// proposal's snapshot. Refused with `NoVotingPower` if those are zero, and with
    /// `GovernorAlreadyCastVote` the second time.
    pub async fn cast_vote(&self, voter: &Wallet, id: U256, support: Support) -> Result<Receipt> {
        let call = CollectiveGovernor::castVoteCall { proposalId: id, support: support.code() };
        self.0.transact(voter, GOVERNOR, self.address(), call).await
    }

    /// Queues a succeeded proposal in the timelock; anyone may send it.
    pub async fn queue(&self, sender: &Wallet, proposal: &Proposal) -> Result<Receipt> {
        let (targets, values, calldatas) = proposal.arrays();
        let call =
            CollectiveGovernor::queueCall { targets, values, calldatas, descriptionHash: proposal.description_hash() };
        self.0.transact(sender, GOVERNOR, self.address(), call).await
    }

    /// Executes a queued proposal once its eta has passed; anyone may send it. Before the eta
    /// the timelock refuses with `TimelockUnexpectedOperationState`.
    pub async fn execute(&self, sender: &Wallet, proposal: &Proposal) -> Result<Receipt> {
        let (targets, values, calldatas) = proposal.arrays();
        let call = CollectiveGovernor::executeCall {
            targets,
            values,
            calldatas,
            descriptionHash: proposal.description_hash(),
        };
        let actions = proposal.actions.len().max(1) as u64;
        self.0.transact_with_gas(sender, GOVERNOR, self.address(), call, VOTES_CHECKPOINT_GAS_HEADROOM * actions).await
    }

    /// Cancels a proposal; only its proposer, and only while it is pending.
    pub async fn cancel(&self, proposer: &Wallet, proposal: &Proposal) -> Result<Receipt> {
        let (targets, values, calldatas) = proposal.arrays();
        let call =
            CollectiveGovernor::cancelCall { targets, values, calldatas, descriptionHash: proposal.description_hash() };
        self.0.transact(proposer, GOVERNOR, self.address(), call).await
    }

    /// Where proposal `id` is now; an unknown id is `GovernorNonexistentProposal`.
    pub async fn state(&self, id: U256) -> Result<ProposalState> {
        let code = self.0.view(GOVERNOR, self.address(), CollectiveGovernor::stateCall { proposalId: id }).await?;
        ProposalState::from_code(code)
            .ok_or(ChainError::Decode { what: GOVERNOR, reason: format!("unknown proposal state {code}") })
    }

    /// Proposal `id`'s snapshot, deadline and eta (all zero/`None` for an unknown id).
    pub async fn times(&self, id: U256) -> Result<ProposalTimes> {
        let g = self.address();
        let snapshot = self.0.view(GOVERNOR, g, CollectiveGovernor::proposalSnapshotCall { proposalId: id }).await?;
        let deadline = self.0.view(GOVERNOR, g, CollectiveGovernor::proposalDeadlineCall { proposalId: id }).await?;
        let eta = self.0.view(GOVERNOR, g, CollectiveGovernor::proposalEtaCall { proposalId: id }).await?;
        let eta = to_u64(eta, "proposal eta")?;
        Ok(ProposalTimes {
            snapshot: to_u64(snapshot, "proposal snapshot")?,
            deadline: to_u64(deadline, "proposal deadline")?,
            eta: (eta != 0).then_some(eta),
        })
    }

    /// The votes cast on proposal `id`.
    pub async fn tally(&self, id: U256) -> Result<Tally> {
        let v = self.0.view(GOVERNOR, self.address(), CollectiveGovernor::proposalVotesCall { proposalId: id }).await?;
        Ok(Tally { against: v.againstVotes, for_votes: v.forVotes, abstain: v.abstainVotes })
    }

    /// Whether `account` voted on proposal `id`.
    pub async fn has_voted(&self, id: U256, account: Address) -> Result<bool> {
        self.0.view(GOVERNOR, self.address(), CollectiveGovernor::hasVotedCall { proposalId: id, account }).await
    }

    /// Votes needed for quorum at unix time `at` (which must be in the past, e.g. a snapshot).
    pub async fn quorum(&self, at: u64) -> Result<U256> {
        self.0.view(GOVERNOR, self.address(), CollectiveGovernor::quorumCall { timepoint: U256::from(at) }).await
    }

    /// The governor's id of `proposal`, as the contract computes it (equal to [`Proposal::id`]).
    pub async fn hash_proposal(&self, proposal: &Proposal) -> Result<U256> {
        let (targets, values, calldatas) = proposal.arrays();
        let call = CollectiveGovernor::hashProposalCall {
            targets,
            values,
            calldatas,
            descriptionHash: proposal.description_hash(),
        };
        self.0.view(GOVERNOR, self.address(), call).await
    }

    /// The voting settings and the timelock delay.
    pub async fn settings(&self) -> Result<GovernanceSettings> {
        let g = self.address();
        let delay = self.0.view(GOVERNOR, g, CollectiveGovernor::votingDelayCall {}).await?;
        let period = self.0.view(GOVERNOR, g, CollectiveGovernor::votingPeriodCall {}).await?;
        let threshold = self.0.view(GOVERNOR, g, CollectiveGovernor::proposalThresholdCall {}).await?;
        let quorum = self.0.view(GOVERNOR, g, CollectiveGovernor::quorumNumerator_1Call {}).await?;
        let timelock =
            self.0.view(TIMELOCK, self.0.deployment.timelock, CollectiveTimelock::getMinDelayCall {}).await?;
        Ok(GovernanceSettings {
            voting_delay_secs: to_u64(delay, "voting delay")?,
            voting_period_secs: to_u64(period, "voting period")?,
            proposal_threshold: threshold,
            quorum_percent: to_u64(quorum, "quorum numerator")?,
            timelock_delay_secs: to_u64(timelock, "timelock delay")?,
        })
    }

    /// Whether `account` holds `role` in the timelock (see [`proposer_role`] and friends).
    pub async fn timelock_has_role(&self, role: B256, account: Address) -> Result<bool> {
        let call = CollectiveTimelock::hasRoleCall { role, account };
        self.0.view(TIMELOCK, self.0.deployment.timelock, call).await
    }

    /// Every proposal made since `from_block`, oldest first, with what queue and execute need.
    pub async fn proposals(&self, from_block: u64) -> Result<Vec<ProposalRecord>> {
        let topic = CollectiveGovernor::ProposalCreated::SIGNATURE_HASH;
        let events: Vec<(LogEntry, CollectiveGovernor::CollectiveGovernorEvents)> =
            events_on(self.0.chain.as_ref(), self.address(), from_block, Some(topic)).await?;
        let mut out = Vec::with_capacity(events.len());
        for (log, event) in events {
            let CollectiveGovernor::CollectiveGovernorEvents::ProposalCreated(p) = event else { continue };
            if p.targets.len() != p.values.len() || p.targets.len() != p.calldatas.len() {
                return Err(ChainError::Decode {
                    what: "ProposalCreated",
                    reason: "targets, values and calldatas differ in length".into(),
                });
            }
            let actions = p
                .targets
                .iter()
                .zip(&p.values)
                .zip(&p.calldatas)
                .map(|((target, value), calldata)| Action {
                    target: *target,
                    value: *value,
                    calldata: calldata.clone(),
                })
                .collect();
            out.push(ProposalRecord {
                id: p.proposalId,
                proposer: p.proposer,
                proposal: Proposal { actions, description: p.description },
                vote_start: to_u64(p.voteStart, "vote start")?,
                vote_end: to_u64(p.voteEnd, "vote end")?,
                block_number: log.block_number,
            });
        }
        Ok(out)
    }
}

/// The collective's decision about one code digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeApproval {
    /// Whether the node may run it now.
    pub approved: bool,
    /// Where voters read what it does.
    pub description_uri: String,
    /// `None` to run on the node; otherwise the server the data is exported to.
    pub export_to: Option<Address>,
    /// When it was last approved (unix seconds); `None` if never.
    pub approved_at: Option<u64>,
    /// When it was revoked (unix seconds); `None` while approved or if never revoked.
    pub revoked_at: Option<u64>,
}

/// What a proposal's action does to the code registry, decoded from its calldata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "kind")]
pub enum CodeAction {
    /// `approve(digest, descriptionUri, exportTo)`.
    Approve {
        /// The code digest.
        digest: B256,
        /// Where voters read what it does.
        description_uri: String,
        /// `None` to run on the node; otherwise the server the data is exported to.
        export_to: Option<Address>,
    },
    /// `revoke(digest)`.
    Revoke {
        /// The code digest.
        digest: B256,
    },
}

/// The decision about `digest` in the `CodeRegistry` at `registry`, read without
/// connecting to the rest of its collective (an export destination knows only the
/// registry that names it). Refused when `registry` holds no code.
pub async fn code_approval_at(chain: &dyn Chain, registry: Address, digest: B256) -> Result<CodeApproval> {
    let chain_id = chain.chain_id().await?;
    crate::contracts::require_code(chain, chain_id, [(CODE, registry)]).await?;
    Ok(approval_from(view_on(chain, CODE, registry, CodeRegistry::approvalCall { digest }).await?))
}

fn approval_from(a: CodeRegistry::Approval) -> CodeApproval {
    CodeApproval {
        approved: a.approved,
        description_uri: a.descriptionUri,
        export_to: (!a.exportTo.is_zero()).then_some(a.exportTo),
        approved_at: (a.approvedAt != 0).then_some(a.approvedAt),
        revoked_at: (a.revokedAt != 0).then_some(a.revokedAt),
    }
}

/// `CodeRegistry` of one collective.
#[derive(Debug, Clone, Copy)]
pub struct CodeApprovals<'a>(&'a Collective);

impl CodeApprovals<'_> {
    /// The contract's address.
    pub fn address(&self) -> Address {
        self.0.deployment.code_registry
    }

    /// A proposal approving `digest`, described at `description_uri`, to run on the node
    /// (`export_to` `None`) or on the server `export_to` after an export.
    pub fn approve_proposal(
        &self,
        digest: B256,
        description_uri: &str,
        export_to: Option<Address>,
        description: &str,
    ) -> Proposal {
        let call = CodeRegistry::approveCall {
            digest,
            descriptionUri: description_uri.to_owned(),
            exportTo: export_to.unwrap_or(Address::ZERO),
        };
        Proposal { actions: vec![Action::call(self.address(), call)], description: description.to_owned() }
    }

    /// What `action` does to this collective's code registry; `None` for a call elsewhere
    /// (another contract, another function, or calldata that does not decode).
    pub fn decode_action(&self, action: &Action) -> Option<CodeAction> {
        if action.target != self.address() {
            return None;
        }
        if let Ok(call) = CodeRegistry::approveCall::abi_decode(&action.calldata) {
            return Some(CodeAction::Approve {
                digest: call.digest,
                description_uri: call.descriptionUri,
                export_to: (!call.exportTo.is_zero()).then_some(call.exportTo),
            });
        }
        CodeRegistry::revokeCall::abi_decode(&action.calldata)
            .ok()
            .map(|call| CodeAction::Revoke { digest: call.digest })
    }

    /// A proposal revoking the approval of `digest`.
    pub fn revoke_proposal(&self, digest: B256, description: &str) -> Proposal {
        Proposal {
            actions: vec![Action::call(self.address(), CodeRegistry::revokeCall { digest })],
            description: description.to_owned(),
        }
    }

    /// Whether the node may run `digest` now.
    pub async fn is_approved(&self, digest: B256) -> Result<bool> {
        self.0.view(CODE, self.address(), CodeRegistry::isApprovedCall { digest }).await
    }

    /// The decision about `digest` (not approved, all empty, if never approved).
    pub async fn approval(&self, digest: B256) -> Result<CodeApproval> {
        Ok(approval_from(self.0.view(CODE, self.address(), CodeRegistry::approvalCall { digest }).await?))
    }

    /// Every digest ever approved, in order of first approval, with its current decision.
    /// At most [`CODE_DIGESTS_LISTED_MAX`].
    pub async fn list(&self) -> Result<Vec<(B256, CodeApproval)>> {
        let count = self.0.view(CODE, self.address(), CodeRegistry::digestCountCall {}).await?;
        let count = to_u64(count, "digest count")?;
        if count > CODE_DIGESTS_LISTED_MAX {
            return Err(ChainError::LimitExceeded {
                what: "approved code digests listed",
                actual: count,
                max: CODE_DIGESTS_LISTED_MAX,
            });
        }
        let mut out = Vec::with_capacity(count as usize);
        for index in 0..count {
            let call = CodeRegistry::digestAtCall { index: U256::from(index) };
            let digest = self.0.view(CODE, self.address(), call).await?;
            out.push((digest, self.approval(digest).await?));
        }
        Ok(out)
    }

    /// Who may approve and revoke (the timelock).
    pub async fn owner(&self) -> Result<Address> {
        self.0.view(CODE, self.address(), CodeRegistry::ownerCall {}).await
    }

    /// Approves `digest` directly; only the owner may, so this succeeds only for the timelock
    /// and refuses anyone else with `OwnableUnauthorizedAccount`.
    pub async fn approve_directly(
        &self,
        sender: &Wallet,
        digest: B256,
        description_uri: &str,
        export_to: Option<Address>,
    ) -> Result<Receipt> {
        let call = CodeRegistry::approveCall {
            digest,
            descriptionUri: description_uri.to_owned(),
            exportTo: export_to.unwrap_or(Address::ZERO),
        };
        self.0.transact(sender, CODE, self.address(), call).await
    }
}

/// What a contributor commits to when registering a contribution for liveness challenges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageCommitment {
    /// Root of the sorted-pair Merkle tree over [`chunk_leaf`]s.
    pub merkle_root: B256,
    /// sha256 of the whole ciphertext.
    pub ciphertext_sha256: B256,
    /// Number of chunks.
    pub chunk_count: u64,
    /// Bytes per chunk (the last may be shorter).
    pub chunk_size: u32,
}

/// A challenge result on chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChallengeResult {
    /// Nothing recorded.
    None,
    /// Passed.
    Passed,
    /// Failed.
    Failed,
}

/// The Merkle leaf of chunk `index` whose bytes hash (sha256) to `chunk_sha256`:
/// `keccak256(keccak256(abi.encode(uint64 index, bytes32 chunk_sha256)))`, the contract's `chunkLeaf`.
pub fn chunk_leaf(index: u64, chunk_sha256: B256) -> B256 {
    keccak256(keccak256((index, chunk_sha256).abi_encode_params()))
}

/// The index of the `i`-th chunk challenged for contribution `id` with `seed`:
/// `uint256(keccak256(abi.encode(seed, id, i))) % chunk_count`, the contract's `challengeChunk`.
pub fn challenge_chunk(seed: B256, id: U256, i: u64, chunk_count: u64) -> Result<u64> {
    if chunk_count == 0 {
        return Err(ChainError::Invalid("a contribution has at least one chunk".into()));
    }
    let word = U256::from_be_bytes(keccak256((seed, id, U256::from(i)).abi_encode_params()).0);
    to_u64(word % U256::from(chunk_count), "challenge chunk")
}

/// `LivenessRegistry` of one collective ([`Collective::liveness`]), or at an address alone
/// ([`Liveness::at`]: a contributor's server knows the registry, not the whole collective).
#[derive(Clone, Copy)]
pub struct Liveness<'a> {
    chain: &'a dyn Chain,
    chain_id: u64,
    address: Address,
}

impl std::fmt::Debug for Liveness<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Liveness").field("chain_id", &self.chain_id).field("address", &self.address).finish()
    }
}

impl<'a> Liveness<'a> {
    /// The registry at `address` on `chain`, after checking that it has code.
    pub async fn at(chain: &'a dyn Chain, address: Address) -> Result<Liveness<'a>> {
        let chain_id = chain.chain_id().await?;
        crate::contracts::require_code(chain, chain_id, [(LIVENESS, address)]).await?;
        Ok(Liveness { chain, chain_id, address })
    }

    /// The contract's address.
    pub fn address(&self) -> Address {
        self.address
    }

    async fn view<C: SolCall>(&self, call: C) -> Result<C::Return> {
        view_on(self.chain, LIVENESS, self.address, call).await
    }

    async fn transact<C: SolCall>(&self, sender: &Wallet, call: C) -> Result<Receipt> {
        transact_on(self.chain, self.chain_id, sender, LIVENESS, self.address, call, VOTES_CHECKPOINT_GAS_HEADROOM)
            .await
    }

    /// `contributor` registers a contribution. Returns its id (from 1).
    pub async fn register(&self, contributor: &Wallet, commitment: &StorageCommitment) -> Result<U256> {
        let call = LivenessRegistry::registerCall {
            merkleRoot: commitment.merkle_root,
            ciphertextSha256: commitment.ciphertext_sha256,
            chunkCount: commitment.chunk_count,
            chunkSize: commitment.chunk_size,
        };
        let receipt = self.transact(contributor, call).await?;
        let event: LivenessRegistry::ContributionRegistered =
            first_event(&receipt, self.address(), "LivenessRegistry receipt")?;
        Ok(event.id)
    }

    /// The challenger opens the current epoch, fixing its seed. Returns the epoch and seed.
    pub async fn open_epoch(&self, challenger: &Wallet) -> Result<(u64, B256)> {
        let receipt = self.transact(challenger, LivenessRegistry::openEpochCall {}).await?;
        let event: LivenessRegistry::EpochOpened = first_event(&receipt, self.address(), "LivenessRegistry receipt")?;
        Ok((event.epoch, event.seed))
    }

    /// The challenger records whether contribution `id` passed its challenge of `epoch`
    /// (open, current or one behind; once per contribution and epoch).
    pub async fn record_result(&self, challenger: &Wallet, id: U256, epoch: u64, passed: bool) -> Result<Receipt> {
        let call = LivenessRegistry::recordResultCall { id, epoch, passed };
        self.transact(challenger, call).await
    }

    /// `contributor` claims everything it accrued. Returns the amount paid (in tokens).
    pub async fn claim(&self, contributor: &Wallet) -> Result<U256> {
        let receipt = self.transact(contributor, LivenessRegistry::claimCall {}).await?;
        let event: LivenessRegistry::RewardClaimed = first_event(&receipt, self.address(), "LivenessRegistry receipt")?;
        Ok(event.amount)
    }

    /// What `contributor` accrued and has not claimed.
    pub async fn rewards(&self, contributor: Address) -> Result<U256> {
        self.view(LivenessRegistry::rewardsCall { contributor }).await
    }

    /// Everything accrued and not yet claimed, by everyone.
    pub async fn outstanding_rewards(&self) -> Result<U256> {
        self.view(LivenessRegistry::outstandingRewardsCall {}).await
    }

    /// The epoch now.
    pub async fn current_epoch(&self) -> Result<u64> {
        self.view(LivenessRegistry::currentEpochCall {}).await
    }

    /// The seed of an opened epoch (`EpochNotOpen` otherwise).
    pub async fn challenge_seed(&self, epoch: u64) -> Result<B256> {
        self.view(LivenessRegistry::challengeSeedCall { epoch }).await
    }

    /// The index of the `i`-th chunk challenged for contribution `id` in `epoch`, as the
    /// contract computes it (equal to [`challenge_chunk`] with the epoch's seed).
    pub async fn challenge_chunk(&self, id: U256, epoch: u64, i: u64) -> Result<u64> {
        let call = LivenessRegistry::challengeChunkCall { id, epoch, i: U256::from(i) };
        self.view(call).await
    }

    /// Whether `proof` shows chunk `index` (hashing to `chunk_sha256`) under contribution `id`'s root.
    pub async fn verify_chunk(&self, id: U256, index: u64, chunk_sha256: B256, proof: &[B256]) -> Result<bool> {
        let call = LivenessRegistry::verifyChunkCall { id, index, chunkSha256: chunk_sha256, proof: proof.to_vec() };
        self.view(call).await
    }

    /// The contract's leaf for chunk `index` (equal to [`chunk_leaf`]).
    pub async fn chunk_leaf(&self, index: u64, chunk_sha256: B256) -> Result<B256> {
        let call = LivenessRegistry::chunkLeafCall { index, chunkSha256: chunk_sha256 };
        self.view(call).await
    }

    /// A registered contribution (`UnknownContribution` otherwise).
    pub async fn contribution(&self, id: U256) -> Result<LivenessRegistry::Contribution> {
        self.view(LivenessRegistry::getContributionCall { id }).await
    }

    /// How many contributions exist (ids run from 1 to this).
    pub async fn contribution_count(&self) -> Result<u64> {
        let count = self.view(LivenessRegistry::contributionCountCall {}).await?;
        to_u64(count, "contribution count")
    }

    /// The result recorded for contribution `id` in `epoch`.
    pub async fn result(&self, id: U256, epoch: u64) -> Result<ChallengeResult> {
        let code = self.view(LivenessRegistry::resultOfCall { id, epoch }).await?;
        match code {
            0 => Ok(ChallengeResult::None),
            1 => Ok(ChallengeResult::Passed),
            2 => Ok(ChallengeResult::Failed),
            other => Err(ChainError::Decode { what: LIVENESS, reason: format!("unknown result {other}") }),
        }
    }

    /// The challenger (the collective node).
    pub async fn challenger(&self) -> Result<Address> {
        self.view(LivenessRegistry::challengerCall {}).await
    }

    /// The epoch length, in seconds.
    pub async fn epoch_secs(&self) -> Result<u64> {
        self.view(LivenessRegistry::epochSecondsCall {}).await
    }

    /// Tokens one passed challenge earns.
    pub async fn reward_per_pass(&self) -> Result<U256> {
        self.view(LivenessRegistry::rewardPerPassCall {}).await
    }
}
