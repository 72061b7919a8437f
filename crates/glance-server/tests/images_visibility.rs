//! Who sees which image, in show and in lists (spec §5.4, §17.1), with several
//! projects, memberships in every status and every visibility.
mod common;

use std::collections::BTreeSet;

use axum::http::{Method, StatusCode};
use common::{assert_error, Caller, TestResponse, TestServer, TRUSTED};
use serde_json::json;

/// Names of the images `caller` lists with `query`.
async fn names(caller: &Caller<'_>, query: &str) -> BTreeSet<String> {
    let r = caller.get(&format!("/v2/images{query}")).await;
    assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.text());
    r.json()["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap().to_string())
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// p1 owns images of every visibility, shared with p2 in every member status; p2 and
/// the admin own some too.
async fn two_projects(s: &TestServer) -> Vec<(String, String)> {
    let p1 = Caller::new(s, "p1", "member,reader");
    let p2 = Caller::new(s, "p2", "member,reader");
    let admin = Caller::new(s, "adm", "admin,member,reader");
    let mut ids = Vec::new();
    for (who, name, vis) in [
        (&p1, "priv", "private"),
        (&p1, "shr", "shared"),
        (&p1, "com", "community"),
        (&p1, "pending", "shared"),
        (&p1, "accepted", "shared"),
        (&p1, "rejected", "shared"),
        (&admin, "pub", "public"),
        (&p2, "own", "private"),
        (&p2, "own-com", "community"),
    ] {
        ids.push((
            name.to_string(),
            who.create(json!({"name": name, "visibility": vis})).await,
        ));
    }
    for (name, id) in &ids[3..6] {
        let r = p1
            .json(
                Method::POST,
                &format!("/v2/images/{id}/members"),
                json!({"member": "p2"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        if name != "pending" {
            let r = p2
                .json(
                    Method::PUT,
                    &format!("/v2/images/{id}/members/p2"),
                    json!({"status": name}),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        }
    }
    ids
}

#[tokio::test]
async fn who_may_show_what() {
    let s = common::server_with(TRUSTED).await;
    let ids = two_projects(&s).await;
    let p2 = Caller::new(&s, "p2", "member,reader");
    let admin = Caller::new(&s, "other", "admin");
    for (name, id) in &ids {
        let expect = if matches!(name.as_str(), "priv" | "shr") {
            StatusCode::NOT_FOUND
        } else {
            StatusCode::OK
        };
        let r = p2.get(&format!("/v2/images/{id}")).await;
        assert_eq!(r.status, expect, "{name}: {}", r.text());
        if expect == StatusCode::NOT_FOUND {
            assert_error(
                &r,
                StatusCode::NOT_FOUND,
                &format!("No image found with ID {id}"),
            );
        }
        assert_eq!(
            admin.get(&format!("/v2/images/{id}")).await.status,
            StatusCode::OK,
            "{name}"
        );
    }
}

#[tokio::test]
async fn who_lists_what() {
    let s = common::server_with(TRUSTED).await;
    let ids = two_projects(&s).await;
    let p1 = Caller::new(&s, "p1", "member,reader");
    let p2 = Caller::new(&s, "p2", "member,reader");
    let p3 = Caller::new(&s, "p3", "reader");
    let admin = Caller::new(&s, "adm", "admin,member,reader");
    let everything = [
        "priv", "shr", "com", "pending", "accepted", "rejected", "pub", "own", "own-com",
    ];

    assert_eq!(
        names(&p1, "").await,
        set(&["priv", "shr", "com", "pending", "accepted", "rejected", "pub"])
    );
    assert_eq!(
        names(&p2, "").await,
        set(&["pub", "own", "own-com", "accepted"])
    );
    assert_eq!(
        names(&p2, "?member_status=pending").await,
        set(&["pub", "own", "own-com", "pending"])
    );
    assert_eq!(
        names(&p2, "?member_status=all").await,
        set(&["pub", "own", "own-com", "pending", "accepted", "rejected"])
    );
    assert_eq!(
        names(&p2, "?visibility=community").await,
        set(&["com", "own-com"])
    );
    assert_eq!(
        names(&p2, "?visibility=all").await,
        set(&["pub", "own", "own-com", "com", "accepted"])
    );
    assert_eq!(names(&p2, "?visibility=shared").await, set(&["accepted"]));
    assert_eq!(
        names(&p2, "?visibility=shared&member_status=rejected").await,
        set(&["rejected"])
    );
    assert_eq!(names(&p2, "?visibility=private").await, set(&["own"]));
    assert_eq!(names(&p2, "?visibility=public").await, set(&["pub"]));
    assert_eq!(names(&p2, "?owner=p1").await, set(&["accepted"]));
    assert_eq!(
        names(&p2, "?owner=p1&visibility=all&member_status=all").await,
        set(&["com", "pending", "accepted", "rejected"])
    );
    assert_eq!(names(&p3, "").await, set(&["pub"]));
    assert_eq!(
        names(&p3, "?visibility=all").await,
        set(&["pub", "com", "own-com"])
    );
    assert_eq!(
        names(&p1, "?visibility=shared").await,
        set(&["shr", "pending", "accepted", "rejected"])
    );
    // The admin sees every image, except other projects' community images by default.
    assert_eq!(
        names(&admin, "").await,
        set(&["priv", "shr", "pending", "accepted", "rejected", "pub", "own"])
    );
    assert_eq!(names(&admin, "?visibility=all").await, set(&everything));
    assert_eq!(
        names(&admin, "?visibility=community").await,
        set(&["com", "own-com"])
    );
    assert_eq!(
        names(&admin, "?visibility=private").await,
        set(&["priv", "own"])
    );

    // Markers: another project's private image is forbidden; a deleted one unknown.
    let id = |n: &str| ids.iter().find(|(name, _)| name == n).unwrap().1.clone();
    let r = p2.get(&format!("/v2/images?marker={}", id("priv"))).await;
    assert_error(
        &r,
        StatusCode::FORBIDDEN,
        &format!("Forbidding request, image {} not visible", id("priv")),
    );
    let r = p2
        .get(&format!("/v2/images?marker={}", id("pending")))
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "shared with p2 (any status) is visible"
    );
    assert_eq!(
        p2.delete(&format!("/v2/images/{}", id("own"))).await.status,
        StatusCode::NO_CONTENT
    );
    let r = p2.get(&format!("/v2/images?marker={}", id("own"))).await;
    assert_error(
        &r,
        StatusCode::BAD_REQUEST,
        &format!("No image found with ID {}", id("own")),
    );
    assert_eq!(
        admin
            .get(&format!("/v2/images?marker={}", id("own")))
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn noauth_admin_list_hides_community_images() {
    let s = common::server().await;
    for (name, vis) in [
        ("c", "community"),
        ("p", "public"),
        ("s", "shared"),
        ("x", "private"),
    ] {
        s.create_image(json!({"name": name, "visibility": vis}))
            .await;
    }
    let names = |r: TestResponse| -> BTreeSet<String> {
        r.json()["images"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names(s.get("/v2/images").await), set(&["p", "s", "x"]));
    assert_eq!(
        names(s.get("/v2/images?visibility=community").await),
        set(&["c"])
    );
    assert_eq!(
        names(s.get("/v2/images?visibility=all").await),
        set(&["c", "p", "s", "x"])
    );
}
