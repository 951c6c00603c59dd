//! Archives written by another implementation (skopeo; `testdata/generate.sh` remakes
//! them): each imports to the digest and root in `testdata/expected.json`.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use hearth_sandbox::images::{ImageLimits, format_digest};
use serde_json::Value;

use crate::support::*;

#[test]
fn skopeo_archives_import_to_their_expected_digests_and_roots() {
    let testdata = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/images/testdata");
    let expected: Value = serde_json::from_slice(&fs::read(testdata.join("expected.json")).unwrap()).unwrap();
    let strings =
        |v: &Value| -> Vec<String> { v.as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_owned()).collect() };
    for archive in ["skopeo-docker-archive.tar", "skopeo-oci-gzip.tar"] {
        let (_dir, store, _clock) = new_store(ImageLimits::default());
        let info = store.import(&testdata.join(archive)).unwrap();
        assert_eq!(format_digest(&info.digest), expected[archive]["digest"].as_str().unwrap(), "{archive}");
        assert_eq!(info.repo_tags, strings(&expected[archive]["repo_tags"]), "{archive}");
        assert_eq!(info.entrypoint, strings(&expected["entrypoint"]), "{archive}");
        assert_eq!(info.cmd, strings(&expected["cmd"]), "{archive}");
        assert_eq!(info.working_dir.as_deref(), expected["working_dir"].as_str(), "{archive}");
        assert_eq!(info.layers.len(), 2, "{archive}");

        let root = store.rootfs(&info.digest).unwrap();
        assert_eq!(tree(&root), strings(&expected["tree"]), "{archive}");
        assert_eq!(fs::read_to_string(root.join("etc/hello.txt")).unwrap(), "hello again\n", "{archive}");
        assert_eq!(fs::read_link(root.join("bin/tool-link")).unwrap(), Path::new("tool"), "{archive}");
        let tool = fs::metadata(root.join("bin/tool")).unwrap();
        assert_eq!(tool.permissions().mode() & 0o7777, 0o555, "{archive}: setuid stripped, write removed");
        assert_eq!(tool.ino(), fs::metadata(root.join("bin/tool-hard")).unwrap().ino(), "{archive}: hard link kept");
    }
}
