//! `POST /v2/images` and `GET /v2/images/{id}`: every field a client sets, the
//! headers it reads, and each refusal with upstream's status and message.
mod common;

use axum::body::Body;
use axum::http::{Method, StatusCode};
use common::{assert_error, message, TestResponse, TestServer, TRUSTED};
use serde_json::{json, Value};

/// A request as `project` with the given roles (trusted-auth servers).
async fn call(
    s: &TestServer,
    who: (&str, &str),
    method: Method,
    uri: &str,
    body: Option<Value>,
) -> TestResponse {
    let mut headers = common::as_project(who.0, who.1);
    headers.push(("accept".into(), "application/json".into()));
    if body.is_some() {
        headers.push(("content-type".into(), "application/json".into()));
    }
    let h: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let body = body
        .map(|b| Body::from(b.to_string()))
        .unwrap_or_else(Body::empty);
    s.request(method, uri, &h, body).await
}

const MEMBER: (&str, &str) = ("p1", "member,reader");

#[tokio::test]
async fn create_with_every_core_field_and_custom_properties() {
    let s = common::server().await;
    let id = "0b7e2d2c-1f7a-4c1e-9d9a-2c7e5b8b1a11";
    let r = s
        .post_json(
            "/v2/images",
            json!({
                "id": id, "name": "cirros", "visibility": "private", "protected": true,
                "os_hidden": true, "min_ram": 512, "min_disk": 2, "disk_format": "qcow2",
                "container_format": "bare", "tags": ["a", "b", "a"], "hw_disk_bus": "virtio",
                "description": "", "os_hash_algo": "md5", "os_hash_value": "abc"
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(
        r.header("location"),
        Some(format!("http://127.0.0.1:9292/v2/images/{id}").as_str())
    );
    assert_eq!(
        r.header("openstack-image-import-methods"),
        Some("glance-direct,web-download,copy-image")
    );
    assert_eq!(r.header("content-type"), Some("application/json"));
    let created = r.json();
    let expect = |img: &Value| {
        assert_eq!(img["id"], id);
        assert_eq!(img["name"], "cirros");
        assert_eq!(img["status"], "queued");
        assert_eq!(img["visibility"], "private");
        assert_eq!(img["protected"], true);
        assert_eq!(img["os_hidden"], true);
        assert_eq!(img["min_ram"], 512);
        assert_eq!(img["min_disk"], 2);
        assert_eq!(img["disk_format"], "qcow2");
        assert_eq!(img["container_format"], "bare");
        assert_eq!(img["hw_disk_bus"], "virtio");
        assert_eq!(img["description"], "");
        // os_hash_* in a create body are silently ignored (upstream quirk).
        assert_eq!(img["os_hash_algo"], Value::Null);
        assert_eq!(img["os_hash_value"], Value::Null);
        assert_eq!(img["owner"], Value::Null, "noauth admin has no project");
        for k in ["checksum", "size", "virtual_size"] {
            assert_eq!(img[k], Value::Null, "{k}");
        }
        let mut tags: Vec<&str> = img["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        tags.sort();
        assert_eq!(tags, vec!["a", "b"]);
        assert_eq!(img["self"], format!("/v2/images/{id}"));
        assert_eq!(img["file"], format!("/v2/images/{id}/file"));
        assert_eq!(img["schema"], "/v2/schemas/image");
        assert!(img["created_at"].as_str().unwrap().ends_with('Z'));
        assert_eq!(img["created_at"], img["updated_at"]);
    };
    expect(&created);
    let shown = s.get(&format!("/v2/images/{id}")).await;
    assert_eq!(shown.status, StatusCode::OK);
    expect(&shown.json());
    assert_eq!(shown.json(), created);
    // The row in the database: properties stored, the ignored hashes not.
    let row = s
        .state
        .glance
        .db
        .get_image(id)
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(
        row.properties.get("hw_disk_bus").map(String::as_str),
        Some("virtio")
    );
    assert!(!row.properties.contains_key("os_hash_algo"));
    assert_eq!(row.os_hash_algo, None);
}

#[tokio::test]
async fn create_defaults() {
    let s = common::server().await;
    let img = s.create_image(json!({})).await;
    assert_eq!(img["status"], "queued");
    assert_eq!(img["visibility"], "shared");
    assert_eq!(img["name"], Value::Null);
    assert_eq!(img["protected"], false);
    assert_eq!(img["os_hidden"], false);
    assert_eq!(img["min_ram"], 0);
    assert_eq!(img["min_disk"], 0);
    assert_eq!(img["disk_format"], Value::Null);
    assert_eq!(img["tags"], json!([]));
    let id = img["id"].as_str().unwrap();
    assert_eq!(id.len(), 36);
    assert_eq!(
        s.get(&format!("/v2/images/{id}")).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn duplicate_id_is_409_even_after_delete() {
    let s = common::server().await;
    let id = "6f1f8e8c-0a52-4a5c-8a55-0e0b7f1d2e33";
    s.create_image(json!({"id": id})).await;
    let r = s
        .post_json("/v2/images", json!({"id": id, "name": "again"}))
        .await;
    assert_error(
        &r,
        StatusCode::CONFLICT,
        &format!("Image ID {id} already exists!"),
    );
    assert_eq!(
        s.delete(&format!("/v2/images/{id}")).await.status,
        StatusCode::NO_CONTENT
    );
    let r = s.post_json("/v2/images", json!({"id": id})).await;
    assert_error(&r, StatusCode::CONFLICT, "already exists");
    assert!(s.state.glance.db.image_id_exists(id).await.unwrap());
    assert_eq!(
        s.get(&format!("/v2/images/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn schema_violations_are_400() {
    let s = common::server().await;
    let cases = [
        (json!({"disk_format": "nope"}), "'nope' is not one of"),
        (json!({"container_format": "nope"}), "'nope' is not one of"),
        (
            json!({"visibility": "everyone"}),
            "'everyone' is not one of",
        ),
        (json!({"id": "abc"}), "does not match"),
        (json!({"name": "n".repeat(256)}), "is too long"),
        (json!({"owner": "o".repeat(256)}), "is too long"),
        (json!({"tags": ["t".repeat(256)]}), "is too long"),
        (json!({"tags": "x"}), "is not of type 'array'"),
        (json!({"foo": 1}), "1 is not of type 'string'"),
        (json!({"foo": null}), "is not of type 'string'"),
        (json!({"protected": "yes"}), "is not of type 'boolean'"),
        (json!({"min_ram": "5"}), "is not of type 'integer'"),
    ];
    for (body, msg) in cases {
        let r = s.post_json("/v2/images", body.clone()).await;
        assert_error(&r, StatusCode::BAD_REQUEST, msg);
        assert!(
            message(&r).starts_with("Provided object does not match schema 'image'"),
            "{body}: {}",
            r.text()
        );
    }
    let r = s
        .post_json("/v2/images", json!({"k".repeat(256): "v"}))
        .await;
    assert_error(
        &r,
        StatusCode::BAD_REQUEST,
        "Custom property should not be greater than 255 characters.",
    );
    // 255 characters is fine.
    s.create_image(json!({"k".repeat(255): "v"})).await;
    assert_eq!(
        s.get("/v2/images").await.json()["images"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn negative_sizes_are_400() {
    let s = common::server().await;
    let r = s.post_json("/v2/images", json!({"min_ram": -1})).await;
    assert_error(
        &r,
        StatusCode::BAD_REQUEST,
        "Invalid value '-1' for parameter 'min_ram': Cannot be a negative value",
    );
    let r = s
        .post_json("/v2/images", json!({"min_disk": -2, "min_ram": -1}))
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "parameter 'min_disk'");
    assert_eq!(s.get("/v2/images").await.json()["images"], json!([]));
}

#[tokio::test]
async fn read_only_and_reserved_attributes_are_403() {
    let s = common::server().await;
    for key in ["direct_url", "self", "file", "schema", "stores"] {
        let r = s.post_json("/v2/images", json!({key: "x"})).await;
        assert_error(
            &r,
            StatusCode::FORBIDDEN,
            &format!("Attribute '{key}' is read-only."),
        );
    }
    for (key, value) in [
        ("created_at", json!("2020-01-01T00:00:00Z")),
        ("updated_at", json!("2020-01-01T00:00:00Z")),
        ("status", json!("active")),
        ("checksum", json!("abc")),
        ("size", json!(5)),
        ("virtual_size", json!(5)),
    ] {
        let r = s.post_json("/v2/images", json!({key: value})).await;
        assert_error(
            &r,
            StatusCode::FORBIDDEN,
            &format!("Attribute '{key}' is read-only."),
        );
    }
    for key in [
        "location",
        "deleted",
        "deleted_at",
        "os_glance_import_task",
        "os_glance_x",
    ] {
        let r = s.post_json("/v2/images", json!({key: "x"})).await;
        assert_error(
            &r,
            StatusCode::FORBIDDEN,
            &format!("Attribute '{key}' is reserved."),
        );
    }
    let r = s.post_json("/v2/images", json!({"locations": []})).await;
    assert_error(
        &r,
        StatusCode::FORBIDDEN,
        "Attribute 'locations' is reserved.",
    );
    assert_eq!(
        s.get("/v2/images").await.json()["images"],
        json!([]),
        "nothing was created"
    );
}

#[tokio::test]
async fn malformed_bodies_are_400() {
    let s = common::server().await;
    let json_headers = [
        ("content-type", "application/json"),
        ("accept", "application/json"),
    ];
    for body in ["{bad", "", "[1]", "\"x\"", "12"] {
        let r = s
            .request(Method::POST, "/v2/images", &json_headers, body)
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body:?}: {}", r.text());
    }
    let r = s
        .request(Method::POST, "/v2/images", &json_headers, "{bad")
        .await;
    assert_error(
        &r,
        StatusCode::BAD_REQUEST,
        "Malformed JSON in request body.",
    );
    let r = s
        .request(Method::POST, "/v2/images", &json_headers, "")
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "Body expected in request.");
    // Upstream parses the body as JSON whatever the Content-Type says.
    let r = s
        .request(
            Method::POST,
            "/v2/images",
            &[("content-type", "text/plain")],
            "{\"name\":\"t\"}",
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
}

#[tokio::test]
async fn non_admin_owner_is_the_caller_project() {
    let s = common::server_with(TRUSTED).await;
    let r = call(
        &s,
        MEMBER,
        Method::POST,
        "/v2/images",
        Some(json!({"name": "mine"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["owner"], "p1");
    let r = call(
        &s,
        MEMBER,
        Method::POST,
        "/v2/images",
        Some(json!({"owner": "p1"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = call(
        &s,
        MEMBER,
        Method::POST,
        "/v2/images",
        Some(json!({"owner": "p2"})),
    )
    .await;
    assert_error(
        &r,
        StatusCode::FORBIDDEN,
        "You are not permitted to create images owned by 'p2'",
    );
    // A reader may not create at all.
    let r = call(
        &s,
        ("p1", "reader"),
        Method::POST,
        "/v2/images",
        Some(json!({})),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    // An admin may create for another project.
    let r = call(
        &s,
        ("adm", "admin,member,reader"),
        Method::POST,
        "/v2/images",
        Some(json!({"owner": "p2"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["owner"], "p2");
}

#[tokio::test]
async fn public_needs_admin_community_does_not() {
    let s = common::server_with(TRUSTED).await;
    let r = call(
        &s,
        MEMBER,
        Method::POST,
        "/v2/images",
        Some(json!({"visibility": "public"})),
    )
    .await;
    assert_error(
        &r,
        StatusCode::FORBIDDEN,
        "You are not authorized to complete publicize_image action.",
    );
    for vis in ["private", "shared", "community"] {
        let r = call(
            &s,
            MEMBER,
            Method::POST,
            "/v2/images",
            Some(json!({"visibility": vis})),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{vis}: {}", r.text());
        assert_eq!(r.json()["visibility"], vis);
    }
    let r = call(
        &s,
        ("adm", "admin"),
        Method::POST,
        "/v2/images",
        Some(json!({"visibility": "public"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
}

#[tokio::test]
async fn property_and_tag_quotas_are_413() {
    let s = common::server_with("[DEFAULT]\nimage_property_quota = 2\nimage_tag_quota = 2\n").await;
    s.create_image(
        json!({"a": "1", "b": "2", "tags": ["x", "y"], "name": "core fields do not count"}),
    )
    .await;
    let r = s
        .post_json("/v2/images", json!({"a": "1", "b": "2", "c": "3"}))
        .await;
    assert_error(
        &r,
        StatusCode::PAYLOAD_TOO_LARGE,
        "The limit has been exceeded on the number of allowed image properties. Attempted: 3, Maximum: 2",
    );
    let r = s
        .post_json("/v2/images", json!({"tags": ["x", "y", "z"]}))
        .await;
    assert_error(
        &r,
        StatusCode::PAYLOAD_TOO_LARGE,
        "The limit has been exceeded on the number of allowed image tags. Attempted: 3, Maximum: 2",
    );
    assert_eq!(
        s.get("/v2/images").await.json()["images"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // Negative quotas mean unlimited.
    let s = common::server_with("[DEFAULT]\nimage_property_quota = -1\n").await;
    let many: serde_json::Map<String, Value> =
        (0..200).map(|i| (format!("p{i}"), json!("v"))).collect();
    s.create_image(Value::Object(many)).await;
}

#[tokio::test]
async fn show_errors() {
    let s = common::server().await;
    let r = s
        .get("/v2/images/00000000-0000-0000-0000-000000000000")
        .await;
    assert_error(
        &r,
        StatusCode::NOT_FOUND,
        "No image found with ID 00000000-0000-0000-0000-000000000000",
    );
    let long = format!("{}0", "0".repeat(36));
    assert_eq!(
        s.get(&format!("/v2/images/{long}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        s.get("/v2/images/not-a-uuid").await.status,
        StatusCode::NOT_FOUND
    );
    let img = s.create_image(json!({"name": "b"})).await;
    let uri = format!("/v2/images/{}", img["id"].as_str().unwrap());
    // The in-process harness does not add Content-Length; a real client does.
    let r = s
        .request(
            Method::GET,
            &uri,
            &[("accept", "application/json"), ("content-length", "2")],
            "{}",
        )
        .await;
    assert_error(
        &r,
        StatusCode::BAD_REQUEST,
        "A body is not expected with this request.",
    );
}

#[tokio::test]
async fn show_hides_other_projects_private_images() {
    let s = common::server_with(TRUSTED).await;
    let r = call(
        &s,
        MEMBER,
        Method::POST,
        "/v2/images",
        Some(json!({"visibility": "private"})),
    )
    .await;
    let uri = format!("/v2/images/{}", r.json()["id"].as_str().unwrap());
    assert_eq!(
        call(&s, MEMBER, Method::GET, &uri, None).await.status,
        StatusCode::OK
    );
    let r = call(&s, ("p2", "member,reader"), Method::GET, &uri, None).await;
    assert_error(&r, StatusCode::NOT_FOUND, "No image found with ID");
    assert_eq!(
        call(&s, ("p2", "admin"), Method::GET, &uri, None)
            .await
            .status,
        StatusCode::OK
    );
}
