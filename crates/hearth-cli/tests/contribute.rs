//! The collective end to end through the `hearth` binary, one body on two chains (the
//! embedded chain in real seconds, and a real anvil with its clock moved forward): three
//! members approve `wordcount` by vote through the timelock while a second proposal is
//! defeated; each contributes a file encrypted on its side to the node (`hearth
//! contribute`, which checks the node's key against `ServerRegistry` first); a requester's
//! job under the collective's approval returns one aggregate over every contribution; the
//! defeated proposal's code is refused; and once a third proposal revokes the approval,
//! new runs are refused. Also: a URL serving another key than the node registered, or a
//! server the chain does not know, gets nothing.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};

use common::{AnvilClock, Time, WallClock, as_member, assert_refused, field, member_ok, number, ok, serve};
use hearth_chain::Wallet;
use hearth_chain::anvil::Anvil;

const MEMBER_KEYS: [&str; 3] = [
    "0x5555555555555555555555555555555555555555555555555555555555555555",
    "0x6666666666666666666666666666666666666666666666666666666666666666",
    "0x7777777777777777777777777777777777777777777777777777777777777777",
];
/// What each member contributes: 3, 4 and 5 words.
const TEXTS: [&str; 3] = ["one two three\n", "four five six seven\n", "eight nine ten eleven twelve\n"];
/// The collective's settings on both chains: short, since the embedded chain's clock is real.
const SETTINGS: [&str; 6] = ["--voting-delay-secs", "1", "--voting-period-secs", "4", "--timelock-delay-secs", "2"];

/// The chain a node runs on, as the end-to-end body sees it.
struct Backend<'a> {
    time: &'a dyn Time,
    /// Whether `hearth serve` holds the chain while it runs (the embedded one does), so
    /// the members' governance commands run while the node is stopped.
    held_by_serve: bool,
}

/// The collective end to end on the initialised node `data` (server address `node`).
fn end_to_end(dir: &Path, data: &Path, node: &str, backend: &Backend) {
    let mut init = vec!["collective".to_owned(), "init".into()];
    for key in MEMBER_KEYS {
        init.extend(["--member".to_owned(), format!("{}=100", Wallet::from_hex(key).unwrap().address())]);
    }
    init.extend(SETTINGS.map(String::from));
    ok(data, &init.iter().map(String::as_str).collect::<Vec<_>>());
    for key in MEMBER_KEYS {
        member_ok(data, key, &["collective", "delegate"]);
    }
    // Delegations count from the next second's snapshot on.
    backend.time.pass(common::now_secs());

    // Proposal 1 approves `wordcount`; proposal 2, another digest, is voted down meanwhile.
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/operations/wordcount.rs");
    let archive = hearth_sandbox::images::example::build_example_image(&source, dir).unwrap();
    let proposed = member_ok(
        data,
        MEMBER_KEYS[0],
        &["code", "propose", archive.to_str().unwrap(), "--description", "Count words"],
    );
    let digest = field(&proposed, "digest").to_owned();
    let rejected_digest = format!("sha256:{}", "ab".repeat(32));
    let rejected =
        member_ok(data, MEMBER_KEYS[1], &["code", "propose", &rejected_digest, "--description", "Export everything"]);
    let rejected_id = field(&rejected, "proposal").to_owned();
    backend.time.pass(number(&rejected, "snapshot"));
    member_ok(data, MEMBER_KEYS[0], &["code", "vote", &rejected_id, "for"]);
    member_ok(data, MEMBER_KEYS[1], &["code", "vote", &rejected_id, "against"]);
    member_ok(data, MEMBER_KEYS[2], &["code", "vote", &rejected_id, "against"]);
    let executed = common::vote_through(data, backend.time, &MEMBER_KEYS, &proposed);
    assert!(executed.contains(&format!("approved  {digest}")), "{executed}");
    let listed: serde_json::Value = serde_json::from_str(&ok(data, &["code", "ls", "--json"])).unwrap();
    let state =
        |id: &str| listed["proposals"].as_array().unwrap().iter().find(|p| p["id"] == id).unwrap()["state"].clone();
    assert_eq!(state(&rejected_id), "defeated", "{listed}");

    let (server, url) = serve(data);
    for (i, (key, text)) in MEMBER_KEYS.iter().zip(TEXTS).enumerate() {
        let file = dir.join(format!("notes-{i}.txt"));
        std::fs::write(&file, text).unwrap();
        let said =
            member_ok(data, key, &["contribute", "--server", &url, "--collective", node, file.to_str().unwrap()]);
        assert!(said.contains("contributed"), "{said}");
    }
    let elsewhere = dir.join("elsewhere.txt");
    std::fs::write(&elsewhere, "for another node").unwrap();
    let other_node = "0x00000000000000000000000000000000000000aa";
    let refused = as_member(data, MEMBER_KEYS[0], &["contribute", "--server", &url, "--collective", other_node]);
    assert_eq!(refused.status.code(), Some(2), "FILE is required");
    let refused = as_member(
        data,
        MEMBER_KEYS[0],
        &["contribute", "--server", &url, "--collective", other_node, elsewhere.to_str().unwrap()],
    );
    assert_refused(&refused, "not the collective's node");
    let missing = dir.join("missing.txt");
    let refused = as_member(
        data,
        MEMBER_KEYS[0],
        &["contribute", "--server", &url, "--collective", node, missing.to_str().unwrap()],
    );
    assert_refused(&refused, "missing.txt");
    let keyless =
        common::hearth(data, &["contribute", "--server", &url, "--collective", node, elsewhere.to_str().unwrap()]);
    assert_refused(&keyless, "HEARTH_MEMBER_KEY");

    let app_dir = dir.join("requester");
    let app_dir = app_dir.to_str().unwrap();
    ok(data, &["app", "register", "--server", &url, "--app-dir", app_dir, "--name", "requester"]);
    let zero = format!("0x{}", "0".repeat(64));
    let run = |url: &str, operation: &str| {
        let args = ["app", "run", "--server", url, "--app-dir", app_dir, "--grant", &zero, "--operation", operation];
        common::hearth(data, &[&args[..], &["--scope", "contributions"]].concat())
    };
    let result = run(&url, &digest);
    assert!(result.status.success(), "{}", String::from_utf8_lossy(&result.stderr));
    let result = String::from_utf8(result.stdout).unwrap();
    let words: usize = TEXTS.iter().map(|t| t.split_whitespace().count()).sum();
    assert!(result.contains(&format!("\"words\": {words}")), "an aggregate over all three: {result}");
    assert!(result.contains("\"lines\": 3"), "only the three accepted contributions: {result}");
    assert_refused(&run(&url, &rejected_digest), "403 code_not_approved");

    // Proposal 3 revokes the approval; the node refuses new runs of it.
    // A node holding its chain is stopped meanwhile (dropping it kills it) and restarted.
    let served = (!backend.held_by_serve).then_some((server, url));
    let revoking = member_ok(data, MEMBER_KEYS[2], &["code", "revoke", &digest, "--description", "Stop counting"]);
    let executed = common::vote_through(data, backend.time, &MEMBER_KEYS, &revoking);
    assert!(executed.contains(&format!("revoked   {digest}")), "{executed}");
    let (_server, url) = served.unwrap_or_else(|| serve(data));
    assert_refused(&run(&url, &digest), "403 code_revoked");
}

#[test]
fn three_members_approve_code_contribute_and_get_an_aggregate_on_the_embedded_chain() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let node = field(&ok(&data, &["init"]), "server address").to_owned();
    end_to_end(dir.path(), &data, &node, &Backend { time: &WallClock, held_by_serve: true });
}

#[test]
fn three_members_approve_code_contribute_and_get_an_aggregate_on_anvil() {
    let anvil = Anvil::start().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let node = common::init_on_anvil(&anvil, &runtime, &data, &MEMBER_KEYS);
    let time = AnvilClock(&anvil, runtime);
    end_to_end(dir.path(), &data, &node, &Backend { time: &time, held_by_serve: false });
}

/// A stand-in server answering `GET /v1/identity` with `identity` and anything else 404.
/// Returns its URL and the request lines it received.
fn impostor(identity: String) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let mut stream = stream.unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request = String::new();
            reader.read_line(&mut request).unwrap();
            let mut header = String::new();
            while reader.read_line(&mut header).unwrap() > 2 {
                header.clear();
            }
            let request = request.trim().to_owned();
            let (status, body) = if request == "GET /v1/identity HTTP/1.1" {
                ("200 OK", identity.as_str())
            } else {
                ("404 Not Found", "{}")
            };
            log.lock().unwrap().push(request);
            let head = format!("HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}", body.len());
            let _ = write!(stream, "{head}\r\nconnection: close\r\n\r\n{body}");
        }
    });
    (url, seen)
}

#[test]
fn a_url_serving_another_key_than_the_node_registered_gets_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("node");
    let node = field(&ok(&data, &["init"]), "server address").to_owned();
    // An honest hearth server the contributor's chain does not know (its own embedded chain).
    let unrelated = dir.path().join("unrelated");
    ok(&unrelated, &["init"]);
    let (_node_server, node_url) = serve(&data);
    let (_unrelated_server, unrelated_url) = serve(&unrelated);
    let file = dir.path().join("notes.txt");
    std::fs::write(&file, "private words").unwrap();
    let file = file.to_str().unwrap();
    let contribute = |url: &str, extra: &[&str]| {
        as_member(&data, MEMBER_KEYS[0], &[&["contribute", "--server", url][..], extra, &[file]].concat())
    };

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let fetch = |url: String| runtime.block_on(async { reqwest::get(url).await.unwrap().text().await.unwrap() });
    let honest: serde_json::Value = serde_json::from_str(&fetch(format!("{node_url}/v1/identity"))).unwrap();
    let theirs: serde_json::Value = serde_json::from_str(&fetch(format!("{unrelated_url}/v1/identity"))).unwrap();
    let unnamed = contribute(&unrelated_url, &[]);
    assert_eq!(unnamed.status.code(), Some(2), "the node must be named");
    assert!(String::from_utf8_lossy(&unnamed.stderr).contains("--collective"));
    let unrelated_node = theirs["server"].as_str().unwrap();
    assert_refused(
        &contribute(&unrelated_url, &["--collective", unrelated_node]),
        "is not registered in ServerRegistry",
    );
    assert_refused(&contribute(&unrelated_url, &["--collective", &node]), "not the collective's node");

    // A man in the middle: the node's identity, with its own key in place of the node's.
    let mut forged = honest.clone();
    forged["recipient"] = theirs["recipient"].clone();
    let (impostor_url, seen) = impostor(forged.to_string());
    let refused = contribute(&impostor_url, &["--collective", &node]);
    assert_refused(&refused, &format!("but node {node} registered {} on chain", honest["recipient"].as_str().unwrap()));
    assert_eq!(*seen.lock().unwrap(), ["GET /v1/identity HTTP/1.1"], "nothing but the identity was asked for");

    // The same stand-in serving the node's true identity passes the check and is asked for a nonce.
    let (relay_url, seen) = impostor(honest.to_string());
    assert_eq!(contribute(&relay_url, &["--collective", &node]).status.code(), Some(2), "the stand-in has no nonce");
    let seen = seen.lock().unwrap();
    assert!(seen.len() == 2 && seen[1].starts_with("GET /v1/contributions/nonce/"), "past the check: {seen:?}");

    // A data directory without the chain cannot check, so sends nothing.
    let chainless = dir.path().join("chainless");
    let refused =
        as_member(&chainless, MEMBER_KEYS[0], &["contribute", "--server", &node_url, "--collective", &node, file]);
    assert_refused(&refused, "cannot check the node");
}
