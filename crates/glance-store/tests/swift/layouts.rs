//! What lands on the server: upstream's own large-object layouts read and deleted by
//! us, ours as upstream expects them, nothing visible before commit, and downloads
//! that survive a broken connection.

use bytes::Bytes;
use futures_util::StreamExt;
use glance_store::behaviour::{pattern, read_all, test_id};
use glance_store::{ByteRange, Store, StoreCaller, StoreError, UploadTarget};
use hyper::Method;

use super::proxy::Relay;
use super::raw::RawSwift;
use super::{env, in_section_store, open, unique, upload};

const MB: usize = 1_024_000;

fn service() -> StoreCaller {
    StoreCaller::service()
}

/// A DLO exactly as upstream's `add` writes it (`<id>-00001`.., manifest
/// `<container>/<id>-`) and an SLO: both read whole and by range, sized, and deleted
/// with every segment.
#[tokio::test]
async fn upstream_large_objects_are_read_and_deleted() {
    let Some(env) = env() else { return };
    let raw = RawSwift::login(&env.auth_url, &env.user, &env.key).await;
    let container = unique("gt-upstream");
    let store = open(in_section_store(&env, &container));
    raw.put(&format!("/{container}"), &[], Bytes::new()).await;
    let data = pattern(2 * MB + MB / 2);
    let pieces: Vec<&[u8]> = data.chunks(MB).collect();

    let id = test_id(500);
    for (n, piece) in pieces.iter().enumerate() {
        let name = format!("/{container}/{id}-{:05}", n + 1);
        raw.put(&name, &[], Bytes::copy_from_slice(piece)).await;
    }
    let manifest = format!("{container}/{id}-");
    raw.put(
        &format!("/{container}/{id}"),
        &[("X-Object-Manifest", &manifest)],
        Bytes::new(),
    )
    .await;
    let location = format!(
        "swift+http://{}:{}@{}/{container}/{id}",
        env.user.replace(':', "%3A"),
        env.key,
        env.auth_url.trim_start_matches("http://")
    );
    check_read_and_delete(&store, &raw, &container, &location, &data).await;

    // A static large object (upstream reads and deletes these, never writes them).
    let id = test_id(501);
    let mut entries = Vec::new();
    for (n, piece) in pieces.iter().enumerate() {
        let name = format!("{id}-seg-{n}");
        raw.put(
            &format!("/{container}/{name}"),
            &[],
            Bytes::copy_from_slice(piece),
        )
        .await;
        entries.push(serde_json::json!({"path": format!("{container}/{name}")}));
    }
    let body = Bytes::from(serde_json::Value::Array(entries).to_string());
    raw.put(
        &format!("/{container}/{id}?multipart-manifest=put"),
        &[],
        body,
    )
    .await;
    let location = location.replace(&test_id(500), &id);
    check_read_and_delete(&store, &raw, &container, &location, &data).await;
    raw.remove_container(&container).await;
}

async fn check_read_and_delete(
    store: &dyn Store,
    raw: &RawSwift,
    container: &str,
    location: &str,
    data: &[u8],
) {
    assert_eq!(
        store.size(location, &service()).await.unwrap(),
        data.len() as u64
    );
    let whole = read_all(store.open(location, None, &service()).await.unwrap()).await;
    assert!(whole == data, "whole object");
    let (start, end) = (MB as u64 - 7, MB as u64 + 7);
    let part = store
        .open(location, Some(ByteRange { start, end }), &service())
        .await
        .unwrap();
    assert_eq!(part.total_size, data.len() as u64);
    assert!(
        read_all(part).await == data[start as usize..=end as usize],
        "range across segments"
    );
    store.delete(location, &service()).await.unwrap();
    assert!(
        raw.list(container).await.is_empty(),
        "every segment deleted"
    );
    assert!(matches!(
        store.delete(location, &service()).await,
        Err(StoreError::NotFound(_))
    ));
}

/// Declared sizes below the threshold are one PUT; above it, or unknown, segments plus
/// a DLO manifest upstream can follow. Nothing shows under the final name before
/// commit, and a short upload leaves nothing at all.
#[tokio::test]
async fn single_put_or_segments_as_upstream_lays_them_out() {
    let Some(env) = env() else { return };
    let raw = RawSwift::login(&env.auth_url, &env.user, &env.key).await;
    let container = unique("gt-layout");
    let store = open(
        in_section_store(&env, &container)
            .with("swift_store_large_object_size", "2")
            .with("swift_store_large_object_chunk_size", "1"),
    );
    let c = service();

    // Declared and small: one object, which appears only at commit.
    let id = test_id(600);
    let data = pattern(MB + MB / 2);
    let mut w = begin(&store, &id, Some(data.len() as u64)).await;
    for chunk in data.chunks(100_000) {
        w.write(Bytes::copy_from_slice(chunk)).await.unwrap();
    }
    assert!(
        raw.list(&container).await.is_empty(),
        "nothing before commit"
    );
    let location = w.commit().await.unwrap();
    assert_eq!(raw.list(&container).await, vec![id.clone()]);
    let head = raw.head(&format!("/{container}/{id}")).await;
    assert_eq!(head.header("x-object-manifest"), None);
    store.delete(&location, &c).await.unwrap();

    // Declared and large: 1 "MB" segments and a manifest over their prefix.
    let id = test_id(601);
    let data = pattern(3 * MB + 12_345);
    let location = upload(&store, &c, &id, &data, Some(data.len() as u64)).await;
    check_dlo(&raw, &container, &id, &data, 4).await;
    assert!(read_all(store.open(&location, None, &c).await.unwrap()).await == data);
    store.delete(&location, &c).await.unwrap();
    assert!(raw.list(&container).await.is_empty());

    // Unknown size over one segment: the same layout.
    let id = test_id(602);
    let data = pattern(2 * MB + 1);
    let location = upload(&store, &c, &id, &data, None).await;
    check_dlo(&raw, &container, &id, &data, 3).await;
    store.delete(&location, &c).await.unwrap();

    // Fewer bytes than declared: refused, nothing left.
    let id = test_id(603);
    let mut w = begin(&store, &id, Some(1000)).await;
    w.write(Bytes::from(pattern(999))).await.unwrap();
    assert!(matches!(
        w.commit().await,
        Err(StoreError::SizeMismatch { .. })
    ));
    let mut w = begin(&store, &id, Some(3 * MB as u64)).await;
    w.write(Bytes::from(pattern(2 * MB + 5))).await.unwrap();
    assert!(matches!(
        w.commit().await,
        Err(StoreError::SizeMismatch { .. })
    ));
    assert!(
        raw.list(&container).await.is_empty(),
        "short uploads leave nothing"
    );
    raw.remove_container(&container).await;
}

async fn begin(
    store: &dyn Store,
    id: &str,
    size: Option<u64>,
) -> Box<dyn glance_store::StoreWriter> {
    let c = service();
    let target = UploadTarget {
        image_id: id,
        expected_size: size,
        caller: &c,
    };
    store.begin_upload(&target).await.unwrap()
}

/// The manifest names `<container>/<id>-<tag>-`, the segments are `<prefix>NNNNN`
/// of one chunk each but the last, and Swift itself serves the whole image.
async fn check_dlo(raw: &RawSwift, container: &str, id: &str, data: &[u8], segments: usize) {
    let names = raw.list(container).await;
    assert_eq!(names.len(), segments + 1, "{names:?}");
    let head = raw.head(&format!("/{container}/{id}")).await;
    let manifest = head.header("x-object-manifest").expect("a DLO manifest");
    let prefix = manifest
        .strip_prefix(&format!("{container}/"))
        .expect("segments in the image's container");
    assert!(
        prefix.starts_with(&format!("{id}-")) && prefix.ends_with('-'),
        "{prefix}"
    );
    for (n, name) in names.iter().filter(|n| *n != id).enumerate() {
        assert_eq!(*name, format!("{prefix}{:05}", n + 1));
        let size = raw
            .head(&format!("/{container}/{name}"))
            .await
            .header("content-length");
        let expected = if n + 1 < segments {
            MB
        } else {
            data.len() - MB * (segments - 1)
        };
        assert_eq!(size, Some(expected.to_string()), "{name}");
    }
    let got = raw
        .req(
            Method::GET,
            &format!("/{container}/{id}"),
            &[],
            Bytes::new(),
        )
        .await;
    assert!(got.body == data, "Swift reassembles the image");
}

/// A download cut midway resumes with a ranged GET when retries are allowed (the cut
/// is made by a relay between the store and Swift), and is an error when they are not.
#[tokio::test]
async fn broken_download_resumes_with_a_range_request() {
    let Some(env) = env() else { return };
    let raw = RawSwift::login(&env.auth_url, &env.user, &env.key).await;
    let container = unique("gt-resume");
    let swift = raw.storage_url.split('/').nth(2).unwrap().to_string();
    let relay = Relay::start(&swift).await;
    let through_relay = raw
        .storage_url
        .replace(&swift, &format!("127.0.0.1:{}", relay.port));
    let options = |retries: &str| {
        in_section_store(&env, &container)
            .with("swift_store_endpoint", &through_relay)
            .with("swift_store_retry_get_count", retries)
    };
    let (resuming, giving_up) = (open(options("2")), open(options("0")));
    let c = service();
    let data = pattern(8 * MB);
    let location = upload(&resuming, &c, &test_id(700), &data, Some(data.len() as u64)).await;

    relay.cut_after(3 * MB as i64);
    let reader = resuming.open(&location, None, &c).await.unwrap();
    assert!(
        read_all(reader).await == data,
        "resumed download is whole and in order"
    );
    let resumed: Vec<String> = relay
        .heads()
        .into_iter()
        .filter(|h| h.starts_with("GET ") && h.to_ascii_lowercase().contains("\r\nrange: bytes="))
        .collect();
    assert_eq!(resumed.len(), 1, "one ranged GET picks the download up");
    assert!(
        resumed[0].to_ascii_lowercase().contains("if-match:"),
        "pinned to the ETag"
    );

    relay.cut_after(MB as i64);
    let mut stream = giving_up.open(&location, None, &c).await.unwrap().stream;
    let mut got = 0usize;
    let mut failed = false;
    while let Some(item) = stream.next().await {
        match item {
            Ok(chunk) => got += chunk.len(),
            Err(_) => {
                failed = true;
                break;
            }
        }
    }
    assert!(
        failed && got < data.len(),
        "a cut download without retries is an error"
    );
    resuming.delete(&location, &c).await.unwrap();
    raw.remove_container(&container).await;
}
