//! hearth-sandbox: OCI images stored by digest, and jobs run in an OCI runtime (runc)
//! with no network, a read-only root, tmpfs inputs and hard limits.
//!
//! Architecture invariant: the only crate that starts processes in production code.

#![forbid(unsafe_code)]

pub mod images;
pub mod runner;
