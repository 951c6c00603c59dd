//! Recovery on open: a crash after staging (a blob without a row) and an unfinished
//! upload are removed and counted; committed files are untouched.

use hearth_store::Recovery;

use crate::both_backends;
use crate::harness::{Fixture, bytes, put, read};

both_backends!(reopen_after_a_crash_removes_uncommitted_blobs_and_partials, clean_open_reports_nothing_removed);

async fn reopen_after_a_crash_removes_uncommitted_blobs_and_partials(fx: Fixture) {
    let store = fx.open().await;
    let kept = put(&store, "journal", "kept", &bytes(4000, 9)).await;
    // Staged, never committed: the process "crashes" (the store is dropped).
    let staged = store.stage(&bytes(2000, 1)[..]).await.unwrap();
    let _also_staged = store.stage(&bytes(10, 2)[..]).await.unwrap();
    fx.leave_partial();
    drop(store);
    drop(staged);
    assert_eq!((fx.blob_count(), fx.partial_count()), (3, 1));

    let store = fx.open().await;
    assert_eq!(*store.recovery(), Recovery { removed_blobs: 2, removed_partials: 1 });
    assert_eq!((fx.blob_count(), fx.partial_count()), (1, 0));
    assert_eq!(store.list(None, 0, 10).await.unwrap(), vec![kept.clone()]);
    assert_eq!(read(&store, kept.id).await.unwrap(), bytes(4000, 9));
    drop(store);

    let store = fx.open().await;
    assert_eq!(*store.recovery(), Recovery::default());
}

async fn clean_open_reports_nothing_removed(fx: Fixture) {
    let store = fx.open().await;
    assert_eq!(*store.recovery(), Recovery::default());
    put(&store, "journal", "a", b"a").await;
    drop(store);
    let store = fx.open().await;
    assert_eq!(*store.recovery(), Recovery::default());
    assert_eq!(fx.blob_count(), 1);
}
