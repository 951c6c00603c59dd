//! age envelopes: round trips at chunk boundaries, every decrypt error, re-encryption.

use std::io::{self, Read, Write};

use hearth_crypto::age::x25519::{Identity, Recipient};
use hearth_crypto::{CHUNK_BYTES, CryptoError, ExposeSecret, decrypt, encrypt, parse_recipient, reencrypt};

/// Ciphertext bytes of a full STREAM chunk: plaintext plus the Poly1305 tag.
const ENCRYPTED_CHUNK_BYTES: usize = CHUNK_BYTES + 16;
/// The payload nonce that follows the header.
const NONCE_BYTES: usize = 16;

/// Deterministic, non-repeating-looking test data.
fn data(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i.wrapping_mul(31) ^ (i >> 8)) as u8).collect()
}

fn seal(recipients: &[Recipient], plaintext: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let n = encrypt(recipients, plaintext, &mut out).expect("encrypt");
    assert_eq!(n, plaintext.len() as u64);
    out
}

fn open(identity: &Identity, ciphertext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let mut out = Vec::new();
    let n = decrypt(identity, ciphertext, &mut out)?;
    assert_eq!(n, out.len() as u64);
    Ok(out)
}

/// Offset of the first payload byte: after the header's `---` line and the nonce.
fn payload_start(ciphertext: &[u8]) -> usize {
    let mac_line = ciphertext.windows(5).position(|w| w == b"\n--- ").expect("header MAC line") + 1;
    let end = mac_line + ciphertext[mac_line..].iter().position(|&b| b == b'\n').expect("end of MAC line");
    end + 1 + NONCE_BYTES
}

#[test]
fn round_trips_to_two_recipients_at_chunk_boundaries() {
    let (a, b) = (Identity::generate(), Identity::generate());
    let recipients = [a.to_public(), b.to_public()];
    for len in [0, 1, CHUNK_BYTES - 1, CHUNK_BYTES, CHUNK_BYTES + 1, 2 * CHUNK_BYTES, 3 * 1024 * 1024 + 17] {
        let plaintext = data(len);
        let ciphertext = seal(&recipients, &plaintext);
        assert!(ciphertext.starts_with(hearth_crypto::AGE_MAGIC));
        for identity in [&a, &b] {
            assert_eq!(open(identity, &ciphertext).expect("decrypt"), plaintext, "length {len}");
        }
    }
}

#[test]
fn every_encryption_uses_a_fresh_file_key() {
    let a = Identity::generate();
    let plaintext = data(100);
    let first = seal(&[a.to_public()], &plaintext);
    let second = seal(&[a.to_public()], &plaintext);
    assert_ne!(first, second);
    let (p1, p2) = (payload_start(&first), payload_start(&second));
    assert_ne!(first[p1..], second[p2..], "payloads under different file keys differ");
}

#[test]
fn encrypting_to_no_recipient_is_refused() {
    let err = encrypt(&[], &b"x"[..], Vec::new()).unwrap_err();
    assert!(matches!(err, CryptoError::NoRecipients), "{err:?}");
}

#[test]
fn wrong_identity_is_not_for_this_key() {
    let ciphertext = seal(&[Identity::generate().to_public()], b"secret");
    let err = open(&Identity::generate(), &ciphertext).unwrap_err();
    assert!(matches!(err, CryptoError::NotForThisKey), "{err:?}");
}

#[test]
fn truncated_files_are_truncated() {
    let a = Identity::generate();
    let ciphertext = seal(&[a.to_public()], &data(2 * CHUNK_BYTES + 100));
    let start = payload_start(&ciphertext);
    let cuts = [
        ("inside the header", 40),
        ("inside the nonce", start - 3),
        ("after the nonce, no chunk", start),
        ("at the first chunk boundary", start + ENCRYPTED_CHUNK_BYTES),
        ("at the second chunk boundary", start + 2 * ENCRYPTED_CHUNK_BYTES),
        ("mid first chunk", start + 1000),
        ("mid second chunk", start + ENCRYPTED_CHUNK_BYTES + 30_000),
        ("mid last chunk", ciphertext.len() - 20),
        ("one byte short", ciphertext.len() - 1),
    ];
    for (name, cut) in cuts {
        let err = open(&a, &ciphertext[..cut]).unwrap_err();
        assert!(matches!(err, CryptoError::Truncated), "{name}: {err:?}");
    }
}

#[test]
fn flipped_payload_byte_in_a_full_chunk_fails_integrity() {
    let a = Identity::generate();
    let ciphertext = seal(&[a.to_public()], &data(2 * CHUNK_BYTES + 100));
    let start = payload_start(&ciphertext);
    for offset in [0, 1234, ENCRYPTED_CHUNK_BYTES - 1, ENCRYPTED_CHUNK_BYTES + 5, 2 * ENCRYPTED_CHUNK_BYTES - 1] {
        let mut tampered = ciphertext.clone();
        tampered[start + offset] ^= 0x01;
        let err = open(&a, &tampered).unwrap_err();
        assert!(matches!(err, CryptoError::Integrity { .. }), "payload offset {offset}: {err:?}");
    }
}

#[test]
fn flipped_payload_byte_in_the_final_short_chunk_is_an_error() {
    // A short final chunk that fails cannot be told apart from one cut short: both are
    // reported as `Truncated`, whose message names both causes.
    let a = Identity::generate();
    for len in [1, 100, CHUNK_BYTES + 100] {
        let ciphertext = seal(&[a.to_public()], &data(len));
        for offset in [ciphertext.len() - 1, ciphertext.len() - 17, ciphertext.len() - 18] {
            let mut tampered = ciphertext.clone();
            tampered[offset] ^= 0x80;
            let err = open(&a, &tampered).unwrap_err();
            assert!(matches!(err, CryptoError::Truncated | CryptoError::Integrity { .. }), "{len}/{offset}: {err:?}");
        }
    }
}

#[test]
fn flipped_byte_anywhere_in_the_header_is_an_error() {
    let a = Identity::generate();
    let ciphertext = seal(&[a.to_public(), Identity::generate().to_public()], &data(300));
    let header_end = payload_start(&ciphertext);
    for offset in 0..header_end {
        let mut tampered = ciphertext.clone();
        tampered[offset] ^= 0x01;
        assert!(open(&a, &tampered).is_err(), "flipped header byte {offset} decrypted");
    }
}

#[test]
fn input_that_is_not_age_is_not_an_age_file() {
    let a = Identity::generate();
    let inputs: [&[u8]; 4] = [
        b"",
        b"hello, world\n",
        b"age-encryption.org/v2\n-> X25519 abc\n",
        b"-----BEGIN AGE ENCRYPTED FILE-----\nYWdlLWVuY3J5cHRpb24ub3JnL3YxCg==\n-----END AGE ENCRYPTED FILE-----\n",
    ];
    for input in inputs {
        let err = open(&a, input).unwrap_err();
        assert!(matches!(err, CryptoError::NotAgeFile), "{input:?}: {err:?}");
    }
}

#[test]
fn a_header_over_the_limit_is_refused_without_reading_on() {
    let mut input = hearth_crypto::AGE_MAGIC.to_vec();
    input.extend_from_slice(b"-> X25519 ");
    input.resize(input.len() + 4 * hearth_crypto::AGE_HEADER_BYTES_MAX as usize, b'A');
    let err = open(&Identity::generate(), &input).unwrap_err();
    assert!(matches!(&err, CryptoError::Integrity { reason } if reason.contains("header")), "{err:?}");
}

/// A reader that fails after `good` bytes.
struct FailingReader<'a> {
    data: &'a [u8],
    good: usize,
}

impl Read for FailingReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.good == 0 {
            return Err(io::Error::other("disk on fire"));
        }
        let n = buf.len().min(self.good).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        self.good -= n;
        Ok(n)
    }
}

/// A writer that always fails.
struct FailingWriter;

impl Write for FailingWriter {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        Err(io::Error::other("disk full"))
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn io_errors_on_either_side_are_io() {
    let a = Identity::generate();
    let ciphertext = seal(&[a.to_public()], &data(3 * CHUNK_BYTES));
    for good in [10, payload_start(&ciphertext) + 100, payload_start(&ciphertext) + ENCRYPTED_CHUNK_BYTES + 7] {
        let err = decrypt(&a, FailingReader { data: &ciphertext, good }, Vec::new()).unwrap_err();
        assert!(matches!(err, CryptoError::Io(_)), "read failing after {good}: {err:?}");
    }
    let err = decrypt(&a, &ciphertext[..], FailingWriter).unwrap_err();
    assert!(matches!(err, CryptoError::Io(_)), "{err:?}");
    let err = encrypt(&[a.to_public()], FailingReader { data: &ciphertext, good: 5 }, Vec::new()).unwrap_err();
    assert!(matches!(err, CryptoError::Io(_)), "{err:?}");
    let err = encrypt(&[a.to_public()], &b"x"[..], FailingWriter).unwrap_err();
    assert!(matches!(err, CryptoError::Io(_)), "{err:?}");
}

#[test]
fn reencrypt_moves_a_file_to_new_recipients() {
    let (old, new_a, new_b) = (Identity::generate(), Identity::generate(), Identity::generate());
    let plaintext = data(CHUNK_BYTES + 5);
    let ciphertext = seal(&[old.to_public()], &plaintext);

    let mut moved = Vec::new();
    let n = reencrypt(&old, &[new_a.to_public(), new_b.to_public()], &ciphertext[..], &mut moved).expect("reencrypt");
    assert_eq!(n, plaintext.len() as u64);
    assert_eq!(open(&new_a, &moved).expect("new_a"), plaintext);
    assert_eq!(open(&new_b, &moved).expect("new_b"), plaintext);
    assert!(matches!(open(&old, &moved), Err(CryptoError::NotForThisKey)));
}

#[test]
fn reencrypt_with_the_wrong_key_writes_nothing() {
    let ciphertext = seal(&[Identity::generate().to_public()], b"data");
    let mut out = Vec::new();
    let err =
        reencrypt(&Identity::generate(), &[Identity::generate().to_public()], &ciphertext[..], &mut out).unwrap_err();
    assert!(matches!(err, CryptoError::NotForThisKey), "{err:?}");
    assert!(out.is_empty());
}

#[test]
fn recipients_parse_and_secrets_are_never_echoed() {
    let identity = Identity::generate();
    let recipient = identity.to_public().to_string();
    assert_eq!(parse_recipient(&format!("  {recipient}\n")).expect("valid").to_string(), recipient);

    let secret = identity.to_string();
    for input in [secret.expose_secret().to_owned(), secret.expose_secret().to_lowercase()] {
        let err = parse_recipient(&input).unwrap_err();
        assert!(matches!(err, CryptoError::InvalidRecipient { .. }), "{err:?}");
        let shown = format!("{err} {err:?}");
        assert!(!shown.to_uppercase().contains(&secret.expose_secret()[16..]), "secret echoed: {shown}");
    }
    for bad in ["", "age1", "age1notbech32", "npub1xyz", &recipient[..recipient.len() - 1]] {
        let err = parse_recipient(bad).unwrap_err();
        assert!(matches!(err, CryptoError::InvalidRecipient { .. }), "{bad}: {err:?}");
    }
}
