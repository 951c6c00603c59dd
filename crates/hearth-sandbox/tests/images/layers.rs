//! Layer semantics (whiteouts across layers, replacement) and the import limits.

use std::fs;

use hearth_sandbox::images::{ImageError, ImageLimits};

use crate::support::*;
use crate::tamper::assert_empty;

#[test]
fn whiteouts_apply_across_layers() {
    let lower = raw_tar(&[
        Raw::dir("a/"),
        Raw::file("a/x", b"x"),
        Raw::file("a/y", b"y"),
        Raw::dir("b/"),
        Raw::file("b/old", b"old"),
        Raw::dir("b/sub/"),
        Raw::file("b/sub/deep", b"deep"),
        Raw::dir("c/"),
        Raw::file("c/keep", b"keep"),
        Raw::dir("d/"),
        Raw::file("d/old", b"old"),
        Raw::file("e", b"a file"),
        Raw::file("f", b"replaced"),
    ]);
    let upper = raw_tar(&[
        // Plain whiteouts: a file, a whole directory.
        Raw::file("a/.wh.x", b""),
        Raw::file(".wh.c", b""),
        // Opaque directory, written before its new entries.
        Raw::file("b/.wh..wh..opq", b""),
        Raw::file("b/new", b"new"),
        // Opaque directory written after an entry of the same layer: that entry stays.
        Raw::dir("d/"),
        Raw::dir("d/sub/"),
        Raw::file("d/sub/mine", b"mine"),
        Raw::file("d/.wh..wh..opq", b""),
        // A whiteout of something this same layer adds hides nothing.
        Raw::file("g", b"g"),
        Raw::file(".wh.g", b""),
        // A whiteout of something that never existed is harmless.
        Raw::file(".wh.nothing", b""),
        // A file replacing a file, a directory replacing a file.
        Raw::file("f", b"new f"),
        Raw::dir("e/"),
        Raw::file("e/inside", b"now a directory"),
    ]);
    for compressed in [false, true] {
        let (dir, store, _clock) = new_store(ImageLimits::default());
        let archive = write_file(dir.path(), "layers.tar", &oci_image(&[lower.clone(), upper.clone()], compressed));
        let info = store.import(&archive).unwrap();
        assert_eq!(info.layers.len(), 2);
        let root = store.rootfs(&info.digest).unwrap();
        assert_eq!(
            tree(&root),
            ["a", "a/y", "b", "b/new", "d", "d/sub", "d/sub/mine", "e", "e/inside", "f", "g"],
            "compressed: {compressed}"
        );
        assert_eq!(fs::read(root.join("f")).unwrap(), b"new f");
    }
}

#[test]
fn limits_are_enforced_and_leave_nothing() {
    let small = ImageLimits {
        archive_bytes_max: 64 * 1024,
        layer_count_max: 2,
        file_count_max: 8,
        // Room for the outer archive's `blobs/sha256/<64 hex>` names.
        path_bytes_max: 90,
        unpacked_bytes_max: 4096,
    };
    let many_files: Vec<Raw> = (0..9).map(|i| Raw::file(&format!("f{i}"), b"x")).collect();
    let long_name = format!("{}/file", "d".repeat(86));
    let long_link_target = "t".repeat(91);
    let huge_pax = Raw { kind: tar::EntryType::XHeader, data: vec![b'9'; 100_000], ..Raw::file("pax", b"") };
    let cases: Vec<(&str, Vec<Vec<u8>>, bool, &str)> = vec![
        ("too many layers", vec![raw_tar(&[Raw::file("a", b"a")]); 3], false, "layer_count_max"),
        ("too many files", vec![raw_tar(&many_files)], false, "file_count_max"),
        (
            "too many files across layers",
            vec![raw_tar(&many_files[..5]), raw_tar(&many_files[4..])],
            false,
            "file_count_max",
        ),
        ("too long a path", vec![raw_tar(&[Raw::file(&long_name, b"x")])], false, "path_bytes_max"),
        ("too long a link", vec![raw_tar(&[Raw::symlink("l", &long_link_target)])], false, "path_bytes_max"),
        ("too many bytes", vec![raw_tar(&[Raw::file("big", &[7u8; 5000])])], false, "unpacked_bytes_max"),
        (
            "too many bytes across layers",
            vec![raw_tar(&[Raw::file("a", &[1u8; 3000])]), raw_tar(&[Raw::file("b", &[2u8; 3000])])],
            false,
            "unpacked_bytes_max",
        ),
        // A gzip bomb: a tiny blob that inflates to far more than allowed.
        ("gzip bomb", vec![raw_tar(&[Raw::file("bomb", &vec![0u8; 50_000])])], true, "unpacked_bytes_max"),
        // A PAX header the tar reader would buffer whole.
        ("huge PAX header", vec![raw_tar(&[huge_pax, Raw::file("a", b"a")])], true, "unpacked_bytes_max"),
        ("too large an archive", vec![raw_tar(&[Raw::file("a", &[9u8; 3000])])], false, "archive_bytes_max"),
    ];
    for (name, layers, compressed, limit) in cases {
        let (dir, store, _clock) = new_store(small);
        let mut bytes = oci_image(&layers, compressed);
        if limit == "archive_bytes_max" {
            // Pad the archive itself past the limit (zero blocks after the end marker).
            bytes.resize(small.archive_bytes_max as usize + 1024, 0);
        }
        let archive = write_file(dir.path(), "limits.tar", &bytes);
        let err = store.import(&archive).unwrap_err();
        assert!(matches!(&err, ImageError::LimitExceeded { limit: l, .. } if *l == limit), "{name}: {err}");
        assert!(err.to_string().contains(limit), "{name}: {err}");
        assert_empty(&dir.path().join("images"), &store);
    }

    // A gzipped archive is held to the limit as it inflates.
    let (dir, store, _clock) = new_store(small);
    let mut files = read_tar(&oci_image(&[raw_tar(&[Raw::file("a", b"a")])], false));
    files.insert("junk".to_owned(), vec![0u8; 10 * small.archive_bytes_max as usize]);
    let bomb = gzip(&files_tar(&files));
    assert!(bomb.len() < small.archive_bytes_max as usize);
    let err = store.import(&write_file(dir.path(), "bomb.tar.gz", &bomb)).unwrap_err();
    assert!(matches!(err, ImageError::LimitExceeded { limit: "archive_bytes_max", .. }), "{err}");
    assert_empty(&dir.path().join("images"), &store);

    // Right at the limits, an image imports.
    let (dir, store, _clock) = new_store(small);
    let fits = vec![raw_tar(&many_files[..4]), raw_tar(&[Raw::file("big", &[7u8; 4000]), Raw::file("b", b"b")])];
    let archive = write_file(dir.path(), "fits.tar", &oci_image(&fits, false));
    let info = store.import(&archive).unwrap();
    assert_eq!(tree(&store.rootfs(&info.digest).unwrap()).len(), 6);
}
