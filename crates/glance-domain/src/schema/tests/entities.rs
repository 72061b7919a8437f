//! Member, task and metadef documents, and serving.

use serde_json::{json, Value};

use super::super::*;
use super::{build_default, keys, shape};

#[test]
fn member_documents_are_minimal() {
    let s = build_default();
    let member = s.member();
    assert_eq!(keys(member), ["name", "properties"]);
    assert_eq!(member["name"], "member");
    assert_eq!(
        keys(&member["properties"]),
        [
            "member_id",
            "image_id",
            "created_at",
            "updated_at",
            "status",
            "schema"
        ]
    );
    assert_eq!(
        shape(&member["properties"]["status"]),
        json!({"type": "string", "enum": ["pending", "accepted", "rejected"]})
    );
    assert_eq!(
        shape(&member["properties"]["image_id"]),
        json!({"type": "string", "pattern": image::UUID_PATTERN})
    );
    assert_eq!(
        member["properties"]["schema"],
        json!({"readOnly": true, "type": "string"})
    );

    let members = s.members();
    assert_eq!(keys(members), ["name", "properties", "links"]);
    assert_eq!(keys(&members["properties"]), ["members", "schema"]);
    assert_eq!(
        members["properties"]["members"],
        json!({"type": "array", "items": member})
    );
    assert_eq!(
        members["links"],
        json!([{"rel": "describedby", "href": "{schema}"}])
    );
}

#[test]
fn task_documents_are_minimal_and_the_list_hides_bulky_members() {
    let s = build_default();
    let task = s.task();
    assert_eq!(keys(task), ["name", "properties"]);
    assert_eq!(
        keys(&task["properties"]),
        [
            "id",
            "type",
            "status",
            "input",
            "result",
            "owner",
            "message",
            "image_id",
            "request_id",
            "user_id",
            "expires_at",
            "created_at",
            "updated_at",
            "self",
            "schema"
        ]
    );
    assert_eq!(
        keys(&task["properties"]["id"]),
        ["description", "pattern", "type"]
    );
    assert_eq!(
        task["properties"]["type"]["enum"],
        json!(["import", "api_image_import", "location_import"])
    );
    assert_eq!(
        task["properties"]["status"]["enum"],
        json!(["pending", "processing", "success", "failure"])
    );
    assert_eq!(
        task["properties"]["input"]["type"],
        json!(["null", "object"])
    );
    assert_eq!(
        task["properties"]["expires_at"]["type"],
        json!(["null", "string"])
    );

    let tasks = s.tasks();
    assert_eq!(keys(tasks), ["name", "properties", "links"]);
    assert_eq!(keys(&tasks["properties"]), ["tasks", "schema"]);
    let item = &tasks["properties"]["tasks"]["items"];
    assert_eq!(item["name"], "task");
    assert_eq!(
        keys(&item["properties"]),
        [
            "id",
            "type",
            "status",
            "owner",
            "image_id",
            "request_id",
            "user_id",
            "expires_at",
            "created_at",
            "updated_at",
            "self",
            "schema"
        ]
    );
    assert_eq!(
        tasks["links"],
        json!([{"rel": "describedby", "href": "{schema}"}])
    );
}

#[test]
fn metadef_documents() {
    let s = build_default();
    for name in METADEF_SCHEMA_NAMES {
        let doc = s.metadef(name).unwrap_or_else(|| panic!("{name}"));
        assert_eq!(s.get(&format!("metadefs/{name}")), Some(doc));
    }
    assert!(s.metadef("bogus").is_none());
    let name_of = |n: &str| s.metadef(n).unwrap()["name"].as_str().unwrap().to_string();
    assert_eq!(name_of("resource_type"), "resource_type_association");
    assert_eq!(name_of("resource_types"), "resource_type_associations");
    assert_eq!(name_of("properties"), "properties");

    let ns = s.metadef("namespace").unwrap();
    assert_eq!(
        keys(ns),
        [
            "name",
            "properties",
            "additionalProperties",
            "definitions",
            "required"
        ]
    );
    assert_eq!(ns["additionalProperties"], false);
    assert_eq!(ns["required"], json!(["namespace"]));
    assert_eq!(
        keys(&ns["definitions"]),
        [
            "positiveInteger",
            "positiveIntegerDefault0",
            "stringArray",
            "property"
        ]
    );
    assert!(ns["definitions"]["stringArray"].get("minItems").is_none());
    assert_eq!(
        ns["properties"]["properties"],
        json!({"$ref": "#/definitions/property"})
    );
    assert_eq!(
        ns["definitions"]["property"]["additionalProperties"]["required"],
        json!(["title", "type"])
    );

    let nss = s.metadef("namespaces").unwrap();
    assert_eq!(keys(nss), ["name", "properties", "links", "definitions"]);
    let item = &nss["properties"]["namespaces"]["items"];
    assert_eq!(
        keys(item),
        ["name", "properties", "additionalProperties", "required"]
    );

    let prop = s.metadef("property").unwrap();
    assert_eq!(prop["required"], json!(["type", "title", "name"]));
    assert_eq!(prop["definitions"]["stringArray"]["minItems"], 1);
    assert_eq!(
        prop["properties"]["type"]["enum"],
        json!(["array", "boolean", "integer", "number", "object", "string", null])
    );
    let props_doc = s.metadef("properties").unwrap();
    assert_eq!(props_doc["properties"]["properties"]["type"], "object");
    let item = &props_doc["properties"]["properties"]["additionalProperties"];
    assert_eq!(item["required"], json!(["type", "title"]));
    assert_eq!(
        keys(props_doc),
        ["name", "properties", "links", "definitions"]
    );

    let obj = s.metadef("object").unwrap();
    assert_eq!(obj["required"], json!(["name"]));
    assert_eq!(
        keys(&obj["properties"]),
        [
            "name",
            "description",
            "required",
            "properties",
            "schema",
            "self",
            "created_at",
            "updated_at"
        ]
    );
    assert_eq!(obj["properties"]["created_at"]["format"], "date-time");

    let tag = s.metadef("tag").unwrap();
    assert_eq!(
        keys(tag),
        ["name", "properties", "additionalProperties", "required"]
    );
    let tags = s.metadef("tags").unwrap();
    assert_eq!(keys(tags), ["name", "properties", "links"]);
    assert_eq!(
        keys(&tags["properties"]),
        ["tags", "first", "next", "schema"]
    );

    let rt = s.metadef("resource_type").unwrap();
    assert_eq!(
        keys(&rt["properties"]),
        [
            "name",
            "prefix",
            "properties_target",
            "created_at",
            "updated_at"
        ]
    );
    assert_eq!(rt["properties"]["prefix"]["maxLength"], 80);
}

#[test]
fn serialized_documents_match_values() {
    let s = build_default();
    for path in [
        "image",
        "images",
        "member",
        "members",
        "task",
        "tasks",
        "metadefs/namespace",
        "metadefs/tags",
    ] {
        let text = s.get_json(path).unwrap_or_else(|| panic!("{path}"));
        let parsed: Value = serde_json::from_str(text).unwrap();
        assert_eq!(&parsed, s.get(path).unwrap());
        assert_eq!(
            keys(&parsed),
            keys(s.get(path).unwrap()),
            "{path} keeps key order"
        );
    }
    assert!(s.get("bogus").is_none());
    assert!(s.get_json("metadefs/bogus").is_none());
    assert!(s.get("metadefs/").is_none());
}

#[test]
fn schemas_are_cheap_to_share() {
    fn shareable<T: Clone + Send + Sync + 'static>() {}
    shareable::<Schemas>();
    let s = build_default();
    let t = s.clone();
    assert!(std::ptr::eq(s.image(), t.image()));
}
