//! hearth-store: blob store and SQLite metadata; never sees plaintext.
//!
//! The store keeps ciphertext only (age files made elsewhere): blobs through
//! `object_store` (a local directory by default, an S3 bucket by configuration) and one
//! SQLite row per file. A write has two phases: [`Store::stage`] streams the ciphertext
//! into a blob (complete only at the end, hashed on the way), then [`Store::commit`]
//! inserts the row in one transaction, which is when the file becomes visible; or
//! [`Store::abort`] drops it. [`Store::open`] takes an exclusive lock on the data
//! directory and removes blobs without a row and unfinished uploads. Reads stream and
//! check the size and SHA-256 at the end.

#![forbid(unsafe_code)]

mod blobs;
mod config;
mod error;
mod meta;
mod reader;
mod s3;
mod store;

pub use blobs::{BLOBS_DIR, PART_BYTES, UPLOAD_PARTS_IN_FLIGHT_MAX};
pub use config::{BlobConfig, FILE_BYTES_MAX, LIST_PAGE_SIZE_MAX, NAME_BYTES_MAX, S3Config, StoreConfig};
pub use error::{Result, StoreError};
pub use meta::{FileMeta, NewFile};
pub use reader::BlobReader;
pub use s3::{MULTIPART_LIST_PAGES_MAX, S3_CONNECT_SECS_MAX, S3_RESPONSE_SECS_MAX, S3_RETRY_SECS_MAX};
pub use store::{DB_FILE, LOCK_FILE, READ_BUFFER_BYTES, Recovery, Staged, Store};
