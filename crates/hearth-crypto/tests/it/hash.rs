//! The SHA-256 pass-through adapters.

use std::io::{Read, Write};

use alloy_primitives::hex;
use hearth_crypto::{Sha256Reader, Sha256Writer};

/// SHA-256 of "abc" (FIPS 180-2, appendix B.1).
const ABC_SHA256: [u8; 32] = hex!("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
/// SHA-256 of the empty string.
const EMPTY_SHA256: [u8; 32] = hex!("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

#[test]
fn writer_hashes_and_counts_what_passes_through() {
    let mut sink = Vec::new();
    let mut writer = Sha256Writer::new(&mut sink);
    writer.write_all(b"a").expect("write");
    writer.write_all(b"bc").expect("write");
    assert_eq!(writer.bytes(), 3);
    let (digest, bytes) = writer.finish();
    assert_eq!((digest.0, bytes), (ABC_SHA256, 3));
    assert_eq!(sink, b"abc");

    assert_eq!(Sha256Writer::new(Vec::<u8>::new()).finish().0.0, EMPTY_SHA256);
}

#[test]
fn reader_hashes_and_counts_what_passes_through() {
    let mut reader = Sha256Reader::new(&b"abc"[..]);
    let mut out = Vec::new();
    reader.read_to_end(&mut out).expect("read");
    assert_eq!(out, b"abc");
    let (digest, bytes) = reader.finish();
    assert_eq!((digest.0, bytes), (ABC_SHA256, 3));
}
