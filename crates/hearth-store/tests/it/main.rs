//! Integration tests of hearth-store, one module per topic. Every store test is written
//! once and runs against both backends: a local directory, and S3 served by a real
//! `moto_server` (started on a free loopback port; `pip install 'moto[server]'`).

#![allow(clippy::unwrap_used, missing_docs)]

mod harness;
mod integrity;
mod lock;
mod recovery;
mod roundtrip;
mod s3;
