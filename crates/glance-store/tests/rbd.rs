//! The rbd driver against a real Ceph cluster. The cluster is found through
//! `GLANCE_TEST_RBD_CONF` (a ceph.conf whose keyrings the `rbd` CLI can read),
//! `GLANCE_TEST_RBD_USER` (the cephx id the store uses) and `GLANCE_TEST_RBD_POOL`.
//! What the cluster holds is read with the cluster's own `rbd` tool, never through
//! the driver. Clones are made as `client.admin` in the pool `rbd`.

#[path = "rbd/cluster.rs"]
mod cluster;

use std::time::Instant;

use bytes::Bytes;
use cluster::{cluster, eventually, open, target, upload, Ceph, CLONE_POOL, CLONE_PREFIX, SERIAL};
use glance_store::behaviour::{self, pattern, read_all, Backend};
use glance_store::{StoreCaller, StoreError, StoreOptions};

#[tokio::test]
async fn passes_the_driver_behaviour_suite() {
    let Some(cluster) = cluster() else { return };
    let _serial = SERIAL.lock().await;
    cluster.purge_leftovers();
    // 1 MiB objects, so the suite's few-MiB objects span several.
    let store = cluster.store(&[("rbd_store_chunk_size", "1")]);
    behaviour::run_all(&Ceph { cluster, store }).await;
}

#[tokio::test]
async fn a_large_image_of_unknown_size_grows_as_it_is_written() {
    let Some(cluster) = cluster() else { return };
    let _serial = SERIAL.lock().await;
    cluster.purge_leftovers();
    let store = cluster.store(&[("rbd_store_chunk_size", "4")]);
    let backend = Ceph { cluster, store };
    let size = (5u64 << 30) + 1;
    let started = Instant::now();
    // Boundary: the object boundary at 4 GiB, also where 32-bit offsets wrap.
    behaviour::large_object(&backend, &behaviour::test_id(60), size, 4 << 30).await;
    eprintln!(
        "large object: {size} bytes written, read, range-read and deleted in {:.1?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_declared_size_is_allocated_at_once() {
    let Some(cluster) = cluster() else { return };
    let _serial = SERIAL.lock().await;
    cluster.purge_leftovers();
    let store = cluster.store(&[("rbd_store_chunk_size", "1")]);
    let backend = Ceph {
        cluster: cluster.clone(),
        store,
    };
    let (id, caller) = (behaviour::test_id(70), StoreCaller::service());
    let before = backend.objects().await;
    let data = pattern((5 << 20) + 3);
    let size = data.len() as u64;
    let mut w = backend
        .store
        .begin_upload(&target(&id, Some(size), &caller))
        .await
        .unwrap();
    let now = backend.objects().await;
    let partial: Vec<_> = now.iter().filter(|n| !before.contains(n)).collect();
    assert_eq!(partial.len(), 1, "one image while uploading: {partial:?}");
    assert_eq!(
        cluster.image_size(partial[0]),
        size,
        "created at the declared size"
    );
    for chunk in data.chunks(1 << 20) {
        w.write(Bytes::copy_from_slice(chunk)).await.unwrap();
    }
    let location = w.commit().await.unwrap();
    assert_eq!(cluster.image_size(&id), size);
    let got = read_all(backend.store.open(&location, None, &caller).await.unwrap()).await;
    assert!(got == data, "the bytes come back");
    backend.store.delete(&location, &caller).await.unwrap();
    assert_eq!(backend.objects().await, before);
}

#[tokio::test]
async fn an_unknown_size_grows_by_doubling_steps_and_is_trimmed() {
    let Some(cluster) = cluster() else { return };
    let _serial = SERIAL.lock().await;
    cluster.purge_leftovers();
    let store = cluster.store(&[("rbd_store_chunk_size", "1")]);
    let backend = Ceph {
        cluster: cluster.clone(),
        store,
    };
    let (id, caller) = (behaviour::test_id(71), StoreCaller::service());
    let before = backend.objects().await;
    let mut w = backend
        .store
        .begin_upload(&target(&id, None, &caller))
        .await
        .unwrap();
    let now = backend.objects().await;
    let partial = now
        .iter()
        .find(|n| !before.contains(n))
        .expect("the upload's image")
        .clone();
    assert_eq!(cluster.image_size(&partial), 0, "created empty");
    const MIB: u64 = 1 << 20;
    let data = pattern((3 << 20) + 1);
    // Upstream's steps with 1 MiB chunks: +2 MiB for the first chunk, then +4 MiB.
    w.write(Bytes::copy_from_slice(&data[..(1 << 20) + 1]))
        .await
        .unwrap();
    eventually("grown to 2 MiB", || cluster.image_size(&partial) == 2 * MIB).await;
    w.write(Bytes::copy_from_slice(&data[(1 << 20) + 1..]))
        .await
        .unwrap();
    eventually("grown to 6 MiB", || cluster.image_size(&partial) == 6 * MIB).await;
    let location = w.commit().await.unwrap();
    assert_eq!(
        cluster.image_size(&id),
        data.len() as u64,
        "trimmed to the data"
    );
    let got = read_all(backend.store.open(&location, None, &caller).await.unwrap()).await;
    assert!(got == data, "the bytes come back");
    backend.store.delete(&location, &caller).await.unwrap();
    assert_eq!(backend.objects().await, before);
}

#[tokio::test]
async fn thin_provisioning_skips_zero_chunks() {
    let Some(cluster) = cluster() else { return };
    let _serial = SERIAL.lock().await;
    cluster.purge_leftovers();
    const MIB: usize = 1 << 20;
    // data, two zero chunks, data, a zero tail of half a chunk
    let mut data = pattern(MIB);
    data.extend(vec![0u8; 2 * MIB]);
    data.extend(pattern(MIB));
    data.extend(vec![0u8; MIB / 2]);
    let caller = StoreCaller::service();
    for (n, thin, size) in [
        (72, "true", None),
        (73, "true", Some(data.len() as u64)),
        (74, "false", None),
    ] {
        let store = cluster.store(&[
            ("rbd_store_chunk_size", "1"),
            ("rbd_thin_provisioning", thin),
        ]);
        assert_eq!(store.properties()["thin_provisioning"], thin == "true");
        let id = behaviour::test_id(n);
        let location = upload(store.as_ref(), &id, size, &data).await;
        let expected = if thin == "true" { 2 * MIB } else { data.len() };
        assert_eq!(
            cluster.allocated(&id),
            expected as u64,
            "thin={thin} size={size:?}"
        );
        let got = read_all(store.open(&location, None, &caller).await.unwrap()).await;
        assert!(got == data, "thin={thin}: the zeros read back");
        store.delete(&location, &caller).await.unwrap();
    }
}

#[tokio::test]
async fn commit_leaves_a_protected_snapshot_and_an_upstream_location() {
    let Some(cluster) = cluster() else { return };
    let _serial = SERIAL.lock().await;
    cluster.purge_leftovers();
    let store = cluster.store(&[]);
    let (id, caller) = (behaviour::test_id(75), StoreCaller::service());
    let location = upload(store.as_ref(), &id, None, b"snapshot me").await;
    let fsid = cluster.fsid();
    assert_eq!(location, format!("rbd://{fsid}/{}/{id}/snap", cluster.pool));
    let snaps = cluster.rbd_json(&["snap", "ls", &cluster.spec(&id)]);
    let names: Vec<_> = snaps
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].clone())
        .collect();
    assert_eq!(names, ["snap"]);
    let info = cluster.rbd_json(&["info", &cluster.spec(&format!("{id}@snap"))]);
    assert_eq!(info["protected"], "true", "{info}");
    assert!(info["features"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f == "layering"));

    let properties = store.properties();
    assert_eq!(properties["fsid"], fsid.as_str());
    assert_eq!(properties["pool"], cluster.pool.as_str());
    assert_eq!(properties["chunk_size"], 8 << 20);
    assert_eq!(properties["thin_provisioning"], false);

    // The old one-part form names the image in the configured pool.
    let old = format!("rbd://{id}");
    assert!(store.owns(&old));
    assert_eq!(
        read_all(store.open(&old, None, &caller).await.unwrap()).await,
        b"snapshot me"
    );
    assert_eq!(store.size(&old, &caller).await.unwrap(), 11);
    let foreign = location.replacen(&fsid, "00000000-0000-0000-0000-000000000000", 1);
    assert!(!store.owns(&foreign), "another cluster's location");
    assert!(!store.owns(&format!("rbd://{fsid}/{}/{id}", cluster.pool)));
    let missing_pool = format!("rbd://{fsid}/no-such-pool/{id}/snap");
    assert!(matches!(
        store.size(&missing_pool, &caller).await,
        Err(StoreError::NotFound(_))
    ));
    store.delete(&location, &caller).await.unwrap();
}

/// A clone of the snapshot makes delete InUse and changes nothing; once the clone
/// is gone, delete works. Clones in a pool the store's user cannot read (as Nova's
/// and Cinder's are) are found by the refused unprotect; clones it can read, by
/// listing them first.
#[tokio::test]
async fn a_cloned_snapshot_blocks_delete_and_changes_nothing() {
    let Some(cluster) = cluster() else { return };
    let _serial = SERIAL.lock().await;
    cluster.purge_leftovers();
    let store = cluster.store(&[]);
    let backend = Ceph {
        cluster: cluster.clone(),
        store,
    };
    let caller = StoreCaller::service();
    for (n, clone_pool) in [(76, CLONE_POOL), (81, cluster.pool.as_str())] {
        let id = behaviour::test_id(n);
        let before = backend.objects().await;
        let data = pattern(3 << 20);
        let location = upload(backend.store.as_ref(), &id, None, &data).await;
        let clone = format!("{clone_pool}/{CLONE_PREFIX}{id}");
        cluster.rbd(
            true,
            &["clone", &format!("{}@snap", cluster.spec(&id)), &clone],
        );
        let stored = backend.objects().await;

        // The core asks first, before the image record changes.
        let asked = backend.store.check_deletable(&location, &caller).await;
        assert!(
            matches!(asked, Err(StoreError::InUse(_))),
            "{clone}: check_deletable {asked:?}"
        );
        let refused = backend.store.delete(&location, &caller).await;
        assert!(
            matches!(refused, Err(StoreError::InUse(_))),
            "{clone}: {refused:?}"
        );
        assert_eq!(backend.objects().await, stored, "{clone}: nothing removed");
        let info = cluster.rbd_json(&["info", &cluster.spec(&format!("{id}@snap"))]);
        assert_eq!(info["protected"], "true", "{clone}: still protected");
        let got = read_all(backend.store.open(&location, None, &caller).await.unwrap()).await;
        assert!(got == data, "{clone}: still readable");

        cluster.rbd(true, &["rm", "--no-progress", &clone]);
        backend
            .store
            .check_deletable(&location, &caller)
            .await
            .expect("deletable once the clone is gone");
        backend.store.delete(&location, &caller).await.unwrap();
        assert_eq!(backend.objects().await, before, "{clone}: all gone");
    }
}

#[tokio::test]
async fn a_size_other_than_declared_leaves_nothing() {
    let Some(cluster) = cluster() else { return };
    let _serial = SERIAL.lock().await;
    cluster.purge_leftovers();
    let store = cluster.store(&[("rbd_store_chunk_size", "1")]);
    let backend = Ceph { cluster, store };
    let (id, caller) = (behaviour::test_id(77), StoreCaller::service());
    let before = backend.objects().await;
    let mut w = backend
        .store
        .begin_upload(&target(&id, Some(10), &caller))
        .await
        .unwrap();
    w.write(Bytes::from_static(b"12345")).await.unwrap();
    let short = w.commit().await;
    assert!(
        matches!(
            short,
            Err(StoreError::SizeMismatch {
                expected: 10,
                received: 5
            })
        ),
        "{short:?}"
    );
    assert_eq!(backend.objects().await, before);
    let mut w = backend
        .store
        .begin_upload(&target(&id, Some(10), &caller))
        .await
        .unwrap();
    w.write(Bytes::from_static(b"12345")).await.unwrap();
    let long = w.write(Bytes::from_static(b"678901")).await;
    assert!(
        matches!(long, Err(StoreError::SizeMismatch { .. })),
        "{long:?}"
    );
    assert_eq!(backend.objects().await, before);
}

/// Threads of this process whose name starts with `prefix` (names are cut at 15
/// bytes: "glance-rbd-read", "glance-rbd-writ").
fn threads_named(prefix: &str) -> usize {
    std::fs::read_dir("/proc/self/task")
        .expect("list threads")
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|name| name.starts_with(prefix))
        .count()
}

/// A download or upload given up midway ends its thread, which closes the image
/// handle (read-only handles leave no trace on the cluster, so the thread is what
/// can be checked).
#[tokio::test]
async fn dropped_transfers_end_their_threads() {
    use futures_util::StreamExt;
    let Some(cluster) = cluster() else { return };
    let _serial = SERIAL.lock().await;
    cluster.purge_leftovers();
    let store = cluster.store(&[("rbd_store_chunk_size", "1")]);
    let (id, caller) = (behaviour::test_id(78), StoreCaller::service());
    let location = upload(store.as_ref(), &id, None, &pattern(16 << 20)).await;
    let mut reader = store.open(&location, None, &caller).await.unwrap();
    let first = reader.stream.next().await.unwrap().unwrap();
    assert_eq!(first.len(), 1 << 20);
    assert_eq!(threads_named("glance-rbd-read"), 1, "one reading thread");
    drop(reader);
    eventually("the reading thread ends", || {
        threads_named("glance-rbd-read") == 0
    })
    .await;

    let other = behaviour::test_id(79);
    let mut writer = store
        .begin_upload(&target(&other, None, &caller))
        .await
        .unwrap();
    writer.write(Bytes::from(pattern(3 << 20))).await.unwrap();
    assert_eq!(threads_named("glance-rbd-writ"), 1, "one writing thread");
    drop(writer);
    eventually("the writing thread ends", || {
        threads_named("glance-rbd-writ") == 0
    })
    .await;
    store.delete(&location, &caller).await.unwrap();
}

/// An image another client has open (here `rbd watch`, as a VM would) is InUse,
/// and the delete changes nothing.
#[tokio::test]
async fn an_image_open_elsewhere_is_in_use() {
    use std::io::Write;
    let Some(cluster) = cluster() else { return };
    let _serial = SERIAL.lock().await;
    cluster.purge_leftovers();
    let store = cluster.store(&[]);
    let backend = Ceph {
        cluster: cluster.clone(),
        store,
    };
    let (id, caller) = (behaviour::test_id(80), StoreCaller::service());
    let before = backend.objects().await;
    let location = upload(backend.store.as_ref(), &id, None, b"watched").await;
    let stored = backend.objects().await;
    let mut watch = std::process::Command::new("rbd")
        .args(["-c", &cluster.conf, "watch", &cluster.spec(&id)])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start rbd watch");
    let watchers = || {
        let status = cluster.rbd_json(&["status", &cluster.spec(&id)]);
        status["watchers"].as_array().map_or(0, Vec::len)
    };
    eventually("rbd watch is watching", || watchers() == 1).await;
    let refused = backend.store.delete(&location, &caller).await;
    assert!(matches!(refused, Err(StoreError::InUse(_))), "{refused:?}");
    assert_eq!(backend.objects().await, stored, "image and snapshot remain");
    // `rbd watch` stops (and unwatches) at a newline.
    let mut stdin = watch.stdin.take().expect("stdin");
    stdin.write_all(b"\n").expect("stop rbd watch");
    drop(stdin);
    watch.wait().expect("rbd watch ends");
    eventually("no watchers", || watchers() == 0).await;
    backend.store.delete(&location, &caller).await.unwrap();
    assert_eq!(backend.objects().await, before);
}

#[tokio::test]
async fn bad_options_are_config_errors() {
    let cases = [
        ("rbd_store_chunk_size", "0"),
        ("rbd_store_chunk_size", "64"),
        ("rbd_store_chunk_size", "eight"),
        ("rbd_thin_provisioning", "maybe"),
        ("rados_connect_timeout", "soon"),
        ("rbd_store_ceph_conf", "/nonexistent/ceph.conf"),
    ];
    for (option, value) in cases {
        let options = StoreOptions::new("ceph", Default::default()).with(option, value);
        match open(&options) {
            Err(StoreError::Config {
                group,
                option: named,
                ..
            }) => {
                assert_eq!(
                    (group.as_str(), named.as_str()),
                    ("ceph", option),
                    "{value}"
                )
            }
            Err(other) => panic!("{option}={value}: {other}"),
            Ok(_) => panic!("{option}={value} was accepted"),
        }
    }
}
