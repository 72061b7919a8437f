//! Interoperable image import (Image API 2.6): `PUT /stage` and `POST /import`
//! with glance-direct, web-download (from a web server on loopback that the test
//! starts) and copy-image, and the `api_image_import` task each import records.

mod common;

use std::time::Duration;

use axum::http::{Method, StatusCode};
use common::{assert_error, TestResponse, TestServer};
use md5::{Digest as _, Md5};
use serde_json::{json, Value};
use sha2::Sha512;

fn image_bytes() -> Vec<u8> {
    (0..200_000u32).map(|i| (i * 13 % 251) as u8).collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn web_server() -> u16 {
    common::web::serve_image(image_bytes()).await
}

async fn new_image(s: &TestServer, disk_format: &str) -> String {
    let image = s
        .create_image(json!({"disk_format": disk_format, "container_format": "bare"}))
        .await;
    image["id"].as_str().unwrap().to_string()
}

async fn stage(s: &TestServer, id: &str, data: Vec<u8>) -> TestResponse {
    s.put_data(&format!("/v2/images/{id}/stage"), data).await
}

async fn import(s: &TestServer, id: &str, body: Value) -> TestResponse {
    s.post_json(&format!("/v2/images/{id}/import"), body).await
}

async fn show(s: &TestServer, id: &str) -> Value {
    s.get(&format!("/v2/images/{id}")).await.json()
}

/// The image's newest task, once it has ended.
async fn ended_task(s: &TestServer, id: &str) -> Value {
    for _ in 0..400 {
        let tasks = s.get(&format!("/v2/images/{id}/tasks")).await.json()["tasks"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if let Some(t) = tasks.last() {
            if t["status"] == "success" || t["status"] == "failure" {
                return t.clone();
            }
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the import task of {id} never ended");
}

fn staged_files(s: &TestServer) -> Vec<String> {
    std::fs::read_dir(s.dir.path().join("staging"))
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

async fn download(s: &TestServer, id: &str) -> Vec<u8> {
    let r = s.get(&format!("/v2/images/{id}/file")).await;
    assert_eq!(r.status, StatusCode::OK);
    r.body.to_vec()
}

#[tokio::test]
async fn glance_direct_stages_then_imports_with_checksums() {
    let s = common::server().await;
    let id = new_image(&s, "raw").await;
    let data = image_bytes();

    let r = stage(&s, &id, data.clone()).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    let image = show(&s, &id).await;
    assert_eq!(image["status"], "uploading");
    assert_eq!(image["size"], data.len());
    assert_eq!(staged_files(&s), vec![id.clone()]);
    assert!(
        s.stored_files().is_empty(),
        "nothing reaches the store at stage"
    );
    // Staging twice is a status conflict, and the staged data stays.
    let r = stage(&s, &id, b"other".to_vec()).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(staged_files(&s), vec![id.clone()]);

    let r = import(&s, &id, json!({"method": {"name": "glance-direct"}})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    assert!(r.body.is_empty());
    let task = ended_task(&s, &id).await;
    assert_eq!(task["type"], "api_image_import");
    assert_eq!(task["status"], "success", "{task}");
    assert_eq!(task["result"], json!({ "image_id": id }));
    assert_eq!(
        task["input"],
        json!({"image_id": id, "import_req": {"method": {"name": "glance-direct"}},
               "backend": [null]})
    );
    let image = show(&s, &id).await;
    assert_eq!(image["status"], "active");
    assert_eq!(image["size"], data.len());
    assert_eq!(image["checksum"], hex(&Md5::digest(&data)));
    assert_eq!(image["os_hash_algo"], "sha512");
    assert_eq!(image["os_hash_value"], hex(&Sha512::digest(&data)));
    assert!(image.get("os_glance_import_task").is_none(), "{image}");
    assert_eq!(download(&s, &id).await, data);
    assert_eq!(s.stored_files(), vec![id.clone()]);
    assert!(staged_files(&s).is_empty(), "the staged copy is removed");
}

#[tokio::test]
async fn import_requests_are_checked_as_upstream_does() {
    let s = common::server().await;
    let id = new_image(&s, "raw").await;
    let m = |name: &str| json!({"method": {"name": name}});
    assert_error(
        &import(&s, &id, json!({})).await,
        StatusCode::BAD_REQUEST,
        "Import request requires a 'method' field.",
    );
    assert_error(
        &import(&s, &id, json!({"method": {}})).await,
        StatusCode::BAD_REQUEST,
        "Import request requires a 'name' field.",
    );
    assert_error(
        &import(&s, &id, m("glance-download")).await,
        StatusCode::BAD_REQUEST,
        "Unknown import method name 'glance-download'.",
    );
    assert_error(
        &import(
            &s,
            &id,
            json!({"method": {"name": "glance-direct"}, "all_stores": 1}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "'all_stores' must be boolean value only",
    );
    assert_error(
        &import(&s, &id, m("glance-direct")).await,
        StatusCode::CONFLICT,
        "Image needs to be staged before 'glance-direct' method can be used",
    );
    assert_error(
        &import(&s, &id, m("copy-image")).await,
        StatusCode::CONFLICT,
        "Only images with status active can be targeted for copying",
    );
    assert_error(
        &import(
            &s,
            &id,
            json!({"method": {"name": "glance-direct"},
                                "all_stores_must_succeed": false}),
        )
        .await,
        StatusCode::CONFLICT,
        "Image needs to be staged before 'glance-direct' method can be used",
    );
    // No formats yet: 409 before anything changes.
    let bare = s.create_image(json!({})).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        stage(&s, &bare, b"x".to_vec()).await.status,
        StatusCode::NO_CONTENT
    );
    assert_error(
        &import(&s, &bare, m("glance-direct")).await,
        StatusCode::CONFLICT,
        "'container_format' needs to be set before import",
    );
    assert_eq!(show(&s, &bare).await["status"], "uploading");
    let r = s
        .request(
            Method::PUT,
            &format!("/v2/images/{id}/stage"),
            &[("content-type", "application/json")],
            b"{}".to_vec(),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", r.text());
    let r = s
        .get("/v2/images/00000000-0000-0000-0000-000000000000")
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = stage(&s, "00000000-0000-0000-0000-000000000000", b"x".to_vec()).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
    // Nothing was recorded for the refused requests.
    let image = show(&s, &id).await;
    assert_eq!(image["status"], "queued");
    let tasks = s.get(&format!("/v2/images/{id}/tasks")).await.json();
    assert_eq!(tasks["tasks"], json!([]));
}

#[tokio::test]
async fn stage_is_404_when_glance_direct_is_off() {
    let s = common::server_with("[DEFAULT]\nenabled_import_methods = [web-download]\n").await;
    let id = new_image(&s, "raw").await;
    assert_error(
        &stage(&s, &id, b"data".to_vec()).await,
        StatusCode::NOT_FOUND,
        "'glance-direct' method is not available at this site.",
    );
    assert_eq!(show(&s, &id).await["status"], "queued");
    assert!(staged_files(&s).is_empty());
}

#[tokio::test]
async fn data_refused_by_format_inspection_puts_the_image_back_to_queued() {
    let s = common::server().await;
    // qcow2 declared, raw bytes sent: refused when the data goes to the store.
    let id = new_image(&s, "qcow2").await;
    assert_eq!(
        stage(&s, &id, image_bytes()).await.status,
        StatusCode::NO_CONTENT
    );
    let r = import(&s, &id, json!({"method": {"name": "glance-direct"}})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    let task = ended_task(&s, &id).await;
    assert_eq!(task["status"], "failure", "{task}");
    assert!(!task["message"].as_str().unwrap_or_default().is_empty());
    let image = show(&s, &id).await;
    assert_eq!(image["status"], "queued");
    assert_eq!(image["size"], Value::Null);
    assert_eq!(image["checksum"], Value::Null);
    assert!(image.get("os_glance_import_task").is_none(), "{image}");
    assert!(s.settled_files().await.is_empty());
    assert!(staged_files(&s).is_empty());
    // The image can be staged and imported again.
    assert_eq!(
        stage(&s, &id, image_bytes()).await.status,
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn deleting_a_staged_image_removes_the_staged_data() {
    let s = common::server().await;
    let id = new_image(&s, "raw").await;
    assert_eq!(
        stage(&s, &id, image_bytes()).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(staged_files(&s).len(), 1);
    let r = s.delete(&format!("/v2/images/{id}")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    assert!(staged_files(&s).is_empty());
}

#[tokio::test]
async fn web_download_fetches_through_the_import_filter() {
    let port = web_server().await;
    let allowed =
        format!("[import_filtering_opts]\nallowed_hosts = 127.0.0.1\nallowed_ports = {port}\n");
    let s = common::server_with(&allowed).await;
    let id = new_image(&s, "raw").await;
    let url = format!("http://127.0.0.1:{port}/image.raw");
    let r = import(
        &s,
        &id,
        json!({"method": {"name": "web-download", "uri": url}}),
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    let task = ended_task(&s, &id).await;
    assert_eq!(task["status"], "success", "{task}");
    let data = image_bytes();
    let image = show(&s, &id).await;
    assert_eq!(image["status"], "active");
    assert_eq!(image["checksum"], hex(&Md5::digest(&data)));
    assert_eq!(download(&s, &id).await, data);
    assert!(staged_files(&s).is_empty());
    // An active image is no import target.
    assert_error(
        &import(
            &s,
            &id,
            json!({"method": {"name": "web-download", "uri": url}}),
        )
        .await,
        StatusCode::CONFLICT,
        "Image with status active cannot be target for import",
    );

    // Loopback is refused by default (SSRF): 400, and the image stays queued.
    let strict = common::server().await;
    let id = new_image(&strict, "raw").await;
    assert_error(
        &import(
            &strict,
            &id,
            json!({"method": {"name": "web-download", "uri": url}}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        &format!("URI for web-download does not pass filtering: {url}"),
    );
    assert_error(
        &import(&strict, &id, json!({"method": {"name": "web-download"}})).await,
        StatusCode::BAD_REQUEST,
        "URI for web-download does not pass filtering: None",
    );
    assert_eq!(show(&strict, &id).await["status"], "queued");
    assert_eq!(
        strict.get(&format!("/v2/images/{id}/tasks")).await.json()["tasks"],
        json!([])
    );
}

const STORES: &str = "[DEFAULT]\nenabled_backends = fast:file, cheap:file\n\
    show_multiple_locations = true\n[glance_store]\ndefault_backend = fast\n";

fn stores_of(image: &Value) -> Vec<String> {
    let mut stores: Vec<String> = image["locations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["metadata"]["store"].as_str().unwrap().to_string())
        .collect();
    stores.sort();
    stores
}

#[tokio::test]
async fn glance_direct_to_every_store_then_copy_image() {
    let s = common::server_with(STORES).await;
    let id = new_image(&s, "raw").await;
    assert_eq!(
        stage(&s, &id, image_bytes()).await.status,
        StatusCode::NO_CONTENT
    );
    assert_error(
        &import(
            &s,
            &id,
            json!({"method": {"name": "glance-direct"}, "stores": ["nowhere"]}),
        )
        .await,
        StatusCode::CONFLICT,
        "Unknown scheme 'nowhere' found in URI",
    );
    let r = import(
        &s,
        &id,
        json!({"method": {"name": "glance-direct"}, "stores": ["fast"]}),
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    assert_eq!(ended_task(&s, &id).await["status"], "success");
    let image = show(&s, &id).await;
    assert_eq!(image["status"], "active");
    assert_eq!(image["stores"], "fast");
    assert_eq!(image["os_glance_importing_to_stores"], "");
    assert_eq!(image["os_glance_failed_import"], "");

    // copy-image into a store that has it: 400; into the other: a second location.
    assert_error(
        &import(
            &s,
            &id,
            json!({"method": {"name": "copy-image"}, "stores": ["fast"]}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "Image is already present at store 'fast'",
    );
    let r = import(
        &s,
        &id,
        json!({"method": {"name": "copy-image"}, "all_stores": true}),
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    for _ in 0..400 {
        if stores_of(&show(&s, &id).await).len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let image = show(&s, &id).await;
    assert_eq!(stores_of(&image), vec!["cheap", "fast"]);
    assert_eq!(image["status"], "active");
    let tasks = s.get(&format!("/v2/images/{id}/tasks")).await.json()["tasks"]
        .as_array()
        .cloned()
        .unwrap();
    assert_eq!(tasks.len(), 2);
    // Both may carry the same created_at (MySQL keeps whole seconds): find the copy.
    let copy = tasks
        .iter()
        .find(|t| t["input"]["import_req"]["method"]["name"] == "copy-image")
        .expect("the copy-image task");
    assert_eq!(copy["input"]["backend"], json!(["cheap"]));
    assert_eq!(copy["status"], "success", "{copy}");
    // Every copy is whole: both files hold the data.
    for store in ["fast", "cheap"] {
        let path = s.dir.path().join("images").join(store).join(&id);
        assert_eq!(std::fs::read(&path).unwrap(), image_bytes(), "{store}");
    }
    // Everywhere already: accepted, nothing to do.
    let r = import(
        &s,
        &id,
        json!({"method": {"name": "copy-image"}, "all_stores": true}),
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
}

#[tokio::test]
async fn all_stores_with_a_stores_list_is_refused() {
    let s = common::server_with(STORES).await;
    let id = new_image(&s, "raw").await;
    assert_eq!(
        stage(&s, &id, image_bytes()).await.status,
        StatusCode::NO_CONTENT
    );
    assert_error(
        &import(
            &s,
            &id,
            json!({"method": {"name": "glance-direct"}, "all_stores": true, "stores": ["fast"]}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "All_stores parameter can't be used with x-image-meta-store header or stores parameter",
    );
    let r = import(
        &s,
        &id,
        json!({"method": {"name": "glance-direct"}, "all_stores": true}),
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    assert_eq!(ended_task(&s, &id).await["status"], "success");
    assert_eq!(stores_of(&show(&s, &id).await), vec!["cheap", "fast"]);
}
