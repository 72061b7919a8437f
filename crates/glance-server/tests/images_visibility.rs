//! Who sees which image, in show and in lists (spec §5.4, §17.1), with several
//! projects, memberships in every status and every visibility.
mod common;

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Method, StatusCode};
use common::{TestResponse, TestServer};
use serde_json::{json, Value};

const TRUSTED: &str = "[paste_deploy]\nflavor = trusted-auth\n";

/// Requests as one project with given roles.
struct Caller<'a> {
    s: &'a TestServer,
    headers: Vec<(String, String)>,
}

impl<'a> Caller<'a> {
    fn new(s: &'a TestServer, project: &str, roles: &str) -> Self {
        let mut headers = common::as_project(project, roles);
        headers.push(("accept".into(), "application/json".into()));
        Caller { s, headers }
    }

    async fn send(
        &self,
        method: Method,
        uri: &str,
        body: Option<Vec<u8>>,
        content_type: &str,
    ) -> TestResponse {
        let mut h: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        if body.is_some() {
            h.push(("content-type", content_type));
        }
        self.s
            .request(
                method,
                uri,
                &h,
                body.map(Body::from).unwrap_or_else(Body::empty),
            )
            .await
    }

    async fn json(&self, method: Method, uri: &str, body: Value) -> TestResponse {
        self.send(
            method,
            uri,
            Some(body.to_string().into_bytes()),
            "application/json",
        )
        .await
    }

    async fn get(&self, uri: &str) -> TestResponse {
        self.send(Method::GET, uri, None, "").await
    }

    async fn delete(&self, uri: &str) -> TestResponse {
        self.send(Method::DELETE, uri, None, "").await
    }

    async fn create(&self, body: Value) -> String {
        let r = self.json(Method::POST, "/v2/images", body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        r.json()["id"].as_str().unwrap().to_string()
    }

    async fn names(&self, query: &str) -> BTreeSet<String> {
        let r = self.get(&format!("/v2/images{query}")).await;
        assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.text());
        r.json()["images"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["name"].as_str().unwrap().to_string())
            .collect()
    }
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn assert_error(r: &TestResponse, status: StatusCode, msg: &str) {
    assert_eq!(r.status, status, "{}", r.text());
    let m = r.json()["message"].as_str().unwrap_or_default().to_string();
    assert!(m.contains(msg), "expected {msg:?} in {m:?}");
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
        p1.names("").await,
        set(&["priv", "shr", "com", "pending", "accepted", "rejected", "pub"])
    );
    assert_eq!(
        p2.names("").await,
        set(&["pub", "own", "own-com", "accepted"])
    );
    assert_eq!(
        p2.names("?member_status=pending").await,
        set(&["pub", "own", "own-com", "pending"])
    );
    assert_eq!(
        p2.names("?member_status=all").await,
        set(&["pub", "own", "own-com", "pending", "accepted", "rejected"])
    );
    assert_eq!(
        p2.names("?visibility=community").await,
        set(&["com", "own-com"])
    );
    assert_eq!(
        p2.names("?visibility=all").await,
        set(&["pub", "own", "own-com", "com", "accepted"])
    );
    assert_eq!(p2.names("?visibility=shared").await, set(&["accepted"]));
    assert_eq!(
        p2.names("?visibility=shared&member_status=rejected").await,
        set(&["rejected"])
    );
    assert_eq!(p2.names("?visibility=private").await, set(&["own"]));
    assert_eq!(p2.names("?visibility=public").await, set(&["pub"]));
    assert_eq!(p2.names("?owner=p1").await, set(&["accepted"]));
    assert_eq!(
        p2.names("?owner=p1&visibility=all&member_status=all").await,
        set(&["com", "pending", "accepted", "rejected"])
    );
    assert_eq!(p3.names("").await, set(&["pub"]));
    assert_eq!(
        p3.names("?visibility=all").await,
        set(&["pub", "com", "own-com"])
    );
    assert_eq!(
        p1.names("?visibility=shared").await,
        set(&["shr", "pending", "accepted", "rejected"])
    );
    // The admin sees every image, except other projects' community images by default.
    assert_eq!(
        admin.names("").await,
        set(&["priv", "shr", "pending", "accepted", "rejected", "pub", "own"])
    );
    assert_eq!(admin.names("?visibility=all").await, set(&everything));
    assert_eq!(
        admin.names("?visibility=community").await,
        set(&["com", "own-com"])
    );
    assert_eq!(
        admin.names("?visibility=private").await,
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
