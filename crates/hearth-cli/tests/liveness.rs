//! `hearth liveness` through the binary on the embedded chain: status of a fresh liveness
//! collective, refusals as one line with exit code 2 (nothing to claim, a bad chunk size,
//! no registry), and `hearth serve` running the per-epoch challenge task (the epoch is
//! opened on chain) and stopping cleanly on SIGTERM.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::process::Output;
use std::time::{Duration, Instant};

use common::{OWNER_KEY, hearth, ok, serve};
use hearth_chain::Wallet;
use serde_json::Value;

#[track_caller]
fn assert_one_line_error(out: &Output, words: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(stderr.contains(words), "{words:?} in: {stderr}");
}

#[test]
fn a_liveness_collective_shows_status_refuses_bad_input_and_serve_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    ok(&data, &["init"]);
    let owner = Wallet::from_hex(OWNER_KEY).unwrap().address();
    let member = format!("{owner}=100");
    let init = ["collective", "init", "--member", &member, "--custody", "liveness", "--reward-per-pass", "1"];
    ok(&data, &[&init[..], &["--reward-pool", "10", "--epoch-secs", "3600"]].concat());

    let status: Value = serde_json::from_str(&ok(&data, &["liveness", "status", "--json"])).unwrap();
    assert_eq!(status["contributor"].as_str().unwrap().to_lowercase(), owner.to_string().to_lowercase());
    assert_eq!(status["rewards"], "0x0");
    assert_eq!(status["contributions"].as_array().unwrap().len(), 0);
    assert_eq!(status["epoch_open"], false);

    assert_one_line_error(&hearth(&data, &["liveness", "claim"]), "NothingToClaim");
    let bad_chunk =
        hearth(&data, &["liveness", "commit", "--server", "http://127.0.0.1:9", "--chunk-bytes", "10", "1"]);
    assert_one_line_error(&bad_chunk, "--chunk-bytes 10");

    let plain = dir.path().join("plain");
    ok(&plain, &["init"]);
    assert_one_line_error(&hearth(&plain, &["liveness", "status"]), "--registry");

    // The node is the registry's challenger: serve runs the epoch task and stops on SIGTERM.
    let (mut served, _url) = serve(&data);
    std::thread::sleep(Duration::from_secs(2));
    let pid = served.0.id().to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let start = Instant::now();
    let exit = loop {
        if let Some(exit) = served.0.try_wait().unwrap() {
            break exit;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "serve did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(exit.success(), "{exit:?}");
    let status: Value = serde_json::from_str(&ok(&data, &["liveness", "status", "--json"])).unwrap();
    assert_eq!(status["epoch"], 0);
    assert_eq!(status["epoch_open"], true, "serve's task opened the epoch on chain");
}
