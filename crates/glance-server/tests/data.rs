//! `PUT /v2/images/{id}/file`: what a client relies on when it uploads image data,
//! and that no failure leaves data or a transient status behind.

mod common;

use axum::body::Body;
use axum::http::{Method, StatusCode};
use bytes::Bytes;
use common::{assert_pristine, show, TestResponse, TestServer};
use futures_util::stream;
use md5::{Digest, Md5};
use serde_json::{json, Value};
use sha2::{Sha256, Sha512};

const OCTET: (&str, &str) = ("content-type", "application/octet-stream");
const JSON: (&str, &str) = ("accept", "application/json");

fn md5_hex(data: &[u8]) -> String {
    format!("{:x}", Md5::digest(data))
}

fn sha512_hex(data: &[u8]) -> String {
    format!("{:x}", Sha512::digest(data))
}

fn payload(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 % 251) as u8).collect()
}

async fn raw_image(s: &TestServer) -> String {
    let image = s
        .create_image(json!({"name": "d", "disk_format": "raw", "container_format": "bare"}))
        .await;
    image["id"].as_str().unwrap().to_string()
}

/// Upload with an explicit Content-Length, as a real client sends it.
async fn put_sized(s: &TestServer, id: &str, data: Vec<u8>) -> TestResponse {
    let len = data.len().to_string();
    s.request(
        Method::PUT,
        &format!("/v2/images/{id}/file"),
        &[OCTET, JSON, ("content-length", &len)],
        data,
    )
    .await
}

/// Upload as a chunked stream (no Content-Length), in `chunk`-byte pieces.
async fn put_chunked(s: &TestServer, id: &str, data: &[u8], chunk: usize) -> TestResponse {
    let chunks: Vec<Result<Bytes, std::io::Error>> = data
        .chunks(chunk)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let body = Body::from_stream(stream::iter(chunks));
    s.request(
        Method::PUT,
        &format!("/v2/images/{id}/file"),
        &[OCTET, JSON, ("transfer-encoding", "chunked")],
        body,
    )
    .await
}

#[tokio::test]
async fn upload_round_trip_sets_hashes_size_and_location() {
    let s = common::server_with(
        "[DEFAULT]\nshow_multiple_locations = true\nshow_image_direct_url = true\n",
    )
    .await;
    let id = raw_image(&s).await;
    assert_eq!(show(&s, &id).await["status"], "queued");
    let data = payload(300_000);
    let r = put_sized(&s, &id, data.clone()).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    assert!(r.body.is_empty());
    assert!(r
        .header("x-openstack-request-id")
        .unwrap()
        .starts_with("req-"));

    let image = show(&s, &id).await;
    assert_eq!(image["status"], "active");
    assert_eq!(image["size"], 300_000);
    assert_eq!(image["virtual_size"], 300_000);
    assert_eq!(image["checksum"], md5_hex(&data));
    assert_eq!(image["os_hash_algo"], "sha512");
    assert_eq!(image["os_hash_value"], sha512_hex(&data));
    let file = s.dir.path().join("images").join(&id);
    let url = format!("file://{}", file.canonicalize().unwrap().display());
    assert_eq!(image["direct_url"], url.as_str());
    assert_eq!(image["locations"], json!([{"url": url, "metadata": {}}]));
    assert_eq!(std::fs::read(&file).unwrap(), data);
    assert_eq!(s.stored_files(), vec![id.clone()]);
    assert_eq!(
        s.get(&format!("/v2/images/{id}/file")).await.body.as_ref(),
        data.as_slice()
    );
}

#[tokio::test]
async fn chunked_stream_upload_round_trips() {
    let s = common::server().await;
    let id = raw_image(&s).await;
    let data = payload(1_000_003);
    let r = put_chunked(&s, &id, &data, 8_191).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    let image = show(&s, &id).await;
    assert_eq!(
        (image["status"].as_str(), image["size"].as_u64()),
        (Some("active"), Some(1_000_003))
    );
    assert_eq!(image["checksum"], md5_hex(&data));
    assert_eq!(image["os_hash_value"], sha512_hex(&data));
    assert_eq!(
        s.get(&format!("/v2/images/{id}/file")).await.body.as_ref(),
        data.as_slice()
    );
}

#[tokio::test]
async fn empty_upload_activates_with_size_zero() {
    let s = common::server().await;
    let id = raw_image(&s).await;
    let r = put_sized(&s, &id, Vec::new()).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    let image = show(&s, &id).await;
    assert_eq!(image["status"], "active");
    assert_eq!(image["size"], 0);
    assert_eq!(image["checksum"], "d41d8cd98f00b204e9800998ecf8427e");
    assert_eq!(image["os_hash_value"], sha512_hex(b""));
    // Upstream leaves a zero virtual size unset.
    assert_eq!(image["virtual_size"], Value::Null);
}

#[tokio::test]
async fn non_bare_container_has_no_virtual_size() {
    let s = common::server().await;
    let image = s
        .create_image(json!({"disk_format": "raw", "container_format": "ovf"}))
        .await;
    let id = image["id"].as_str().unwrap();
    assert_eq!(
        put_sized(&s, id, payload(10)).await.status,
        StatusCode::NO_CONTENT
    );
    let image = show(&s, id).await;
    assert_eq!(
        (image["size"].as_u64(), &image["virtual_size"]),
        (Some(10), &Value::Null)
    );
}

#[tokio::test]
async fn wrong_or_missing_content_type_is_415() {
    let s = common::server().await;
    let id = raw_image(&s).await;
    let uri = format!("/v2/images/{id}/file");
    let r = s
        .request(
            Method::PUT,
            &uri,
            &[("content-type", "text/plain"), JSON],
            "abc",
        )
        .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        r.json()["message"],
        "The request media type text/plain is not supported by this server.\n<br /><br />\nInvalid content type text/plain"
    );
    let r = s.request(Method::PUT, &uri, &[JSON], "abc").await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(r.json()["message"]
        .as_str()
        .unwrap()
        .ends_with("Invalid content type None"));
    assert_pristine(&s, &id).await;
    // Parameters of the media type are ignored.
    let typed = ("content-type", "application/octet-stream; charset=binary");
    assert_eq!(
        s.request(Method::PUT, &uri, &[typed, JSON], "abc")
            .await
            .status,
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn upload_to_active_image_is_409_with_upstream_page() {
    let s = common::server().await;
    let id = raw_image(&s).await;
    assert_eq!(
        put_sized(&s, &id, payload(16)).await.status,
        StatusCode::NO_CONTENT
    );
    let r = s
        .request(
            Method::PUT,
            &format!("/v2/images/{id}/file"),
            &[OCTET, ("accept", "*/*")],
            payload(16),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.header("content-type"), Some("text/html; charset=UTF-8"));
    assert_eq!(
        r.text(),
        "<html>\n <head>\n  <title>409 Conflict</title>\n </head>\n <body>\n  <h1>409 Conflict</h1>\n  \
         Image status transition from active to saving is not allowed<br /><br />\n\n\n\n </body>\n</html>"
    );
    assert_eq!(r.body.len(), 180, "upstream's Content-Length");
    assert_eq!(s.stored_files(), vec![id]);
}

#[tokio::test]
async fn missing_formats_is_400() {
    let s = common::server().await;
    let id = s.create_image(json!({"name": "no formats"})).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = put_sized(&s, &id, payload(8)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json()["message"],
        "Properties disk_format, container_format must be set prior to saving data.<br /><br />\n\n\n"
    );
    assert_pristine(&s, &id).await;
}

#[tokio::test]
async fn image_size_cap_is_413_and_leaves_nothing_behind() {
    let s = common::server_with("[DEFAULT]\nimage_size_cap = 1000\n").await;
    let id = raw_image(&s).await;
    let r = put_sized(&s, &id, payload(1001)).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text());
    assert_eq!(
        r.json()["message"],
        "The incoming image is too large: The provided image is too large.<br /><br />\n\n\n"
    );
    assert_eq!(r.json()["title"], "Request Entity Too Large");
    assert_pristine(&s, &id).await;
    // Without a declared size the cap is found while streaming.
    let r = put_chunked(&s, &id, &payload(1001), 100).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text());
    assert_pristine(&s, &id).await;
    // Exactly the cap is fine, and the image can still be uploaded.
    let data = payload(1000);
    assert_eq!(
        put_chunked(&s, &id, &data, 100).await.status,
        StatusCode::NO_CONTENT
    );
    let image = show(&s, &id).await;
    assert_eq!(
        (image["size"].as_u64(), image["checksum"].as_str()),
        (Some(1000), Some(md5_hex(&data).as_str()))
    );
    assert_eq!(s.stored_files(), vec![id]);
}

#[tokio::test]
async fn declared_size_must_match_the_data() {
    let s = common::server().await;
    let id = raw_image(&s).await;
    let uri = format!("/v2/images/{id}/file");
    let declared = |n: &'static str| [OCTET, JSON, ("x-openstack-image-size", n)];
    let r = s.request(Method::PUT, &uri, &declared("5"), "abc").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json()["message"],
        "Size mismatch: expected 5 bytes, got 3 bytes<br /><br />\n\n\n"
    );
    assert_pristine(&s, &id).await;
    let r = s
        .request(Method::PUT, &uri, &declared("5"), "abcdefgh")
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json()["message"],
        "Size exceeds: expected 5 bytes, got 8 bytes<br /><br />\n\n\n"
    );
    assert_pristine(&s, &id).await;
    for bad in ["abc", "1.5", "-5"] {
        let r = s.request(Method::PUT, &uri, &declared(bad), "abc").await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(
            r.json()["message"],
            "Invalid or missing image size in request headers.<br /><br />\n\n\n"
        );
    }
    assert_pristine(&s, &id).await;
    // A declared size of 0 means "unknown", as upstream.
    assert_eq!(
        s.request(Method::PUT, &uri, &declared("0"), "abc")
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(show(&s, &id).await["size"], 3);
}

#[tokio::test]
async fn user_storage_quota_is_413() {
    let s = common::server_with("[DEFAULT]\nuser_storage_quota = 1000\n").await;
    let first = raw_image(&s).await;
    assert_eq!(
        put_sized(&s, &first, payload(600)).await.status,
        StatusCode::NO_CONTENT
    );
    let second = raw_image(&s).await;
    let r = put_sized(&s, &second, payload(600)).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text());
    assert_eq!(
        r.json()["message"],
        "Image exceeds the storage quota: The size of the data 600 will exceed the limit. 400 bytes remaining.<br /><br />\n\n\n"
    );
    let r = put_chunked(&s, &second, &payload(600), 64).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text());
    let image = show(&s, &second).await;
    assert_eq!(
        (image["status"].as_str(), &image["size"]),
        (Some("queued"), &Value::Null)
    );
    assert_eq!(s.stored_files(), vec![first.clone()]);
    assert_eq!(
        put_chunked(&s, &second, &payload(400), 64).await.status,
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn body_failing_midway_leaves_image_queued_and_no_file() {
    let s = common::server().await;
    let id = raw_image(&s).await;
    let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
        Ok(Bytes::from(payload(70_000))),
        Ok(Bytes::from(payload(70_000))),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "client went away",
        )),
    ];
    let body = Body::from_stream(stream::iter(chunks));
    let r = s
        .request(
            Method::PUT,
            &format!("/v2/images/{id}/file"),
            &[OCTET, JSON],
            body,
        )
        .await;
    assert!(
        r.status.is_client_error() || r.status.is_server_error(),
        "{}",
        r.status
    );
    assert_pristine(&s, &id).await;
    assert_eq!(
        put_sized(&s, &id, payload(10)).await.status,
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn hashing_algorithm_setting_changes_os_hash() {
    let s = common::server_with("[DEFAULT]\nhashing_algorithm = sha256\n").await;
    let id = raw_image(&s).await;
    let data = payload(5000);
    assert_eq!(
        put_sized(&s, &id, data.clone()).await.status,
        StatusCode::NO_CONTENT
    );
    let image = show(&s, &id).await;
    assert_eq!(image["os_hash_algo"], "sha256");
    assert_eq!(
        image["os_hash_value"],
        format!("{:x}", Sha256::digest(&data))
    );
    assert_eq!(image["checksum"], md5_hex(&data));
}

/// Identity headers plus request headers, owned.
fn headers(identity: &[(String, String)], extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut all = identity.to_vec();
    all.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    all
}

fn refs(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

#[tokio::test]
async fn only_the_owner_may_upload() {
    let s = common::server_with("[paste_deploy]\nflavor = trusted-auth\n").await;
    let owner = headers(
        &common::as_project("p1", "member,reader"),
        &[("content-type", "application/json"), JSON],
    );
    let body = json!({"disk_format": "raw", "container_format": "bare", "visibility": "community"});
    let r = s
        .request(Method::POST, "/v2/images", &refs(&owner), body.to_string())
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_string();
    let other = headers(&common::as_project("p2", "member,reader"), &[OCTET, JSON]);
    let r = s
        .request(
            Method::PUT,
            &format!("/v2/images/{id}/file"),
            &refs(&other),
            "abc",
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        r.json()["message"],
        "You are not authorized to complete upload_image action.<br /><br />\n\n\n"
    );
    let owner_put = headers(&common::as_project("p1", "member,reader"), &[OCTET, JSON]);
    let r = s
        .request(
            Method::GET,
            &format!("/v2/images/{id}"),
            &refs(&owner_put),
            Body::empty(),
        )
        .await;
    assert_eq!(r.json()["status"], "queued");
    assert_eq!(s.stored_files(), Vec::<String>::new());
}
