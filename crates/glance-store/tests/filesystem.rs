//! The filesystem driver on its own: writer lifecycle, reads, deletes, and refusal of
//! locations outside the data directory.

mod common;

use bytes::Bytes;
use common::{entries, store, IMAGE_ID};
use futures_util::StreamExt;
use glance_store::behaviour::{self, pattern};
use glance_store::{Store, StoreCaller, StoreError};

/// The filesystem seen as a server: every entry of the data directory, upload
/// temp files included.
struct Filesystem {
    store: glance_store::FilesystemStore,
    dir: tempfile::TempDir,
}

#[async_trait::async_trait]
impl behaviour::Backend for Filesystem {
    fn store(&self) -> &dyn Store {
        &self.store
    }
    async fn objects(&self) -> Vec<String> {
        entries(self.dir.path())
    }
}

#[tokio::test]
async fn passes_the_driver_behaviour_suite() {
    let dir = tempfile::tempdir().unwrap();
    let backend = Filesystem {
        store: store(dir.path()),
        dir,
    };
    behaviour::run_all(&backend).await;
}

#[tokio::test]
async fn location_is_upstream_shaped() {
    let dir = tempfile::tempdir().unwrap();
    // The configured default carries a trailing slash; upstream's os.path.join drops it.
    let configured = format!("{}/images/", dir.path().display());
    let s = store(std::path::Path::new(&configured));
    let mut w = behaviour::begin(&s, IMAGE_ID, &StoreCaller::service())
        .await
        .unwrap();
    w.write(Bytes::from_static(b"x")).await.unwrap();
    let location = w.commit().await.unwrap();
    assert_eq!(
        location,
        format!("file://{}/images/{IMAGE_ID}", dir.path().display())
    );
    assert_eq!(location, s.location_for(IMAGE_ID));
    assert!(s.owns(&location));
    assert!(s.owns(&location.replacen("file://", "filesystem://", 1)));
    assert!(!s.owns("file:///etc/passwd"));
    assert!(!s.owns("swift+config://ref1/glance/x"));
}

#[tokio::test]
async fn bad_image_ids_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path());
    for id in ["", "..", "../x", "a/b", ".hidden"] {
        assert!(
            matches!(
                behaviour::begin(&s, id, &StoreCaller::service()).await,
                Err(StoreError::BadLocation(_))
            ),
            "{id:?}"
        );
    }
    assert!(entries(dir.path()).is_empty());
}

async fn assert_refused(s: &glance_store::FilesystemStore, location: &str) {
    let open = s.open(location, None, &StoreCaller::service()).await;
    assert!(
        matches!(open, Err(StoreError::BadLocation(_))),
        "open {location}"
    );
    let size = s.size(location, &StoreCaller::service()).await;
    assert!(
        matches!(size, Err(StoreError::BadLocation(_))),
        "size {location}"
    );
    let delete = s.delete(location, &StoreCaller::service()).await;
    assert!(
        matches!(delete, Err(StoreError::BadLocation(_))),
        "delete {location}"
    );
}

#[tokio::test]
async fn locations_outside_the_datadir_are_refused() {
    let root = tempfile::tempdir().unwrap();
    let datadir = root.path().join("images");
    let s = store(&datadir);
    let secret = root.path().join("secret");
    std::fs::write(&secret, b"not an image").unwrap();

    assert_refused(&s, "file:///etc/passwd").await;
    assert_refused(&s, &format!("file://{}/../secret", datadir.display())).await;
    assert_refused(&s, &format!("file://{}/./../secret", datadir.display())).await;
    assert_refused(&s, &format!("file://{}", datadir.display())).await;
    assert_refused(&s, &format!("file://{}/", datadir.display())).await;
    assert_refused(&s, "file://relative/path").await;
    assert_refused(&s, "http://example.com/image").await;
    assert!(!s.owns(&format!("file://{}/../secret", datadir.display())));

    // A symlink planted inside the data directory must not lead outside it.
    std::os::unix::fs::symlink(&secret, datadir.join("link")).unwrap();
    assert_refused(&s, &format!("file://{}/link", datadir.display())).await;
    assert!(secret.exists(), "the link target survives");
    assert!(
        datadir.join("link").symlink_metadata().is_ok(),
        "the link is left alone"
    );
}

#[tokio::test]
async fn datadir_through_a_symlink() {
    let root = tempfile::tempdir().unwrap();
    let real = root.path().join("real");
    std::fs::create_dir(&real).unwrap();
    let alias = root.path().join("alias");
    std::os::unix::fs::symlink(&real, &alias).unwrap();
    let s = store(&alias);
    let w = behaviour::begin(&s, IMAGE_ID, &StoreCaller::service())
        .await
        .unwrap();
    let location = w.commit().await.unwrap();
    // Written under the configured spelling, like upstream; readable under both.
    assert_eq!(location, format!("file://{}/{IMAGE_ID}", alias.display()));
    assert_eq!(s.size(&location, &StoreCaller::service()).await.unwrap(), 0);
    let real = std::fs::canonicalize(&real).unwrap();
    let real_location = format!("file://{}/{IMAGE_ID}", real.display());
    assert_eq!(
        s.size(&real_location, &StoreCaller::service())
            .await
            .unwrap(),
        0
    );
}

/// Objects are served from a memory map. A file cut short behind the store's back
/// (never done by the store itself) must end the stream with an error, not bring the
/// process down with SIGBUS.
#[tokio::test]
async fn an_object_truncated_behind_our_back_is_an_error_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path());
    let data = pattern(6 * 1024 * 1024);
    let mut w = behaviour::begin(&s, IMAGE_ID, &StoreCaller::service())
        .await
        .unwrap();
    w.write(Bytes::from(data.clone())).await.unwrap();
    let location = w.commit().await.unwrap();

    let mut reader = s
        .open(&location, None, &StoreCaller::service())
        .await
        .unwrap();
    let first = reader.stream.next().await.unwrap().unwrap();
    assert_eq!(&first[..], &data[..first.len()]);
    drop(first);
    std::fs::OpenOptions::new()
        .write(true)
        .open(dir.path().join(IMAGE_ID))
        .unwrap()
        .set_len(1024)
        .unwrap();
    let mut saw_error = false;
    while let Some(item) = reader.stream.next().await {
        if item.is_err() {
            saw_error = true;
            break;
        }
    }
    assert!(saw_error, "the shrunk file is reported");
}

/// Memory stays flat while a big object streams: chunks already sent are unmapped.
#[tokio::test]
async fn streaming_a_big_object_keeps_memory_flat() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path());
    let chunk = Bytes::from(pattern(1024 * 1024));
    let mut w = behaviour::begin(&s, IMAGE_ID, &StoreCaller::service())
        .await
        .unwrap();
    for _ in 0..256 {
        w.write(chunk.clone()).await.unwrap();
    }
    let location = w.commit().await.unwrap();
    let rss = || {
        std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmRSS:"))
                    .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
            })
            .unwrap_or(0)
    };
    let before = rss();
    let mut reader = s
        .open(&location, None, &StoreCaller::service())
        .await
        .unwrap();
    let mut peak = before;
    let mut total = 0usize;
    while let Some(item) = reader.stream.next().await {
        total += item.unwrap().len();
        peak = peak.max(rss());
    }
    assert_eq!(total, 256 * 1024 * 1024);
    // 256 MiB went through; resident memory grew by far less than that.
    assert!(
        peak - before < 64 * 1024,
        "RSS grew by {} KiB",
        peak - before
    );
}
