//! The runner's one error type: what went wrong on the host, never inside the job.

use std::io;
use std::path::PathBuf;

/// Why the runner could not run a job, or could not clean up after one.
///
/// Anything the job's own code does (exit codes, signals, limits hit) is an
/// [`Outcome`](super::Outcome), not an error.
#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    /// The OCI runtime binary is not there.
    #[error("OCI runtime `{runtime}` not found: install it with `apt-get install runc`, or set the runtime path")]
    RuntimeMissing {
        /// The configured runtime (a name looked up on `PATH`, or a path).
        runtime: PathBuf,
    },
    /// The OCI runtime is there but does not answer `--version`.
    #[error("OCI runtime `{runtime}` does not work (`--version`: {detail})")]
    RuntimeBroken {
        /// The configured runtime.
        runtime: PathBuf,
        /// What `--version` printed or why it could not start.
        detail: String,
    },
    /// The runner needs root: it mounts tmpfs and overlay file systems and drives the runtime.
    #[error("the sandbox runner must run as root (it mounts tmpfs and overlay file systems)")]
    NotRoot,
    /// The host's cgroup layout could not be read.
    #[error("cannot read the host's cgroup layout: {detail}")]
    Cgroups {
        /// What was missing or malformed.
        detail: String,
    },
    /// The job is malformed (id, input names, sizes, rootfs path).
    #[error("invalid job: {reason}")]
    InvalidJob {
        /// Which rule the job breaks.
        reason: String,
    },
    /// Another job with this id exists (running, or left behind by a crash).
    #[error("a job with id `{id}` already exists")]
    JobExists {
        /// The colliding id.
        id: String,
    },
    /// A host file-system or mount operation failed.
    #[error("{what}: {source}")]
    Io {
        /// The operation and its path.
        what: String,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// The runtime refused or failed to create and start the container (for example
    /// the image has no such program, or the host lacks a kernel feature).
    #[error("the container for job `{id}` did not start: {detail}")]
    NotStarted {
        /// The job id.
        id: String,
        /// The runtime's own message (its last lines of stderr).
        detail: String,
    },
    /// A runtime command (kill, delete) failed.
    #[error("`{command}` failed: {detail}")]
    Runtime {
        /// The command line, without the runtime path.
        command: String,
        /// Exit status and stderr.
        detail: String,
    },
    /// The job ran, but removing its container, mounts or bundle failed; the host
    /// needs attention (`runc list`, `mount`).
    #[error("cleaning up job `{id}` failed: {detail}")]
    Cleanup {
        /// The job id.
        id: String,
        /// Every step that failed.
        detail: String,
    },
}

impl RunnerError {
    /// An [`RunnerError::Io`] naming the operation.
    pub(crate) fn io(what: impl Into<String>, source: impl Into<io::Error>) -> Self {
        Self::Io { what: what.into(), source: source.into() }
    }

    /// An [`RunnerError::InvalidJob`].
    pub(crate) fn invalid(reason: impl Into<String>) -> Self {
        Self::InvalidJob { reason: reason.into() }
    }
}
