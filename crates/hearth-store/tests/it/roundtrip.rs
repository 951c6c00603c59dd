//! The write/read/list/delete cycle: stage and commit, get, list with paging and scope
//! patterns, versions, abort, the size limit, and commit's checks.

use alloy_primitives::B256;
use hearth_store::{LIST_PAGE_SIZE_MAX, NewFile, PART_BYTES, StoreError};
use sha2::{Digest, Sha256};

use crate::both_backends;
use crate::harness::{Fixture, bytes, put, read};

both_backends!(
    put_get_list_delete_round_trip,
    multi_part_file_round_trips,
    empty_file_round_trips,
    versions_increase_per_scope_and_name,
    list_pages_by_id_and_matches_scope_patterns,
    staged_but_not_committed_is_invisible,
    abort_removes_the_staged_blob,
    stream_over_the_size_limit_is_refused_and_leaves_nothing,
    commit_with_a_bad_scope_is_refused_and_drops_the_blob,
    failing_input_stream_is_reported_and_leaves_nothing,
);

async fn put_get_list_delete_round_trip(fx: Fixture) {
    let store = fx.open().await;
    let data = bytes(10_000, 7);
    let staged = store.stage(data.as_slice()).await.unwrap();
    assert_eq!(staged.size, 10_000);
    assert_eq!(staged.sha256, <[u8; 32]>::from(Sha256::digest(&data)));
    let new = NewFile {
        scope: "journal".into(),
        name: "2024-05-01.md".into(),
        chain_file_id: Some(42),
        created_at: 1_714_521_600,
    };
    let meta = store.commit(staged, new).await.unwrap();
    assert_eq!(
        (
            meta.id,
            meta.scope.as_str(),
            meta.name.as_str(),
            meta.version,
            meta.size,
            meta.created_at,
            meta.chain_file_id
        ),
        (1, "journal", "2024-05-01.md", 1, 10_000, 1_714_521_600, Some(42))
    );
    assert_eq!(meta.sha256, B256::from(<[u8; 32]>::from(Sha256::digest(&data))));

    assert_eq!(store.get(meta.id).await.unwrap(), meta);
    let (opened, _) = store.open_blob(meta.id).await.unwrap();
    assert_eq!(opened, meta);
    assert_eq!(read(&store, meta.id).await.unwrap(), data);
    assert_eq!(store.list(None, 0, 10).await.unwrap(), vec![meta.clone()]);
    assert_eq!(fx.blob_count(), 1);

    assert_eq!(store.delete(meta.id).await.unwrap(), meta);
    assert!(matches!(store.get(meta.id).await, Err(StoreError::NotFound { id: 1 })));
    assert!(matches!(store.open_blob(meta.id).await, Err(StoreError::NotFound { id: 1 })));
    assert!(matches!(store.delete(meta.id).await, Err(StoreError::NotFound { id: 1 })));
    assert!(store.list(None, 0, 10).await.unwrap().is_empty());
    assert_eq!(fx.blob_count(), 0);

    // Ids are never reused.
    let next = put(&store, "journal", "2024-05-01.md", b"again").await;
    assert_eq!(next.id, 2);
}

async fn multi_part_file_round_trips(fx: Fixture) {
    let store = fx.open().await;
    let data = bytes(2 * PART_BYTES + 12_345, 3);
    let meta = put(&store, "photos", "big.age", &data).await;
    assert_eq!(meta.size, data.len() as u64);
    assert_eq!(read(&store, meta.id).await.unwrap(), data);
    assert_eq!((fx.blob_count(), fx.partial_count()), (1, 0));
}

async fn empty_file_round_trips(fx: Fixture) {
    let store = fx.open().await;
    let meta = put(&store, "journal", "empty", b"").await;
    assert_eq!(meta.size, 0);
    assert_eq!(read(&store, meta.id).await.unwrap(), Vec::<u8>::new());
}

async fn versions_increase_per_scope_and_name(fx: Fixture) {
    let store = fx.open().await;
    let v1 = put(&store, "journal", "a.md", b"1").await;
    let v2 = put(&store, "journal", "a.md", b"2").await;
    let other_name = put(&store, "journal", "b.md", b"3").await;
    let other_scope = put(&store, "notes", "a.md", b"4").await;
    assert_eq!((v1.version, v2.version, other_name.version, other_scope.version), (1, 2, 1, 1));
    // Deleting the newest version does not hand its number out again.
    store.delete(v2.id).await.unwrap();
    let v3 = put(&store, "journal", "a.md", b"5").await;
    assert_eq!(v3.version, 3);
    assert_eq!(read(&store, v1.id).await.unwrap(), b"1");
}

async fn list_pages_by_id_and_matches_scope_patterns(fx: Fixture) {
    let store = fx.open().await;
    let mut all = Vec::new();
    for (scope, name) in [
        ("journal", "1"),
        ("messages.sms", "2"),
        ("messages", "3"),
        ("messages.email", "4"),
        ("messages.sms.mms", "5"),
        ("health", "6"),
        ("messagesx", "7"),
    ] {
        all.push(put(&store, scope, name, name.as_bytes()).await);
    }
    let ids = |files: Vec<hearth_store::FileMeta>| files.iter().map(|f| f.id).collect::<Vec<_>>();

    // Paging by id.
    let first = store.list(None, 0, 3).await.unwrap();
    assert_eq!(ids(first.clone()), [1, 2, 3]);
    let second = store.list(None, first.last().unwrap().id, 3).await.unwrap();
    assert_eq!(ids(second), [4, 5, 6]);
    assert_eq!(ids(store.list(None, 6, 3).await.unwrap()), [7]);
    assert!(store.list(None, 7, 3).await.unwrap().is_empty());
    assert!(store.list(None, 0, 0).await.unwrap().is_empty());
    // A huge limit is capped, not refused.
    assert_eq!(store.list(None, 0, usize::MAX).await.unwrap(), all);
    assert!(LIST_PAGE_SIZE_MAX >= all.len());

    // Scope patterns, as hearth_core::pattern_covers reads them.
    assert_eq!(ids(store.list(Some("*"), 0, 100).await.unwrap()), [1, 2, 3, 4, 5, 6, 7]);
    assert_eq!(ids(store.list(Some("messages"), 0, 100).await.unwrap()), [3]);
    assert_eq!(ids(store.list(Some("messages.*"), 0, 100).await.unwrap()), [2, 4, 5]);
    assert_eq!(ids(store.list(Some("messages.sms.*"), 0, 100).await.unwrap()), [5]);
    assert_eq!(ids(store.list(Some("messages.*"), 2, 1).await.unwrap()), [4]);
    assert_eq!(ids(store.list(Some("messages.*"), 4, 100).await.unwrap()), [5]);
    assert!(store.list(Some("nothing"), 0, 100).await.unwrap().is_empty());

    // Every file at once, up to a bound.
    assert_eq!(store.list_all(None, 7).await.unwrap(), Some(all.clone()));
    assert_eq!(store.list_all(None, 6).await.unwrap(), None, "one over the bound");
    assert_eq!(store.list_all(Some("messages.*"), 3).await.unwrap().map(ids), Some(vec![2, 4, 5]));
    assert_eq!(store.list_all(Some("nothing"), 0).await.unwrap(), Some(vec![]));
    for bad in ["mess*", "Messages", "a..b", ""] {
        assert!(
            matches!(store.list(Some(bad), 0, 10).await, Err(StoreError::Invalid { what: "scope pattern", .. })),
            "{bad:?} should be refused"
        );
    }
}

async fn staged_but_not_committed_is_invisible(fx: Fixture) {
    let store = fx.open().await;
    let staged = store.stage(&b"secret ciphertext"[..]).await.unwrap();
    assert_eq!(fx.blob_count(), 1, "the blob is written");
    assert!(store.list(None, 0, 10).await.unwrap().is_empty());
    assert!(matches!(store.get(1).await, Err(StoreError::NotFound { id: 1 })));
    assert!(matches!(store.open_blob(1).await, Err(StoreError::NotFound { id: 1 })));
    let meta = store.commit(staged, NewFile::now("journal", "late.md")).await.unwrap();
    assert_eq!(store.list(None, 0, 10).await.unwrap(), vec![meta]);
}

async fn abort_removes_the_staged_blob(fx: Fixture) {
    let store = fx.open().await;
    let staged = store.stage(&bytes(5000, 1)[..]).await.unwrap();
    assert_eq!(fx.blob_count(), 1);
    store.abort(staged).await.unwrap();
    assert_eq!((fx.blob_count(), fx.partial_count()), (0, 0));
    assert!(store.list(None, 0, 10).await.unwrap().is_empty());
}

/// Yields `data` in pieces of `piece` bytes, as a network stream would.
fn pieces(data: Vec<u8>, piece: usize) -> impl tokio::io::AsyncRead + Unpin + Send {
    let chunks: Vec<std::io::Result<bytes::Bytes>> =
        data.chunks(piece).map(|c| Ok(bytes::Bytes::copy_from_slice(c))).collect();
    tokio_util_like::StreamReader::new(chunks)
}

async fn stream_over_the_size_limit_is_refused_and_leaves_nothing(fx: Fixture) {
    let config = hearth_store::StoreConfig { file_bytes_max: 1000, ..fx.config() };
    let store = hearth_store::Store::open(&config).await.unwrap();
    let at_limit = store.stage(pieces(bytes(1000, 2), 100)).await.unwrap();
    assert_eq!(at_limit.size, 1000);
    store.abort(at_limit).await.unwrap();

    let err = store.stage(pieces(bytes(1001, 2), 100)).await.unwrap_err();
    assert!(matches!(err, StoreError::LimitExceeded { limit_bytes: 1000 }), "{err}");
    assert!(err.to_string().contains("1000 bytes"), "{err}");
    assert_eq!((fx.blob_count(), fx.partial_count()), (0, 0));
    assert!(store.list(None, 0, 10).await.unwrap().is_empty());
}

async fn commit_with_a_bad_scope_is_refused_and_drops_the_blob(fx: Fixture) {
    let store = fx.open().await;
    for (scope, name) in [("Not A Scope", "a"), ("journal", ""), ("journal", "bad\nname")] {
        let staged = store.stage(&b"x"[..]).await.unwrap();
        let new = NewFile { scope: scope.into(), name: name.into(), chain_file_id: None, created_at: 0 };
        let err = store.commit(staged, new).await.unwrap_err();
        assert!(matches!(err, StoreError::Invalid { .. }), "{err}");
        assert_eq!(fx.blob_count(), 0, "{scope:?}/{name:?} left its blob");
    }
    assert!(store.list(None, 0, 10).await.unwrap().is_empty());
}

async fn failing_input_stream_is_reported_and_leaves_nothing(fx: Fixture) {
    let store = fx.open().await;
    let chunks = vec![Ok(bytes::Bytes::from(bytes(500, 1))), Err(std::io::Error::other("connection reset by client"))];
    let err = store.stage(tokio_util_like::StreamReader::new(chunks)).await.unwrap_err();
    assert!(matches!(err, StoreError::Input(_)), "{err}");
    assert!(err.to_string().contains("connection reset by client"), "{err}");
    assert_eq!((fx.blob_count(), fx.partial_count()), (0, 0));
}

/// A minimal `AsyncRead` over ready chunks (what tokio-util's `StreamReader` does).
mod tokio_util_like {
    use std::pin::Pin;
    use std::task::{Context, Poll};

    pub struct StreamReader {
        chunks: std::collections::VecDeque<std::io::Result<bytes::Bytes>>,
    }

    impl StreamReader {
        pub fn new(chunks: Vec<std::io::Result<bytes::Bytes>>) -> StreamReader {
            StreamReader { chunks: chunks.into() }
        }
    }

    impl tokio::io::AsyncRead for StreamReader {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
            buf: &mut tokio::io::ReadBuf<'_>,
        ) -> Poll<std::io::Result<()>> {
            match self.chunks.pop_front() {
                None => Poll::Ready(Ok(())),
                Some(Err(e)) => Poll::Ready(Err(e)),
                Some(Ok(mut chunk)) => {
                    let n = chunk.len().min(buf.remaining());
                    buf.put_slice(&chunk.split_to(n));
                    if !chunk.is_empty() {
                        self.chunks.push_front(Ok(chunk));
                    }
                    Poll::Ready(Ok(()))
                }
            }
        }
    }
}
