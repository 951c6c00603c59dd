//! The audit trail against the embedded chain: appending, the hash chain, anchoring,
//! inclusion proofs (also checked by OpenZeppelin's `MerkleProof` on chain), tampering,
//! reopening, crash recovery and the background anchorer.

#![allow(clippy::unwrap_used, missing_docs)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use alloy_primitives::{Address, B256, U256};
use alloy_sol_types::{SolCall, sol};
use hearth_chain::{CallRequest, Contracts, EMBEDDED_CHAIN_ID, EmbeddedChain, EmbeddedConfig, Wallet};
use hearth_core::ManualClock;
use hearth_server::audit::{
    AuditError, AuditLog, Entry, InclusionProof, IssueKind, RECORDS_PAGE_MAX, Record, run_anchorer,
    verify_proof_on_chain,
};

/// Unix time the manual clock starts at (2026-01-01).
const T0: u64 = 1_767_225_600;

/// An embedded chain with a registered server, and a directory for audit logs.
struct Setup {
    contracts: Contracts,
    server: Wallet,
    clock: ManualClock,
    dir: tempfile::TempDir,
}

impl Setup {
    async fn new() -> Setup {
        let dir = tempfile::tempdir().expect("tempdir");
        let clock = ManualClock::new(T0);
        let config = EmbeddedConfig { chain_id: EMBEDDED_CHAIN_ID, clock: Arc::new(clock.clone()) };
        let chain_dir = dir.path().join("chain");
        std::fs::create_dir_all(&chain_dir).expect("chain dir");
        let chain = EmbeddedChain::open(&chain_dir, config).expect("open embedded chain");
        let deployment = chain.deployment();
        let contracts =
            Contracts::connect(Arc::new(chain), deployment, Some(EMBEDDED_CHAIN_ID)).await.expect("connect");
        let server = Wallet::random();
        contracts.servers().register(&server, &server, "age1server", "http://127.0.0.1:1").await.expect("register");
        Setup { contracts, server, clock, dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn open(&self, name: &str) -> AuditLog {
        AuditLog::open(&self.path(name), Arc::new(self.clock.clone())).expect("open audit log")
    }

    /// Appends `n` entries, one second apart.
    fn append(&self, log: &AuditLog, n: usize) -> Vec<Record> {
        (0..n)
            .map(|_| {
                self.clock.advance(1);
                let seq = log.last_seq().expect("last seq") + 1;
                log.append(entry(seq)).expect("append")
            })
            .collect()
    }

    async fn anchor(&self, log: &AuditLog) -> Option<hearth_server::audit::Anchor> {
        log.anchor_pending(&self.contracts, &self.server).await.expect("anchor")
    }
}

/// A varied entry: optional fields present or not depending on `i`.
fn entry(i: u64) -> Entry {
    let h = |tag: u8| B256::from(U256::from(i) | (U256::from(tag) << 248));
    Entry {
        actor: Address::repeat_byte((i % 7) as u8 + 1),
        action: ["data.read", "grant.submit", "operation.run"][(i % 3) as usize].into(),
        grant_id: i.is_multiple_of(2).then(|| h(1)),
        files: (0..(i % 4)).map(|k| h(2 + k as u8)).collect(),
        code_digest: i.is_multiple_of(3).then(|| h(9)),
        params_hash: (i % 4 == 1).then(|| h(10)),
        result_hash: (!i.is_multiple_of(5)).then(|| h(11)),
        outcome: if i % 6 == 5 { "revoked".into() } else { "granted".into() },
    }
}

/// A direct connection to the log's file, as someone with access to the disk has.
fn tamper(path: &std::path::Path, sql: &str) {
    let conn = rusqlite::Connection::open(path).expect("open sqlite");
    conn.execute_batch(sql).expect("tamper");
}

#[tokio::test]
async fn appended_records_read_back_in_order() {
    let s = Setup::new().await;
    let log = s.open("audit.sqlite");
    assert_eq!(log.last_seq().unwrap(), 0);
    assert!(log.records(0, 10).unwrap().is_empty());
    let appended = s.append(&log, 5);
    assert_eq!(appended.iter().map(|r| r.seq).collect::<Vec<_>>(), vec![1, 2, 3, 4, 5]);
    assert_eq!(appended[0].time, T0 + 1);
    assert_eq!(appended[0].entry, entry(1));
    assert_eq!(log.records(0, 10).unwrap(), appended);
    assert_eq!(log.records(2, 2).unwrap(), appended[2..4]);
    assert!(log.records(5, 10).unwrap().is_empty());
    assert_eq!(log.records(0, usize::MAX).unwrap().len(), 5.min(RECORDS_PAGE_MAX));
    assert_eq!(log.last_seq().unwrap(), 5);
}

#[tokio::test]
async fn records_link_into_a_hash_chain() {
    let s = Setup::new().await;
    let log = s.open("audit.sqlite");
    let records = s.append(&log, 4);
    assert_eq!(records[0].prev_hash, B256::ZERO);
    for pair in records.windows(2) {
        assert_eq!(pair[1].prev_hash, pair[0].hash);
    }
    for r in &records {
        assert_eq!(r.content_hash(), r.hash);
    }
    // Every field is covered; None and Some(zero) differ.
    let mut r = records[1].clone();
    r.entry.grant_id = None;
    let none = r.content_hash();
    r.entry.grant_id = Some(B256::ZERO);
    assert_ne!(r.content_hash(), none);
    let mut r = records[1].clone();
    r.entry.outcome = "replayed".into();
    assert_ne!(r.content_hash(), r.hash);
    let mut r = records[1].clone();
    r.seq += 1;
    assert_ne!(r.content_hash(), r.hash);
}

#[tokio::test]
async fn invalid_entries_are_refused_and_leave_no_record() {
    let s = Setup::new().await;
    let log = s.open("audit.sqlite");
    let bad = [
        Entry { action: String::new(), ..entry(1) },
        Entry { action: "x".repeat(65), ..entry(1) },
        Entry { outcome: "line\nbreak".into(), ..entry(1) },
        Entry { files: vec![B256::ZERO; 257], ..entry(1) },
    ];
    for e in bad {
        assert!(matches!(log.append(e), Err(AuditError::Invalid { .. })));
    }
    assert_eq!(log.last_seq().unwrap(), 0);
}

#[tokio::test]
async fn anchoring_covers_every_pending_record_and_matches_the_chain() {
    let s = Setup::new().await;
    let log = s.open("audit.sqlite");
    s.append(&log, 5);
    let a = s.anchor(&log).await.expect("an anchor");
    assert_eq!((a.index, a.first_seq, a.last_seq), (0, 1, 5));
    assert_ne!(a.tx_hash, B256::ZERO);
    assert!(a.block > 0);
    let audit = s.contracts.audit();
    let on_chain = audit.get(s.server.address(), U256::ZERO).await.unwrap();
    assert_eq!((on_chain.merkleRoot, on_chain.firstSeq, on_chain.lastSeq), (a.root, 1, 5));
    assert_eq!(audit.next_seq(s.server.address()).await.unwrap(), 6);
    assert_eq!(log.anchor(0).unwrap(), Some(a));
    assert_eq!(log.pending().unwrap(), 0);

    // The next batch continues at N + 1.
    s.append(&log, 3);
    assert_eq!(log.pending().unwrap(), 3);
    let b = s.anchor(&log).await.expect("a second anchor");
    assert_eq!((b.index, b.first_seq, b.last_seq), (1, 6, 8));
    let on_chain = audit.get(s.server.address(), U256::from(1)).await.unwrap();
    assert_eq!((on_chain.merkleRoot, on_chain.firstSeq, on_chain.lastSeq), (b.root, 6, 8));
    assert_eq!(log.anchored_through().unwrap(), 8);
}

#[tokio::test]
async fn anchoring_with_nothing_new_does_nothing() {
    let s = Setup::new().await;
    let log = s.open("audit.sqlite");
    assert_eq!(s.anchor(&log).await, None);
    s.append(&log, 2);
    assert!(s.anchor(&log).await.is_some());
    assert_eq!(s.anchor(&log).await, None);
    assert_eq!(s.anchor(&log).await, None);
    assert_eq!(s.contracts.audit().next_seq(s.server.address()).await.unwrap(), 3);
}

async fn check_proof(s: &Setup, proof: &InclusionProof) {
    assert!(proof.verify(), "proof of record {}", proof.seq);
    assert!(verify_proof_on_chain(proof, &s.contracts, s.server.address()).await.unwrap());
    let wrong = InclusionProof { record_hash: B256::repeat_byte(0x5a), ..proof.clone() };
    assert!(!wrong.verify());
    assert!(!verify_proof_on_chain(&wrong, &s.contracts, s.server.address()).await.unwrap());
}

#[tokio::test]
async fn proofs_verify_for_every_record_of_odd_even_and_single_batches() {
    let s = Setup::new().await;
    let log = s.open("audit.sqlite");
    let mut records = Vec::new();
    for size in [1, 2, 3, 4, 7, 8] {
        records.extend(s.append(&log, size));
        let a = s.anchor(&log).await.expect("anchor");
        assert_eq!(a.last_seq - a.first_seq + 1, size as u64);
    }
    for r in &records {
        let proof = log.proof(r.seq).unwrap();
        assert_eq!(proof.record_hash, r.hash);
        check_proof(&s, &proof).await;
    }
    // A batch of one: the root is the leaf and the path is empty.
    assert!(log.proof(1).unwrap().path.is_empty());
    // A proof of another anchor, or of one the chain does not have, fails on chain.
    let proof = log.proof(2).unwrap();
    let elsewhere = InclusionProof { anchor_index: 0, ..proof.clone() };
    assert!(!verify_proof_on_chain(&elsewhere, &s.contracts, s.server.address()).await.unwrap());
    let unknown = InclusionProof { anchor_index: 99, ..proof.clone() };
    assert!(!verify_proof_on_chain(&unknown, &s.contracts, s.server.address()).await.unwrap());
    // Or a seq outside the batch.
    assert!(!InclusionProof { seq: 1, ..proof }.verify());
}

#[tokio::test]
async fn proofs_need_an_anchored_record() {
    let s = Setup::new().await;
    let log = s.open("audit.sqlite");
    s.append(&log, 2);
    assert!(matches!(log.proof(1), Err(AuditError::NotAnchored { seq: 1 })));
    s.anchor(&log).await;
    s.append(&log, 1);
    assert!(log.proof(2).is_ok());
    assert!(matches!(log.proof(3), Err(AuditError::NotAnchored { seq: 3 })));
    assert!(matches!(log.proof(0), Err(AuditError::NotFound { seq: 0 })));
    assert!(matches!(log.proof(4), Err(AuditError::NotFound { seq: 4 })));
}

sol! {
    interface IAuditCheck {
        struct AuditEntry {
            address actor;
            string action;
            bool hasGrantId;
            bytes32 grantId;
            bytes32[] files;
            bool hasCodeDigest;
            bytes32 codeDigest;
            bool hasParamsHash;
            bytes32 paramsHash;
            bool hasResultHash;
            bytes32 resultHash;
            string outcome;
        }
        function recordHash(bytes32 prevHash, uint64 seq, uint64 time, AuditEntry entry) external pure returns (bytes32);
        function verify(bytes32[] proof, bytes32 root, bytes32 hash) external pure returns (bool);
    }
}

/// `AuditCheck.sol` (built by its `build.mjs`): Solidity recomputing record hashes and
/// checking proofs with OpenZeppelin's `MerkleProof`.
const AUDIT_CHECK_BIN: &str = include_str!("../src/audit/testdata/AuditCheck.bin");

async fn call<C: SolCall>(contracts: &Contracts, to: Address, call: C) -> C::Return {
    let request = CallRequest { from: None, to: Some(to), input: call.abi_encode().into() };
    let out = contracts.chain().call(&request).await.expect("call AuditCheck");
    C::abi_decode_returns(&out).expect("decode")
}

#[tokio::test]
async fn solidity_recomputes_record_hashes_and_openzeppelin_accepts_the_proofs() {
    let s = Setup::new().await;
    let code = alloy_primitives::hex::decode(AUDIT_CHECK_BIN.trim()).expect("hex");
    let deployer = Wallet::random();
    let receipt = deployer
        .send(s.contracts.chain().as_ref(), EMBEDDED_CHAIN_ID, None, code.into())
        .await
        .expect("deploy AuditCheck");
    let check = receipt.contract_address.expect("contract address");

    let log = s.open("audit.sqlite");
    let mut records = Vec::new();
    for size in [1, 5, 6] {
        records.extend(s.append(&log, size));
        s.anchor(&log).await;
    }
    for r in &records {
        let e = &r.entry;
        let sol_entry = IAuditCheck::AuditEntry {
            actor: e.actor,
            action: e.action.clone(),
            hasGrantId: e.grant_id.is_some(),
            grantId: e.grant_id.unwrap_or_default(),
            files: e.files.clone(),
            hasCodeDigest: e.code_digest.is_some(),
            codeDigest: e.code_digest.unwrap_or_default(),
            hasParamsHash: e.params_hash.is_some(),
            paramsHash: e.params_hash.unwrap_or_default(),
            hasResultHash: e.result_hash.is_some(),
            resultHash: e.result_hash.unwrap_or_default(),
            outcome: e.outcome.clone(),
        };
        let hash = call(
            &s.contracts,
            check,
            IAuditCheck::recordHashCall { prevHash: r.prev_hash, seq: r.seq, time: r.time, entry: sol_entry },
        )
        .await;
        assert_eq!(hash, r.hash, "record {}", r.seq);

        let proof = log.proof(r.seq).unwrap();
        let ok = call(
            &s.contracts,
            check,
            IAuditCheck::verifyCall { proof: proof.path.clone(), root: proof.root, hash: proof.record_hash },
        )
        .await;
        assert!(ok, "MerkleProof.verify of record {}", r.seq);
        let wrong = IAuditCheck::verifyCall { proof: proof.path, root: proof.root, hash: B256::repeat_byte(1) };
        assert!(!call(&s.contracts, check, wrong).await);
    }
}

#[tokio::test]
async fn verify_passes_on_an_untouched_log_and_warns_about_unanchored_records() {
    let s = Setup::new().await;
    let log = s.open("audit.sqlite");
    s.append(&log, 4);
    s.anchor(&log).await;
    s.append(&log, 3);
    s.anchor(&log).await;
    s.append(&log, 2);
    let report = log.verify(&s.contracts, s.server.address()).await.unwrap();
    assert!(report.passed(), "{report}");
    assert_eq!((report.records_checked, report.anchors_checked), (9, 2));
    assert_eq!((report.last_seq, report.anchored_through), (9, 7));
    assert_eq!(report.warnings.len(), 1);
    assert_eq!((report.warnings[0].seq, report.warnings[0].kind), (8, IssueKind::NotAnchored));

    // An empty log passes too.
    let empty = s.open("empty.sqlite");
    let other = Wallet::random();
    let report = empty.verify(&s.contracts, other.address()).await.unwrap();
    assert!(report.passed() && report.warnings.is_empty(), "{report}");
}

#[tokio::test]
async fn records_cannot_be_changed_through_sql_by_accident() {
    let s = Setup::new().await;
    let log = s.open("audit.sqlite");
    s.append(&log, 2);
    let conn = rusqlite::Connection::open(s.path("audit.sqlite")).unwrap();
    assert!(conn.execute("UPDATE records SET outcome = 'granted' WHERE seq = 1", []).is_err());
    assert!(conn.execute("DELETE FROM records WHERE seq = 1", []).is_err());
    assert_eq!(log.records(0, 10).unwrap().len(), 2);
}

#[tokio::test]
async fn an_edited_outcome_fails_verification_naming_the_record() {
    let s = Setup::new().await;
    let log = s.open("audit.sqlite");
    let records = s.append(&log, 6);
    assert_eq!(records[2].entry.outcome, "granted");
    s.anchor(&log).await;
    tamper(
        &s.path("audit.sqlite"),
        "DROP TRIGGER records_no_update; UPDATE records SET outcome = 'revoked' WHERE seq = 3;",
    );
    let report = log.verify(&s.contracts, s.server.address()).await.unwrap();
    assert!(!report.passed());
    let first = &report.problems[0];
    assert_eq!((first.seq, first.kind), (3, IssueKind::HashMismatch), "{report}");
    assert!(report.problems.iter().any(|i| i.kind == IssueKind::RootMismatch && i.seq == 1), "{report}");
    assert!(report.to_string().contains("record 3: hash does not match its content"), "{report}");
    // The proof still shows the anchored hash, which the edited content no longer gives.
    let proof = log.proof(3).unwrap();
    assert!(proof.verify());
    assert_ne!(log.records(2, 1).unwrap()[0].content_hash(), proof.record_hash);
}

#[tokio::test]
async fn a_rewritten_hash_breaks_the_chain_and_the_anchor() {
    let s = Setup::new().await;
    let log = s.open("audit.sqlite");
    s.append(&log, 4);
    s.anchor(&log).await;
    // Someone edits record 2 and fixes up its hash: record 3 no longer links to it.
    let mut r = log.records(1, 1).unwrap().remove(0);
    r.entry.outcome = "revoked".into();
    let fixed = r.content_hash();
    tamper(
        &s.path("audit.sqlite"),
        &format!(
            "DROP TRIGGER records_no_update; UPDATE records SET outcome = 'revoked', hash = X'{}' WHERE seq = 2;",
            alloy_primitives::hex::encode(fixed)
        ),
    );
    let report = log.verify(&s.contracts, s.server.address()).await.unwrap();
    assert_eq!((report.problems[0].seq, report.problems[0].kind), (3, IssueKind::BrokenChain), "{report}");
    assert!(report.problems.iter().any(|i| i.kind == IssueKind::RootMismatch), "{report}");
    assert!(matches!(log.proof(2), Err(AuditError::Tampered { .. })));
}

#[tokio::test]
async fn a_deleted_record_fails_verification_naming_the_gap() {
    let s = Setup::new().await;
    let log = s.open("audit.sqlite");
    s.append(&log, 5);
    s.anchor(&log).await;
    s.append(&log, 2);
    tamper(&s.path("audit.sqlite"), "DROP TRIGGER records_no_delete; DELETE FROM records WHERE seq = 3;");
    let report = log.verify(&s.contracts, s.server.address()).await.unwrap();
    let first = &report.problems[0];
    assert_eq!((first.seq, first.kind), (3, IssueKind::Missing), "{report}");
    assert!(first.detail.contains("record 3 gone"), "{report}");
    assert!(report.problems.iter().any(|i| i.kind == IssueKind::RootMismatch && i.seq == 1), "{report}");
    assert!(matches!(log.proof(2), Err(AuditError::Tampered { seq: 3, .. })));

    // Deleting an unanchored record is caught by the chain of the ones after it...
    tamper(&s.path("audit.sqlite"), "DELETE FROM records WHERE seq = 6;");
    let report = log.verify(&s.contracts, s.server.address()).await.unwrap();
    assert!(report.problems.iter().any(|i| i.seq == 6 && i.kind == IssueKind::Missing), "{report}");
    // ...and the last anchored records by the chain's anchor.
    tamper(&s.path("audit.sqlite"), "DELETE FROM records WHERE seq >= 4;");
    let report = log.verify(&s.contracts, s.server.address()).await.unwrap();
    let first = &report.problems[0];
    assert_eq!((first.seq, first.kind), (3, IssueKind::Missing), "{report}");
    assert!(first.detail.contains("records 3..=5 gone"), "{report}");
}

#[tokio::test]
async fn anchoring_refuses_a_damaged_batch() {
    let s = Setup::new().await;
    let log = s.open("audit.sqlite");
    s.append(&log, 3);
    tamper(
        &s.path("audit.sqlite"),
        "DROP TRIGGER records_no_update; UPDATE records SET action = 'data.write' WHERE seq = 2;",
    );
    let err = log.anchor_pending(&s.contracts, &s.server).await.unwrap_err();
    assert!(matches!(err, AuditError::Tampered { seq: 2, .. }), "{err}");
    assert_eq!(s.contracts.audit().next_seq(s.server.address()).await.unwrap(), 1);
}

#[tokio::test]
async fn records_survive_reopening_and_the_chain_continues() {
    let s = Setup::new().await;
    let first = {
        let log = s.open("audit.sqlite");
        let records = s.append(&log, 3);
        s.anchor(&log).await;
        records
    };
    let log = s.open("audit.sqlite");
    assert_eq!(log.records(0, 10).unwrap(), first);
    assert_eq!(log.anchored_through().unwrap(), 3);
    let next = s.append(&log, 1).remove(0);
    assert_eq!((next.seq, next.prev_hash), (4, first[2].hash));
    let a = s.anchor(&log).await.expect("anchor after reopening");
    assert_eq!((a.index, a.first_seq, a.last_seq), (1, 4, 4));
    assert!(log.verify(&s.contracts, s.server.address()).await.unwrap().passed());
}

#[tokio::test]
async fn an_anchor_sent_but_not_stored_is_recovered_not_repeated() {
    let s = Setup::new().await;
    // Two logs with the same records: `sent` anchors; `crashed` is the same log as it was
    // on disk before the anchor was stored.
    let sent = s.open("sent.sqlite");
    let crashed = s.open("crashed.sqlite");
    for _ in 0..5 {
        s.clock.advance(1);
        let seq = sent.last_seq().unwrap() + 1;
        assert_eq!(sent.append(entry(seq)).unwrap(), crashed.append(entry(seq)).unwrap());
    }
    let a = s.anchor(&sent).await.expect("anchor");
    assert_eq!(s.anchor(&crashed).await, None, "nothing new to anchor after recovery");
    let recovered = crashed.anchor(0).unwrap().expect("recovered anchor");
    assert_eq!((recovered.first_seq, recovered.last_seq, recovered.root), (a.first_seq, a.last_seq, a.root));
    assert_eq!(recovered.tx_hash, B256::ZERO);
    check_proof(&s, &crashed.proof(4).unwrap()).await;
    assert_eq!(s.contracts.audit().next_seq(s.server.address()).await.unwrap(), 6);

    // The recovered log goes on from there.
    s.clock.advance(1);
    crashed.append(entry(6)).unwrap();
    let b = s.anchor(&crashed).await.expect("next anchor");
    assert_eq!((b.index, b.first_seq, b.last_seq), (1, 6, 6));
}

#[tokio::test]
async fn another_log_anchored_with_the_same_key_is_refused() {
    let s = Setup::new().await;
    let a = s.open("a.sqlite");
    s.append(&a, 3);
    s.anchor(&a).await;
    let b = s.open("b.sqlite");
    s.clock.advance(100);
    s.append(&b, 4);
    let err = b.anchor_pending(&s.contracts, &s.server).await.unwrap_err();
    assert!(matches!(err, AuditError::Diverged(_)), "{err}");
    assert_eq!(s.contracts.audit().next_seq(s.server.address()).await.unwrap(), 4);

    // And a log anchored by one server is not anchored by another.
    let other = Wallet::random();
    let err = a.anchor_pending(&s.contracts, &other).await.unwrap_err();
    assert!(matches!(err, AuditError::WrongServer { .. }), "{err}");
}

#[tokio::test]
async fn the_background_anchorer_anchors_full_batches_and_stops_on_shutdown() {
    let s = Setup::new().await;
    let log = Arc::new(s.open("audit.sqlite"));
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(run_anchorer(
        log.clone(),
        s.contracts.clone(),
        s.server.clone(),
        Duration::from_secs(3600),
        3,
        shutdown,
    ));
    s.append(&log, 2);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(log.anchored_through().unwrap(), 0, "below batch_min and before the interval");
    s.append(&log, 1);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while log.anchored_through().unwrap() < 3 {
        assert!(tokio::time::Instant::now() < deadline, "the anchorer did not anchor a full batch");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(5), task).await.expect("anchorer stops").expect("no panic");
    assert_eq!(s.contracts.audit().next_seq(s.server.address()).await.unwrap(), 4);
}

#[tokio::test]
async fn the_background_anchorer_anchors_a_partial_batch_after_the_interval() {
    let s = Setup::new().await;
    let log = Arc::new(s.open("audit.sqlite"));
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(run_anchorer(
        log.clone(),
        s.contracts.clone(),
        s.server.clone(),
        Duration::from_millis(300),
        100,
        shutdown,
    ));
    s.append(&log, 1);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while log.anchored_through().unwrap() < 1 {
        assert!(tokio::time::Instant::now() < deadline, "the anchorer did not anchor after the interval");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(stop);
    tokio::time::timeout(Duration::from_secs(5), task).await.expect("anchorer stops").expect("no panic");
}
