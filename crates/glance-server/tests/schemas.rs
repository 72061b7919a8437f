//! `/v2/schemas/*` (spec §12): what python-glanceclient reads to validate locally.

mod common;

use axum::body::Body;
use axum::http::{Method, StatusCode};
use common::TestServer;
use serde_json::{json, Value};

const UUID_PATTERN: &str =
    "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$";

/// Like `common::server_with`, plus a config directory holding `schema-image.json`.
async fn server_with_schema_file(doc: &Value) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("etc");
    std::fs::create_dir_all(&conf).unwrap();
    std::fs::write(conf.join("schema-image.json"), doc.to_string()).unwrap();
    common::server_in("", dir, |settings| settings.config_dirs = vec![conf]).await
}

async fn schema(s: &TestServer, path: &str) -> Value {
    let r = s.get(&format!("/v2/schemas/{path}")).await;
    assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text());
    assert_eq!(r.header("content-type"), Some("application/json"));
    r.json()
}

#[tokio::test]
async fn image_schema_has_base_and_default_extra_properties() {
    let s = common::server().await;
    let doc = schema(&s, "image").await;
    assert_eq!(doc["name"], "image");
    assert_eq!(doc["additionalProperties"], json!({"type": "string"}));
    assert_eq!(
        doc["links"],
        json!([{"rel": "self", "href": "{self}"}, {"rel": "enclosure", "href": "{file}"},
               {"rel": "describedby", "href": "{schema}"}])
    );
    assert!(doc.get("required").is_none());
    let props = doc["properties"].as_object().unwrap();
    for base in [
        "id",
        "name",
        "status",
        "visibility",
        "protected",
        "os_hidden",
        "checksum",
        "os_hash_algo",
        "os_hash_value",
        "owner",
        "size",
        "virtual_size",
        "container_format",
        "disk_format",
        "created_at",
        "updated_at",
        "tags",
        "direct_url",
        "min_ram",
        "min_disk",
        "self",
        "file",
        "stores",
        "schema",
        "locations",
    ] {
        assert!(props.contains_key(base), "missing {base}");
        assert!(
            props[base].get("is_base").is_none(),
            "{base} must not carry is_base"
        );
    }
    assert_eq!(props["id"]["pattern"], UUID_PATTERN);
    assert_eq!(props["status"]["readOnly"], true);
    assert_eq!(
        props["tags"]["items"],
        json!({"type": "string", "maxLength": 255})
    );
    assert_eq!(
        props["disk_format"]["enum"],
        json!([
            null, "ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop"
        ])
    );
    assert_eq!(
        props["container_format"]["enum"],
        json!([
            null,
            "ami",
            "ari",
            "aki",
            "bare",
            "ovf",
            "ova",
            "docker",
            "compressed"
        ])
    );
    for extra in [
        "kernel_id",
        "ramdisk_id",
        "instance_uuid",
        "architecture",
        "os_distro",
        "os_version",
        "description",
        "cinder_encryption_key_id",
        "cinder_encryption_key_deletion_policy",
    ] {
        assert_eq!(props[extra]["is_base"], false, "{extra}");
    }
    assert_eq!(props["kernel_id"]["type"], json!(["null", "string"]));
    assert_eq!(props["kernel_id"]["pattern"], UUID_PATTERN);
    assert_eq!(
        props["cinder_encryption_key_deletion_policy"]["enum"],
        json!(["on_image_deletion", "do_not_delete"])
    );
    // The served schema is what create validates against.
    let r = s
        .post_json("/v2/images", json!({"kernel_id": "not-a-uuid"}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
}

#[tokio::test]
async fn disk_formats_follow_the_config() {
    let s =
        common::server_with("[image_format]\ndisk_formats = raw,qcow2\ncontainer_formats = bare\n")
            .await;
    let doc = schema(&s, "image").await;
    assert_eq!(
        doc["properties"]["disk_format"]["enum"],
        json!([null, "raw", "qcow2"])
    );
    assert_eq!(
        doc["properties"]["container_format"]["enum"],
        json!([null, "bare"])
    );
    let r = s
        .post_json("/v2/images", json!({"disk_format": "vmdk"}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let images = schema(&s, "images").await;
    assert_eq!(
        images["properties"]["images"]["items"]["properties"]["disk_format"]["enum"],
        json!([null, "raw", "qcow2"])
    );
}

#[tokio::test]
async fn operator_schema_file_replaces_the_extras() {
    let s = server_with_schema_file(&json!({
        "hypervisor": {"type": "string", "enum": ["kvm", "xen"], "description": "Hypervisor"},
    }))
    .await;
    let doc = schema(&s, "image").await;
    let props = doc["properties"].as_object().unwrap();
    assert_eq!(props["hypervisor"]["is_base"], false);
    assert_eq!(props["hypervisor"]["enum"], json!(["kvm", "xen"]));
    assert!(
        !props.contains_key("kernel_id"),
        "operator file replaces the default extras"
    );
    assert!(props.contains_key("disk_format"));
    // Create follows it: kernel_id is now a plain extra string, hypervisor is checked.
    assert_eq!(
        s.post_json("/v2/images", json!({"kernel_id": "anything"}))
            .await
            .status,
        StatusCode::CREATED
    );
    assert_eq!(
        s.post_json("/v2/images", json!({"hypervisor": "hyperv"}))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );

    let s = server_with_schema_file(
        &json!({"properties": {"flavor_hint": {"type": "string"}}, "required": ["flavor_hint"]}),
    )
    .await;
    let doc = schema(&s, "image").await;
    assert_eq!(doc["required"], json!(["flavor_hint"]));
    assert_eq!(doc["properties"]["flavor_hint"]["is_base"], false);
}

#[tokio::test]
async fn collection_member_and_task_schemas() {
    let s = common::server().await;
    let images = schema(&s, "images").await;
    assert_eq!(images["name"], "images");
    assert_eq!(images["properties"]["images"]["type"], "array");
    assert_eq!(images["properties"]["images"]["items"]["name"], "image");
    assert_eq!(
        images["links"],
        json!([{"rel": "first", "href": "{first}"}, {"rel": "next", "href": "{next}"},
               {"rel": "describedby", "href": "{schema}"}])
    );
    let member = schema(&s, "member").await;
    assert_eq!(member["name"], "member");
    assert_eq!(
        member["properties"]["status"]["enum"],
        json!(["pending", "accepted", "rejected"])
    );
    assert!(member.get("additionalProperties").is_none() && member.get("links").is_none());
    let members = schema(&s, "members").await;
    assert_eq!(members["properties"]["members"]["items"]["name"], "member");
    assert_eq!(
        members["links"],
        json!([{"rel": "describedby", "href": "{schema}"}])
    );
    let task = schema(&s, "task").await;
    assert_eq!(task["name"], "task");
    assert_eq!(
        task["properties"]["status"]["enum"],
        json!(["pending", "processing", "success", "failure"])
    );
    let tasks = schema(&s, "tasks").await;
    let item = tasks["properties"]["tasks"]["items"]["properties"]
        .as_object()
        .unwrap();
    assert!(
        !item.contains_key("input")
            && !item.contains_key("result")
            && !item.contains_key("message")
    );
}

#[tokio::test]
async fn metadef_schemas() {
    let s = common::server().await;
    for name in [
        "namespace",
        "namespaces",
        "resource_type",
        "resource_types",
        "property",
        "properties",
        "object",
        "objects",
        "tag",
        "tags",
    ] {
        let doc = schema(&s, &format!("metadefs/{name}")).await;
        assert!(doc["name"].is_string(), "{name}: {doc}");
    }
    let r = s.get("/v2/schemas/metadefs/nope").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        r.json()["message"],
        "The resource could not be found.<br /><br />\n\n\n"
    );
    assert_eq!(
        s.get("/v2/schemas/nope").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn schemas_are_get_only_and_refuse_bodies() {
    let s = common::server().await;
    for path in [
        "image",
        "images",
        "member",
        "members",
        "task",
        "tasks",
        "metadefs/namespace",
    ] {
        let uri = format!("/v2/schemas/{path}");
        let r = s
            .request(
                Method::GET,
                &uri,
                &[("accept", "application/json"), ("content-length", "2")],
                "{}",
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(
            r.json()["message"],
            "A body is not expected with this request.<br /><br />\n\n\n"
        );
        let r = s
            .request(
                Method::POST,
                &uri,
                &[("accept", "application/json")],
                Body::empty(),
            )
            .await;
        assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{path}");
        assert_eq!(r.header("allow"), Some("GET"));
    }
}
