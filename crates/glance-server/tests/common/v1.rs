//! Helpers of the v1 API tests (v1_images.rs, v1_lists.rs).

use axum::body::Body;
use axum::http::{Method, StatusCode};
use md5::{Digest, Md5};
use serde_json::Value;

use super::{TestResponse, TestServer};

pub const OWNER: (&str, &str) = ("p1", "member,reader");
pub const OTHER: (&str, &str) = ("p2", "member,reader");
pub const ADMIN: (&str, &str) = ("ops", "admin,member,reader");

/// A v1 request as `who`, with extra headers and a body.
pub async fn v1(
    s: &TestServer,
    who: (&str, &str),
    method: Method,
    uri: &str,
    headers: &[(&str, &str)],
    body: impl Into<Body>,
) -> TestResponse {
    let mut all = super::as_project(who.0, who.1);
    all.push(("accept".into(), "application/json".into()));
    all.extend(headers.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let refs: Vec<(&str, &str)> = all.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    s.request(method, uri, &refs, body).await
}

pub fn md5_hex(data: &[u8]) -> String {
    format!("{:x}", Md5::digest(data))
}

pub fn payload(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 13 % 251) as u8).collect()
}

/// The WebOb explanation of an error (JSON form), without its trailer.
pub fn message(r: &TestResponse) -> String {
    let m = r.json()["message"].as_str().unwrap_or_default().to_string();
    m.split("<br />")
        .next()
        .unwrap_or_default()
        .trim()
        .to_string()
}

pub fn check(r: &TestResponse, status: StatusCode, text: &str) {
    assert_eq!(
        (r.status, message(r).as_str()),
        (status, text),
        "{}",
        r.text()
    );
}

pub const RAW_BARE: [(&str, &str); 2] = [
    ("x-image-meta-disk_format", "raw"),
    ("x-image-meta-container_format", "bare"),
];

/// Creates an image with data as `who`; returns the response's image object.
pub async fn create_with_data(s: &TestServer, who: (&str, &str), name: &str, data: &[u8]) -> Value {
    let len = data.len().to_string();
    let r = v1(
        s,
        who,
        Method::POST,
        "/v1/images",
        &[
            ("x-image-meta-name", name),
            RAW_BARE[0],
            RAW_BARE[1],
            ("content-type", "application/octet-stream"),
            ("content-length", &len),
        ],
        data.to_vec(),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()["image"].clone()
}

pub async fn image_count(s: &TestServer) -> usize {
    let r = v1(
        s,
        ADMIN,
        Method::GET,
        "/v1/images/detail?is_public=none",
        &[],
        Body::empty(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()["images"].as_array().unwrap().len()
}
