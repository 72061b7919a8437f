//! Multi-store filesystem configuration (`enabled_backends`) and discovery
//! (`/v2/info/import`, `/v2/info/stores`, spec §9).

mod common;

use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::http::{Method, StatusCode};
use common::{TestResponse, TestServer};
use serde_json::json;

/// Two filesystem stores under `root`; "fast" is the default.
fn multi_ini(root: &Path) -> String {
    format!(
        "[DEFAULT]\nenabled_backends = fast:file, cheap:file\nshow_multiple_locations = true\n\
         [glance_store]\ndefault_backend = fast\n\
         [fast]\nfilesystem_store_datadir = {}\nstore_description = Fast SSD pool\n\
         [cheap]\nfilesystem_store_datadir = {}\n",
        root.join("fast").display(),
        root.join("cheap").display()
    )
}

fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

struct Multi {
    s: TestServer,
    fast: PathBuf,
    cheap: PathBuf,
    _root: tempfile::TempDir,
}

async fn multi() -> Multi {
    let root = tempfile::tempdir().unwrap();
    let s = common::server_with(&multi_ini(root.path())).await;
    Multi {
        s,
        fast: root.path().join("fast"),
        cheap: root.path().join("cheap"),
        _root: root,
    }
}

async fn put(s: &TestServer, id: &str, store: Option<&str>, data: &'static [u8]) -> TestResponse {
    let mut headers = vec![
        ("content-type", "application/octet-stream"),
        ("accept", "application/json"),
    ];
    if let Some(store) = store {
        headers.push(("x-image-meta-store", store));
    }
    s.request(
        Method::PUT,
        &format!("/v2/images/{id}/file"),
        &headers,
        data,
    )
    .await
}

#[tokio::test]
async fn import_info_lists_the_enabled_methods() {
    let s = common::server().await;
    let r = s.get("/v2/info/import").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(
        r.json(),
        json!({"import-methods": {"description": "Import methods available.", "type": "array",
                                  "value": ["glance-direct", "web-download", "copy-image"]}})
    );
    let s = common::server_with("[DEFAULT]\nenabled_import_methods = [web-download]\n").await;
    assert_eq!(
        s.get("/v2/info/import").await.json()["import-methods"]["value"],
        json!(["web-download"])
    );
    let s = common::server_with("[DEFAULT]\nenabled_import_methods = []\n").await;
    assert_eq!(
        s.get("/v2/info/import").await.json()["import-methods"]["value"],
        json!([])
    );
    let r = s
        .request(
            Method::GET,
            "/v2/info/import",
            &[("content-length", "1")],
            "x",
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn single_store_has_no_stores_info_and_no_stores_field() {
    let s = common::server().await;
    let r = s.get("/v2/info/stores").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        r.json()["message"],
        "Multi backend is not supported at this site.<br /><br />\n\n\n"
    );
    let r = s
        .post_json(
            "/v2/images",
            json!({"disk_format": "raw", "container_format": "bare"}),
        )
        .await;
    assert!(r.header("openstack-image-store-ids").is_none());
    let id = r.json()["id"].as_str().unwrap().to_string();
    // X-Image-Meta-Store is ignored without multi-store.
    assert_eq!(
        put(&s, &id, Some("nope"), b"abc").await.status,
        StatusCode::NO_CONTENT
    );
    assert!(s
        .get(&format!("/v2/images/{id}"))
        .await
        .json()
        .get("stores")
        .is_none());
}

#[tokio::test]
async fn stores_info_lists_backends_in_config_order() {
    let m = multi().await;
    let r = m.s.get("/v2/info/stores").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        r.json(),
        json!({"stores": [
            {"id": "fast", "description": "Fast SSD pool", "default": "true"},
            {"id": "cheap"},
        ]})
    );
    let r =
        m.s.request(
            Method::GET,
            "/v2/info/stores",
            &[("content-length", "1")],
            "x",
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn uploads_land_in_the_default_backend() {
    let m = multi().await;
    let r =
        m.s.post_json(
            "/v2/images",
            json!({"disk_format": "raw", "container_format": "bare"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.header("openstack-image-store-ids"), Some("fast,cheap"));
    let image = r.json();
    assert!(image.get("stores").is_none(), "no data yet: {image}");
    let id = image["id"].as_str().unwrap().to_string();

    assert_eq!(
        put(&m.s, &id, None, b"fast bytes").await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(files(&m.fast), vec![id.clone()]);
    assert_eq!(files(&m.cheap), Vec::<String>::new());
    assert_eq!(std::fs::read(m.fast.join(&id)).unwrap(), b"fast bytes");
    let image = m.s.get(&format!("/v2/images/{id}")).await.json();
    assert_eq!(image["stores"], "fast");
    assert_eq!(image["locations"][0]["metadata"], json!({"store": "fast"}));
    let listed = m.s.get("/v2/images").await.json();
    assert_eq!(listed["images"][0]["stores"], "fast");
    assert_eq!(
        m.s.get(&format!("/v2/images/{id}/file"))
            .await
            .body
            .as_ref(),
        b"fast bytes"
    );
    // Nothing is written to the single-store default directory.
    assert_eq!(m.s.stored_files(), Vec::<String>::new());

    assert_eq!(
        m.s.delete(&format!("/v2/images/{id}")).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(files(&m.fast), Vec::<String>::new());
}

#[tokio::test]
async fn x_image_meta_store_picks_the_backend() {
    let m = multi().await;
    let id =
        m.s.create_image(json!({"disk_format": "raw", "container_format": "bare"}))
            .await["id"]
            .as_str()
            .unwrap()
            .to_string();
    let r = put(&m.s, &id, Some("nope"), b"abc").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json()["message"],
        "Store for identifier nope not found<br /><br />\n\n\n"
    );
    assert_eq!(
        m.s.get(&format!("/v2/images/{id}")).await.json()["status"],
        "queued"
    );

    assert_eq!(
        put(&m.s, &id, Some("cheap"), b"cheap bytes").await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(files(&m.cheap), vec![id.clone()]);
    assert_eq!(files(&m.fast), Vec::<String>::new());
    let image = m.s.get(&format!("/v2/images/{id}")).await.json();
    assert_eq!(image["stores"], "cheap");
    let r =
        m.s.request(
            Method::GET,
            &format!("/v2/images/{id}/file"),
            &[],
            Body::empty(),
        )
        .await;
    assert_eq!(r.body.as_ref(), b"cheap bytes");
}

#[tokio::test]
async fn multi_store_versions_and_prefixes() {
    let m = multi().await;
    let doc = m.s.get("/versions").await.json();
    let ids: Vec<&str> = doc["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"v2.8") && ids.contains(&"v2.13"), "{ids:?}");
    assert_eq!(m.s.get("/v2.8/info/stores").await.status, StatusCode::OK);
}
