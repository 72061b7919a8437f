//! The legacy v1 image API (`/v1/images...`) with Queens' rules: metadata in
//! `x-image-meta-*` headers, data in the body, on the same images v2 serves.

mod common;

use axum::body::Body;
use axum::http::{Method, StatusCode};
use common::v1::*;
use common::TRUSTED;
use serde_json::json;

#[tokio::test]
async fn create_with_data_round_trips_bytes_metadata_and_headers() {
    let s = common::server_with(TRUSTED).await;
    let data = payload(200_000);
    let len = data.len().to_string();
    let r = v1(
        &s,
        OWNER,
        Method::POST,
        "/v1/images",
        &[
            ("X-Image-Meta-Name", "cirros"),
            ("X-Image-Meta-Disk-Format", "raw"),
            ("x-image-meta-container_format", "bare"),
            ("x-image-meta-min_ram", "64"),
            ("X-Image-Meta-Property-Distro-Name", "Cirros"),
            ("content-type", "application/octet-stream"),
            ("content-length", &len),
        ],
        data.clone(),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let image = r.json()["image"].clone();
    let id = image["id"].as_str().unwrap().to_string();
    assert_eq!(
        r.header("location"),
        Some(format!("http://127.0.0.1:9292/v1/images/{id}").as_str())
    );
    assert_eq!(r.header("etag"), Some(md5_hex(&data).as_str()));
    assert_eq!(image["status"], "active");
    assert_eq!(image["size"], data.len());
    assert_eq!(image["checksum"], md5_hex(&data));
    assert_eq!(image["is_public"], false);
    assert_eq!(image["deleted"], false);
    assert_eq!(image["owner"], "p1");
    assert_eq!(image["min_ram"], 64);
    assert_eq!(image["disk_format"], "raw");
    assert_eq!(image["properties"], json!({"distro_name": "Cirros"}));
    assert!(image.get("location").is_none() && image.get("visibility").is_none());
    let created = image["created_at"].as_str().unwrap();
    assert_eq!(created.len(), 26, "microseconds: {created}");

    let head = v1(
        &s,
        OWNER,
        Method::HEAD,
        &format!("/v1/images/{id}"),
        &[],
        Body::empty(),
    )
    .await;
    assert_eq!(head.status, StatusCode::OK);
    assert!(head.body.is_empty());
    for (name, value) in [
        ("x-image-meta-id", id.as_str()),
        ("x-image-meta-name", "cirros"),
        ("x-image-meta-status", "active"),
        ("x-image-meta-is_public", "False"),
        ("x-image-meta-protected", "False"),
        ("x-image-meta-deleted", "False"),
        ("x-image-meta-size", len.as_str()),
        ("x-image-meta-checksum", md5_hex(&data).as_str()),
        ("x-image-meta-min_ram", "64"),
        ("x-image-meta-property-distro_name", "Cirros"),
        ("x-image-meta-created_at", created),
    ] {
        assert_eq!(head.header(name), Some(value), "{name}");
    }
    assert!(head.header("x-image-meta-virtual_size").is_some());
    assert_eq!(head.header("x-image-meta-location"), None);

    let get = v1(
        &s,
        OWNER,
        Method::GET,
        &format!("/v1/images/{id}"),
        &[],
        Body::empty(),
    )
    .await;
    assert_eq!(get.status, StatusCode::OK);
    assert_eq!(get.header("content-type"), Some("application/octet-stream"));
    assert_eq!(get.header("content-length"), Some(len.as_str()));
    assert_eq!(
        get.header("x-image-meta-checksum"),
        Some(md5_hex(&data).as_str())
    );
    assert!(get.body == data, "bytes round-trip");

    // The same image through v2: shared (v1's is_public false), hashed like any upload.
    let v2 = v1(
        &s,
        OWNER,
        Method::GET,
        &format!("/v2/images/{id}"),
        &[],
        Body::empty(),
    )
    .await;
    let v2 = v2.json();
    assert_eq!(v2["visibility"], "shared");
    assert_eq!(v2["os_hash_algo"], "sha512");
    assert_eq!(v2["distro_name"], "Cirros");
}

#[tokio::test]
async fn a_chunked_upload_to_a_reserved_image_activates_it_once() {
    let s = common::server_with(TRUSTED).await;
    let r = v1(
        &s,
        OWNER,
        Method::POST,
        "/v1/images",
        &RAW_BARE,
        Body::empty(),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let image = r.json()["image"].clone();
    assert_eq!(
        (image["status"].as_str(), image["size"].as_i64()),
        (Some("queued"), Some(0))
    );
    let id = image["id"].as_str().unwrap();
    let data = payload(70_000);
    let chunks: Vec<Result<bytes::Bytes, std::io::Error>> = data
        .chunks(4096)
        .map(|c| Ok(bytes::Bytes::copy_from_slice(c)))
        .collect();
    let uri = format!("/v1/images/{id}");
    let put = v1(
        &s,
        OWNER,
        Method::PUT,
        &uri,
        &[
            ("content-type", "application/octet-stream"),
            ("transfer-encoding", "chunked"),
        ],
        Body::from_stream(futures_util::stream::iter(chunks)),
    )
    .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text());
    assert_eq!(put.json()["image"]["status"], "active");
    assert_eq!(put.json()["image"]["checksum"], md5_hex(&data));
    let again = v1(
        &s,
        OWNER,
        Method::PUT,
        &uri,
        &[
            ("content-type", "application/octet-stream"),
            ("content-length", "3"),
        ],
        b"abc".to_vec(),
    )
    .await;
    check(
        &again,
        StatusCode::CONFLICT,
        "Cannot upload to an unqueued image",
    );
    let get = v1(&s, OWNER, Method::GET, &uri, &[], Body::empty()).await;
    assert!(get.body == data, "the first upload's bytes are kept");
}

#[tokio::test]
async fn an_image_announced_empty_is_active_and_serves_no_bytes() {
    let s = common::server_with(TRUSTED).await;
    let r = v1(
        &s,
        OWNER,
        Method::POST,
        "/v1/images",
        &[RAW_BARE[0], RAW_BARE[1], ("x-image-meta-size", "0")],
        Body::empty(),
    )
    .await;
    assert_eq!(r.json()["image"]["status"], "active", "{}", r.text());
    let id = r.json()["image"]["id"].as_str().unwrap().to_string();
    let get = v1(
        &s,
        OWNER,
        Method::GET,
        &format!("/v1/images/{id}"),
        &[],
        Body::empty(),
    )
    .await;
    assert_eq!((get.status, get.body.len()), (StatusCode::OK, 0));
    assert_eq!(get.header("content-length"), Some("0"));
}

/// Headers, whether a body is sent, and the refusal expected.
type RefusedCreate<'a> = (
    Vec<(&'a str, &'a str)>,
    Option<&'a str>,
    StatusCode,
    &'a str,
);

#[tokio::test]
async fn bad_requests_are_refused_before_anything_is_written() {
    let s = common::server_with(TRUSTED).await;
    let data = payload(1000);
    let octet = ("content-type", "application/octet-stream");
    let cases: Vec<RefusedCreate> = vec![
        (vec![("x-image-meta-foo", "1")], None, StatusCode::BAD_REQUEST, "Bad header: x-image-meta-foo"),
        (vec![("x-image-meta-disk_format", "floppy")], None, StatusCode::BAD_REQUEST, "Invalid disk format 'floppy' for image."),
        (
            vec![("x-image-meta-disk_format", "aki"), ("x-image-meta-container_format", "bare")],
            None,
            StatusCode::BAD_REQUEST,
            "Invalid mix of disk and container formats. When setting a disk or container format to one of 'aki', 'ari', or 'ami', the container and disk formats must match.",
        ),
        (vec![("x-image-meta-min_disk", "x")], None, StatusCode::BAD_REQUEST, "Invalid value 'x' for parameter 'min_disk': Cannot convert image min_disk 'x' to an integer."),
        (vec![octet, ("x-image-meta-container_format", "bare")], Some("data"), StatusCode::BAD_REQUEST, "Disk format is not specified."),
        (vec![RAW_BARE[0], RAW_BARE[1], ("content-type", "text/plain")], Some("data"), StatusCode::BAD_REQUEST, "Content-Type must be application/octet-stream"),
        (
            vec![RAW_BARE[0], RAW_BARE[1], octet, ("x-image-meta-location", "http://example.com/a.img")],
            Some("data"),
            StatusCode::BAD_REQUEST,
            "It's invalid to provide multiple image sources.",
        ),
        (vec![("x-image-meta-location", "file:///etc/passwd")], None, StatusCode::BAD_REQUEST, "External sources are not supported: 'file:///etc/passwd'"),
        (vec![("x-image-meta-is_public", "true")], None, StatusCode::FORBIDDEN, ""),
        (vec![("x-image-meta-id", "not-a-uuid")], None, StatusCode::BAD_REQUEST, "Failed to reserve image. Got error: Invalid image id format"),
    ];
    for (headers, body, status, text) in cases {
        let body = body.map(|_| data.clone()).unwrap_or_default();
        let len = body.len().to_string();
        let mut headers = headers.clone();
        headers.push(("content-length", &len));
        let r = v1(&s, OWNER, Method::POST, "/v1/images", &headers, body).await;
        assert_eq!(r.status, status, "{headers:?}: {}", r.text());
        if !text.is_empty() {
            assert_eq!(message(&r), text, "{headers:?}");
        }
    }
    assert_eq!(image_count(&s).await, 0, "no refused request left an image");
    assert!(s.stored_files().is_empty());
}

#[tokio::test]
async fn a_checksum_or_size_that_does_not_match_keeps_no_data() {
    let s = common::server_with(TRUSTED).await;
    let data = payload(5000);
    let len = data.len().to_string();
    let r = v1(
        &s,
        OWNER,
        Method::POST,
        "/v1/images",
        &RAW_BARE,
        Body::empty(),
    )
    .await;
    let id = r.json()["image"]["id"].as_str().unwrap().to_string();
    let uri = format!("/v1/images/{id}");
    let octet = ("content-type", "application/octet-stream");
    let wrong = "0123456789abcdef0123456789abcdef";
    let r = v1(
        &s,
        OWNER,
        Method::PUT,
        &uri,
        &[
            octet,
            ("content-length", &len),
            ("x-image-meta-checksum", wrong),
        ],
        data.clone(),
    )
    .await;
    check(
        &r,
        StatusCode::BAD_REQUEST,
        &format!("Supplied checksum ({wrong}) and checksum generated from uploaded image ({}) did not match.", md5_hex(&data)),
    );
    let r = v1(
        &s,
        OWNER,
        Method::PUT,
        &uri,
        &[
            octet,
            ("transfer-encoding", "chunked"),
            ("x-image-meta-size", "4999"),
        ],
        data.clone(),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    let head = v1(&s, OWNER, Method::HEAD, &uri, &[], Body::empty()).await;
    assert_eq!(head.header("x-image-meta-status"), Some("queued"));
    assert_eq!(head.header("x-image-meta-checksum"), None);
    assert!(s.settled_files().await.is_empty(), "no data kept");
    // The right checksum is accepted.
    let md5 = md5_hex(&data);
    let r = v1(
        &s,
        OWNER,
        Method::PUT,
        &uri,
        &[
            octet,
            ("content-length", &len),
            ("x-image-meta-checksum", &md5),
        ],
        data.clone(),
    )
    .await;
    assert_eq!(r.json()["image"]["status"], "active", "{}", r.text());
}

#[tokio::test]
async fn update_purges_unnamed_properties_unless_told_not_to() {
    let s = common::server_with(TRUSTED).await;
    let r = v1(
        &s,
        OWNER,
        Method::POST,
        "/v1/images",
        &[
            ("x-image-meta-property-a", "1"),
            ("x-image-meta-property-b", "2"),
        ],
        Body::empty(),
    )
    .await;
    let id = r.json()["image"]["id"].as_str().unwrap().to_string();
    let uri = format!("/v1/images/{id}");
    let merged = v1(
        &s,
        OWNER,
        Method::PUT,
        &uri,
        &[
            ("x-image-meta-property-c", "3"),
            ("x-glance-registry-purge-props", "false"),
            ("x-image-meta-name", "renamed"),
        ],
        Body::empty(),
    )
    .await;
    assert_eq!(merged.status, StatusCode::OK, "{}", merged.text());
    assert_eq!(
        merged.json()["image"]["properties"],
        json!({"a": "1", "b": "2", "c": "3"})
    );
    assert_eq!(merged.json()["image"]["name"], "renamed");
    let purged = v1(
        &s,
        OWNER,
        Method::PUT,
        &uri,
        &[("x-image-meta-property-b", "20")],
        Body::empty(),
    )
    .await;
    assert_eq!(purged.json()["image"]["properties"], json!({"b": "20"}));
    for (header, text) in [
        (
            ("x-image-meta-status", "active"),
            "Forbidden to modify 'status' of image.",
        ),
        (
            ("x-image-meta-id", "0b2b7dc5-3a68-4d43-9e2a-b2f3b0a4f6a1"),
            "Forbidden to modify 'id' of image.",
        ),
    ] {
        let r = v1(&s, OWNER, Method::PUT, &uri, &[header], Body::empty()).await;
        check(&r, StatusCode::FORBIDDEN, text);
    }
    let stranger = v1(
        &s,
        OTHER,
        Method::PUT,
        &uri,
        &[("x-image-meta-name", "x")],
        Body::empty(),
    )
    .await;
    check(
        &stranger,
        StatusCode::NOT_FOUND,
        &format!("Image with identifier {id} not found"),
    );
    let head = v1(&s, OWNER, Method::HEAD, &uri, &[], Body::empty()).await;
    assert_eq!(
        head.header("x-image-meta-name"),
        Some("renamed"),
        "refusals changed nothing"
    );
}

#[tokio::test]
async fn delete_answers_200_and_refuses_protected_images() {
    let s = common::server_with(TRUSTED).await;
    let image = create_with_data(&s, OWNER, "d", &payload(3000)).await;
    let id = image["id"].as_str().unwrap();
    let uri = format!("/v1/images/{id}");
    let protect = v1(
        &s,
        OWNER,
        Method::PUT,
        &uri,
        &[("x-image-meta-protected", "True")],
        Body::empty(),
    )
    .await;
    assert_eq!(protect.json()["image"]["protected"], true);
    check(
        &v1(&s, OWNER, Method::DELETE, &uri, &[], Body::empty()).await,
        StatusCode::FORBIDDEN,
        "Image is protected",
    );
    assert_eq!(s.stored_files().len(), 1);
    v1(
        &s,
        OWNER,
        Method::PUT,
        &uri,
        &[("x-image-meta-protected", "False")],
        Body::empty(),
    )
    .await;
    let deleted = v1(&s, OWNER, Method::DELETE, &uri, &[], Body::empty()).await;
    assert_eq!((deleted.status, deleted.body.len()), (StatusCode::OK, 0));
    let head = v1(&s, OWNER, Method::HEAD, &uri, &[], Body::empty()).await;
    assert_eq!(head.status, StatusCode::NOT_FOUND);
    assert!(s.settled_files().await.is_empty(), "data removed");
}

#[tokio::test]
async fn a_deactivated_image_is_403_and_a_queued_one_404_to_download() {
    let s = common::server_with(TRUSTED).await;
    let image = create_with_data(&s, ADMIN, "d", &payload(10)).await;
    let id = image["id"].as_str().unwrap();
    let r = v1(
        &s,
        ADMIN,
        Method::POST,
        &format!("/v2/images/{id}/actions/deactivate"),
        &[],
        Body::empty(),
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    let get = v1(
        &s,
        ADMIN,
        Method::GET,
        &format!("/v1/images/{id}"),
        &[],
        Body::empty(),
    )
    .await;
    check(
        &get,
        StatusCode::FORBIDDEN,
        &format!("Image {id} is deactivated"),
    );
    let queued = v1(&s, ADMIN, Method::POST, "/v1/images", &[], Body::empty()).await;
    let qid = queued.json()["image"]["id"].as_str().unwrap().to_string();
    let get = v1(
        &s,
        ADMIN,
        Method::GET,
        &format!("/v1/images/{qid}"),
        &[],
        Body::empty(),
    )
    .await;
    check(
        &get,
        StatusCode::NOT_FOUND,
        &format!("Image {qid} is not active"),
    );
}
