//! The behaviour every [`Store`] driver must show, written once and run by each
//! driver's tests against its real server (feature `testing`).
//!
//! A driver's test supplies a [`Backend`]: the store, plus a way to list what the
//! server really holds, so "an aborted or interrupted upload leaves nothing behind"
//! is checked on the server, not taken from the driver's word.

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::StreamExt;

use crate::{ByteRange, ObjectReader, Store, StoreCaller, StoreError, UploadTarget};

/// A store under test and a view of its server.
#[async_trait]
pub trait Backend: Send + Sync {
    fn store(&self) -> &dyn Store;
    /// Every object the server holds for this store (temporary and partial uploads
    /// included), by name, sorted.
    async fn objects(&self) -> Vec<String>;
    /// Whether the server itself refuses a second object under one name (a create
    /// that fails when the name exists). Where it cannot (S3), the later of two
    /// racing commits may replace the first; the core's compare-and-swap on the
    /// image status is what keeps two uploads of one image from racing there.
    fn exclusive_create(&self) -> bool {
        true
    }
    /// Who the calls are made for (multi-tenant Swift needs a token).
    fn caller(&self) -> StoreCaller {
        StoreCaller::service()
    }
}

/// The caller of the backend, for the calls below.
fn who(b: &dyn Backend) -> StoreCaller {
    b.caller()
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

/// Starts an upload of `id` for `caller`, with no declared size.
pub async fn begin(
    store: &dyn Store,
    id: &str,
    caller: &StoreCaller,
) -> Result<Box<dyn crate::StoreWriter>, StoreError> {
    let target = UploadTarget {
        image_id: id,
        expected_size: None,
        caller,
    };
    store.begin_upload(&target).await
}

async fn upload(store: &dyn Store, caller: &StoreCaller, id: &str, data: &[u8]) -> String {
    let mut w = begin(store, id, caller).await.expect("begin upload");
    for chunk in data.chunks(64 * 1024) {
        w.write(Bytes::copy_from_slice(chunk)).await.expect("write");
    }
    w.commit().await.expect("commit")
}

/// Write in chunks, read back whole, size, delete; a second delete is NotFound.
pub async fn round_trip_and_delete(b: &dyn Backend, id: &str) {
    let s = b.store();
    let c = who(b);
    let before = b.objects().await;
    let data = pattern(3 * 1024 * 1024 + 17);
    let location = upload(s, &c, id, &data).await;
    assert!(s.owns(&location), "round trip: the store owns {location}");
    assert_eq!(
        b.objects().await.len(),
        before.len() + 1,
        "round trip: one object"
    );
    assert_eq!(s.size(&location, &c).await.unwrap(), data.len() as u64);
    let reader = s.open(&location, None, &c).await.unwrap();
    assert_eq!(reader.total_size, data.len() as u64);
    assert!(
        read_all(reader).await == data,
        "round trip: the bytes come back"
    );
    s.delete(&location, &c).await.unwrap();
    assert_eq!(b.objects().await, before, "round trip: delete removes it");
    assert!(
        matches!(s.delete(&location, &c).await, Err(StoreError::NotFound(_))),
        "round trip: a second delete is NotFound"
    );
}

/// Ranges inside, at the edges, across chunk boundaries; ranges past the end fail.
pub async fn ranged_reads(b: &dyn Backend, id: &str) {
    let s = b.store();
    let c = who(b);
    let data = pattern(2 * 1024 * 1024 + 5);
    let location = upload(s, &c, id, &data).await;
    let last = data.len() as u64 - 1;
    for (start, end) in [
        (0, 99),
        (1_000_000, 1_100_000),
        (last - 10, last),
        (12_345, 12_345),
        (0, last),
    ] {
        let reader = s
            .open(&location, Some(ByteRange { start, end }), &c)
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
        let bad = s.open(&location, Some(ByteRange { start, end }), &c).await;
        assert!(bad.is_err(), "range {start}-{end} is refused");
    }
    s.delete(&location, &c).await.unwrap();
}

/// open, size and delete of an object that is not there are NotFound. The location
/// is one the store made and then deleted, so it is well-formed.
pub async fn missing_object_is_not_found(b: &dyn Backend, id: &str) {
    let s = b.store();
    let c = who(b);
    let location = upload(s, &c, id, b"soon gone").await;
    s.delete(&location, &c).await.unwrap();
    assert!(
        matches!(
            s.open(&location, None, &c).await,
            Err(StoreError::NotFound(_))
        ),
        "missing: open"
    );
    assert!(
        matches!(s.size(&location, &c).await, Err(StoreError::NotFound(_))),
        "missing: size"
    );
    assert!(
        matches!(s.delete(&location, &c).await, Err(StoreError::NotFound(_))),
        "missing: delete"
    );
}

/// An aborted upload and one dropped midway (a request that died) leave nothing on
/// the server; the same id can then be uploaded.
pub async fn abort_and_drop_leave_nothing(b: &dyn Backend, id: &str) {
    let s = b.store();
    let c = who(b);
    let before = b.objects().await;
    let mut w = begin(s, id, &c).await.unwrap();
    w.write(Bytes::from(pattern(5 * 1024 * 1024)))
        .await
        .unwrap();
    w.abort().await;
    assert_eq!(b.objects().await, before, "abort leaves nothing");

    let mut w = begin(s, id, &c).await.unwrap();
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

    let location = upload(s, &c, id, b"after both").await;
    assert_eq!(
        read_all(s.open(&location, None, &c).await.unwrap()).await,
        b"after both"
    );
    s.delete(&location, &c).await.unwrap();
}

/// Two uploads of one image racing. With an exclusive create the first commit wins
/// and the other is Duplicate; without, the later commit may replace the first, but
/// the stored object is always one writer's whole data, never a mix. Either way one
/// object remains, and a new upload of a stored image is refused.
pub async fn concurrent_uploads_one_wins(b: &dyn Backend, id: &str) {
    let s = b.store();
    let c = who(b);
    let before = b.objects().await;
    let mut first = begin(s, id, &c).await.unwrap();
    let mut second = begin(s, id, &c).await.unwrap();
    first.write(Bytes::from_static(b"first")).await.unwrap();
    second.write(Bytes::from_static(b"second")).await.unwrap();
    let location = first.commit().await.unwrap();
    let later = second.commit().await;
    let stored = if b.exclusive_create() {
        assert!(
            matches!(later, Err(StoreError::Duplicate(_))),
            "the later commit is Duplicate"
        );
        b"first".to_vec()
    } else {
        match later {
            Ok(second_location) => {
                assert_eq!(second_location, location, "one image, one location");
                b"second".to_vec()
            }
            Err(StoreError::Duplicate(_)) => b"first".to_vec(),
            Err(other) => panic!("the later commit failed: {other}"),
        }
    };
    assert_eq!(
        b.objects().await.len(),
        before.len() + 1,
        "only one object is stored"
    );
    assert_eq!(
        read_all(s.open(&location, None, &c).await.unwrap()).await,
        stored
    );
    assert!(
        matches!(begin(s, id, &c).await, Err(StoreError::Duplicate(_))),
        "an upload of a stored image is refused"
    );
    s.delete(&location, &c).await.unwrap();
    assert_eq!(b.objects().await, before);
}

/// An object of `size` bytes (past the driver's large-object threshold, which the
/// test configures small): written in 1 MiB chunks generated on the fly, read back
/// whole and by ranges across the segment or part boundary at `boundary`, checked
/// by digest so nothing is ever held in memory, then deleted with every piece.
pub async fn large_object(b: &dyn Backend, id: &str, size: u64, boundary: u64) {
    use sha2::{Digest, Sha256};
    let s = b.store();
    let c = who(b);
    let before = b.objects().await;
    let mut w = begin(s, id, &c).await.expect("begin large upload");
    let mut written = Sha256::new();
    let mut offset = 0u64;
    while offset < size {
        let len = (size - offset).min(1 << 20);
        let chunk = generated(offset, len);
        written.update(&chunk);
        w.write(chunk).await.expect("large write");
        offset += len;
    }
    let location = w.commit().await.expect("large commit");
    assert_eq!(s.size(&location, &c).await.unwrap(), size, "large: size");

    let reader = s.open(&location, None, &c).await.unwrap();
    assert_eq!(reader.total_size, size, "large: total size");
    let mut read = Sha256::new();
    let mut count = 0u64;
    let mut stream = reader.stream;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.expect("large read");
        count += chunk.len() as u64;
        read.update(&chunk);
    }
    assert_eq!(count, size, "large: bytes read");
    assert!(
        read.finalize() == written.finalize(),
        "large: the bytes come back"
    );

    for (start, end) in [
        (boundary - 10, boundary + 9),
        (boundary, boundary),
        (size - 5, size - 1),
    ] {
        let reader = s
            .open(&location, Some(ByteRange { start, end }), &c)
            .await
            .unwrap();
        let got = read_all(reader).await;
        assert!(
            got == generated(start, end - start + 1),
            "large: range {start}-{end}"
        );
    }
    s.delete(&location, &c).await.unwrap();
    assert_eq!(b.objects().await, before, "large: every piece deleted");
}

/// Bytes `[offset, offset + len)` of an endless pattern in which each byte depends on
/// its position, so a misplaced piece is caught.
pub fn generated(offset: u64, len: u64) -> Bytes {
    (offset..offset + len)
        .map(|i| {
            let x = i.wrapping_mul(0x9e37_79b9_7f4a_7c15);
            (x >> 56) as u8 ^ (i >> 20) as u8
        })
        .collect::<Vec<u8>>()
        .into()
}
