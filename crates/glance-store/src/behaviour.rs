//! The behaviour every [`Store`] driver must show, written once and run by each
//! driver's tests against its real server (feature `testing`).
//!
//! A driver's test supplies a [`Backend`]: the store, plus a way to list what the
//! server really holds, so "an aborted or interrupted upload leaves nothing behind"
//! is checked on the server, not taken from the driver's word.

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::StreamExt;

use crate::{ByteRange, ObjectReader, Store, StoreError};

/// A store under test and a view of its server.
#[async_trait]
pub trait Backend: Send + Sync {
    fn store(&self) -> &dyn Store;
    /// Every object the server holds for this store (temporary and partial uploads
    /// included), by name, sorted.
    async fn objects(&self) -> Vec<String>;
}

/// Runs every check, each on its own image id. Panics with the check's name on
/// the first failure.
pub async fn run_all(backend: &dyn Backend) {
    round_trip_and_delete(backend, &test_id(1)).await;
    ranged_reads(backend, &test_id(2)).await;
    missing_object_is_not_found(backend, &test_id(3)).await;
    abort_and_drop_leave_nothing(backend, &test_id(4)).await;
    concurrent_uploads_one_wins(backend, &test_id(5)).await;
}

/// An image id (a UUID) unique to one check.
pub fn test_id(n: u32) -> String {
    format!("6d1c6bc8-7b36-4b2b-9d3e-{n:012x}")
}

/// Deterministic, non-repeating-looking test data.
pub fn pattern(len: usize) -> Vec<u8> {
    let mut x: u32 = 0x9e37_79b9;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect()
}

pub async fn read_all(reader: ObjectReader) -> Vec<u8> {
    let mut out = Vec::new();
    let mut stream = reader.stream;
    while let Some(chunk) = stream.next().await {
        out.extend_from_slice(&chunk.expect("read chunk"));
    }
    out
}

async fn upload(store: &dyn Store, id: &str, data: &[u8]) -> String {
    let mut w = store.begin_upload(id).await.expect("begin upload");
    for chunk in data.chunks(64 * 1024) {
        w.write(Bytes::copy_from_slice(chunk)).await.expect("write");
    }
    w.commit().await.expect("commit")
}

/// Write in chunks, read back whole, size, delete; a second delete is NotFound.
pub async fn round_trip_and_delete(b: &dyn Backend, id: &str) {
    let s = b.store();
    let before = b.objects().await;
    let data = pattern(3 * 1024 * 1024 + 17);
    let location = upload(s, id, &data).await;
    assert!(s.owns(&location), "round trip: the store owns {location}");
    assert_eq!(
        b.objects().await.len(),
        before.len() + 1,
        "round trip: one object"
    );
    assert_eq!(s.size(&location).await.unwrap(), data.len() as u64);
    let reader = s.open(&location, None).await.unwrap();
    assert_eq!(reader.total_size, data.len() as u64);
    assert!(
        read_all(reader).await == data,
        "round trip: the bytes come back"
    );
    s.delete(&location).await.unwrap();
    assert_eq!(b.objects().await, before, "round trip: delete removes it");
    assert!(
        matches!(s.delete(&location).await, Err(StoreError::NotFound(_))),
        "round trip: a second delete is NotFound"
    );
}

/// Ranges inside, at the edges, across chunk boundaries; ranges past the end fail.
pub async fn ranged_reads(b: &dyn Backend, id: &str) {
    let s = b.store();
    let data = pattern(2 * 1024 * 1024 + 5);
    let location = upload(s, id, &data).await;
    let last = data.len() as u64 - 1;
    for (start, end) in [
        (0, 99),
        (1_000_000, 1_100_000),
        (last - 10, last),
        (12_345, 12_345),
        (0, last),
    ] {
        let reader = s
            .open(&location, Some(ByteRange { start, end }))
            .await
            .unwrap();
        assert_eq!(
            reader.total_size,
            data.len() as u64,
            "range {start}-{end}: total size"
        );
        let got = read_all(reader).await;
        assert!(
            got == data[start as usize..=end as usize],
            "range {start}-{end}: bytes"
        );
    }
    for (start, end) in [(0, last + 1), (last + 1, last + 1), (5, 4)] {
        let bad = s.open(&location, Some(ByteRange { start, end })).await;
        assert!(bad.is_err(), "range {start}-{end} is refused");
    }
    s.delete(&location).await.unwrap();
}

/// open, size and delete of an object that is not there are NotFound. The location
/// is one the store made and then deleted, so it is well-formed.
pub async fn missing_object_is_not_found(b: &dyn Backend, id: &str) {
    let s = b.store();
    let location = upload(s, id, b"soon gone").await;
    s.delete(&location).await.unwrap();
    assert!(
        matches!(s.open(&location, None).await, Err(StoreError::NotFound(_))),
        "missing: open"
    );
    assert!(
        matches!(s.size(&location).await, Err(StoreError::NotFound(_))),
        "missing: size"
    );
    assert!(
        matches!(s.delete(&location).await, Err(StoreError::NotFound(_))),
        "missing: delete"
    );
}

/// An aborted upload and one dropped midway (a request that died) leave nothing on
/// the server; the same id can then be uploaded.
pub async fn abort_and_drop_leave_nothing(b: &dyn Backend, id: &str) {
    let s = b.store();
    let before = b.objects().await;
    let mut w = s.begin_upload(id).await.unwrap();
    w.write(Bytes::from(pattern(5 * 1024 * 1024)))
        .await
        .unwrap();
    w.abort().await;
    assert_eq!(b.objects().await, before, "abort leaves nothing");

    let mut w = s.begin_upload(id).await.unwrap();
    w.write(Bytes::from(pattern(5 * 1024 * 1024)))
        .await
        .unwrap();
    drop(w);
    // Drivers may clean up a dropped upload on a task of their own; give it time.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while b.objects().await != before && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(b.objects().await, before, "a dropped upload leaves nothing");

    let location = upload(s, id, b"after both").await;
    assert_eq!(
        read_all(s.open(&location, None).await.unwrap()).await,
        b"after both"
    );
    s.delete(&location).await.unwrap();
}

/// Two uploads of one image racing: the first commit wins, the other is Duplicate
/// and leaves nothing; a new upload of a stored image is refused.
pub async fn concurrent_uploads_one_wins(b: &dyn Backend, id: &str) {
    let s = b.store();
    let before = b.objects().await;
    let mut first = s.begin_upload(id).await.unwrap();
    let mut second = s.begin_upload(id).await.unwrap();
    first.write(Bytes::from_static(b"first")).await.unwrap();
    second.write(Bytes::from_static(b"second")).await.unwrap();
    let location = first.commit().await.unwrap();
    assert!(
        matches!(second.commit().await, Err(StoreError::Duplicate(_))),
        "the later commit is Duplicate"
    );
    assert_eq!(
        b.objects().await.len(),
        before.len() + 1,
        "only the winner is stored"
    );
    assert_eq!(
        read_all(s.open(&location, None).await.unwrap()).await,
        b"first"
    );
    assert!(
        matches!(s.begin_upload(id).await, Err(StoreError::Duplicate(_))),
        "an upload of a stored image is refused"
    );
    s.delete(&location).await.unwrap();
    assert_eq!(b.objects().await, before);
}
