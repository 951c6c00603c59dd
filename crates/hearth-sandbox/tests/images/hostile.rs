//! Hostile layers: each case is a layer (or layers) that tries to write outside the
//! root; every one must be refused, leave nothing behind, and touch nothing outside.

use std::fs;

use hearth_sandbox::images::{ImageError, ImageLimits};

use crate::support::*;
use crate::tamper::assert_empty;

/// (name, layers, what the refusal says)
fn cases() -> Vec<(&'static str, Vec<Vec<Raw>>, &'static str)> {
    vec![
        ("parent traversal", vec![vec![Raw::file("../evil", b"x")]], "`..`"),
        ("nested parent traversal", vec![vec![Raw::dir("a/"), Raw::file("a/../../evil", b"x")]], "`..`"),
        ("absolute path", vec![vec![Raw::file("/abs", b"x")]], "absolute"),
        (
            "write through a symlink to /etc",
            vec![vec![Raw::symlink("link", "/etc"), Raw::file("link/passwd", b"owned")]],
            "symbolic link",
        ),
        (
            "write through a relative symlink out of the root",
            vec![vec![Raw::symlink("up", "../../../.."), Raw::file("up/evil", b"x")]],
            "symbolic link",
        ),
        (
            "write through a symlink from a lower layer",
            vec![vec![Raw::symlink("etc", "/etc")], vec![Raw::file("etc/passwd", b"owned")]],
            "symbolic link",
        ),
        (
            "directory through a symlink",
            vec![vec![Raw::symlink("link", "/tmp"), Raw::dir("link/evil/")]],
            "symbolic link",
        ),
        ("hard link to a file outside, by ..", vec![vec![Raw::hardlink("h", "../../../../etc/passwd")]], "hard link"),
        ("hard link to an absolute path", vec![vec![Raw::hardlink("h", "/etc/passwd")]], "hard link"),
        (
            "hard link through a symlink",
            vec![vec![Raw::symlink("link", "/etc"), Raw::hardlink("h", "link/passwd")]],
            "symbolic link",
        ),
        (
            "hard link to a symlink pointing outside",
            vec![vec![Raw::symlink("link", "/etc/passwd"), Raw::hardlink("h", "link")]],
            "hard link",
        ),
        ("hard link to nothing", vec![vec![Raw::hardlink("h", "missing")]], "hard link"),
        (
            "whiteout through a symlink",
            vec![vec![Raw::symlink("link", "/etc"), Raw::file("link/.wh.passwd", b"")]],
            "symbolic link",
        ),
        (
            "opaque whiteout through a symlink",
            vec![vec![Raw::symlink("link", "/etc"), Raw::file("link/.wh..wh..opq", b"")]],
            "symbolic link",
        ),
        ("whiteout of ..", vec![vec![Raw::dir("a/"), Raw::file("a/.wh...", b"")]], "whiteout"),
    ]
}

#[test]
fn hostile_layers_are_refused_and_touch_nothing_outside() {
    let passwd_before = fs::read("/etc/passwd").ok();
    for (name, layers, problem) in cases() {
        let (dir, store, _clock) = new_store(ImageLimits::default());
        let layers: Vec<Vec<u8>> = layers.iter().map(|entries| raw_tar(entries)).collect();
        for compressed in [false, true] {
            let archive = write_file(dir.path(), "hostile.tar", &oci_image(&layers, compressed));
            let err = store.import(&archive).unwrap_err();
            assert!(
                matches!(&err, ImageError::UnsafePath { problem: p, .. } if p.contains(problem)),
                "{name}: expected a refusal mentioning {problem:?}, got: {err}"
            );
            assert!(err.to_string().contains("layer sha256:"), "{name}: the error names the layer: {err}");
            assert_empty(&dir.path().join("images"), &store);
        }
        // Nothing appeared beside or above the store.
        assert_eq!(names_in(dir.path()), vec!["hostile.tar".to_owned(), "images".to_owned()], "{name}");
        assert!(!std::path::Path::new("/evil").exists() && !std::path::Path::new("/tmp/evil").exists(), "{name}");
    }
    assert_eq!(fs::read("/etc/passwd").ok(), passwd_before);
}

#[test]
fn symlinks_are_kept_inert_and_devices_skipped() {
    let (dir, store, _clock) = new_store(ImageLimits::default());
    let layer = raw_tar(&[
        Raw::symlink("etc-link", "/etc"),
        Raw::symlink("up", "../../.."),
        Raw::dir("dev/"),
        Raw::char_device("dev/null"),
        Raw::file("data", b"content"),
        Raw::hardlink("data-again", "data"),
        // An old-style directory: a regular-file entry whose name ends in a slash.
        Raw::file("olddir/", b""),
        Raw::file("olddir/f", b"f"),
    ]);
    let archive = write_file(dir.path(), "links.tar", &oci_image(&[layer], false));
    let info = store.import(&archive).unwrap();
    let root = store.rootfs(&info.digest).unwrap();
    assert_eq!(tree(&root), ["data", "data-again", "dev", "etc-link", "olddir", "olddir/f", "up"]);
    assert_eq!(fs::read_link(root.join("etc-link")).unwrap(), std::path::Path::new("/etc"));
    assert_eq!(fs::read_link(root.join("up")).unwrap(), std::path::Path::new("../../.."));
    assert_eq!(fs::read(root.join("data-again")).unwrap(), b"content");
}

#[test]
fn hostile_outer_archive_paths_are_refused() {
    let (dir, store, _clock) = new_store(ImageLimits::default());
    for name in ["../evil", "/abs/evil", "blobs/../../evil"] {
        let archive = write_file(dir.path(), "outer.tar", &raw_tar(&[Raw::file(name, b"x")]));
        let err = store.import(&archive).unwrap_err();
        assert!(matches!(err, ImageError::UnsafePath { .. }), "{name}: {err}");
        assert_empty(&dir.path().join("images"), &store);
    }
    assert_eq!(names_in(dir.path()), vec!["images".to_owned(), "outer.tar".to_owned()]);
}
