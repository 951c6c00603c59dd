//! The `hearth` binary end to end: chain info and deploy, and each bad input as one line
//! on stderr with exit code 2 and nothing changed on disk.

#![allow(clippy::unwrap_used, missing_docs)]

use std::path::Path;
use std::process::{Command, Output};

use hearth_chain::anvil::{ANVIL_CHAIN_ID, Anvil, DEV_KEY};
use hearth_chain::{EMBEDDED_CHAIN_ID, EMBEDDED_DIR, JOURNAL_FILE};

fn hearth(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hearth"))
        .env_remove("HEARTH_DEPLOYER_KEY")
        .env("HEARTH_DATA_DIR", data_dir)
        .args(args)
        .output()
        .expect("run hearth")
}

fn deploy(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hearth"))
        .env("HEARTH_DEPLOYER_KEY", DEV_KEY)
        .arg("--data-dir")
        .arg(data_dir)
        .args(["chain", "deploy"])
        .args(args)
        .output()
        .expect("run hearth")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Asserts a clean failure: exit code 2 and exactly one line on stderr containing `needle`.
#[track_caller]
fn assert_one_line_error(o: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "stderr: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(stderr.starts_with("error: ") && stderr.contains(needle), "expected {needle:?} in: {stderr}");
}

#[test]
fn chain_info_works_on_a_fresh_data_dir_with_the_embedded_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let first = hearth(dir.path(), &["chain", "info"]);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let text = stdout(&first);
    assert!(text.contains("backend             embedded"), "{text}");
    assert!(text.contains(&format!("chain id            {EMBEDDED_CHAIN_ID}")), "{text}");
    assert!(text.contains("PermissionRegistry  0x"), "{text}");
    assert!(dir.path().join(EMBEDDED_DIR).join(JOURNAL_FILE).exists());
    let again = hearth(dir.path(), &["chain", "info"]);
    assert_eq!(stdout(&again), text, "same chain, same addresses after a restart");
}

#[test]
fn chain_info_prints_json() {
    let dir = tempfile::tempdir().unwrap();
    let out = hearth(dir.path(), &["chain", "info", "--json"]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["backend"], "embedded");
    assert_eq!(v["chain_id"], EMBEDDED_CHAIN_ID);
    assert_eq!(v["contracts"].as_array().map(Vec::len), Some(5));
}

#[test]
fn deploy_to_anvil_switches_the_config_to_rpc() {
    let anvil = Anvil::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = deploy(dir.path(), &["--rpc", anvil.url(), "--chain-id", &ANVIL_CHAIN_ID.to_string()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let info = hearth(dir.path(), &["chain", "info", "--json"]);
    assert!(info.status.success(), "{}", String::from_utf8_lossy(&info.stderr));
    let v: serde_json::Value = serde_json::from_slice(&info.stdout).unwrap();
    assert_eq!(v["backend"], "rpc");
    assert_eq!(v["chain_id"], ANVIL_CHAIN_ID);
    assert!(v["block"].as_u64().unwrap() >= 5, "five deployments mined");
}

#[test]
fn an_unreachable_rpc_url_is_one_line_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = deploy(dir.path(), &["--rpc", "http://127.0.0.1:1"]);
    assert_one_line_error(&out, "cannot reach the chain RPC at http://127.0.0.1:1/");
    assert!(!dir.path().join("hearth.toml").exists());
}

#[test]
fn a_wrong_chain_id_is_refused_at_deploy_and_at_open() {
    let anvil = Anvil::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = deploy(dir.path(), &["--rpc", anvil.url(), "--chain-id", "1"]);
    assert_one_line_error(&out, "wrong chain: the configuration expects chain id 1, the chain reports 31337");
    assert!(!dir.path().join("hearth.toml").exists(), "nothing written");

    assert!(deploy(dir.path(), &["--rpc", anvil.url()]).status.success());
    let config = dir.path().join("hearth.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let edited = text.replace("chain_id = 31337", "chain_id = 5");
    assert_ne!(text, edited);
    std::fs::write(&config, &edited).unwrap();
    let out = hearth(dir.path(), &["chain", "info"]);
    assert_one_line_error(&out, "expects chain id 5, the chain reports 31337");
    assert_eq!(std::fs::read_to_string(&config).unwrap(), edited, "config left as it was");
}

#[test]
fn a_corrupted_embedded_state_file_is_one_line_and_is_not_reset() {
    let dir = tempfile::tempdir().unwrap();
    assert!(hearth(dir.path(), &["chain", "info"]).status.success());
    let journal = dir.path().join(EMBEDDED_DIR).join(JOURNAL_FILE);
    let mut bytes = std::fs::read(&journal).unwrap();
    bytes.extend_from_slice(b"{\"n\":1,\"ts\":5,\"tx\":\"0xdead\",\"outcome\":\"0x00\",\"check\":\"0x00\"}\n");
    std::fs::write(&journal, &bytes).unwrap();
    let out = hearth(dir.path(), &["chain", "info"]);
    assert_one_line_error(&out, "is corrupted");
    assert!(String::from_utf8_lossy(&out.stderr).contains(JOURNAL_FILE));
    assert_eq!(std::fs::read(&journal).unwrap(), bytes, "nothing is reset");
}

#[test]
fn deploy_without_a_key_says_what_to_set() {
    let dir = tempfile::tempdir().unwrap();
    let out = hearth(dir.path(), &["chain", "deploy", "--rpc", "http://127.0.0.1:1"]);
    assert_one_line_error(&out, "set HEARTH_DEPLOYER_KEY");
}

#[test]
fn a_malformed_config_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hearth.toml"), "[chain]\nbackend = \"carrier-pigeon\"\n").unwrap();
    let out = hearth(dir.path(), &["chain", "info"]);
    assert_one_line_error(&out, "hearth.toml");
}
