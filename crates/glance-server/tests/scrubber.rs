//! Delayed delete (`[DEFAULT] delayed_delete`) through the API, and the real
//! `glance-scrubber` binary on the same database and filesystem store: a pass
//! removes the data once `scrub_time` has passed, a store failure leaves that image
//! for the next pass, `--restore` brings an image back. Runs on the engine of
//! GLANCE_TEST_ENGINE (the binary is given the test server's database).

mod common;

use std::process::Output;

use axum::http::StatusCode;
use common::{create, TestServer};
use glance_db::SqlBuf;
use serde_json::json;

/// `--restore` refuses to run beside another glance-scrubber process, so this
/// file's scrubber runs take turns.
static ONE_SCRUBBER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const DELAYED: &str = "[DEFAULT]\ndelayed_delete = true\n";

/// Runs glance-scrubber on the server's data directory and database with
/// `scrub_time` and the extra arguments.
async fn scrubber(s: &TestServer, scrub_time: u64, args: &[&str]) -> Output {
    let _turn = ONE_SCRUBBER.lock().await;
    let conf = s.dir.path().join("glance-scrubber-test.conf");
    std::fs::write(
        &conf,
        format!("[DEFAULT]\nscrub_time = {scrub_time}\n{}", s.database_ini()),
    )
    .unwrap();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_glance-scrubber"));
    command
        .arg("--config-file")
        .arg(&conf)
        .arg("--data-dir")
        .arg(s.dir.path())
        .args(args)
        .env("RUST_LOG", "info");
    tokio::task::spawn_blocking(move || command.output().expect("glance-scrubber runs"))
        .await
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn logs(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// An active image with `data` in the filesystem store; its id.
async fn active_image(s: &TestServer, data: &[u8]) -> String {
    let id = create(
        s,
        json!({"name": "doomed", "disk_format": "raw", "container_format": "bare",
               "tags": ["keep-me"], "os_distro": "cirros"}),
    )
    .await;
    let r = s
        .put_data(&format!("/v2/images/{id}/file"), data.to_vec())
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    id
}

/// `(status, deleted)` of the image row.
async fn image_row(s: &TestServer, id: &str) -> (String, bool) {
    let mut q = SqlBuf::new("SELECT status, deleted FROM images WHERE id = ");
    q.bind(id);
    let rows = s.state.glance.db.raw_fetch(&q).await.unwrap();
    (rows[0].text("status").unwrap(), rows[0].boolean("deleted"))
}

/// `(status, deleted)` of every location row of the image.
async fn location_rows(s: &TestServer, id: &str) -> Vec<(String, bool)> {
    let mut q = SqlBuf::new("SELECT status, deleted FROM image_locations WHERE image_id = ");
    q.bind(id).push(" ORDER BY id");
    let rows = s.state.glance.db.raw_fetch(&q).await.unwrap();
    rows.iter()
        .map(|r| (r.text("status").unwrap(), r.boolean("deleted")))
        .collect()
}

fn stored_for(s: &TestServer, id: &str) -> bool {
    s.stored_files().iter().any(|f| f == id)
}

/// Deletes under delayed delete and checks the pending state.
async fn delete_pending(s: &TestServer, id: &str) {
    let r = s.delete(&format!("/v2/images/{id}")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    assert_eq!(s.get(&format!("/v2/images/{id}")).await.status, 404);
    assert_eq!(image_row(s, id).await, ("pending_delete".into(), true));
    assert_eq!(
        location_rows(s, id).await,
        [("pending_delete".to_string(), true)]
    );
    assert!(stored_for(s, id), "the data stays for the scrubber");
}

#[tokio::test]
async fn delayed_delete_then_a_scrubber_pass_removes_the_data() {
    let s = common::server_with(DELAYED).await;
    let id = active_image(&s, b"bytes the scrubber removes").await;
    delete_pending(&s, &id).await;
    // Not in any list either, even for an admin asking for deleted statuses.
    let listed = s.get("/v2/images?status=pending_delete").await.json();
    assert_eq!(listed["images"], json!([]));

    let out = scrubber(&s, 0, &[]).await;
    assert!(out.status.success(), "{}", logs(&out));
    assert!(!stored_for(&s, &id), "{:?}", s.stored_files());
    assert_eq!(image_row(&s, &id).await, ("deleted".into(), true));
    assert_eq!(
        location_rows(&s, &id).await,
        [("deleted".to_string(), true)]
    );
    // A second pass has nothing to do.
    let again = scrubber(&s, 0, &[]).await;
    assert!(again.status.success(), "{}", logs(&again));
    assert_eq!(image_row(&s, &id).await, ("deleted".into(), true));
}

#[tokio::test]
async fn nothing_is_scrubbed_before_scrub_time() {
    let s = common::server_with(DELAYED).await;
    let id = active_image(&s, b"young data").await;
    delete_pending(&s, &id).await;
    let out = scrubber(&s, 3600, &[]).await;
    assert!(out.status.success(), "{}", logs(&out));
    assert!(stored_for(&s, &id));
    assert_eq!(image_row(&s, &id).await, ("pending_delete".into(), true));
    assert_eq!(
        location_rows(&s, &id).await,
        [("pending_delete".to_string(), true)]
    );
}

#[tokio::test]
async fn without_delayed_delete_data_goes_at_once() {
    let s = common::server().await;
    let id = active_image(&s, b"gone now").await;
    assert_eq!(s.delete(&format!("/v2/images/{id}")).await.status, 204);
    assert_eq!(image_row(&s, &id).await, ("deleted".into(), true));
    assert_eq!(
        location_rows(&s, &id).await,
        [("deleted".to_string(), true)]
    );
    assert!(s.settled_files().await.is_empty());
}

#[tokio::test]
async fn images_without_data_and_deactivated_images() {
    let s = common::server_with(DELAYED).await;
    // No locations: deleted at once, as upstream.
    let queued = create(&s, json!({"name": "empty"})).await;
    assert_eq!(s.delete(&format!("/v2/images/{queued}")).await.status, 204);
    assert_eq!(image_row(&s, &queued).await, ("deleted".into(), true));
    // Upstream's domain model refuses deactivated -> pending_delete.
    let id = active_image(&s, b"deactivated").await;
    let r = s
        .request(
            axum::http::Method::POST,
            &format!("/v2/images/{id}/actions/deactivate"),
            &[],
            axum::body::Body::empty(),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text());
    let r = s.delete(&format!("/v2/images/{id}")).await;
    common::assert_400(
        &r,
        "Image status transition from deactivated to pending_delete is not allowed",
    );
    assert_eq!(image_row(&s, &id).await, ("deactivated".into(), false));
}

#[tokio::test]
async fn v1_delete_is_delayed_too() {
    let s = common::server_with(DELAYED).await;
    let id = active_image(&s, b"v1 data").await;
    let r = s.delete(&format!("/v1/images/{id}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(image_row(&s, &id).await, ("pending_delete".into(), true));
    assert!(stored_for(&s, &id));
    assert_eq!(s.get(&format!("/v1/images/{id}")).await.status, 404);
    let out = scrubber(&s, 0, &[]).await;
    assert!(out.status.success(), "{}", logs(&out));
    assert!(!stored_for(&s, &id));
    assert_eq!(image_row(&s, &id).await, ("deleted".into(), true));
}

#[tokio::test]
async fn a_store_failure_leaves_that_image_for_the_next_pass() {
    let s = common::server_with(DELAYED).await;
    let stuck = active_image(&s, b"cannot be removed yet").await;
    let fine = active_image(&s, b"removed on the first pass").await;
    delete_pending(&s, &stuck).await;
    delete_pending(&s, &fine).await;
    // Replace the stuck image's file by a non-empty directory of the same name:
    // removing it fails with an I/O error (not "not found").
    let path = s.dir.path().join("images").join(&stuck);
    std::fs::remove_file(&path).unwrap();
    std::fs::create_dir(&path).unwrap();
    std::fs::write(path.join("blocker"), b"x").unwrap();

    let out = scrubber(&s, 0, &[]).await;
    assert!(out.status.success(), "{}", logs(&out));
    assert!(
        logs(&out).contains("Unable to scrub image from a location"),
        "{}",
        logs(&out)
    );
    assert_eq!(image_row(&s, &fine).await, ("deleted".into(), true));
    assert!(!stored_for(&s, &fine));
    assert_eq!(image_row(&s, &stuck).await, ("pending_delete".into(), true));
    assert_eq!(
        location_rows(&s, &stuck).await,
        [("pending_delete".to_string(), true)]
    );

    // Once the store can remove it, the next pass finishes the image.
    std::fs::remove_dir_all(&path).unwrap();
    std::fs::write(&path, b"cannot be removed yet").unwrap();
    let out = scrubber(&s, 0, &[]).await;
    assert!(out.status.success(), "{}", logs(&out));
    assert!(!path.exists());
    assert_eq!(image_row(&s, &stuck).await, ("deleted".into(), true));
    assert_eq!(
        location_rows(&s, &stuck).await,
        [("deleted".to_string(), true)]
    );
}

#[tokio::test]
async fn restore_brings_a_pending_image_back() {
    let s = common::server_with(DELAYED).await;
    let data = b"restored bytes".to_vec();
    let id = active_image(&s, &data).await;
    delete_pending(&s, &id).await;

    let out = scrubber(&s, 0, &["--restore", &id]).await;
    assert!(out.status.success(), "{}", logs(&out));
    let image = common::show(&s, &id).await;
    assert_eq!(image["status"], "active");
    // What the delete removed with the image comes back with it.
    assert_eq!(image["tags"], json!(["keep-me"]));
    assert_eq!(image["os_distro"], "cirros");
    let download = s.get(&format!("/v2/images/{id}/file")).await;
    assert_eq!(download.status, 200);
    assert_eq!(download.body.as_ref(), data.as_slice());
    assert_eq!(
        location_rows(&s, &id).await,
        [("active".to_string(), false)]
    );
    assert_eq!(image_row(&s, &id).await, ("active".into(), false));

    // Upstream's errors: an image not pending delete, an unknown image.
    let out = scrubber(&s, 0, &["--restore", &id]).await;
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out).trim_end(),
        "ERROR: cannot restore the image from active to active (wanted \
         from_state=pending_delete)"
    );
    let missing = "0bd9d1b5-6b4c-4c8d-9f5a-6e0c9a1b2c3d";
    let out = scrubber(&s, 0, &["--restore", missing]).await;
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out).trim_end(),
        format!("ERROR: No image found with ID {missing}")
    );
    // And a scrubbed one cannot come back.
    delete_pending(&s, &id).await;
    assert!(scrubber(&s, 0, &[]).await.status.success());
    let out = scrubber(&s, 0, &["--restore", &id]).await;
    assert_eq!(
        stderr(&out).trim_end(),
        "ERROR: cannot restore the image from deleted to active (wanted \
         from_state=pending_delete)"
    );
}

#[tokio::test]
async fn restore_and_daemon_together_are_refused() {
    let s = common::server_with(DELAYED).await;
    let out = scrubber(&s, 0, &["--daemon", "--restore", "x"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out).trim_end(),
        "ERROR: The restore and daemon options should not be set together. Please use \
         either of them in one request."
    );
}

#[tokio::test]
async fn db_purge_keeps_the_scrubbers_queue() {
    let s = common::server_with(DELAYED).await;
    let id = active_image(&s, b"still queued").await;
    delete_pending(&s, &id).await;
    let db = &s.state.glance.db;
    let future = glance_db::now() + chrono::Duration::days(1);
    db.purge_deleted_rows(future, None).await.unwrap();
    db.purge_deleted_images(future, None).await.unwrap();
    assert_eq!(image_row(&s, &id).await, ("pending_delete".into(), true));
    assert_eq!(
        location_rows(&s, &id).await,
        [("pending_delete".to_string(), true)]
    );
    let out = scrubber(&s, 0, &[]).await;
    assert!(out.status.success(), "{}", logs(&out));
    assert!(!stored_for(&s, &id));
}
