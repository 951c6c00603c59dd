//! The OCI runtime's command line (runc, crun, youki): `--version`, `run`, `kill`,
//! `delete`, each bounded in time.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::RunnerError;

/// How long `--version`, `kill` or `delete` may take, in seconds.
const COMMAND_SECS_MAX: u64 = 30;
/// How often a bounded command is polled for its exit, in milliseconds.
const POLL_MILLIS: u64 = 10;
/// How much of a failed command's stderr an error carries, in bytes.
pub(crate) const MESSAGE_BYTES_MAX: usize = 2048;

/// A runtime binary and its state directory (`--root`).
#[derive(Debug, Clone)]
pub(crate) struct Runtime {
    path: PathBuf,
    root: PathBuf,
}

impl Runtime {
    /// Finds `runtime` (a path, or a name on `PATH`) and checks it answers `--version`.
    /// Returns the runtime and the first line of its version.
    pub(crate) fn open(runtime: &Path, root: &Path) -> Result<(Self, String), RunnerError> {
        let path = find(runtime).ok_or_else(|| RunnerError::RuntimeMissing { runtime: runtime.to_owned() })?;
        let broken = |detail: String| RunnerError::RuntimeBroken { runtime: runtime.to_owned(), detail };
        let output = bounded(Command::new(&path).arg("--version")).map_err(broken)?;
        let text = String::from_utf8_lossy(&output);
        let version = text.lines().next().unwrap_or_default().trim().to_owned();
        if version.is_empty() {
            return Err(broken("printed nothing".to_owned()));
        }
        Ok((Self { path, root: root.to_owned() }, version))
    }

    /// `run --keep`: creates and starts the container, stays in the foreground until
    /// its first process exits, and keeps the stopped container (and its cgroup, read
    /// for OOM kills) until `delete`.
    pub(crate) fn run_command(&self, id: &str, bundle: &Path, pid_file: &Path) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(&self.path);
        command
            .arg("--root")
            .arg(&self.root)
            .arg("run")
            .arg("--bundle")
            .arg(bundle)
            .arg("--pid-file")
            .arg(pid_file)
            .arg("--keep")
            .arg(id);
        command
    }

    /// `kill ID KILL`: kills the container's first process, and with it its pid
    /// namespace. Fails when the container does not exist (yet, or any more).
    pub(crate) fn kill(&self, id: &str) -> Result<(), RunnerError> {
        self.command(["kill", id, "KILL"]).map(drop)
    }

    /// `delete --force ID`: kills what is left and removes the container's state and
    /// cgroup. A container that does not exist is not an error.
    pub(crate) fn delete(&self, id: &str) -> Result<(), RunnerError> {
        match self.command(["delete", "--force", id]) {
            Ok(_) => Ok(()),
            Err(RunnerError::Runtime { detail, .. }) if is_not_found(&detail) => Ok(()),
            Err(e) => Err(e),
        }
    }

    fn command<const N: usize>(&self, args: [&str; N]) -> Result<Vec<u8>, RunnerError> {
        let mut command = Command::new(&self.path);
        command.arg("--root").arg(&self.root).args(args);
        bounded(&mut command).map_err(|detail| RunnerError::Runtime { command: args.join(" "), detail })
    }
}

/// A message from runc, crun or youki saying the container is not there.
fn is_not_found(detail: &str) -> bool {
    let detail = detail.to_ascii_lowercase();
    detail.contains("does not exist") || detail.contains("not found") || detail.contains("no such")
}

/// Runs a command with no stdin to completion within [`COMMAND_SECS_MAX`]; its stdout
/// on success, else its exit status and stderr.
fn bounded(command: &mut Command) -> Result<Vec<u8>, String> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let deadline = Instant::now() + Duration::from_secs(COMMAND_SECS_MAX);
    loop {
        match child.try_wait().map_err(|e| e.to_string())? {
            Some(_) => break,
            None if Instant::now() >= deadline => {
                // Best effort: the command is abandoned either way.
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("no answer within {COMMAND_SECS_MAX} s"));
            }
            None => std::thread::sleep(Duration::from_millis(POLL_MILLIS)),
        }
    }
    let output = child.wait_with_output().map_err(|e| e.to_string())?;
    if output.status.success() {
        Ok(output.stdout)
    } else {
        Err(format!("{}: {}", output.status, tail(&output.stderr)))
    }
}

/// The last [`MESSAGE_BYTES_MAX`] bytes of a command's output, as trimmed text.
pub(crate) fn tail(bytes: &[u8]) -> String {
    let start = bytes.len().saturating_sub(MESSAGE_BYTES_MAX);
    String::from_utf8_lossy(&bytes[start..]).trim().to_owned()
}

/// `runtime` itself when it is a path, else the first executable of that name on `PATH`.
fn find(runtime: &Path) -> Option<PathBuf> {
    if runtime.components().count() > 1 || runtime.is_absolute() {
        return runtime.is_file().then(|| runtime.to_owned());
    }
    let name: &OsStr = runtime.as_os_str();
    std::env::split_paths(&std::env::var_os("PATH")?).map(|dir| dir.join(name)).find(|candidate| candidate.is_file())
}
