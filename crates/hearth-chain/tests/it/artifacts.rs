//! The committed artifacts must be what the pinned compiler makes of the sources.

use std::path::{Path, PathBuf};
use std::process::Command;

fn contracts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../contracts")
}

fn check(extra: &[&Path]) -> std::process::Output {
    let dir = contracts_dir();
    let mut cmd = Command::new("node");
    cmd.current_dir(&dir).arg("compile.mjs").arg("--check");
    if let Some(src) = extra.first() {
        cmd.arg("--src").arg(src);
    }
    cmd.output().expect("run node (install Node.js and `npm --prefix contracts install`)")
}

#[test]
fn committed_artifacts_match_their_sources() {
    let out = check(&[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("artifacts up to date"), "{stdout}");
}

#[test]
fn a_changed_source_makes_its_artifact_stale() {
    let tmp = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(contracts_dir().join("src")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), tmp.path().join(entry.file_name())).unwrap();
    }
    let file = tmp.path().join("PermissionRegistry.sol");
    let source = std::fs::read_to_string(&file).unwrap();
    // A changed constant: the bytecode differs, not just the metadata.
    let changed = source.replacen("ACCESS_READ = 2", "ACCESS_READ = 3", 1);
    assert_ne!(source, changed, "the edit must apply");
    std::fs::write(&file, changed).unwrap();
    let out = check(&[tmp.path()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("stale artifact: PermissionRegistry"), "{stdout}");
    assert!(!stdout.contains("stale artifact: ServerRegistry"), "only what changed: {stdout}");
}
