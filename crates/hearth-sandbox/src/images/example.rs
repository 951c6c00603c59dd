//! Builds the example operations (`examples/operations/*.rs`) into reproducible,
//! one-layer OCI images.
//!
//! The program is compiled with `rustc -O -C target-feature=+crt-static` (a static
//! glibc binary, so the image needs no libraries) and packed as `/bin/op` beside empty
//! `/input`, `/output` and `/tmp`, with entrypoint `["/bin/op"]`. Every tar header is
//! fixed (mtime 0, uid and gid 0, no user names, sorted entries), the layer is left
//! uncompressed, the config carries no timestamp and the source directory is remapped
//! out of the binary, so the archive, and so the image digest, is the same on every
//! run and machine with the same compiler and C library.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::ImageError;
use super::digest::{format_digest, sha256};
use super::fsutil::{RemoveOnDrop, unique_name, write_atomic};
use super::oci::{self, ContainerConfig, Descriptor, DockerSaveEntry, ImageConfig, ImageIndex, OciLayout, RootFs};
use super::resolve::blob_path;

/// Where the program lives in the image.
pub const EXAMPLE_ENTRYPOINT: &str = "/bin/op";
/// The repository examples are named under: `<prefix>/<name>:latest`.
pub const EXAMPLE_REPOSITORY_PREFIX: &str = "localhost/hearth-examples";
/// What the source directory is renamed to in the binary's embedded paths.
const REMAPPED_SOURCE_DIR: &str = "/hearth/examples/operations";
/// The Rust edition the examples are written in.
const EXAMPLE_EDITION: &str = "2024";
/// The longest compiler message kept in a [`ImageError::Build`].
const COMPILER_MESSAGE_BYTES_MAX: usize = 4000;
/// ELF program header type of a dynamic loader request.
const PT_INTERP: u32 = 3;

/// Compiles `source` (one std-only Rust file) and writes its image to
/// `<out_dir>/<name>.oci.tar`, an OCI image layout tar (with Docker's `manifest.json`
/// too, so `docker load` takes it); returns that path. Uses `$RUSTC`, else `rustc`.
pub fn build_example_image(source: &Path, out_dir: &Path) -> Result<PathBuf, ImageError> {
    let name = source
        .file_stem()
        .and_then(|s| s.to_str())
        .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'))
        .ok_or_else(|| ImageError::Build {
            problem: format!("{} must be named <lowercase letters, digits, _>.rs", source.display()),
        })?;
    let source = fs::canonicalize(source).map_err(ImageError::io("find", source))?;
    let source_dir = source.parent().unwrap_or(Path::new("/"));
    fs::create_dir_all(out_dir).map_err(ImageError::io("create", out_dir))?;
    let build = RemoveOnDrop::new(out_dir.join(unique_name(&format!(".build-{name}"))));
    fs::create_dir(build.path()).map_err(ImageError::io("create", build.path()))?;

    let binary = build.path().join("op");
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let output = Command::new(&rustc)
        .current_dir(build.path())
        .args(["--edition", EXAMPLE_EDITION, "--crate-type", "bin", "--crate-name", name])
        .args(["-O", "-C", "target-feature=+crt-static", "-C", "codegen-units=1", "-C", "strip=symbols"])
        .arg(format!("--remap-path-prefix={}={REMAPPED_SOURCE_DIR}", source_dir.display()))
        .arg("-o")
        .arg(&binary)
        .arg(&source)
        .output()
        .map_err(|e| ImageError::Build { problem: format!("cannot run {}: {e}", rustc.to_string_lossy()) })?;
    if !output.status.success() {
        let mut message = String::from_utf8_lossy(&output.stderr).into_owned();
        message.truncate(message.floor_char_boundary(COMPILER_MESSAGE_BYTES_MAX));
        return Err(ImageError::Build { problem: format!("rustc failed ({}): {message}", output.status) });
    }
    let program = fs::read(&binary).map_err(ImageError::io("read", &binary))?;
    if !is_static_elf(&program) {
        return Err(ImageError::Build {
            problem: "rustc produced a dynamically linked program; install the static C library (libc6-dev)".to_owned(),
        });
    }

    let archive = image_archive(name, &program);
    let path = out_dir.join(format!("{name}.oci.tar"));
    write_atomic(&path, &archive, 0o644)?;
    Ok(path)
}

/// The OCI layout tar of a one-layer image holding `program` as `/bin/op`.
fn image_archive(name: &str, program: &[u8]) -> Vec<u8> {
    let layer = layer_tar(program);
    let diff_id = format_digest(&sha256(&layer));
    let config = ImageConfig {
        architecture: oci::host_architecture().to_owned(),
        os: "linux".to_owned(),
        config: Some(ContainerConfig {
            env: Some(vec!["PATH=/bin".to_owned()]),
            entrypoint: Some(vec![EXAMPLE_ENTRYPOINT.to_owned()]),
            cmd: None,
            working_dir: Some("/".to_owned()),
        }),
        rootfs: RootFs { kind: "layers".to_owned(), diff_ids: vec![diff_id.clone()] },
    };
    let config = oci::json_bytes(&config);
    let config_digest = sha256(&config);
    let manifest = oci::manifest_bytes(
        Descriptor::new(oci::MEDIA_OCI_CONFIG, format_digest(&config_digest), config.len() as u64),
        vec![Descriptor::new(oci::MEDIA_OCI_LAYER, diff_id, layer.len() as u64)],
    );
    let manifest_digest = sha256(&manifest);
    let image_name = format!("{EXAMPLE_REPOSITORY_PREFIX}/{name}:latest");
    let mut entry = Descriptor::new(oci::MEDIA_OCI_MANIFEST, format_digest(&manifest_digest), manifest.len() as u64);
    entry.annotations = Some(
        [
            (oci::ANNOTATION_IMAGE_NAME.to_owned(), image_name.clone()),
            (oci::ANNOTATION_REF_NAME.to_owned(), "latest".to_owned()),
        ]
        .into(),
    );
    let index = oci::json_bytes(&ImageIndex {
        schema_version: 2,
        media_type: Some(oci::MEDIA_OCI_INDEX.to_owned()),
        manifests: vec![entry],
    });
    let docker = oci::json_bytes(&[DockerSaveEntry {
        config: blob_path(&config_digest),
        repo_tags: Some(vec![image_name]),
        layers: vec![blob_path(&sha256(&layer))],
    }]);
    let layout = oci::json_bytes(&OciLayout { image_layout_version: oci::OCI_LAYOUT_VERSION.to_owned() });

    let mut blobs = vec![(sha256(&layer), layer), (config_digest, config), (manifest_digest, manifest)];
    blobs.sort_by_key(|(digest, _)| *digest);
    let mut entries = vec![TarEntry::dir("blobs/", 0o755), TarEntry::dir("blobs/sha256/", 0o755)];
    for (digest, bytes) in blobs {
        entries.push(TarEntry::file(blob_path(&digest), 0o644, bytes));
    }
    entries.push(TarEntry::file("index.json", 0o644, index));
    entries.push(TarEntry::file("manifest.json", 0o644, docker));
    entries.push(TarEntry::file("oci-layout", 0o644, layout));
    deterministic_tar(entries)
}

/// The image's one layer: `/bin/op` and the empty directories jobs mount over.
fn layer_tar(program: &[u8]) -> Vec<u8> {
    deterministic_tar(vec![
        TarEntry::dir("bin/", 0o755),
        TarEntry::file("bin/op", 0o755, program.to_vec()),
        TarEntry::dir("input/", 0o755),
        TarEntry::dir("output/", 0o755),
        TarEntry::dir("tmp/", 0o1777),
    ])
}

struct TarEntry {
    path: String,
    mode: u32,
    /// `None` for a directory.
    data: Option<Vec<u8>>,
}

impl TarEntry {
    fn dir(path: &str, mode: u32) -> Self {
        TarEntry { path: path.to_owned(), mode, data: None }
    }

    fn file(path: impl Into<String>, mode: u32, data: Vec<u8>) -> Self {
        TarEntry { path: path.into(), mode, data: Some(data) }
    }
}

/// A ustar archive of `entries` sorted by path, with every header field that could
/// vary between machines fixed (mtime 0, uid and gid 0, empty user and group names).
fn deterministic_tar(mut entries: Vec<TarEntry>) -> Vec<u8> {
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    let mut out = Vec::new();
    for entry in entries {
        let mut header = tar::Header::new_ustar();
        // Names are ours and short (under ustar's 100 bytes), so this cannot fail.
        let _ = header.set_path(&entry.path);
        header.set_mode(entry.mode);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(0);
        let data = entry.data.unwrap_or_default();
        header.set_entry_type(if entry.path.ends_with('/') {
            tar::EntryType::Directory
        } else {
            tar::EntryType::Regular
        });
        header.set_size(data.len() as u64);
        header.set_cksum();
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(&data);
        out.resize(out.len().next_multiple_of(512), 0);
    }
    // End of archive: two zero blocks.
    out.resize(out.len() + 1024, 0);
    out
}

/// Whether `elf` is a 64-bit little-endian ELF with no dynamic loader (`PT_INTERP`).
fn is_static_elf(elf: &[u8]) -> bool {
    let u16_at = |at: usize| elf.get(at..at + 2).map(|b| u16::from_le_bytes([b[0], b[1]]) as usize);
    let u32_at = |at: usize| elf.get(at..at + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    let u64_at = |at: usize| {
        elf.get(at..at + 8).and_then(|b| <[u8; 8]>::try_from(b).ok()).map(|b| u64::from_le_bytes(b) as usize)
    };
    if !elf.starts_with(b"\x7fELF\x02\x01") {
        return false;
    }
    let (Some(phoff), Some(phentsize), Some(phnum)) = (u64_at(0x20), u16_at(0x36), u16_at(0x38)) else {
        return false;
    };
    (0..phnum).all(|i| {
        let at = phoff.saturating_add(i.saturating_mul(phentsize));
        u32_at(at).is_some_and(|p_type| p_type != PT_INTERP)
    })
}
