//! `hearth image import|ls` with an example operation built from this repository.

#![allow(clippy::unwrap_used, missing_docs)]

use std::path::Path;
use std::process::{Command, Output};

fn hearth(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hearth")).env("HEARTH_DATA_DIR", data_dir).args(args).output().unwrap()
}

#[test]
fn an_example_operation_imports_and_lists_by_manifest_digest() {
    let dir = tempfile::tempdir().unwrap();
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/operations/wordcount.rs");
    let archive = hearth_sandbox::images::example::build_example_image(&source, dir.path()).unwrap();
    let data = dir.path().join("data");
    let out = hearth(&data, &["image", "import", archive.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed = String::from_utf8(out.stdout).unwrap();
    let digest = printed.split_whitespace().nth(1).unwrap().to_owned();
    assert!(digest.starts_with("sha256:"), "{printed}");
    let listed: serde_json::Value = serde_json::from_slice(&hearth(&data, &["image", "ls", "--json"]).stdout).unwrap();
    assert_eq!(listed[0]["digest"], digest.as_str());

    // One flipped byte in the archive: refused, one line, nothing new listed.
    let mut bytes = std::fs::read(&archive).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x40;
    let bad = dir.path().join("bad.tar");
    std::fs::write(&bad, bytes).unwrap();
    let refused = hearth(&data, &["image", "import", bad.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&refused.stderr).lines().count(), 1);
    let listed: serde_json::Value = serde_json::from_slice(&hearth(&data, &["image", "ls", "--json"]).stdout).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
}
