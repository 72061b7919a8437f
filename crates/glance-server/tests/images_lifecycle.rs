//! Deactivate, reactivate, delete and `protected`, as the owner, other projects, a
//! reader and the admin. Who sees which image is in `images_visibility.rs`.
mod common;

use axum::http::{Method, StatusCode};
use common::{assert_error, Caller, TestServer, TRUSTED};
use serde_json::json;

async fn status_of(s: &TestServer, id: &str) -> String {
    s.get(&format!("/v2/images/{id}")).await.json()["status"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn deactivate_and_reactivate() {
    let s = common::server().await;
    let id = s
        .create_image(json!({"disk_format": "raw", "container_format": "bare"}))
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let action = |a: &str| format!("/v2/images/{id}/actions/{a}");
    let s = &s;
    let post = |uri: String| async move {
        s.request(Method::POST, &uri, &[("accept", "application/json")], "")
            .await
    };
    let r = post(action("deactivate")).await;
    assert_error(
        &r,
        StatusCode::FORBIDDEN,
        "Not allowed to deactivate image in status 'queued'",
    );
    let r = post(action("reactivate")).await;
    assert_error(
        &r,
        StatusCode::FORBIDDEN,
        "Not allowed to reactivate image in status 'queued'",
    );
    assert_eq!(
        s.put_data(&format!("/v2/images/{id}/file"), b"bytes".to_vec())
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        post(action("reactivate")).await.status,
        StatusCode::NO_CONTENT,
        "active: no-op"
    );
    assert_eq!(status_of(s, &id).await, "active");
    let r = post(action("deactivate")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert!(r.body.is_empty());
    assert_eq!(status_of(s, &id).await, "deactivated");
    assert_eq!(
        post(action("deactivate")).await.status,
        StatusCode::NO_CONTENT,
        "again: no-op"
    );
    assert_eq!(status_of(s, &id).await, "deactivated");
    // Listed with its status; PATCH still works.
    let r = s.get("/v2/images?status=deactivated").await;
    assert_eq!(r.json()["images"][0]["id"], id.as_str());
    assert_eq!(
        post(action("reactivate")).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(status_of(s, &id).await, "active");
    assert_eq!(
        post(action("reactivate")).await.status,
        StatusCode::NO_CONTENT
    );
    // Unknown image, and a body where none is expected.
    let r = post("/v2/images/00000000-0000-0000-0000-000000000000/actions/deactivate".into()).await;
    assert_error(&r, StatusCode::NOT_FOUND, "No image found with ID");
    let r = s
        .request(
            Method::POST,
            &action("deactivate"),
            &[("content-length", "2"), ("accept", "application/json")],
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
async fn deactivated_data_is_for_admins_only() {
    let s = common::server_with(TRUSTED).await;
    let p1 = Caller::new(&s, "p1", "member,reader");
    let admin = Caller::new(&s, "adm", "admin,member,reader");
    let id = p1
        .create(
            json!({"disk_format": "raw", "container_format": "bare", "visibility": "community"}),
        )
        .await;
    p1.upload(&id, b"payload").await;
    let file = format!("/v2/images/{id}/file");
    assert_eq!(
        p1.post(&format!("/v2/images/{id}/actions/deactivate"))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let r = p1.get(&file).await;
    assert_error(
        &r,
        StatusCode::FORBIDDEN,
        "The requested image has been deactivated. Image data download is forbidden.",
    );
    let r = Caller::new(&s, "p2", "member,reader").get(&file).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = admin.get(&file).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.body.as_ref(), b"payload");
    assert_eq!(
        p1.post(&format!("/v2/images/{id}/actions/reactivate"))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(p1.get(&file).await.body.as_ref(), b"payload");
}

#[tokio::test]
async fn deactivated_locations_are_for_admins_only() {
    let ini = format!(
        "{TRUSTED}[DEFAULT]\nshow_multiple_locations = true\nshow_image_direct_url = true\n"
    );
    let s = common::server_with(&ini).await;
    let p1 = Caller::new(&s, "p1", "member,reader");
    let admin = Caller::new(&s, "adm", "admin,member,reader");
    let id = p1
        .create(json!({"disk_format": "raw", "container_format": "bare", "tags": ["t"]}))
        .await;
    p1.upload(&id, b"payload").await;
    let image = format!("/v2/images/{id}");
    let shown = p1.get(&image).await.json();
    assert_eq!(
        shown["locations"].as_array().map(Vec::len),
        Some(1),
        "{shown}"
    );
    // Upstream's key order: locations and direct_url come before tags.
    let keys: Vec<&str> = shown
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let at = |k: &str| keys.iter().position(|x| *x == k).unwrap();
    assert!(at("updated_at") < at("locations"), "{keys:?}");
    assert!(
        at("locations") < at("direct_url") && at("direct_url") < at("tags"),
        "{keys:?}"
    );
    assert!(at("tags") < at("self"), "{keys:?}");

    assert_eq!(
        p1.post(&format!("{image}/actions/deactivate")).await.status,
        StatusCode::NO_CONTENT
    );
    // As upstream's _normalize_locations: no locations (so no direct_url) for
    // non-admins, in show and in lists; admins still see them.
    let shown = p1.get(&image).await.json();
    assert_eq!(shown["locations"], json!([]), "{shown}");
    assert!(shown.get("direct_url").is_none(), "{shown}");
    let listed = p1.get("/v2/images").await.json();
    assert_eq!(listed["images"][0]["locations"], json!([]), "{listed}");
    let shown = admin.get(&image).await.json();
    assert_eq!(
        shown["locations"].as_array().map(Vec::len),
        Some(1),
        "{shown}"
    );
    assert!(shown["direct_url"]
        .as_str()
        .is_some_and(|u| u.starts_with("file://")));

    assert_eq!(
        p1.post(&format!("{image}/actions/reactivate")).await.status,
        StatusCode::NO_CONTENT
    );
    let shown = p1.get(&image).await.json();
    assert_eq!(
        shown["locations"].as_array().map(Vec::len),
        Some(1),
        "{shown}"
    );
}

#[tokio::test]
async fn deactivate_and_delete_policies() {
    let s = common::server_with(TRUSTED).await;
    let p1 = Caller::new(&s, "p1", "member,reader");
    let reader = Caller::new(&s, "p1", "reader");
    let p2 = Caller::new(&s, "p2", "member,reader");
    let admin = Caller::new(&s, "adm", "admin");
    let private = p1
        .create(json!({"visibility": "private", "disk_format": "raw", "container_format": "bare"}))
        .await;
    let public = admin.create(json!({"visibility": "public", "owner": "p1", "disk_format": "raw", "container_format": "bare"})).await;
    p1.upload(&public, b"x").await;
    // Not visible: 404; visible but not writable: 403 with the policy's name.
    let r = p2
        .post(&format!("/v2/images/{private}/actions/deactivate"))
        .await;
    assert_error(&r, StatusCode::NOT_FOUND, "No image found with ID");
    let r = p2
        .post(&format!("/v2/images/{public}/actions/deactivate"))
        .await;
    assert_error(
        &r,
        StatusCode::FORBIDDEN,
        "You are not authorized to complete deactivate action.",
    );
    let r = reader
        .post(&format!("/v2/images/{public}/actions/deactivate"))
        .await;
    assert_error(
        &r,
        StatusCode::FORBIDDEN,
        "You are not authorized to complete deactivate action.",
    );
    assert_eq!(
        admin
            .post(&format!("/v2/images/{public}/actions/deactivate"))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let r = p2
        .post(&format!("/v2/images/{public}/actions/reactivate"))
        .await;
    assert_error(
        &r,
        StatusCode::FORBIDDEN,
        "You are not authorized to complete reactivate action.",
    );
    assert_eq!(
        p1.post(&format!("/v2/images/{public}/actions/reactivate"))
            .await
            .status,
        StatusCode::NO_CONTENT
    );

    let r = p2.delete(&format!("/v2/images/{private}")).await;
    assert_error(
        &r,
        StatusCode::NOT_FOUND,
        &format!("Failed to find image {private} to delete"),
    );
    let r = p2.delete(&format!("/v2/images/{public}")).await;
    assert_error(
        &r,
        StatusCode::FORBIDDEN,
        "You are not authorized to complete delete_image action.",
    );
    let r = reader.delete(&format!("/v2/images/{private}")).await;
    assert_error(
        &r,
        StatusCode::FORBIDDEN,
        "You are not authorized to complete delete_image action.",
    );
    assert_eq!(
        p1.delete(&format!("/v2/images/{private}")).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        admin.delete(&format!("/v2/images/{public}")).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        admin.get(&format!("/v2/images/{public}")).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn delete_removes_the_image_and_its_data() {
    let s = common::server().await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(
            s.create_image(
                json!({"disk_format": "raw", "container_format": "bare", "k": "v", "tags": ["t"]}),
            )
            .await["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    // One queued, one active, one deactivated: every status can be deleted.
    for id in &ids[1..] {
        assert_eq!(
            s.put_data(&format!("/v2/images/{id}/file"), vec![1u8; 4096])
                .await
                .status,
            StatusCode::NO_CONTENT
        );
    }
    assert_eq!(
        s.request(
            Method::POST,
            &format!("/v2/images/{}/actions/deactivate", ids[2]),
            &[],
            ""
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(s.stored_files().len(), 2);
    for id in &ids {
        let uri = format!("/v2/images/{id}");
        let r = s.delete(&uri).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
        assert!(r.body.is_empty());
        assert_error(
            &s.get(&uri).await,
            StatusCode::NOT_FOUND,
            &format!("No image found with ID {id}"),
        );
        assert_error(
            &s.delete(&uri).await,
            StatusCode::NOT_FOUND,
            &format!("Failed to find image {id} to delete"),
        );
        assert!(s.state.glance.db.get_image(id).await.unwrap().is_none());
        assert!(
            s.state.glance.db.image_id_exists(id).await.unwrap(),
            "the row stays, soft-deleted"
        );
        assert!(
            !s.stored_files().contains(id),
            "data removed with the image"
        );
    }
    assert!(s.stored_files().is_empty());
    assert_eq!(s.get("/v2/images").await.json()["images"], json!([]));
    assert_eq!(s.get("/v2/images?tag=t").await.json()["images"], json!([]));
    assert_eq!(s.get("/v2/images?k=v").await.json()["images"], json!([]));
}

#[tokio::test]
async fn protected_images_cannot_be_deleted() {
    let s = common::server().await;
    let id = s
        .create_image(json!({"protected": true, "disk_format": "raw", "container_format": "bare"}))
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        s.put_data(&format!("/v2/images/{id}/file"), b"keep me".to_vec())
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let uri = format!("/v2/images/{id}");
    assert_error(
        &s.delete(&uri).await,
        StatusCode::FORBIDDEN,
        &format!("Image {id} is protected and cannot be deleted."),
    );
    assert_eq!(status_of(&s, &id).await, "active");
    assert_eq!(s.stored_files(), vec![id.clone()]);
    // Protection does not block deactivation or metadata updates.
    assert_eq!(
        s.request(Method::POST, &format!("{uri}/actions/deactivate"), &[], "")
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let r = s
        .patch(
            &uri,
            json!([{"op": "replace", "path": "/protected", "value": false}]),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(s.delete(&uri).await.status, StatusCode::NO_CONTENT);
    assert!(s.stored_files().is_empty());
}
