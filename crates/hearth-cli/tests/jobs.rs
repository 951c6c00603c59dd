//! Jobs through the `hearth` binary: the `hearth demo` quick start, its message when
//! runc is missing, and a server killed mid-job (the job ends as `server_restarted`
//! and the container it left behind is removed).

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Served, field, ok, serve};

/// Longest the test waits for a job's container to start, in seconds.
const START_WAIT_SECS_MAX: u64 = 120;

#[test]
fn the_demo_runs_the_whole_tour() {
    let out = Command::new(env!("CARGO_BIN_EXE_hearth")).arg("demo").stdin(Stdio::null()).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    // Three sample entries: 36 words on 4 lines.
    assert!(stdout.contains("\"words\": 36"), "{stdout}");
    assert!(stdout.contains("succeeded"), "{stdout}");
    assert!(stdout.contains("403 grant_revoked"), "the request after the revocation is refused: {stdout}");
    assert!(stdout.contains("\"action\": \"operation.end\""), "{stdout}");
    assert!(stdout.contains("\"verified_on_chain\": true"), "{stdout}");
    // The temporary data directory is gone.
    let dir = stdout.lines().next().unwrap().rsplit(' ').next().unwrap();
    assert!(!Path::new(dir).exists(), "{dir} was removed");
}

#[test]
fn the_demo_says_how_to_install_runc_when_it_is_missing() {
    let empty = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_hearth"))
        .arg("demo")
        .env("PATH", empty.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("sudo apt-get install runc"), "{stderr}");
    assert!(out.stdout.is_empty(), "nothing was started");
}

#[test]
fn a_server_killed_mid_job_ends_the_job_as_server_restarted() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    ok(&data, &["init"]);
    std::fs::write(dir.path().join("entry.txt"), b"an entry").unwrap();
    ok(&data, &["data", "add", dir.path().join("entry.txt").to_str().unwrap(), "--scope", "journal"]);
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../hearth-server/tests/ops/testop.rs");
    let image = hearth_sandbox::images::example::build_example_image(&source, dir.path()).unwrap();
    let imported = ok(&data, &["image", "import", image.to_str().unwrap()]);
    let digest = imported.split_whitespace().nth(1).unwrap().to_owned();

    let (server, url) = serve(&data);
    let app_dir = dir.path().join("app");
    let app_dir = app_dir.to_str().unwrap();
    let registered = ok(&data, &["app", "register", "--server", &url, "--app-dir", app_dir]);
    let app = field(&registered, "app address").to_owned();
    let created = ok(
        &data,
        &[
            "grant", "create", "--server", &url, "--app", &app, "--scope", "journal", "--access", "compute", "--op",
            &digest,
        ],
    );
    let grant = created.split_whitespace().nth(1).unwrap().to_owned();
    let run = Command::new(env!("CARGO_BIN_EXE_hearth"))
        .args(["app", "run", "--server", &url, "--app-dir", app_dir, "--grant", &grant, "--operation", &digest])
        .args(["--scope", "journal", "--params", r#"{"mode":"sleep","secs":120}"#])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut run = Served(run);
    let mut first = String::new();
    BufReader::new(run.0.stdout.take().unwrap()).read_line(&mut first).unwrap();
    let job = first.split_whitespace().nth(1).unwrap_or_else(|| panic!("unexpected: {first}")).to_owned();
    let bundle = data.join("sandbox/jobs").join(&job);
    let deadline = Instant::now() + Duration::from_secs(START_WAIT_SECS_MAX);
    while !bundle.exists() {
        assert!(Instant::now() < deadline, "the job's container never started");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(1));

    drop(server); // SIGKILL: no graceful anything.
    drop(run);
    let (_server, url) = serve(&data);
    let status: serde_json::Value =
        serde_json::from_str(&ok(&data, &["app", "job", "--server", &url, "--app-dir", app_dir, &job])).unwrap();
    assert_eq!(status["phase"], "failed", "{status}");
    assert_eq!(status["reason"], "server_restarted", "{status}");
    assert_eq!(status["result"], serde_json::Value::Null);
    assert!(!bundle.exists(), "the container and bundle the killed server left were removed");
}
