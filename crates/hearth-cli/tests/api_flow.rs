//! The permissioned API end to end through the `hearth` binary: `serve`, `app register`,
//! `grant create|ls|revoke`, `app get`, then `audit verify` on the untouched log and
//! after one record is edited in SQLite.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::process::Command;

use common::{field, hearth, ok, serve};

#[test]
fn grant_read_revoke_and_audit_through_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    ok(&data, &["init"]);
    let plain = b"a private journal entry";
    std::fs::write(dir.path().join("entry.txt"), plain).unwrap();
    ok(&data, &["data", "add", dir.path().join("entry.txt").to_str().unwrap(), "--scope", "journal"]);

    let (server, url) = serve(&data);
    let app_dir = dir.path().join("app");
    let registered =
        ok(&data, &["app", "register", "--server", &url, "--app-dir", app_dir.to_str().unwrap(), "--name", "reader"]);
    let app = field(&registered, "app address").to_owned();
    let created =
        ok(&data, &["grant", "create", "--server", &url, "--app", &app, "--scope", "journal", "--access", "read"]);
    let grant = created.split_whitespace().nth(1).unwrap().to_owned();
    assert!(ok(&data, &["grant", "ls", "--server", &url]).contains("active"));

    let out = dir.path().join("got.txt");
    let get = [
        "app",
        "get",
        "--server",
        &url,
        "--app-dir",
        app_dir.to_str().unwrap(),
        "--grant",
        &grant,
        "--scope",
        "journal",
        "--out",
        out.to_str().unwrap(),
    ];
    ok(&data, &get);
    assert_eq!(std::fs::read(&out).unwrap(), plain);

    ok(&data, &["grant", "revoke", "--server", &url, &grant]);
    let refused = hearth(&data, &get);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("grant_revoked"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );

    // SIGTERM: a graceful stop anchors what is pending.
    let pid = server.0.id();
    assert!(Command::new("kill").args(["-TERM", &pid.to_string()]).status().unwrap().success());
    let mut server = server;
    let status = server.0.wait().unwrap();
    assert!(status.success(), "graceful shutdown: {status:?}");

    let verified = ok(&data, &["audit", "verify"]);
    assert!(!verified.is_empty());
    let proof: serde_json::Value = serde_json::from_str(&ok(&data, &["audit", "proof", "1"])).unwrap();
    assert_eq!(proof["verified_on_chain"], true);
    assert_eq!(proof["record"]["seq"], 1);

    // Edit one record the way someone with the file could, and verify again.
    let tamper = "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); \
        c.executescript(\"DROP TRIGGER records_no_update; UPDATE records SET outcome='granted' WHERE outcome='grant_revoked';\"); c.commit()";
    let py =
        Command::new("python3").args(["-c", tamper, data.join("audit.sqlite").to_str().unwrap()]).status().unwrap();
    assert!(py.success());
    let failed = hearth(&data, &["audit", "verify"]);
    assert_eq!(failed.status.code(), Some(1), "{}", String::from_utf8_lossy(&failed.stderr));
    let report = String::from_utf8_lossy(&failed.stderr);
    assert!(report.contains("record"), "names the record: {report}");
}
