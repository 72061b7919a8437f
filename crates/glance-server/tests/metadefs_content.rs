//! Metadata definitions API through the real router: the objects, properties,
//! tags and resource type associations of a namespace, with upstream's status
//! codes, bodies, and what the database holds afterwards.

mod common;

use axum::http::{Method, StatusCode};
use common::metadefs::{as_loaded, count, create_ns, put_json, NS};
use common::{assert_error, server};
use serde_json::json;

#[tokio::test]
async fn objects_crud() {
    let s = server().await;
    create_ns(&s, json!({"namespace": "ns"})).await;
    let base = format!("{NS}/ns/objects");
    let r = s
        .post_json(&base, json!({"name": "o1", "description": "first"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let o = r.json();
    assert_eq!(o["name"], "o1");
    assert_eq!(o["self"], "/v2/metadefs/namespaces/ns/objects/o1");
    assert_eq!(o["schema"], "/v2/schemas/metadefs/object");
    let r = s.post_json(&base, json!({"name": "o1"})).await;
    assert_error(
        &r,
        StatusCode::CONFLICT,
        "A metadata definition object with name=o1 already exists in namespace=ns.",
    );
    let r = s
        .post_json(&base, json!({"name": "x", "created_at": "now"}))
        .await;
    assert_error(
        &r,
        StatusCode::FORBIDDEN,
        "Attribute 'created_at' is read-only.",
    );
    let r = s.post_json(&base, json!({"description": "no name"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    let r = put_json(&s, &format!("{base}/o1"), json!({"name": "o2"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["name"], "o2");
    assert_eq!(r.json()["required"], json!([]));
    let shown = s.get(&format!("{base}/o2")).await;
    assert_eq!(shown.status, StatusCode::OK);
    let r = s.get(&format!("{base}/o1")).await;
    assert_error(
        &r,
        StatusCode::NOT_FOUND,
        "The metadata definition object with name=o1 was not found in namespace=ns.",
    );
    let list = s.get(&base).await.json();
    assert_eq!(list["schema"], "v2/schemas/metadefs/objects");
    assert_eq!(list["objects"].as_array().unwrap().len(), 1);
    let r = s.delete(&format!("{base}/o2")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(count(&s, "metadef_objects").await, 0);
    let r = s.get(&format!("{NS}/missing/objects")).await;
    assert_error(
        &r,
        StatusCode::NOT_FOUND,
        "Metadata definition namespace=missing was not found.",
    );
}

#[tokio::test]
async fn properties_crud() {
    let s = server().await;
    create_ns(&s, json!({"namespace": "ns"})).await;
    let base = format!("{NS}/ns/properties");
    let body = json!({"name": "hypervisor", "title": "H", "type": "string",
                      "enum": ["kvm", "qemu"]});
    let r = s.post_json(&base, body.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(
        r.json(),
        json!({"enum": ["kvm", "qemu"], "name": "hypervisor", "title": "H", "type": "string"})
    );
    let r = s.post_json(&base, body).await;
    assert_error(
        &r,
        StatusCode::CONFLICT,
        "A metadata definition property with name=hypervisor already exists in namespace=ns.",
    );
    let r = s
        .post_json(&base, json!({"name": "x", "title": "X", "type": "nope"}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    let r = put_json(
        &s,
        &format!("{base}/hypervisor"),
        json!({"name": "hypervisor", "title": "New", "type": "string"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["title"], "New");
    assert!(r.json().get("enum").is_none());
    let r = s.get(&format!("{base}/hypervisor")).await;
    assert_eq!(r.json()["title"], "New");
    let all = s.get(&base).await.json();
    assert_eq!(all["properties"]["hypervisor"]["title"], "New");

    // Lookup through a resource type prefix.
    let r = s
        .post_json(
            &format!("{NS}/ns/resource_types"),
            json!({"name": "OS::Glance::Image", "prefix": "hw_"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = s
        .get(&format!(
            "{base}/hw_hypervisor?resource_type=OS::Glance::Image"
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["name"], "hypervisor");
    let r = s
        .get(&format!(
            "{base}/hypervisor?resource_type=OS::Glance::Image"
        ))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    let r = s.delete(&format!("{base}/hypervisor")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = s.get(&format!("{base}/hypervisor")).await;
    assert_error(
        &r,
        StatusCode::NOT_FOUND,
        "The metadata definition property with name=hypervisor was not found in namespace=ns.",
    );
    assert_eq!(count(&s, "metadef_properties").await, 0);
}

#[tokio::test]
async fn tags_crud() {
    let s = server().await;
    create_ns(&s, json!({"namespace": "ns", "tags": [{"name": "old"}]})).await;
    let base = format!("{NS}/ns/tags");
    let r = s
        .post_json(&base, json!({"tags": [{"name": "a"}, {"name": "b"}]}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json(), json!({"tags": [{"name": "a"}, {"name": "b"}]}));
    // Replaced, not appended.
    assert_eq!(count(&s, "metadef_tags").await, 2);
    let r = s
        .request(
            Method::POST,
            &base,
            &[
                ("x-openstack-append", "true"),
                ("accept", "application/json"),
            ],
            json!({"tags": [{"name": "c"}]}).to_string(),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(count(&s, "metadef_tags").await, 3);
    let r = s
        .post_json(&base, json!({"tags": [{"name": "d"}, {"name": "d"}]}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(count(&s, "metadef_tags").await, 3);

    let r = s
        .request(
            Method::POST,
            &format!("{base}/e"),
            &[("content-length", "2"), ("accept", "application/json")],
            "{}",
        )
        .await;
    assert_error(
        &r,
        StatusCode::BAD_REQUEST,
        "A body is not expected with this request.",
    );
    let r = s
        .request(
            Method::POST,
            &format!("{base}/e"),
            &[],
            axum::body::Body::empty(),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["name"], "e");
    let r = s
        .request(
            Method::POST,
            &format!("{base}/e"),
            &[("accept", "application/json")],
            axum::body::Body::empty(),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);

    let r = put_json(&s, &format!("{base}/e"), json!({"name": "f"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["name"], "f");
    assert_eq!(s.get(&format!("{base}/f")).await.json()["name"], "f");
    let r = s.get(&format!("{base}/e")).await;
    assert_error(
        &r,
        StatusCode::NOT_FOUND,
        "The metadata definition tag with name=e was not found in namespace=ns.",
    );
    let list = s
        .get(&format!("{base}?sort_key=name&sort_dir=asc"))
        .await
        .json();
    assert_eq!(
        list,
        json!({"tags": [{"name": "a"}, {"name": "b"}, {"name": "c"}, {"name": "f"}]})
    );
    let r = s.delete(&format!("{base}/f")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = s.delete(&base).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(s.get(&base).await.json(), json!({"tags": []}));
    assert_eq!(count(&s, "metadef_tags").await, 0);
}

/// Objects and tags the loader wrote have no `updated_at`: upstream leaves the key out
/// until an update that changes something sets it. (Properties show no timestamps.)
#[tokio::test]
async fn loaded_content_shows_no_updated_at() {
    let s = server().await;
    create_ns(
        &s,
        json!({"namespace": "ns", "objects": [{"name": "o", "description": "d"}],
               "tags": [{"name": "t"}, {"name": "u"}]}),
    )
    .await;
    as_loaded(&s).await;
    let object = s.get(&format!("{NS}/ns/objects/o")).await.json();
    assert!(object["created_at"].is_string(), "{object}");
    assert!(object.get("updated_at").is_none(), "{object}");
    let objects = s.get(&format!("{NS}/ns/objects")).await.json();
    assert!(
        objects["objects"][0].get("updated_at").is_none(),
        "{objects}"
    );
    let tag = s.get(&format!("{NS}/ns/tags/t")).await.json();
    assert!(tag["created_at"].is_string(), "{tag}");
    assert!(tag.get("updated_at").is_none(), "{tag}");

    // Paging by updated_at past NULL values still reaches every tag.
    let page = s
        .get(&format!(
            "{NS}/ns/tags?sort_key=updated_at&limit=1&marker=u"
        ))
        .await
        .json();
    assert_eq!(page, json!({"tags": [{"name": "t"}]}));

    // The same name again changes nothing, so nothing is written.
    let r = put_json(&s, &format!("{NS}/ns/tags/t"), json!({"name": "t"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let tag = s.get(&format!("{NS}/ns/tags/t")).await.json();
    assert!(tag.get("updated_at").is_none(), "{tag}");

    // Updates set it; the answer, as upstream's, keeps the value read before them.
    let r = put_json(&s, &format!("{NS}/ns/tags/t"), json!({"name": "t2"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.json().get("updated_at").is_none(), "{}", r.text());
    let tag = s.get(&format!("{NS}/ns/tags/t2")).await.json();
    assert!(tag["updated_at"].is_string(), "{tag}");
    let body = json!({"name": "o", "description": "changed"});
    let r = put_json(&s, &format!("{NS}/ns/objects/o"), body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["description"], "changed");
    assert!(r.json().get("updated_at").is_none(), "{}", r.text());
    let object = s.get(&format!("{NS}/ns/objects/o")).await.json();
    assert!(object["updated_at"].is_string(), "{object}");
    let shown = s.get(&format!("{NS}/ns")).await.json();
    assert!(shown["objects"][0]["updated_at"].is_string(), "{shown}");
}

#[tokio::test]
async fn resource_type_associations() {
    let s = server().await;
    create_ns(&s, json!({"namespace": "ns"})).await;
    let base = format!("{NS}/ns/resource_types");
    let r = s
        .post_json(&base, json!({"name": "OS::Nova::Flavor", "prefix": "hw:"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["name"], "OS::Nova::Flavor");
    assert_eq!(r.json()["prefix"], "hw:");
    let r = s
        .post_json(&base, json!({"name": "OS::Nova::Flavor"}))
        .await;
    assert_error(
        &r,
        StatusCode::CONFLICT,
        "The metadata definition resource-type association of resource-type=OS::Nova::Flavor \
         to namespace=ns already exists.",
    );
    // An unknown resource type is created on first use.
    let r = s.post_json(&base, json!({"name": "Custom::Type"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let types = s.get("/v2/metadefs/resource_types").await.json();
    assert!(types.to_string().contains("Custom::Type"));
    let list = s.get(&base).await.json();
    assert_eq!(
        list["resource_type_associations"].as_array().unwrap().len(),
        2
    );
    let r = s.delete(&format!("{base}/OS::Nova::Flavor")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = s.delete(&format!("{base}/OS::Nova::Flavor")).await;
    assert_error(
        &r,
        StatusCode::NOT_FOUND,
        "Failed to find resource type OS::Nova::Flavor to delete",
    );
    assert_eq!(count(&s, "metadef_namespace_resource_types").await, 1);
}

#[tokio::test]
async fn tag_list_parameters_are_checked_as_upstream() {
    let s = server().await;
    create_ns(&s, json!({"namespace": "ns", "tags": [{"name": "a"}]})).await;
    let list = |q: &'static str| {
        let s = &s;
        async move { s.get(&format!("{NS}/ns/tags{q}")).await }
    };
    // An empty limit counts as absent (upstream's `if limit:`).
    let r = list("?limit=").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["tags"].as_array().unwrap().len(), 1);
    assert_error(
        &list("?limit=x").await,
        StatusCode::BAD_REQUEST,
        "limit param must be an integer",
    );
    assert_error(
        &list("?visibility=bogus").await,
        StatusCode::BAD_REQUEST,
        "Invalid visibility value: bogus",
    );
    assert_eq!(list("?visibility=public").await.status, StatusCode::OK);
}
