//! Damaged archives: every blob is checked against its digest, and a failed import
//! leaves nothing behind.

use std::fs;
use std::path::Path;

use hearth_sandbox::images::{ImageError, ImageLimits, ImageStore};

use crate::support::*;

/// Asserts that the store holds nothing: no image, root, blob or staging file.
pub fn assert_empty(images: &Path, store: &ImageStore) {
    assert!(store.list().unwrap().is_empty());
    for sub in ["rootfs", "index", "blobs/sha256", "tmp"] {
        assert_eq!(names_in(&images.join(sub)), Vec::<String>::new(), "{sub} is not empty");
    }
}

/// The example's OCI layout files, changed by `change`, imported.
fn import_changed(change: impl FnOnce(&mut std::collections::BTreeMap<String, Vec<u8>>)) -> ImageError {
    let (dir, store, _clock) = new_store(ImageLimits::default());
    let mut files = read_tar(&fs::read(example_tar("wordcount")).unwrap());
    change(&mut files);
    let archive = write_file(dir.path(), "changed.tar", &files_tar(&files));
    let err = store.import(&archive).unwrap_err();
    assert_empty(&dir.path().join("images"), &store);
    err
}

#[test]
fn flipped_byte_in_a_layer_is_refused_naming_its_digest() {
    let mut layer_hex = String::new();
    let err = import_changed(|files| {
        layer_hex = config_and_layers(files).1[0].clone();
        let blob = files.get_mut(&format!("blobs/sha256/{layer_hex}")).unwrap();
        let middle = blob.len() / 2;
        blob[middle] ^= 0x01;
    });
    assert!(
        matches!(&err, ImageError::DigestMismatch { digest, .. } if *digest == format!("sha256:{layer_hex}")),
        "{err}"
    );
    assert!(err.to_string().contains(&layer_hex), "{err}");
}

#[test]
fn flipped_byte_in_the_config_or_manifest_is_refused() {
    let mut config_hex = String::new();
    let err = import_changed(|files| {
        config_hex = config_and_layers(files).0;
        let blob = files.get_mut(&format!("blobs/sha256/{config_hex}")).unwrap();
        blob[5] ^= 0x20;
    });
    assert!(matches!(&err, ImageError::DigestMismatch { digest, .. } if digest.ends_with(&config_hex)), "{err}");

    let mut manifest = String::new();
    let err = import_changed(|files| {
        manifest = indexed_digest(files);
        let blob = files.get_mut(&format!("blobs/sha256/{}", &manifest[7..])).unwrap();
        blob[3] ^= 0x01;
    });
    assert!(matches!(&err, ImageError::DigestMismatch { digest, .. } if *digest == manifest), "{err}");
}

#[test]
fn missing_layer_blob_is_refused_naming_its_digest() {
    let mut layer_hex = String::new();
    let err = import_changed(|files| {
        layer_hex = config_and_layers(files).1[0].clone();
        files.remove(&format!("blobs/sha256/{layer_hex}"));
    });
    assert!(matches!(&err, ImageError::BlobMissing { digest } if *digest == format!("sha256:{layer_hex}")), "{err}");
}

#[test]
fn tampered_legacy_layer_fails_its_diff_id() {
    let (dir, store, _clock) = new_store(ImageLimits::default());
    let oci = fs::read(example_tar("wordcount")).unwrap();
    let mut legacy = read_tar(&docker_save_of(&oci, &[], false));
    let (_, layer) = legacy.iter_mut().find(|(path, _)| path.ends_with("/layer.tar")).unwrap();
    let middle = layer.len() / 2;
    layer[middle] ^= 0x01;
    let archive = write_file(dir.path(), "legacy.tar", &files_tar(&legacy));
    let err = store.import(&archive).unwrap_err();
    let diff_id = format!("sha256:{}", config_and_layers(&read_tar(&oci)).1[0]);
    assert!(matches!(&err, ImageError::DiffIdMismatch { diff_id: d, .. } if *d == diff_id), "{err}");
    assert_empty(&dir.path().join("images"), &store);
}

#[test]
fn wrong_diff_id_in_a_gzip_image_is_refused() {
    let (dir, store, _clock) = new_store(ImageLimits::default());
    let layer = raw_tar(&[Raw::file("a", b"a")]);
    let wrong = format!("sha256:{}", alloy_primitives::hex::encode(sha256(b"not this layer")));
    let archive = write_file(dir.path(), "x.tar", &oci_image_with(&[gzip(&layer)], std::slice::from_ref(&wrong), true));
    let err = store.import(&archive).unwrap_err();
    assert!(matches!(&err, ImageError::DiffIdMismatch { diff_id, .. } if *diff_id == wrong), "{err}");
    assert_empty(&dir.path().join("images"), &store);
}

#[test]
fn archives_that_are_not_images_are_refused() {
    let (dir, store, _clock) = new_store(ImageLimits::default());
    let not_image = write_file(dir.path(), "plain.tar", &raw_tar(&[Raw::file("hello.txt", b"hi")]));
    assert!(matches!(store.import(&not_image), Err(ImageError::Format { .. })));
    let garbage = write_file(dir.path(), "garbage.tar", &[0x55; 3000]);
    assert!(store.import(&garbage).is_err());
    assert!(matches!(store.import(&dir.path().join("absent.tar")), Err(ImageError::Io { .. })));
    assert_empty(&dir.path().join("images"), &store);
}
