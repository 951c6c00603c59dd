//! Image store tests: imports of the example images (OCI layout and `docker save`),
//! tampered and hostile archives, whiteouts, limits, and the example builder.
//! One test binary; a module per topic under `tests/images/`.

#![allow(clippy::unwrap_used)]

#[path = "images/support.rs"]
mod support;

#[path = "images/import.rs"]
mod import;

#[path = "images/tamper.rs"]
mod tamper;

#[path = "images/hostile.rs"]
mod hostile;

#[path = "images/layers.rs"]
mod layers;

#[path = "images/example.rs"]
mod example;

#[path = "images/interop.rs"]
mod interop;
