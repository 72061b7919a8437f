//! `GET /v2/images`: sorting, limits, paging with markers, and the `first`/`next`
//! links in upstream's exact form.
mod common;

use std::collections::BTreeSet;

use axum::http::StatusCode;
use common::{assert_400, create, names, TestResponse};
use serde_json::json;

fn names_ids(r: &TestResponse) -> Vec<String> {
    r.json()["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn sorting() {
    let s = common::server().await;
    for (name, disk) in [("b", "raw"), ("a", "qcow2"), ("c", "raw"), ("d", "qcow2")] {
        common::next_created_at().await;
        create(&s, json!({"name": name, "disk_format": disk})).await;
    }
    let q = |query: &str| format!("/v2/images?{query}");
    assert_eq!(
        names(&s.get("/v2/images").await),
        vec!["d", "c", "a", "b"],
        "default created_at desc"
    );
    assert_eq!(
        names(&s.get(&q("sort_key=name")).await),
        vec!["d", "c", "b", "a"],
        "default dir desc"
    );
    assert_eq!(
        names(&s.get(&q("sort_key=name&sort_dir=asc")).await),
        vec!["a", "b", "c", "d"]
    );
    assert_eq!(
        names(
            &s.get(&q("sort_key=disk_format&sort_key=name&sort_dir=asc"))
                .await
        ),
        vec!["a", "d", "b", "c"]
    );
    assert_eq!(
        names(
            &s.get(&q(
                "sort_key=disk_format&sort_dir=asc&sort_key=name&sort_dir=desc"
            ))
            .await
        ),
        vec!["d", "a", "c", "b"]
    );
    assert_eq!(
        names(&s.get(&q("sort=name:asc")).await),
        vec!["a", "b", "c", "d"]
    );
    assert_eq!(
        names(&s.get(&q("sort=name")).await),
        vec!["d", "c", "b", "a"]
    );
    assert_eq!(
        names(&s.get(&q("sort=disk_format:desc,name:asc")).await),
        vec!["b", "c", "a", "d"]
    );
    assert_eq!(
        names(&s.get(&q("sort=disk_format,name")).await),
        vec!["c", "b", "d", "a"]
    );
    assert_eq!(
        names(&s.get(&q("sort=created_at:asc")).await),
        vec!["b", "a", "c", "d"]
    );
    assert_eq!(names(&s.get(&q("sort_key=id&sort_dir=asc")).await).len(), 4);

    assert_400(
        &s.get(&q("sort=name:asc&sort_key=id")).await,
        "Old and new sorting syntax cannot be combined",
    );
    assert_400(
        &s.get(&q("sort=name&sort_dir=asc")).await,
        "Old and new sorting syntax cannot be combined",
    );
    assert_400(
        &s.get(&q("sort_key=owner")).await,
        "Invalid sort key: owner. It must be one of the following: name, status, container_format, disk_format, size, id, created_at, updated_at.",
    );
    assert_400(
        &s.get(&q("sort=bogus:asc")).await,
        "Invalid sort key: bogus.",
    );
    assert_400(
        &s.get(&q("sort_key=name&sort_dir=up")).await,
        "Invalid sort direction: up",
    );
    assert_400(
        &s.get(&q("sort=name:sideways")).await,
        "Invalid sort direction: sideways",
    );
    assert_400(
        &s.get(&q(
            "sort_key=name&sort_dir=asc&sort_dir=desc&sort_key=id&sort_dir=asc",
        ))
        .await,
        "Number of sort dirs does not match the number of sort keys",
    );
}

#[tokio::test]
async fn limits() {
    let s = common::server().await;
    for i in 0..27 {
        create(&s, json!({"name": format!("i{i:02}")})).await;
    }
    let r = s.get("/v2/images").await;
    assert_eq!(names(&r).len(), 25, "limit_param_default is 25");
    assert!(r.json()["next"].is_string());
    assert_eq!(names(&s.get("/v2/images?limit=1000").await).len(), 27);
    let r = s.get("/v2/images?limit=0").await;
    assert!(names(&r).is_empty());
    assert!(r.json().get("next").is_none());
    assert_400(
        &s.get("/v2/images?limit=abc").await,
        "limit param must be an integer",
    );
    assert_400(
        &s.get("/v2/images?limit=1.5").await,
        "limit param must be an integer",
    );
    assert_400(
        &s.get("/v2/images?limit=-1").await,
        "limit param must be positive",
    );

    let s = common::server_with("[DEFAULT]\nlimit_param_default = 3\napi_limit_max = 5\n").await;
    for i in 0..7 {
        create(&s, json!({"name": format!("i{i}")})).await;
    }
    assert_eq!(names(&s.get("/v2/images").await).len(), 3);
    assert_eq!(names(&s.get("/v2/images?limit=4").await).len(), 4);
    let r = s.get("/v2/images?limit=100").await;
    assert_eq!(names(&r).len(), 5, "silently capped at api_limit_max");
    assert_eq!(
        r.json()["first"],
        "/v2/images?limit=100",
        "links keep the limit as sent"
    );
}

#[tokio::test]
async fn paging_with_next_links() {
    let s = common::server().await;
    let mut all = BTreeSet::new();
    for i in 0..7 {
        all.insert(create(&s, json!({"name": format!("p{i}")})).await);
    }
    let mut seen = Vec::new();
    let mut uri = "/v2/images?limit=2&sort=name:asc".to_string();
    let mut pages = 0;
    loop {
        let r = s.get(&uri).await;
        let body = r.json();
        assert_eq!(body["first"], "/v2/images?limit=2&sort=name%3Aasc");
        assert_eq!(body["schema"], "/v2/schemas/images");
        let page: Vec<String> = body["images"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_string())
            .collect();
        pages += 1;
        let Some(next) = body["next"].as_str() else {
            assert!(page.len() < 2, "a short page has no next");
            seen.extend(page);
            break;
        };
        assert_eq!(
            next,
            format!(
                "/v2/images?limit=2&sort=name%3Aasc&marker={}",
                page.last().unwrap()
            )
        );
        seen.extend(page);
        uri = next.to_string();
        assert!(pages < 10);
    }
    assert_eq!(pages, 4);
    assert_eq!(seen.len(), 7, "no image twice");
    assert_eq!(seen.iter().cloned().collect::<BTreeSet<_>>(), all);

    // A full last page still has next, which then returns an empty page.
    let r = s.get("/v2/images?limit=7").await;
    assert_eq!(names(&r).len(), 7);
    let next = r.json()["next"].as_str().unwrap().to_string();
    let r = s.get(&next).await;
    assert!(names(&r).is_empty());
    assert!(r.json().get("next").is_none());
    assert_eq!(r.json()["first"], "/v2/images?limit=7");
}

#[tokio::test]
async fn link_formats() {
    let s = common::server().await;
    let first = create(&s, json!({"name": "one", "tags": ["t1"]})).await;
    create(&s, json!({"name": "two", "tags": ["t1"]})).await;
    let r = s.get("/v2/images").await;
    assert_eq!(r.json()["first"], "/v2/images");
    assert!(r.json().get("next").is_none());
    let keys: Vec<String> = r.json().as_object().unwrap().keys().cloned().collect();
    assert_eq!(
        keys,
        vec!["images", "first", "schema"],
        "upstream's key order"
    );
    let r = s.get("/v2/images?limit=1").await;
    assert_eq!(
        r.json()["next"],
        format!("/v2/images?limit=1&marker={}", names_ids(&r)[0])
    );
    // The marker moves to the end; repeated parameters are all kept (upstream collapses
    // them to the last value, which changes the filter of the next page: a deliberate
    // difference); values are encoded as Python's urlencode does.
    let r = s
        .get(&format!(
            "/v2/images?marker={first}&tag=t0&limit=1&tag=t1&name=in:%22a,b%22,c%20d~*"
        ))
        .await;
    assert_eq!(
        r.json()["first"],
        "/v2/images?tag=t0&limit=1&tag=t1&name=in%3A%22a%2Cb%22%2Cc+d~%2A",
        "{}",
        r.text()
    );
}

#[tokio::test]
async fn markers() {
    let s = common::server().await;
    let mut ids = Vec::new();
    for i in 0..4 {
        common::next_created_at().await;
        ids.push(create(&s, json!({"name": format!("m{i}")})).await);
    }
    // Default order is newest first: m3 m2 m1 m0.
    let r = s.get(&format!("/v2/images?marker={}", ids[2])).await;
    assert_eq!(names(&r), vec!["m1", "m0"]);
    assert_400(
        &s.get("/v2/images?marker=00000000-0000-0000-0000-000000000000")
            .await,
        "No image found with ID 00000000-0000-0000-0000-000000000000",
    );
    assert_400(
        &s.get("/v2/images?marker=junk").await,
        "No image found with ID junk",
    );
    // A deleted marker pages on from where it was (upstream, admin).
    assert_eq!(
        s.delete(&format!("/v2/images/{}", ids[2])).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        names(&s.get(&format!("/v2/images?marker={}", ids[2])).await),
        vec!["m1", "m0"]
    );
}
