//! The one error type of `hearth-core`: input that breaks a domain rule.

/// A value that does not satisfy a domain rule. Messages name the rule, never a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CoreError {
    /// A scope name is empty, too long, or has a character outside `[a-z0-9_-]` or an empty segment.
    #[error("invalid scope {scope:?}: {why}")]
    InvalidScope {
        /// The offending text (scopes are labels, not secrets).
        scope: String,
        /// Which rule it breaks.
        why: &'static str,
    },
    /// An access level other than `compute` or `read`.
    #[error("invalid access level {0:?}: expected `compute` or `read`")]
    InvalidAccess(String),
    /// A grant's terms break a rule that the chain would also refuse.
    #[error("invalid grant: {0}")]
    InvalidGrant(String),
}
