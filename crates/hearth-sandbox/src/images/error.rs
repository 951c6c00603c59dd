//! The one error type of the image store.

use std::path::PathBuf;

use alloy_primitives::B256;

use super::digest::format_digest;

/// What can go wrong importing, reading or building an image. Messages are one line and
/// name the digest, path or archive entry involved.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// No imported image has this manifest digest.
    #[error("image {} not found", format_digest(.digest))]
    NotFound {
        /// The manifest digest asked for.
        digest: B256,
    },
    /// The archive (or layout directory) lacks a blob that the image refers to.
    #[error("blob {digest} is missing from the archive")]
    BlobMissing {
        /// The digest (`sha256:<hex>`) or, in a legacy archive, the path referred to.
        digest: String,
    },
    /// A blob's bytes do not hash to the digest that names them: the archive is damaged
    /// or was tampered with.
    #[error("blob {digest} fails verification: its content hashes to {actual}")]
    DigestMismatch {
        /// The digest the image names (`sha256:<hex>`).
        digest: String,
        /// What the content hashes to.
        actual: String,
    },
    /// A blob's length differs from the size its descriptor gives.
    #[error("blob {digest} fails verification: {actual} bytes where its descriptor says {expected}")]
    SizeMismatch {
        /// The blob's digest (`sha256:<hex>`).
        digest: String,
        /// The size in the descriptor.
        expected: u64,
        /// The blob's real length.
        actual: u64,
    },
    /// A layer's uncompressed content does not match its `diff_id` in the image config.
    #[error("layer {} fails verification: its uncompressed content hashes to {actual}, the config says {diff_id}", format_digest(.layer))]
    DiffIdMismatch {
        /// The layer blob's digest.
        layer: B256,
        /// The `diff_id` the config gives (`sha256:<hex>`).
        diff_id: String,
        /// What the uncompressed stream hashes to.
        actual: String,
    },
    /// An archive entry would write outside the root, through a link, or somewhere else
    /// it must not; the whole import is refused.
    #[error("unsafe entry {path:?} in {archive}: {problem}")]
    UnsafePath {
        /// The archive: `layer sha256:<hex>` or `the image archive`.
        archive: String,
        /// The entry's path as written in the archive.
        path: String,
        /// Which rule it breaks.
        problem: &'static str,
    },
    /// The image is larger than a configured limit; nothing was kept.
    #[error("the image exceeds {limit} = {max}")]
    LimitExceeded {
        /// The limit's name (an [`ImageLimits`](super::ImageLimits) field).
        limit: &'static str,
        /// Its value.
        max: u64,
    },
    /// The archive, a manifest, an index or a config is malformed.
    #[error("invalid {what}: {problem}")]
    Format {
        /// What was being read.
        what: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The image uses something this store does not handle (a digest algorithm, a
    /// layer compression, a tar entry type).
    #[error("unsupported {what}: {value}")]
    Unsupported {
        /// What kind of thing.
        what: &'static str,
        /// The value found.
        value: String,
    },
    /// The archive holds several images (or none for this platform); import one at a time.
    #[error("the archive holds {count} images for this platform; export a single image")]
    Ambiguous {
        /// How many candidate manifests were found.
        count: usize,
    },
    /// A stored index record is unreadable or disagrees with its name.
    #[error("image store record {path} is corrupted: {problem}")]
    Corrupted {
        /// The record file.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// Compiling an example operation failed.
    #[error("cannot build the example image: {problem}")]
    Build {
        /// What failed (the compiler's message, shortened).
        problem: String,
    },
    /// A file or directory operation failed.
    #[error("cannot {op} {path}: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// Reading an archive or layer stream failed (truncated, corrupt compression, or an
    /// I/O error underneath).
    #[error("cannot read {what}: {source}")]
    Read {
        /// What was being read.
        what: String,
        /// The error underneath.
        source: std::io::Error,
    },
}

impl ImageError {
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> ImageError {
        let path = path.into();
        move |source| ImageError::Io { op, path, source }
    }

    pub(crate) fn format(what: impl Into<String>, problem: impl Into<String>) -> ImageError {
        ImageError::Format { what: what.into(), problem: problem.into() }
    }

    /// Maps a stream read error: an [`ImageError`] smuggled through `io::Error` by one of
    /// our readers (a limit, a digest) comes back out; anything else is a read failure.
    pub(crate) fn read(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> ImageError {
        let what = what.into();
        move |source| {
            if source.get_ref().is_some_and(|inner| inner.is::<ImageError>()) {
                if let Some(Ok(inner)) = source.into_inner().map(|inner| inner.downcast::<ImageError>()) {
                    return *inner;
                }
                return ImageError::Read { what, source: std::io::Error::other("stream failed") };
            }
            // The tar reader may wrap our error in its own; a limit is still a limit.
            if let Some(limit) = source.get_ref().and_then(|inner| limit_within(inner)) {
                return limit;
            }
            ImageError::Read { what, source }
        }
    }

    /// Wraps this error in an `io::Error`, for `Read` implementations; [`ImageError::read`]
    /// unwraps it again.
    pub(crate) fn into_io(self) -> std::io::Error {
        std::io::Error::other(self)
    }
}

/// A [`ImageError::LimitExceeded`] anywhere in `error`'s chain, looking inside I/O errors.
fn limit_within(error: &(dyn std::error::Error + 'static)) -> Option<ImageError> {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(ImageError::LimitExceeded { limit, max }) = e.downcast_ref::<ImageError>() {
            return Some(ImageError::LimitExceeded { limit, max: *max });
        }
        if let Some(found) =
            e.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()).and_then(|inner| limit_within(inner))
        {
            return Some(found);
        }
        current = e.source();
    }
    None
}
