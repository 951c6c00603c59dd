//! The OCI and Docker image documents the store reads (layout, index, manifest, config,
//! `docker save`'s `manifest.json`) and the canonical manifest it writes.
//!
//! Only the fields the store uses are modelled; unknown fields are ignored on reading.
//! Digests of documents read from an archive are always taken over their raw bytes,
//! never over a re-serialization.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `oci-layout`'s `imageLayoutVersion` this store writes; any `1.x` is read.
pub const OCI_LAYOUT_VERSION: &str = "1.0.0";
/// Media type of an OCI image index.
pub const MEDIA_OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// Media type of an OCI image manifest.
pub const MEDIA_OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// Media type of an OCI image config.
pub const MEDIA_OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
/// Media type of an uncompressed OCI layer.
pub const MEDIA_OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar";
/// Media type of a gzip-compressed OCI layer.
pub const MEDIA_OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
/// Docker's (schema 2) image manifest.
pub const MEDIA_DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker's manifest list (its image index).
pub const MEDIA_DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// The annotation containerd and Docker put the full image name in.
pub const ANNOTATION_IMAGE_NAME: &str = "io.containerd.image.name";
/// The OCI annotation naming a manifest in `index.json` (a tag or a full reference).
pub const ANNOTATION_REF_NAME: &str = "org.opencontainers.image.ref.name";

/// Layer media types the store unpacks (plain or gzip tar; OCI, Docker and
/// non-distributable spellings).
pub const LAYER_MEDIA_TYPES: &[&str] = &[
    MEDIA_OCI_LAYER,
    MEDIA_OCI_LAYER_GZIP,
    "application/vnd.oci.image.layer.nondistributable.v1.tar",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
    "application/vnd.docker.image.rootfs.diff.tar",
    "application/vnd.docker.image.rootfs.diff.tar.gzip",
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
];

/// The `oci-layout` file.
#[derive(Debug, Serialize, Deserialize)]
pub struct OciLayout {
    /// The layout version (`1.0.0`).
    #[serde(rename = "imageLayoutVersion")]
    pub image_layout_version: String,
}

/// A content descriptor: what a blob is, its digest and size.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Descriptor {
    /// The blob's media type.
    #[serde(rename = "mediaType", default)]
    pub media_type: String,
    /// `sha256:<hex>`.
    pub digest: String,
    /// The blob's length in bytes.
    pub size: u64,
    /// For entries of an index: the platform the manifest is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    /// Free-form annotations (image names in `index.json`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
}

impl Descriptor {
    /// A descriptor with no platform and no annotations.
    pub fn new(media_type: &str, digest: String, size: u64) -> Self {
        Descriptor { media_type: media_type.to_owned(), digest, size, platform: None, annotations: None }
    }
}

/// An index entry's platform.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Platform {
    /// CPU architecture, GOARCH spelling (`amd64`, `arm64`).
    pub architecture: String,
    /// Operating system (`linux`).
    pub os: String,
}

/// An image index (`index.json`, or a multi-platform index blob).
#[derive(Debug, Serialize, Deserialize)]
pub struct ImageIndex {
    /// Always 2.
    #[serde(rename = "schemaVersion")]
    pub schema_version: u32,
    /// The index's media type, when given.
    #[serde(rename = "mediaType", default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The manifests (or nested indexes) it lists.
    pub manifests: Vec<Descriptor>,
}

/// An image manifest: a config and ordered layers.
#[derive(Debug, Serialize, Deserialize)]
pub struct ImageManifest {
    /// Always 2.
    #[serde(rename = "schemaVersion")]
    pub schema_version: u32,
    /// The manifest's media type, when given.
    #[serde(rename = "mediaType", default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The image config blob.
    pub config: Descriptor,
    /// Layer blobs, lowest first.
    pub layers: Vec<Descriptor>,
}

/// An image config (OCI and Docker share these fields).
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct ImageConfig {
    /// CPU architecture (`amd64`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub architecture: String,
    /// Operating system (`linux`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub os: String,
    /// How to run a container from the image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<ContainerConfig>,
    /// The uncompressed layers' digests.
    pub rootfs: RootFs,
}

/// The execution parameters in an image config. Docker writes explicit `null`s, hence
/// the options.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct ContainerConfig {
    /// Environment, `NAME=value`.
    #[serde(rename = "Env", default, skip_serializing_if = "Option::is_none")]
    pub env: Option<Vec<String>>,
    /// The program and its leading arguments.
    #[serde(rename = "Entrypoint", default, skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    /// Default arguments (or the program, without an entrypoint).
    #[serde(rename = "Cmd", default, skip_serializing_if = "Option::is_none")]
    pub cmd: Option<Vec<String>>,
    /// The working directory.
    #[serde(rename = "WorkingDir", default, skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
}

/// An image config's `rootfs`.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct RootFs {
    /// Always `layers`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `sha256:<hex>` of each layer's uncompressed tar, lowest first.
    pub diff_ids: Vec<String>,
}

/// One image in `docker save`'s `manifest.json`.
#[derive(Debug, Serialize, Deserialize)]
pub struct DockerSaveEntry {
    /// The config file's path in the archive.
    #[serde(rename = "Config")]
    pub config: String,
    /// Names the image was saved under.
    #[serde(rename = "RepoTags", default)]
    pub repo_tags: Option<Vec<String>>,
    /// Layer tar paths in the archive, lowest first.
    #[serde(rename = "Layers")]
    pub layers: Vec<String>,
}

/// The canonical OCI manifest for a config and layers: what the example builder writes,
/// and what the store records for a legacy `docker save` archive (which has none), so
/// the same image gets the same digest whichever way it arrives.
pub fn manifest_bytes(config: Descriptor, layers: Vec<Descriptor>) -> Vec<u8> {
    let manifest = ImageManifest { schema_version: 2, media_type: Some(MEDIA_OCI_MANIFEST.to_owned()), config, layers };
    json_bytes(&manifest)
}

/// Compact JSON of one of the documents above (their fields are strings, numbers and
/// string maps, so serializing cannot fail).
pub fn json_bytes(value: &impl Serialize) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

/// `GOARCH` spelling of the architecture this binary runs on, as image platforms give it.
pub fn host_architecture() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    }
}
