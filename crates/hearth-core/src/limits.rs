//! Named limits shared by every crate; the unit is the last word of each name.
//!
//! Limits that the contracts enforce too carry the contract's constant in their doc line.

/// Longest scope name or scope pattern (`PermissionRegistry.MAX_SCOPE_BYTES`).
pub const SCOPE_BYTES_MAX: usize = 64;
/// Most scope patterns in one grant (`PermissionRegistry.MAX_SCOPES`).
pub const GRANT_SCOPES_MAX: usize = 16;
/// Most operation digests in one grant (`PermissionRegistry.MAX_OPERATIONS`).
pub const GRANT_OPERATIONS_MAX: usize = 16;
/// Longest string field stored on chain: recipient, URL, name, URI (`MAX_STRING_BYTES`).
pub const CHAIN_STRING_BYTES_MAX: usize = 4096;
