//! Grant terms and the rules that decide whether a grant covers a request.
//!
//! A grant is signed by its grantor (the owner) and names a grantee (an app), scope
//! patterns, an access level, operation digests, an optional fixed parameters hash and a
//! time window. [`GrantTerms::check`] is the whole decision except revocation, which only
//! the chain knows.

use std::fmt;
use std::str::FromStr;

use alloy_primitives::{Address, B256, U256};
use serde::{Deserialize, Serialize};

use crate::CoreError;
use crate::limits::{GRANT_OPERATIONS_MAX, GRANT_SCOPES_MAX};
use crate::scope::{pattern_covers, validate_pattern};

/// What a grant allows over the data it covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[repr(u8)]
pub enum Access {
    /// Run the listed operations; only their results leave the server.
    Compute = 1,
    /// A full copy, re-encrypted to the grantee.
    Read = 2,
}

impl Access {
    /// The value the contracts use (`ACCESS_COMPUTE = 1`, `ACCESS_READ = 2`).
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The access level for a contract value, if it is one.
    pub fn from_code(code: u8) -> Option<Access> {
        match code {
            1 => Some(Access::Compute),
            2 => Some(Access::Read),
            _ => None,
        }
    }
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Access::Compute => "compute",
            Access::Read => "read",
        })
    }
}

impl FromStr for Access {
    type Err = CoreError;

    fn from_str(s: &str) -> Result<Self, CoreError> {
        match s {
            "compute" => Ok(Access::Compute),
            "read" => Ok(Access::Read),
            other => Err(CoreError::InvalidAccess(other.to_owned())),
        }
    }
}

/// The signed content of a grant, as the owner sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GrantTerms {
    /// The owner of the data, who signs the grant.
    pub grantor: Address,
    /// The app allowed to act.
    pub grantee: Address,
    /// Scope patterns (`journal`, `messages.*`, `*`).
    pub scopes: Vec<String>,
    /// Results only, or a full copy.
    pub access: Access,
    /// Code digests (OCI manifest sha256) the grantee may run.
    pub operations: Vec<B256>,
    /// Zero: any parameters; otherwise the hash the parameters must have.
    pub params_hash: B256,
    /// Unix seconds from which the grant is valid.
    pub not_before: u64,
    /// Unix seconds from which the grant is no longer valid.
    pub expires_at: u64,
    /// The grantor's nonce in `PermissionRegistry`; each is usable once.
    pub nonce: U256,
}

/// What a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wanted {
    /// A full copy of the data.
    Read,
    /// A run of `operation` with parameters hashing to `params_hash`.
    Compute {
        /// The code digest to run.
        operation: B256,
        /// The hash of the parameters the run would use.
        params_hash: B256,
    },
}

/// A request measured against a grant.
#[derive(Debug, Clone, Copy)]
pub struct AccessRequest<'a> {
    /// Who asks (the request's signer).
    pub grantee: Address,
    /// The scope of the data asked for.
    pub scope: &'a str,
    /// Read or compute.
    pub wanted: Wanted,
}

/// Why a grant does not cover a request; each has a stable code for the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Denial {
    /// The request's signer is not the grant's grantee.
    #[error("the grant was issued to another app")]
    WrongGrantee,
    /// The grant's window has not opened yet.
    #[error("the grant is not valid before {not_before}")]
    NotYetValid {
        /// Unix seconds.
        not_before: u64,
    },
    /// The grant's window has closed.
    #[error("the grant expired at {expires_at}")]
    Expired {
        /// Unix seconds.
        expires_at: u64,
    },
    /// No scope pattern of the grant covers the requested scope.
    #[error("the grant does not cover this scope")]
    ScopeNotCovered,
    /// A read was asked on a compute-only grant.
    #[error("the grant allows computation only, not a copy of the data")]
    ReadNotGranted,
    /// The operation's digest is not listed in the grant.
    #[error("the grant does not list this operation")]
    OperationNotGranted,
    /// The grant fixes the parameters and these differ.
    #[error("the grant fixes parameters and these differ")]
    ParamsMismatch,
}

impl Denial {
    /// A stable code for APIs and logs.
    pub fn code(&self) -> &'static str {
        match self {
            Denial::WrongGrantee => "grant_wrong_grantee",
            Denial::NotYetValid { .. } => "grant_not_yet_valid",
            Denial::Expired { .. } => "grant_expired",
            Denial::ScopeNotCovered => "scope_not_granted",
            Denial::ReadNotGranted => "read_not_granted",
            Denial::OperationNotGranted => "operation_not_granted",
            Denial::ParamsMismatch => "params_mismatch",
        }
    }
}

/// Whether `now` (unix seconds) lies in `[not_before, expires_at)`.
pub fn check_window(not_before: u64, expires_at: u64, now: u64) -> Result<(), Denial> {
    if now < not_before {
        return Err(Denial::NotYetValid { not_before });
    }
    if now >= expires_at {
        return Err(Denial::Expired { expires_at });
    }
    Ok(())
}

impl GrantTerms {
    /// Checks the rules the contract enforces on submission (except the signature,
    /// the nonce and the clock), plus the scope grammar, so a bad grant is caught
    /// before it is signed.
    pub fn validate(&self) -> Result<(), CoreError> {
        let bad = |why: String| Err(CoreError::InvalidGrant(why));
        if self.grantor.is_zero() || self.grantee.is_zero() {
            return bad("grantor and grantee must be non-zero addresses".into());
        }
        if self.scopes.is_empty() {
            return bad("at least one scope is required".into());
        }
        if self.scopes.len() > GRANT_SCOPES_MAX {
            return bad(format!("{} scopes, at most {GRANT_SCOPES_MAX} allowed", self.scopes.len()));
        }
        for scope in &self.scopes {
            validate_pattern(scope)?;
        }
        if self.operations.len() > GRANT_OPERATIONS_MAX {
            return bad(format!("{} operations, at most {GRANT_OPERATIONS_MAX} allowed", self.operations.len()));
        }
        if self.access == Access::Compute && self.operations.is_empty() {
            return bad("a compute grant must list at least one operation".into());
        }
        if self.expires_at <= self.not_before {
            return bad("expiry must come after the start of validity".into());
        }
        Ok(())
    }

    /// Decides whether these terms cover `request` at `now` (unix seconds).
    /// Revocation is not part of the terms: callers check it on chain.
    pub fn check(&self, request: &AccessRequest<'_>, now: u64) -> Result<(), Denial> {
        if request.grantee != self.grantee {
            return Err(Denial::WrongGrantee);
        }
        check_window(self.not_before, self.expires_at, now)?;
        if !self.scopes.iter().any(|p| pattern_covers(p, request.scope)) {
            return Err(Denial::ScopeNotCovered);
        }
        match request.wanted {
            Wanted::Read if self.access != Access::Read => Err(Denial::ReadNotGranted),
            Wanted::Read => Ok(()),
            Wanted::Compute { operation, params_hash } => {
                if !self.operations.contains(&operation) {
                    return Err(Denial::OperationNotGranted);
                }
                if !self.params_hash.is_zero() && self.params_hash != params_hash {
                    return Err(Denial::ParamsMismatch);
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms() -> GrantTerms {
        GrantTerms {
            grantor: Address::repeat_byte(1),
            grantee: Address::repeat_byte(2),
            scopes: vec!["journal".into(), "messages.*".into()],
            access: Access::Compute,
            operations: vec![B256::repeat_byte(9)],
            params_hash: B256::ZERO,
            not_before: 100,
            expires_at: 200,
            nonce: U256::ZERO,
        }
    }

    fn compute(scope: &str) -> AccessRequest<'_> {
        AccessRequest {
            grantee: Address::repeat_byte(2),
            scope,
            wanted: Wanted::Compute { operation: B256::repeat_byte(9), params_hash: B256::repeat_byte(5) },
        }
    }

    #[test]
    fn window_is_half_open() {
        assert_eq!(check_window(100, 200, 99), Err(Denial::NotYetValid { not_before: 100 }));
        assert_eq!(check_window(100, 200, 100), Ok(()));
        assert_eq!(check_window(100, 200, 199), Ok(()));
        assert_eq!(check_window(100, 200, 200), Err(Denial::Expired { expires_at: 200 }));
    }

    #[test]
    fn each_rule_denies_with_its_own_reason() {
        let t = terms();
        assert_eq!(t.check(&compute("journal"), 150), Ok(()));
        assert_eq!(t.check(&compute("messages.sms"), 150), Ok(()));
        assert_eq!(t.check(&compute("email"), 150), Err(Denial::ScopeNotCovered));
        assert_eq!(t.check(&compute("journal"), 50), Err(Denial::NotYetValid { not_before: 100 }));
        assert_eq!(t.check(&compute("journal"), 250), Err(Denial::Expired { expires_at: 200 }));
        let stranger = AccessRequest { grantee: Address::repeat_byte(3), ..compute("journal") };
        assert_eq!(t.check(&stranger, 150), Err(Denial::WrongGrantee));
        let read = AccessRequest { wanted: Wanted::Read, ..compute("journal") };
        assert_eq!(t.check(&read, 150), Err(Denial::ReadNotGranted));
        let other_op = AccessRequest {
            wanted: Wanted::Compute { operation: B256::repeat_byte(8), params_hash: B256::ZERO },
            ..compute("journal")
        };
        assert_eq!(t.check(&other_op, 150), Err(Denial::OperationNotGranted));
    }

    #[test]
    fn fixed_params_must_match() {
        let t = GrantTerms { params_hash: B256::repeat_byte(5), ..terms() };
        assert_eq!(t.check(&compute("journal"), 150), Ok(()));
        let t = GrantTerms { params_hash: B256::repeat_byte(6), ..terms() };
        assert_eq!(t.check(&compute("journal"), 150), Err(Denial::ParamsMismatch));
    }

    #[test]
    fn read_grants_allow_reads() {
        let t = GrantTerms { access: Access::Read, operations: vec![], ..terms() };
        assert!(t.validate().is_ok());
        let read = AccessRequest { wanted: Wanted::Read, ..compute("journal") };
        assert_eq!(t.check(&read, 150), Ok(()));
    }

    #[test]
    fn validation_catches_what_the_chain_refuses() {
        assert!(terms().validate().is_ok());
        let cases = [
            GrantTerms { scopes: vec![], ..terms() },
            GrantTerms { scopes: vec!["Bad Scope".into()], ..terms() },
            GrantTerms { scopes: vec!["a".into(); GRANT_SCOPES_MAX + 1], ..terms() },
            GrantTerms { operations: vec![], ..terms() },
            GrantTerms { operations: vec![B256::ZERO; GRANT_OPERATIONS_MAX + 1], ..terms() },
            GrantTerms { expires_at: 100, ..terms() },
            GrantTerms { grantee: Address::ZERO, ..terms() },
        ];
        for (i, t) in cases.iter().enumerate() {
            assert!(t.validate().is_err(), "case {i} should be invalid");
        }
    }

    #[test]
    fn access_round_trips() {
        for a in [Access::Compute, Access::Read] {
            assert_eq!(Access::from_code(a.code()), Some(a));
            assert_eq!(a.to_string().parse::<Access>(), Ok(a));
        }
        assert_eq!(Access::from_code(0), None);
        assert!("write".parse::<Access>().is_err());
    }
}
