//! An export to a heavy node through the `hearth` binary, on anvil (two servers cannot
//! share the embedded chain): three members contribute to a collective node and approve,
//! by vote through the timelock, a digest for export to a second server (the destination,
//! registered with the URL it serves on). The node's owner starts the export (`hearth
//! collective export`); the destination keeps the files only once its owner listed the
//! collective (`hearth collective accept-exports`); there they decrypt with the
//! destination's key to the three contributions, and the real `age` opens them with the
//! destination's identity but not with the node's, the owner's, a member's or a random
//! one. Code not approved, code approved to run on the node, and a destination that did
//! not accept exports are refused with one line.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{AnvilClock, OWNER_KEY, assert_refused, hearth, member_ok, ok, serve, serve_at};
use hearth_chain::Wallet;
use hearth_chain::anvil::Anvil;
use hearth_crypto::ExposeSecret;
use serde_json::Value;
use sha2::{Digest, Sha256};

const MEMBER_KEYS: [&str; 3] = [
    "0x8888888888888888888888888888888888888888888888888888888888888888",
    "0x9999999999999999999999999999999999999999999999999999999999999999",
    "0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
];
/// What each member contributes.
const TEXTS: [&str; 3] = ["first member's notes\n", "second member's notes\n", "third member's notes\n"];

/// The age identity (`AGE-SECRET-KEY-1…`) of a wallet, as `hearth owner identity` derives it.
fn wallet_identity(key: &str) -> String {
    let signature = Wallet::from_hex(key).unwrap().sign_message(hearth_crypto::OWNER_KEY_MESSAGE.as_bytes()).unwrap();
    let identity = hearth_crypto::owner_identity_from_signature(&signature).unwrap();
    hearth_crypto::identity_to_string(&identity).expose_secret().to_owned()
}

/// The age identity of the server whose data directory is `data`.
fn server_identity(data: &Path) -> String {
    let keys = hearth_crypto::read_key_file(&data.join("server.key"), None).unwrap();
    hearth_crypto::identity_to_string(keys.age_identity()).expose_secret().to_owned()
}

/// The local blob in `data` whose bytes hash to `sha256` (`0x…`).
fn blob(data: &Path, sha256: &str) -> PathBuf {
    let shards = std::fs::read_dir(data.join("blobs")).unwrap();
    let files = shards.flat_map(|shard| std::fs::read_dir(shard.unwrap().path()).unwrap());
    files
        .map(|f| f.unwrap().path())
        .find(|p| format!("0x{}", alloy_primitives::hex::encode(Sha256::digest(std::fs::read(p).unwrap()))) == sha256)
        .unwrap_or_else(|| panic!("no blob with sha256 {sha256}"))
}

/// `age -d -i identity file`.
fn age_decrypt(dir: &Path, identity: &str, file: &Path) -> std::process::Output {
    let path = dir.join("identity.txt");
    std::fs::write(&path, format!("{identity}\n")).unwrap();
    let out = Command::new("age").arg("-d").arg("-i").arg(&path).arg(file).output().unwrap();
    std::fs::remove_file(&path).unwrap();
    out
}

#[test]
fn an_approved_export_reaches_the_destination_and_only_its_key_opens_it() {
    let anvil = Anvil::start().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("node");
    let node = common::init_on_anvil(&anvil, &runtime, &data, &MEMBER_KEYS);

    // The destination: the same chain, its own server key, registered with the URL it
    // will serve on.
    let destination = dir.path().join("destination");
    std::fs::create_dir(&destination).unwrap();
    let node_config: toml::Table = std::fs::read_to_string(data.join("hearth.toml")).unwrap().parse().unwrap();
    let chain = toml::Table::from_iter([("chain".to_owned(), node_config["chain"].clone())]);
    std::fs::write(destination.join("hearth.toml"), chain.to_string()).unwrap();
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (bind, destination_url) = (format!("127.0.0.1:{port}"), format!("http://127.0.0.1:{port}"));
    let to = common::init_funded(&anvil, &runtime, &destination, &[], &["--url", &destination_url]);
    let time = AnvilClock(&anvil, runtime);

    // The collective, with the default delays (anvil's clock is moved).
    let members: Vec<String> =
        MEMBER_KEYS.iter().map(|k| format!("{}=100", Wallet::from_hex(k).unwrap().address())).collect();
    let init = ["collective", "init"].into_iter().chain(members.iter().flat_map(|m| ["--member", m.as_str()]));
    ok(&data, &init.collect::<Vec<_>>());
    for key in MEMBER_KEYS {
        member_ok(&data, key, &["collective", "delegate"]);
    }
    let info: Value = serde_json::from_str(&ok(&data, &["collective", "info", "--json"])).unwrap();
    let registry = info["contracts"]["code_registry"].as_str().unwrap().to_owned();

    let (_node_server, node_url) = serve(&data);
    let mut sources = Vec::new();
    for (i, (key, text)) in MEMBER_KEYS.iter().zip(TEXTS).enumerate() {
        let file = dir.path().join(format!("notes-{i}.txt"));
        std::fs::write(&file, text).unwrap();
        sources.push(std::fs::read(&file).unwrap());
        member_ok(&data, key, &["contribute", "--server", &node_url, "--collective", &node, file.to_str().unwrap()]);
    }

    // One digest approved for export to the destination, one to run on the node.
    let digest = format!("sha256:{}", "e1".repeat(32));
    let export = ["code", "propose", &digest, "--description", "Export to the heavy node", "--export-to", &to];
    let executed = common::vote_through(&data, &time, &MEMBER_KEYS, &member_ok(&data, MEMBER_KEYS[0], &export));
    let approved = format!("approved  {digest} (runs on {} after an export)", to.to_lowercase());
    assert!(executed.to_lowercase().contains(&approved), "{executed}");
    let local = format!("sha256:{}", "e2".repeat(32));
    let proposed = member_ok(&data, MEMBER_KEYS[1], &["code", "propose", &local, "--description", "Run here"]);
    common::vote_through(&data, &time, &MEMBER_KEYS, &proposed);

    let export = |operation: &str| {
        hearth(&data, &["collective", "export", "--server", &node_url, "--operation", operation, "--json"])
    };
    assert_refused(&export(&format!("sha256:{}", "e3".repeat(32))), "403 code_not_approved");
    assert_refused(&export(&local), "403 not_an_export");

    // A destination that did not accept exports from this collective keeps nothing.
    let (server, url) = serve_at(&destination, &bind);
    assert_eq!(url, destination_url);
    let refused = export(&digest);
    assert_refused(&refused, "delivery_refused");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("import_not_expected"), "{refused:?}");
    drop(server);

    let accepted = ok(&destination, &["collective", "accept-exports", "--registry", &registry, "--node", &node]);
    assert!(accepted.contains("from the next `hearth serve`"), "{accepted}");
    let (server, _) = serve_at(&destination, &bind);
    let out = export(&digest);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["destination"].as_str().unwrap().to_lowercase(), to.to_lowercase(), "{report}");
    assert_eq!(report["url"], destination_url.as_str(), "{report}");
    let scope = format!("imports.{}", "e1".repeat(8));
    assert_eq!(report["scope"], scope.as_str(), "{report}");
    let files = report["files"].as_array().unwrap();
    assert_eq!(files.len(), 3, "{report}");
    drop(server);

    // On the destination: three files in the imports scope, named by the source
    // ciphertexts' hashes, that decrypt with its key to the three contributions.
    let listed: Value = serde_json::from_str(&ok(&destination, &["data", "ls", "--scope", &scope, "--json"])).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 3, "{listed}");
    let mut opened = Vec::new();
    for (file, kept) in files.iter().zip(listed.as_array().unwrap()) {
        assert_eq!(file["id"], kept["id"], "{listed}");
        assert_eq!(file["sha256"], kept["sha256"], "{listed}");
        let source = file["source_sha256"].as_str().unwrap();
        assert_eq!(kept["name"].as_str().unwrap(), &source[2..], "{listed}");
        let cat = hearth(&destination, &["data", "cat", &kept["id"].to_string()]);
        assert!(cat.status.success(), "{}", String::from_utf8_lossy(&cat.stderr));
        opened.push(cat.stdout);
    }
    opened.sort();
    sources.sort();
    assert_eq!(opened, sources, "the three contributions, nothing else");

    // With the real `age`: only the destination's identity opens what it kept.
    let kept = blob(&destination, files[0]["sha256"].as_str().unwrap());
    let opens = age_decrypt(dir.path(), &server_identity(&destination), &kept);
    assert!(opens.status.success(), "{}", String::from_utf8_lossy(&opens.stderr));
    assert!(sources.contains(&opens.stdout), "{opens:?}");
    let random = Command::new("age-keygen").output().unwrap();
    let random = String::from_utf8(random.stdout).unwrap();
    let random = random.lines().find(|l| l.starts_with("AGE-SECRET-KEY-")).unwrap().to_owned();
    for (who, identity) in [
        ("the node", server_identity(&data)),
        ("the owner", wallet_identity(OWNER_KEY)),
        ("a member", wallet_identity(MEMBER_KEYS[0])),
        ("a random identity", random),
    ] {
        let out = age_decrypt(dir.path(), &identity, &kept);
        assert!(!out.status.success() && out.stdout.is_empty(), "{who} opened an export: {out:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("no identity matched"), "{who}: {out:?}");
    }
}
