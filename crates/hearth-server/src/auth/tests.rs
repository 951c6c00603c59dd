//! Signed-request tests through the public API: one test per accepted case and per refusal.

use std::sync::Arc;

use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use alloy_sol_types::SolStruct;
use hearth_chain::Wallet;
use hearth_core::ManualClock;
use tempfile::TempDir;

use super::request::typed;
use super::*;

const CHAIN_ID: u64 = 31_337;
const NOW: u64 = 1_700_000_000;
const LIFETIME_SECS: u64 = 120;
const STORE_FILE: &str = "nonces.sqlite";
const PATH: &str = "/v1/files?scope=journal&limit=10";
const BODY: &[u8] = br#"{"name":"day-1"}"#;

struct Fixture {
    dir: TempDir,
    clock: ManualClock,
    server: Address,
    verifier: Verifier,
    app: RequestSigner,
}

fn fixture() -> Fixture {
    fixture_with_limit(NONCES_MAX)
}

fn fixture_with_limit(nonces_max: u64) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(NOW);
    let server = Wallet::random().address();
    let store = NonceStore::open_with_limit(&dir.path().join(STORE_FILE), nonces_max).unwrap();
    let verifier = Verifier::new(server, CHAIN_ID, Arc::new(clock.clone()), store);
    let app = RequestSigner::new(Wallet::random(), server, CHAIN_ID);
    Fixture { dir, clock, server, verifier, app }
}

impl Fixture {
    fn sign(&self, method: &str, path: &str, body: &[u8]) -> SignedHeaders {
        self.app.sign(method, path, body, NOW, LIFETIME_SECS).unwrap()
    }

    /// Sends `headers` as text and verifies what the server parses.
    fn verify(&self, method: &str, path: &str, body: &[u8], headers: &SignedHeaders) -> Result<Address, AuthError> {
        let parsed = parse_pairs(&headers.to_pairs())?;
        self.verifier.verify(method, path, body, &parsed)
    }
}

fn parse_pairs(pairs: &[(&'static str, String)]) -> Result<SignedHeaders, AuthError> {
    SignedHeaders::parse(|name| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_bytes()))
}

fn code<T: std::fmt::Debug>(result: Result<T, AuthError>) -> &'static str {
    result.unwrap_err().code()
}

#[test]
fn round_trip_is_accepted_and_returns_the_signer() {
    let f = fixture();
    let headers = f.sign("POST", PATH, BODY);
    assert_eq!(parse_pairs(&headers.to_pairs()).unwrap(), headers);
    assert_eq!(f.verify("POST", PATH, BODY, &headers).unwrap(), f.app.address());
}

#[test]
fn request_without_body_or_optional_headers_is_accepted() {
    let f = fixture();
    let mut headers = f.sign("GET", "/v1/files", b"");
    headers.server = None;
    headers.body_hash = None;
    assert_eq!(headers.to_pairs().len(), 5);
    assert_eq!(f.verify("GET", "/v1/files", b"", &headers).unwrap(), f.app.address());
}

#[test]
fn signature_is_over_the_documented_eip712_encoding() {
    // Built by hand from the wire format, not through the `sol!` struct.
    let wallet = Wallet::random();
    let server = Address::repeat_byte(0x5e);
    let nonce = B256::repeat_byte(0x07);
    let signer = RequestSigner::new(wallet.clone(), server, CHAIN_ID);
    let headers = signer.sign_with_nonce("PUT", PATH, BODY, NOW, LIFETIME_SECS, nonce).unwrap();

    let domain_type = keccak256("EIP712Domain(string name,string version,uint256 chainId)");
    let separator = keccak256(
        [domain_type, keccak256("hearth.Request"), keccak256("1"), B256::from(U256::from(CHAIN_ID))].concat(),
    );
    let struct_hash = keccak256(
        [
            keccak256(REQUEST_TYPE),
            server.into_word(),
            keccak256("PUT"),
            keccak256(PATH),
            keccak256(BODY),
            nonce,
            B256::from(U256::from(NOW)),
            B256::from(U256::from(NOW + LIFETIME_SECS)),
        ]
        .concat(),
    );
    let digest = keccak256([&[0x19, 0x01][..], separator.as_slice(), struct_hash.as_slice()].concat());

    let signature = alloy_primitives::Signature::from_raw(&headers.signature).unwrap();
    assert_eq!(signature.recover_address_from_prehash(&digest).unwrap(), wallet.address());
    assert_eq!(typed::Request::eip712_encode_type(), REQUEST_TYPE);
    assert_eq!(headers.body_hash, Some(keccak256(BODY)));
    assert_eq!(headers.server, Some(server));
    assert_eq!(headers.expires_at, NOW + LIFETIME_SECS);
}

#[test]
fn forged_signature_is_refused() {
    let f = fixture();
    let mallory = RequestSigner::new(Wallet::random(), f.server, CHAIN_ID);
    let mut headers = mallory.sign("POST", PATH, BODY, NOW, LIFETIME_SECS).unwrap();
    headers.signer = f.app.address();
    let err = f.verify("POST", PATH, BODY, &headers).unwrap_err();
    assert_eq!((err.code(), err.status()), ("bad_signature", 401));
}

#[test]
fn another_apps_valid_request_is_authenticated_as_that_app() {
    // Authentication only: whether that app may do this is decided by grants elsewhere.
    let f = fixture();
    let other = RequestSigner::new(Wallet::random(), f.server, CHAIN_ID);
    let headers = other.sign("POST", PATH, BODY, NOW, LIFETIME_SECS).unwrap();
    assert_eq!(f.verify("POST", PATH, BODY, &headers).unwrap(), other.address());
}

#[test]
fn replayed_nonce_is_refused() {
    let f = fixture();
    let headers = f.sign("POST", PATH, BODY);
    f.verify("POST", PATH, BODY, &headers).unwrap();
    f.clock.advance(1);
    let err = f.verify("POST", PATH, BODY, &headers).unwrap_err();
    assert_eq!((err.code(), err.status()), ("replayed", 401));
}

#[test]
fn same_nonce_from_another_signer_is_not_a_replay() {
    let f = fixture();
    let nonce = B256::repeat_byte(0x42);
    let other = RequestSigner::new(Wallet::random(), f.server, CHAIN_ID);
    let a = f.app.sign_with_nonce("GET", PATH, b"", NOW, LIFETIME_SECS, nonce).unwrap();
    let b = other.sign_with_nonce("GET", PATH, b"", NOW, LIFETIME_SECS, nonce).unwrap();
    f.verify("GET", PATH, b"", &a).unwrap();
    f.verify("GET", PATH, b"", &b).unwrap();
}

#[test]
fn expired_request_is_refused() {
    let f = fixture();
    let headers = f.sign("GET", PATH, b"");
    f.clock.set(NOW + LIFETIME_SECS); // expires_at <= now
    let err = f.verify("GET", PATH, b"", &headers).unwrap_err();
    assert_eq!((err.code(), err.status()), ("expired", 401));

    let f = fixture();
    let headers = f.sign("GET", PATH, b"");
    f.clock.set(NOW + LIFETIME_SECS - 1);
    f.verify("GET", PATH, b"", &headers).unwrap();
}

#[test]
fn request_issued_beyond_the_clock_skew_is_not_yet_valid() {
    let f = fixture();
    let early = f.app.sign("GET", PATH, b"", NOW + CLOCK_SKEW_SECS_MAX + 1, LIFETIME_SECS).unwrap();
    let err = f.verify("GET", PATH, b"", &early).unwrap_err();
    assert_eq!((err.code(), err.status()), ("not_yet_valid", 401));

    let within = f.app.sign("GET", PATH, b"", NOW + CLOCK_SKEW_SECS_MAX, LIFETIME_SECS).unwrap();
    f.verify("GET", PATH, b"", &within).unwrap();
}

#[test]
fn lifetime_over_the_limit_is_refused() {
    let f = fixture();
    let nonce = B256::repeat_byte(1);
    let long = f.app.sign_fields("GET", PATH, b"", nonce, NOW, NOW + LIFETIME_SECS_MAX + 1).unwrap();
    let err = f.verify("GET", PATH, b"", &long).unwrap_err();
    assert_eq!((err.code(), err.status()), ("lifetime_too_long", 401));
    // The client refuses to sign one in the first place.
    assert_eq!(code(f.app.sign("GET", PATH, b"", NOW, LIFETIME_SECS_MAX + 1)), "lifetime_too_long");

    let longest = f.app.sign("GET", PATH, b"", NOW, LIFETIME_SECS_MAX).unwrap();
    f.verify("GET", PATH, b"", &longest).unwrap();
}

#[test]
fn expiry_not_after_issue_is_malformed() {
    let f = fixture();
    for expires_at in [NOW, NOW - 1] {
        let headers = f.app.sign_fields("GET", PATH, b"", B256::repeat_byte(2), NOW, expires_at).unwrap();
        let err = f.verify("GET", PATH, b"", &headers).unwrap_err();
        assert_eq!((err.code(), err.status()), ("malformed_header", 400));
    }
    assert_eq!(code(f.app.sign("GET", PATH, b"", NOW, 0)), "malformed_header");
}

#[test]
fn request_signed_for_another_server_is_wrong_audience() {
    let f = fixture();
    let elsewhere = RequestSigner::new(Wallet::random(), Wallet::random().address(), CHAIN_ID);
    let headers = elsewhere.sign("GET", PATH, b"", NOW, LIFETIME_SECS).unwrap();
    let err = f.verify("GET", PATH, b"", &headers).unwrap_err();
    assert_eq!((err.code(), err.status()), ("wrong_audience", 401));

    // Without the audience header, the digest over this server's address does not match.
    let mut unnamed = headers;
    unnamed.server = None;
    assert_eq!(code(f.verify("GET", PATH, b"", &unnamed)), "bad_signature");
}

#[test]
fn request_signed_for_another_chain_is_refused() {
    let f = fixture();
    let other_chain = RequestSigner::new(Wallet::random(), f.server, CHAIN_ID + 1);
    let headers = other_chain.sign("GET", PATH, b"", NOW, LIFETIME_SECS).unwrap();
    assert_eq!(code(f.verify("GET", PATH, b"", &headers)), "bad_signature");
}

#[test]
fn query_changed_after_signing_is_refused() {
    let f = fixture();
    let headers = f.sign("GET", PATH, b"");
    assert_eq!(code(f.verify("GET", "/v1/files?scope=messages&limit=10", b"", &headers)), "bad_signature");
    assert_eq!(code(f.verify("GET", "/v1/files", b"", &headers)), "bad_signature");
}

#[test]
fn path_changed_after_signing_is_refused() {
    let f = fixture();
    let headers = f.sign("GET", PATH, b"");
    assert_eq!(code(f.verify("GET", "/v1/grants?scope=journal&limit=10", b"", &headers)), "bad_signature");
}

#[test]
fn method_changed_after_signing_is_refused() {
    let f = fixture();
    let headers = f.sign("GET", PATH, b"");
    assert_eq!(code(f.verify("DELETE", PATH, b"", &headers)), "bad_signature");
}

#[test]
fn body_changed_after_signing_is_refused() {
    let f = fixture();
    let headers = f.sign("POST", PATH, BODY);
    let err = f.verify("POST", PATH, b"{\"name\":\"day-2\"}", &headers).unwrap_err();
    assert_eq!((err.code(), err.status()), ("body_hash_mismatch", 401));

    // Without the body-hash header, the signature itself catches it.
    let mut unhashed = headers;
    unhashed.body_hash = None;
    assert_eq!(code(f.verify("POST", PATH, b"{\"name\":\"day-2\"}", &unhashed)), "bad_signature");
}

#[test]
fn body_hash_header_not_matching_the_body_is_refused() {
    let f = fixture();
    let mut headers = f.sign("POST", PATH, BODY);
    headers.body_hash = Some(keccak256(b"something else"));
    assert_eq!(code(f.verify("POST", PATH, BODY, &headers)), "body_hash_mismatch");
}

#[test]
fn each_missing_header_is_its_own_error() {
    let f = fixture();
    let pairs = f.sign("POST", PATH, BODY).to_pairs();
    let cases = [
        (SIGNER_HEADER, "missing_signer"),
        (SIGNATURE_HEADER, "missing_signature"),
        (NONCE_HEADER, "missing_nonce"),
        (ISSUED_AT_HEADER, "missing_issued_at"),
        (EXPIRES_AT_HEADER, "missing_expires_at"),
    ];
    for (header, expected) in cases {
        let without: Vec<_> = pairs.iter().filter(|(n, _)| *n != header).cloned().collect();
        let err = parse_pairs(&without).unwrap_err();
        assert_eq!((err.code(), err.status()), (expected, 401), "without {header}");
    }
}

#[test]
fn malformed_header_values_are_refused() {
    let f = fixture();
    let pairs = f.sign("POST", PATH, BODY).to_pairs();
    let addr = "5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e";
    let word = "07".repeat(32);
    let cases: Vec<(&str, String)> = vec![
        (SIGNER_HEADER, addr.to_owned()),               // no 0x
        (SIGNER_HEADER, format!("0x{}", &addr[2..])),   // 19 bytes
        (SIGNER_HEADER, format!("0x{addr}00")),         // 21 bytes
        (SIGNER_HEADER, format!("0x{}zz", &addr[2..])), // not hex
        (SIGNER_HEADER, format!("0X{addr}")),           // prefix in capitals
        (SIGNER_HEADER, format!(" 0x{addr}")),          // padded
        (SIGNATURE_HEADER, format!("0x{}", "11".repeat(64))),
        (SIGNATURE_HEADER, format!("0x{}", "11".repeat(66))),
        (SIGNATURE_HEADER, String::new()),
        (NONCE_HEADER, format!("0x{}", &word[2..])),
        (NONCE_HEADER, word.clone()),
        (ISSUED_AT_HEADER, String::new()),
        (ISSUED_AT_HEADER, "+1700000000".to_owned()),
        (ISSUED_AT_HEADER, "-1".to_owned()),
        (ISSUED_AT_HEADER, "1700000000.5".to_owned()),
        (ISSUED_AT_HEADER, " 1700000000".to_owned()),
        (ISSUED_AT_HEADER, "0x6553f100".to_owned()),
        (EXPIRES_AT_HEADER, "18446744073709551616".to_owned()), // u64::MAX + 1
        (EXPIRES_AT_HEADER, "1".repeat(21)),
        (EXPIRES_AT_HEADER, "soon".to_owned()),
        (SERVER_HEADER, addr.to_owned()),
        (BODY_HASH_HEADER, format!("0x{}", &word[4..])),
    ];
    for (header, value) in cases {
        let mut changed: Vec<_> = pairs.iter().filter(|(n, _)| *n != header).cloned().collect();
        changed.push((header, value.clone()));
        let err = parse_pairs(&changed).unwrap_err();
        assert_eq!((err.code(), err.status()), ("malformed_header", 400), "{header}: {value:?}");
        assert!(matches!(err, AuthError::Malformed { header: h, .. } if h == header), "{header}: {value:?}");
    }
    // Non-UTF-8 bytes are malformed too.
    let err = SignedHeaders::parse(|name| {
        pairs
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(n, v)| if *n == ISSUED_AT_HEADER { &[0xff, 0x31][..] } else { v.as_bytes() })
    })
    .unwrap_err();
    assert_eq!(err.code(), "malformed_header");
}

#[test]
fn hex_values_in_either_case_and_u64_max_parse() {
    let f = fixture();
    let headers = f.sign("POST", PATH, BODY);
    let upper: Vec<_> = headers
        .to_pairs()
        .into_iter()
        .map(|(n, v)| match v.strip_prefix("0x") {
            Some(digits) => (n, format!("0x{}", digits.to_uppercase())),
            None => (n, v),
        })
        .collect();
    assert_eq!(parse_pairs(&upper).unwrap(), headers);

    let mut max = headers.to_pairs();
    max.retain(|(n, _)| *n != EXPIRES_AT_HEADER);
    max.push((EXPIRES_AT_HEADER, u64::MAX.to_string()));
    assert_eq!(parse_pairs(&max).unwrap().expires_at, u64::MAX);
}

#[test]
fn signature_bytes_that_are_no_signature_are_refused() {
    let f = fixture();
    let headers = f.sign("POST", PATH, BODY);
    let with_signature = |bytes: Vec<u8>| SignedHeaders { signature: Bytes::from(bytes), ..headers.clone() };

    let mut bad_v = headers.signature.to_vec();
    bad_v[64] = 5;
    let mut zero_r = headers.signature.to_vec();
    zero_r[..32].fill(0);
    // The malleated twin (n - s, flipped parity) recovers the same signer; refused anyway.
    let sig = alloy_primitives::Signature::from_raw(&headers.signature).unwrap();
    let n = U256::from_str_radix("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141", 16).unwrap();
    let high_s = alloy_primitives::Signature::new(sig.r(), n - sig.s(), !sig.v());

    for (what, bytes) in [("bad v", bad_v), ("zero r", zero_r), ("high s", high_s.as_bytes().to_vec())] {
        let err = f.verify("POST", PATH, BODY, &with_signature(bytes)).unwrap_err();
        assert_eq!((err.code(), err.status()), ("invalid_signature", 401), "{what}");
    }
    // None of those consumed the nonce: the genuine request still goes through.
    f.verify("POST", PATH, BODY, &headers).unwrap();
}

#[test]
fn nonces_survive_reopening_the_store() {
    let f = fixture();
    let headers = f.sign("POST", PATH, BODY);
    f.verify("POST", PATH, BODY, &headers).unwrap();
    let Fixture { dir, clock, server, verifier, .. } = f;
    drop(verifier);

    let store = NonceStore::open(&dir.path().join(STORE_FILE)).unwrap();
    assert_eq!(store.len().unwrap(), 1);
    let restarted = Verifier::new(server, CHAIN_ID, Arc::new(clock), store);
    let err = restarted.verify("POST", PATH, BODY, &headers).unwrap_err();
    assert_eq!(err.code(), "replayed");
}

#[test]
fn expired_nonces_are_purged() {
    let dir = tempfile::tempdir().unwrap();
    let store = NonceStore::open(&dir.path().join(STORE_FILE)).unwrap();
    let signer = Address::repeat_byte(1);
    assert!(store.insert(signer, B256::repeat_byte(1), NOW + 10, NOW).unwrap());
    assert!(store.insert(signer, B256::repeat_byte(2), NOW + 20, NOW).unwrap());
    assert_eq!(store.len().unwrap(), 2);

    assert!(store.insert(signer, B256::repeat_byte(3), NOW + 30, NOW + 10).unwrap());
    assert_eq!(store.len().unwrap(), 2, "the nonce expiring at NOW + 10 is gone");
    assert!(store.insert(signer, B256::repeat_byte(4), NOW + 100, NOW + 30).unwrap());
    assert_eq!(store.len().unwrap(), 1);
    assert!(!store.insert(signer, B256::repeat_byte(4), NOW + 100, NOW + 31).unwrap(), "a replay");
}

#[test]
fn store_refuses_an_expiry_the_clock_has_passed_even_if_set_back() {
    let dir = tempfile::tempdir().unwrap();
    let store = NonceStore::open(&dir.path().join(STORE_FILE)).unwrap();
    let signer = Address::repeat_byte(1);
    assert!(store.insert(signer, B256::repeat_byte(1), NOW + 10, NOW).unwrap());
    assert!(store.insert(signer, B256::repeat_byte(2), NOW + 200, NOW + 100).unwrap()); // purges nonce 1
    let err = store.insert(signer, B256::repeat_byte(1), NOW + 10, NOW).unwrap_err();
    assert!(matches!(err, AuthError::Expired { expires_at, now } if expires_at == NOW + 10 && now == NOW + 100));
    // The remembered time survives a restart.
    drop(store);
    let store = NonceStore::open(&dir.path().join(STORE_FILE)).unwrap();
    assert_eq!(code(store.insert(signer, B256::repeat_byte(1), NOW + 10, NOW)), "expired");
}

#[test]
fn nonce_limit_is_enforced() {
    let f = fixture_with_limit(2);
    let first = f.app.sign("GET", PATH, b"", NOW, 10).unwrap();
    let second = f.app.sign("GET", PATH, b"", NOW, 20).unwrap();
    let third = f.app.sign("GET", PATH, b"", NOW, 30).unwrap();
    f.verify("GET", PATH, b"", &first).unwrap();
    f.verify("GET", PATH, b"", &second).unwrap();
    let err = f.verify("GET", PATH, b"", &third).unwrap_err();
    assert_eq!((err.code(), err.status()), ("nonce_store_full", 503));
    // A replay at the limit is still reported as a replay.
    assert_eq!(code(f.verify("GET", PATH, b"", &second)), "replayed");

    // Once the first expires it is purged and there is room again.
    f.clock.set(NOW + 10);
    f.verify("GET", PATH, b"", &third).unwrap();
    let fourth = f.app.sign("GET", PATH, b"", NOW + 10, 30).unwrap();
    assert_eq!(code(f.verify("GET", PATH, b"", &fourth)), "nonce_store_full");
}

#[test]
fn purge_is_batched_but_the_limit_check_sees_every_expired_nonce() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(STORE_FILE);
    let held = 3_000;
    let store = NonceStore::open_with_limit(&path, held).unwrap();
    let signer = Address::repeat_byte(9);
    for i in 0..held {
        assert!(store.insert(signer, B256::from(U256::from(i)), NOW + 1, NOW).unwrap());
    }
    assert_eq!(code(store.insert(signer, B256::repeat_byte(0xaa), NOW + 10, NOW)), "nonce_store_full");
    drop(store);

    // Reopened with a lower limit, with every nonce expired: one batch would leave the
    // store over its limit, so the insert purges them all rather than refuse.
    let store = NonceStore::open_with_limit(&path, 100).unwrap();
    assert!(store.insert(signer, B256::repeat_byte(0xaa), NOW + 10, NOW + 1).unwrap());
    assert_eq!(store.len().unwrap(), 1);
}

#[test]
fn one_insert_purges_at_most_a_batch() {
    let dir = tempfile::tempdir().unwrap();
    let store = NonceStore::open(&dir.path().join(STORE_FILE)).unwrap();
    let signer = Address::repeat_byte(9);
    let held = 3_000;
    for i in 0..held {
        assert!(store.insert(signer, B256::from(U256::from(i)), NOW + 1, NOW).unwrap());
    }
    assert!(store.insert(signer, B256::repeat_byte(0xaa), NOW + 10, NOW + 1).unwrap());
    let left = store.len().unwrap();
    assert!(left > 1 && left < held, "one insert purged only a batch: {left} left");
    // Every insert adds one nonce and purges a batch, so the expired ones drain.
    let mut inserted = 1;
    while store.len().unwrap() > inserted {
        assert!(inserted < 10, "expired nonces are not draining");
        assert!(store.insert(signer, B256::from(U256::from(held + inserted)), NOW + 10, NOW + 1).unwrap());
        inserted += 1;
    }
}

#[test]
fn nonce_store_failure_fails_closed() {
    let f = fixture();
    let side = rusqlite::Connection::open(f.dir.path().join(STORE_FILE)).unwrap();
    side.execute_batch("DROP TABLE nonces").unwrap();
    let headers = f.sign("POST", PATH, BODY);
    let err = f.verify("POST", PATH, BODY, &headers).unwrap_err();
    assert_eq!((err.code(), err.status()), ("nonce_store_unavailable", 503));
    assert!(std::error::Error::source(&err).is_some(), "the cause is kept for the log");
}

#[test]
fn nonce_store_that_cannot_open_is_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(code(NonceStore::open(dir.path())), "nonce_store_unavailable");

    let path = dir.path().join(STORE_FILE);
    drop(NonceStore::open(&path).unwrap());
    rusqlite::Connection::open(&path).unwrap().pragma_update(None, "user_version", 99).unwrap();
    assert_eq!(code(NonceStore::open(&path)), "nonce_store_unavailable");
}

#[test]
fn nonce_store_writes_wal_with_full_sync() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(STORE_FILE);
    drop(NonceStore::open(&path).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mode: String = conn.pragma_query_value(None, "journal_mode", |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn error_codes_are_distinct_snake_case() {
    let errors = [
        AuthError::MissingSigner,
        AuthError::MissingSignature,
        AuthError::MissingNonce,
        AuthError::MissingIssuedAt,
        AuthError::MissingExpiresAt,
        AuthError::Malformed { header: NONCE_HEADER, problem: "x" },
        AuthError::InvalidSignature,
        AuthError::BadSignature,
        AuthError::WrongAudience { server: Address::ZERO, signed_for: Address::ZERO },
        AuthError::BodyHashMismatch,
        AuthError::NotYetValid { issued_at: 0, now: 0 },
        AuthError::Expired { expires_at: 0, now: 0 },
        AuthError::LifetimeTooLong { lifetime_secs: 0, max_secs: 0 },
        AuthError::Replayed,
        AuthError::NonceStoreFull,
        AuthError::NonceStoreUnavailable { action: "x", source: "y".into() },
        AuthError::Signing("x".into()),
    ];
    let mut codes: Vec<_> = errors.iter().map(AuthError::code).collect();
    assert!(codes.iter().all(|c| c.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')));
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes.len(), errors.len());
}
