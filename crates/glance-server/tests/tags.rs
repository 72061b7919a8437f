//! `PUT/DELETE /v2/images/{id}/tags/{tag}` (spec §11), with upstream's texts.

mod common;

use axum::body::Body;
use axum::http::{Method, StatusCode};
use common::{TestResponse, TestServer};
use serde_json::{json, Value};

const JSON: (&str, &str) = ("accept", "application/json");

async fn tag(s: &TestServer, method: Method, id: &str, tag: &str) -> TestResponse {
    s.request(
        method,
        &format!("/v2/images/{id}/tags/{tag}"),
        &[JSON],
        Body::empty(),
    )
    .await
}

async fn tags_of(s: &TestServer, id: &str) -> Value {
    s.get(&format!("/v2/images/{id}")).await.json()["tags"].clone()
}

/// Asserts an error's status and its text.
fn check(r: &TestResponse, status: StatusCode, text: &str) {
    assert_eq!(
        (r.status, message(r).as_str()),
        (status, text),
        "{}",
        r.text()
    );
}

fn message(r: &TestResponse) -> String {
    r.json()["message"]
        .as_str()
        .unwrap_or_default()
        .trim_end_matches("<br /><br />\n\n\n")
        .to_string()
}

async fn new_image(s: &TestServer) -> String {
    s.create_image(json!({"name": "t", "tags": ["first"]}))
        .await["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn add_is_idempotent_and_shows_in_the_image() {
    let s = common::server().await;
    let id = new_image(&s).await;
    let r = tag(&s, Method::PUT, &id, "newtag").await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    assert!(r.body.is_empty());
    assert_eq!(
        tag(&s, Method::PUT, &id, "newtag").await.status,
        StatusCode::NO_CONTENT
    );
    let mut tags: Vec<String> = serde_json::from_value(tags_of(&s, &id).await).unwrap();
    tags.sort();
    assert_eq!(tags, ["first", "newtag"]);
    // Case-sensitive, URL-decoded, any printable text.
    assert_eq!(
        tag(&s, Method::PUT, &id, "NewTag").await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        tag(&s, Method::PUT, &id, "a%20b").await.status,
        StatusCode::NO_CONTENT
    );
    let tags = tags_of(&s, &id).await;
    assert!(tags.as_array().unwrap().contains(&json!("a b")), "{tags}");
    assert!(
        tags.as_array().unwrap().contains(&json!("NewTag")),
        "{tags}"
    );
    // Listing by tag finds it.
    let r = s.get("/v2/images?tag=newtag").await;
    assert_eq!(r.json()["images"][0]["id"], id.as_str());
}

#[tokio::test]
async fn tag_longer_than_255_is_400() {
    let s = common::server().await;
    let id = new_image(&s).await;
    let ok = "a".repeat(255);
    assert_eq!(
        tag(&s, Method::PUT, &id, &ok).await.status,
        StatusCode::NO_CONTENT
    );
    let long = "a".repeat(256);
    let r = tag(&s, Method::PUT, &id, &long).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        message(&r),
        format!(
            "Provided object does not match schema 'image': '{long}' is too long\n\nFailed validating 'maxLength' in \
             schema['properties']['tags']['items']:\n    {{'type': 'string', 'maxLength': 255}}\n\nOn instance['tags'][0]:\n    '{long}'"
        )
    );
    // Checked before the image is looked up.
    let r = tag(
        &s,
        Method::PUT,
        "00000000-0000-0000-0000-000000000000",
        &long,
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn tag_quota_is_413() {
    let s = common::server_with("[DEFAULT]\nimage_tag_quota = 2\n").await;
    let id = new_image(&s).await;
    assert_eq!(
        tag(&s, Method::PUT, &id, "second").await.status,
        StatusCode::NO_CONTENT
    );
    let r = tag(&s, Method::PUT, &id, "third").await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        message(&r),
        format!(
            "Image tag limit exceeded for image {id}: The limit has been exceeded on the number of allowed image \
             tags. Attempted: 3, Maximum: 2:"
        )
    );
    // Re-adding a present tag at the limit is still a no-op.
    assert_eq!(
        tag(&s, Method::PUT, &id, "second").await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(tags_of(&s, &id).await.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn delete_and_missing_tags() {
    let s = common::server().await;
    let id = new_image(&s).await;
    let r = tag(&s, Method::DELETE, &id, "first").await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert!(r.body.is_empty());
    assert_eq!(tags_of(&s, &id).await, json!([]));
    let r = tag(&s, Method::DELETE, &id, "first").await;
    check(
        &r,
        StatusCode::NOT_FOUND,
        "The resource could not be found.",
    );
    // A deleted tag can come back.
    assert_eq!(
        tag(&s, Method::PUT, &id, "first").await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(tags_of(&s, &id).await, json!(["first"]));
    let missing = "00000000-0000-0000-0000-000000000000";
    for method in [Method::PUT, Method::DELETE] {
        let r = tag(&s, method, missing, "x").await;
        check(
            &r,
            StatusCode::NOT_FOUND,
            &format!("Image {missing} not found."),
        );
    }
}

#[tokio::test]
async fn a_body_is_rejected() {
    let s = common::server().await;
    let id = new_image(&s).await;
    let r = s
        .request(
            Method::PUT,
            &format!("/v2/images/{id}/tags/x"),
            &[JSON, ("content-length", "3")],
            "abc",
        )
        .await;
    check(
        &r,
        StatusCode::BAD_REQUEST,
        "A body is not expected with this request.",
    );
    assert_eq!(tags_of(&s, &id).await, json!(["first"]));
    let r = s
        .request(
            Method::GET,
            &format!("/v2/images/{id}/tags/x"),
            &[JSON],
            Body::empty(),
        )
        .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.header("allow"), Some("PUT, DELETE"));
}

#[tokio::test]
async fn only_the_owner_changes_tags() {
    let s = common::server_with("[paste_deploy]\nflavor = trusted-auth\n").await;
    let with = |project: &str, extra: &[(&str, &str)]| {
        let mut h = common::as_project(project, "member,reader");
        h.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        h
    };
    let owner = with("p1", &[("content-type", "application/json"), JSON]);
    let pairs: Vec<(&str, &str)> = owner
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let r = s
        .request(
            Method::POST,
            "/v2/images",
            &pairs,
            json!({"visibility": "community"}).to_string(),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_string();
    let other = with("p2", &[JSON]);
    let pairs: Vec<(&str, &str)> = other
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    for method in [Method::PUT, Method::DELETE] {
        let r = s
            .request(
                method,
                &format!("/v2/images/{id}/tags/x"),
                &pairs,
                Body::empty(),
            )
            .await;
        check(
            &r,
            StatusCode::FORBIDDEN,
            "You are not authorized to complete modify_image action.",
        );
    }
}
