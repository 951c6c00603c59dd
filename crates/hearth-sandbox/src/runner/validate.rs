//! Checks a job before anything is created for it: id, program, environment, input
//! names and sizes, limits, and that the rootfs is a directory overlayfs can name.

use std::path::Path;

use super::bundle::PARAMS_FILE;
use super::{
    ARGS_ENV_BYTES_MAX, CPU_MILLIS_MIN, INPUT_BYTES_MAX, INPUT_FILES_MAX, INPUT_NAME_BYTES_MAX, JOB_ID_BYTES_MAX,
    Limits, MEMORY_BYTES_MIN, Plaintext, RunnerError,
};

/// Checks everything about a job that can be checked without IO, and that its
/// rootfs is a directory.
pub(crate) fn validate(
    id: &str,
    rootfs: &Path,
    args: &[String],
    env: &[String],
    plaintext: &Plaintext,
    limits: &Limits,
) -> Result<(), RunnerError> {
    if !valid_id(id) {
        return Err(RunnerError::invalid(format!(
            "job id `{id}` must be 1 to {JOB_ID_BYTES_MAX} of [a-z0-9-], not starting with `-`"
        )));
    }
    if args.is_empty() {
        return Err(RunnerError::invalid("args is empty: no program to run"));
    }
    if args.iter().chain(env).any(|s| s.contains('\0')) {
        return Err(RunnerError::invalid("an argument or environment entry contains a NUL byte"));
    }
    if env.iter().any(|kv| !kv.contains('=')) {
        return Err(RunnerError::invalid("environment entries must be KEY=value"));
    }
    let args_env_bytes: usize = args.iter().chain(env).map(|s| s.len() + 1).sum();
    if args_env_bytes > ARGS_ENV_BYTES_MAX {
        return Err(RunnerError::invalid(format!(
            "arguments and environment take {args_env_bytes} bytes, more than {ARGS_ENV_BYTES_MAX}"
        )));
    }
    let inputs = &plaintext.inputs;
    if inputs.len() > INPUT_FILES_MAX {
        return Err(RunnerError::invalid(format!("{} input files, more than {INPUT_FILES_MAX}", inputs.len())));
    }
    let mut names: Vec<&str> = inputs.iter().map(|(name, _)| name.as_str()).collect();
    if let Some(bad) = names.iter().find(|name| !valid_input_name(name)) {
        return Err(RunnerError::invalid(format!(
            "input name `{bad}` must be 1 to {INPUT_NAME_BYTES_MAX} bytes, without `/` or NUL, \
             not `.`, `..` or `{}`",
            PARAMS_FILE
        )));
    }
    names.sort_unstable();
    if let Some(pair) = names.windows(2).find(|pair| pair[0] == pair[1]) {
        return Err(RunnerError::invalid(format!("input name `{}` appears twice", pair[0])));
    }
    let input_bytes: u64 =
        inputs.iter().map(|(_, data)| data.len() as u64).sum::<u64>() + plaintext.params_json.len() as u64;
    if input_bytes > INPUT_BYTES_MAX {
        return Err(RunnerError::invalid(format!("inputs take {input_bytes} bytes, more than {INPUT_BYTES_MAX}")));
    }
    validate_limits(limits)?;
    check_overlay_path(rootfs, "rootfs")?;
    if !rootfs.is_dir() {
        return Err(RunnerError::invalid(format!("rootfs {} is not a directory", rootfs.display())));
    }
    Ok(())
}

pub(crate) fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= JOB_ID_BYTES_MAX
        && !id.starts_with('-')
        && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn validate_limits(limits: &Limits) -> Result<(), RunnerError> {
    let rules: [(bool, &str); 5] = [
        (limits.memory_bytes_max >= MEMORY_BYTES_MIN, "memory_bytes_max is below MEMORY_BYTES_MIN"),
        (limits.pids_max >= 1, "pids_max must be at least 1"),
        (limits.cpu_millis >= CPU_MILLIS_MIN, "cpu_millis is below CPU_MILLIS_MIN"),
        (limits.wall_secs_max >= 1, "wall_secs_max must be at least 1"),
        // A tmpfs of size 0 would be unlimited.
        (
            limits.output_bytes_max >= 1 && limits.tmp_bytes_max >= 1,
            "output_bytes_max and tmp_bytes_max must be at least 1",
        ),
    ];
    match rules.iter().find(|(ok, _)| !ok) {
        Some((_, rule)) => Err(RunnerError::invalid(*rule)),
        None => Ok(()),
    }
}

fn valid_input_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= INPUT_NAME_BYTES_MAX
        && !name.contains(['/', '\0'])
        && name != "."
        && name != ".."
        && name != PARAMS_FILE
}

/// Paths go into overlayfs mount options, where `,` and `:` are separators.
pub(crate) fn check_overlay_path(path: &Path, what: &str) -> Result<(), RunnerError> {
    match path.to_str() {
        Some(text) if !text.contains([',', ':', '\\']) => Ok(()),
        _ => Err(RunnerError::invalid(format!(
            "{what} {} must be UTF-8 without `,`, `:` or `\\` (overlay mount options)",
            path.display()
        ))),
    }
}
