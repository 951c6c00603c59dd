//! The owner's identity from a wallet signature, and Ethereum V3 keystores.

use std::fs;
use std::os::unix::fs::PermissionsExt;

use alloy_primitives::{Signature, U256, hex};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use hearth_crypto::age::x25519::Identity;
use hearth_crypto::{
    CryptoError, ExposeSecret, OWNER_KEY_MESSAGE, SecretString, create_keystore, decrypt, encrypt, identity_to_string,
    owner_identity_from_signature, read_keystore,
};

/// The order of secp256k1's group.
const SECP256K1_ORDER: [u8; 32] = hex!("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141");

fn identity_string(signature: &[u8]) -> String {
    let identity = owner_identity_from_signature(signature).expect("derive");
    identity_to_string(&identity).expose_secret().to_owned()
}

#[test]
fn the_message_names_hearth_and_the_data_key() {
    assert!(OWNER_KEY_MESSAGE.contains("hearth"));
    assert!(OWNER_KEY_MESSAGE.contains("derives the key"));
}

#[test]
fn derivation_matches_the_frozen_vector() {
    // HKDF-SHA256(salt "hearth owner age identity v1", info "age X25519 secret key") of
    // r = 0x11.., s = 0x22.., v = 27, Bech32-encoded; computed outside this crate.
    let mut signature = [0x11u8; 65];
    signature[32..64].fill(0x22);
    signature[64] = 27;
    assert_eq!(
        identity_string(&signature),
        "AGE-SECRET-KEY-16TEK34HTK93T4N8QC0A8JHZ0DDLFNADTE3JM4PZFQKUHNDZZSS5QT7PZJE"
    );
}

#[test]
fn a_wallet_signature_derives_the_same_identity_every_time() {
    let wallet = PrivateKeySigner::random();
    let first = wallet.sign_message_sync(OWNER_KEY_MESSAGE.as_bytes()).expect("sign").as_bytes();
    let second = wallet.sign_message_sync(OWNER_KEY_MESSAGE.as_bytes()).expect("sign").as_bytes();
    assert_eq!(identity_string(&first), identity_string(&second));
    assert!(identity_string(&first).starts_with("AGE-SECRET-KEY-1"));

    // The identity decrypts what was encrypted to its recipient.
    let identity = owner_identity_from_signature(&first).expect("derive");
    let mut ciphertext = Vec::new();
    encrypt(&[identity.to_public()], &b"owner data"[..], &mut ciphertext).expect("encrypt");
    let again = owner_identity_from_signature(&second).expect("derive");
    let mut plaintext = Vec::new();
    decrypt(&again, &ciphertext[..], &mut plaintext).expect("decrypt");
    assert_eq!(plaintext, b"owner data");

    // The string form parses back to the same key.
    let parsed: Identity = identity_string(&first).parse().expect("parse");
    assert_eq!(parsed.to_public(), identity.to_public());
}

#[test]
fn different_signatures_derive_different_identities() {
    let message = OWNER_KEY_MESSAGE.as_bytes();
    let a = PrivateKeySigner::random().sign_message_sync(message).expect("sign").as_bytes();
    let b = PrivateKeySigner::random().sign_message_sync(message).expect("sign").as_bytes();
    assert_ne!(identity_string(&a), identity_string(&b));

    let mut r_changed = a;
    r_changed[0] ^= 1;
    assert_ne!(identity_string(&a), identity_string(&r_changed));
}

#[test]
fn equivalent_encodings_of_one_signature_derive_one_identity() {
    let signature = PrivateKeySigner::random().sign_message_sync(OWNER_KEY_MESSAGE.as_bytes()).expect("sign");
    let canonical = signature.as_bytes();

    // v written as 0/1 instead of 27/28.
    let mut v_raw = canonical;
    v_raw[64] -= 27;
    assert_eq!(identity_string(&canonical), identity_string(&v_raw));

    // The malleable twin: s' = n - s with the other parity.
    let high_s = Signature::new(signature.r(), U256::from_be_bytes(SECP256K1_ORDER) - signature.s(), !signature.v());
    assert_ne!(high_s.as_bytes(), canonical);
    assert_eq!(identity_string(&canonical), identity_string(&high_s.as_bytes()));
}

#[test]
fn only_65_byte_signatures_with_a_valid_v_are_accepted() {
    for len in [0, 1, 64, 66, 130] {
        let err = owner_identity_from_signature(&vec![7u8; len]).err().expect("refused");
        assert!(matches!(err, CryptoError::InvalidSignature { .. }), "{len}: {err:?}");
    }
    let mut bad_v = [7u8; 65];
    bad_v[64] = 29;
    assert!(matches!(owner_identity_from_signature(&bad_v), Err(CryptoError::InvalidSignature { .. })));
}

fn passphrase(s: &str) -> SecretString {
    SecretString::from(s.to_owned())
}

#[test]
fn keystore_round_trips_as_a_standard_v3_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("owner.json");
    let address = create_keystore(&path, &passphrase("wallet pass")).expect("create");

    assert_eq!(fs::metadata(&path).expect("meta").permissions().mode() & 0o777, 0o600);
    let json: serde_json::Value = serde_json::from_slice(&fs::read(&path).expect("read")).expect("JSON");
    assert_eq!(json["version"], 3);
    assert_eq!(json["crypto"]["kdf"], "scrypt");
    assert_eq!(json["crypto"]["cipher"], "aes-128-ctr");
    assert_eq!(json["address"], hex::encode(address));

    let secret = read_keystore(&path, &passphrase("wallet pass")).expect("read");
    assert_eq!(PrivateKeySigner::from_slice(&secret[..]).expect("key").address(), address);

    // The staging directory is gone.
    let names: Vec<_> = fs::read_dir(dir.path()).expect("list").map(|e| e.expect("entry").file_name()).collect();
    assert_eq!(names, ["owner.json"]);
}

#[test]
fn keystore_refuses_a_wrong_passphrase() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("owner.json");
    create_keystore(&path, &passphrase("right")).expect("create");
    let err = read_keystore(&path, &passphrase("wrong")).unwrap_err();
    assert!(matches!(&err, CryptoError::WrongPassphrase { path: p } if p == &path), "{err:?}");
}

#[test]
fn keystore_is_never_overwritten() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("owner.json");
    create_keystore(&path, &passphrase("first")).expect("create");
    let before = fs::read(&path).expect("read");
    let err = create_keystore(&path, &passphrase("second")).unwrap_err();
    assert!(matches!(err, CryptoError::KeyFileExists { .. }), "{err:?}");
    assert_eq!(fs::read(&path).expect("read"), before);
}

#[test]
fn keystore_file_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("missing.json");
    assert!(matches!(read_keystore(&missing, &passphrase("p")), Err(CryptoError::KeyFileMissing { .. })));

    let path = dir.path().join("owner.json");
    create_keystore(&path, &passphrase("p")).expect("create");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).expect("chmod");
    let err = read_keystore(&path, &passphrase("p")).unwrap_err();
    assert!(matches!(err, CryptoError::KeyFilePermissions { mode: 0o644, .. }), "{err:?}");

    let garbage = dir.path().join("garbage.json");
    fs::write(&garbage, b"{\"version\": 3}").expect("write");
    fs::set_permissions(&garbage, fs::Permissions::from_mode(0o600)).expect("chmod");
    let err = read_keystore(&garbage, &passphrase("p")).unwrap_err();
    assert!(matches!(err, CryptoError::KeystoreCorrupt { .. }), "{err:?}");
}

#[test]
fn keystore_reads_the_web3_secret_storage_vector() {
    // The PBKDF2 example of the Web3 Secret Storage Definition: no `address` field.
    let vector = r#"{
        "crypto": {
            "cipher": "aes-128-ctr",
            "cipherparams": { "iv": "6087dab2f9fdbbfaddc31a909735c1e6" },
            "ciphertext": "5318b4d5bcd28de64ee5559e671353e16f075ecae9f99c7a79a38af5f869aa46",
            "kdf": "pbkdf2",
            "kdfparams": {
                "c": 262144, "dklen": 32, "prf": "hmac-sha256",
                "salt": "ae3cd4e7013836a3df6bd7241b12db061dbe2c6785853cce422d148a624ce0bd"
            },
            "mac": "517ead924a9d0dc3124507e3393d175ce3ff7c1e96529c6c555ce9e51205e9b2"
        },
        "id": "3198bc9c-6672-5ab3-d995-4942343ae5b6",
        "version": 3
    }"#;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("vector.json");
    fs::write(&path, vector).expect("write");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).expect("chmod");
    let secret = read_keystore(&path, &passphrase("testpassword")).expect("read");
    assert_eq!(secret[..], hex!("7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d"));
}
