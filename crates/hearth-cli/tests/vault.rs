//! The encrypted vault end to end through the `hearth` binary: `init`, `owner identity`,
//! `data add|ls|cat|rm|export`, interop with the real `age` CLI, crash safety under
//! SIGKILL, tamper detection, and each bad input refused with nothing stored.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::assert_refused;
use sha2::{Digest, Sha256};

/// A fixed owner key for tests (the CLI reads it from HEARTH_OWNER_KEY).
const OWNER_KEY: &str = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";

struct Vault {
    dir: tempfile::TempDir,
    passphrase: Option<&'static str>,
}

impl Vault {
    fn new() -> Vault {
        Vault::with_passphrase(None)
    }

    fn with_passphrase(passphrase: Option<&'static str>) -> Vault {
        let v = Vault { dir: tempfile::tempdir().unwrap(), passphrase };
        let out = v.hearth(&["init"]);
        assert!(out.status.success(), "init: {}", String::from_utf8_lossy(&out.stderr));
        v
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_hearth"));
        cmd.env("HEARTH_DATA_DIR", self.path()).env("HEARTH_OWNER_KEY", OWNER_KEY).env_remove("HEARTH_PASSPHRASE");
        if let Some(p) = self.passphrase {
            cmd.env("HEARTH_PASSPHRASE", p);
        }
        cmd.args(args).stdin(Stdio::null());
        cmd
    }

    fn hearth(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    fn ok(&self, args: &[&str]) -> Vec<u8> {
        let out = self.hearth(args);
        assert!(out.status.success(), "hearth {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    }

    fn add(&self, file: &Path, scope: &str) -> u64 {
        let out = self.ok(&["data", "add", file.to_str().unwrap(), "--scope", scope, "--json"]);
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        v[0]["id"].as_u64().unwrap()
    }

    fn ls(&self) -> Vec<serde_json::Value> {
        let out = self.ok(&["data", "ls", "--json"]);
        serde_json::from_slice::<serde_json::Value>(&out).unwrap().as_array().unwrap().clone()
    }

    fn config(&self) -> String {
        std::fs::read_to_string(self.path().join("hearth.toml")).unwrap()
    }

    fn recipient(&self, section: &str) -> String {
        let config = self.config();
        let start = config.find(&format!("[{section}]")).unwrap();
        let line = config[start..].lines().find(|l| l.starts_with("recipient")).unwrap();
        line.split('"').nth(1).unwrap().to_owned()
    }

    /// The stored blob whose bytes hash to `sha256` (the layout is the store's business).
    fn blob_with_sha(&self, sha256: &str) -> PathBuf {
        let want = sha256.trim_start_matches("0x");
        walk(&self.path().join("blobs"))
            .into_iter()
            .find(|p| hex(&Sha256::digest(std::fs::read(p).unwrap())) == want)
            .unwrap_or_else(|| panic!("no blob with sha256 {want}"))
    }

    fn owner_identity_file(&self) -> PathBuf {
        let identity = self.ok(&["owner", "identity"]);
        let path = self.path().join("owner-identity.txt");
        std::fs::write(&path, identity).unwrap();
        path
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

fn age() -> &'static str {
    let found = Command::new("age").arg("--version").output();
    assert!(found.is_ok_and(|o| o.status.success()), "the `age` CLI is missing: apt-get install age");
    "age"
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// Deterministic pseudo-random bytes (xorshift), so failures reproduce.
fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    let mut v = Vec::with_capacity(len);
    while v.len() < len {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        v.extend_from_slice(&seed.to_le_bytes());
    }
    v.truncate(len);
    v
}

#[test]
fn init_twice_never_overwrites_keys() {
    let v = Vault::new();
    let key = std::fs::read(v.path().join("server.key")).unwrap();
    let mode = std::fs::metadata(v.path().join("server.key")).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let again = v.ok(&["init"]);
    assert!(String::from_utf8_lossy(&again).contains("already initialised"));
    assert_eq!(std::fs::read(v.path().join("server.key")).unwrap(), key, "key file untouched");
}

#[test]
fn a_file_added_by_hearth_decrypts_with_age_and_the_owner_identity() {
    let v = Vault::new();
    let plain = noise(300_000, 1);
    let file = write(v.path(), "journal.txt", &plain);
    let id = v.add(&file, "journal");
    let listed = v.ls();
    assert_eq!(listed.len(), 1);
    assert_eq!((listed[0]["id"].as_u64(), listed[0]["scope"].as_str()), (Some(id), Some("journal")));
    assert!(listed[0]["chain_file_id"].as_u64().is_some(), "registered in DataRegistry");
    let blob = v.blob_with_sha(listed[0]["sha256"].as_str().unwrap());
    let identity = v.owner_identity_file();
    let out = Command::new(age()).arg("-d").arg("-i").arg(&identity).arg(&blob).output().unwrap();
    assert!(out.status.success(), "age -d: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.stdout, plain);
    assert_eq!(v.ok(&["data", "cat", &id.to_string()]), plain);
}

#[test]
fn a_file_encrypted_by_age_to_the_server_is_stored_as_is() {
    let v = Vault::new();
    let plain = noise(200_000, 2);
    let input = write(v.path(), "note.txt", &plain);
    let encrypted = v.path().join("note.txt.age");
    let out =
        Command::new(age()).args(["-r", &v.recipient("server"), "-o"]).arg(&encrypted).arg(&input).output().unwrap();
    assert!(out.status.success());
    let id = v.add(&encrypted, "notes");
    assert_eq!(v.ok(&["data", "cat", &id.to_string()]), plain);
    let sha = hex(&Sha256::digest(std::fs::read(&encrypted).unwrap()));
    assert_eq!(v.ls()[0]["sha256"].as_str().unwrap().trim_start_matches("0x"), sha, "stored byte for byte");
}

#[test]
fn an_export_decrypts_with_the_recipients_identity_and_nothing_else() {
    let v = Vault::new();
    let plain = noise(100_000, 3);
    v.add(&write(v.path(), "a.txt", &plain), "messages.sms");
    let keygen = Command::new("age-keygen").output().unwrap();
    assert!(keygen.status.success());
    let friend = write(v.path(), "friend.txt", &keygen.stdout);
    let text = String::from_utf8(keygen.stdout).unwrap();
    let recipient = text.lines().find_map(|l| l.strip_prefix("# public key: ")).unwrap();
    let out_dir = v.path().join("export");
    v.ok(&["data", "export", "--scope", "messages.*", "--to", recipient, "--out", out_dir.to_str().unwrap()]);
    let exported = walk(&out_dir);
    assert_eq!(exported.len(), 1);
    let ok = Command::new(age()).arg("-d").arg("-i").arg(&friend).arg(&exported[0]).output().unwrap();
    assert!(ok.status.success());
    assert_eq!(ok.stdout, plain);
    let owner = v.owner_identity_file();
    let stranger = Command::new("age-keygen").output().unwrap();
    let stranger = write(v.path(), "stranger.txt", &stranger.stdout);
    for identity in [owner, stranger] {
        let denied = Command::new(age()).arg("-d").arg("-i").arg(&identity).arg(&exported[0]).output().unwrap();
        assert!(!denied.status.success(), "{} must not decrypt the export", identity.display());
    }
}

#[test]
fn rm_removes_the_file() {
    let v = Vault::new();
    let id = v.add(&write(v.path(), "x.txt", b"hello"), "journal");
    v.ok(&["data", "rm", &id.to_string()]);
    assert!(v.ls().is_empty());
    assert_refused(&v.hearth(&["data", "cat", &id.to_string()]), &id.to_string());
}

#[test]
fn one_flipped_byte_fails_that_file_only() {
    let v = Vault::new();
    let a = v.add(&write(v.path(), "a.txt", &noise(150_000, 4)), "journal");
    let b_plain = noise(150_000, 5);
    let b = v.add(&write(v.path(), "b.txt", &b_plain), "journal");
    let sha_a = v.ls().iter().find(|f| f["id"] == a).unwrap()["sha256"].as_str().unwrap().to_owned();
    let blob = v.blob_with_sha(&sha_a);
    let mut bytes = std::fs::read(&blob).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x01;
    std::fs::write(&blob, bytes).unwrap();
    let out = v.hearth(&["data", "cat", &a.to_string()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("file {a}")), "names the file: {stderr}");
    assert!(stderr.contains("integrity check"), "{stderr}");
    assert_eq!(v.ok(&["data", "cat", &b.to_string()]), b_plain);
}

#[test]
fn bad_inputs_are_refused_and_nothing_is_stored() {
    let v = Vault::new();
    let dir = v.path();
    let other = Command::new("age-keygen").output().unwrap();
    let other_recipient = String::from_utf8(other.stdout)
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("# public key: ").map(str::to_owned))
        .unwrap();
    let plain = write(dir, "p.txt", &noise(200_000, 6));
    let to_other = dir.join("other.age");
    assert!(
        Command::new(age()).args(["-r", &other_recipient, "-o"]).arg(&to_other).arg(&plain).status().unwrap().success()
    );
    let to_us = dir.join("ours.age");
    assert!(
        Command::new(age())
            .args(["-r", &v.recipient("server"), "-o"])
            .arg(&to_us)
            .arg(&plain)
            .status()
            .unwrap()
            .success()
    );
    let full = std::fs::read(&to_us).unwrap();
    let truncated = write(dir, "truncated.age", &full[..full.len() - 100]);
    let empty = write(dir, "empty.txt", b"");
    let subdir = dir.join("adir");
    std::fs::create_dir(&subdir).unwrap();
    let cases: [(&Path, &str); 5] = [
        (&to_other, "different recipient"),
        (&truncated, "truncated"),
        (&empty, "empty"),
        (&subdir, "directory"),
        (Path::new("/nonexistent/hearth-test-file"), "no such file"),
    ];
    for (path, needle) in cases {
        let out = v.hearth(&["data", "add", path.to_str().unwrap(), "--scope", "journal"]);
        assert_refused(&out, needle);
        assert!(v.ls().is_empty(), "nothing stored after {}", path.display());
    }
    assert_eq!(walk(&dir.join("blobs")).len(), 0, "no blob left behind");
}

#[test]
fn key_file_problems_are_clear_errors() {
    let v = Vault::with_passphrase(Some("correct horse"));
    let key = v.path().join("server.key");
    let sealed = std::fs::read(&key).unwrap();
    assert!(sealed.starts_with(b"age-encryption.org/v1"), "sealed with age's scrypt recipient");
    let id = v.add(&write(v.path(), "x.txt", b"sealed data"), "journal");

    let mut wrong = v.command(&["data", "cat", &id.to_string()]);
    wrong.env("HEARTH_PASSPHRASE", "wrong");
    assert_refused(&wrong.output().unwrap(), "passphrase");

    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert_refused(&v.hearth(&["data", "cat", &id.to_string()]), "chmod 600");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert_eq!(v.ok(&["data", "cat", &id.to_string()]), b"sealed data");

    std::fs::remove_file(&key).unwrap();
    assert_refused(&v.hearth(&["data", "cat", &id.to_string()]), "server.key");
}

/// SIGKILL at random points while adding a large file: after each restart the store
/// holds whole, verified files or nothing, and no stray blobs.
#[test]
fn a_killed_add_leaves_the_whole_file_or_nothing() {
    let v = Vault::new();
    let plain = noise(48 * 1024 * 1024, 7);
    let big = write(v.path(), "big.bin", &plain);
    let started = Instant::now();
    v.add(&big, "bulk");
    let full = started.elapsed();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for round in 0..8 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let delay = Duration::from_millis(seed % (full.as_millis() as u64 + 50));
        let mut child = v
            .command(&["data", "add", big.to_str().unwrap(), "--scope", "bulk"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let files = v.ls(); // opens the store: recovery runs here
        for f in &files {
            let id = f["id"].as_u64().unwrap().to_string();
            assert_eq!(v.ok(&["data", "cat", &id]), plain, "round {round} (killed after {delay:?}): file {id}");
        }
        let blobs = walk(&v.path().join("blobs"));
        assert_eq!(blobs.len(), files.len(), "round {round}: blobs {blobs:?} vs {} files", files.len());
        eprintln!("round {round}: killed after {delay:?} of ~{full:?}; {} whole files stored", files.len());
    }
}

#[test]
fn a_new_owner_keystore_unlocks_with_its_passphrase_only() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str], passphrase: &str| {
        Command::new(env!("CARGO_BIN_EXE_hearth"))
            .env("HEARTH_DATA_DIR", dir.path())
            .env_remove("HEARTH_OWNER_KEY")
            .env_remove("HEARTH_PASSPHRASE")
            .env("HEARTH_OWNER_PASSPHRASE", passphrase)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let init = run(&["init", "--new-owner"], "owner secret");
    assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
    let keystore = dir.path().join("owner.keystore.json");
    assert_eq!(std::fs::metadata(&keystore).unwrap().permissions().mode() & 0o777, 0o600);
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&keystore).unwrap()).unwrap();
    assert!(v["crypto"].is_object() || v["Crypto"].is_object(), "a standard V3 keystore");
    let identity = run(&["owner", "identity"], "owner secret");
    assert!(identity.status.success(), "{}", String::from_utf8_lossy(&identity.stderr));
    assert!(String::from_utf8_lossy(&identity.stdout).contains("AGE-SECRET-KEY-1"));
    assert_refused(&run(&["owner", "identity"], "wrong"), "passphrase");
}
