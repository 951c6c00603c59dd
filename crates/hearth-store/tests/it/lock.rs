//! One store per data directory: a second open while the first is alive is `Busy`.

use hearth_store::StoreError;

use crate::both_backends;
use crate::harness::{Fixture, put};

both_backends!(second_open_while_the_first_is_alive_is_busy);

async fn second_open_while_the_first_is_alive_is_busy(fx: Fixture) {
    let first = fx.open().await;
    let err = hearth_store::Store::open(&fx.config()).await.unwrap_err();
    assert!(matches!(err, StoreError::Busy { .. }), "{err}");
    assert!(err.to_string().contains("in use by another process"), "{err}");
    // The refused open changed nothing: the first store still works.
    let meta = put(&first, "journal", "a", b"a").await;
    drop(first);
    let second = fx.open().await;
    assert_eq!(second.get(meta.id).await.unwrap(), meta);
}
