//! `GET /v2/images/{id}/file`: full and ranged downloads, and who may download.

mod common;

use axum::body::Body;
use axum::http::{Method, StatusCode};
use common::{TestResponse, TestServer};
use md5::{Digest, Md5};
use serde_json::json;

const JSON: (&str, &str) = ("accept", "application/json");

fn payload(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 13 % 256) as u8).collect()
}

/// An active raw image holding `data`; returns its id.
async fn active_image(s: &TestServer, data: &[u8]) -> String {
    let image = s
        .create_image(json!({"disk_format": "raw", "container_format": "bare"}))
        .await;
    let id = image["id"].as_str().unwrap().to_string();
    let r = s
        .put_data(&format!("/v2/images/{id}/file"), data.to_vec())
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    id
}

async fn ranged(s: &TestServer, id: &str, header: &str, value: &str) -> TestResponse {
    s.request(
        Method::GET,
        &format!("/v2/images/{id}/file"),
        &[(header, value), JSON],
        Body::empty(),
    )
    .await
}

#[tokio::test]
async fn full_download_has_upstream_headers() {
    let s = common::server().await;
    let data = payload(100_000);
    let id = active_image(&s, &data).await;
    let r = s.get(&format!("/v2/images/{id}/file")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("content-type"), Some("application/octet-stream"));
    assert_eq!(r.header("content-length"), Some("100000"));
    assert_eq!(
        r.header("content-md5"),
        Some(format!("{:x}", Md5::digest(&data)).as_str())
    );
    assert!(r.header("content-range").is_none());
    assert!(r
        .header("x-openstack-request-id")
        .unwrap()
        .starts_with("req-"));
    assert_eq!(r.body.as_ref(), data.as_slice());
}

#[tokio::test]
async fn satisfiable_ranges_are_206_with_the_whole_image_md5() {
    let s = common::server().await;
    let data = payload(100);
    let id = active_image(&s, &data).await;
    let md5 = format!("{:x}", Md5::digest(&data));
    let cases = [
        ("bytes=0-15", 0, 15),
        ("bytes=-0", 0, 99),
        ("bytes=90-", 90, 99),
        ("bytes=-10", 90, 99),
        ("bytes=-200", 0, 99),
        ("bytes=99-", 99, 99),
        ("bytes=0-0", 0, 0),
        ("bytes=50-500", 50, 99),
        ("Bytes=0-5", 0, 5),
        ("bytes = 3 - 4", 3, 4),
    ];
    for (value, start, end) in cases {
        let r = ranged(&s, &id, "range", value).await;
        assert_eq!(
            r.status,
            StatusCode::PARTIAL_CONTENT,
            "{value}: {}",
            r.text()
        );
        assert_eq!(
            r.header("content-range"),
            Some(format!("bytes {start}-{end}/100").as_str()),
            "{value}"
        );
        assert_eq!(
            r.header("content-length"),
            Some((end - start + 1).to_string().as_str()),
            "{value}"
        );
        assert_eq!(r.header("content-md5"), Some(md5.as_str()), "{value}");
        assert_eq!(r.header("content-type"), Some("application/octet-stream"));
        assert_eq!(r.body.as_ref(), &data[start..=end], "{value}");
    }
    // The legacy Content-Range request header works the same way.
    let r = ranged(&s, &id, "content-range", "bytes 0-9/100").await;
    assert_eq!(r.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.header("content-range"), Some("bytes 0-9/100"));
    assert_eq!(r.body.as_ref(), &data[..10]);
}

#[tokio::test]
async fn unsatisfiable_ranges_are_416_and_multiple_ranges_400() {
    let s = common::server().await;
    let id = active_image(&s, &payload(100)).await;
    let invalid = "The Range requested is not available.<br /><br />\nInvalid Range header.\n\n";
    for value in ["bytes=10-5", "bytes=abc", "items=0-5", "bytes=5", "bytes=-"] {
        let r = ranged(&s, &id, "range", value).await;
        assert_eq!(r.status, StatusCode::RANGE_NOT_SATISFIABLE, "{value}");
        assert_eq!(r.json()["message"], invalid, "{value}");
        assert_eq!(r.json()["code"], "416 Request Range Not Satisfiable");
    }
    for value in ["bytes=100-", "bytes=100-200"] {
        let r = ranged(&s, &id, "range", value).await;
        assert_eq!(r.status, StatusCode::RANGE_NOT_SATISFIABLE, "{value}");
        assert_eq!(
            r.json()["message"],
            "The Range requested is not available.<br /><br />\nInvalid start position in Range header. \
             Start position MUST be in the inclusive range [0, 99].\n\n"
        );
    }
    let r = ranged(&s, &id, "range", "bytes=0-1,3-4").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json()["message"],
        "Requests with multiple ranges are not supported in Glance. You may make multiple single-range \
         requests instead.<br /><br />\n\n\n"
    );
    let r = ranged(&s, &id, "content-range", "bytes 0-9").await;
    assert_eq!(r.status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert!(r.json()["message"]
        .as_str()
        .unwrap()
        .contains("Invalid Content-Range header."));
}

#[tokio::test]
async fn empty_and_queued_images() {
    let s = common::server().await;
    let empty = active_image(&s, b"").await;
    let r = s.get(&format!("/v2/images/{empty}/file")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("content-length"), Some("0"));
    assert_eq!(
        r.header("content-md5"),
        Some("d41d8cd98f00b204e9800998ecf8427e")
    );
    assert!(r.body.is_empty());
    let r = ranged(&s, &empty, "range", "bytes=0-5").await;
    assert_eq!(r.status, StatusCode::RANGE_NOT_SATISFIABLE);

    let queued = s
        .create_image(json!({"disk_format": "raw", "container_format": "bare"}))
        .await;
    let r = s
        .get(&format!(
            "/v2/images/{}/file",
            queued["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert!(r.body.is_empty());
    assert!(r.header("content-md5").is_none());
}

#[tokio::test]
async fn data_missing_from_the_store_is_204() {
    let s = common::server().await;
    let id = active_image(&s, &payload(10)).await;
    std::fs::remove_file(s.dir.path().join("images").join(&id)).unwrap();
    let r = s.get(&format!("/v2/images/{id}/file")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
}

fn as_refs(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

async fn call(
    s: &TestServer,
    who: &[(String, String)],
    method: Method,
    uri: &str,
    body: Body,
) -> TestResponse {
    let mut headers = who.to_vec();
    headers.push(("accept".into(), "application/json".into()));
    headers.push(("content-type".into(), "application/octet-stream".into()));
    s.request(method, uri, &as_refs(&headers), body).await
}

#[tokio::test]
async fn who_may_download() {
    let s = common::server_with("[paste_deploy]\nflavor = trusted-auth\n").await;
    let owner = common::as_project("p1", "member,reader");
    let stranger = common::as_project("p2", "member,reader");
    let admin = common::as_project("ops", "admin");
    let create = |visibility: &str| json!({"disk_format": "raw", "container_format": "bare", "visibility": visibility});
    let mut ids = Vec::new();
    for visibility in ["private", "public"] {
        let who = if visibility == "public" {
            &admin
        } else {
            &owner
        };
        let mut h = who.clone();
        h.push(("content-type".into(), "application/json".into()));
        let r = s
            .request(
                Method::POST,
                "/v2/images",
                &as_refs(&h),
                create(visibility).to_string(),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let id = r.json()["id"].as_str().unwrap().to_string();
        let r = call(
            &s,
            who,
            Method::PUT,
            &format!("/v2/images/{id}/file"),
            Body::from("0123456789"),
        )
        .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
        ids.push(id);
    }
    let (private, public) = (&ids[0], &ids[1]);
    // Invisible: 404 with the image-not-found text.
    let r = call(
        &s,
        &stranger,
        Method::GET,
        &format!("/v2/images/{private}/file"),
        Body::empty(),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        r.json()["message"],
        format!("No image found with ID {private}<br /><br />\n\n\n")
    );
    assert_eq!(
        call(
            &s,
            &owner,
            Method::GET,
            &format!("/v2/images/{private}/file"),
            Body::empty()
        )
        .await
        .status,
        StatusCode::OK
    );
    assert_eq!(
        call(
            &s,
            &stranger,
            Method::GET,
            &format!("/v2/images/{public}/file"),
            Body::empty()
        )
        .await
        .status,
        StatusCode::OK
    );
    // The reader role may see but not download.
    let reader = common::as_project("p1", "reader");
    let r = call(
        &s,
        &reader,
        Method::GET,
        &format!("/v2/images/{private}/file"),
        Body::empty(),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());

    // Deactivated: only admins download.
    let r = call(
        &s,
        &admin,
        Method::POST,
        &format!("/v2/images/{private}/actions/deactivate"),
        Body::empty(),
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    let r = call(
        &s,
        &owner,
        Method::GET,
        &format!("/v2/images/{private}/file"),
        Body::empty(),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        r.json()["message"],
        "The requested image has been deactivated. Image data download is forbidden.<br /><br />\n\n\n"
    );
    let r = call(
        &s,
        &admin,
        Method::GET,
        &format!("/v2/images/{private}/file"),
        Body::empty(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body.as_ref(), b"0123456789");
}

#[tokio::test]
async fn download_rejects_a_body() {
    let s = common::server().await;
    let id = active_image(&s, &payload(10)).await;
    let r = s
        .request(
            Method::GET,
            &format!("/v2/images/{id}/file"),
            &[JSON, ("content-length", "3")],
            "abc",
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json()["message"],
        "A body is not expected with this request.<br /><br />\n\n\n"
    );
}
