//! `PATCH /v2/images/{id}` refusals: read-only and reserved targets, schema and
//! syntax errors, media types, and upstream's pointer quirks.
mod common;

use axum::http::{Method, StatusCode};
use common::{assert_error, queued, show};
use serde_json::json;

const V20: &str = "application/openstack-images-v2.0-json-patch";
const V21: &str = "application/openstack-images-v2.1-json-patch";

#[tokio::test]
async fn read_only_and_reserved_targets_are_403() {
    let s = common::server().await;
    let id = queued(&s).await;
    let uri = format!("/v2/images/{id}");
    let read_only = [
        "status",
        "checksum",
        "size",
        "virtual_size",
        "id",
        "created_at",
        "updated_at",
        "os_hash_algo",
        "os_hash_value",
        "self",
        "file",
        "schema",
        "direct_url",
    ];
    for key in read_only {
        for op in [
            json!({"op": "replace", "path": format!("/{key}"), "value": "x"}),
            json!({"op": "remove", "path": format!("/{key}")}),
        ] {
            let r = s.patch(&uri, json!([op])).await;
            assert_error(
                &r,
                StatusCode::FORBIDDEN,
                &format!("Attribute '{key}' is read-only."),
            );
        }
    }
    for key in [
        "os_glance_import_task",
        "os_glance_x",
        "deleted",
        "deleted_at",
        "location",
    ] {
        let r = s
            .patch(
                &uri,
                json!([{"op": "add", "path": format!("/{key}"), "value": "x"}]),
            )
            .await;
        assert_error(
            &r,
            StatusCode::FORBIDDEN,
            &format!("Attribute '{key}' is reserved."),
        );
    }
    // Checked before the image is looked up, as upstream's deserializer does.
    let r = s
        .patch(
            "/v2/images/00000000-0000-0000-0000-000000000000",
            json!([{"op": "replace", "path": "/status", "value": "active"}]),
        )
        .await;
    assert_error(
        &r,
        StatusCode::FORBIDDEN,
        "Attribute 'status' is read-only.",
    );
    let r = s
        .patch(
            "/v2/images/00000000-0000-0000-0000-000000000000",
            json!([{"op": "replace", "path": "/name", "value": "x"}]),
        )
        .await;
    assert_error(&r, StatusCode::NOT_FOUND, "No image found with ID");
    assert_eq!(show(&s, &id).await["status"], "queued");
}

#[tokio::test]
async fn schema_violations_are_400() {
    let s = common::server().await;
    let id = queued(&s).await;
    let uri = format!("/v2/images/{id}");
    for (path, value, msg) in [
        ("/min_ram", json!("5"), "'5' is not of type 'integer'"),
        ("/protected", json!("yes"), "'yes' is not of type 'boolean'"),
        ("/os_hidden", json!(1), "is not of type 'boolean'"),
        ("/custom", json!(5), "5 is not of type 'string'"),
        ("/custom", json!(null), "is not of type 'string'"),
        ("/visibility", json!("bogus"), "'bogus' is not one of"),
        ("/disk_format", json!("nope"), "'nope' is not one of"),
        ("/name", json!("n".repeat(256)), "is too long"),
        ("/tags", json!("x"), "'x' is not of type 'array'"),
        ("/tags", json!(["t".repeat(256)]), "is too long"),
    ] {
        let r = s
            .patch(&uri, json!([{"op": "add", "path": path, "value": value}]))
            .await;
        assert_error(&r, StatusCode::BAD_REQUEST, msg);
        assert!(r.json()["message"]
            .as_str()
            .unwrap()
            .starts_with("Provided object does not match schema 'image'"));
    }
    for key in ["min_ram", "min_disk"] {
        let r = s
            .patch(
                &uri,
                json!([{"op": "replace", "path": format!("/{key}"), "value": -5}]),
            )
            .await;
        assert_error(
            &r,
            StatusCode::BAD_REQUEST,
            &format!("Invalid value '-5' for parameter '{key}': Cannot be a negative value"),
        );
    }
    assert_eq!(show(&s, &id).await["min_ram"], 0);
}

#[tokio::test]
async fn syntax_errors_are_400() {
    let s = common::server().await;
    let id = queued(&s).await;
    let uri = format!("/v2/images/{id}");
    for (body, msg) in [
        (json!({"op": "add", "path": "/x", "value": "1"}), "Request body must be a JSON array of operation objects."),
        (json!([1]), "Operations must be JSON objects."),
        (json!([{"path": "/x", "value": "1"}]), "Unable to find `op` in JSON Schema change. It must be one of the following: add, remove, replace."),
        (json!([{"op": "move", "path": "/x", "value": "1"}]), "Invalid operation: `move`. It must be one of the following: add, remove, replace."),
        (json!([{"op": "test", "path": "/x", "value": "1"}]), "Invalid operation: `test`."),
        (json!([{"op": "add", "value": "1"}]), "Unable to find 'path' in JSON Schema change"),
        (json!([{"op": "add", "path": "/x"}]), "Operation \"add\" requires a member named \"value\"."),
        (json!([{"op": "add", "path": "x", "value": "1"}]), "Pointer `x` does not start with \"/\"."),
        (json!([{"op": "add", "path": "/a//b", "value": "1"}]), "Pointer `/a//b` contains adjacent \"/\"."),
        (json!([{"op": "add", "path": "/x/", "value": "1"}]), "Pointer `/x/` end with \"/\"."),
        (json!([{"op": "add", "path": "/a~2", "value": "1"}]), "contains \"~\" not part of a recognized escape sequence."),
        (json!([{"op": "add", "path": "/tags/-", "value": "t"}]), "Invalid JSON pointer for this resource: '/tags/-'"),
        (json!([{"op": "add", "path": "/name/x", "value": "t"}]), "Invalid JSON pointer for this resource: '/name/x'"),
        (json!([{"op": "add", "path": "/locations", "value": []}]), "Invalid JSON pointer for this resource: '/locations'"),
        (json!([{"op": "replace", "path": "/locations/0", "value": {}}]), "Invalid JSON pointer for this resource"),
    ] {
        let r = s.patch(&uri, body.clone()).await;
        assert_error(&r, StatusCode::BAD_REQUEST, msg);
    }
    let json_headers = [("content-type", V21), ("accept", "application/json")];
    let r = s.request(Method::PATCH, &uri, &json_headers, "[{bad").await;
    assert_error(
        &r,
        StatusCode::BAD_REQUEST,
        "Malformed JSON in request body.",
    );
    let r = s.request(Method::PATCH, &uri, &json_headers, "").await;
    assert_error(&r, StatusCode::BAD_REQUEST, "Body expected in request.");
    // Locations are hidden on this deployment: refused like upstream.
    let r = s
        .patch(
            &uri,
            json!([{"op": "replace", "path": "/locations", "value": []}]),
        )
        .await;
    assert_error(
        &r,
        StatusCode::FORBIDDEN,
        "Cannot set locations to empty list.",
    );
    let r = s.patch(&uri, json!([{"op": "replace", "path": "/locations", "value": [{"url": "http://x/y", "metadata": {}}]}])).await;
    assert_error(
        &r,
        StatusCode::FORBIDDEN,
        "It's not allowed to update locations if locations are invisible.",
    );
}

#[tokio::test]
async fn unsupported_media_type_is_415_with_accept_patch() {
    let s = common::server().await;
    let id = queued(&s).await;
    for ct in [
        Some("application/json"),
        Some("application/json-patch+json"),
        None,
    ] {
        let mut h = vec![("accept", "application/json")];
        if let Some(ct) = ct {
            h.push(("content-type", ct));
        }
        let r = s
            .request(Method::PATCH, &format!("/v2/images/{id}"), &h, "[]")
            .await;
        assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{ct:?}");
        assert_eq!(r.header("accept-patch"), Some(&*format!("{V20}, {V21}")));
        let m = r.json()["message"].as_str().unwrap().to_string();
        assert!(
            m.contains("Image PATCH expects Content-Type one of:"),
            "{m}"
        );
    }
    let r = s
        .request(
            Method::PATCH,
            &format!("/v2/images/{id}"),
            &[("content-type", "application/json")],
            "[]",
        )
        .await;
    assert!(r
        .text()
        .contains("The request media type application/json is not supported by this server."));
}

#[tokio::test]
async fn pointer_quirks() {
    let s = common::server().await;
    let id = queued(&s).await;
    let uri = format!("/v2/images/{id}");
    // "/" names the property "" (upstream quirk).
    let r = s
        .patch(&uri, json!([{"op": "add", "path": "/", "value": "empty"}]))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()[""], "empty");
    assert_eq!(show(&s, &id).await[""], "empty");
    // "//name": leading slashes are stripped, so this sets the name (as upstream does).
    let r = s
        .patch(
            &uri,
            json!([{"op": "add", "path": "//name", "value": "slashes"}]),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["name"], "slashes");
    // Segments are trimmed.
    let r = s
        .patch(
            &uri,
            json!([{"op": "replace", "path": "/ name ", "value": "trimmed"}]),
        )
        .await;
    assert_eq!(r.json()["name"], "trimmed");
}

/// Upstream raises some PATCH refusals with the message as WebOb's detail, after the
/// generic sentence of the status; clients show both.
#[tokio::test]
async fn detail_slot_refusals_read_like_upstreams() {
    let s = common::server().await;
    let id = common::create(&s, json!({"name": "d", "x": "1"})).await;
    let uri = format!("/v2/images/{id}");
    let html = |ops: serde_json::Value| {
        let s = &s;
        let uri = uri.clone();
        async move {
            s.request(
                axum::http::Method::PATCH,
                &uri,
                &[
                    (
                        "content-type",
                        "application/openstack-images-v2.1-json-patch",
                    ),
                    ("accept", "*/*"),
                ],
                ops.to_string(),
            )
            .await
        }
    };
    let r = html(json!([{"op": "remove", "path": "/name"}])).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(
        r.text().contains(
            "  Access was denied to this resource.<br /><br />\nProperty name may not be removed.\n\n\n </body>"
        ),
        "{}",
        r.text()
    );
    let r = html(json!([{"op": "remove", "path": "/nope"}])).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(
        r.text().contains(
            "There was a conflict when trying to complete your request.<br /><br />\nProperty nope does not exist.\n"
        ),
        "{}",
        r.text()
    );
    // Read-only and reserved attributes are upstream's explanation, not detail.
    let r = html(json!([{"op": "replace", "path": "/status", "value": "active"}])).await;
    assert!(
        r.text()
            .contains("  Attribute &#x27;status&#x27; is read-only.<br /><br />\n"),
        "{}",
        r.text()
    );
}
