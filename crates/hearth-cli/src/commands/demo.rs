//! `hearth demo`: the quick start. Runs the real commands of this binary, one after
//! another, on the embedded chain in a fresh temporary data directory, and shows each
//! command line with its output, so the tour doubles as a how-to.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hearth_core::SystemClock;
use hearth_sandbox::images::example::build_example_image;
use hearth_server::audit::AuditLog;
use hearth_server::state::AUDIT_FILE;

use crate::error::CliError;
use crate::secrets;

/// The example operation the demo runs, compiled into an image on the spot.
const WORDCOUNT_SOURCE: &str = include_str!("../../../../examples/operations/wordcount.rs");
/// Sample journal entries the demo adds (name, text).
const SAMPLES: [(&str, &str); 3] = [
    ("2026-11-01.txt", "Walked to the harbour before work. The fog lifted by nine.\n"),
    ("2026-11-02.txt", "Long day. Finished the draft and sent it off.\nCalled home in the evening.\n"),
    ("2026-11-03.txt", "Rain all day; read by the window and wrote three letters.\n"),
];
/// The scope the samples go to.
const SCOPE: &str = "journal";
/// Longest the demo waits for the server to print its address, in seconds.
const SERVER_START_SECS_MAX: u64 = 60;
/// Longest the demo waits for the server to stop after SIGTERM, in seconds.
const SERVER_STOP_SECS_MAX: u64 = 60;
/// Bytes of randomness in the throwaway owner keystore passphrase.
const PASSPHRASE_BYTES: usize = 24;

/// Runs the tour; `keep` leaves the data directory in place.
pub async fn run(keep: bool) -> Result<(), CliError> {
    preflight()?;
    let dir = tempfile::Builder::new()
        .prefix("hearth-demo-")
        .tempdir()
        .map_err(|source| CliError::Io { what: "creating a temporary directory".into(), source })?;
    let tour = Tour::new(dir.path())?;
    println!("hearth demo: a tour on the embedded chain in {}", dir.path().display());
    let outcome = tour.run().await;
    if keep {
        let kept = dir.keep();
        println!("\nkept the data directory: {}", kept.display());
    }
    outcome
}

/// Jobs run in containers: say exactly what is missing before doing anything.
fn preflight() -> Result<(), CliError> {
    match Command::new("runc").arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status() {
        Ok(status) if status.success() => {}
        Ok(_) => {
            return Err(CliError::Missing(
                "`runc --version` failed: reinstall runc (`sudo apt-get install --reinstall runc`)".into(),
            ));
        }
        Err(_) => {
            return Err(CliError::Missing(
                "hearth demo runs an operation in a container and needs the OCI runtime runc, which is not \
                 installed. Install it with `sudo apt-get install runc` (Debian, Ubuntu) or `sudo dnf install \
                 runc` (Fedora), then run the demo again."
                    .into(),
            ));
        }
    }
    if !nix::unistd::geteuid().is_root() {
        return Err(CliError::Missing(
            "hearth demo starts containers (tmpfs and overlay mounts, cgroups) and must run as root: \
             `sudo -E cargo run --release -- demo`"
                .into(),
        ));
    }
    Ok(())
}

/// The demo's data directory, app directory and the throwaway owner passphrase.
struct Tour {
    exe: PathBuf,
    data_dir: PathBuf,
    app_dir: PathBuf,
    passphrase: hearth_crypto::Zeroizing<String>,
}

/// What a child command printed.
struct Ran {
    ok: bool,
    stdout: String,
    stderr: String,
}

impl Tour {
    fn new(root: &Path) -> Result<Tour, CliError> {
        let exe = std::env::current_exe()
            .map_err(|source| CliError::Io { what: "finding the hearth binary".into(), source })?;
        let mut random = [0u8; PASSPHRASE_BYTES];
        getrandom::fill(&mut random).map_err(|e| CliError::Missing(format!("no randomness: {e}")))?;
        let passphrase = hearth_crypto::Zeroizing::new(alloy_primitives::hex::encode(random));
        Ok(Tour { exe, data_dir: root.join("data"), app_dir: root.join("app"), passphrase })
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.exe);
        command
            .args(args)
            .env("HEARTH_DATA_DIR", &self.data_dir)
            .env(secrets::OWNER_PASSPHRASE_ENV, self.passphrase.as_str())
            .env_remove(secrets::OWNER_KEY_ENV)
            .env_remove(secrets::PASSPHRASE_ENV)
            .env("HEARTH_LOG", "warn");
        command
    }

    /// Runs `hearth <args>`, showing the command and its output.
    fn try_hearth(&self, args: &[&str]) -> Result<Ran, CliError> {
        let shown: Vec<String> =
            args.iter().map(|a| if a.contains(' ') { format!("'{a}'") } else { (*a).to_owned() }).collect();
        println!("\n$ hearth {}", shown.join(" "));
        let output = self
            .command(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|source| CliError::Io { what: format!("running hearth {}", args[0]), source })?;
        let ran = Ran {
            ok: output.status.success(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        };
        for line in ran.stdout.lines().chain(ran.stderr.lines()) {
            println!("  {line}");
        }
        Ok(ran)
    }

    /// Like [`Tour::try_hearth`], but a failure ends the demo.
    fn hearth(&self, args: &[&str]) -> Result<String, CliError> {
        let ran = self.try_hearth(args)?;
        if !ran.ok {
            return Err(CliError::Missing(format!("the demo stopped: `hearth {}` failed", args.join(" "))));
        }
        Ok(ran.stdout)
    }

    async fn run(&self) -> Result<(), CliError> {
        println!("\n# 1. An owner and a server (keys, registration and trust on the embedded chain)");
        self.hearth(&["init", "--new-owner"])?;

        println!("\n# 2. Sample journal entries, encrypted to the server and the owner");
        let samples = self.data_dir.parent().unwrap_or(&self.data_dir).join("samples");
        std::fs::create_dir_all(&samples)
            .map_err(|source| CliError::Io { what: "creating the samples".into(), source })?;
        let mut add = vec!["data".to_owned(), "add".into(), "--scope".into(), SCOPE.into()];
        for (name, text) in SAMPLES {
            let path = samples.join(name);
            std::fs::write(&path, text).map_err(|source| CliError::Io { what: "writing a sample".into(), source })?;
            add.push(path.display().to_string());
        }
        self.hearth(&add.iter().map(String::as_str).collect::<Vec<_>>())?;

        println!("\n# 3. The example operation `wordcount`, built from source into an OCI image and imported");
        let build = self.data_dir.parent().unwrap_or(&self.data_dir).join("build");
        std::fs::create_dir_all(&build).map_err(|source| CliError::Io { what: "creating build".into(), source })?;
        let source = build.join("wordcount.rs");
        std::fs::write(&source, WORDCOUNT_SOURCE)
            .map_err(|source| CliError::Io { what: "writing the example source".into(), source })?;
        let image = build_example_image(&source, &build).map_err(|e| CliError::Missing(e.to_string()))?;
        let imported = self.hearth(&["image", "import", &image.display().to_string()])?;
        let digest = word_after(&imported, "imported")
            .and_then(|d| d.strip_prefix("sha256:"))
            .map(|hex| format!("0x{hex}"))
            .ok_or_else(|| CliError::Missing("no digest in the import output".into()))?;

        println!("\n# 4. The server's API, on a free local port");
        let mut server = self.start_server()?;
        let url = server.url.clone();
        let result = self.with_server(&url, &digest).await;
        let stopped = server.stop();
        result?;
        stopped?;

        println!("\n# 9. The job's audit record with its Merkle proof, checked against the root anchored on chain");
        let seq = self.job_record()?;
        self.hearth(&["audit", "proof", &seq.to_string()])?;
        println!(
            "\ndemo finished: the app got a result, never the journal, and lost access when the grant was revoked"
        );
        Ok(())
    }

    async fn with_server(&self, url: &str, digest: &str) -> Result<(), CliError> {
        let app_dir = self.app_dir.display().to_string();
        println!("\n# 5. An app registers its keys (its address signs requests; results are encrypted to it)");
        let registered =
            self.hearth(&["app", "register", "--server", url, "--app-dir", &app_dir, "--name", "demo app"])?;
        let app = word_after(&registered, "address").ok_or_else(|| CliError::Missing("no app address".into()))?;

        println!("\n# 6. The owner grants the app COMPUTE on `{SCOPE}` for wordcount only");
        let granted = self.hearth(&[
            "grant", "create", "--server", url, "--app", app, "--scope", SCOPE, "--access", "compute", "--op", digest,
        ])?;
        let grant = word_after(&granted, "grant").ok_or_else(|| CliError::Missing("no grant id".into()))?;

        println!("\n# 7. The app runs wordcount: the journal is decrypted only inside the container");
        let run = ["app", "run", "--server", url, "--app-dir", &app_dir, "--grant", grant, "--operation", digest];
        let run: Vec<&str> = run.into_iter().chain(["--scope", SCOPE]).collect();
        self.hearth(&run)?;

        println!("\n# 8. The owner revokes the grant; the app's next request is refused");
        self.hearth(&["grant", "revoke", "--server", url, grant])?;
        let refused = self.try_hearth(&run)?;
        if refused.ok || !refused.stderr.contains("grant_revoked") {
            return Err(CliError::Missing("the request after the revocation was not refused as grant_revoked".into()));
        }
        Ok(())
    }

    fn start_server(&self) -> Result<Server, CliError> {
        println!("\n$ hearth serve --bind 127.0.0.1:0 &");
        let log = std::fs::File::create(self.data_dir.join("serve.log"))
            .map_err(|source| CliError::Io { what: "creating serve.log".into(), source })?;
        let mut child = self
            .command(&["serve", "--bind", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .map_err(|source| CliError::Io { what: "starting hearth serve".into(), source })?;
        let stdout = child.stdout.take().ok_or_else(|| CliError::Missing("no server output".into()))?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let mut server = Server { child: Some(child), url: String::new() };
        let line = rx.recv_timeout(Duration::from_secs(SERVER_START_SECS_MAX)).unwrap_or_default();
        let Some(url) = line.trim().strip_prefix("hearth listening on ") else {
            server.stop()?;
            return Err(CliError::Missing("the server did not start; see serve.log (--keep keeps it)".into()));
        };
        println!("  hearth listening on {url}");
        server.url = url.to_owned();
        Ok(server)
    }

    /// The sequence number of the audit record that ended the successful job.
    fn job_record(&self) -> Result<u64, CliError> {
        let log = AuditLog::open(&self.data_dir.join(AUDIT_FILE), Arc::new(SystemClock))
            .map_err(|e| CliError::Missing(e.to_string()))?;
        let records =
            log.records(0, hearth_server::audit::RECORDS_PAGE_MAX).map_err(|e| CliError::Missing(e.to_string()))?;
        records
            .iter()
            .rev()
            .find(|r| r.entry.action == "operation.end" && r.entry.outcome == "succeeded")
            .map(|r| r.seq)
            .ok_or_else(|| CliError::Missing("no audit record of the job".into()))
    }
}

/// The word after the first occurrence of `key` as a word.
fn word_after<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let mut words = text.split_whitespace();
    words.find(|w| *w == key)?;
    words.next()
}

/// The background `hearth serve`; stopped with SIGTERM (which anchors pending audit records).
struct Server {
    child: Option<Child>,
    url: String,
}

impl Server {
    fn stop(&mut self) -> Result<(), CliError> {
        let Some(mut child) = self.child.take() else { return Ok(()) };
        let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap_or(i32::MAX));
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(SERVER_STOP_SECS_MAX);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                println!("\n$ kill -TERM <hearth serve>   (stopped: {status}; pending audit records anchored)");
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = child.kill();
        let _ = child.wait();
        Err(CliError::Missing("the server did not stop in time".into()))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
