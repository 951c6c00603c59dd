//! Reads verify: a changed blob fails with `Integrity` naming the file at the end of the
//! stream, a shortened or lengthened one too, a missing one is `BlobMissing`, and the
//! other files still read.

use hearth_store::StoreError;
use tokio::io::AsyncReadExt;

use crate::both_backends;
use crate::harness::{Fixture, bytes, put, read};

both_backends!(
    flipped_byte_fails_with_integrity_naming_the_file,
    truncated_or_extended_blob_fails_with_integrity,
    deleted_blob_file_is_blob_missing,
);

async fn flipped_byte_fails_with_integrity_naming_the_file(fx: Fixture) {
    let store = fx.open().await;
    let a = put(&store, "journal", "a", &bytes(3000, 1)).await;
    let b = put(&store, "journal", "b", &bytes(3000, 2)).await;
    let key = fx.key_of(a.id);
    let mut blob = fx.read_blob(&key);
    blob[1234] ^= 0x01;
    fx.write_blob(&key, &blob);

    // Every byte is handed out; the failure comes at the end, as an io::Error that
    // carries the store's error.
    let (_, mut reader) = store.open_blob(a.id).await.unwrap();
    let mut out = Vec::new();
    let io_err = reader.read_to_end(&mut out).await.unwrap_err();
    assert_eq!(io_err.kind(), std::io::ErrorKind::InvalidData);
    assert_eq!(out.len(), 3000);
    let err = StoreError::from(io_err);
    assert!(matches!(&err, StoreError::Integrity { id, .. } if *id == a.id), "{err}");
    assert!(err.to_string().contains(&format!("file {}", a.id)), "{err}");
    assert!(err.to_string().contains("sha256"), "{err}");
    // Reading on keeps failing rather than reporting a clean end.
    assert!(reader.read(&mut [0u8; 16]).await.is_err());

    assert_eq!(read(&store, b.id).await.unwrap(), bytes(3000, 2));
}

async fn truncated_or_extended_blob_fails_with_integrity(fx: Fixture) {
    let store = fx.open().await;
    let short = put(&store, "journal", "short", &bytes(3000, 1)).await;
    let long = put(&store, "journal", "long", &bytes(3000, 2)).await;
    let key = fx.key_of(short.id);
    fx.write_blob(&key, &bytes(2999, 1));
    let key = fx.key_of(long.id);
    let mut extended = bytes(3000, 2);
    extended.push(0);
    fx.write_blob(&key, &extended);

    let err = read(&store, short.id).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Integrity { id, problem } if *id == short.id && problem.contains("2999")),
        "{err}"
    );
    let err = read(&store, long.id).await.unwrap_err();
    assert!(matches!(&err, StoreError::Integrity { id, .. } if *id == long.id), "{err}");
}

async fn deleted_blob_file_is_blob_missing(fx: Fixture) {
    let store = fx.open().await;
    let gone = put(&store, "journal", "gone", b"ciphertext").await;
    let kept = put(&store, "journal", "kept", b"other").await;
    fx.remove_blob(&fx.key_of(gone.id));
    let err = read(&store, gone.id).await.unwrap_err();
    assert!(matches!(err, StoreError::BlobMissing { id } if id == gone.id), "{err}");
    assert_eq!(err.to_string(), format!("file {}: its blob is missing from the blob store", gone.id));
    // The row is still there, and the other file reads.
    assert_eq!(store.get(gone.id).await.unwrap(), gone);
    assert_eq!(read(&store, kept.id).await.unwrap(), b"other");
    // Deleting a file whose blob is already gone works.
    assert_eq!(store.delete(gone.id).await.unwrap(), gone);
}
