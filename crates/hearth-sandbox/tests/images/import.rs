//! Importing the example image every way it can arrive; list, get, rootfs; idempotence;
//! read-only roots; recovery.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use alloy_primitives::hex;
use hearth_sandbox::images::{ImageError, ImageLimits, ImageStore, format_digest, parse_digest};

use crate::support::*;

const WORDCOUNT_TAG: &str = "localhost/hearth-examples/wordcount:latest";

#[test]
fn example_oci_layout_tar_imports_with_its_config() {
    let (_dir, store, _clock) = new_store(ImageLimits::default());
    let archive = example_tar("wordcount");
    let files = read_tar(&fs::read(&archive).unwrap());
    let info = store.import(&archive).unwrap();

    assert_eq!(format_digest(&info.digest), indexed_digest(&files));
    let (config_hex, layer_hexes) = config_and_layers(&files);
    assert_eq!(hex::encode(info.config_digest), config_hex);
    assert_eq!(info.layers.iter().map(hex::encode).collect::<Vec<_>>(), layer_hexes);
    assert_eq!(info.repo_tags, vec![WORDCOUNT_TAG.to_owned()]);
    assert_eq!(info.entrypoint, vec!["/bin/op".to_owned()]);
    assert!(info.cmd.is_empty());
    assert_eq!(info.env, vec!["PATH=/bin".to_owned()]);
    assert_eq!(info.working_dir.as_deref(), Some("/"));
    assert_eq!(info.size_bytes, files[&format!("blobs/sha256/{}", layer_hexes[0])].len() as u64);
    assert_eq!(info.imported_at, START_SECS);

    assert_eq!(store.list().unwrap(), vec![info.clone()]);
    assert_eq!(store.get(&info.digest).unwrap(), info);
    let root = store.rootfs(&info.digest).unwrap();
    assert_eq!(tree(&root), ["bin", "bin/op", "input", "output", "tmp"]);
    assert!(fs::metadata(root.join("bin/op")).unwrap().len() > 100_000);
}

#[test]
fn docker_save_archive_gets_the_digest_of_the_same_oci_image() {
    let (dir, store, _clock) = new_store(ImageLimits::default());
    let oci = fs::read(example_tar("wordcount")).unwrap();
    let legacy = write_file(dir.path(), "wordcount.docker.tar", &docker_save_of(&oci, &["ops/wordcount:v1"], false));
    let from_docker = store.import(&legacy).unwrap();

    let (other_dir, other_store, _clock) = new_store(ImageLimits::default());
    let from_oci = other_store.import(&example_tar("wordcount")).unwrap();
    assert_eq!(from_docker.digest, from_oci.digest);
    assert_eq!(from_docker.layers, from_oci.layers);
    assert_eq!(from_docker.config_digest, from_oci.config_digest);
    assert_eq!(from_docker.repo_tags, vec!["ops/wordcount:v1".to_owned()]);
    assert_eq!(tree(&store.rootfs(&from_docker.digest).unwrap()), tree(&other_store.rootfs(&from_oci.digest).unwrap()));
    drop(other_dir);
}

#[test]
fn docker_save_duplicate_layer_symlink_resolves_inside_the_archive() {
    let (dir, store, _clock) = new_store(ImageLimits::default());
    let oci = fs::read(example_tar("wordcount")).unwrap();
    let legacy = write_file(dir.path(), "dup.tar", &docker_save_of(&oci, &[], true));
    let info = store.import(&legacy).unwrap();
    assert_eq!(info.layers.len(), 2);
    assert_eq!(info.layers[0], info.layers[1]);
    assert!(info.repo_tags.is_empty());
}

#[test]
fn oci_layout_directory_and_gzipped_archive_give_the_same_digest() {
    let (dir, store, _clock) = new_store(ImageLimits::default());
    let bytes = fs::read(example_tar("wordcount")).unwrap();
    let files = read_tar(&bytes);
    let layout = dir.path().join("layout");
    for (path, data) in &files {
        let dest = layout.join(path);
        fs::create_dir_all(dest.parent().unwrap()).unwrap();
        fs::write(dest, data).unwrap();
    }
    let from_dir = store.import(&layout).unwrap();
    let gzipped = write_file(dir.path(), "wordcount.tar.gz", &gzip(&bytes));
    let from_gzip = store.import(&gzipped).unwrap();
    assert_eq!(format_digest(&from_dir.digest), indexed_digest(&files));
    assert_eq!(from_gzip.digest, from_dir.digest);
    assert!(layout.join("index.json").exists(), "a layout directory is read in place, never moved");
}

#[test]
fn reimport_is_idempotent_and_never_touches_the_root() {
    let (dir, store, clock) = new_store(ImageLimits::default());
    let archive = example_tar("wordcount");
    let first = store.import(&archive).unwrap();
    let root = store.rootfs(&first.digest).unwrap();
    let stamp = |root: &Path| -> Vec<(String, i64, i64, u64)> {
        tree(root)
            .into_iter()
            .map(|p| {
                let m = fs::symlink_metadata(root.join(&p)).unwrap();
                (p, m.mtime(), m.ctime_nsec() + m.ctime() * 1_000_000_000, m.ino())
            })
            .collect()
    };
    let before = stamp(&root);
    clock.advance(3_600);

    let second = store.import(&archive).unwrap();
    assert_eq!(second, first, "same digest, same record, first import time kept");
    assert_eq!(stamp(&root), before, "the root was neither unpacked again nor chmod-ed");

    // The same image under another name adds the name and nothing else.
    let oci = fs::read(&archive).unwrap();
    let renamed = write_file(dir.path(), "renamed.tar", &docker_save_of(&oci, &["ops/wc:2"], false));
    let third = store.import(&renamed).unwrap();
    assert_eq!(third.digest, first.digest);
    assert_eq!(third.repo_tags, vec![WORDCOUNT_TAG.to_owned(), "ops/wc:2".to_owned()]);
    assert_eq!(third.imported_at, START_SECS);
    assert_eq!(store.list().unwrap(), vec![third]);
    assert_eq!(stamp(&root), before);
}

#[test]
fn rootfs_is_read_only_without_setuid_or_setgid() {
    let (dir, store, _clock) = new_store(ImageLimits::default());
    let layer = raw_tar(&[
        Raw::dir("usr/"),
        Raw::dir("usr/bin/").mode(0o777),
        Raw::file("usr/bin/su", b"#!/bin/sh\n").mode(0o4755),
        Raw::file("usr/bin/wall", b"x").mode(0o2755),
        Raw::file("etc-shadow", b"secret").mode(0o600),
        Raw::file("world-writable", b"w").mode(0o666),
        Raw::dir("tmp/").mode(0o1777),
        Raw::symlink("usr/bin/sh", "/bin/busybox"),
    ]);
    let archive = write_file(dir.path(), "modes.tar", &oci_image(&[layer], false));
    let info = store.import(&archive).unwrap();
    let root = store.rootfs(&info.digest).unwrap();

    let mut checked = 0;
    for rel in std::iter::once(String::new()).chain(tree(&root)) {
        let path = root.join(&rel);
        let meta = fs::symlink_metadata(&path).unwrap();
        if meta.file_type().is_symlink() {
            continue;
        }
        let mode = meta.permissions().mode() & 0o7777;
        assert_eq!(mode & 0o222, 0, "{rel:?} is writable ({mode:o})");
        assert_eq!(mode & 0o6000, 0, "{rel:?} keeps setuid or setgid ({mode:o})");
        checked += 1;
    }
    assert_eq!(checked, 8);
    let mode = |rel: &str| fs::metadata(root.join(rel)).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode("usr/bin/su"), 0o555);
    assert_eq!(mode("etc-shadow"), 0o400);
    assert_eq!(mode("usr/bin"), 0o555);
    assert_eq!(mode(""), 0o555);
    assert_eq!(fs::read_link(root.join("usr/bin/sh")).unwrap(), Path::new("/bin/busybox"));
    // Blobs and records are read-only too.
    let images = dir.path().join("images");
    for sub in ["blobs/sha256", "index"] {
        for name in names_in(&images.join(sub)) {
            let mode = fs::metadata(images.join(sub).join(&name)).unwrap().permissions().mode();
            assert_eq!(mode & 0o222, 0, "{sub}/{name} is writable");
        }
    }
}

#[test]
fn unknown_digest_is_not_found() {
    let (_dir, store, _clock) = new_store(ImageLimits::default());
    let digest = sha256(b"no such image");
    assert!(matches!(store.get(&digest), Err(ImageError::NotFound { digest: d }) if d == digest));
    assert!(matches!(store.rootfs(&digest), Err(ImageError::NotFound { .. })));
    assert!(store.list().unwrap().is_empty());
    assert_eq!(parse_digest(&format_digest(&digest)).unwrap(), digest);
}

#[test]
fn open_removes_what_an_interrupted_import_left() {
    let (dir, store, _clock) = new_store(ImageLimits::default());
    let info = store.import(&example_tar("wordcount")).unwrap();
    let images = dir.path().join("images");
    // What a crash at various points leaves: staging, a partial root, a root and blobs
    // without a record, a record being written.
    fs::create_dir_all(images.join("tmp/import-1-0/blobs")).unwrap();
    let partial = images.join("rootfs/.partial-abc-1-0/bin");
    fs::create_dir_all(&partial).unwrap();
    fs::set_permissions(&partial, fs::Permissions::from_mode(0o555)).unwrap();
    let orphan = hex::encode(sha256(b"orphan"));
    fs::create_dir_all(images.join("rootfs").join(&orphan)).unwrap();
    fs::write(images.join("blobs/sha256").join(&orphan), b"orphan").unwrap();
    fs::write(images.join("index/.write-1-0"), b"{").unwrap();

    let reopened = ImageStore::open(&images).unwrap();
    assert!(names_in(&images.join("tmp")).is_empty());
    assert_eq!(names_in(&images.join("rootfs")), vec![hex::encode(info.digest)]);
    assert_eq!(names_in(&images.join("index")), vec![format!("{}.json", hex::encode(info.digest))]);
    let mut blobs = vec![hex::encode(info.digest), hex::encode(info.config_digest), hex::encode(info.layers[0])];
    blobs.sort();
    assert_eq!(names_in(&images.join("blobs/sha256")), blobs);
    assert_eq!(reopened.list().unwrap(), vec![info]);
}

#[test]
fn reimport_restores_a_root_that_went_missing() {
    let (_dir, store, clock) = new_store(ImageLimits::default());
    let first = store.import(&example_tar("wordcount")).unwrap();
    let root = store.rootfs(&first.digest).unwrap();
    make_writable(&root);
    fs::remove_dir_all(&root).unwrap();
    assert!(matches!(store.rootfs(&first.digest), Err(ImageError::Corrupted { .. })));

    clock.advance(60);
    let again = store.import(&example_tar("wordcount")).unwrap();
    assert_eq!(again, first, "the record, first import time included, is kept");
    assert_eq!(tree(&store.rootfs(&first.digest).unwrap()), ["bin", "bin/op", "input", "output", "tmp"]);
}

fn make_writable(dir: &Path) {
    fs::set_permissions(dir, fs::Permissions::from_mode(0o755)).unwrap();
    for entry in fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            make_writable(&entry.path());
        }
    }
}

#[test]
fn concurrent_imports_of_one_image_unpack_it_once() {
    let (dir, store, _clock) = new_store(ImageLimits::default());
    let archive = example_tar("wordcount");
    let other = ImageStore::open(&dir.path().join("images")).unwrap();
    let results: Vec<_> = std::thread::scope(|scope| {
        let a = scope.spawn(|| store.import(&archive).unwrap());
        let b = scope.spawn(|| other.import(&archive).unwrap());
        vec![a.join().unwrap(), b.join().unwrap()]
    });
    assert_eq!(results[0].digest, results[1].digest);
    assert_eq!(names_in(&dir.path().join("images/rootfs")), vec![hex::encode(results[0].digest)]);
    assert!(names_in(&dir.path().join("images/tmp")).is_empty());
}
