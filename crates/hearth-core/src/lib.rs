//! hearth's domain types, limits and grant rules: pure functions, no IO.
//!
//! Everything here is shared by the chain layer, the server and the CLI. The rules in
//! [`grant`] are the off-chain twin of `PermissionRegistry.isActiveAt`: a test runs the
//! same table of cases through both.

#![forbid(unsafe_code)]

pub mod clock;
mod error;
pub mod grant;
pub mod limits;
pub mod scope;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::CoreError;
pub use grant::{Access, AccessRequest, Denial, GrantTerms, Wanted, check_window};
pub use scope::{Scope, pattern_covers, validate_pattern};
