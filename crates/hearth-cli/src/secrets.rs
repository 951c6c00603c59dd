//! Where secrets come from: the environment (for scripts and tests) or a prompt without
//! echo. Nothing here prints or logs a secret.

use std::io::IsTerminal;

use hearth_crypto::SecretString;
use zeroize::Zeroizing;

use crate::error::CliError;

/// Passphrase sealing the server's key file.
pub const PASSPHRASE_ENV: &str = "HEARTH_PASSPHRASE";
/// The owner's private key (hex), used instead of a keystore (tests, scripts).
pub const OWNER_KEY_ENV: &str = "HEARTH_OWNER_KEY";
/// The acting collective member's private key (hex) for `hearth code` and `hearth collective delegate`.
pub const MEMBER_KEY_ENV: &str = "HEARTH_MEMBER_KEY";
/// Passphrase of the owner's keystore.
pub const OWNER_PASSPHRASE_ENV: &str = "HEARTH_OWNER_PASSPHRASE";

/// The value of `env`, if set and non-empty.
pub fn from_env(env: &str) -> Option<SecretString> {
    let value = Zeroizing::new(std::env::var(env).ok()?);
    (!value.is_empty()).then(|| SecretString::from(value.as_str().to_owned()))
}

/// The value of `env`, or else a passphrase typed at the terminal.
pub fn from_env_or_prompt(env: &str, prompt: &str) -> Result<SecretString, CliError> {
    if let Some(secret) = from_env(env) {
        return Ok(secret);
    }
    if !std::io::stdin().is_terminal() {
        return Err(CliError::Missing(format!("{prompt}: set {env} (standard input is not a terminal)")));
    }
    let typed = Zeroizing::new(
        rpassword::prompt_password(format!("{prompt}: "))
            .map_err(|source| CliError::Io { what: "reading the passphrase".into(), source })?,
    );
    if typed.is_empty() {
        return Err(CliError::Missing(format!("{prompt}: an empty passphrase is not allowed")));
    }
    Ok(SecretString::from(typed.as_str().to_owned()))
}
