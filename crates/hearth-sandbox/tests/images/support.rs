//! Test support: the example images, and image archives built entry by entry (hostile
//! ones included) for the image store tests.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use alloy_primitives::{B256, hex};
use hearth_core::ManualClock;
use hearth_sandbox::images::example::build_example_image;
use hearth_sandbox::images::{ImageLimits, ImageStore, format_digest};
use serde_json::json;
use sha2::{Digest, Sha256};

/// The time the test stores' clocks start at.
pub const START_SECS: u64 = 1_700_000_000;

/// The source of an example operation.
pub fn example_source(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/operations").join(format!("{name}.rs"))
}

/// The example image of `name`, built once per test run.
pub fn example_tar(name: &'static str) -> PathBuf {
    static BUILT: OnceLock<std::sync::Mutex<BTreeMap<&'static str, PathBuf>>> = OnceLock::new();
    let built = BUILT.get_or_init(Default::default);
    let mut built = built.lock().unwrap();
    built
        .entry(name)
        .or_insert_with(|| {
            // Builds are reproducible, so runs (even concurrent ones) share one directory.
            let out = scratch_dir().join("examples");
            build_example_image(&example_source(name), &out).unwrap()
        })
        .clone()
}

/// A directory for this test binary's leftovers, under the target directory.
pub fn scratch_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("hearth-sandbox-images")
}

/// A store in a fresh temporary directory, with a manual clock.
pub fn new_store(limits: ImageLimits) -> (tempfile::TempDir, ImageStore, ManualClock) {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(START_SECS);
    let store = ImageStore::open_with(&dir.path().join("images"), limits, Arc::new(clock.clone())).unwrap();
    (dir, store, clock)
}

/// Writes `bytes` to a file named `name` in `dir`.
pub fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// SHA-256.
pub fn sha256(bytes: &[u8]) -> B256 {
    B256::from(<[u8; 32]>::from(Sha256::digest(bytes)))
}

/// The regular files of a tar archive by path.
pub fn read_tar(bytes: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut archive = tar::Archive::new(bytes);
    let mut files = BTreeMap::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        if entry.header().entry_type() == tar::EntryType::Regular {
            let path = entry.path().unwrap().to_string_lossy().into_owned();
            let mut data = Vec::new();
            entry.read_to_end(&mut data).unwrap();
            files.insert(path, data);
        }
    }
    files
}

/// A tar entry written exactly as given: no path checks, unlike `tar::Builder`.
#[derive(Clone)]
pub struct Raw {
    pub name: String,
    pub kind: tar::EntryType,
    pub link: String,
    pub mode: u32,
    pub data: Vec<u8>,
}

impl Raw {
    pub fn file(name: &str, data: &[u8]) -> Raw {
        Raw { name: name.into(), kind: tar::EntryType::Regular, link: String::new(), mode: 0o644, data: data.to_vec() }
    }
    pub fn mode(mut self, mode: u32) -> Raw {
        self.mode = mode;
        self
    }
    pub fn dir(name: &str) -> Raw {
        Raw { name: name.into(), kind: tar::EntryType::Directory, link: String::new(), mode: 0o755, data: Vec::new() }
    }
    pub fn symlink(name: &str, target: &str) -> Raw {
        Raw { name: name.into(), kind: tar::EntryType::Symlink, link: target.into(), mode: 0o777, data: Vec::new() }
    }
    pub fn hardlink(name: &str, target: &str) -> Raw {
        Raw { name: name.into(), kind: tar::EntryType::Link, link: target.into(), mode: 0o644, data: Vec::new() }
    }
    pub fn char_device(name: &str) -> Raw {
        Raw { name: name.into(), kind: tar::EntryType::Char, link: String::new(), mode: 0o666, data: Vec::new() }
    }
}

/// A tar archive of `entries` in the order given, names and link targets written raw.
pub fn raw_tar(entries: &[Raw]) -> Vec<u8> {
    let mut out = Vec::new();
    for entry in entries {
        let mut header = tar::Header::new_gnu();
        let old = header.as_old_mut();
        assert!(entry.name.len() <= old.name.len() && entry.link.len() <= old.linkname.len());
        old.name[..entry.name.len()].copy_from_slice(entry.name.as_bytes());
        old.linkname[..entry.link.len()].copy_from_slice(entry.link.as_bytes());
        header.set_entry_type(entry.kind);
        header.set_mode(entry.mode);
        header.set_size(entry.data.len() as u64);
        header.set_mtime(0);
        header.set_cksum();
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(&entry.data);
        out.resize(out.len().next_multiple_of(512), 0);
    }
    out.resize(out.len() + 1024, 0);
    out
}

/// gzip of `bytes`.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// An OCI layout tar of one image whose layers are `layers` (tar bytes; gzip-compressed
/// when `compressed`), with `diff_ids` computed from the uncompressed tars.
pub fn oci_image(layers: &[Vec<u8>], compressed: bool) -> Vec<u8> {
    let diff_ids: Vec<String> = layers.iter().map(|l| format_digest(&sha256(l))).collect();
    let blobs: Vec<Vec<u8>> = layers.iter().map(|l| if compressed { gzip(l) } else { l.clone() }).collect();
    oci_image_with(&blobs, &diff_ids, compressed)
}

/// An OCI layout tar with the layer blobs and config `diff_ids` exactly as given.
pub fn oci_image_with(blobs: &[Vec<u8>], diff_ids: &[String], compressed: bool) -> Vec<u8> {
    let media_type = if compressed {
        "application/vnd.oci.image.layer.v1.tar+gzip"
    } else {
        "application/vnd.oci.image.layer.v1.tar"
    };
    let config = serde_json::to_vec(&json!({
        "architecture": "amd64",
        "os": "linux",
        "config": {"Entrypoint": ["/bin/op"], "Env": ["PATH=/bin"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }))
    .unwrap();
    let layer_descriptors: Vec<_> = blobs
        .iter()
        .map(|b| json!({"mediaType": media_type, "digest": format_digest(&sha256(b)), "size": b.len()}))
        .collect();
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": format_digest(&sha256(&config)), "size": config.len()},
        "layers": layer_descriptors,
    }))
    .unwrap();
    let index = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": format_digest(&sha256(&manifest)),
            "size": manifest.len(),
            "annotations": {"org.opencontainers.image.ref.name": "test/hostile:1"},
        }],
    }))
    .unwrap();
    let mut files = BTreeMap::new();
    for blob in blobs.iter().chain([&config, &manifest]) {
        files.insert(format!("blobs/sha256/{}", hex::encode(sha256(blob))), blob.clone());
    }
    files.insert("index.json".into(), index);
    files.insert("oci-layout".into(), br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec());
    files_tar(&files)
}

/// A tar of regular files (paths as keys), in key order.
pub fn files_tar(files: &BTreeMap<String, Vec<u8>>) -> Vec<u8> {
    let entries: Vec<Raw> = files.iter().map(|(name, data)| Raw::file(name, data)).collect();
    raw_tar(&entries)
}

/// The manifest digest an OCI layout tar's `index.json` names (its only manifest).
pub fn indexed_digest(files: &BTreeMap<String, Vec<u8>>) -> String {
    let index: serde_json::Value = serde_json::from_slice(&files["index.json"]).unwrap();
    index["manifests"][0]["digest"].as_str().unwrap().to_owned()
}

/// The config and layer blobs of a one-image OCI layout tar, from its manifest.
pub fn config_and_layers(files: &BTreeMap<String, Vec<u8>>) -> (String, Vec<String>) {
    let manifest_hex = indexed_digest(files).trim_start_matches("sha256:").to_owned();
    let manifest: serde_json::Value = serde_json::from_slice(&files[&format!("blobs/sha256/{manifest_hex}")]).unwrap();
    let hex_of = |d: &serde_json::Value| d["digest"].as_str().unwrap().trim_start_matches("sha256:").to_owned();
    let layers = manifest["layers"].as_array().unwrap().iter().map(hex_of).collect();
    (hex_of(&manifest["config"]), layers)
}

/// A legacy `docker save` archive (manifest.json, `<config-hex>.json`,
/// `<id>/layer.tar`, `repositories`) of the image in an OCI layout tar, named `tags`.
/// With `duplicate_layer`, the last layer is listed twice, the second time as a symlink
/// (as docker does for repeated layers).
pub fn docker_save_of(oci_tar: &[u8], tags: &[&str], duplicate_layer: bool) -> Vec<u8> {
    let files = read_tar(oci_tar);
    let (config_hex, layer_hexes) = config_and_layers(&files);
    let mut config = files[&format!("blobs/sha256/{config_hex}")].clone();
    if duplicate_layer {
        // The repeated layer is in the config's diff_ids twice, as docker records it.
        let mut value: serde_json::Value = serde_json::from_slice(&config).unwrap();
        let diff_ids = value["rootfs"]["diff_ids"].as_array_mut().unwrap();
        diff_ids.push(diff_ids.last().unwrap().clone());
        config = serde_json::to_vec(&value).unwrap();
    }
    let config_hex = hex::encode(sha256(&config));
    let mut entries = vec![Raw::file(&format!("{config_hex}.json"), &config)];
    let mut layer_paths = Vec::new();
    for (i, layer_hex) in layer_hexes.iter().enumerate() {
        let id = format!("{:064x}", i + 1);
        entries.push(Raw::dir(&format!("{id}/")));
        entries.push(Raw::file(&format!("{id}/VERSION"), b"1.0"));
        entries.push(Raw::file(&format!("{id}/layer.tar"), &files[&format!("blobs/sha256/{layer_hex}")]));
        layer_paths.push(format!("{id}/layer.tar"));
    }
    if duplicate_layer {
        let id = format!("{:064x}", 999);
        entries.push(Raw::dir(&format!("{id}/")));
        let last = layer_paths.last().unwrap().clone();
        entries.push(Raw::symlink(&format!("{id}/layer.tar"), &format!("../{last}")));
        layer_paths.push(format!("{id}/layer.tar"));
    }
    let manifest = serde_json::to_vec(&json!([{
        "Config": format!("{config_hex}.json"),
        "RepoTags": tags,
        "Layers": layer_paths,
    }]))
    .unwrap();
    entries.push(Raw::file("manifest.json", &manifest));
    entries.push(Raw::file("repositories", b"{}"));
    raw_tar(&entries)
}

/// Every path under `root` (relative), sorted; symlinks are not followed.
pub fn tree(root: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            out.push(path.strip_prefix(root).unwrap().to_string_lossy().into_owned());
            if entry.file_type().unwrap().is_dir() {
                walk(root, &path, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

/// The entries of a directory (names), sorted; empty if it does not exist.
pub fn names_in(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut names: Vec<String> = entries.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}
