//! From an image's files to one verified manifest: follows `index.json` (OCI layout,
//! Docker 25+ `docker save`) or `manifest.json` (legacy `docker save`, `podman save`),
//! checking every document against its digest on the way.
//!
//! A legacy archive has no manifest; the canonical OCI manifest of its config and layers
//! ([`oci::manifest_bytes`]) stands in, so its digest names the image.

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;

use alloy_primitives::B256;
use serde::de::DeserializeOwned;

use super::digest::{HashingReader, format_digest, parse_digest, parse_hex, sha256};
use super::oci::{self, Descriptor, DockerSaveEntry, ImageConfig, ImageIndex, ImageManifest, OciLayout};
use super::source::{GZIP_MAGIC, Source, ZSTD_MAGIC};
use super::{ImageError, ImageLimits, JSON_BYTES_MAX};

/// How deep image indexes may nest (`index.json` → multi-platform index → manifest).
const INDEX_DEPTH_MAX: usize = 2;

/// An image found in an archive, with its manifest and config verified; layers are
/// verified as they are copied into the store.
pub(crate) struct ResolvedImage {
    /// The manifest digest: the image's name.
    pub(crate) digest: B256,
    /// The manifest as stored.
    pub(crate) manifest: Vec<u8>,
    /// The config's digest.
    pub(crate) config_digest: B256,
    /// The config as stored.
    pub(crate) config_bytes: Vec<u8>,
    /// The config, parsed.
    pub(crate) config: ImageConfig,
    /// Layers, lowest first.
    pub(crate) layers: Vec<LayerSource>,
    /// Names the archive gives the image.
    pub(crate) repo_tags: Vec<String>,
}

/// One layer blob in the archive.
pub(crate) struct LayerSource {
    /// The blob's digest.
    pub(crate) digest: B256,
    /// Its size, when a descriptor gives one.
    pub(crate) size: Option<u64>,
    /// Where it is.
    pub(crate) path: PathBuf,
    /// How the manifest names it (`sha256:<hex>`, or the legacy archive's path).
    pub(crate) name: String,
}

/// Finds and verifies the image in `source`.
pub(crate) fn resolve(source: &Source, limits: &ImageLimits) -> Result<ResolvedImage, ImageError> {
    let docker: Option<Vec<DockerSaveEntry>> = read_json_file(source, "manifest.json")?;
    if source.has_file("oci-layout") && source.has_file("index.json") {
        resolve_oci(source, limits, docker.as_deref().unwrap_or_default())
    } else if let Some(entries) = docker {
        resolve_legacy(source, limits, entries)
    } else {
        Err(ImageError::format(
            "image archive",
            "neither an OCI image layout (oci-layout, index.json) nor a docker save archive (manifest.json)",
        ))
    }
}

fn resolve_oci(source: &Source, limits: &ImageLimits, docker: &[DockerSaveEntry]) -> Result<ResolvedImage, ImageError> {
    let layout: OciLayout = read_json_file(source, "oci-layout")?
        .ok_or_else(|| ImageError::format("OCI image layout", "oci-layout is missing"))?;
    if !layout.image_layout_version.starts_with("1.") {
        return Err(ImageError::Unsupported { what: "OCI layout version", value: layout.image_layout_version });
    }
    let index: ImageIndex = read_json_file(source, "index.json")?
        .ok_or_else(|| ImageError::format("OCI image layout", "index.json is missing"))?;
    let mut candidates: Vec<Descriptor> = Vec::new();
    collect_manifests(source, &index.manifests, 0, &mut candidates)?;
    let mut seen = std::collections::BTreeSet::new();
    candidates.retain(|d| seen.insert(d.digest.clone()));
    let descriptor = match candidates.len() {
        1 => candidates.remove(0),
        0 => {
            let problem = format!("names no image manifest for linux/{}", oci::host_architecture());
            return Err(ImageError::format("index.json", problem));
        }
        count => return Err(ImageError::Ambiguous { count }),
    };
    let (digest, manifest) = read_blob(source, &descriptor)?;
    let parsed: ImageManifest = parse_json(&format!("manifest {}", descriptor.digest), &manifest)?;
    if let Some(media_type) = &parsed.media_type
        && media_type != oci::MEDIA_OCI_MANIFEST
        && media_type != oci::MEDIA_DOCKER_MANIFEST
    {
        return Err(ImageError::Unsupported { what: "manifest media type", value: media_type.clone() });
    }
    check_layer_count(parsed.layers.len(), limits)?;
    let (config_digest, config_bytes) = read_blob(source, &parsed.config)?;
    let config: ImageConfig = parse_json(&format!("image config {}", parsed.config.digest), &config_bytes)?;
    let mut layers = Vec::with_capacity(parsed.layers.len());
    for layer in &parsed.layers {
        if !oci::LAYER_MEDIA_TYPES.contains(&layer.media_type.as_str()) {
            return Err(ImageError::Unsupported { what: "layer media type", value: layer.media_type.clone() });
        }
        let digest = parse_digest(&layer.digest)?;
        layers.push(LayerSource {
            digest,
            size: Some(layer.size),
            path: source.path(&blob_path(&digest))?,
            name: layer.digest.clone(),
        });
    }
    check_diff_ids(&config, layers.len())?;
    let mut repo_tags = Vec::new();
    let annotations = descriptor.annotations.unwrap_or_default();
    if let Some(name) =
        annotations.get(oci::ANNOTATION_IMAGE_NAME).or_else(|| annotations.get(oci::ANNOTATION_REF_NAME))
    {
        repo_tags.push(name.clone());
    }
    let config_path = blob_path(&config_digest);
    for entry in docker.iter().filter(|e| e.config == config_path) {
        repo_tags.extend(entry.repo_tags.iter().flatten().cloned());
    }
    dedup_keep_order(&mut repo_tags);
    Ok(ResolvedImage { digest, manifest, config_digest, config_bytes, config, layers, repo_tags })
}

/// Adds the image manifests among `descriptors` (for this platform, where a platform is
/// given) to `out`, descending into nested indexes.
fn collect_manifests(
    source: &Source,
    descriptors: &[Descriptor],
    depth: usize,
    out: &mut Vec<Descriptor>,
) -> Result<(), ImageError> {
    for descriptor in descriptors {
        if let Some(platform) = &descriptor.platform
            && (platform.os != "linux" || platform.architecture != oci::host_architecture())
        {
            continue;
        }
        let media_type = descriptor.media_type.as_str();
        let is_index = match media_type {
            oci::MEDIA_OCI_INDEX | oci::MEDIA_DOCKER_LIST => true,
            oci::MEDIA_OCI_MANIFEST | oci::MEDIA_DOCKER_MANIFEST => false,
            // No media type: decide by content (an index lists manifests).
            "" => {
                let (_, bytes) = read_blob(source, descriptor)?;
                let value: serde_json::Value = parse_json(&format!("blob {}", descriptor.digest), &bytes)?;
                value.get("manifests").is_some()
            }
            // Artifacts, signatures and attestations are not images.
            _ => continue,
        };
        if !is_index {
            out.push(descriptor.clone());
            continue;
        }
        if depth >= INDEX_DEPTH_MAX {
            return Err(ImageError::format("image index", "indexes are nested too deeply"));
        }
        let (_, bytes) = read_blob(source, descriptor)?;
        let nested: ImageIndex = parse_json(&format!("image index {}", descriptor.digest), &bytes)?;
        collect_manifests(source, &nested.manifests, depth + 1, out)?;
    }
    Ok(())
}

fn resolve_legacy(
    source: &Source,
    limits: &ImageLimits,
    mut entries: Vec<DockerSaveEntry>,
) -> Result<ResolvedImage, ImageError> {
    let entry = match entries.len() {
        1 => entries.remove(0),
        0 => return Err(ImageError::format("manifest.json", "lists no image")),
        count => return Err(ImageError::Ambiguous { count }),
    };
    check_layer_count(entry.layers.len(), limits)?;
    // The config is named by its digest: `<hex>.json` (docker, podman) or `blobs/sha256/<hex>`.
    let config_name = entry.config.rsplit('/').next().unwrap_or_default();
    let config_digest = parse_hex(config_name.strip_suffix(".json").unwrap_or(config_name)).ok_or_else(|| {
        ImageError::format("manifest.json", format!("config {:?} is not named by its digest", entry.config))
    })?;
    let config_bytes = source
        .read_small(&entry.config, JSON_BYTES_MAX)?
        .ok_or_else(|| ImageError::BlobMissing { digest: format_digest(&config_digest) })?;
    verify_bytes(&config_digest, &config_bytes)?;
    let config: ImageConfig = parse_json(&format!("image config {}", format_digest(&config_digest)), &config_bytes)?;
    check_diff_ids(&config, entry.layers.len())?;

    let mut layers = Vec::with_capacity(entry.layers.len());
    let mut descriptors = Vec::with_capacity(entry.layers.len());
    let mut budget = limits.archive_bytes_max;
    for name in &entry.layers {
        let path = source.path(name)?;
        let file = fs::File::open(&path).map_err(|_| ImageError::BlobMissing { digest: name.clone() })?;
        let mut reader = BufReader::new(file);
        let head = reader.fill_buf().map_err(ImageError::read(format!("layer {name}")))?;
        let media_type = if head.starts_with(&GZIP_MAGIC) {
            oci::MEDIA_OCI_LAYER_GZIP
        } else if head.starts_with(&ZSTD_MAGIC) {
            return Err(ImageError::Unsupported { what: "layer compression", value: format!("zstd ({name})") });
        } else {
            oci::MEDIA_OCI_LAYER
        };
        let mut hashing = HashingReader::new(reader, budget, "archive_bytes_max");
        hashing.drain().map_err(ImageError::read(format!("layer {name}")))?;
        let (digest, size) = hashing.finish();
        budget -= size;
        // Newer archives name layers by digest too; check that name.
        if let Some(named) = name.strip_prefix("blobs/sha256/").and_then(parse_hex)
            && named != digest
        {
            return Err(ImageError::DigestMismatch { digest: format_digest(&named), actual: format_digest(&digest) });
        }
        descriptors.push(Descriptor::new(media_type, format_digest(&digest), size));
        layers.push(LayerSource { digest, size: Some(size), path, name: name.clone() });
    }
    let config_descriptor =
        Descriptor::new(oci::MEDIA_OCI_CONFIG, format_digest(&config_digest), config_bytes.len() as u64);
    let manifest = oci::manifest_bytes(config_descriptor, descriptors);
    let mut repo_tags = entry.repo_tags.unwrap_or_default();
    dedup_keep_order(&mut repo_tags);
    Ok(ResolvedImage { digest: sha256(&manifest), manifest, config_digest, config_bytes, config, layers, repo_tags })
}

/// `blobs/sha256/<hex>`, where an OCI layout keeps a blob.
pub(crate) fn blob_path(digest: &B256) -> String {
    format!("blobs/sha256/{}", alloy_primitives::hex::encode(digest))
}

/// Reads a small blob (a manifest, index or config) and checks its size and digest.
fn read_blob(source: &Source, descriptor: &Descriptor) -> Result<(B256, Vec<u8>), ImageError> {
    let digest = parse_digest(&descriptor.digest)?;
    if descriptor.size > JSON_BYTES_MAX {
        return Err(ImageError::LimitExceeded { limit: "JSON_BYTES_MAX", max: JSON_BYTES_MAX });
    }
    let bytes = source
        .read_small(&blob_path(&digest), JSON_BYTES_MAX)?
        .ok_or_else(|| ImageError::BlobMissing { digest: descriptor.digest.clone() })?;
    verify_bytes(&digest, &bytes)?;
    if bytes.len() as u64 != descriptor.size {
        return Err(ImageError::SizeMismatch {
            digest: descriptor.digest.clone(),
            expected: descriptor.size,
            actual: bytes.len() as u64,
        });
    }
    Ok((digest, bytes))
}

fn verify_bytes(digest: &B256, bytes: &[u8]) -> Result<(), ImageError> {
    let actual = sha256(bytes);
    if actual != *digest {
        return Err(ImageError::DigestMismatch { digest: format_digest(digest), actual: format_digest(&actual) });
    }
    Ok(())
}

fn read_json_file<T: DeserializeOwned>(source: &Source, rel: &str) -> Result<Option<T>, ImageError> {
    match source.read_small(rel, JSON_BYTES_MAX)? {
        Some(bytes) => parse_json(rel, &bytes).map(Some),
        None => Ok(None),
    }
}

fn parse_json<T: DeserializeOwned>(what: &str, bytes: &[u8]) -> Result<T, ImageError> {
    serde_json::from_slice(bytes).map_err(|e| ImageError::format(what, e.to_string()))
}

fn check_layer_count(count: usize, limits: &ImageLimits) -> Result<(), ImageError> {
    if count as u64 > limits.layer_count_max {
        return Err(ImageError::LimitExceeded { limit: "layer_count_max", max: limits.layer_count_max });
    }
    Ok(())
}

fn check_diff_ids(config: &ImageConfig, layers: usize) -> Result<(), ImageError> {
    if config.rootfs.diff_ids.len() != layers {
        let problem = format!("{} diff_ids for {layers} layers", config.rootfs.diff_ids.len());
        return Err(ImageError::format("image config", problem));
    }
    for diff_id in &config.rootfs.diff_ids {
        parse_digest(diff_id)?;
    }
    Ok(())
}

fn dedup_keep_order(names: &mut Vec<String>) {
    let mut seen = std::collections::BTreeSet::new();
    names.retain(|name| seen.insert(name.clone()));
}
