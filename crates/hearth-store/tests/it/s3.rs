//! S3 specifics: the secret key never appears in errors or `Debug`, and a missing
//! bucket stops the open with a message naming it.

use hearth_store::{BlobConfig, Store, StoreError};

use crate::harness::{Fixture, S3_SECRET, put};

#[tokio::test]
async fn secret_key_never_appears_in_debug_or_errors() {
    let fx = Fixture::s3();
    let config = fx.config();
    assert!(!format!("{config:?}").contains(S3_SECRET));
    let store = Store::open(&config).await.unwrap();
    put(&store, "journal", "a", b"a").await;
    let shown = format!("{store:?}");
    assert!(!shown.contains(S3_SECRET), "{shown}");
    assert!(shown.contains("s3 bucket"), "{shown}");
    drop(store);

    let mut missing = config.clone();
    let BlobConfig::S3(s3) = &mut missing.blobs else { unreachable!() };
    s3.bucket = "no-such-bucket".into();
    let err = Store::open(&missing).await.unwrap_err();
    assert!(matches!(err, StoreError::Blob { .. }), "{err}");
    let text = format!("{err} {err:?}");
    assert!(text.contains("no-such-bucket"), "{text}");
    assert!(!text.contains(S3_SECRET), "{text}");
    assert!(!err.to_string().contains('\n'), "{err}");
}
