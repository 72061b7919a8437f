//! Listing through the legacy v1 API (`/v1/images`, `/v1/images/detail`): upstream's
//! filters, sorting, paging and their 400s, and the versions document's v1 entries.

mod common;

use axum::body::Body;
use axum::http::{Method, StatusCode};
use common::v1::*;
use common::{TestResponse, TRUSTED};
use serde_json::Value;

#[tokio::test]
async fn lists_filter_sort_and_page_as_upstream() {
    let s = common::server_with(TRUSTED).await;
    let mut ids = Vec::new();
    for (i, name) in ["b", "a", "c"].iter().enumerate() {
        let image = create_with_data(&s, OWNER, name, &payload(100 * (i + 1))).await;
        ids.push(image["id"].as_str().unwrap().to_string());
        common::next_created_at().await;
    }
    let brief = v1(&s, OWNER, Method::GET, "/v1/images", &[], Body::empty()).await;
    assert_eq!(brief.status, StatusCode::OK, "{}", brief.text());
    let images = brief.json()["images"].as_array().unwrap().clone();
    assert_eq!(images.len(), 3);
    let mut keys: Vec<&str> = images[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "checksum",
            "container_format",
            "disk_format",
            "id",
            "name",
            "size"
        ]
    );
    // Default order: newest first.
    let order: Vec<&str> = images.iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(order, [ids[2].as_str(), ids[1].as_str(), ids[0].as_str()]);
    let names = |r: &TestResponse| -> Vec<String> {
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        r.json()["images"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["name"].as_str().unwrap().to_string())
            .collect()
    };
    let sorted = v1(
        &s,
        OWNER,
        Method::GET,
        "/v1/images/detail?sort_key=name&sort_dir=asc",
        &[],
        Body::empty(),
    )
    .await;
    assert_eq!(names(&sorted), ["a", "b", "c"]);
    let page = v1(
        &s,
        OWNER,
        Method::GET,
        &format!(
            "/v1/images/detail?sort_key=name&sort_dir=asc&limit=1&marker={}",
            ids[1]
        ),
        &[],
        Body::empty(),
    )
    .await;
    assert_eq!(names(&page), ["b"]);
    let filtered = v1(
        &s,
        OWNER,
        Method::GET,
        "/v1/images/detail?size_min=150&size_max=250",
        &[],
        Body::empty(),
    )
    .await;
    assert_eq!(names(&filtered), ["a"]);
    let by_name = v1(
        &s,
        OWNER,
        Method::GET,
        "/v1/images?name=c",
        &[],
        Body::empty(),
    )
    .await;
    assert_eq!(names(&by_name), ["c"]);
    for (query, text) in [
        ("sort_key=owner", "Unsupported sort_key. Acceptable values: name, status, container_format, disk_format, size, id, created_at, updated_at"),
        ("sort_dir=up", "Unsupported sort_dir. Acceptable values: asc, desc"),
        ("limit=x", "limit param must be an integer"),
        ("limit=-1", "limit param must be positive"),
        ("marker=abc", "Invalid marker format"),
        ("marker=0b2b7dc5-3a68-4d43-9e2a-b2f3b0a4f6a1", "Invalid marker. Image could not be found."),
        ("size_min=-5", "Bad value passed to filter size_min got -5"),
        ("is_public=maybe", "Bad value passed to filter is_public got maybe"),
    ] {
        let r = v1(&s, OWNER, Method::GET, &format!("/v1/images/detail?{query}"), &[], Body::empty()).await;
        check(&r, StatusCode::BAD_REQUEST, text);
    }
    let head = v1(
        &s,
        OWNER,
        Method::HEAD,
        "/v1/images/detail",
        &[],
        Body::empty(),
    )
    .await;
    assert_eq!(head.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(head.header("allow"), Some("GET"));
    // Another project sees none of these shared-by-default images.
    let other = v1(
        &s,
        OTHER,
        Method::GET,
        "/v1/images/detail",
        &[],
        Body::empty(),
    )
    .await;
    assert_eq!(names(&other), Vec::<String>::new());
}

#[tokio::test]
async fn the_versions_document_lists_v1_only_while_it_is_enabled() {
    let on = common::server().await;
    let r = on.get("/versions").await;
    let versions = r.json()["versions"].as_array().unwrap().clone();
    let v1_entries: Vec<&Value> = versions
        .iter()
        .filter(|v| v["id"].as_str().unwrap().starts_with("v1"))
        .collect();
    assert_eq!(v1_entries.len(), 2);
    assert_eq!(v1_entries[0]["status"], "DEPRECATED");
    assert_eq!(
        v1_entries[0]["links"][0]["href"],
        "http://127.0.0.1:9292/v1/"
    );
    assert_eq!(on.get("/v1.1/images").await.status, StatusCode::OK);
    let off = common::server_with("[DEFAULT]\nenable_v1_api = false\n").await;
    assert_eq!(
        off.get("/v1/images").await.status,
        StatusCode::MULTIPLE_CHOICES
    );
    let versions = off.get("/versions").await.json();
    assert!(!versions.to_string().contains("v1.1"));
}
