//! The seeds' registry API (`glance-registry`) on the same database as the API:
//! metadata as JSON with locations, upstream's registry rules, and what the API then
//! serves of the images it registered.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use axum::Router;
use common::{TestResponse, TestServer, TRUSTED};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

const OWNER: (&str, &str) = ("p1", "member,reader");
const OTHER: (&str, &str) = ("p2", "member,reader");

async fn call(
    registry: &Router,
    who: (&str, &str),
    method: Method,
    uri: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> TestResponse {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header("accept", "application/json")
        .header("content-type", "application/json");
    for (k, v) in common::as_project(who.0, who.1) {
        request = request.header(k, v);
    }
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let body = body
        .map(|b| Body::from(b.to_string()))
        .unwrap_or_else(Body::empty);
    let response = registry
        .clone()
        .oneshot(request.body(body).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    TestResponse {
        status,
        headers,
        body,
    }
}

fn registry_of(s: &TestServer) -> Router {
    glance_api::build_registry_app(s.state.clone())
}

fn message(r: &TestResponse) -> String {
    let m = r.json()["message"].as_str().unwrap_or_default().to_string();
    m.split("<br />")
        .next()
        .unwrap_or_default()
        .trim()
        .to_string()
}

#[tokio::test]
async fn registered_metadata_is_served_by_the_api_with_its_location() {
    let s = common::server_with(&format!(
        "{TRUSTED}[DEFAULT]\nshow_multiple_locations = true\n"
    ))
    .await;
    let registry = registry_of(&s);
    let body = json!({"image": {
        "name": "web", "disk_format": "raw", "container_format": "bare", "is_public": false,
        "size": 1234, "checksum": "0123456789abcdef0123456789abcdef",
        "location": "http://example.com/images/web.img", "properties": {"distro": "Ubuntu"},
    }});
    let r = call(&registry, OWNER, Method::POST, "/images", &[], Some(body)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let image = r.json()["image"].clone();
    let id = image["id"].as_str().unwrap().to_string();
    assert_eq!(image["status"], "active", "the registry's default status");
    assert_eq!(image["owner"], "p1");
    assert_eq!(image["location"], "http://example.com/images/web.img");
    assert_eq!(
        image["location_data"][0]["url"],
        "http://example.com/images/web.img"
    );
    assert_eq!(image["properties"], json!({"distro": "Ubuntu"}));

    let detail = call(&registry, OWNER, Method::GET, "/images/detail", &[], None).await;
    assert_eq!(
        detail.json()["images"][0]["location"],
        "http://example.com/images/web.img"
    );
    let brief = call(&registry, OWNER, Method::GET, "/images", &[], None).await;
    let mut keys: Vec<String> = brief.json()["images"][0]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
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

    // The API serves the same row: v2 with its location, v1 without.
    let v2 = s
        .request(
            Method::GET,
            &format!("/v2/images/{id}"),
            &[
                ("x-identity-status", "Confirmed"),
                ("x-project-id", "p1"),
                ("x-roles", "member,reader"),
            ],
            Body::empty(),
        )
        .await
        .json();
    assert_eq!(v2["size"], 1234);
    assert_eq!(
        v2["locations"][0]["url"],
        "http://example.com/images/web.img"
    );
    assert_eq!(v2["distro"], "Ubuntu");
    let other = call(
        &registry,
        OTHER,
        Method::GET,
        &format!("/images/{id}"),
        &[],
        None,
    )
    .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn updates_merge_or_purge_and_respect_from_state() {
    let s = common::server_with(TRUSTED).await;
    let registry = registry_of(&s);
    let r = call(
        &registry,
        OWNER,
        Method::POST,
        "/images",
        &[],
        Some(json!({"image": {"status": "queued", "properties": {"a": "1", "b": "2"}}})),
    )
    .await;
    let id = r.json()["image"]["id"].as_str().unwrap().to_string();
    let uri = format!("/images/{id}");
    let merged = call(
        &registry,
        OWNER,
        Method::PUT,
        &uri,
        &[],
        Some(json!({"image": {"name": "n", "properties": {"c": "3"}}})),
    )
    .await;
    assert_eq!(merged.status, StatusCode::OK, "{}", merged.text());
    assert_eq!(
        merged.json()["image"]["properties"],
        json!({"a": "1", "b": "2", "c": "3"})
    );
    let purged = call(
        &registry,
        OWNER,
        Method::PUT,
        &uri,
        &[("x-glance-registry-purge-props", "true")],
        Some(json!({"image": {"properties": {"c": "30"}}})),
    )
    .await;
    assert_eq!(purged.json()["image"]["properties"], json!({"c": "30"}));
    // The API's compare-and-swap: queued -> saving only from queued.
    let saving = call(
        &registry,
        OWNER,
        Method::PUT,
        &uri,
        &[],
        Some(json!({"image": {"status": "saving"}, "from_state": "queued"})),
    )
    .await;
    assert_eq!(saving.json()["image"]["status"], "saving");
    let lost = call(
        &registry,
        OWNER,
        Method::PUT,
        &uri,
        &[],
        Some(json!({"image": {"status": "active"}, "from_state": "queued"})),
    )
    .await;
    assert_eq!(
        (lost.status, message(&lost).as_str()),
        (StatusCode::CONFLICT, "Image operation conflicts")
    );
    let stranger = call(
        &registry,
        OTHER,
        Method::PUT,
        &uri,
        &[],
        Some(json!({"image": {"name": "x"}})),
    )
    .await;
    assert_eq!(stranger.status, StatusCode::NOT_FOUND);
    let shown = call(&registry, OWNER, Method::GET, &uri, &[], None)
        .await
        .json();
    assert_eq!(
        (
            shown["image"]["name"].as_str(),
            shown["image"]["status"].as_str()
        ),
        (Some("n"), Some("saving"))
    );
}

#[tokio::test]
async fn bad_bodies_are_refused_and_delete_returns_the_deleted_image() {
    let s = common::server_with(TRUSTED).await;
    let registry = registry_of(&s);
    for (body, status, text) in [
        (json!({"image": {"status": "bogus"}}), StatusCode::BAD_REQUEST, "Failed to add image metadata. Got error: Invalid image status 'bogus' for image."),
        (json!({"image": {"id": "x"}}), StatusCode::BAD_REQUEST, "Failed to add image metadata. Got error: Invalid image id format"),
        (json!({"image": {"min_disk": 2147483648u64}}), StatusCode::BAD_REQUEST, "Failed to add image metadata. Got error: 'min_disk' value out of range, must not exceed 2147483647."),
    ] {
        let r = call(&registry, OWNER, Method::POST, "/images", &[], Some(body)).await;
        assert_eq!((r.status, message(&r).as_str()), (status, text));
    }
    let id = "0b2b7dc5-3a68-4d43-9e2a-b2f3b0a4f6a1";
    let r = call(
        &registry,
        OWNER,
        Method::POST,
        "/images",
        &[],
        Some(json!({"image": {"id": id, "is_public": true}})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let again = call(
        &registry,
        OWNER,
        Method::POST,
        "/images",
        &[],
        Some(json!({"image": {"id": id}})),
    )
    .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    let public = call(
        &registry,
        OTHER,
        Method::DELETE,
        &format!("/images/{id}"),
        &[],
        None,
    )
    .await;
    assert_eq!(
        public.status,
        StatusCode::FORBIDDEN,
        "another project's public image"
    );
    let deleted = call(
        &registry,
        OWNER,
        Method::DELETE,
        &format!("/images/{id}"),
        &[],
        None,
    )
    .await;
    assert_eq!(deleted.status, StatusCode::OK);
    assert_eq!(
        (
            deleted.json()["image"]["deleted"].as_bool(),
            deleted.json()["image"]["id"].as_str()
        ),
        (Some(true), Some(id))
    );
    let gone = call(
        &registry,
        OWNER,
        Method::GET,
        &format!("/images/{id}"),
        &[],
        None,
    )
    .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    // Members live at the registry's own paths.
    let r = call(
        &registry,
        OWNER,
        Method::POST,
        "/images",
        &[],
        Some(json!({"image": {}})),
    )
    .await;
    let mid = r.json()["image"]["id"].as_str().unwrap().to_string();
    let add = call(
        &registry,
        OWNER,
        Method::PUT,
        &format!("/images/{mid}/members/p2"),
        &[],
        Some(json!({"member": {"can_share": true}})),
    )
    .await;
    assert_eq!(add.status, StatusCode::NO_CONTENT, "{}", add.text());
    let shared = call(
        &registry,
        OTHER,
        Method::GET,
        "/shared-images/p2",
        &[],
        None,
    )
    .await;
    assert_eq!(
        shared.json(),
        json!({"shared_images": [{"image_id": mid, "can_share": true}]})
    );
}
