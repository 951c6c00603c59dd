//! `hearth code propose|revoke|vote|queue|execute|ls`: which code the collective's node runs,
//! decided by its members through the governor and the timelock.

use std::path::Path;

use alloy_primitives::{Address, B256, U256};
use hearth_chain::{
    Action, ChainError, CodeAction, Collective, Contracts, Proposal, ProposalRecord, ProposalState, Support, Wallet,
};
use hearth_sandbox::images::{ImageStore, format_digest};
use serde::Serialize;

use super::collective::{format_tokens, when};
use super::grant::parse_operation;
use super::image::IMAGES_DIR;
use crate::cli::VoteChoice;
use crate::error::CliError;
use crate::node::{Node, connect_collective};

/// What the acting member was doing when a contract refused it (for the message).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Propose,
    Vote,
    Queue,
    Execute,
}

/// The pieces every `hearth code` command needs: the collective and who acts.
struct Session {
    node: Node,
    contracts: Contracts,
    collective: Collective,
    member: Wallet,
}

impl Session {
    async fn open(data_dir: &Path) -> Result<Session, CliError> {
        let node = Node::load(data_dir)?;
        let member = node.member_wallet()?;
        // One chain handle for both: the embedded chain is opened once per process.
        let contracts = node.contracts().await?;
        let collective = connect_collective(contracts.chain().clone(), node.collective_section()?).await?;
        Ok(Session { node, contracts, collective, member })
    }

    fn deployed_at_block(&self) -> u64 {
        self.node.config.collective.as_ref().map_or(0, |c| c.deployed_at_block)
    }

    /// The proposal `id` as announced on chain, with what queue and execute need.
    async fn record(&self, id: U256) -> Result<ProposalRecord, CliError> {
        let records = self.collective.governance().proposals(self.deployed_at_block()).await?;
        records.into_iter().find(|r| r.id == id).ok_or_else(|| {
            CliError::Missing(format!(
                "no proposal {id} in this collective (none was announced since block {})",
                self.deployed_at_block()
            ))
        })
    }

    /// A contract's refusal as one sentence naming the error; any other error as it is.
    async fn refused(&self, e: ChainError, step: Step, id: Option<U256>) -> CliError {
        let ChainError::Reverted { reason, .. } = &e else { return e.into() };
        let name: String = reason.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
        let who = self.member.address();
        let governance = self.collective.governance();
        let state = match id {
            Some(id) => governance.state(id).await.ok(),
            None => None,
        };
        let is = state.map_or_else(|| "not in a state that allows this".to_owned(), |s| format!("{s}"));
        let sentence = match (name.as_str(), step) {
            ("NoVotingPower", _) => format!(
                "{who} had no votes at the proposal's snapshot: only members who delegated \
                 (`hearth collective delegate`) before it may vote"
            ),
            ("GovernorAlreadyCastVote", _) => format!("{who} already voted on this proposal"),
            ("GovernorNonexistentProposal", _) => "there is no such proposal in this collective".to_owned(),
            ("GovernorUnexpectedProposalState", Step::Propose) => {
                "the same proposal (actions and description) was already made; change the description".to_owned()
            }
            ("GovernorUnexpectedProposalState", Step::Vote) => {
                format!("the proposal is {is}: it takes votes only while active")
            }
            ("GovernorUnexpectedProposalState", Step::Queue) => {
                format!("the proposal is {is}: only a succeeded proposal can be queued")
            }
            ("GovernorUnexpectedProposalState", Step::Execute) => {
                format!("the proposal is {is}: only a queued proposal can be executed")
            }
            ("TimelockUnexpectedOperationState", _) => match (state, id) {
                (Some(ProposalState::Queued), Some(id)) => match governance.times(id).await.ok().and_then(|t| t.eta) {
                    Some(eta) => format!("the timelock delay has not passed: executable from {}", when(eta)),
                    None => "the timelock delay has not passed".to_owned(),
                },
                (Some(ProposalState::Succeeded), _) => {
                    "the proposal passed but is not queued: run `hearth code queue` first".to_owned()
                }
                _ => "the timelock does not hold this operation ready".to_owned(),
            },
            ("GovernorInsufficientProposerVotes", _) => {
                format!("{who} has fewer votes than the proposal threshold")
            }
            ("AlreadyApproved", _) => "the digest is already approved: revoke it first to change its terms".to_owned(),
            ("NotApproved", _) => "the digest is not approved: there is nothing to revoke".to_owned(),
            ("ZeroDigest", _) => "the zero digest names no code".to_owned(),
            ("EmptyField", _) => "the description URI is empty".to_owned(),
            ("FieldTooLong", _) => "the description URI is too long".to_owned(),
            _ => return e.into(),
        };
        CliError::Refused { sentence, error: name }
    }

    async fn propose(&self, proposal: &Proposal) -> Result<(), CliError> {
        let governance = self.collective.governance();
        let (id, _) = match governance.propose(&self.member, proposal).await {
            Ok(done) => done,
            Err(e) => return Err(self.refused(e, Step::Propose, Some(proposal.id())).await),
        };
        let state = governance.state(id).await?;
        let times = governance.times(id).await?;
        println!("proposal  {id}");
        println!("state     {state}");
        println!("snapshot  {}: votes count as delegated then; voting opens after it", when(times.snapshot));
        println!("deadline  {}", when(times.deadline));
        Ok(())
    }
}

fn parse_id(text: &str) -> Result<U256, CliError> {
    text.trim()
        .parse::<U256>()
        .map_err(|_| CliError::Missing(format!("invalid proposal id {text:?} (decimal or 0x hex)")))
}

/// A digest (`sha256:<hex>`, `0x<hex>`) as it is, or an image archive imported first.
fn resolve_image(data_dir: &Path, image: &str) -> Result<B256, CliError> {
    if image.starts_with("sha256:") || image.starts_with("0x") {
        return parse_operation(image);
    }
    let path = Path::new(image);
    if !path.exists() {
        return Err(CliError::Missing(format!(
            "{image:?} is neither a digest (sha256:<hex> or 0x<hex>) nor an image archive"
        )));
    }
    let store = ImageStore::open(&data_dir.join(IMAGES_DIR)).map_err(|e| CliError::Missing(e.to_string()))?;
    let info = store.import(path).map_err(|e| CliError::Input { path: path.to_owned(), reason: e.to_string() })?;
    println!("imported  {} ({} bytes)", format_digest(&info.digest), info.size_bytes);
    Ok(info.digest)
}

/// `hearth code propose`.
pub async fn propose(
    data_dir: &Path,
    image: &str,
    description: &str,
    uri: Option<&str>,
    export_to: Option<&str>,
) -> Result<(), CliError> {
    let export_to = export_to
        .map(|a| a.parse::<Address>().map_err(|_| CliError::Missing(format!("invalid node address: {a:?}"))))
        .transpose()?;
    let digest = resolve_image(data_dir, image)?;
    let s = Session::open(data_dir).await?;
    if let Some(node) = export_to
        && !s.contracts.servers().is_registered(node).await?
    {
        return Err(CliError::Missing(format!(
            "{node} is not a server registered on this chain: an export needs its registered age recipient"
        )));
    }
    let code = s.collective.code();
    if code.is_approved(digest).await? {
        return Err(CliError::Refused {
            sentence: format!("{} is already approved: revoke it first to change its terms", format_digest(&digest)),
            error: "AlreadyApproved".into(),
        });
    }
    let uri = uri.map_or_else(|| format_digest(&digest), str::to_owned);
    println!("digest    {}", format_digest(&digest));
    s.propose(&code.approve_proposal(digest, &uri, export_to, description)).await
}

/// `hearth code revoke`.
pub async fn revoke(data_dir: &Path, digest: &str, description: &str) -> Result<(), CliError> {
    let digest = parse_operation(digest)?;
    let s = Session::open(data_dir).await?;
    let code = s.collective.code();
    if !code.is_approved(digest).await? {
        return Err(CliError::Refused {
            sentence: format!("{} is not approved: there is nothing to revoke", format_digest(&digest)),
            error: "NotApproved".into(),
        });
    }
    println!("digest    {}", format_digest(&digest));
    s.propose(&code.revoke_proposal(digest, description)).await
}

fn support_of(choice: VoteChoice) -> (Support, &'static str) {
    match choice {
        VoteChoice::For => (Support::For, "for"),
        VoteChoice::Against => (Support::Against, "against"),
        VoteChoice::Abstain => (Support::Abstain, "abstain"),
    }
}

/// `hearth code vote`.
pub async fn vote(data_dir: &Path, id: &str, choice: VoteChoice) -> Result<(), CliError> {
    let id = parse_id(id)?;
    let (support, word) = support_of(choice);
    let s = Session::open(data_dir).await?;
    let governance = s.collective.governance();
    if let Err(e) = governance.cast_vote(&s.member, id, support).await {
        return Err(s.refused(e, Step::Vote, Some(id)).await);
    }
    let times = governance.times(id).await?;
    let me = s.member.address();
    let weight = s.collective.token().past_votes(me, times.snapshot).await?;
    let tally = governance.tally(id).await?;
    println!("{me} voted {word} with {} votes", format_tokens(weight));
    println!(
        "tally     for {}, against {}, abstain {}; the vote closes at {}",
        format_tokens(tally.for_votes),
        format_tokens(tally.against),
        format_tokens(tally.abstain),
        when(times.deadline)
    );
    Ok(())
}

/// `hearth code queue`.
pub async fn queue(data_dir: &Path, id: &str) -> Result<(), CliError> {
    let id = parse_id(id)?;
    let s = Session::open(data_dir).await?;
    let record = s.record(id).await?;
    let governance = s.collective.governance();
    if let Err(e) = governance.queue(&s.member, &record.proposal).await {
        return Err(s.refused(e, Step::Queue, Some(id)).await);
    }
    let eta = governance.times(id).await?.eta.unwrap_or_default();
    println!("queued    {id}");
    println!("eta       {}: executable from then", when(eta));
    Ok(())
}

/// `hearth code execute`.
pub async fn execute(data_dir: &Path, id: &str) -> Result<(), CliError> {
    let id = parse_id(id)?;
    let s = Session::open(data_dir).await?;
    let record = s.record(id).await?;
    if let Err(e) = s.collective.governance().execute(&s.member, &record.proposal).await {
        return Err(s.refused(e, Step::Execute, Some(id)).await);
    }
    println!("executed  {id}");
    for action in actions(&s.collective, &record.proposal.actions) {
        match action {
            Listed::Approve { digest, export_to, .. } => match export_to {
                Some(node) => println!("approved  {digest} (runs on {node} after an export)"),
                None => println!("approved  {digest}"),
            },
            Listed::Revoke { digest } => println!("revoked   {digest}"),
            Listed::Call { target } => println!("called    {target}"),
        }
    }
    Ok(())
}

/// One action of a proposal, as `hearth code ls` shows it.
#[derive(Serialize)]
#[serde(rename_all = "lowercase", tag = "kind")]
enum Listed {
    /// Approves a digest.
    Approve { digest: String, description_uri: String, export_to: Option<Address> },
    /// Revokes a digest.
    Revoke { digest: String },
    /// Any other call.
    Call { target: Address },
}

fn actions(c: &Collective, actions: &[Action]) -> Vec<Listed> {
    actions
        .iter()
        .map(|a| match c.code().decode_action(a) {
            Some(CodeAction::Approve { digest, description_uri, export_to }) => {
                Listed::Approve { digest: format_digest(&digest), description_uri, export_to }
            }
            Some(CodeAction::Revoke { digest }) => Listed::Revoke { digest: format_digest(&digest) },
            None => Listed::Call { target: a.target },
        })
        .collect()
}

#[derive(Serialize)]
struct ApprovalRow {
    digest: String,
    approved: bool,
    description_uri: String,
    export_to: Option<Address>,
    approved_at: Option<u64>,
    revoked_at: Option<u64>,
}

#[derive(Serialize)]
struct Votes {
    #[serde(rename = "for")]
    for_votes: String,
    against: String,
    abstain: String,
}

#[derive(Serialize)]
struct ProposalRow {
    id: String,
    description: String,
    proposer: Address,
    state: ProposalState,
    snapshot: u64,
    deadline: u64,
    eta: Option<u64>,
    votes: Votes,
    actions: Vec<Listed>,
}

#[derive(Serialize)]
struct Ls {
    approvals: Vec<ApprovalRow>,
    proposals: Vec<ProposalRow>,
}

/// `hearth code ls`.
pub async fn ls(data_dir: &Path, json: bool) -> Result<(), CliError> {
    let node = Node::load(data_dir)?;
    let section = node.collective_section()?;
    let c = node.collective().await?;
    let approvals = c
        .code()
        .list()
        .await?
        .into_iter()
        .map(|(digest, a)| ApprovalRow {
            digest: format_digest(&digest),
            approved: a.approved,
            description_uri: a.description_uri,
            export_to: a.export_to,
            approved_at: a.approved_at,
            revoked_at: a.revoked_at,
        })
        .collect::<Vec<_>>();
    let governance = c.governance();
    let mut proposals = Vec::new();
    for record in governance.proposals(section.deployed_at_block).await? {
        let times = governance.times(record.id).await?;
        let tally = governance.tally(record.id).await?;
        proposals.push(ProposalRow {
            id: record.id.to_string(),
            state: governance.state(record.id).await?,
            actions: actions(&c, &record.proposal.actions),
            description: record.proposal.description,
            proposer: record.proposer,
            snapshot: times.snapshot,
            deadline: times.deadline,
            eta: times.eta,
            votes: Votes {
                for_votes: format_tokens(tally.for_votes),
                against: format_tokens(tally.against),
                abstain: format_tokens(tally.abstain),
            },
        });
    }
    let listed = Ls { approvals, proposals };
    if json {
        let text = serde_json::to_string_pretty(&listed).map_err(|e| CliError::Missing(e.to_string()))?;
        return super::emit(&format!("{text}\n"));
    }
    let mut s = String::new();
    put!(s, "APPROVALS");
    put!(s, "{:<71}  {:<8}  {:>10}  {:>10}  {:<42}  URI", "DIGEST", "STATUS", "APPROVED", "REVOKED", "EXPORT TO");
    let time = |t: Option<u64>| t.map_or_else(|| "-".to_owned(), |t| t.to_string());
    for a in &listed.approvals {
        let status = if a.approved { "approved" } else { "revoked" };
        let export = a.export_to.map_or_else(|| "- (runs on the node)".to_owned(), |n| n.to_string());
        put!(
            s,
            "{:<71}  {status:<8}  {:>10}  {:>10}  {export:<42}  {}",
            a.digest,
            time(a.approved_at),
            time(a.revoked_at),
            a.description_uri
        );
    }
    put!(s);
    put!(s, "PROPOSALS");
    for p in &listed.proposals {
        let title = p.description.lines().next().unwrap_or_default();
        put!(s, "{}  {}  {title}", p.id, p.state);
        put!(
            s,
            "    snapshot {}  deadline {}  eta {}  for {}  against {}  abstain {}",
            p.snapshot,
            p.deadline,
            time(p.eta),
            p.votes.for_votes,
            p.votes.against,
            p.votes.abstain
        );
        for action in &p.actions {
            match action {
                Listed::Approve { digest, .. } => put!(s, "    approve {digest}"),
                Listed::Revoke { digest } => put!(s, "    revoke {digest}"),
                Listed::Call { target } => put!(s, "    call {target}"),
            }
        }
    }
    super::emit(&s)
}
