//! The image store: OCI images by manifest digest, each unpacked once into a read-only
//! root for the runner.
//!
//! [`ImageStore::import`] takes a `docker save` or `podman save` archive, an OCI image
//! layout directory, or an OCI layout tar (optionally gzipped). Every blob is checked
//! against its digest, blobs are kept content-addressed, and the layers are unpacked
//! with hostile archives in mind (see `unpack.rs`): into a staging directory, made
//! read-only, then renamed into place. The image becomes visible when its index record
//! is written, last; [`ImageStore::open`] removes whatever an interrupted import left.
//!
//! Layout under the store's directory (`<data-dir>/images`):
//!
//! ```text
//! store.lock                   exclusive while importing or recovering
//! blobs/sha256/<hex>           manifests, configs and layers, read-only
//! rootfs/<manifest-hex>/       an image's unpacked root, read-only
//! index/<manifest-hex>.json    one record per image: the ImageInfo
//! tmp/                         staging, emptied on open
//! ```
//!
//! An image's name is its manifest digest. A legacy `docker save` archive carries no
//! manifest; the store writes the canonical OCI manifest of its config and layers and
//! names the image by that, so the same config and uncompressed layers imported as an
//! OCI layout (as [`example::build_example_image`] writes them) get the same digest.

mod digest;
mod error;
pub mod example;
mod fsutil;
mod oci;
mod resolve;
mod source;
mod store;
mod unpack;

use alloy_primitives::B256;

pub use digest::{format_digest, parse_digest};
pub use error::ImageError;
pub use store::ImageStore;

/// Default cap on an image archive's size as read (after gunzipping the whole archive),
/// and on the blobs taken from a layout directory: 4 GiB.
pub const ARCHIVE_BYTES_MAX: u64 = 4 * 1024 * 1024 * 1024;
/// Default cap on an image's layers (overlayfs stacks at most 128 lower directories).
pub const LAYER_COUNT_MAX: u64 = 128;
/// Default cap on entries across an image's layers (and in its outer archive).
pub const FILE_COUNT_MAX: u64 = 500_000;
/// Default cap on an entry's path and a link's target: Linux's `PATH_MAX`.
pub const PATH_BYTES_MAX: u64 = 4096;
/// Default cap on the file contents unpacked from all of an image's layers: 8 GiB.
pub const UNPACKED_BYTES_MAX: u64 = 8 * 1024 * 1024 * 1024;
/// Cap on a JSON document read into memory (index, manifest, config, `manifest.json`).
pub const JSON_BYTES_MAX: u64 = 4 * 1024 * 1024;

/// Limits on what an import accepts; exceeding one fails the import with
/// [`ImageError::LimitExceeded`] naming the field, and nothing is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageLimits {
    /// Bytes of the archive as read, or of the blobs read from a layout directory.
    pub archive_bytes_max: u64,
    /// Layers in the image.
    pub layer_count_max: u64,
    /// Entries across all layers, and entries in the outer archive.
    pub file_count_max: u64,
    /// Bytes of an entry's path or a link's target.
    pub path_bytes_max: u64,
    /// Bytes of file content unpacked across all layers.
    pub unpacked_bytes_max: u64,
}

impl Default for ImageLimits {
    fn default() -> Self {
        ImageLimits {
            archive_bytes_max: ARCHIVE_BYTES_MAX,
            layer_count_max: LAYER_COUNT_MAX,
            file_count_max: FILE_COUNT_MAX,
            path_bytes_max: PATH_BYTES_MAX,
            unpacked_bytes_max: UNPACKED_BYTES_MAX,
        }
    }
}

/// An imported image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageInfo {
    /// SHA-256 of the image manifest: the operation's name.
    pub digest: B256,
    /// Names the archives gave it (`repo:tag`), first import first.
    pub repo_tags: Vec<String>,
    /// Layer blob digests, lowest first.
    pub layers: Vec<B256>,
    /// The image config's digest.
    pub config_digest: B256,
    /// The config's `Entrypoint`.
    pub entrypoint: Vec<String>,
    /// The config's `Cmd`.
    pub cmd: Vec<String>,
    /// The config's `Env` (`NAME=value`).
    pub env: Vec<String>,
    /// The config's `WorkingDir`, if set.
    pub working_dir: Option<String>,
    /// Bytes of the layer blobs as stored (compressed where the image compresses them).
    pub size_bytes: u64,
    /// When it was first imported, unix seconds.
    pub imported_at: u64,
}
