//! Where the store keeps its data: the data directory, the blob backend, and the limits.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Default for [`StoreConfig::file_bytes_max`]: the largest ciphertext one file may have (64 GiB).
pub const FILE_BYTES_MAX: u64 = 64 << 30;
/// Most rows one [`crate::Store::list`] call returns; larger limits are capped to this.
pub const LIST_PAGE_SIZE_MAX: usize = 1000;
/// Longest file name, in bytes of UTF-8.
pub const NAME_BYTES_MAX: usize = 255;

/// How the store is opened.
#[derive(Clone, Debug)]
pub struct StoreConfig {
    /// Holds `store.lock`, `store.sqlite` and (for the local backend) `blobs/`.
    pub data_dir: PathBuf,
    /// Where ciphertext blobs live.
    pub blobs: BlobConfig,
    /// The largest ciphertext `stage` accepts, in bytes.
    pub file_bytes_max: u64,
}

impl StoreConfig {
    /// A store in `data_dir` with local blobs and the default limits.
    pub fn new(data_dir: impl Into<PathBuf>) -> StoreConfig {
        StoreConfig { data_dir: data_dir.into(), ..StoreConfig::default() }
    }
}

impl Default for StoreConfig {
    /// The current directory, local blobs, [`FILE_BYTES_MAX`].
    fn default() -> Self {
        StoreConfig { data_dir: PathBuf::from("."), blobs: BlobConfig::Local, file_bytes_max: FILE_BYTES_MAX }
    }
}

/// The blob backend, as written in a configuration file (`backend = "local"` or `"s3"`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "backend", rename_all = "lowercase")]
pub enum BlobConfig {
    /// Files under `<data_dir>/blobs`.
    #[default]
    Local,
    /// An S3 (or S3-compatible) bucket used by this store alone: recovery deletes every
    /// object in it that looks like a blob key and has no committed row.
    S3(S3Config),
}

/// An S3 bucket and the credentials to use it. `Debug` never shows the secret key.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct S3Config {
    /// Bucket name.
    pub bucket: String,
    /// Region, e.g. `us-east-1`.
    pub region: String,
    /// Endpoint URL for S3-compatible servers (MinIO, moto); `None` for AWS.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: String,
    /// Allows a plain `http://` endpoint (local test servers only).
    #[serde(default)]
    pub allow_http: bool,
}

impl fmt::Debug for S3Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Config")
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field("allow_http", &self.allow_http)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_debug_hides_the_secret() {
        let config = S3Config {
            bucket: "b".into(),
            region: "us-east-1".into(),
            endpoint: None,
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI-very-secret".into(),
            allow_http: false,
        };
        let shown = format!("{:?} {:?}", config, BlobConfig::S3(config.clone()));
        assert!(!shown.contains("very-secret"), "{shown}");
        assert!(shown.contains("<redacted>"));
    }

    #[test]
    fn blob_config_reads_tagged_tables() {
        let local: BlobConfig = serde_json::from_str(r#"{"backend":"local"}"#).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(local, BlobConfig::Local);
        let s3: BlobConfig = serde_json::from_str(
            r#"{"backend":"s3","bucket":"b","region":"r","access_key_id":"a","secret_access_key":"s"}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let BlobConfig::S3(s3) = s3 else { panic!("expected s3") };
        assert_eq!((s3.bucket.as_str(), s3.endpoint, s3.allow_http), ("b", None, false));
    }
}
