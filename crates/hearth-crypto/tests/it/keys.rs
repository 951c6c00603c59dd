//! The server key file: plain and sealed round trips, permissions, refusals, corruption.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use alloy_primitives::hex;
use alloy_signer_local::PrivateKeySigner;
use hearth_crypto::age::x25519::Identity;
use hearth_crypto::{
    CryptoError, ExposeSecret, SecretString, ServerKeys, decrypt, encrypt, key_file_is_sealed, read_key_file,
    write_key_file,
};

fn mode(path: &Path) -> u32 {
    fs::metadata(path).expect("metadata").permissions().mode() & 0o777
}

fn same_keys(a: &ServerKeys, b: &ServerKeys) -> bool {
    a.secp256k1_secret() == b.secp256k1_secret()
        && a.address() == b.address()
        && a.age_recipient() == b.age_recipient()
        && a.age_identity().to_string().expose_secret() == b.age_identity().to_string().expose_secret()
}

fn passphrase(s: &str) -> SecretString {
    SecretString::from(s.to_owned())
}

#[test]
fn plain_key_file_round_trips_with_mode_0600() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("server.key");
    let keys = ServerKeys::generate();
    write_key_file(&path, &keys, None).expect("write");

    assert_eq!(mode(&path), 0o600);
    assert!(!key_file_is_sealed(&path).expect("sealed?"));
    let read = read_key_file(&path, None).expect("read");
    assert!(same_keys(&keys, &read));
    // A passphrase given for a plain file is not needed and does no harm.
    assert!(same_keys(&keys, &read_key_file(&path, Some(&passphrase("unused"))).expect("read")));

    // Only the key file is left behind: no temporary files.
    let names: Vec<_> = fs::read_dir(dir.path()).expect("list").map(|e| e.expect("entry").file_name()).collect();
    assert_eq!(names, ["server.key"]);
}

#[test]
fn the_keys_are_usable() {
    let keys = ServerKeys::generate();
    let signer = PrivateKeySigner::from_slice(keys.secp256k1_secret()).expect("valid secp256k1 key");
    assert_eq!(signer.address(), keys.address());

    let mut ciphertext = Vec::new();
    encrypt(&[keys.age_recipient()], &b"to the server"[..], &mut ciphertext).expect("encrypt");
    let mut plaintext = Vec::new();
    decrypt(keys.age_identity(), &ciphertext[..], &mut plaintext).expect("decrypt");
    assert_eq!(plaintext, b"to the server");

    let other = ServerKeys::generate();
    assert_ne!(keys.secp256k1_secret(), other.secp256k1_secret());
    assert_ne!(keys.age_recipient(), other.age_recipient());
}

#[test]
fn sealed_key_file_round_trips_and_refuses_wrong_or_missing_passphrases() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("server.key");
    let keys = ServerKeys::generate();
    write_key_file(&path, &keys, Some(&passphrase("correct horse"))).expect("write");

    assert_eq!(mode(&path), 0o600);
    assert!(key_file_is_sealed(&path).expect("sealed?"));
    let contents = fs::read(&path).expect("raw");
    assert!(contents.starts_with(hearth_crypto::AGE_MAGIC), "a sealed key file is an age file");
    let secret_hex = hex::encode(keys.secp256k1_secret());
    assert!(!String::from_utf8_lossy(&contents).contains(&secret_hex));

    let read = read_key_file(&path, Some(&passphrase("correct horse"))).expect("read");
    assert!(same_keys(&keys, &read));

    let err = read_key_file(&path, Some(&passphrase("wrong horse"))).unwrap_err();
    assert!(matches!(&err, CryptoError::WrongPassphrase { path: p } if p == &path), "{err:?}");
    assert!(!err.to_string().contains("horse"));

    let err = read_key_file(&path, None).unwrap_err();
    assert!(matches!(&err, CryptoError::PassphraseRequired { path: p } if p == &path), "{err:?}");
}

#[test]
fn a_key_file_others_can_read_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("server.key");
    write_key_file(&path, &ServerKeys::generate(), None).expect("write");
    for bad in [0o644, 0o640, 0o604, 0o660, 0o602] {
        fs::set_permissions(&path, fs::Permissions::from_mode(bad)).expect("chmod");
        let err = read_key_file(&path, None).unwrap_err();
        assert!(matches!(err, CryptoError::KeyFilePermissions { mode, .. } if mode == bad), "{bad:o}: {err:?}");
        assert!(matches!(key_file_is_sealed(&path), Err(CryptoError::KeyFilePermissions { .. })));
    }
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).expect("chmod");
    let message = read_key_file(&path, None).unwrap_err().to_string();
    let shown = path.display().to_string();
    assert_eq!(message, format!("key file {shown} is readable by others (mode 644); run chmod 600 {shown}"));

    fs::set_permissions(&path, fs::Permissions::from_mode(0o400)).expect("chmod");
    read_key_file(&path, None).expect("owner read-only is fine");
}

#[test]
fn a_missing_key_file_is_missing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("nope.key");
    assert!(matches!(read_key_file(&path, None), Err(CryptoError::KeyFileMissing { path: p }) if p == path));
    assert!(matches!(key_file_is_sealed(&path), Err(CryptoError::KeyFileMissing { .. })));
}

#[test]
fn writing_twice_is_refused_and_keeps_the_first_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("server.key");
    write_key_file(&path, &ServerKeys::generate(), None).expect("first write");
    let before = fs::read(&path).expect("read");

    for pass in [None, Some(passphrase("p"))] {
        let err = write_key_file(&path, &ServerKeys::generate(), pass.as_ref()).unwrap_err();
        assert!(matches!(&err, CryptoError::KeyFileExists { path: p } if p == &path), "{err:?}");
    }
    assert_eq!(fs::read(&path).expect("read"), before);
    assert_eq!(mode(&path), 0o600);
}

#[test]
fn writing_over_a_dangling_link_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("server.key");
    std::os::unix::fs::symlink(dir.path().join("elsewhere"), &path).expect("symlink");
    let err = write_key_file(&path, &ServerKeys::generate(), None).unwrap_err();
    assert!(matches!(err, CryptoError::KeyFileExists { .. }), "{err:?}");
    assert!(!dir.path().join("elsewhere").exists());
}

#[test]
fn writing_into_a_missing_directory_is_a_file_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("no-such-dir").join("server.key");
    let err = write_key_file(&path, &ServerKeys::generate(), None).unwrap_err();
    assert!(matches!(err, CryptoError::FileIo { .. }), "{err:?}");
}

#[test]
fn debug_output_shows_no_secret() {
    let keys = ServerKeys::generate();
    let shown = format!("{keys:?} {keys:#?}");
    assert!(!shown.contains(&hex::encode(keys.secp256k1_secret())), "{shown}");
    let age_secret = keys.age_identity().to_string();
    assert!(!shown.to_uppercase().contains(&age_secret.expose_secret()[16..]), "{shown}");
    assert!(shown.contains(&format!("{:?}", keys.address())), "Debug shows the public address: {shown}");

    let secret = passphrase("hunter2-passphrase");
    assert!(!format!("{secret:?}").contains("hunter2"));
    assert!(!format!("{age_secret:?}").contains(&age_secret.expose_secret()[16..]));
}

/// Writes `contents` as a key file with mode 0600.
fn write_raw(dir: &Path, name: &str, contents: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    fs::write(&path, contents).expect("write");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).expect("chmod");
    path
}

#[test]
fn corrupt_key_files_are_corrupt_and_never_quoted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let age = Identity::generate().to_string();
    let age = age.expose_secret();
    let secp = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";
    let order = "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141";
    let zero = "0000000000000000000000000000000000000000000000000000000000000000";

    let good = format!("hearth-server-keys v1\nsecp256k1-secret {secp}\nage-identity {age}\n");
    read_key_file(&write_raw(dir.path(), "good", &good), None).expect("the template itself is valid");

    let cases = [
        ("empty", String::new()),
        ("no header", format!("secp256k1-secret {secp}\nage-identity {age}\n")),
        ("newer version", format!("hearth-server-keys v2\nsecp256k1-secret {secp}\nage-identity {age}\n")),
        ("short hex", format!("hearth-server-keys v1\nsecp256k1-secret {}\nage-identity {age}\n", &secp[2..])),
        ("zero scalar", format!("hearth-server-keys v1\nsecp256k1-secret {zero}\nage-identity {age}\n")),
        ("scalar = n", format!("hearth-server-keys v1\nsecp256k1-secret {order}\nage-identity {age}\n")),
        ("bad age", format!("hearth-server-keys v1\nsecp256k1-secret {secp}\nage-identity {}x\n", &age[..70])),
        ("no age", format!("hearth-server-keys v1\nsecp256k1-secret {secp}\n")),
        ("no secp", format!("hearth-server-keys v1\nage-identity {age}\n")),
        (
            "twice",
            format!("hearth-server-keys v1\nsecp256k1-secret {secp}\nsecp256k1-secret {secp}\nage-identity {age}\n"),
        ),
        (
            "unknown field",
            format!("hearth-server-keys v1\nsecp256k1-secret {secp}\nage-identity {age}\nextra {secp}\n"),
        ),
        ("binary", "\u{0}\u{1}\u{2}".to_owned()),
    ];
    for (name, contents) in cases {
        let path = write_raw(dir.path(), name, &contents);
        let err = read_key_file(&path, None).unwrap_err();
        assert!(matches!(err, CryptoError::KeyFileCorrupt { .. }), "{name}: {err:?}");
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains(&secp[4..30]) && !shown.contains(&age[20..40]), "{name} quoted a secret: {shown}");
    }

    let huge = write_raw(dir.path(), "huge", &"#".repeat(hearth_crypto::KEY_FILE_BYTES_MAX + 1));
    assert!(matches!(read_key_file(&huge, None), Err(CryptoError::KeyFileCorrupt { .. })));

    fs::create_dir(dir.path().join("a-directory")).expect("mkdir");
    fs::set_permissions(dir.path().join("a-directory"), fs::Permissions::from_mode(0o700)).expect("chmod");
    assert!(matches!(read_key_file(&dir.path().join("a-directory"), None), Err(CryptoError::KeyFileCorrupt { .. })));
}

#[test]
fn a_sealed_file_not_sealed_to_a_passphrase_is_corrupt() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut sealed = Vec::new();
    encrypt(&[Identity::generate().to_public()], &b"hearth-server-keys v1\n"[..], &mut sealed).expect("encrypt");
    let path = dir.path().join("server.key");
    fs::write(&path, &sealed).expect("write");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).expect("chmod");
    let err = read_key_file(&path, Some(&passphrase("p"))).unwrap_err();
    assert!(matches!(err, CryptoError::KeyFileCorrupt { .. }), "{err:?}");
}
