//! The runner against the real OCI runtime (runc): isolation, limits, outcomes and
//! cleanup, each with the probe program of `runner/probe.rs` inside the container.

#![allow(clippy::unwrap_used, reason = "test code: a failed step is a failed test")]

#[path = "runner/support.rs"]
mod support;

use std::io::ErrorKind;
use std::net::{IpAddr, TcpListener, TcpStream};
use std::path::Path;
use std::time::Duration;

use hearth_sandbox::runner::{Job, Outcome, Runner, RunnerConfig, RunnerError};
use serde_json::{Value, json};
use support::{Fixture, probe_job, probe_rootfs, snapshot, text};
use tokio_util::sync::CancellationToken;

#[test]
fn missing_runtime_names_the_install_command() {
    let dir = tempfile::tempdir().unwrap();
    let config = RunnerConfig {
        runtime: dir.path().join("no-such-runc"),
        state_dir: dir.path().join("state"),
        work_dir: dir.path().join("jobs"),
    };
    let error = Runner::new(config).unwrap_err();
    assert!(matches!(error, RunnerError::RuntimeMissing { .. }), "{error:?}");
    assert!(error.to_string().contains("apt-get install runc"), "{error}");
}

#[test]
fn runtime_answers_version_and_host_is_probed() {
    let fixture = Fixture::new();
    assert!(fixture.runner.runtime_version().starts_with("runc version"), "{}", fixture.runner.runtime_version());
    assert!(["v1", "v2"].contains(&fixture.runner.cgroup_version()));
    // tmpfs has `noswap` since Linux 6.4.
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    let mut numbers = release.split(|c: char| !c.is_ascii_digit()).map(|n| n.parse::<u32>().unwrap_or(0));
    let version = (numbers.next().unwrap_or(0), numbers.next().unwrap_or(0));
    assert_eq!(fixture.runner.tmpfs_noswap(), version >= (6, 4), "kernel {release}");
}

#[test]
fn generated_config_isolates_the_job() {
    let fixture = Fixture::new();
    let mut job = probe_job("config-check", &["hello"]);
    job.limits.memory_bytes_max = 100 * 1024 * 1024;
    job.limits.pids_max = 50;
    job.limits.cpu_millis = 1500;
    let config = fixture.runner.generate_config(&job, Path::new("/bundles/config-check"));
    let expected: &[(&str, Value)] = &[
        ("/root/path", json!("/bundles/config-check/rootfs")),
        ("/root/readonly", json!(true)),
        ("/process/noNewPrivileges", json!(true)),
        ("/process/user/uid", json!(65534)),
        ("/process/capabilities/bounding", json!([])),
        ("/process/capabilities/effective", json!([])),
        ("/process/capabilities/inheritable", json!([])),
        ("/process/capabilities/permitted", json!([])),
        ("/process/capabilities/ambient", json!([])),
        ("/process/args", json!(["/bin/probe", "hello"])),
        ("/linux/resources/memory/limit", json!(100 * 1024 * 1024)),
        ("/linux/resources/memory/swap", json!(100 * 1024 * 1024)),
        ("/linux/resources/pids/limit", json!(50)),
        ("/linux/resources/cpu/quota", json!(150_000)),
        ("/linux/resources/cpu/period", json!(100_000)),
        ("/linux/cgroupsPath", json!("hearth-config-check")),
        ("/linux/seccomp/defaultAction", json!("SCMP_ACT_ALLOW")),
    ];
    for (pointer, value) in expected {
        assert_eq!(config.pointer(pointer), Some(value), "{pointer}");
    }
    let namespaces: Vec<&str> =
        config["linux"]["namespaces"].as_array().unwrap().iter().map(|n| n["type"].as_str().unwrap()).collect();
    for kind in ["pid", "network", "ipc", "uts", "mount"] {
        assert!(namespaces.contains(&kind), "{kind} namespace missing: {namespaces:?}");
    }
    assert!(
        config["linux"]["namespaces"].as_array().unwrap().iter().all(|n| n.get("path").is_none()),
        "every namespace is new"
    );
    let rlimits = config["process"]["rlimits"].as_array().unwrap();
    assert!(rlimits.iter().any(|r| r["type"] == "RLIMIT_NOFILE"), "{rlimits:?}");
    assert!(rlimits.iter().any(|r| r["type"] == "RLIMIT_CORE" && r["hard"] == 0), "{rlimits:?}");
    let mounts = config["mounts"].as_array().unwrap();
    let mount = |destination: &str| mounts.iter().find(|m| m["destination"] == destination).unwrap();
    let options = |destination: &str| -> Vec<String> {
        mount(destination)["options"].as_array().unwrap().iter().map(|o| o.as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(mount("/input")["source"], "/bundles/config-check/input");
    assert!(options("/input").contains(&"ro".to_owned()), "{:?}", options("/input"));
    assert_eq!(mount("/output")["source"], "/bundles/config-check/output");
    assert_eq!(mount("/tmp")["type"], "tmpfs");
    assert!(options("/tmp").contains(&format!("size={}", job.limits.tmp_bytes_max)));
    assert_eq!(mount("/proc")["type"], "proc");
    for path in ["/proc/kcore", "/proc/keys", "/sys/firmware"] {
        assert!(config["linux"]["maskedPaths"].as_array().unwrap().contains(&json!(path)), "{path}");
    }
    assert!(config["linux"]["readonlyPaths"].as_array().unwrap().contains(&json!("/proc/sys")));
}

#[tokio::test]
async fn normal_job_returns_result_json_and_files() {
    let fixture = Fixture::new();
    let before = snapshot(probe_rootfs());
    let id = fixture.id("wordcount");
    let mut job = probe_job(&id, &["wordcount"]);
    job.inputs =
        vec![("a.txt".to_owned(), b"one two three".to_vec()), ("b.txt".to_owned(), b"four five\nsix seven".to_vec())];
    job.params_json = br#"{"lang":"en"}"#.to_vec();
    let shown = format!("{job:?}");
    assert!(!shown.contains("one two") && !shown.contains("lang"), "Debug shows plaintext: {shown}");
    let finished = fixture.runner.run(job, CancellationToken::new()).await.unwrap();
    let (out, err) = (text(&finished.stdout), text(&finished.stderr));
    assert_eq!(finished.outcome, Outcome::Succeeded, "stdout: {out}\nstderr: {err}");
    assert!(!format!("{finished:?}").contains("words"), "Debug shows output: {finished:?}");
    assert_eq!(finished.exit_code, Some(0));
    assert_eq!(text(&finished.stdout), "done\n");
    let result: Value = serde_json::from_slice(finished.result_json.as_deref().unwrap()).unwrap();
    assert_eq!(result, json!({"files": 2, "words": 7, "params": {"lang": "en"}}));
    // The symlink the job left in /output is not followed.
    assert_eq!(finished.output_files, vec![("notes/summary.txt".to_owned(), b"7 words\n".to_vec())]);
    assert!(finished.duration < Duration::from_secs(30), "{:?}", finished.duration);
    assert_eq!(snapshot(probe_rootfs()), before, "the image was written to");
    fixture.assert_clean();
}

#[tokio::test]
async fn hello_job_captures_stdout_stderr_and_env() {
    let fixture = Fixture::new();
    let id = fixture.id("hello");
    let mut job = probe_job(&id, &["hello"]);
    job.env = vec!["GREETING=hi there".to_owned()];
    let finished = fixture.runner.run(job, CancellationToken::new()).await.unwrap();
    assert_eq!(finished.outcome, Outcome::Succeeded);
    assert_eq!(text(&finished.stdout), "hello stdout hi there\n");
    assert_eq!(text(&finished.stderr), "hello stderr\n");
    assert_eq!(finished.result_json, None);
    fixture.assert_clean();
}

#[tokio::test]
async fn job_runs_without_privileges() {
    let fixture = Fixture::new();
    let id = fixture.id("whoami");
    let finished = fixture.runner.run(probe_job(&id, &["whoami"]), CancellationToken::new()).await.unwrap();
    let out = text(&finished.stdout);
    assert_eq!(finished.outcome, Outcome::Succeeded, "{out}");
    for line in [
        "Uid:\t65534\t65534\t65534\t65534",
        "Gid:\t65534\t65534\t65534\t65534",
        "CapInh:\t0000000000000000",
        "CapPrm:\t0000000000000000",
        "CapEff:\t0000000000000000",
        "CapBnd:\t0000000000000000",
        "CapAmb:\t0000000000000000",
        "NoNewPrivs:\t1",
        "Seccomp:\t2",
        "hostname hearth-job",
        "ok threads start: Ok(7)",
    ] {
        assert!(out.lines().any(|l| l == line), "missing {line:?} in:\n{out}");
    }
    let mounts: Vec<&str> = out.lines().filter_map(|l| l.strip_prefix("mount ")).collect();
    let mount_of = |dir: &str| mounts.iter().find(|m| m.split(' ').nth(1) == Some(dir)).copied();
    assert!(mount_of("/").is_some_and(|m| m.contains(" ro,")), "root not read-only: {mounts:?}");
    assert!(mount_of("/input").is_some_and(|m| m.starts_with("tmpfs ") && m.contains(" ro,")), "{mounts:?}");
    assert!(mount_of("/output").is_some_and(|m| m.starts_with("tmpfs ") && m.contains(" rw,")), "{mounts:?}");
    assert!(mount_of("/tmp").is_some_and(|m| m.starts_with("tmpfs ")), "{mounts:?}");
    assert!(out.lines().any(|l| l.starts_with("Max core file size") && l.contains(" 0 ")), "{out}");
    if fixture.runner.tmpfs_noswap() {
        for dir in ["/input", "/output", "/tmp", "/dev/shm"] {
            assert!(mount_of(dir).is_some_and(|m| m.contains(",noswap")), "{dir} may swap: {mounts:?}");
        }
    }
    fixture.assert_clean();
}

/// The host's first non-loopback IPv4 address, if it has one.
fn host_ipv4() -> Option<IpAddr> {
    nix::ifaddrs::getifaddrs().ok()?.find_map(|ifaddr| {
        let ip = ifaddr.address?.as_sockaddr_in()?.ip();
        (!ip.is_loopback()).then_some(IpAddr::V4(ip))
    })
}

#[tokio::test]
async fn network_reaches_neither_host_nor_outside() {
    let fixture = Fixture::new();
    let listener = TcpListener::bind("0.0.0.0:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut targets = vec![format!("127.0.0.1:{port}")];
    targets.extend(host_ipv4().map(|ip| format!("{ip}:{port}")));
    // The listener is reachable from the host, so a leak would be seen.
    for target in &targets {
        TcpStream::connect(target.as_str()).unwrap();
        listener.accept().unwrap();
    }
    listener.set_nonblocking(true).unwrap();
    let id = fixture.id("net");
    let mut args = vec!["net"];
    args.extend(targets.iter().map(String::as_str));
    let finished = fixture.runner.run(probe_job(&id, &args), CancellationToken::new()).await.unwrap();
    let out = text(&finished.stdout);
    assert_eq!(finished.outcome, Outcome::Succeeded, "{out}");
    assert_eq!(out.matches("ok host ").count(), targets.len(), "{out}");
    assert!(out.contains("ok no route outside"), "{out}");
    assert!(out.contains("info loopback inside the container: up"), "{out}");
    assert_eq!(listener.accept().map(|_| ()).unwrap_err().kind(), ErrorKind::WouldBlock, "a connection arrived");
    fixture.assert_clean();
}

#[tokio::test]
async fn host_files_are_unreadable() {
    let fixture = Fixture::new();
    let secret_dir = tempfile::tempdir().unwrap();
    let secret = secret_dir.path().join("host-secret.txt");
    std::fs::write(&secret, "host secret").unwrap();
    let id = fixture.id("read");
    let secret_path = secret.to_str().unwrap();
    let traversal = format!("/../../..{secret_path}");
    let job = probe_job(&id, &["read", secret_path, &traversal, "/etc/passwd", "/proc/1/root/etc/passwd"]);
    let finished = fixture.runner.run(job, CancellationToken::new()).await.unwrap();
    let out = text(&finished.stdout);
    assert_eq!(finished.outcome, Outcome::Succeeded, "{out}");
    let root = out.lines().find_map(|l| l.strip_prefix("root ")).unwrap();
    for expected in ["bin", "input", "output", "proc", "dev", "tmp"] {
        assert!(root.contains(&format!("\"{expected}\"")), "{root}");
    }
    assert!(!root.contains("\"etc\"") && !root.contains("\"work\""), "host directories visible: {root}");
    fixture.assert_clean();
}

#[tokio::test]
async fn input_is_read_only_and_output_tmp_writable() {
    let fixture = Fixture::new();
    let id = fixture.id("write-input");
    let mut job = probe_job(&id, &["write-input"]);
    job.inputs = vec![("data.txt".to_owned(), b"plaintext".to_vec())];
    let finished = fixture.runner.run(job, CancellationToken::new()).await.unwrap();
    let out = text(&finished.stdout);
    assert_eq!(finished.outcome, Outcome::Succeeded, "{out}");
    assert_eq!(finished.output_files, vec![("ok.txt".to_owned(), b"written".to_vec())]);
    fixture.assert_clean();
}

#[tokio::test]
async fn fork_bomb_is_stopped_by_pids_limit() {
    let fixture = Fixture::new();
    let id = fixture.id("forkbomb");
    let mut job = probe_job(&id, &["forkbomb"]);
    job.limits.pids_max = 32;
    let finished = fixture.runner.run(job, CancellationToken::new()).await.unwrap();
    let out = text(&finished.stdout);
    assert_eq!(finished.outcome, Outcome::Succeeded, "{out}");
    let forks: u64 = out.split("after ").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
    assert!(forks < 32, "{out}");
    // The host still starts processes.
    assert!(std::process::Command::new("true").status().unwrap().success());
    fixture.assert_clean();
}

#[tokio::test]
async fn memory_bomb_is_out_of_memory() {
    let fixture = Fixture::new();
    let id = fixture.id("membomb");
    let mut job = probe_job(&id, &["membomb"]);
    job.limits.memory_bytes_max = 64 * 1024 * 1024;
    let finished = fixture.runner.run(job, CancellationToken::new()).await.unwrap();
    assert_eq!(finished.outcome, Outcome::OutOfMemory, "{}", text(&finished.stdout));
    assert_eq!(finished.exit_code, Some(137));
    fixture.assert_clean();
}

#[tokio::test]
async fn busy_loop_times_out() {
    let fixture = Fixture::new();
    let id = fixture.id("spin");
    let mut job = probe_job(&id, &["spin"]);
    job.limits.wall_secs_max = 2;
    job.limits.cpu_millis = 500;
    let finished = fixture.runner.run(job, CancellationToken::new()).await.unwrap();
    assert_eq!(finished.outcome, Outcome::TimedOut);
    assert!(finished.duration >= Duration::from_secs(2), "{:?}", finished.duration);
    assert!(finished.duration < Duration::from_secs(20), "{:?}", finished.duration);
    fixture.assert_clean();
}

#[tokio::test]
async fn oversized_output_is_output_too_large() {
    let fixture = Fixture::new();
    let id = fixture.id("bigoutput");
    let finished = fixture.runner.run(probe_job(&id, &["bigoutput"]), CancellationToken::new()).await.unwrap();
    let out = text(&finished.stdout);
    assert_eq!(finished.outcome, Outcome::OutputTooLarge, "{out}");
    assert!(out.contains("No space left on device"), "{out}");
    assert!(finished.output_files.is_empty() && finished.result_json.is_none());
    fixture.assert_clean();
}

#[tokio::test]
async fn concurrent_jobs_do_not_see_each_others_inputs() {
    let fixture = Fixture::new();
    let (id_a, id_b) = (fixture.id("alpha"), fixture.id("beta"));
    let mut job_a = probe_job(&id_a, &["list-input"]);
    job_a.inputs = vec![("secret-a.txt".to_owned(), b"alpha-secret".to_vec())];
    let mut job_b = probe_job(&id_b, &["list-input"]);
    job_b.inputs = vec![("secret-b.txt".to_owned(), b"beta-secret".to_vec())];
    let started = std::time::Instant::now();
    let (a, b) = tokio::join!(
        fixture.runner.run(job_a, CancellationToken::new()),
        fixture.runner.run(job_b, CancellationToken::new())
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    // Each sleeps 1 s: run one after the other they would take 2 s or more.
    let together = started.elapsed();
    assert_eq!((&a.outcome, &b.outcome), (&Outcome::Succeeded, &Outcome::Succeeded));
    assert_eq!(text(&a.stdout), "params.json={}\nsecret-a.txt=alpha-secret\n");
    assert_eq!(text(&b.stdout), "params.json={}\nsecret-b.txt=beta-secret\n");
    assert!(together < a.duration + b.duration, "not concurrent: {together:?}");
    fixture.assert_clean();
}

#[tokio::test]
async fn cancellation_kills_the_job() {
    let fixture = Fixture::new();
    let id = fixture.id("cancel");
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
        trigger.cancel();
    });
    let finished = fixture.runner.run(probe_job(&id, &["sleep"]), cancel).await.unwrap();
    assert_eq!(finished.outcome, Outcome::Cancelled);
    assert_eq!(text(&finished.stdout), "started\n");
    assert!(finished.duration < Duration::from_secs(20), "{:?}", finished.duration);
    fixture.assert_clean();
}

#[tokio::test]
async fn dropping_the_run_cleans_up() {
    let fixture = Fixture::new();
    let id = fixture.id("dropped");
    let mut run = Box::pin(fixture.runner.run(probe_job(&id, &["sleep"]), CancellationToken::new()));
    fixture.drive_until_running(&mut run, &id).await;
    drop(run);
    fixture.assert_clean();
}

#[tokio::test]
async fn job_cancelled_before_start_does_not_run() {
    let fixture = Fixture::new();
    let id = fixture.id("precancelled");
    let cancel = CancellationToken::new();
    cancel.cancel();
    let finished = fixture.runner.run(probe_job(&id, &["hello"]), cancel).await.unwrap();
    assert_eq!(finished.outcome, Outcome::Cancelled);
    assert_eq!((finished.exit_code, finished.stdout.len()), (None, 0));
    fixture.assert_clean();
}

#[tokio::test]
async fn recover_removes_what_a_crashed_runner_left() {
    let fixture = Fixture::new();
    let id = fixture.id("crashed");
    let mut run = Box::pin(fixture.runner.run(probe_job(&id, &["sleep"]), CancellationToken::new()));
    fixture.drive_until_running(&mut run, &id).await;
    // A crash: no destructor runs, the container and the bundle's mounts stay.
    std::mem::forget(run);
    assert!(fixture.work_dir.join(&id).exists());
    assert_eq!(fixture.runner.recover().unwrap(), vec![id.clone()]);
    fixture.assert_clean();
    assert_eq!(fixture.runner.recover().unwrap(), Vec::<String>::new());
}

#[tokio::test]
async fn stdout_and_stderr_are_capped() {
    let fixture = Fixture::new();
    let id = fixture.id("spew");
    let mut job = probe_job(&id, &["spew", "4000000"]);
    job.limits.stdout_bytes_max = 1000;
    job.limits.stderr_bytes_max = 10;
    let finished = fixture.runner.run(job, CancellationToken::new()).await.unwrap();
    assert_eq!(finished.outcome, Outcome::Succeeded);
    assert_eq!(finished.stdout, vec![b'o'; 1000]);
    assert_eq!(finished.stderr, vec![b'o'; 10]);
    fixture.assert_clean();
}

#[tokio::test]
async fn failing_job_reports_its_exit_code() {
    let fixture = Fixture::new();
    let id = fixture.id("exit");
    let finished = fixture.runner.run(probe_job(&id, &["exit", "3"]), CancellationToken::new()).await.unwrap();
    assert_eq!(finished.outcome, Outcome::Failed { reason: "exited with code 3".to_owned() });
    assert_eq!(finished.exit_code, Some(3));
    fixture.assert_clean();
}

#[tokio::test]
async fn missing_program_does_not_start_and_cleans_up() {
    let fixture = Fixture::new();
    let id = fixture.id("missing");
    let mut job = probe_job(&id, &[]);
    job.args = vec!["/bin/no-such-program".to_owned()];
    let error = fixture.runner.run(job, CancellationToken::new()).await.unwrap_err();
    assert!(matches!(&error, RunnerError::NotStarted { detail, .. } if detail.contains("no-such-program")), "{error}");
    fixture.assert_clean();
}

#[tokio::test]
async fn id_collision_is_an_error_and_spares_the_running_job() {
    let fixture = Fixture::new();
    let id = fixture.id("twice");
    let cancel = CancellationToken::new();
    let first = fixture.runner.run(probe_job(&id, &["sleep"]), cancel.clone());
    let second = async {
        fixture.wait_running(&id).await;
        let result = fixture.runner.run(probe_job(&id, &["hello"]), CancellationToken::new()).await;
        cancel.cancel();
        result
    };
    let (first, second) = tokio::join!(first, second);
    assert!(matches!(second, Err(RunnerError::JobExists { .. })), "{second:?}");
    let first = first.unwrap();
    assert_eq!(first.outcome, Outcome::Cancelled);
    assert_eq!(text(&first.stdout), "started\n");
    fixture.assert_clean();
}

#[tokio::test]
async fn invalid_jobs_are_refused() {
    let fixture = Fixture::new();
    type Edit = fn(&mut Job<'_>);
    let cases: [(&str, Edit); 13] = [
        ("Upper-Case", |_| ()),
        ("", |_| ()),
        ("-leading-dash", |_| ()),
        ("slash/id", |_| ()),
        ("params-name", |j| j.inputs = vec![("params.json".to_owned(), Vec::new())]),
        ("dotdot-name", |j| j.inputs = vec![("..".to_owned(), Vec::new())]),
        ("slash-name", |j| j.inputs = vec![("a/b".to_owned(), Vec::new())]),
        ("dup-name", |j| j.inputs = vec![("a".to_owned(), Vec::new()), ("a".to_owned(), Vec::new())]),
        ("no-args", |j| j.args.clear()),
        ("bad-env", |j| j.env = vec!["NOEQUALS".to_owned()]),
        ("zero-tmp", |j| j.limits.tmp_bytes_max = 0),
        ("tiny-memory", |j| j.limits.memory_bytes_max = 1024),
        ("zero-pids", |j| j.limits.pids_max = 0),
    ];
    for (id, edit) in &cases {
        let mut job = probe_job(id, &["hello"]);
        edit(&mut job);
        let result = fixture.runner.run(job, CancellationToken::new()).await;
        assert!(matches!(result, Err(RunnerError::InvalidJob { .. })), "{id}: {result:?}");
    }
    let not_a_dir = tempfile::NamedTempFile::new().unwrap();
    for rootfs in [not_a_dir.path(), Path::new("/no/such/dir"), Path::new("/a,b")] {
        let mut job = probe_job("rootfs-check", &["hello"]);
        job.rootfs = rootfs;
        let result = fixture.runner.run(job, CancellationToken::new()).await;
        assert!(matches!(result, Err(RunnerError::InvalidJob { .. })), "{}: {result:?}", rootfs.display());
    }
    fixture.assert_clean();
}
