//! hearth-crypto's integration tests, one module per topic, in one test binary.

mod envelope;
mod hash;
mod keys;
mod owner;
