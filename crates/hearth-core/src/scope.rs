//! Scope names (`journal`, `messages.sms`) and the patterns a grant lists (`journal`,
//! `messages.*`, `*`).
//!
//! Matching works on raw text so that it agrees byte for byte with the contract's
//! `PermissionRegistry` even for patterns this module would not accept; validation is a
//! separate step done before anything is signed or stored.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::CoreError;
use crate::limits::SCOPE_BYTES_MAX;

/// A valid scope name: dot-separated segments of `[a-z0-9_-]`, at most
/// [`SCOPE_BYTES_MAX`] bytes in all.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Scope(String);

impl Scope {
    /// The scope as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Scope {
    type Err = CoreError;

    fn from_str(s: &str) -> Result<Self, CoreError> {
        validate_name(s)?;
        Ok(Scope(s.to_owned()))
    }
}

impl TryFrom<String> for Scope {
    type Error = CoreError;

    fn try_from(s: String) -> Result<Self, CoreError> {
        validate_name(&s)?;
        Ok(Scope(s))
    }
}

impl From<Scope> for String {
    fn from(s: Scope) -> String {
        s.0
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn invalid(scope: &str, why: &'static str) -> CoreError {
    CoreError::InvalidScope { scope: scope.to_owned(), why }
}

fn validate_name(s: &str) -> Result<(), CoreError> {
    if s.is_empty() {
        return Err(invalid(s, "empty"));
    }
    if s.len() > SCOPE_BYTES_MAX {
        return Err(invalid(s, "longer than 64 bytes"));
    }
    for segment in s.split('.') {
        if segment.is_empty() {
            return Err(invalid(s, "empty segment"));
        }
        let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-';
        if !segment.chars().all(allowed) {
            return Err(invalid(s, "characters other than a-z, 0-9, '_', '-' and '.'"));
        }
    }
    Ok(())
}

/// Checks that `pattern` is `*`, a scope name, or a scope name followed by `.*`.
pub fn validate_pattern(pattern: &str) -> Result<(), CoreError> {
    if pattern == "*" {
        return Ok(());
    }
    if pattern.len() > SCOPE_BYTES_MAX {
        return Err(invalid(pattern, "longer than 64 bytes"));
    }
    let name = pattern.strip_suffix(".*").unwrap_or(pattern);
    validate_name(name).map_err(|_| invalid(pattern, "expected `*`, a scope, or a scope followed by `.*`"))
}

/// Whether the grant pattern `pattern` covers the requested scope `scope`.
///
/// - `*` covers every scope;
/// - `p.*` covers every scope that starts with `p.` and is longer than it
///   (`messages.*` covers `messages.sms` and `messages.a.b`, not `messages`);
/// - anything else covers only itself.
pub fn pattern_covers(pattern: &str, scope: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    match pattern.strip_suffix('*') {
        Some(prefix) if prefix.ends_with('.') => scope.len() > prefix.len() && scope.starts_with(prefix),
        _ => pattern == scope,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_grammar() {
        for ok in ["journal", "messages.sms", "a-b_c.d9", &"x".repeat(64)] {
            assert!(ok.parse::<Scope>().is_ok(), "{ok} should be valid");
        }
        for bad in ["", "Journal", "a..b", ".a", "a.", "a b", "a/b", "*", &"x".repeat(65)] {
            assert!(bad.parse::<Scope>().is_err(), "{bad:?} should be invalid");
        }
    }

    #[test]
    fn patterns_follow_the_grammar() {
        for ok in ["*", "journal", "messages.*", "a.b.*"] {
            assert!(validate_pattern(ok).is_ok(), "{ok} should be valid");
        }
        for bad in ["", ".*", "**", "a*", "a.**", "*.a", "A.*"] {
            assert!(validate_pattern(bad).is_err(), "{bad:?} should be invalid");
        }
    }

    #[derive(serde::Deserialize)]
    struct Case {
        pattern: String,
        scope: String,
        covers: bool,
    }

    /// The same table runs through `PermissionRegistry.isActiveAt` in hearth-chain's tests.
    #[test]
    fn coverage_table() {
        let cases: Vec<Case> =
            serde_json::from_str(include_str!("../testdata/scope_coverage.json")).expect("table parses");
        assert!(cases.len() >= 10);
        for c in cases {
            assert_eq!(pattern_covers(&c.pattern, &c.scope), c.covers, "{} covers {}", c.pattern, c.scope);
        }
    }
}
