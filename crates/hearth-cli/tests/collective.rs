//! A data collective through the `hearth` binary: `collective init|info|delegate` and
//! `code propose|revoke|vote|queue|execute|ls` on the embedded chain (real seconds, short
//! delays) and on a real anvil (default delays, its clock moved forward), with the chain's
//! refusals as one line naming the contract error, and `serve` connecting the collective.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::path::Path;
use std::process::Output;

use common::{AnvilClock, Time, WallClock, as_member, field, hearth, member_ok, number, ok};
use hearth_chain::Wallet;
use hearth_chain::anvil::Anvil;
use serde_json::Value;

/// Three members with known keys, and someone holding no tokens.
const MEMBER_KEYS: [&str; 3] = [
    "0x1111111111111111111111111111111111111111111111111111111111111111",
    "0x2222222222222222222222222222222222222222222222222222222222222222",
    "0x3333333333333333333333333333333333333333333333333333333333333333",
];
const OUTSIDER_KEY: &str = "0x4444444444444444444444444444444444444444444444444444444444444444";

/// Short settings for the embedded chain, whose clock is the system clock.
const VOTING_DELAY_SECS: &str = "1";
const VOTING_PERIOD_SECS: &str = "4";
const TIMELOCK_DELAY_SECS: &str = "3";

fn address(key: &str) -> String {
    Wallet::from_hex(key).unwrap().address().to_string()
}

/// Asserts a refusal: exit code 2 and one line on stderr naming `error` and containing `words`.
#[track_caller]
fn assert_refused(out: &Output, error: &str, words: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(stderr.starts_with("error: refused: "), "{stderr}");
    assert!(stderr.contains(&format!("({error})")) && stderr.contains(words), "{error}, {words:?} in: {stderr}");
}

fn code_ls(data: &Path) -> Value {
    serde_json::from_str(&ok(data, &["code", "ls", "--json"])).unwrap()
}

fn proposal<'a>(listed: &'a Value, id: &str) -> &'a Value {
    listed["proposals"].as_array().unwrap().iter().find(|p| p["id"] == id).unwrap()
}

fn approval<'a>(listed: &'a Value, digest: &str) -> &'a Value {
    listed["approvals"].as_array().unwrap().iter().find(|a| a["digest"] == digest).unwrap()
}

/// Members delegate, two proposals go to a vote (one passes through queue and timelock,
/// one is defeated and cannot be queued), an outsider's vote is refused, then the approved
/// digest is revoked by a third proposal. `image` is what the first proposal names; the
/// second would export to `node` (a registered server).
fn scenario(data: &Path, time: &dyn Time, image: &str, node: &str) {
    let [a, b, c] = MEMBER_KEYS;
    for key in MEMBER_KEYS {
        let said = member_ok(data, key, &["collective", "delegate"]);
        assert!(said.contains(&format!("{} delegates to itself: 100 votes", address(key))), "{said}");
    }
    let info: Value = serde_json::from_str(&ok(data, &["collective", "info", "--json"])).unwrap();
    let members = info["members"].as_array().unwrap();
    assert_eq!(members.len(), 3, "{info}");
    for m in members {
        assert_eq!(m["votes"], "100", "{info}");
        assert_eq!(m["delegate"], m["address"], "{info}");
    }

    // Proposal 1 approves `image`; proposal 2 approves another digest and will be voted down.
    let proposed = member_ok(
        data,
        a,
        &["code", "propose", image, "--description", "Count words", "--uri", "https://example.org/wc"],
    );
    let digest = field(&proposed, "digest").to_owned();
    let approve = field(&proposed, "proposal").to_owned();
    assert_eq!(field(&proposed, "state"), "pending");
    let other = format!("sha256:{}", "ab".repeat(32));
    let unregistered = address(OUTSIDER_KEY);
    let nowhere = as_member(data, b, &["code", "propose", &other, "--description", "x", "--export-to", &unregistered]);
    assert_eq!(nowhere.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&nowhere.stderr).contains("not a server registered"), "{nowhere:?}");
    let export = ["code", "propose", &other, "--description", "Export everything", "--export-to", node];
    let proposed2 = member_ok(data, b, &export);
    let defeated = field(&proposed2, "proposal").to_owned();
    time.pass(number(&proposed2, "snapshot"));

    let outsider = as_member(data, OUTSIDER_KEY, &["code", "vote", &approve, "for"]);
    assert_refused(&outsider, "NoVotingPower", &address(OUTSIDER_KEY));
    for key in MEMBER_KEYS {
        let voted = member_ok(data, key, &["code", "vote", &approve, "for"]);
        assert!(voted.contains("voted for with 100 votes"), "{voted}");
    }
    assert_refused(
        &as_member(data, a, &["code", "vote", &approve, "against"]),
        "GovernorAlreadyCastVote",
        "already voted",
    );
    member_ok(data, a, &["code", "vote", &defeated, "for"]);
    member_ok(data, b, &["code", "vote", &defeated, "against"]);
    let last = member_ok(data, c, &["code", "vote", &defeated, "against"]);
    assert!(last.contains("for 100, against 200, abstain 0"), "{last}");
    let listed = code_ls(data);
    assert_eq!(proposal(&listed, &approve)["state"], "active", "the votes came in time: {listed}");
    time.pass(number(&proposed2, "deadline"));

    let listed = code_ls(data);
    assert_eq!(proposal(&listed, &approve)["state"], "succeeded", "{listed}");
    assert_eq!(proposal(&listed, &defeated)["state"], "defeated", "{listed}");
    assert_eq!(proposal(&listed, &approve)["actions"][0]["digest"], digest.as_str());
    let export_action = &proposal(&listed, &defeated)["actions"][0];
    assert_eq!(export_action["kind"], "approve", "{listed}");
    assert_eq!(export_action["export_to"].as_str().unwrap().to_lowercase(), node.to_lowercase(), "{listed}");
    assert_refused(&as_member(data, b, &["code", "queue", &defeated]), "GovernorUnexpectedProposalState", "defeated");

    let queued = member_ok(data, b, &["code", "queue", &approve]);
    let eta = number(&queued, "eta");
    let early = as_member(data, c, &["code", "execute", &approve]);
    assert_refused(&early, "TimelockUnexpectedOperationState", "timelock delay has not passed");
    time.pass(eta - 1);
    let executed = member_ok(data, c, &["code", "execute", &approve]);
    assert!(executed.contains(&format!("approved  {digest}")), "{executed}");
    let listed = code_ls(data);
    assert_eq!(proposal(&listed, &approve)["state"], "executed", "{listed}");
    let approved = approval(&listed, &digest);
    assert_eq!(approved["approved"], true, "{listed}");
    assert_eq!(approved["description_uri"], "https://example.org/wc");
    assert_eq!(approved["export_to"], Value::Null);
    assert!(approved["approved_at"].as_u64().is_some() && approved["revoked_at"].is_null(), "{listed}");
    assert!(listed["approvals"].as_array().unwrap().iter().all(|a| a["digest"] != other.as_str()), "{listed}");
    let again = as_member(data, a, &["code", "propose", &digest, "--description", "Count words again"]);
    assert_refused(&again, "AlreadyApproved", "revoke it first");

    // Proposal 3 revokes it: two of three members suffice for the 50 % quorum.
    let proposed3 = member_ok(data, c, &["code", "revoke", &digest, "--description", "Stop counting words"]);
    let revoke = field(&proposed3, "proposal").to_owned();
    time.pass(number(&proposed3, "snapshot"));
    member_ok(data, a, &["code", "vote", &revoke, "for"]);
    member_ok(data, b, &["code", "vote", &revoke, "for"]);
    time.pass(number(&proposed3, "deadline"));
    let queued = member_ok(data, a, &["code", "queue", &revoke]);
    time.pass(number(&queued, "eta") - 1);
    let executed = ok(data, &["code", "execute", &revoke]);
    assert!(executed.contains(&format!("revoked   {digest}")), "{executed}");
    let listed = code_ls(data);
    let revoked = approval(&listed, &digest);
    assert_eq!(revoked["approved"], false, "{listed}");
    assert!(revoked["revoked_at"].as_u64().unwrap() >= revoked["approved_at"].as_u64().unwrap(), "{listed}");
    assert_eq!(proposal(&listed, &revoke)["actions"][0]["kind"], "revoke", "{listed}");
    let human = ok(data, &["code", "ls"]);
    assert!(human.contains(&format!("{digest}  revoked")), "{human}");
}

fn members_flags() -> Vec<String> {
    MEMBER_KEYS.iter().flat_map(|k| ["--member".to_owned(), format!("{}=100", address(k))]).collect()
}

#[test]
fn a_collective_approves_and_revokes_code_by_vote_on_the_embedded_chain() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let initialised = ok(&data, &["init"]);
    let server = field(&initialised, "server address").to_owned();
    let refused = hearth(&data, &["code", "ls"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("hearth collective init"));

    let mut args = vec!["collective", "init"];
    let members = members_flags();
    args.extend(members.iter().map(String::as_str));
    args.extend([
        "--voting-delay-secs",
        VOTING_DELAY_SECS,
        "--voting-period-secs",
        VOTING_PERIOD_SECS,
        "--timelock-delay-secs",
        TIMELOCK_DELAY_SECS,
        "--custody",
        "liveness",
        "--reward-per-pass",
        "0.5",
    ]);
    let created = ok(&data, &args);
    for name in ["MembershipToken", "CollectiveTimelock", "CollectiveGovernor", "CodeRegistry", "LivenessRegistry"] {
        assert!(field(&created, name).starts_with("0x"), "{created}");
    }
    assert_eq!(field(&created, "voting delay"), "1 s");
    assert_eq!(field(&created, "timelock delay"), "3 s");
    assert_eq!(field(&created, "custody"), "liveness");
    assert_eq!(field(&created, "reward per pass"), "0.5 tokens");
    assert_eq!(field(&created, "token supply"), "300 tokens");
    let config = std::fs::read_to_string(data.join("hearth.toml")).unwrap();
    assert!(config.contains("[collective]") && config.contains("custody = \"liveness\""), "{config}");
    let twice = hearth(&data, &args);
    assert_eq!(twice.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&twice.stderr).contains("already has a collective"));
    assert_eq!(std::fs::read_to_string(data.join("hearth.toml")).unwrap(), config, "config untouched");

    // The first proposal names an image archive: it is imported and named by its digest.
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/operations/wordcount.rs");
    let archive = hearth_sandbox::images::example::build_example_image(&source, dir.path()).unwrap();
    scenario(&data, &WallClock, archive.to_str().unwrap(), &server);
    let images: Value = serde_json::from_str(&ok(&data, &["image", "ls", "--json"])).unwrap();
    let listed = code_ls(&data);
    assert_eq!(images[0]["digest"], listed["approvals"][0]["digest"], "{images} {listed}");

    // `serve` connects the configured collective, and refuses a config naming none.
    let (server, url) = common::serve(&data);
    assert!(url.starts_with("http://127.0.0.1:"));
    drop(server);
    let governor = field(&created, "CollectiveGovernor").to_lowercase();
    let broken = config.replace(&governor, "0x0000000000000000000000000000000000000001");
    assert_ne!(broken, config);
    std::fs::write(data.join("hearth.toml"), broken).unwrap();
    let refused = hearth(&data, &["serve", "--bind", "127.0.0.1:0"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("CollectiveGovernor"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
}

#[test]
fn a_collective_approves_and_revokes_code_by_vote_on_anvil_with_the_default_delays() {
    let anvil = Anvil::start().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let keys: Vec<&str> = MEMBER_KEYS.into_iter().chain([OUTSIDER_KEY]).collect();
    let server = common::init_on_anvil(&anvil, &runtime, &data, &keys);

    let mut args = vec!["collective", "init"];
    let members = members_flags();
    args.extend(members.iter().map(String::as_str));
    let created = ok(&data, &args);
    assert!(field(&created, "chain").starts_with("rpc"), "{created}");
    assert_eq!(field(&created, "voting delay"), "60 s");
    assert_eq!(field(&created, "voting period"), "3600 s");
    assert_eq!(field(&created, "timelock delay"), "3600 s");
    assert_eq!(field(&created, "custody"), "escrow");
    scenario(&data, &AnvilClock(&anvil, runtime), &format!("0x{}", "cd".repeat(32)), &server);
}
