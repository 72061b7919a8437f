//! `write_stream` through the filesystem driver: digests, limits, and that every
//! failure leaves the data directory empty.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use common::{chunks, entries, md5_hex, sha512_hex, store, IMAGE_ID};
use futures_util::stream::{self, StreamExt};
use glance_store::behaviour::{pattern, read_all};
use glance_store::{
    write_stream, ChunkObserver, HashAlgo, Store, StoreCaller, StoreError, UploadLimits,
    WrittenObject,
};

async fn upload(
    s: &dyn Store,
    body: Vec<Result<Bytes, String>>,
    limits: UploadLimits,
) -> Result<WrittenObject, StoreError> {
    write_stream(
        s,
        IMAGE_ID,
        &StoreCaller::service(),
        stream::iter(body),
        HashAlgo::Sha512,
        limits,
        Vec::new(),
    )
    .await
}

#[tokio::test]
async fn round_trip_with_digests() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path());
    let data = pattern(5 * 1024 * 1024 + 3);
    let written = upload(&s, chunks(&data, 65536), UploadLimits::unlimited())
        .await
        .unwrap();
    assert_eq!(written.location, s.location_for(IMAGE_ID));
    assert_eq!(written.digests.size, data.len() as u64);
    assert_eq!(written.digests.md5_hex, md5_hex(&data));
    assert_eq!(written.digests.os_hash_algo, "sha512");
    assert_eq!(written.digests.os_hash_hex, sha512_hex(&data));
    assert_eq!(
        read_all(
            s.open(&written.location, None, &StoreCaller::service())
                .await
                .unwrap()
        )
        .await,
        data
    );
}

#[tokio::test]
async fn empty_upload() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path());
    let limits = UploadLimits {
        max_bytes: 0,
        expected_size: Some(0),
    };
    let written = upload(&s, Vec::new(), limits).await.unwrap();
    assert_eq!(written.digests.size, 0);
    assert_eq!(written.digests.md5_hex, "d41d8cd98f00b204e9800998ecf8427e");
    assert_eq!(
        written.digests.os_hash_hex,
        "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce\
         47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"
    );
    assert_eq!(
        s.size(&written.location, &StoreCaller::service())
            .await
            .unwrap(),
        0
    );
    assert!(read_all(
        s.open(&written.location, None, &StoreCaller::service())
            .await
            .unwrap()
    )
    .await
    .is_empty());
}

#[tokio::test]
async fn many_small_chunks_and_one_huge_chunk() {
    let data = pattern(16 * 1024 * 1024 + 1);
    for chunk_size in [7, data.len()] {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        let limits = UploadLimits {
            max_bytes: data.len() as u64,
            expected_size: Some(data.len() as u64),
        };
        let body = if chunk_size == 7 {
            // Interleave empty frames too: they must be harmless.
            let mut body = chunks(&data[..70_000], 7);
            body.insert(3, Ok(Bytes::new()));
            body.extend(chunks(&data[70_000..], 4096));
            body
        } else {
            chunks(&data, chunk_size)
        };
        let written = upload(&s, body, limits).await.unwrap();
        assert_eq!(
            written.digests.md5_hex,
            md5_hex(&data),
            "chunk size {chunk_size}"
        );
        assert_eq!(written.digests.os_hash_hex, sha512_hex(&data));
        assert_eq!(
            read_all(
                s.open(&written.location, None, &StoreCaller::service())
                    .await
                    .unwrap()
            )
            .await,
            data
        );
    }
}

#[tokio::test]
async fn other_algorithms() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path());
    let body: Vec<Result<Bytes, String>> =
        vec![Ok(Bytes::from_static(b"ab")), Ok(Bytes::from_static(b"c"))];
    let written = write_stream(
        &s,
        IMAGE_ID,
        &StoreCaller::service(),
        stream::iter(body),
        HashAlgo::from_name("sha256").unwrap(),
        UploadLimits::unlimited(),
        Vec::new(),
    )
    .await
    .unwrap();
    assert_eq!(written.digests.os_hash_algo, "sha256");
    assert_eq!(
        written.digests.os_hash_hex,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(written.digests.md5_hex, "900150983cd24fb0d6963f7d28e17f72");
}

#[tokio::test]
async fn cap_is_exact_and_enforced_as_bytes_arrive() {
    let data = pattern(1000);
    let limits = |max_bytes| UploadLimits {
        max_bytes,
        expected_size: None,
    };
    // Exactly at the cap is fine.
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path());
    upload(&s, chunks(&data, 100), limits(1000)).await.unwrap();

    // One byte over fails, without reading the rest of the body, and leaves nothing.
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path());
    let polled = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&polled);
    let mut body = chunks(&data, 100);
    body.extend(chunks(&pattern(10_000), 100));
    let body = stream::iter(body).inspect(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
    });
    let err = write_stream(
        &s,
        IMAGE_ID,
        &StoreCaller::service(),
        body,
        HashAlgo::Sha512,
        limits(999),
        Vec::new(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, StoreError::SizeLimitExceeded { limit: 999 }),
        "{err}"
    );
    assert_eq!(
        polled.load(Ordering::SeqCst),
        10,
        "stopped at the chunk crossing the cap"
    );
    assert!(entries(dir.path()).is_empty());

    // A declared size over the cap is refused before anything is written.
    let early = UploadLimits {
        max_bytes: 10,
        expected_size: Some(11),
    };
    let err = upload(&s, chunks(&data, 100), early).await.unwrap_err();
    assert!(matches!(err, StoreError::SizeLimitExceeded { limit: 10 }));
    assert!(entries(dir.path()).is_empty());
}

#[tokio::test]
async fn size_mismatch_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path());
    let data = pattern(1000);
    for (expected, len) in [(1001, 1000), (999, 1000)] {
        let limits = UploadLimits {
            max_bytes: u64::MAX,
            expected_size: Some(expected),
        };
        let err = upload(&s, chunks(&data[..len], 64), limits)
            .await
            .unwrap_err();
        match err {
            StoreError::SizeMismatch {
                expected: e,
                received,
            } => {
                assert_eq!(e, expected);
                assert!(received != expected);
            }
            other => panic!("expected SizeMismatch, got {other}"),
        }
        assert!(entries(dir.path()).is_empty());
    }
}

#[tokio::test]
async fn source_error_midway_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path());
    let mut body = chunks(&pattern(4 * 1024 * 1024), 65536);
    body.insert(40, Err("connection reset by peer".to_string()));
    let err = upload(&s, body, UploadLimits::unlimited())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Source(m) if m.contains("connection reset")),
        "{err}"
    );
    assert!(entries(dir.path()).is_empty());
}

#[tokio::test]
async fn cancelled_upload_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path());
    // The client sends some data, then stalls; the request is then dropped.
    let body = stream::iter(chunks(&pattern(2 * 1024 * 1024), 65536)).chain(stream::pending());
    let caller = StoreCaller::service();
    let upload = write_stream(
        &s,
        IMAGE_ID,
        &caller,
        body,
        HashAlgo::Sha512,
        UploadLimits::unlimited(),
        Vec::new(),
    );
    let timed_out = tokio::time::timeout(Duration::from_millis(200), upload).await;
    assert!(timed_out.is_err());
    assert!(entries(dir.path()).is_empty());
}

#[tokio::test]
async fn duplicate_through_write_stream() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path());
    upload(&s, chunks(b"one", 3), UploadLimits::unlimited())
        .await
        .unwrap();
    let err = upload(&s, chunks(b"two", 3), UploadLimits::unlimited())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Duplicate(_)));
    assert_eq!(entries(dir.path()), vec![IMAGE_ID.to_string()]);
}

/// Counts bytes and rejects at `finish` when told to.
struct Inspector {
    seen: Arc<Mutex<u64>>,
    finished: Arc<AtomicUsize>,
    verdict: Result<(), String>,
}

impl ChunkObserver for Inspector {
    fn observe(&mut self, chunk: &[u8]) {
        *self.seen.lock().unwrap() += chunk.len() as u64;
    }
    fn finish(&mut self) -> Result<(), String> {
        self.finished.fetch_add(1, Ordering::SeqCst);
        self.verdict.clone()
    }
}

#[tokio::test]
async fn observers_see_everything_and_can_reject() {
    let data = pattern(3 * 1024 * 1024);
    for reject in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        let seen = Arc::new(Mutex::new(0));
        let finished = Arc::new(AtomicUsize::new(0));
        let observer = |verdict| -> Box<dyn ChunkObserver> {
            Box::new(Inspector {
                seen: Arc::clone(&seen),
                finished: Arc::clone(&finished),
                verdict,
            })
        };
        let verdict = if reject {
            Err("qcow2 with an external data file".to_string())
        } else {
            Ok(())
        };
        // The rejecting observer comes first: the second still gets its `finish`.
        let observers = vec![observer(verdict), observer(Ok(()))];
        let body = stream::iter(chunks(&data, 65536));
        let result = write_stream(
            &s,
            IMAGE_ID,
            &StoreCaller::service(),
            body,
            HashAlgo::Sha512,
            UploadLimits::unlimited(),
            observers,
        )
        .await;
        assert_eq!(*seen.lock().unwrap(), 2 * data.len() as u64);
        assert_eq!(finished.load(Ordering::SeqCst), 2);
        if reject {
            assert!(matches!(&result, Err(StoreError::Rejected(m)) if m.contains("external")));
            assert!(entries(dir.path()).is_empty());
        } else {
            assert_eq!(result.unwrap().digests.md5_hex, md5_hex(&data));
            assert_eq!(entries(dir.path()), vec![IMAGE_ID.to_string()]);
        }
    }
}
