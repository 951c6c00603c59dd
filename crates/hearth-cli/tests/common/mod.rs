//! What the binary-level tests share: running `hearth` with a fixed owner key, a
//! background `hearth serve` that is killed when dropped, reading printed fields, and
//! moving past a chain time on the embedded chain (waiting) or on anvil (its clock).

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hearth_chain::Wallet;
use hearth_chain::anvil::{Anvil, DEV_KEY};

pub const OWNER_KEY: &str = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";

pub fn hearth(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hearth"))
        .env("HEARTH_DATA_DIR", data_dir)
        .env("HEARTH_OWNER_KEY", OWNER_KEY)
        .env_remove("HEARTH_PASSPHRASE")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

pub fn ok(data_dir: &Path, args: &[&str]) -> String {
    let out = hearth(data_dir, args);
    assert!(out.status.success(), "hearth {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// A child process killed (SIGKILL) when dropped.
pub struct Served(pub Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn serve(data_dir: &Path) -> (Served, String) {
    serve_at(data_dir, "127.0.0.1:0")
}

/// `hearth serve --bind bind`, and the URL it listens on.
pub fn serve_at(data_dir: &Path, bind: &str) -> (Served, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hearth"))
        .env("HEARTH_DATA_DIR", data_dir)
        .env("HEARTH_OWNER_KEY", OWNER_KEY)
        .args(["serve", "--bind", bind])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url =
        line.trim().strip_prefix("hearth listening on ").unwrap_or_else(|| panic!("unexpected: {line}")).to_owned();
    (Served(child), url)
}

/// The rest of the first line that starts (after indentation) with `prefix`.
pub fn field<'a>(text: &'a str, prefix: &str) -> &'a str {
    text.lines().find_map(|l| l.trim().strip_prefix(prefix)).unwrap().trim()
}

/// Asserts a refusal: exit code 2 and one line on stderr containing `words`.
#[track_caller]
pub fn assert_refused(out: &Output, words: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(stderr.contains(words), "expected {words:?} in: {stderr}");
}

/// `hearth` acting as the member whose hex key is `key` (`HEARTH_MEMBER_KEY`).
pub fn as_member(data: &Path, key: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hearth"))
        .env("HEARTH_DATA_DIR", data)
        .env("HEARTH_OWNER_KEY", OWNER_KEY)
        .env("HEARTH_MEMBER_KEY", key)
        .env_remove("HEARTH_PASSPHRASE")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// [`as_member`] that must succeed and must not print the key.
pub fn member_ok(data: &Path, key: &str, args: &[&str]) -> String {
    let out = as_member(data, key, args);
    assert!(out.status.success(), "hearth {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(!stdout.contains(&key[2..]) && !String::from_utf8_lossy(&out.stderr).contains(&key[2..]), "key printed");
    stdout
}

/// The number that starts the field `prefix`.
pub fn number(text: &str, prefix: &str) -> u64 {
    field(text, prefix).split_whitespace().next().unwrap().parse().unwrap()
}

/// The system clock's unix time, in seconds.
pub fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// Sleeps until the system clock (the embedded chain's) is past unix time `at`.
pub fn wait_past(at: u64) {
    loop {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        if now.as_secs() > at {
            return;
        }
        std::thread::sleep(Duration::from_secs(at + 1) - now);
    }
}

/// How a test moves past a chain time: by waiting (embedded) or by moving anvil's clock.
pub trait Time {
    /// Returns once the chain's next block and views are later than unix time `at`.
    fn pass(&self, at: u64);
}

/// The embedded chain's clock: the system clock.
pub struct WallClock;

impl Time for WallClock {
    fn pass(&self, at: u64) {
        wait_past(at);
    }
}

/// anvil's clock, moved with `evm_increaseTime` and `evm_mine`.
pub struct AnvilClock<'a>(pub &'a Anvil, pub tokio::runtime::Runtime);

impl Time for AnvilClock<'_> {
    fn pass(&self, at: u64) {
        self.1.block_on(async {
            let latest = hearth_chain::Chain::block_timestamp(&self.0.chain().unwrap()).await.unwrap();
            if latest <= at {
                self.0.advance(at - latest + 1).await.unwrap();
            }
        });
    }
}

/// A data directory `data` on `anvil`: the suite deployed there by `hearth chain deploy`,
/// the server's key funded, then `hearth init`; `keys` are funded too. Returns the
/// server's address.
pub fn init_on_anvil(anvil: &Anvil, runtime: &tokio::runtime::Runtime, data: &Path, keys: &[&str]) -> String {
    let deployed = Command::new(env!("CARGO_BIN_EXE_hearth"))
        .env("HEARTH_DEPLOYER_KEY", DEV_KEY)
        .env("HEARTH_DATA_DIR", data)
        .args(["chain", "deploy", "--rpc", anvil.url()])
        .output()
        .unwrap();
    assert!(deployed.status.success(), "{}", String::from_utf8_lossy(&deployed.stderr));
    init_funded(anvil, runtime, data, keys, &[])
}

/// `hearth init args` on a data directory whose config already names the chain on
/// `anvil`, with the server's key funded in between; `keys` are funded too. Returns the
/// server's address.
pub fn init_funded(
    anvil: &Anvil,
    runtime: &tokio::runtime::Runtime,
    data: &Path,
    keys: &[&str],
    args: &[&str],
) -> String {
    let init = [&["init"][..], args].concat();
    // The server's key is made by `init`, which cannot register it before it is funded.
    assert_eq!(hearth(data, &init).status.code(), Some(2));
    let config: toml::Table = std::fs::read_to_string(data.join("hearth.toml")).unwrap().parse().unwrap();
    let server = config["server"]["address"].as_str().unwrap().to_owned();
    runtime.block_on(async {
        anvil.fund(server.parse().unwrap()).await.unwrap();
        for key in keys.iter().chain([&OWNER_KEY]) {
            anvil.fund(Wallet::from_hex(key).unwrap().address()).await.unwrap();
        }
    });
    ok(data, &init);
    server
}

/// Every member (`keys`) votes for `proposed` (what `code propose|revoke` printed); it is
/// queued and, after the timelock, executed. Returns what `code execute` printed.
pub fn vote_through(data: &Path, time: &dyn Time, keys: &[&str], proposed: &str) -> String {
    let id = field(proposed, "proposal");
    time.pass(number(proposed, "snapshot"));
    for key in keys {
        member_ok(data, key, &["code", "vote", id, "for"]);
    }
    time.pass(number(proposed, "deadline"));
    let queued = member_ok(data, keys[0], &["code", "queue", id]);
    time.pass(number(&queued, "eta") - 1);
    member_ok(data, keys[keys.len() - 1], &["code", "execute", id])
}
