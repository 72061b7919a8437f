//! Images whose data lives on a web server (spec §8.1, §8.2): the location API and
//! the legacy PATCH with the http store, against a real HTTP server on loopback
//! that the test starts. Loopback is refused by default (the SSRF rule), so the
//! positive cases list 127.0.0.1 and the server's port in `[import_filtering_opts]`.

mod common;

use std::time::Duration;

use axum::http::{Method, StatusCode};
use common::{Caller, TestServer, TRUSTED};
use md5::{Digest as _, Md5};
use serde_json::{json, Value};
use sha2::Sha512;

const PATCH_TYPE: &str = "application/openstack-images-v2.1-json-patch";

fn image_bytes() -> Vec<u8> {
    (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect()
}

async fn web_server() -> u16 {
    common::web::serve_image(image_bytes()).await
}

fn config(port: u16, allow_loopback: bool) -> String {
    let filtering = if allow_loopback {
        format!("[import_filtering_opts]\nallowed_hosts = 127.0.0.1\nallowed_ports = {port}\n")
    } else {
        format!("[import_filtering_opts]\nallowed_ports = {port}\n")
    };
    format!("{TRUSTED}[DEFAULT]\nshow_multiple_locations = true\n{filtering}")
}

async fn new_image(c: &Caller<'_>) -> String {
    c.create(json!({"disk_format": "raw", "container_format": "bare"}))
        .await
}

async fn wait_for_status(c: &Caller<'_>, id: &str, want: &str) -> Value {
    for _ in 0..200 {
        let image = c.get(&format!("/v2/images/{id}")).await.json();
        if image["status"] == want {
            return image;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("image {id} never became {want}");
}

/// The image's tasks once the newest has ended (success or failure).
async fn wait_for_tasks(c: &Caller<'_>, id: &str) -> Vec<Value> {
    for _ in 0..200 {
        let r = c.get(&format!("/v2/images/{id}/tasks")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let tasks = r.json()["tasks"].as_array().cloned().unwrap_or_default();
        let ended = |t: &Value| t["status"] == "success" || t["status"] == "failure";
        if tasks.last().is_some_and(ended) {
            return tasks;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the tasks of image {id} never ended");
}

/// Upstream's raw record timestamps: microseconds, no zone.
fn is_raw_timestamp(v: &Value) -> bool {
    let s = v.as_str().unwrap_or_default();
    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.6f").is_ok()
        && s.len() == "2026-01-01T00:00:00.000000".len()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn add_location(c: &Caller<'_>, id: &str, body: Value) -> common::TestResponse {
    c.json(Method::POST, &format!("/v2/images/{id}/locations"), body)
        .await
}

#[tokio::test]
async fn location_api_hashes_the_web_data_and_activates() {
    let port = web_server().await;
    let s: TestServer = common::server_with(&config(port, true)).await;
    let owner = Caller::new(&s, "p1", "member,reader");
    let id = new_image(&owner).await;
    let url = format!("http://127.0.0.1:{port}/image.raw");
    let data = image_bytes();
    let sha512 = hex(&Sha512::digest(&data));

    let r = add_location(
        &owner,
        &id,
        json!({"url": url, "validation_data": {"os_hash_algo": "sha512", "os_hash_value": sha512}}),
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    assert!(r.body.is_empty());
    // Upstream's location_import task records how it went.
    let tasks = wait_for_tasks(&owner, &id).await;
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    let task = &tasks[0];
    assert_eq!(task["type"], "location_import");
    assert_eq!(task["status"], "success", "{task}");
    assert_eq!(task["image_id"], id.as_str());
    assert_eq!(task["owner"], "p1");
    assert_eq!(task["result"], json!({ "image_id": id }));
    assert_eq!(task["message"], "");
    assert_eq!(task["deleted"], false);
    assert_eq!(task["deleted_at"], Value::Null);
    assert_eq!(
        task["input"],
        json!({"image_id": id, "loc_url": url,
               "validation_data": {"os_hash_algo": "sha512", "os_hash_value": sha512}})
    );
    for key in ["created_at", "updated_at", "expires_at"] {
        assert!(is_raw_timestamp(&task[key]), "{key}: {}", task[key]);
    }
    assert!(task["request_id"]
        .as_str()
        .is_some_and(|r| r.starts_with("req-")));
    // Another project sees neither the private image nor its tasks.
    let other = Caller::new(&s, "p2", "member,reader");
    let r = other.get(&format!("/v2/images/{id}/tasks")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
    let image = wait_for_status(&owner, &id, "active").await;
    assert_eq!(image["size"], data.len());
    assert_eq!(image["checksum"], hex(&Md5::digest(&data)));
    assert_eq!(image["os_hash_algo"], "sha512");
    assert_eq!(image["os_hash_value"], sha512);
    assert_eq!(image["locations"], json!([{"url": url, "metadata": {}}]));
    // The data is served from the web server through the http store.
    let r = owner.get(&format!("/v2/images/{id}/file")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body == data, "downloaded bytes");
    // A second add: the image is no longer queued.
    let r = add_location(&owner, &id, json!({ "url": url })).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    // Deleting the image leaves the web server's file alone (and succeeds).
    assert_eq!(
        owner.delete(&format!("/v2/images/{id}")).await.status,
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn wrong_validation_data_puts_the_image_back_to_queued() {
    let port = web_server().await;
    let s = common::server_with(&config(port, true)).await;
    let owner = Caller::new(&s, "p1", "member,reader");
    let id = new_image(&owner).await;
    let url = format!("http://127.0.0.1:{port}/image.raw");
    let wrong = "ab".repeat(64);
    let r = add_location(
        &owner,
        &id,
        json!({"url": url, "validation_data": {"os_hash_algo": "sha512", "os_hash_value": wrong}}),
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    let tasks = wait_for_tasks(&owner, &id).await;
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    assert_eq!(tasks[0]["status"], "failure");
    assert_eq!(tasks[0]["result"], Value::Null);
    let message = tasks[0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("not matched"), "{message}");
    assert!(is_raw_timestamp(&tasks[0]["expires_at"]));
    // importing while it hashes, then back to queued with nothing recorded.
    let image = wait_for_status(&owner, &id, "queued").await;
    assert_eq!(image["locations"], json!([]));
    assert_eq!(image["checksum"], Value::Null);
    assert_eq!(image["size"], Value::Null);
    // A missing object fails the same way.
    let r = add_location(
        &owner,
        &id,
        json!({"url": format!("http://127.0.0.1:{port}/missing.raw")}),
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let tasks = wait_for_tasks(&owner, &id).await;
    assert_eq!(tasks.len(), 2, "{tasks:?}");
    assert_eq!(tasks[1]["status"], "failure");
    let image = wait_for_status(&owner, &id, "queued").await;
    assert_eq!(image["locations"], json!([]));
}

#[tokio::test]
async fn loopback_and_metadata_addresses_are_refused_unless_allowed() {
    let port = web_server().await;
    let s = common::server_with(&config(port, false)).await;
    let owner = Caller::new(&s, "p1", "member,reader");
    let id = new_image(&owner).await;
    for url in [
        format!("http://127.0.0.1:{port}/image.raw"),
        format!("http://[::1]:{port}/image.raw"),
        format!("http://2130706433:{port}/image.raw"),
        format!("http://169.254.169.254:{port}/latest/meta-data/"),
        format!("http://10.0.0.1:{port}/image.raw"),
        format!("http://user:pw@127.0.0.1:{port}/image.raw"),
    ] {
        let r = add_location(&owner, &id, json!({ "url": url })).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{url}: {}", r.text());
        assert!(!r.text().contains("pw@"), "{}", r.text());
        // Upstream's wording for filtered URIs, which Tempest looks for.
        assert!(r.text().contains("does not pass filtering"), "{}", r.text());
        let ops =
            json!([{"op": "add", "path": "/locations/-", "value": {"url": url, "metadata": {}}}]);
        let r = owner
            .send(
                Method::PATCH,
                &format!("/v2/images/{id}"),
                Some(ops.to_string().into_bytes()),
                PATCH_TYPE,
            )
            .await;
        assert!(
            r.status == StatusCode::BAD_REQUEST || r.status == StatusCode::FORBIDDEN,
            "{url}: {}",
            r.text()
        );
    }
    // `localhost` is a name, checked on the addresses it resolves to: refused when
    // the image's data is first read.
    let r = add_location(
        &owner,
        &id,
        json!({"url": format!("http://localhost:{port}/image.raw")}),
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    let image = wait_for_status(&owner, &id, "queued").await;
    assert_eq!(image["locations"], json!([]));
    assert_eq!(image["status"], "queued");
}

#[tokio::test]
async fn legacy_patch_adds_and_removes_web_locations() {
    let port = web_server().await;
    let s = common::server_with(&config(port, true)).await;
    let admin = Caller::new(&s, "ops", "admin,member,reader");
    let id = new_image(&admin).await;
    let first = format!("http://127.0.0.1:{port}/image.raw");
    let second = format!("http://127.0.0.1:{port}/image.raw?copy=2");
    let uri = format!("/v2/images/{id}");
    let patch = |ops: Value| {
        admin.send(
            Method::PATCH,
            &uri,
            Some(ops.to_string().into_bytes()),
            PATCH_TYPE,
        )
    };
    let data = image_bytes();
    let md5 = hex(&Md5::digest(&data));
    let sha512 = hex(&Sha512::digest(&data));
    // As upstream: new validation data must carry the configured hash too.
    let r = patch(json!([{"op": "add", "path": "/locations/-", "value": {
        "url": first, "validation_data": {"checksum": md5}}}]))
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    let r = patch(json!([{"op": "add", "path": "/locations/-", "value": {
        "url": first, "metadata": {"note": "web"},
        "validation_data": {"checksum": md5, "os_hash_algo": "sha512", "os_hash_value": sha512}}}]))
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let image = r.json();
    assert_eq!(image["status"], "active");
    assert_eq!(image["size"], data.len());
    assert_eq!(image["checksum"], md5);
    assert_eq!(
        image["locations"],
        json!([{"url": first, "metadata": {"note": "web"}}])
    );

    let r = patch(
        json!([{"op": "add", "path": "/locations/-", "value": {"url": first, "metadata": {}}}]),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "duplicate: {}", r.text());
    let r = patch(
        json!([{"op": "add", "path": "/locations/1", "value": {"url": second, "metadata": {}}}]),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["locations"].as_array().unwrap().len(), 2);
    let r = patch(json!([{"op": "remove", "path": "/locations/0"}])).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        r.json()["locations"],
        json!([{"url": second, "metadata": {}}])
    );
    let r = admin.get(&format!("/v2/images/{id}/file")).await;
    assert!(r.body == data);
}
