//! Interop with the reference `age` command-line tool: files go both ways, identities load.
//!
//! Needs `age` and `age-keygen` on PATH (Debian: `apt-get install -y age`). Without
//! them these tests fail rather than skip, so CI cannot pass while checking nothing.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use hearth_crypto::age::x25519::Identity;
use hearth_crypto::{CHUNK_BYTES, ExposeSecret, decrypt, encrypt, identity_to_string, owner_identity_from_signature};

/// Plaintext sizes around age's chunk boundaries.
const SIZES: [usize; 6] = [0, 1, CHUNK_BYTES, CHUNK_BYTES + 1, 2 * CHUNK_BYTES, 1024 * 1024 + 3];

/// Finds a program on PATH, failing the test with the install line when it is absent.
fn tool(name: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0))
        .unwrap_or_else(|| panic!("`{name}` is not on PATH; these interop tests need it: run `apt-get install -y age`"))
}

/// Runs a command and returns its stdout, failing the test with its stderr on error.
fn run(command: &mut Command) -> Vec<u8> {
    let output = command.output().expect("start the age tool");
    assert!(
        output.status.success(),
        "{command:?} failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

fn data(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i.wrapping_mul(7) ^ (i >> 9)) as u8).collect()
}

/// Writes an age identity file (mode 0600) holding `identity`.
fn identity_file(dir: &Path, name: &str, identity: &Identity) -> PathBuf {
    let path = dir.join(name);
    let line = identity_to_string(identity);
    fs::write(&path, format!("{}\n", line.expose_secret())).expect("write identity file");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).expect("chmod");
    path
}

#[test]
fn age_decrypts_what_hearth_encrypts() {
    let age = tool("age");
    let dir = tempfile::tempdir().expect("tempdir");
    let identity = Identity::generate();
    let id_path = identity_file(dir.path(), "identity.txt", &identity);
    let other = Identity::generate();

    for len in SIZES {
        let plaintext = data(len);
        let mut ciphertext = Vec::new();
        encrypt(&[other.to_public(), identity.to_public()], &plaintext[..], &mut ciphertext).expect("encrypt");
        let file = dir.path().join(format!("hearth-{len}.age"));
        fs::write(&file, &ciphertext).expect("write");

        let out = run(Command::new(&age).arg("-d").arg("-i").arg(&id_path).arg(&file));
        assert_eq!(out, plaintext, "age -d of a {len}-byte file");
    }
}

#[test]
fn hearth_decrypts_what_age_encrypts() {
    let age = tool("age");
    let dir = tempfile::tempdir().expect("tempdir");
    let identity = Identity::generate();
    let recipient = identity.to_public().to_string();

    for len in SIZES {
        let plaintext = data(len);
        let input = dir.path().join(format!("plain-{len}"));
        let output = dir.path().join(format!("age-{len}.age"));
        fs::write(&input, &plaintext).expect("write");
        run(Command::new(&age).arg("-r").arg(&recipient).arg("-o").arg(&output).arg(&input));

        let mut decrypted = Vec::new();
        let n = decrypt(&identity, fs::File::open(&output).expect("open"), &mut decrypted).expect("decrypt");
        assert_eq!(n, len as u64);
        assert_eq!(decrypted, plaintext, "decrypt of a {len}-byte file from age -r");
    }
}

#[test]
fn the_owner_identity_string_is_an_age_identity_file() {
    let age = tool("age");
    let keygen = tool("age-keygen");
    let dir = tempfile::tempdir().expect("tempdir");

    let mut signature = [0x5au8; 65];
    signature[64] = 28;
    let owner = owner_identity_from_signature(&signature).expect("derive");
    let id_path = identity_file(dir.path(), "owner.txt", &owner);

    // age-keygen reads it and derives the same recipient.
    let recipient = run(Command::new(&keygen).arg("-y").arg(&id_path));
    assert_eq!(String::from_utf8(recipient).expect("UTF-8").trim(), owner.to_public().to_string());

    // age encrypts to that recipient and decrypts with the identity file.
    let input = dir.path().join("plain");
    let sealed = dir.path().join("sealed.age");
    fs::write(&input, b"the owner's journal").expect("write");
    run(Command::new(&age).arg("-r").arg(owner.to_public().to_string()).arg("-o").arg(&sealed).arg(&input));
    let out = run(Command::new(&age).arg("-d").arg("-i").arg(&id_path).arg(&sealed));
    assert_eq!(out, b"the owner's journal");

    // And what hearth encrypts to the owner, age opens with it.
    let mut ciphertext = Vec::new();
    encrypt(&[owner.to_public()], &b"from hearth"[..], &mut ciphertext).expect("encrypt");
    let from_hearth = dir.path().join("from-hearth.age");
    fs::write(&from_hearth, &ciphertext).expect("write");
    assert_eq!(run(Command::new(&age).arg("-d").arg("-i").arg(&id_path).arg(&from_hearth)), b"from hearth");
}

#[test]
fn age_refuses_a_file_hearth_encrypted_to_someone_else() {
    let age = tool("age");
    let dir = tempfile::tempdir().expect("tempdir");
    let id_path = identity_file(dir.path(), "identity.txt", &Identity::generate());
    let mut ciphertext = Vec::new();
    encrypt(&[Identity::generate().to_public()], &b"not yours"[..], &mut ciphertext).expect("encrypt");
    let file = dir.path().join("other.age");
    fs::write(&file, &ciphertext).expect("write");
    let output = Command::new(&age).arg("-d").arg("-i").arg(&id_path).arg(&file).output().expect("start age");
    assert!(!output.status.success(), "age decrypted a file not encrypted to its identity");
}
