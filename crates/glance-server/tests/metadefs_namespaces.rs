//! Metadata definitions API through the real router: namespaces (create with
//! their content, show, list, replace, delete), resource types, access rules and
//! routing, with upstream's status codes, bodies, and what the database holds
//! afterwards.

mod common;

use axum::http::{Method, StatusCode};
use common::metadefs::{as_loaded, count, create_ns, namespace_names, put_json, NS};
use common::{assert_error, server, server_with, Caller, TRUSTED};
use serde_json::json;

#[tokio::test]
async fn resource_types_are_seeded() {
    let s = server().await;
    let r = s.get("/v2/metadefs/resource_types").await;
    assert_eq!(r.status, StatusCode::OK);
    let names: Vec<String> = r.json()["resource_types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect();
    assert!(
        names.contains(&"OS::Glance::Image".to_string()),
        "{names:?}"
    );
    assert!(names.contains(&"OS::Nova::Server".to_string()), "{names:?}");
}

#[tokio::test]
async fn namespace_lifecycle() {
    let s = server().await;
    let created = create_ns(
        &s,
        json!({"namespace": "OS::Test", "display_name": "Test", "description": "d",
               "visibility": "public", "protected": true, "owner": "p1",
               "resource_type_associations": [{"name": "OS::Glance::Image", "prefix": "hw_"}],
               "properties": {"cpu": {"title": "CPU", "type": "integer", "minimum": 1}},
               "objects": [{"name": "obj", "required": ["a"],
                            "properties": {"a": {"title": "A", "type": "string"}}}],
               "tags": [{"name": "t1"}, {"name": "t2"}]}),
    )
    .await;
    assert_eq!(created["namespace"], "OS::Test");
    assert_eq!(created["self"], "/v2/metadefs/namespaces/OS::Test");
    assert_eq!(created["schema"], "/v2/schemas/metadefs/namespace");
    assert_eq!(created["owner"], "p1");
    assert_eq!(created["tags"], json!([{"name": "t1"}, {"name": "t2"}]));
    assert_eq!(count(&s, "metadef_objects").await, 1);
    assert_eq!(count(&s, "metadef_properties").await, 1);
    assert_eq!(count(&s, "metadef_tags").await, 2);
    assert_eq!(count(&s, "metadef_namespace_resource_types").await, 1);

    // Duplicate name.
    let r = s.post_json(NS, json!({"namespace": "OS::Test"})).await;
    assert_error(
        &r,
        StatusCode::CONFLICT,
        "The metadata definition namespace=OS::Test already exists.",
    );

    let shown = s.get(&format!("{NS}/OS::Test")).await.json();
    assert_eq!(shown["visibility"], "public");
    assert_eq!(shown["protected"], true);
    assert_eq!(shown["properties"]["cpu"]["minimum"], 1);
    assert_eq!(shown["objects"][0]["name"], "obj");
    assert_eq!(shown["objects"][0]["required"], json!(["a"]));
    assert_eq!(
        shown["objects"][0]["self"],
        "/v2/metadefs/namespaces/OS::Test/objects/obj"
    );
    assert_eq!(shown["resource_type_associations"][0]["prefix"], "hw_");
    // The association's prefix applied to property names.
    let prefixed = s
        .get(&format!("{NS}/OS::Test?resource_type=OS::Glance::Image"))
        .await
        .json();
    assert!(prefixed["properties"]["hw_cpu"].is_object(), "{prefixed}");
    assert_eq!(prefixed["objects"][0]["required"], json!(["hw_a"]));

    let list = s.get(NS).await.json();
    assert_eq!(list["first"], "/v2/metadefs/namespaces");
    assert_eq!(list["schema"], "/v2/schemas/metadefs/namespaces");
    assert_eq!(list["namespaces"][0]["namespace"], "OS::Test");

    // Protected: refused, nothing removed.
    let r = s.delete(&format!("{NS}/OS::Test")).await;
    assert_error(
        &r,
        StatusCode::FORBIDDEN,
        "Metadata definition namespace OS::Test is protected and cannot be deleted.",
    );
    let r = s.delete(&format!("{NS}/OS::Test/objects")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(count(&s, "metadef_objects").await, 1);

    // Replacement: omitted attributes reset to defaults.
    let r = put_json(
        &s,
        &format!("{NS}/OS::Test"),
        json!({"namespace": "OS::Test", "owner": "p1"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let updated = r.json();
    assert_eq!(updated["visibility"], "private");
    assert_eq!(updated["protected"], false);
    assert!(updated.get("display_name").is_none(), "{updated}");

    let r = s.delete(&format!("{NS}/OS::Test")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    for table in [
        "metadef_namespaces",
        "metadef_objects",
        "metadef_properties",
        "metadef_tags",
        "metadef_namespace_resource_types",
    ] {
        assert_eq!(count(&s, table).await, 0, "{table}");
    }
    let r = s.get(&format!("{NS}/OS::Test")).await;
    assert_error(
        &r,
        StatusCode::NOT_FOUND,
        "Metadata definition namespace=OS::Test was not found.",
    );
    let r = s.delete(&format!("{NS}/OS::Test")).await;
    assert_error(&r, StatusCode::NOT_FOUND, "Namespace OS::Test not found");
}

#[tokio::test]
async fn list_paging_and_parameters() {
    let s = server().await;
    for n in ["a", "b", "c"] {
        create_ns(&s, json!({"namespace": n, "visibility": "public"})).await;
    }
    let r = s
        .get(&format!("{NS}?limit=2&sort_key=namespace&sort_dir=asc"))
        .await;
    let page = r.json();
    assert_eq!(namespace_names(&page), ["a", "b"]);
    let next = page["next"].as_str().unwrap().to_string();
    assert!(next.contains("marker=b"), "{next}");
    assert_eq!(namespace_names(&s.get(&next).await.json()), ["c"]);
    let r = s.get(&format!("{NS}?sort_dir=up")).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "Invalid sort direction: up");
    let r = s.get(&format!("{NS}?visibility=shared")).await;
    assert_error(
        &r,
        StatusCode::BAD_REQUEST,
        "Invalid visibility value: shared",
    );
    let r = s.get(&format!("{NS}?limit=-1")).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "limit param must be positive");
}

/// Rows the loader wrote have no `updated_at`, and upstream leaves the key out of
/// every document until an update that changes something sets it.
#[tokio::test]
async fn loaded_rows_show_no_updated_at() {
    let s = server().await;
    let body = json!({"namespace": "OS::Loaded", "display_name": "Loaded",
                      "visibility": "public",
                      "resource_type_associations": [{"name": "OS::Glance::Image"}],
                      "properties": {"p": {"title": "P", "type": "string"}},
                      "objects": [{"name": "o", "properties": {}}],
                      "tags": [{"name": "t"}]});
    let created = create_ns(&s, body).await;
    assert!(created["updated_at"].is_string(), "{created}");
    as_loaded(&s).await;
    let shown = s.get(&format!("{NS}/OS::Loaded")).await.json();
    assert!(shown["created_at"].is_string(), "{shown}");
    assert!(shown.get("updated_at").is_none(), "{shown}");
    assert!(shown["objects"][0].get("updated_at").is_none(), "{shown}");
    let association = &shown["resource_type_associations"][0];
    assert!(association["created_at"].is_string(), "{shown}");
    assert!(association.get("updated_at").is_none(), "{shown}");
    let listed = s.get(NS).await.json();
    let entry = &listed["namespaces"][0];
    assert!(entry.get("updated_at").is_none(), "{listed}");
    assert!(
        entry["resource_type_associations"][0]
            .get("updated_at")
            .is_none(),
        "{listed}"
    );
    let r = s.get(&format!("{NS}/OS::Loaded/resource_types")).await;
    let associations = r.json();
    assert!(
        associations["resource_type_associations"][0]
            .get("updated_at")
            .is_none(),
        "{associations}"
    );
    let types = s.get("/v2/metadefs/resource_types").await.json();
    for t in types["resource_types"].as_array().unwrap() {
        assert!(t["created_at"].is_string(), "{types}");
        assert!(t.get("updated_at").is_none(), "{types}");
    }

    // Nothing changed: nothing written, so still none.
    let same = json!({"namespace": "OS::Loaded", "display_name": "Loaded",
                      "visibility": "public", "owner": shown["owner"]});
    let r = put_json(&s, &format!("{NS}/OS::Loaded"), same).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let shown = s.get(&format!("{NS}/OS::Loaded")).await.json();
    assert!(shown.get("updated_at").is_none(), "{shown}");

    // An update sets it. The answer, as upstream's, is the namespace as read before
    // the update with the new values applied: still without it.
    let changed = json!({"namespace": "OS::Loaded", "display_name": "Changed",
                         "visibility": "public"});
    let r = put_json(&s, &format!("{NS}/OS::Loaded"), changed).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let answer = r.json();
    assert_eq!(answer["display_name"], "Changed");
    assert!(answer.get("updated_at").is_none(), "{answer}");
    let shown = s.get(&format!("{NS}/OS::Loaded")).await.json();
    assert!(shown["updated_at"].is_string(), "{shown}");
    let listed = s.get(NS).await.json();
    assert!(
        listed["namespaces"][0]["updated_at"].is_string(),
        "{listed}"
    );
}

/// Paging by `updated_at` past loaded rows: a NULL marker value is left out of the
/// page condition (oslo.db's rule), so the pages still cover every namespace.
#[tokio::test]
async fn list_pages_past_null_updated_at() {
    let s = server().await;
    for n in ["a", "b", "c"] {
        create_ns(&s, json!({"namespace": n, "visibility": "public"})).await;
    }
    as_loaded(&s).await;
    let first = s
        .get(&format!("{NS}?limit=2&sort_key=updated_at&sort_dir=asc"))
        .await
        .json();
    assert_eq!(namespace_names(&first), ["a", "b"]);
    let next = first["next"].as_str().unwrap().to_string();
    assert_eq!(namespace_names(&s.get(&next).await.json()), ["c"]);
}

#[tokio::test]
async fn created_namespace_echoes_the_parts_given() {
    let s = server().await;
    let created = create_ns(&s, json!({"namespace": "ns", "tags": [], "objects": []})).await;
    assert_eq!(created["tags"], json!([]));
    assert_eq!(created["objects"], json!([]));
    assert!(created.get("properties").is_none(), "{created}");
    let shown = s.get(&format!("{NS}/ns")).await.json();
    for part in [
        "tags",
        "objects",
        "properties",
        "resource_type_associations",
    ] {
        assert!(shown.get(part).is_none(), "{part} in {shown}");
    }
    assert_eq!(shown["visibility"], "private");
    assert_eq!(shown["protected"], false);
}

#[tokio::test]
async fn access_rules() {
    let s = server_with(TRUSTED).await;
    let admin = Caller::new(&s, "admin-project", "admin,member,reader");
    let p1 = Caller::new(&s, "p1", "member,reader");
    let p2 = Caller::new(&s, "p2", "member,reader");
    for (name, visibility) in [("private-p1", "private"), ("public-p1", "public")] {
        let r = admin
            .json(
                Method::POST,
                NS,
                json!({"namespace": name, "visibility": visibility, "owner": "p1"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    }
    let r = admin
        .json(
            Method::POST,
            &format!("{NS}/private-p1/objects"),
            json!({"name": "o"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);

    // Writes need admin.
    let r = p1
        .json(Method::POST, NS, json!({"namespace": "mine"}))
        .await;
    assert_error(
        &r,
        StatusCode::FORBIDDEN,
        "You are not authorized to complete add_metadef_namespace action.",
    );
    let r = p1.delete(&format!("{NS}/private-p1")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    let r = p1
        .json(
            Method::POST,
            &format!("{NS}/public-p1/tags"),
            json!({"tags": []}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());

    // The owner reads its private namespace; another project does not see it.
    assert_eq!(
        p1.get(&format!("{NS}/private-p1")).await.status,
        StatusCode::OK
    );
    let r = p2.get(&format!("{NS}/private-p1")).await;
    assert_error(
        &r,
        StatusCode::NOT_FOUND,
        "The resource could not be found.",
    );
    let r = p2.get(&format!("{NS}/private-p1/objects")).await;
    assert_error(&r, StatusCode::NOT_FOUND, "Namespace private-p1 not found");
    let r = p2.delete(&format!("{NS}/private-p1")).await;
    assert_error(&r, StatusCode::NOT_FOUND, "Namespace private-p1 not found");
    assert_eq!(
        p2.get(&format!("{NS}/public-p1")).await.status,
        StatusCode::OK
    );
    assert_eq!(namespace_names(&p2.get(NS).await.json()), ["public-p1"]);
    assert_eq!(namespace_names(&p1.get(NS).await.json()).len(), 2);
    assert_eq!(count(&s, "metadef_namespaces").await, 2);
    assert_eq!(count(&s, "metadef_objects").await, 1);
}

#[tokio::test]
async fn routing() {
    let s = server().await;
    let r = s
        .request(
            Method::PATCH,
            &format!("{NS}/x/tags/t"),
            &[("accept", "application/json")],
            axum::body::Body::empty(),
        )
        .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.header("allow"), Some("GET, POST, PUT, DELETE"));
    let r = s
        .request(
            Method::HEAD,
            NS,
            &[("accept", "application/json")],
            axum::body::Body::empty(),
        )
        .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
}
