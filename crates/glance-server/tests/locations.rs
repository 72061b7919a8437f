//! Locations and stores through the router (spec §8.2, §8.3, §9.3): the 2.17
//! location API's checks, `DELETE /v2/stores/{store}/{image}`, `/v2/info/stores/detail`
//! and the store-weight order of locations. (Adding an http location end to end is in
//! `locations_http.rs`, with a real web server.)

mod common;

use std::path::Path;

use axum::http::{Method, StatusCode};
use common::{assert_error, Caller, TestServer, TRUSTED};
use glance_db::NewLocation;
use glance_domain::ImageStatus;
use serde_json::{json, Value};

/// Two filesystem stores; "cheap" weighs more than the default "fast".
fn two_stores(root: &Path) -> String {
    format!(
        "{TRUSTED}[DEFAULT]\nenabled_backends = fast:file, cheap:file\n\
         show_multiple_locations = true\nshow_image_direct_url = true\n\
         [glance_store]\ndefault_backend = fast\n\
         [fast]\nfilesystem_store_datadir = {}\nstore_description = Fast SSD pool\nweight = 10\n\
         [cheap]\nfilesystem_store_datadir = {}\nweight = 50\n",
        root.join("fast").display(),
        root.join("cheap").display()
    )
}

fn admin(s: &TestServer) -> Caller<'_> {
    Caller::new(s, "ops", "admin,member,reader")
}

/// An active image stored in "fast", plus a copy of its data in "cheap" recorded as
/// a second location (what copy-image would leave).
async fn image_in_both(s: &TestServer, root: &Path, data: &[u8]) -> String {
    let owner = Caller::new(s, "p1", "member,reader");
    let id = owner
        .create(json!({"disk_format": "raw", "container_format": "bare"}))
        .await;
    owner.upload(&id, data).await;
    let copy = root.join("cheap").join(&id);
    std::fs::write(&copy, data).unwrap();
    let mut metadata = serde_json::Map::new();
    metadata.insert("store".into(), "cheap".into());
    let location = NewLocation {
        url: format!("file://{}", copy.display()),
        metadata,
    };
    let added = s
        .state
        .glance
        .db
        .add_location(&id, &location, &[ImageStatus::Active], None, None)
        .await
        .unwrap();
    assert_eq!(added, glance_db::LocationChange::Done);
    id
}

async fn post(c: &Caller<'_>, uri: &str, body: Value) -> common::TestResponse {
    c.json(Method::POST, uri, body).await
}

fn store_of(location: &Value) -> &str {
    location["metadata"]["store"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn stores_detail_shows_types_weights_and_properties_to_admins_only() {
    let root = tempfile::tempdir().unwrap();
    let s = common::server_with(&two_stores(root.path())).await;
    let r = admin(&s).get("/v2/info/stores/detail").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let fast_dir = root.path().join("fast").display().to_string();
    let cheap_dir = root.path().join("cheap").display().to_string();
    assert_eq!(
        r.json(),
        json!({"stores": [
            {"id": "fast", "description": "Fast SSD pool", "default": "true", "type": "file",
             "properties": {"data_dir": fast_dir, "chunk_size": 65536, "thin_provisioning": false},
             "weight": 10},
            {"id": "cheap", "type": "file",
             "properties": {"data_dir": cheap_dir, "chunk_size": 65536, "thin_provisioning": false},
             "weight": 50},
        ]})
    );
    let r = Caller::new(&s, "p1", "member,reader")
        .get("/v2/info/stores/detail")
        .await;
    assert_error(
        &r,
        StatusCode::FORBIDDEN,
        "You are not authorized to complete stores_info_detail action.",
    );
    // The plain list is for everyone and has no details.
    let r = Caller::new(&s, "p1", "member,reader")
        .get("/v2/info/stores")
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.json()["stores"][0].get("properties").is_none());

    let single = common::server().await;
    let r = single.get("/v2/info/stores/detail").await;
    assert_error(
        &r,
        StatusCode::NOT_FOUND,
        "Multi backend is not supported at this site.",
    );
}

#[tokio::test]
async fn heavier_store_comes_first_in_locations_direct_url_and_downloads() {
    let root = tempfile::tempdir().unwrap();
    let s = common::server_with(&two_stores(root.path())).await;
    let id = image_in_both(&s, root.path(), b"same bytes in both").await;
    let image = admin(&s).get(&format!("/v2/images/{id}")).await.json();
    let locations = image["locations"].as_array().unwrap();
    assert_eq!(
        locations.iter().map(store_of).collect::<Vec<_>>(),
        ["cheap", "fast"]
    );
    assert_eq!(image["direct_url"], locations[0]["url"]);
    // `stores` follows the same order, as upstream derives it from the sorted list.
    assert_eq!(image["stores"], "cheap,fast");
    // The download comes from "cheap": prove it by making its copy differ.
    std::fs::write(root.path().join("cheap").join(&id), b"SAME BYTES IN BOTH").unwrap();
    let r = admin(&s).get(&format!("/v2/images/{id}/file")).await;
    assert_eq!(&r.body[..], b"SAME BYTES IN BOTH");
    // GET /locations: service users see the same order.
    let r = admin(&s).get(&format!("/v2/images/{id}/locations")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let listed = r.json();
    assert_eq!(listed, Value::Array(locations.clone()));
}

#[tokio::test]
async fn get_locations_is_for_service_users() {
    let root = tempfile::tempdir().unwrap();
    let s = common::server_with(&two_stores(root.path())).await;
    let owner = Caller::new(&s, "p1", "member,reader");
    let id = owner
        .create(json!({"disk_format": "raw", "container_format": "bare"}))
        .await;
    owner.upload(&id, b"data").await;
    let r = owner.get(&format!("/v2/images/{id}/locations")).await;
    assert_error(
        &r,
        StatusCode::FORBIDDEN,
        "You are not authorized to complete fetch_image_location action.",
    );
    // A service user acting for the owner's project (Nova with the user's token).
    let service = Caller::new(&s, "p1", "member,reader,service");
    let r = service.get(&format!("/v2/images/{id}/locations")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let expected = root.path().join("fast").join(&id);
    assert_eq!(
        r.json(),
        json!([{"url": format!("file://{}", expected.display()), "metadata": {"store": "fast"}}])
    );
    let missing = "6ee0e5b5-0000-4000-8000-000000000000";
    let r = service
        .get(&format!("/v2/images/{missing}/locations"))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn delete_from_store_removes_one_copy_and_keeps_the_last() {
    let root = tempfile::tempdir().unwrap();
    let s = common::server_with(&two_stores(root.path())).await;
    let id = image_in_both(&s, root.path(), b"two copies").await;
    let a = admin(&s);

    let r = a.delete(&format!("/v2/stores/nowhere/{id}")).await;
    assert_error(
        &r,
        StatusCode::CONFLICT,
        "The selected store nowhere is not available on this node.",
    );
    let owner = Caller::new(&s, "p1", "member,reader");
    let r = owner.delete(&format!("/v2/stores/cheap/{id}")).await;
    assert_error(
        &r,
        StatusCode::FORBIDDEN,
        "You are not authorized to complete delete_image_location action.",
    );
    assert!(
        root.path().join("cheap").join(&id).exists(),
        "refusals keep the data"
    );

    let r = a.delete(&format!("/v2/stores/cheap/{id}")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    assert!(
        !root.path().join("cheap").join(&id).exists(),
        "the copy is gone"
    );
    let image = a.get(&format!("/v2/images/{id}")).await.json();
    assert_eq!(image["stores"], "fast");
    assert_eq!(image["locations"].as_array().unwrap().len(), 1);
    assert_eq!(
        &a.get(&format!("/v2/images/{id}/file")).await.body[..],
        b"two copies"
    );

    // The last copy cannot go this way, and the refusal changes nothing.
    let r = a.delete(&format!("/v2/stores/fast/{id}")).await;
    assert_error(
        &r,
        StatusCode::FORBIDDEN,
        "Cannot delete image data from the only store containing it. Consider deleting the image instead.",
    );
    assert!(root.path().join("fast").join(&id).exists());

    // A queued image has nothing to remove.
    let queued = owner
        .create(json!({"disk_format": "raw", "container_format": "bare"}))
        .await;
    let r = a.delete(&format!("/v2/stores/fast/{queued}")).await;
    assert_error(
        &r,
        StatusCode::CONFLICT,
        "It's not allowed to remove image data from store if image status is not 'active'",
    );
    let missing = "6ee0e5b5-0000-4000-8000-000000000000";
    let r = a.delete(&format!("/v2/stores/fast/{missing}")).await;
    assert_error(
        &r,
        StatusCode::NOT_FOUND,
        &format!("Failed to find image {missing}"),
    );

    let single = common::server().await;
    let r = single.delete(&format!("/v2/stores/file/{id}")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn delete_from_store_when_the_image_is_not_there() {
    let root = tempfile::tempdir().unwrap();
    let ini = format!(
        "{}[DEFAULT]\nenabled_backends = fast:file, cheap:file, third:file\n\
         [third]\nfilesystem_store_datadir = {}\n",
        two_stores(root.path()).replace(
            "[DEFAULT]\nenabled_backends = fast:file, cheap:file\n",
            "[DEFAULT]\n"
        ),
        root.path().join("third").display()
    );
    let s = common::server_with(&ini).await;
    let id = image_in_both(&s, root.path(), b"in two of three").await;
    let r = admin(&s).delete(&format!("/v2/stores/third/{id}")).await;
    assert_error(
        &r,
        StatusCode::NOT_FOUND,
        &format!("Image {id} is not stored in store third."),
    );
}

#[tokio::test]
async fn add_location_refusals_change_nothing() {
    let root = tempfile::tempdir().unwrap();
    let s = common::server_with(&two_stores(root.path())).await;
    let owner = Caller::new(&s, "p1", "member,reader");
    let service = Caller::new(&s, "service", "service,admin");
    let id = owner
        .create(json!({"disk_format": "raw", "container_format": "bare"}))
        .await;
    let uri = format!("/v2/images/{id}/locations");

    // Schema.
    for body in [
        json!({}),
        json!({"url": 5}),
        json!({"url": "http://example.com/x", "validation_data": {"os_hash_algo": "sha512"}}),
        json!({"url": "http://example.com/x", "validation_data": {"os_hash_value": "ab"}}),
        json!({"url": "http://example.com/x", "validation_data": {"os_hash_algo": "crc32", "os_hash_value": "ab"}}),
        json!({"url": "http://example.com/x", "validation_data": {"checksum": "ab"}}),
    ] {
        let r = post(&service, &uri, body.clone()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.text());
    }
    // Hash values of the wrong shape.
    let r = post(&service, &uri,
        json!({"url": "http://example.com/x", "validation_data": {"os_hash_algo": "sha256", "os_hash_value": "zz"}}),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    let r = post(&service, &uri,
        json!({"url": "http://example.com/x", "validation_data": {"os_hash_algo": "sha256", "os_hash_value": "abcd"}}),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());

    // sha1 passes the schema but cannot be checked here: refused, as documented.
    let r = post(
        &service,
        &uri,
        json!({"url": "http://example.com/x", "validation_data": {"os_hash_algo": "sha1", "os_hash_value": "ab".repeat(20)}}),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert!(r.text().contains("sha1 is not supported"), "{}", r.text());

    // Without the service role, only http locations through an http store.
    let r = post(&owner, &uri, json!({"url": "file:///etc/passwd"})).await;
    assert_error(
        &r,
        StatusCode::FORBIDDEN,
        "http store must be enabled to use location API by normal user.",
    );
    // Nobody may point an image at a file of this host or at a swift+config reference.
    for url in [
        "file:///etc/passwd",
        format!(
            "file://{}/../../etc/passwd",
            root.path().join("fast").display()
        )
        .as_str(),
        "filesystem:///etc/shadow",
        "swift+config://ref1/glance/x",
        "no-scheme-at-all",
    ] {
        let r = post(&service, &uri, json!({ "url": url })).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{url}: {}", r.text());
        assert!(!r.text().contains("passwd:"), "{}", r.text());
    }
    let image = service.get(&format!("/v2/images/{id}")).await.json();
    assert_eq!(image["status"], "queued");
    assert_eq!(image["locations"], json!([]));

    // Only queued images take a location.
    owner.upload(&id, b"data").await;
    let r = post(&service, &uri, json!({"url": "http://example.com/x"})).await;
    assert_error(
        &r,
        StatusCode::CONFLICT,
        "It's not allowed to add locations if image status is active.",
    );
}

const PATCH_TYPE: &str = "application/openstack-images-v2.1-json-patch";

async fn patch(c: &Caller<'_>, id: &str, ops: Value) -> common::TestResponse {
    let body = Some(ops.to_string().into_bytes());
    c.send(Method::PATCH, &format!("/v2/images/{id}"), body, PATCH_TYPE)
        .await
}

#[tokio::test]
async fn patch_remove_location_deletes_that_copy_only() {
    let root = tempfile::tempdir().unwrap();
    let s = common::server_with(&two_stores(root.path())).await;
    let id = image_in_both(&s, root.path(), b"patched copies").await;
    let a = admin(&s);
    let owner = Caller::new(&s, "p1", "member,reader");

    let r = patch(
        &owner,
        &id,
        json!([{"op": "remove", "path": "/locations/0"}]),
    )
    .await;
    assert_error(
        &r,
        StatusCode::FORBIDDEN,
        "You are not authorized to complete delete_image_location action.",
    );
    for path in ["/locations/2", "/locations/x"] {
        let r = patch(&a, &id, json!([{"op": "remove", "path": path}])).await;
        assert_error(
            &r,
            StatusCode::BAD_REQUEST,
            "Invalid position for removing a location.",
        );
    }
    let r = patch(
        &a,
        &id,
        json!([{"op": "remove", "path": "/locations/0"}, {"op": "replace", "path": "/name", "value": "n"}]),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert!(root.path().join("cheap").join(&id).exists());

    // Position 0 is the heavier store's copy ("cheap").
    let r = patch(&a, &id, json!([{"op": "remove", "path": "/locations/0"}])).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let image = r.json();
    assert_eq!(image["stores"], "fast");
    assert_eq!(image["locations"].as_array().unwrap().len(), 1);
    assert!(!root.path().join("cheap").join(&id).exists());
    assert!(root.path().join("fast").join(&id).exists());

    let r = patch(&a, &id, json!([{"op": "remove", "path": "/locations/0"}])).await;
    assert_error(
        &r,
        StatusCode::FORBIDDEN,
        "Cannot remove last location in the image.",
    );
    assert!(root.path().join("fast").join(&id).exists());
}

#[tokio::test]
async fn patch_cannot_point_an_image_at_local_files() {
    let root = tempfile::tempdir().unwrap();
    let s = common::server_with(&two_stores(root.path())).await;
    let a = admin(&s);
    let id = a
        .create(json!({"disk_format": "raw", "container_format": "bare"}))
        .await;
    let secret = root.path().join("secret");
    std::fs::write(&secret, b"not an image").unwrap();
    let inside = root.path().join("fast").join("planted");
    std::fs::write(&inside, b"planted").unwrap();
    for url in [
        format!("file://{}", secret.display()),
        format!("file://{}", inside.display()),
        format!("file://{}/../secret", root.path().join("fast").display()),
        "swift+config://ref1/glance/x".to_string(),
    ] {
        let ops =
            json!([{"op": "add", "path": "/locations/-", "value": {"url": url, "metadata": {}}}]);
        let r = patch(&a, &id, ops).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{url}: {}", r.text());
        let ops = json!([{"op": "replace", "path": "/locations", "value": [{"url": url, "metadata": {}}]}]);
        let r = patch(&a, &id, ops).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{url}: {}", r.text());
    }
    let image = a.get(&format!("/v2/images/{id}")).await.json();
    assert_eq!(image["status"], "queued");
    assert_eq!(image["locations"], json!([]));
    let r = a.get(&format!("/v2/images/{id}/file")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);

    let r = patch(
        &a,
        &id,
        json!([{"op": "replace", "path": "/locations", "value": []}]),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    let r = patch(
        &a,
        &id,
        json!([{"op": "add", "path": "/locations/7", "value": {"url": "http://example.com/x"}}]),
    )
    .await;
    assert_error(
        &r,
        StatusCode::BAD_REQUEST,
        "Invalid position for adding a location.",
    );
}

#[tokio::test]
async fn patch_replace_changes_metadata_never_urls_once_an_image_has_locations() {
    let root = tempfile::tempdir().unwrap();
    let s = common::server_with(&two_stores(root.path())).await;
    let id = image_in_both(&s, root.path(), b"two copies").await;
    let a = admin(&s);
    let before = a.get(&format!("/v2/images/{id}")).await.json();
    let mut locations = before["locations"].as_array().cloned().unwrap();
    assert_eq!(locations.len(), 2);

    // The same URLs (file:// ones, which no caller may add) with new metadata:
    // accepted, and each location stays in its store.
    locations[0]["metadata"]["date"] = json!("2015-10-15");
    let ops = json!([{"op": "replace", "path": "/locations", "value": locations}]);
    let r = patch(&a, &id, ops).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let after = a.get(&format!("/v2/images/{id}")).await.json();
    assert_eq!(after["locations"], json!(locations));
    assert_eq!(after["locations"][0]["metadata"]["date"], "2015-10-15");
    assert_eq!(store_of(&after["locations"][0]), "cheap");
    assert_eq!(store_of(&after["locations"][1]), "fast");

    // Fewer locations, or another URL in place of one: 400, nothing changes.
    let other = json!({"url": "http://example.com/new", "metadata": {}});
    for value in [
        json!([locations[0].clone()]),
        json!([locations[0].clone(), other]),
    ] {
        let ops = json!([{"op": "replace", "path": "/locations", "value": value}]);
        let r = patch(&a, &id, ops).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
        assert!(
            r.text().contains("Original locations is not empty"),
            "{}",
            r.text()
        );
        let now = a.get(&format!("/v2/images/{id}")).await.json();
        assert_eq!(now["locations"], after["locations"]);
    }
    assert!(root.path().join("cheap").join(&id).exists());
    assert!(root.path().join("fast").join(&id).exists());
}

#[tokio::test]
async fn an_unknown_scheme_is_a_bad_request_for_every_caller() {
    let root = tempfile::tempdir().unwrap();
    let s = common::server_with(&two_stores(root.path())).await;
    let owner = Caller::new(&s, "p1", "member,reader");
    let id = owner
        .create(json!({"disk_format": "raw", "container_format": "bare"}))
        .await;
    let gopher = json!({"url": "gopher://info.cern.ch", "metadata": {"foo": "bar"}});
    for c in [&owner, &admin(&s)] {
        let ops = json!([{"op": "add", "path": "/locations/-", "value": gopher}]);
        let r = patch(c, &id, ops).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    }
    // A store scheme no store here serves is unknown too (400, not the 403 a
    // project member gets for a store location).
    let ops = json!([{"op": "add", "path": "/locations/-",
                      "value": {"url": "rbd://fsid/pool/image/snap", "metadata": {}}}]);
    assert_eq!(
        patch(&owner, &id, ops).await.status,
        StatusCode::BAD_REQUEST
    );
    let image = owner.get(&format!("/v2/images/{id}")).await.json();
    assert_eq!(image["locations"], json!([]));
    assert_eq!(image["status"], "queued");
}
