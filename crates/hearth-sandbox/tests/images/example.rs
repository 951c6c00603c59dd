//! The example operations: reproducible builds, reproducible digests, and that the
//! programs run in their images' roots with nothing else present.

use std::fs;
use std::io::Read;
use std::path::Path;
use std::process::Command;

use hearth_sandbox::images::example::build_example_image;
use hearth_sandbox::images::{ImageError, ImageLimits};

use crate::support::*;

#[test]
fn building_twice_gives_byte_identical_archives() {
    let dir = tempfile::tempdir().unwrap();
    let first = build_example_image(&example_source("wordcount"), &dir.path().join("one")).unwrap();
    let second = build_example_image(&example_source("wordcount"), &dir.path().join("two")).unwrap();
    assert_eq!(first.file_name().unwrap(), "wordcount.oci.tar");
    let bytes = fs::read(&first).unwrap();
    assert!(bytes == fs::read(&second).unwrap(), "two builds differ");
    assert!(bytes == fs::read(example_tar("wordcount")).unwrap(), "a build in another directory differs");
    assert_eq!(names_in(&dir.path().join("one")), vec!["wordcount.oci.tar".to_owned()], "no build leftovers");

    // Every header, outer and layer, is fixed and the entries are sorted.
    let check = |tar_bytes: &[u8]| {
        let mut archive = tar::Archive::new(tar_bytes);
        let mut paths = Vec::new();
        for entry in archive.entries().unwrap() {
            let entry = entry.unwrap();
            let header = entry.header();
            assert_eq!((header.mtime().unwrap(), header.uid().unwrap(), header.gid().unwrap()), (0, 0, 0));
            assert_eq!(header.username_bytes(), Some(&b""[..]));
            paths.push(entry.path().unwrap().to_string_lossy().into_owned());
        }
        let mut sorted = paths.clone();
        sorted.sort();
        assert_eq!(paths, sorted);
        paths
    };
    let outer = check(&bytes);
    assert!(outer.starts_with(&["blobs/".to_owned(), "blobs/sha256/".to_owned()]), "{outer:?}");
    assert!(outer.ends_with(&["index.json".to_owned(), "manifest.json".to_owned(), "oci-layout".to_owned()]));
    let files = read_tar(&bytes);
    let (_, layers) = config_and_layers(&files);
    assert_eq!(check(&files[&format!("blobs/sha256/{}", layers[0])]), ["bin/", "bin/op", "input/", "output/", "tmp/"]);
}

#[test]
fn importing_two_builds_gives_the_same_digest() {
    let dir = tempfile::tempdir().unwrap();
    let rebuilt = build_example_image(&example_source("wordcount"), dir.path()).unwrap();
    let (_a, store_a, _) = new_store(ImageLimits::default());
    let (_b, store_b, _) = new_store(ImageLimits::default());
    let a = store_a.import(&example_tar("wordcount")).unwrap();
    let b = store_b.import(&rebuilt).unwrap();
    assert_eq!(a.digest, b.digest);
    assert_eq!(store_b.import(&rebuilt).unwrap().digest, a.digest);
}

#[test]
fn example_programs_are_static_and_compute_their_results() {
    let (dir, store, _clock) = new_store(ImageLimits::default());
    let cases = [
        // a.txt: 9 words, 3 lines (the last unterminated), 42 bytes; b.txt: 4, 1, 17.
        ("wordcount", r#"{"words": 13, "lines": 4, "bytes": 59}"#),
        // Case-insensitive, Unicode too ("café É" holds two); the repeated "the" is reported once.
        ("keywords", r#"{"counts": {"the": 3, "Cat": 1, "é": 2, "absent": 0}}"#),
    ];
    for (name, expected) in cases {
        let info = store.import(&example_tar(name)).unwrap();
        let root = store.rootfs(&info.digest).unwrap();
        let mut program = Vec::new();
        fs::File::open(root.join("bin/op")).unwrap().read_to_end(&mut program).unwrap();
        assert!(is_static(&program), "{name}: /bin/op asks for a dynamic loader");

        if !running_as_root() {
            // chroot needs root; the static check above is what a non-root run can show.
            eprintln!("{name}: not root, so the program is not run in its root");
            continue;
        }
        // A writable copy of the read-only root, with job inputs, entered with chroot:
        // nothing but the image's files is there.
        let job = dir.path().join(format!("job-{name}"));
        copy_tree(&root, &job);
        fs::write(job.join("input/a.txt"), "Hello world\nthe Cat and the hat\nno newline").unwrap();
        fs::write(job.join("input/b.txt"), "THE end, café É").unwrap();
        fs::write(job.join("input/params.json"), r#"{"keywords": ["the", "Cat", "\u00e9", "absent", "the"]}"#).unwrap();
        let output = Command::new("chroot").arg(&job).arg("/bin/op").output().unwrap();
        assert!(output.status.success(), "{name}: {}", String::from_utf8_lossy(&output.stderr));
        let result = fs::read_to_string(job.join("output/result.json")).unwrap();
        assert_eq!(result.trim_end(), expected, "{name}");
    }
}

#[test]
fn a_program_that_does_not_compile_is_a_build_error() {
    let dir = tempfile::tempdir().unwrap();
    let source = write_file(dir.path(), "broken.rs", b"fn main() { this is not rust }");
    let err = build_example_image(&source, &dir.path().join("out")).unwrap_err();
    assert!(matches!(&err, ImageError::Build { problem } if problem.contains("rustc failed")), "{err}");
    assert_eq!(names_in(&dir.path().join("out")), Vec::<String>::new());
}

fn running_as_root() -> bool {
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    status.lines().find_map(|line| line.strip_prefix("Uid:")).and_then(|ids| ids.split_whitespace().nth(1)) == Some("0")
}

/// Whether an ELF64 has no `PT_INTERP` program header.
fn is_static(elf: &[u8]) -> bool {
    assert_eq!(&elf[..4], b"\x7fELF");
    let phoff = u64::from_le_bytes(elf[0x20..0x28].try_into().unwrap()) as usize;
    let phentsize = u16::from_le_bytes(elf[0x36..0x38].try_into().unwrap()) as usize;
    let phnum = u16::from_le_bytes(elf[0x38..0x3a].try_into().unwrap()) as usize;
    (0..phnum).all(|i| {
        let at = phoff + i * phentsize;
        u32::from_le_bytes(elf[at..at + 4].try_into().unwrap()) != 3
    })
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &dest);
        } else {
            fs::copy(entry.path(), &dest).unwrap();
        }
    }
}
