//! Version negotiation (spec §1), routing-level errors (§2.4), error bodies (§2.3) and
//! request ids (§2.2), compared with upstream's recorded bytes where we have them.

mod common;

use axum::body::Body;
use axum::http::{Method, StatusCode};
use common::{TestResponse, TestServer};
use serde_json::{json, Value};

const MISSING: &str = "00000000-0000-0000-0000-000000000000";

async fn raw(s: &TestServer, method: Method, uri: &str, headers: &[(&str, &str)]) -> TestResponse {
    s.request(method, uri, headers, Body::empty()).await
}

fn ids(doc: &Value) -> Vec<(String, String)> {
    doc["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["id"].as_str().unwrap().to_string(),
                v["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn expected(list: &[&str], current: &str) -> Vec<(String, String)> {
    list.iter()
        .map(|id| {
            (
                format!("v{id}"),
                if *id == current {
                    "CURRENT"
                } else {
                    "SUPPORTED"
                }
                .to_string(),
            )
        })
        .collect()
}

const OLD: [&str; 8] = ["2.7", "2.6", "2.5", "2.4", "2.3", "2.2", "2.1", "2.0"];

/// Upstream 33's document, which has no v1 (the v1 entries are tested in v1_images.rs).
const NO_V1: &str = "[DEFAULT]\nenable_v1_api = false\n";

#[tokio::test]
async fn versions_document_on_root_unknown_prefixes_and_versions() {
    let s = common::server_with(NO_V1).await;
    for uri in [
        "/",
        "/foo",
        "/v1/images",
        "/v3",
        "/v2.99/images",
        "/v2.18/images",
        "/v2.8/images",
    ] {
        let r = raw(&s, Method::GET, uri, &[("accept", "*/*")]).await;
        assert_eq!(r.status, StatusCode::MULTIPLE_CHOICES, "{uri}");
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert!(r.header("x-openstack-request-id").is_none(), "{uri}");
        for v in r.json()["versions"].as_array().unwrap() {
            assert_eq!(
                v["links"],
                json!([{"rel": "self", "href": "http://127.0.0.1:9292/v2/"}])
            );
        }
    }
    let root = raw(&s, Method::GET, "/", &[]).await;
    let r = raw(&s, Method::GET, "/versions", &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.header("x-openstack-request-id").is_none());
    assert_eq!(r.json(), root.json());
    let list = ["2.15", "2.9", "2.17"]
        .iter()
        .chain(OLD.iter())
        .copied()
        .collect::<Vec<_>>();
    assert_eq!(ids(&r.json()), expected(&list, "2.17"));
    // public_endpoint replaces the request's host.
    let s = common::server_with(&format!(
        "{NO_V1}public_endpoint = https://images.example.com:8443/\n"
    ))
    .await;
    let doc = raw(&s, Method::GET, "/", &[]).await.json();
    assert_eq!(
        doc["versions"][0]["links"][0]["href"],
        "https://images.example.com:8443/v2/"
    );
}

#[tokio::test]
async fn versions_listed_follow_cache_and_multi_store() {
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = format!("{NO_V1}image_cache_dir = {}\n", cache_dir.path().display());
    let multi =
        &format!("{NO_V1}enabled_backends = fast:file\n[glance_store]\ndefault_backend = fast\n");
    let both =
        format!("{cache}enabled_backends = fast:file\n[glance_store]\ndefault_backend = fast\n");
    let multi_block = ["2.13", "2.12", "2.11", "2.10", "2.9", "2.8"];
    let cache_block = ["2.18", "2.17", "2.16", "2.15", "2.14"];
    let cases: [(&str, Vec<&str>, &str); 3] = [
        (&cache, [&cache_block[..], &["2.9"], &OLD].concat(), "2.18"),
        (
            multi,
            [&["2.15"][..], &multi_block, &["2.17"], &OLD].concat(),
            "2.17",
        ),
        (
            &both,
            [&cache_block[..], &multi_block, &OLD].concat(),
            "2.18",
        ),
    ];
    for (ini, list, current) in cases {
        let s = common::server_with(ini).await;
        let doc = raw(&s, Method::GET, "/versions", &[]).await.json();
        assert_eq!(ids(&doc), expected(&list, current), "{ini}");
        // Every advertised version is also an accepted URL prefix.
        for id in &list {
            let r = s.get(&format!("/v{id}/images")).await;
            assert_eq!(r.status, StatusCode::OK, "{ini} v{id}");
        }
    }
}

#[tokio::test]
async fn minor_version_prefixes_serve_v2() {
    let s = common::server().await;
    let image = s.create_image(json!({"name": "via-v2"})).await;
    let id = image["id"].as_str().unwrap();
    for prefix in ["v2", "v2.0", "v2.1", "v2.7", "v2.9", "v2.15", "v2.17"] {
        let r = s.get(&format!("/{prefix}/images/{id}")).await;
        assert_eq!(r.status, StatusCode::OK, "{prefix}");
        assert_eq!(r.json()["self"], format!("/v2/images/{id}"));
        assert!(r.header("x-openstack-request-id").is_some());
    }
    let r = s.get("/v2.1/images?name=via-v2").await;
    assert_eq!(r.json()["images"][0]["id"], id);
    // "/v2" redirects to "/v2/", which has no route.
    let r = raw(&s, Method::GET, "/v2", &[]).await;
    assert_eq!(r.status, StatusCode::FOUND);
    assert_eq!(r.header("location"), Some("http://127.0.0.1:9292/v2/"));
}

#[tokio::test]
async fn cache_versions_only_with_image_cache_dir() {
    let s = common::server().await;
    assert_eq!(
        s.get("/v2.18/images").await.status,
        StatusCode::MULTIPLE_CHOICES
    );
    let dir = tempfile::tempdir().unwrap();
    let s = common::server_with(&format!(
        "[DEFAULT]\nimage_cache_dir = {}\n",
        dir.path().display()
    ))
    .await;
    assert_eq!(s.get("/v2.18/images").await.status, StatusCode::OK);
    assert_eq!(s.get("/v2.16/images").await.status, StatusCode::OK);
}

#[tokio::test]
async fn healthcheck() {
    let s = common::server().await;
    let r = raw(&s, Method::GET, "/healthcheck", &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("content-type"), Some("text/plain; charset=UTF-8"));
    assert_eq!(r.text(), "OK");
    assert!(r.header("x-openstack-request-id").is_none());
    assert_eq!(
        raw(&s, Method::HEAD, "/healthcheck", &[]).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn method_not_allowed_lists_the_allowed_methods() {
    let s = common::server().await;
    let id = s.create_image(json!({})).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = raw(
        &s,
        Method::HEAD,
        &format!("/v2/images/{id}"),
        &[("accept", "*/*")],
    )
    .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.header("allow"), Some("GET, PATCH, DELETE"));
    assert!(r.body.is_empty());
    let r = raw(
        &s,
        Method::POST,
        &format!("/v2/images/{id}"),
        &[("accept", "*/*")],
    )
    .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.header("allow"), Some("GET, PATCH, DELETE"));
    assert!(r.header("x-openstack-request-id").is_some());
    assert_eq!(
        r.text(),
        "<html>\n <head>\n  <title>405 Method Not Allowed</title>\n </head>\n <body>\n  <h1>405 Method Not Allowed</h1>\n  \
         The method POST is not allowed for this resource. <br /><br />\n\n </body>\n</html>"
    );
    let r = raw(
        &s,
        Method::POST,
        &format!("/v2/images/{id}/file"),
        &[("accept", "application/json")],
    )
    .await;
    assert_eq!(r.header("allow"), Some("GET, PUT"));
    assert_eq!(
        r.text(),
        r#"{"message": "The method POST is not allowed for this resource. <br /><br />\n", "code": "405 Method Not Allowed", "title": "Method Not Allowed"}"#
    );
    let r = raw(&s, Method::DELETE, "/v2/info/import", &[]).await;
    assert_eq!(
        (r.status, r.header("allow")),
        (StatusCode::METHOD_NOT_ALLOWED, Some("GET"))
    );
    let r = raw(&s, Method::from_bytes(b"FOO").unwrap(), "/v2/images", &[]).await;
    assert_eq!(
        (r.status, r.header("allow")),
        (StatusCode::METHOD_NOT_ALLOWED, Some("GET, POST"))
    );
}

#[tokio::test]
async fn unknown_paths_are_404_and_unknown_methods_501() {
    let s = common::server().await;
    // Upstream's exact page for GET /v2/ (Content-Length 154).
    let page = "<html>\n <head>\n  <title>404 Not Found</title>\n </head>\n <body>\n  <h1>404 Not Found</h1>\n  \
                The resource could not be found.<br /><br />\n\n\n\n </body>\n</html>";
    for uri in ["/v2/", "/v2/nope", "/v2/images/x/nope", "/v2.1/nope"] {
        let r = raw(&s, Method::GET, uri, &[("accept", "*/*")]).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(r.header("content-type"), Some("text/html; charset=UTF-8"));
        assert_eq!(r.text(), page);
        assert!(r
            .header("x-openstack-request-id")
            .unwrap()
            .starts_with("req-"));
    }
    assert_eq!(page.len(), 154);
    let r = raw(
        &s,
        Method::from_bytes(b"FOO").unwrap(),
        "/v2/nope",
        &[("accept", "*/*")],
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_IMPLEMENTED);
    assert!(r.text().contains(
        "  \nThe request method FOO is not implemented for this server. <br /><br />\n\n </body>"
    ));
}

#[tokio::test]
async fn error_body_follows_accept() {
    let s = common::server().await;
    let uri = format!("/v2/images/{MISSING}");
    let text = format!("No image found with ID {MISSING}");
    // Upstream's page, byte for byte (Content-Length 181).
    let r = raw(&s, Method::GET, &uri, &[("accept", "*/*")]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.header("content-type"), Some("text/html; charset=UTF-8"));
    let page = format!(
        "<html>\n <head>\n  <title>404 Not Found</title>\n </head>\n <body>\n  <h1>404 Not Found</h1>\n  \
         {text}<br /><br />\n\n\n\n </body>\n</html>"
    );
    assert_eq!(r.text(), page);
    assert_eq!(r.body.len(), 181);
    assert_eq!(
        raw(&s, Method::GET, &uri, &[("accept", "text/html")])
            .await
            .text(),
        page
    );

    let r = raw(&s, Method::GET, &uri, &[("accept", "application/json")]).await;
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(
        r.text(),
        format!(
            r#"{{"message": "{text}<br /><br />\n\n\n", "code": "404 Not Found", "title": "Not Found"}}"#
        )
    );
    let r = raw(
        &s,
        Method::GET,
        &uri,
        &[("accept", "text/html;q=0.5, application/json")],
    )
    .await;
    assert_eq!(r.header("content-type"), Some("application/json"));

    for accept in [None, Some("text/plain"), Some("")] {
        let headers: Vec<(&str, &str)> = accept.map(|a| vec![("accept", a)]).unwrap_or_default();
        let r = raw(&s, Method::GET, &uri, &headers).await;
        assert_eq!(
            r.header("content-type"),
            Some("text/plain; charset=UTF-8"),
            "{accept:?}"
        );
        assert_eq!(r.text(), format!("404 Not Found\n\n{text}\n\n   "));
    }
    // HTML escaping, as WebOb does (quotes become &#x27;).
    let id = s.create_image(json!({})).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = raw(
        &s,
        Method::PUT,
        &format!("/v2/images/{id}/tags/{}", "x".repeat(256)),
        &[("accept", "*/*")],
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.text().contains("does not match schema &#x27;image&#x27;"),
        "{}",
        r.text()
    );
}

#[tokio::test]
async fn request_ids() {
    let s = common::server().await;
    let r = s.get("/v2/images").await;
    let id = r.header("x-openstack-request-id").unwrap();
    let uuid = id.strip_prefix("req-").unwrap();
    assert_eq!(uuid.len(), 36);
    assert!(
        uuid.chars().all(|c| c.is_ascii_hexdigit() || c == '-'),
        "{id}"
    );
    assert_eq!(
        uuid.split('-').map(str::len).collect::<Vec<_>>(),
        [8, 4, 4, 4, 12]
    );
    assert_ne!(
        s.get("/v2/images").await.header("x-openstack-request-id"),
        Some(id)
    );
    // Errors carry one too.
    assert!(s
        .get(&format!("/v2/images/{MISSING}"))
        .await
        .header("x-openstack-request-id")
        .is_some());

    let with = |v: &str| {
        vec![
            ("x-openstack-request-id", v.to_string()),
            ("accept", "application/json".into()),
        ]
    };
    for (sent, got) in [("abc", "req-abc"), ("req-xyz", "req-xyz")] {
        let h = with(sent);
        let refs: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(
            raw(&s, Method::GET, "/v2/images", &refs)
                .await
                .header("x-openstack-request-id"),
            Some(got)
        );
    }
    let max = "a".repeat(64);
    let h = with(&max);
    let refs: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = raw(&s, Method::GET, "/v2/images", &refs).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.header("x-openstack-request-id"),
        Some(format!("req-{max}").as_str())
    );
    let long = "a".repeat(65);
    let h = with(&long);
    let refs: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = raw(&s, Method::GET, "/v2/images", &refs).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.json()["message"]
        .as_str()
        .unwrap()
        .contains("x-openstack-request-id"));
}

#[tokio::test]
async fn unauthenticated_requests_get_401_without_request_id() {
    let s = common::server_with("[paste_deploy]\nflavor = trusted-auth\n").await;
    let r = s.get("/v2/images").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.header("x-openstack-request-id").is_none());
    assert_eq!(
        r.text(),
        r#"{"message": "This server could not verify that you are authorized to access the document you requested. Either you supplied the wrong credentials (e.g., bad password), or your browser does not understand how to supply the credentials required.<br /><br />\n\n\n", "code": "401 Unauthorized", "title": "Unauthorized"}"#
    );
    // Version discovery needs no identity.
    let r = raw(&s, Method::GET, "/", &[]).await;
    assert_eq!(r.status, StatusCode::MULTIPLE_CHOICES);
}

#[tokio::test]
async fn options_is_answered_before_anything_else() {
    let s = common::server_with("[paste_deploy]\nflavor = trusted-auth\n").await;
    for uri in ["/", "/v2/images", "/v2/nope", "/v2/schemas/image"] {
        let r = raw(&s, Method::OPTIONS, uri, &[]).await;
        assert_eq!(r.status, StatusCode::OK, "{uri}");
        assert!(r.body.is_empty());
    }
}

#[tokio::test]
async fn undecodable_path_is_400_in_upstream_form() {
    let s = common::server().await;
    let id = s.create_image(json!({})).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let json = [("accept", "application/json")];
    let r = raw(&s, Method::PUT, &format!("/v2/images/{id}/tags/%FF"), &json).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["code"], "400 Bad Request", "{}", r.text());
    assert!(r.header("x-openstack-request-id").is_some());
    let r = raw(&s, Method::GET, "/v2/images/%FF", &[("accept", "*/*")]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text().starts_with("<html>"), "{}", r.text());
}
