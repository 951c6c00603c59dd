//! Jobs benchmark: the end-to-end latency of a trivial operation through hearth (a
//! signed `POST /v1/operations` over HTTP on loopback, then signed status polls until
//! the result is in hand) against a bare `runc run` of the same image root and program
//! with an equivalent minimal bundle, interleaved in one run; then jobs per second
//! with 8 clients each submitting jobs back to back. Needs root and runc. Run with
//! `bench/jobs.sh`.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use alloy_primitives::{B256, U256};
use hearth_chain::Wallet;
use hearth_core::{Access, Clock, GrantTerms, SystemClock};
use hearth_crypto::age::x25519::Identity;
use hearth_sandbox::images::ImageStore;
use hearth_sandbox::images::example::build_example_image;
use hearth_server::ServeConfig;
use hearth_server::auth::RequestSigner;
use hearth_server::jobs::{IMAGES_DIR, JobsConfig};
use hearth_store::NewFile;

/// Sequential samples of each kind (hearth end to end, bare runc), interleaved.
const LATENCY_SAMPLES: usize = 30;
/// Concurrent clients in the throughput run (and the server's `concurrent_max`).
const CLIENTS: usize = 8;
/// Jobs each client submits back to back in the throughput run.
const JOBS_PER_CLIENT: usize = 6;
/// Pause between two status polls, in milliseconds.
const POLL_MILLIS: u64 = 5;
/// The one input file's size, in bytes.
const INPUT_BYTES: usize = 4096;

/// What a client needs to submit and follow jobs.
#[derive(Clone)]
struct Target {
    url: String,
    signer: RequestSigner,
    body: Vec<u8>,
}

struct Setup {
    target: Target,
    rootfs: PathBuf,
    dir: tempfile::TempDir,
    stop: tokio::sync::oneshot::Sender<()>,
}

async fn setup() -> Setup {
    let dir = tempfile::tempdir().expect("tempdir");
    let node = support::node(dir.path(), None).await;
    let (contracts, server, owner) = (node.contracts.clone(), node.server.clone(), node.owner.clone());
    let mut ciphertext = Vec::new();
    let recipients = [node.keys.age_recipient(), node.owner_identity.to_public()];
    hearth_crypto::encrypt(&recipients, &vec![b'w'; INPUT_BYTES][..], &mut ciphertext).expect("encrypt");
    let staged = node.store.stage(&ciphertext[..]).await.expect("stage");
    let now = SystemClock.now_secs();
    let new = NewFile { scope: "journal".into(), name: "4k.txt".into(), chain_file_id: None, created_at: now };
    node.store.commit(staged, new).await.expect("commit");

    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ops/testop.rs");
    let image = build_example_image(&source, &dir.path().join("build")).expect("build the trivial operation");
    let images = ImageStore::open(&dir.path().join(IMAGES_DIR)).expect("images");
    let info = images.import(&image).expect("import");
    let rootfs = images.rootfs(&info.digest).expect("rootfs");

    let app = Wallet::random();
    let app_recipient = Identity::generate().to_public().to_string();
    contracts.apps().register(&server, &app, &app_recipient, "bench", "").await.expect("app");
    let terms = GrantTerms {
        grantor: owner.address(),
        grantee: app.address(),
        scopes: vec!["journal".into()],
        access: Access::Compute,
        operations: vec![info.digest],
        params_hash: B256::ZERO,
        not_before: now - 60,
        expires_at: now + 3600,
        nonce: U256::ZERO,
    };
    let sig = contracts.permissions().sign_grant(&owner, &terms).expect("sign");
    let (grant, _) = contracts.permissions().submit_grant(&server, &terms, sig).await.expect("grant");
    let jobs = JobsConfig { concurrent_max: CLIENTS, queue_max: 4 * CLIENTS, ..JobsConfig::default() };
    let state = support::state(node, dir.path(), ServeConfig { jobs, ..support::config() }, |_| {});
    if let Err(reason) = state.jobs.compute() {
        panic!("jobs cannot run here (run as root with runc installed): {reason}");
    }
    let (url, stop) = support::serve(state).await;
    let signer = RequestSigner::new(app, server.address(), contracts.chain_id());
    let body = serde_json::to_vec(&serde_json::json!({
        "grant": grant, "operation": info.digest, "scope": "journal", "params": {}
    }))
    .expect("json");
    Setup { target: Target { url, signer, body }, rootfs, dir, stop }
}

async fn signed(
    http: &reqwest::Client,
    setup: &Target,
    method: reqwest::Method,
    target: &str,
    body: Vec<u8>,
) -> serde_json::Value {
    let headers = setup.signer.sign(method.as_str(), target, &body, SystemClock.now_secs(), 60).expect("sign request");
    let mut request = http.request(method, format!("{}{target}", setup.url)).body(body);
    for (name, value) in headers.to_pairs() {
        request = request.header(name, value);
    }
    let response = request.send().await.expect("send");
    assert!(response.status().is_success(), "{}", response.status());
    response.json().await.expect("json answer")
}

/// One job from the signed request to the result in hand.
async fn job(http: &reqwest::Client, setup: &Target) -> Duration {
    let started = Instant::now();
    let accepted = signed(http, setup, reqwest::Method::POST, "/v1/operations", setup.body.clone()).await;
    let target = format!("/v1/operations/{}", accepted["id"].as_str().expect("id"));
    loop {
        let status = signed(http, setup, reqwest::Method::GET, &target, vec![]).await;
        match status["phase"].as_str() {
            Some("succeeded") => {
                assert_eq!(status["result"]["files"], 1, "the trivial operation saw its one input");
                return started.elapsed();
            }
            Some("queued" | "verifying" | "preparing" | "running" | "sealing") => {}
            other => panic!("the job ended as {other:?}: {status}"),
        }
        tokio::time::sleep(Duration::from_millis(POLL_MILLIS)).await;
    }
}

/// A minimal bundle for a bare `runc run` of the same program on a copy of the same
/// root: own pid, net, ipc, uts and mount namespaces, read-only root, the input and
/// `params.json` bound read-only on `/input`, a writable `/output`, tmpfs `/tmp`, uid 65534,
/// no capabilities, memory and pids limits.
fn bare_bundle(setup: &Setup) -> PathBuf {
    let bundle = setup.dir.path().join("bare");
    let rootfs = bundle.join("rootfs");
    let input = bundle.join("input");
    for d in [&rootfs, &input, &rootfs.join("bin"), &rootfs.join("proc"), &rootfs.join("dev")] {
        std::fs::create_dir_all(d).expect("mkdir");
    }
    for d in ["input", "output", "tmp"] {
        std::fs::create_dir_all(rootfs.join(d)).expect("mkdir");
    }
    std::fs::copy(setup.rootfs.join("bin/op"), rootfs.join("bin/op")).expect("copy the program");
    let output = bundle.join("output");
    std::fs::create_dir_all(&output).expect("mkdir");
    std::fs::set_permissions(&output, std::os::unix::fs::PermissionsExt::from_mode(0o777)).expect("chmod");
    std::fs::write(input.join("params.json"), b"{}").expect("params");
    std::fs::write(input.join("00000001-4k.txt"), vec![b'w'; INPUT_BYTES]).expect("input");
    let config = serde_json::json!({
        "ociVersion": "1.0.2",
        "process": {
            "user": {"uid": 65534, "gid": 65534},
            "args": ["/bin/op"],
            "env": ["PATH=/bin"],
            "cwd": "/",
            "noNewPrivileges": true,
            "capabilities": {"bounding": [], "effective": [], "permitted": []}
        },
        "root": {"path": rootfs, "readonly": true},
        "hostname": "bare",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755", "size=64k"]},
            {"destination": "/input", "type": "bind", "source": input, "options": ["rbind", "ro"]},
            {"destination": "/output", "type": "bind", "source": output, "options": ["rbind", "rw"]},
            {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["size=64m", "mode=1777"]}
        ],
        "linux": {
            "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}],
            "resources": {"memory": {"limit": 536_870_912_i64}, "pids": {"limit": 256}}
        }
    });
    std::fs::write(bundle.join("config.json"), serde_json::to_vec_pretty(&config).expect("json")).expect("config");
    bundle
}

/// One bare `runc run` (which deletes the container when it exits).
fn bare(bundle: &Path, state: &Path, n: usize) -> Duration {
    let started = Instant::now();
    let status = Command::new("runc")
        .arg("--root")
        .arg(state)
        .args(["run", "--bundle"])
        .arg(bundle)
        .arg(format!("bare-{n}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .expect("runc");
    assert!(status.success(), "bare runc run failed: {status}");
    started.elapsed()
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let setup = setup().await;
    let http = reqwest::Client::new();
    let bundle = bare_bundle(&setup);
    let state = setup.dir.path().join("bare-state");
    // Warm-up: page cache, connections, the permission cache.
    job(&http, &setup.target).await;
    bare(&bundle, &state, 0);

    let (mut hearth, mut runc) = (Vec::new(), Vec::new());
    for n in 1..=LATENCY_SAMPLES {
        hearth.push(job(&http, &setup.target).await);
        runc.push(bare(&bundle, &state, n));
    }
    let (h, r) = (median(&mut hearth), median(&mut runc));
    println!("trivial operation (1 input of {INPUT_BYTES} B), {LATENCY_SAMPLES} interleaved samples each");
    println!("  hearth end to end (signed request -> result)  median {:>8.1} ms", ms(h));
    println!("  bare runc run of the same program and root     median {:>8.1} ms", ms(r));
    println!("  ratio hearth / bare runc                       {:>8.2}x", h.as_secs_f64() / r.as_secs_f64());

    let started = Instant::now();
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        let (http, target) = (http.clone(), setup.target.clone());
        clients.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            for _ in 0..JOBS_PER_CLIENT {
                samples.push(job(&http, &target).await);
            }
            samples
        }));
    }
    let mut all = Vec::new();
    for c in clients {
        all.extend(c.await.expect("client"));
    }
    let elapsed = started.elapsed();
    let rate = all.len() as f64 / elapsed.as_secs_f64();
    println!(
        "  {CLIENTS} concurrent clients x {JOBS_PER_CLIENT} jobs: {rate:>6.1} jobs/s, median latency {:>8.1} ms",
        ms(median(&mut all))
    );
    let _ = setup.stop.send(());
}
