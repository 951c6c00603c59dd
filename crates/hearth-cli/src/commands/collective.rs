//! `hearth collective init|info|delegate|export|accept-exports`: a data collective's contracts on this
//! and the token amounts and times the collective commands print.

use std::path::Path;

use alloy_primitives::{Address, U256};
use hearth_chain::{Backend, Collective, CollectiveDeployment, CollectiveParams, deploy_collective};
use hearth_core::{Clock, SystemClock};
use hearth_server::config::ImportSource;
use hearth_server::routes::exports::{ExportReport, ExportRequest};
use serde::Serialize;

use crate::cli::CollectiveInitArgs;
use crate::config::{self, CollectiveSection, Custody};
use crate::error::CliError;
use crate::node::{Node, connect_collective};

/// Decimals of the membership token (OpenZeppelin's ERC-20 default).
pub const TOKEN_DECIMALS: usize = 18;

fn token_unit() -> U256 {
    U256::from(10u64).pow(U256::from(TOKEN_DECIMALS))
}

/// Parses a token amount in whole tokens (`100`, `1.5`) into the token's smallest unit.
pub fn parse_tokens(what: &str, text: &str) -> Result<U256, CliError> {
    let bad = || CliError::Missing(format!("invalid {what}: {text:?} (a token amount such as 100 or 1.5)"));
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(fraction) || fraction.len() > TOKEN_DECIMALS {
        return Err(bad());
    }
    let padded = format!("{fraction:0<TOKEN_DECIMALS$}");
    let whole = U256::from_str_radix(whole, 10).map_err(|_| bad())?;
    let fraction = U256::from_str_radix(&padded, 10).map_err(|_| bad())?;
    whole.checked_mul(token_unit()).and_then(|w| w.checked_add(fraction)).ok_or_else(bad)
}

/// Formats an amount of the token's smallest unit as whole tokens (`100`, `1.5`).
pub fn format_tokens(amount: U256) -> String {
    let (whole, fraction) = amount.div_rem(token_unit());
    if fraction.is_zero() {
        return whole.to_string();
    }
    let fraction = format!("{fraction:0>TOKEN_DECIMALS$}");
    format!("{whole}.{}", fraction.trim_end_matches('0'))
}

/// A unix time with how far it is from now: `1767225600 (in 42 s)`, `… (12 s ago)`.
pub fn when(at: u64) -> String {
    let now = SystemClock.now_secs();
    if at > now { format!("{at} (in {} s)", at - now) } else { format!("{at} ({} s ago)", now - at) }
}

fn parse_member(text: &str) -> Result<(Address, U256), CliError> {
    let (address, amount) = text
        .split_once('=')
        .ok_or_else(|| CliError::Missing(format!("invalid --member {text:?}: expected ADDR=AMOUNT")))?;
    let address: Address =
        address.trim().parse().map_err(|_| CliError::Missing(format!("invalid member address: {address:?}")))?;
    Ok((address, parse_tokens("member amount", amount.trim())?))
}

/// `hearth collective init`.
pub async fn init(data_dir: &Path, args: CollectiveInitArgs) -> Result<(), CliError> {
    let node = Node::load(data_dir)?;
    if let Some(existing) = &node.config.collective {
        return Err(CliError::Missing(format!(
            "{} already has a collective (governor {}); a data directory serves one",
            data_dir.display(),
            existing.contracts.governor
        )));
    }
    let members = args.members.iter().map(|m| parse_member(m)).collect::<Result<Vec<_>, _>>()?;
    let proposal_threshold = parse_tokens("proposal threshold", &args.proposal_threshold)?;
    let reward_per_pass = parse_tokens("reward per pass", &args.reward_per_pass)?;
    let reward_pool = parse_tokens("reward pool", &args.reward_pool)?;
    let (_, server) = node.server_keys()?;
    let params = CollectiveParams {
        name: args.name,
        symbol: args.symbol,
        members,
        voting_delay_secs: args.voting_delay_secs,
        voting_period_secs: args.voting_period_secs,
        proposal_threshold,
        quorum_percent: args.quorum_percent,
        timelock_delay_secs: args.timelock_delay_secs,
        challenger: server.address(),
        epoch_secs: args.epoch_secs,
        reward_per_pass,
        reward_pool,
    };

    let contracts = node.contracts().await?;
    let chain = contracts.chain().clone();
    let deployed_at_block = chain.block_number().await? + 1;
    let deployment = deploy_collective(chain.as_ref(), &server, &params).await?;
    let section = CollectiveSection {
        custody: args.custody,
        chain_id: contracts.chain_id(),
        deployed_at_block,
        contracts: deployment,
    };
    let mut cfg = node.config.clone();
    cfg.collective = Some(section.clone());
    config::save(data_dir, &cfg)?;

    let collective = connect_collective(chain, &section).await?;
    println!("deployed a collective; [collective] written to {}", data_dir.join(config::CONFIG_FILE).display());
    super::emit(&show_info(&gather(&collective, &section).await?))
}

/// What `hearth collective info` shows.
#[derive(Serialize)]
struct Info {
    backend: Backend,
    chain_id: u64,
    deployed_at_block: u64,
    custody: Custody,
    contracts: CollectiveDeployment,
    voting_delay_secs: u64,
    voting_period_secs: u64,
    timelock_delay_secs: u64,
    quorum_percent: u64,
    proposal_threshold: String,
    epoch_secs: u64,
    challenger: Address,
    reward_per_pass: String,
    reward_pool: String,
    supply: String,
    members: Vec<Member>,
}

/// A token holder: its tokens, its votes now, and whom it delegates to.
#[derive(Serialize)]
struct Member {
    address: Address,
    balance: String,
    votes: String,
    delegate: Option<Address>,
}

async fn gather(c: &Collective, section: &CollectiveSection) -> Result<Info, CliError> {
    let settings = c.governance().settings().await?;
    let liveness = c.liveness();
    let token = c.token();
    let mut members = Vec::new();
    for address in token.holders(section.deployed_at_block).await? {
        if address == liveness.address() {
            continue;
        }
        let balance = token.balance(address).await?;
        let votes = token.votes(address).await?;
        if balance.is_zero() && votes.is_zero() {
            continue;
        }
        let delegate = token.delegates(address).await?;
        members.push(Member {
            address,
            balance: format_tokens(balance),
            votes: format_tokens(votes),
            delegate: (!delegate.is_zero()).then_some(delegate),
        });
    }
    Ok(Info {
        backend: c.chain().backend(),
        chain_id: c.chain_id(),
        deployed_at_block: section.deployed_at_block,
        custody: section.custody,
        contracts: c.deployment(),
        voting_delay_secs: settings.voting_delay_secs,
        voting_period_secs: settings.voting_period_secs,
        timelock_delay_secs: settings.timelock_delay_secs,
        quorum_percent: settings.quorum_percent,
        proposal_threshold: format_tokens(settings.proposal_threshold),
        epoch_secs: liveness.epoch_secs().await?,
        challenger: liveness.challenger().await?,
        reward_per_pass: format_tokens(liveness.reward_per_pass().await?),
        reward_pool: format_tokens(token.balance(liveness.address()).await?),
        supply: format_tokens(token.total_supply().await?),
        members,
    })
}

fn show_info(info: &Info) -> String {
    let mut s = String::new();
    put!(s, "chain               {} (chain id {})", info.backend, info.chain_id);
    put!(s, "deployed at block   {}", info.deployed_at_block);
    put!(s, "custody             {}", info.custody.as_str());
    for (name, address) in info.contracts.entries() {
        put!(s, "{name:<20}{address}");
    }
    put!(s, "voting delay        {} s", info.voting_delay_secs);
    put!(s, "voting period       {} s", info.voting_period_secs);
    put!(s, "timelock delay      {} s", info.timelock_delay_secs);
    put!(s, "quorum              {} % of the supply at a proposal's snapshot", info.quorum_percent);
    put!(s, "proposal threshold  {} tokens", info.proposal_threshold);
    put!(s, "liveness epoch      {} s", info.epoch_secs);
    put!(s, "challenger          {}", info.challenger);
    put!(s, "reward per pass     {} tokens", info.reward_per_pass);
    put!(s, "reward pool         {} tokens", info.reward_pool);
    put!(s, "token supply        {} tokens", info.supply);
    put!(s, "{:<42}  {:>12}  {:>12}  DELEGATE", "MEMBER", "TOKENS", "VOTES");
    for m in &info.members {
        let delegate = m.delegate.map_or_else(|| "none (its tokens do not vote)".to_owned(), |d| d.to_string());
        put!(s, "{:<42}  {:>12}  {:>12}  {delegate}", m.address.to_string(), m.balance, m.votes);
    }
    s
}

/// `hearth collective info`.
pub async fn info(data_dir: &Path, json: bool) -> Result<(), CliError> {
    let node = Node::load(data_dir)?;
    let section = node.collective_section()?;
    let collective = node.collective().await?;
    let info = gather(&collective, section).await?;
    if json {
        let text = serde_json::to_string_pretty(&info).map_err(|e| CliError::Missing(e.to_string()))?;
        super::emit(&format!("{text}\n"))
    } else {
        super::emit(&show_info(&info))
    }
}

/// `hearth collective delegate`: the acting member delegates to itself.
pub async fn delegate(data_dir: &Path) -> Result<(), CliError> {
    let node = Node::load(data_dir)?;
    let member = node.member_wallet()?;
    let collective = node.collective().await?;
    let token = collective.token();
    let me = member.address();
    if token.balance(me).await?.is_zero() {
        return Err(CliError::Missing(format!("{me} holds no tokens of this collective: nothing to delegate")));
    }
    token.delegate(&member, me).await?;
    let votes = token.votes(me).await?;
    println!("{me} delegates to itself: {} votes, counted in proposals made from now on", format_tokens(votes));
    Ok(())
}

/// `hearth collective export`: the node's owner asks the node to deliver the export.
pub async fn export(data_dir: &Path, server: &str, operation: &str, json: bool) -> Result<(), CliError> {
    let operation = super::grant::parse_operation(operation)?;
    let client = super::grant::owner_client(data_dir, server).await?;
    let body = serde_json::to_vec(&ExportRequest { operation }).map_err(|e| CliError::Missing(e.to_string()))?;
    let report: ExportReport = client.json("POST", "/v1/exports", body).await?;
    if json {
        let text = serde_json::to_string_pretty(&report).map_err(|e| CliError::Missing(e.to_string()))?;
        return super::emit(&format!("{text}\n"));
    }
    let mut text = format!(
        "exported {} file(s) for {} to {} at {}, scope {} there\n",
        report.files.len(),
        report.operation,
        report.destination,
        report.url,
        report.scope
    );
    for f in &report.files {
        text.push_str(&format!("  {} -> file {} ({})\n", f.source_sha256, f.id, f.sha256));
    }
    super::emit(&text)
}

/// `hearth collective accept-exports`: list a collective in `[[serve.imports_from]]`.
pub fn accept_exports(data_dir: &Path, registry: Address, node: Address) -> Result<(), CliError> {
    let mut config = config::load(data_dir)?;
    let source = ImportSource { registry, node };
    if !config.serve.imports_from.contains(&source) {
        config.serve.imports_from.push(source);
        config::save(data_dir, &config)?;
    }
    super::emit(&format!(
        "this server accepts exports approved in {registry} and delivered by {node} (from the next `hearth serve`)\n"
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn token_amounts_round_trip_in_whole_tokens() {
        for (text, shown) in
            [("100", "100"), ("1.5", "1.5"), ("0", "0"), ("0.000000000000000001", "0.000000000000000001")]
        {
            assert_eq!(format_tokens(parse_tokens("amount", text).unwrap()), shown);
        }
        assert_eq!(parse_tokens("amount", "2").unwrap(), U256::from(2u64) * token_unit());
        for bad in ["", ".5", "-1", "1e3", "0.0000000000000000001", "abc", "1.2.3"] {
            assert!(parse_tokens("amount", bad).is_err(), "{bad:?} is refused");
        }
    }
}
