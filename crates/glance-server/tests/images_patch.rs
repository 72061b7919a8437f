//! `PATCH /v2/images/{id}` in both media types: what changes, and every refusal with
//! upstream's status and message.
mod common;

use axum::http::{Method, StatusCode};
use common::{assert_error, queued, show, TestResponse, TestServer};
use serde_json::{json, Value};

const V20: &str = "application/openstack-images-v2.0-json-patch";
const V21: &str = "application/openstack-images-v2.1-json-patch";

async fn patch_as(
    s: &TestServer,
    who: Option<(&str, &str)>,
    media: &str,
    id: &str,
    ops: Value,
) -> TestResponse {
    let mut headers: Vec<(String, String)> = who
        .map(|(p, r)| common::as_project(p, r))
        .unwrap_or_default();
    headers.push(("content-type".into(), media.into()));
    headers.push(("accept".into(), "application/json".into()));
    let h: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    s.request(
        Method::PATCH,
        &format!("/v2/images/{id}"),
        &h,
        ops.to_string(),
    )
    .await
}

async fn patch20(s: &TestServer, id: &str, ops: Value) -> TestResponse {
    patch_as(s, None, V20, id, ops).await
}

#[tokio::test]
async fn v2_1_add_replace_remove() {
    let s = common::server().await;
    let id = queued(&s).await;
    let before = show(&s, &id).await;
    let r = s
        .patch(
            &format!("/v2/images/{id}"),
            json!([
                {"op": "replace", "path": "/name", "value": "renamed"},
                {"op": "add", "path": "/os_distro", "value": "debian"},
                {"op": "add", "path": "/foo", "value": "overwritten by add"},
                {"op": "add", "path": "/min_ram", "value": 128},
                {"op": "replace", "path": "/min_disk", "value": 3},
                {"op": "replace", "path": "/protected", "value": true},
                {"op": "replace", "path": "/os_hidden", "value": true},
                {"op": "replace", "path": "/visibility", "value": "private"},
                {"op": "replace", "path": "/disk_format", "value": "qcow2"},
                {"op": "replace", "path": "/container_format", "value": "ova"},
                {"op": "add", "path": "/a~1b~0c", "value": "escaped"},
                {"op": "replace", "path": "/tags", "value": ["t1", "t2", "t1"]},
                {"op": "add", "path": "/gone", "value": "x"},
                {"op": "remove", "path": "/gone"},
                {"op": "replace", "path": "/name", "value": null}
            ]),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/json"));
    let img = r.json();
    assert_eq!(img, show(&s, &id).await, "response is the stored image");
    assert_eq!(img["name"], Value::Null);
    assert_eq!(img["os_distro"], "debian");
    assert_eq!(img["foo"], "overwritten by add");
    assert_eq!(img["a/b~c"], "escaped");
    assert!(img.get("gone").is_none());
    assert_eq!(
        (img["min_ram"].clone(), img["min_disk"].clone()),
        (json!(128), json!(3))
    );
    assert_eq!(
        (img["protected"].clone(), img["os_hidden"].clone()),
        (json!(true), json!(true))
    );
    assert_eq!(img["visibility"], "private");
    assert_eq!(
        (img["disk_format"].clone(), img["container_format"].clone()),
        (json!("qcow2"), json!("ova"))
    );
    let mut tags: Vec<String> = serde_json::from_value(img["tags"].clone()).unwrap();
    tags.sort();
    assert_eq!(tags, vec!["t1", "t2"]);
    assert!(img["updated_at"].as_str() >= before["updated_at"].as_str());
    assert_eq!(img["created_at"], before["created_at"]);
    let stored = s.state.glance.db.get_image(&id).await.unwrap().unwrap();
    assert!(!stored.properties.contains_key("gone"));
    // Removing a custom property.
    let r = s
        .patch(
            &format!("/v2/images/{id}"),
            json!([{"op": "remove", "path": "/foo"}]),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.json().get("foo").is_none());
    // An empty patch changes nothing.
    let r = s.patch(&format!("/v2/images/{id}"), json!([])).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json(), show(&s, &id).await);
}

#[tokio::test]
async fn v2_0_form() {
    let s = common::server().await;
    let id = queued(&s).await;
    let r = patch20(
        &s,
        &id,
        json!([{"replace": "/name", "value": "v20"}, {"add": "/new", "value": "n"}, {"remove": "/foo"}]),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let img = r.json();
    assert_eq!(
        (img["name"].clone(), img["new"].clone()),
        (json!("v20"), json!("n"))
    );
    assert!(img.get("foo").is_none());
    // v2.0 add of something that exists is a conflict, base attribute or not.
    let r = patch20(&s, &id, json!([{"add": "/new", "value": "again"}])).await;
    assert_error(&r, StatusCode::CONFLICT, "Property new already present.");
    let r = patch20(&s, &id, json!([{"add": "/name", "value": "x"}])).await;
    assert_error(&r, StatusCode::CONFLICT, "Property name already present.");
    assert_eq!(show(&s, &id).await["new"], "n");
    let r = patch20(
        &s,
        &id,
        json!([{"add": "/replace", "remove": "/x", "value": 1}]),
    )
    .await;
    assert_error(
        &r,
        StatusCode::BAD_REQUEST,
        "Operation objects must contain",
    );
    let r = patch20(&s, &id, json!([{"op": "add", "path": "/x", "value": "1"}])).await;
    assert_error(
        &r,
        StatusCode::BAD_REQUEST,
        "Operation objects must contain exactly one member",
    );
    // Tempest's v2.0 charset form is accepted.
    let r = patch_as(
        &s,
        None,
        &format!("{V20}; charset=UTF-8"),
        &id,
        json!([{"replace": "/name", "value": "cs"}]),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}

#[tokio::test]
async fn missing_properties_and_base_attributes() {
    let s = common::server().await;
    let id = queued(&s).await;
    let uri = format!("/v2/images/{id}");
    let r = s
        .patch(
            &uri,
            json!([{"op": "replace", "path": "/nope", "value": "x"}]),
        )
        .await;
    assert_error(&r, StatusCode::CONFLICT, "Property nope does not exist.");
    let r = s
        .patch(&uri, json!([{"op": "remove", "path": "/nope"}]))
        .await;
    assert_error(&r, StatusCode::CONFLICT, "Property nope does not exist.");
    for key in [
        "name",
        "tags",
        "visibility",
        "min_ram",
        "protected",
        "owner",
        "disk_format",
        "os_hidden",
    ] {
        let r = s
            .patch(&uri, json!([{"op": "remove", "path": format!("/{key}")}]))
            .await;
        assert_error(
            &r,
            StatusCode::FORBIDDEN,
            &format!("Property {key} may not be removed."),
        );
    }
    // A failing operation aborts the whole patch.
    let r = s
        .patch(&uri, json!([{"op": "replace", "path": "/name", "value": "x"}, {"op": "remove", "path": "/nope"}]))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(show(&s, &id).await["name"], "p");
}

#[tokio::test]
async fn formats_are_fixed_once_active() {
    let s = common::server().await;
    let id = queued(&s).await;
    let uri = format!("/v2/images/{id}");
    assert_eq!(
        s.put_data(&format!("{uri}/file"), b"data".to_vec())
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    for (key, value) in [
        ("disk_format", "qcow2"),
        ("disk_format", "raw"),
        ("container_format", "ova"),
    ] {
        let r = s
            .patch(
                &uri,
                json!([{"op": "replace", "path": format!("/{key}"), "value": value}]),
            )
            .await;
        assert_error(
            &r,
            StatusCode::FORBIDDEN,
            &format!("Attribute {key} can be only replaced for a queued image."),
        );
    }
    // Other metadata stays editable on an active (and a deactivated) image.
    let r = s
        .patch(
            &uri,
            json!([{"op": "replace", "path": "/name", "value": "still"}]),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        s.request(Method::POST, &format!("{uri}/actions/deactivate"), &[], "")
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let r = s
        .patch(&uri, json!([{"op": "add", "path": "/k", "value": "v"}]))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["status"], "deactivated");
}

#[tokio::test]
async fn owner_and_visibility_policies() {
    let s = common::server_with("[paste_deploy]\nflavor = trusted-auth\n").await;
    let member = Some(("p1", "member,reader"));
    let admin = Some(("adm", "admin,member,reader"));
    let mut h = common::as_project("p1", "member,reader");
    h.push(("content-type".into(), "application/json".into()));
    let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = s
        .request(
            Method::POST,
            "/v2/images",
            &h,
            json!({"name": "mine"}).to_string(),
        )
        .await;
    let id = r.json()["id"].as_str().unwrap().to_string();
    let p = |who, ops| patch_as(&s, who, V21, &id, ops);

    for op in ["replace", "add"] {
        let r = p(member, json!([{"op": op, "path": "/owner", "value": "p2"}])).await;
        assert_error(
            &r,
            StatusCode::FORBIDDEN,
            "Owner can't be updated by non admin.",
        );
    }
    let r = p(
        member,
        json!([{"op": "replace", "path": "/owner", "value": "p1"}]),
    )
    .await;
    assert_error(
        &r,
        StatusCode::FORBIDDEN,
        "Owner can't be updated by non admin.",
    );
    let r = p(
        member,
        json!([{"op": "replace", "path": "/visibility", "value": "public"}]),
    )
    .await;
    assert_error(
        &r,
        StatusCode::FORBIDDEN,
        "You are not authorized to complete publicize_image action.",
    );
    let r = p(
        member,
        json!([{"op": "replace", "path": "/visibility", "value": "community"}]),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    // A reader of the owning project, and another project, may not modify.
    let r = p(
        Some(("p1", "reader")),
        json!([{"op": "replace", "path": "/name", "value": "x"}]),
    )
    .await;
    assert_error(
        &r,
        StatusCode::FORBIDDEN,
        "You are not authorized to complete modify_image action.",
    );
    let r = p(
        Some(("p2", "member,reader")),
        json!([{"op": "replace", "path": "/name", "value": "x"}]),
    )
    .await;
    assert_error(
        &r,
        StatusCode::FORBIDDEN,
        "You are not authorized to complete modify_image action.",
    );
    let r = p(
        Some(("p2", "member,reader")),
        json!([{"op": "replace", "path": "/owner", "value": "p2"}]),
    )
    .await;
    assert_error(
        &r,
        StatusCode::FORBIDDEN,
        "Owner can't be updated by non admin.",
    );
    // The admin may do both; then the image is no longer p1's.
    let r = p(admin, json!([{"op": "replace", "path": "/visibility", "value": "private"}, {"op": "replace", "path": "/owner", "value": "p2"}])).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["owner"], "p2");
    let r = p(
        member,
        json!([{"op": "replace", "path": "/name", "value": "x"}]),
    )
    .await;
    assert_error(&r, StatusCode::NOT_FOUND, "No image found with ID");
    let r = p(
        admin,
        json!([{"op": "replace", "path": "/visibility", "value": "public"}]),
    )
    .await;
    assert_eq!(r.json()["visibility"], "public");
}

#[tokio::test]
async fn quotas_are_413() {
    let s = common::server_with("[DEFAULT]\nimage_property_quota = 2\nimage_tag_quota = 2\n").await;
    let id = queued(&s).await; // has "foo"
    let uri = format!("/v2/images/{id}");
    assert_eq!(
        s.patch(&uri, json!([{"op": "add", "path": "/b", "value": "2"}]))
            .await
            .status,
        StatusCode::OK
    );
    let r = s
        .patch(&uri, json!([{"op": "add", "path": "/c", "value": "3"}]))
        .await;
    assert_error(
        &r,
        StatusCode::PAYLOAD_TOO_LARGE,
        "Attempted: 3, Maximum: 2",
    );
    // At the quota, existing properties stay editable, and a swap is fine.
    assert_eq!(
        s.patch(&uri, json!([{"op": "replace", "path": "/b", "value": "x"}]))
            .await
            .status,
        StatusCode::OK
    );
    let swap = json!([{"op": "remove", "path": "/b"}, {"op": "add", "path": "/c", "value": "3"}]);
    assert_eq!(s.patch(&uri, swap).await.status, StatusCode::OK);
    let r = s
        .patch(
            &uri,
            json!([{"op": "replace", "path": "/tags", "value": ["a", "b", "c"]}]),
        )
        .await;
    assert_error(
        &r,
        StatusCode::PAYLOAD_TOO_LARGE,
        "number of allowed image tags. Attempted: 3, Maximum: 2",
    );
    assert_eq!(
        s.patch(
            &uri,
            json!([{"op": "replace", "path": "/tags", "value": ["a", "b"]}])
        )
        .await
        .status,
        StatusCode::OK
    );
    let img = show(&s, &id).await;
    assert_eq!(
        (img["foo"].clone(), img["c"].clone()),
        (json!("bar"), json!("3"))
    );
    assert!(img.get("b").is_none());
}

#[tokio::test]
async fn deleted_image_is_404() {
    let s = common::server().await;
    let id = queued(&s).await;
    assert_eq!(
        s.delete(&format!("/v2/images/{id}")).await.status,
        StatusCode::NO_CONTENT
    );
    let r = s
        .patch(
            &format!("/v2/images/{id}"),
            json!([{"op": "replace", "path": "/name", "value": "x"}]),
        )
        .await;
    assert_error(
        &r,
        StatusCode::NOT_FOUND,
        &format!("No image found with ID {id}"),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_patches_of_different_properties_both_apply() {
    let s = std::sync::Arc::new(common::server().await);
    for round in 0..5 {
        let id = queued(&s).await;
        let tasks: Vec<_> = (0..4)
            .map(|i| {
                let s = s.clone();
                let id = id.clone();
                tokio::spawn(async move {
                    let ops = if i == 0 {
                        json!([{"op": "replace", "path": "/name", "value": format!("n{round}")}])
                    } else {
                        json!([{"op": "add", "path": format!("/k{i}"), "value": format!("v{i}")}])
                    };
                    s.patch(&format!("/v2/images/{id}"), ops).await
                })
            })
            .collect();
        for t in tasks {
            let r = t.await.unwrap();
            assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        }
        let img = show(&s, &id).await;
        assert_eq!(img["name"], format!("n{round}"));
        for i in 1..4 {
            assert_eq!(img[format!("k{i}")], format!("v{i}"), "{img}");
        }
        assert_eq!(img["foo"], "bar");
    }
}
