//! `GET /v2/images`: filters, sorting, paging and links (spec §5.1-5.3). Who sees
//! what with several projects is in `images_visibility.rs`; paging in `images_list_paging.rs`.
mod common;

use std::collections::BTreeSet;

use axum::http::StatusCode;
use common::{assert_400, create, names, TestResponse, TestServer};
use glance_db::StatusChange;
use glance_domain::ImageStatus;
use serde_json::json;

fn name_set(r: &TestResponse) -> BTreeSet<String> {
    names(r).into_iter().collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// Five images with distinct names, formats, sizes and properties.
async fn catalogue(s: &TestServer) -> Vec<String> {
    let mut ids = Vec::new();
    for (name, disk, container, extra) in [
        (
            "alpha",
            "raw",
            "bare",
            json!({"hw_disk_bus": "virtio", "tags": ["x", "y"]}),
        ),
        (
            "beta",
            "qcow2",
            "bare",
            json!({"hw_disk_bus": "scsi", "tags": ["x"]}),
        ),
        ("glass, darkly", "qcow2", "ovf", json!({"protected": true})),
        ("a:b", "iso", "bare", json!({"min_ram": 256})),
        ("share me", "vhd", "docker", json!({"os_hidden": true})),
    ] {
        let mut body = json!({"name": name, "disk_format": disk, "container_format": container});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        ids.push(create(s, body).await);
    }
    ids
}

#[tokio::test]
async fn exact_in_and_eq_filters_on_columns() {
    let s = common::server().await;
    let ids = catalogue(&s).await;
    let q = |query: &str| format!("/v2/images?{query}");
    assert_eq!(names(&s.get(&q("name=alpha")).await), vec!["alpha"]);
    assert_eq!(names(&s.get(&q("name=eq:alpha")).await), vec!["alpha"]);
    assert_eq!(names(&s.get(&q("name=eq:a:b")).await), vec!["a:b"]);
    assert_eq!(
        name_set(&s.get(&q("name=in:alpha,beta,nothing")).await),
        set(&["alpha", "beta"])
    );
    assert_eq!(
        name_set(&s.get(&q("name=in:%22glass,%20darkly%22,share%20me")).await),
        set(&["glass, darkly"]),
        "hidden images stay hidden"
    );
    assert_eq!(
        name_set(&s.get(&q("name=in:%22glass,%20darkly%22,alpha")).await),
        set(&["glass, darkly", "alpha"])
    );
    assert_eq!(
        names(&s.get(&q(&format!("id={}", ids[1]))).await),
        vec!["beta"]
    );
    assert_eq!(
        name_set(&s.get(&q(&format!("id=in:{},{}", ids[0], ids[1]))).await),
        set(&["alpha", "beta"])
    );
    assert_eq!(
        name_set(&s.get(&q("disk_format=qcow2")).await),
        set(&["beta", "glass, darkly"])
    );
    assert_eq!(
        name_set(&s.get(&q("disk_format=in:raw,iso")).await),
        set(&["alpha", "a:b"])
    );
    assert_eq!(
        names(&s.get(&q("container_format=eq:ovf")).await),
        vec!["glass, darkly"]
    );
    assert_eq!(name_set(&s.get(&q("status=queued")).await).len(), 4);
    assert_eq!(
        name_set(&s.get(&q("status=in:active,queued")).await).len(),
        4
    );
    assert!(names(&s.get(&q("status=active")).await).is_empty());
    assert!(
        names(&s.get(&q("status=bogus")).await).is_empty(),
        "unknown status is an empty list"
    );
    // Two values for one filter: both must hold.
    assert!(names(&s.get(&q("name=alpha&name=beta")).await).is_empty());

    assert_400(
        &s.get(&q("name=foo:bar")).await,
        "Unable to filter by unknown operator 'foo'.",
    );
    assert_400(
        &s.get(&q("status=gt:active")).await,
        "Unable to filter by unknown operator 'gt'.",
    );
    assert_400(
        &s.get(&q("name=in:%22a,b")).await,
        "The quote is not closed.",
    );
    assert_400(
        &s.get(&q("name=in:a%22b%22")).await,
        "There is no comma before opening quotation mark.",
    );
    assert_400(
        &s.get(&q("name=in:%22a%22b")).await,
        "There is no comma after closing quotation mark.",
    );
}

#[tokio::test]
async fn other_filters() {
    let s = common::server().await;
    catalogue(&s).await;
    let q = |query: &str| format!("/v2/images?{query}");
    // Custom properties, tags (every tag required), other columns.
    assert_eq!(names(&s.get(&q("hw_disk_bus=virtio")).await), vec!["alpha"]);
    assert!(names(&s.get(&q("hw_disk_bus=ide")).await).is_empty());
    assert_eq!(name_set(&s.get(&q("tag=x")).await), set(&["alpha", "beta"]));
    assert_eq!(names(&s.get(&q("tag=x&tag=y")).await), vec!["alpha"]);
    assert!(names(&s.get(&q("tag=x&tag=z")).await).is_empty());
    assert_eq!(names(&s.get(&q("min_ram=256")).await), vec!["a:b"]);
    assert!(
        names(&s.get(&q("min_ram=abc")).await).is_empty(),
        "upstream compares and finds nothing"
    );
    // protected: lower-case true/false only.
    assert_eq!(
        names(&s.get(&q("protected=true")).await),
        vec!["glass, darkly"]
    );
    assert_eq!(
        name_set(&s.get(&q("protected=false")).await),
        set(&["alpha", "beta", "a:b"])
    );
    assert_400(
        &s.get(&q("protected=True")).await,
        "Invalid value 'True' for 'protected' filter. Valid values are 'true' or 'false'.",
    );
    // os_hidden: hidden images are excluded by default; true returns only them.
    assert!(!names(&s.get("/v2/images").await).contains(&"share me".to_string()));
    assert_eq!(names(&s.get(&q("os_hidden=true")).await), vec!["share me"]);
    assert_eq!(names(&s.get(&q("os_hidden=True")).await), vec!["share me"]);
    assert_eq!(name_set(&s.get(&q("os_hidden=false")).await).len(), 4);
    assert_400(
        &s.get(&q("os_hidden=yes")).await,
        "Invalid value 'yes' for 'os_hidden' filter.",
    );
    // visibility values.
    assert_eq!(name_set(&s.get(&q("visibility=shared")).await).len(), 4);
    assert!(names(&s.get(&q("visibility=public")).await).is_empty());
    assert_eq!(name_set(&s.get(&q("visibility=all")).await).len(), 4);
    assert!(names(&s.get(&q("visibility=")).await).is_empty());
    assert_400(
        &s.get(&q("visibility=everyone")).await,
        "Invalid visibility value: everyone",
    );
    // Refused parameters.
    assert_400(
        &s.get(&q("changes-since=2020-01-01T00:00:00Z")).await,
        "The \"changes-since\" filter is no longer available on v2.",
    );
    assert_400(
        &s.get(&q("member_status=maybe")).await,
        "Invalid status: maybe",
    );
    for ms in ["accepted", "pending", "rejected", "all"] {
        assert_eq!(
            s.get(&q(&format!("member_status={ms}"))).await.status,
            StatusCode::OK
        );
    }
}

#[tokio::test]
async fn size_filters() {
    let s = common::server().await;
    for (name, len) in [("small", 10usize), ("big", 1000)] {
        let id = create(
            &s,
            json!({"name": name, "disk_format": "raw", "container_format": "bare"}),
        )
        .await;
        let r = s
            .put_data(&format!("/v2/images/{id}/file"), vec![7u8; len])
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    }
    create(&s, json!({"name": "empty"})).await;
    let q = |query: &str| format!("/v2/images?{query}");
    assert_eq!(
        name_set(&s.get(&q("size_min=10")).await),
        set(&["small", "big"])
    );
    assert_eq!(names(&s.get(&q("size_min=11")).await), vec!["big"]);
    assert_eq!(names(&s.get(&q("size_max=999")).await), vec!["small"]);
    assert_eq!(
        names(&s.get(&q("size_min=10&size_max=10")).await),
        vec!["small"]
    );
    assert!(names(&s.get(&q("size_max=-1")).await).is_empty());
    assert_eq!(names(&s.get(&q("size=1000")).await), vec!["big"]);
    assert_eq!(
        names(&s.get(&q("status=active&sort=size:asc")).await),
        vec!["small", "big"]
    );
    assert_400(
        &s.get(&q("size_min=abc")).await,
        "Unable to filter on a range with a non-numeric value.",
    );
    assert_400(
        &s.get(&q("size_max=1.5")).await,
        "Unable to filter on a range with a non-numeric value.",
    );
}

#[tokio::test]
async fn time_filters() {
    let s = common::server().await;
    create(&s, json!({"name": "old"})).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let new = s.create_image(json!({"name": "new"})).await;
    let t = new["created_at"].as_str().unwrap().to_string(); // whole seconds, "...Z"
    let q = |query: String| format!("/v2/images?{query}");
    for (field, expect) in [("created_at", vec!["new"]), ("updated_at", vec!["new"])] {
        assert_eq!(names(&s.get(&q(format!("{field}=gte:{t}"))).await), expect);
        assert_eq!(
            names(&s.get(&q(format!("{field}=lt:{t}"))).await),
            vec!["old"]
        );
    }
    let before = "2000-01-01T00:00:00Z";
    let after = "2100-01-01T00:00:00Z";
    assert_eq!(
        names(&s.get(&q(format!("created_at=gt:{before}"))).await).len(),
        2
    );
    assert_eq!(
        names(&s.get(&q(format!("created_at=lte:{after}"))).await).len(),
        2
    );
    assert!(names(&s.get(&q(format!("created_at=lt:{before}"))).await).is_empty());
    assert!(names(&s.get(&q(format!("created_at=gte:{after}"))).await).is_empty());
    assert_eq!(
        names(&s.get(&q(format!("created_at=neq:{before}"))).await).len(),
        2
    );
    assert!(names(&s.get(&q(format!("created_at=eq:{before}"))).await).is_empty());
    // A bare timestamp (with colons) means eq; offsets are honoured.
    assert!(names(&s.get(&q(format!("created_at={before}"))).await).is_empty());
    assert_eq!(
        names(
            &s.get(&q("created_at=gt:2099-12-31T23:00:00-02:00".into()))
                .await
        )
        .len(),
        0
    );
    assert_eq!(
        names(
            &s.get(&q("created_at=gt:2000-01-01T02:00:00%2B01:00".into()))
                .await
        )
        .len(),
        2
    );
    assert_400(
        &s.get(&q("created_at=gt:yesterday".into())).await,
        "Bad \"created_at\" query filter format. Use ISO 8601 DateTime notation.",
    );
    assert_400(
        &s.get(&q("updated_at=2020-13-45".into())).await,
        "Bad \"updated_at\" query filter format.",
    );
    assert_400(
        &s.get(&q(format!("created_at=between:{before}"))).await,
        "Unable to filter on a unknown operator.",
    );
}

#[tokio::test]
async fn killed_and_deleted_images_are_never_listed() {
    let s = common::server().await;
    let killed = create(&s, json!({"name": "killed"})).await;
    let deleted = create(&s, json!({"name": "deleted"})).await;
    create(&s, json!({"name": "alive"})).await;
    let change = StatusChange {
        from: ImageStatus::Queued,
        to: ImageStatus::Killed,
        columns: Vec::new(),
    };
    assert!(s
        .state
        .glance
        .db
        .change_status(&killed, &change)
        .await
        .unwrap());
    assert_eq!(
        s.delete(&format!("/v2/images/{deleted}")).await.status,
        StatusCode::NO_CONTENT
    );
    for query in ["", "?visibility=all", "?sort=name:asc"] {
        assert_eq!(
            names(&s.get(&format!("/v2/images{query}")).await),
            vec!["alive"],
            "{query}"
        );
    }
    for query in [
        "?status=killed",
        "?status=deleted",
        "?name=killed",
        "?name=deleted",
    ] {
        assert!(
            names(&s.get(&format!("/v2/images{query}")).await).is_empty(),
            "{query}"
        );
    }
    assert_eq!(
        names(&s.get("/v2/images?deleted=true").await),
        vec!["alive"],
        "deleted is not a filter"
    );
    // Show still returns a killed image.
    let r = s.get(&format!("/v2/images/{killed}")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["status"], "killed");
}
