//! The collective end to end through the `hearth` binary on the embedded chain: three
//! members approve `wordcount` by vote through the timelock, each contributes a file
//! encrypted on its side to the node (`hearth contribute`), and a requester's job under
//! the collective's approval returns one aggregate over every contribution.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::path::Path;
use std::time::Duration;

use common::{as_member, field, member_ok, number, ok, serve, wait_past};
use hearth_chain::Wallet;

const MEMBER_KEYS: [&str; 3] = [
    "0x5555555555555555555555555555555555555555555555555555555555555555",
    "0x6666666666666666666666666666666666666666666666666666666666666666",
    "0x7777777777777777777777777777777777777777777777777777777777777777",
];
/// What each member contributes: 3, 4 and 5 words.
const TEXTS: [&str; 3] = ["one two three\n", "four five six seven\n", "eight nine ten eleven twelve\n"];

#[test]
fn three_members_approve_code_contribute_and_get_an_aggregate() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let node = field(&ok(&data, &["init"]), "server address").to_owned();
    let mut init = vec!["collective".to_owned(), "init".into()];
    for key in MEMBER_KEYS {
        init.extend(["--member".to_owned(), format!("{}=100", Wallet::from_hex(key).unwrap().address())]);
    }
    init.extend(
        ["--voting-delay-secs", "1", "--voting-period-secs", "4", "--timelock-delay-secs", "2"].map(String::from),
    );
    ok(&data, &init.iter().map(String::as_str).collect::<Vec<_>>());
    for key in MEMBER_KEYS {
        member_ok(&data, key, &["collective", "delegate"]);
    }
    std::thread::sleep(Duration::from_secs(1));

    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/operations/wordcount.rs");
    let archive = hearth_sandbox::images::example::build_example_image(&source, dir.path()).unwrap();
    let proposed = member_ok(
        &data,
        MEMBER_KEYS[0],
        &["code", "propose", archive.to_str().unwrap(), "--description", "Count words"],
    );
    let digest = field(&proposed, "digest").to_owned();
    let id = field(&proposed, "proposal").to_owned();
    wait_past(number(&proposed, "snapshot"));
    for key in MEMBER_KEYS {
        member_ok(&data, key, &["code", "vote", &id, "for"]);
    }
    wait_past(number(&proposed, "deadline"));
    let queued = member_ok(&data, MEMBER_KEYS[1], &["code", "queue", &id]);
    wait_past(number(&queued, "eta") - 1);
    member_ok(&data, MEMBER_KEYS[2], &["code", "execute", &id]);

    let (_server, url) = serve(&data);
    for (i, (key, text)) in MEMBER_KEYS.iter().zip(TEXTS).enumerate() {
        let file = dir.path().join(format!("notes-{i}.txt"));
        std::fs::write(&file, text).unwrap();
        let said =
            member_ok(&data, key, &["contribute", "--server", &url, "--collective", &node, file.to_str().unwrap()]);
        assert!(said.contains("contributed"), "{said}");
    }
    let elsewhere = dir.path().join("elsewhere.txt");
    std::fs::write(&elsewhere, "for another node").unwrap();
    let other_node = "0x00000000000000000000000000000000000000aa";
    let refused = as_member(&data, MEMBER_KEYS[0], &["contribute", "--server", &url, "--collective", other_node]);
    assert_eq!(refused.status.code(), Some(2), "FILE is required");
    let refused = as_member(
        &data,
        MEMBER_KEYS[0],
        &["contribute", "--server", &url, "--collective", other_node, elsewhere.to_str().unwrap()],
    );
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("not the collective's node"));

    let missing = dir.path().join("missing.txt");
    let refused = as_member(&data, MEMBER_KEYS[0], &["contribute", "--server", &url, missing.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("missing.txt"), "names the file");
    let keyless = common::hearth(&data, &["contribute", "--server", &url, elsewhere.to_str().unwrap()]);
    assert_eq!(keyless.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&keyless.stderr).contains("HEARTH_MEMBER_KEY"));

    let app_dir = dir.path().join("requester");
    let app_dir = app_dir.to_str().unwrap();
    ok(&data, &["app", "register", "--server", &url, "--app-dir", app_dir, "--name", "requester"]);
    let zero = format!("0x{}", "0".repeat(64));
    let run = ["app", "run", "--server", &url, "--app-dir", app_dir, "--grant", &zero, "--operation", &digest];
    let result = ok(&data, &[&run[..], &["--scope", "contributions"]].concat());
    let words: usize = TEXTS.iter().map(|t| t.split_whitespace().count()).sum();
    assert!(result.contains(&format!("\"words\": {words}")), "an aggregate over all three: {result}");
    assert!(result.contains("\"lines\": 3"), "only the three accepted contributions: {result}");
}
