//! The image and images documents and the operator's additional properties.

use serde_json::{json, Value};

use super::super::*;
use super::{build_default, keys, props, shape, with_extra};

const BASE: [&str; 25] = [
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
];

const DEFAULT_CUSTOM: [&str; 9] = [
    "kernel_id",
    "ramdisk_id",
    "instance_uuid",
    "architecture",
    "os_distro",
    "os_version",
    "description",
    "cinder_encryption_key_id",
    "cinder_encryption_key_deletion_policy",
];

#[test]
fn image_document_layout() {
    let s = build_default();
    let image = s.image();
    assert_eq!(
        keys(image),
        ["name", "properties", "additionalProperties", "links"]
    );
    assert_eq!(image["name"], "image");
    assert_eq!(image["additionalProperties"], json!({"type": "string"}));
    assert_eq!(
        image["links"],
        json!([{"rel": "self", "href": "{self}"}, {"rel": "enclosure", "href": "{file}"},
               {"rel": "describedby", "href": "{schema}"}])
    );
    let names: Vec<&str> = props(image).keys().map(String::as_str).collect();
    let expected: Vec<&str> = BASE.iter().chain(DEFAULT_CUSTOM.iter()).copied().collect();
    assert_eq!(names, expected);
    for (name, def) in props(image) {
        assert!(def["description"].is_string(), "{name} has a description");
    }
}

#[test]
fn image_base_properties_match_upstream_shapes() {
    let s = build_default();
    let p = props(s.image());
    let uuid = image::UUID_PATTERN;
    let expect = |name: &str, want: Value| assert_eq!(shape(&p[name]), want, "property {name}");
    expect("id", json!({"type": "string", "pattern": uuid}));
    expect(
        "name",
        json!({"type": ["null", "string"], "maxLength": 255}),
    );
    expect(
        "status",
        json!({"type": "string", "readOnly": true, "enum": ["queued", "saving", "active", "killed",
        "deleted", "uploading", "importing", "pending_delete", "deactivated"]}),
    );
    expect(
        "visibility",
        json!({"type": "string", "enum": ["community", "public", "private", "shared"]}),
    );
    expect("protected", json!({"type": "boolean"}));
    expect("os_hidden", json!({"type": "boolean"}));
    expect(
        "checksum",
        json!({"type": ["null", "string"], "readOnly": true, "maxLength": 32}),
    );
    expect(
        "os_hash_algo",
        json!({"type": ["null", "string"], "readOnly": true, "maxLength": 64}),
    );
    expect(
        "os_hash_value",
        json!({"type": ["null", "string"], "readOnly": true, "maxLength": 128}),
    );
    expect(
        "owner",
        json!({"type": ["null", "string"], "maxLength": 255}),
    );
    expect(
        "size",
        json!({"type": ["null", "integer"], "readOnly": true}),
    );
    expect(
        "virtual_size",
        json!({"type": ["null", "integer"], "readOnly": true}),
    );
    expect(
        "tags",
        json!({"type": "array", "items": {"type": "string", "maxLength": 255}}),
    );
    // No minimum on min_ram / min_disk upstream (the core rejects negatives itself).
    expect("min_ram", json!({"type": "integer"}));
    expect("min_disk", json!({"type": "integer"}));
    for name in [
        "created_at",
        "updated_at",
        "direct_url",
        "self",
        "file",
        "stores",
        "schema",
    ] {
        expect(name, json!({"type": "string", "readOnly": true}));
    }
    assert_eq!(
        shape(&p["locations"]),
        json!({"type": "array", "items": {"type": "object", "properties": {
            "url": {"type": "string", "maxLength": 255},
            "metadata": {"type": "object"},
            "validation_data": {"type": "object", "writeOnly": true, "additionalProperties": false,
                "properties": {"checksum": {"type": "string", "minLength": 32, "maxLength": 32},
                               "os_hash_algo": {"type": "string", "maxLength": 64},
                               "os_hash_value": {"type": "string", "maxLength": 128}},
                "required": ["os_hash_algo", "os_hash_value"]}},
            "required": ["url", "metadata"]}})
    );
    // Key order inside a definition follows upstream (type, readOnly, description, enum).
    assert_eq!(
        keys(&p["status"]),
        ["type", "readOnly", "description", "enum"]
    );
    assert_eq!(keys(&p["locations"]), ["type", "items", "description"]);
    let read_only: Vec<&str> = p
        .iter()
        .filter(|(_, d)| d["readOnly"] == true)
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(
        read_only,
        [
            "status",
            "checksum",
            "os_hash_algo",
            "os_hash_value",
            "size",
            "virtual_size",
            "created_at",
            "updated_at",
            "direct_url",
            "self",
            "file",
            "stores",
            "schema"
        ]
    );
}

#[test]
fn format_enums_follow_configuration_and_include_null() {
    let s = build_default();
    let p = props(s.image());
    assert_eq!(
        p["disk_format"]["enum"],
        json!([
            null, "ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop"
        ])
    );
    assert_eq!(
        p["container_format"]["enum"],
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
    assert_eq!(keys(&p["disk_format"]), ["type", "description", "enum"]);
    let cfg = ImageSchemaConfig {
        disk_formats: vec!["raw".into(), "qcow2".into()],
        container_formats: vec!["bare".into()],
        extra_properties: None,
    };
    let s = Schemas::build(&cfg).unwrap();
    assert_eq!(
        props(s.image())["disk_format"]["enum"],
        json!([null, "raw", "qcow2"])
    );
    assert_eq!(
        props(s.image())["container_format"]["enum"],
        json!([null, "bare"])
    );
}

#[test]
fn default_custom_properties_are_marked_not_base() {
    let s = build_default();
    let p = props(s.image());
    for name in BASE {
        assert!(
            p[name].get("is_base").is_none(),
            "{name} carries no is_base"
        );
    }
    for name in DEFAULT_CUSTOM {
        assert_eq!(p[name]["is_base"], false, "{name}");
        assert_eq!(
            keys(&p[name]).last(),
            Some(&"is_base"),
            "is_base comes last in {name}"
        );
    }
    let uuid = image::UUID_PATTERN;
    assert_eq!(
        shape(&p["kernel_id"]),
        json!({"type": ["null", "string"], "pattern": uuid, "is_base": false})
    );
    assert_eq!(
        keys(&p["kernel_id"]),
        ["type", "pattern", "description", "is_base"]
    );
    assert_eq!(keys(&p["architecture"]), ["description", "type", "is_base"]);
    assert_eq!(
        shape(&p["instance_uuid"]),
        json!({"type": "string", "is_base": false})
    );
    assert_eq!(
        shape(&p["cinder_encryption_key_deletion_policy"]),
        json!({"type": "string", "enum": ["on_image_deletion", "do_not_delete"], "is_base": false})
    );
}

#[test]
fn shipped_operator_file_gives_the_built_in_defaults() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/upstream-data/schema-image.json"
    );
    let Ok(text) = std::fs::read_to_string(path) else {
        return;
    };
    let shipped: Value = serde_json::from_str(&text).unwrap();
    let from_file = with_extra(shipped).unwrap();
    assert_eq!(shape(from_file.image()), shape(build_default().image()));
    assert_eq!(
        keys(&from_file.image()["properties"]),
        keys(&build_default().image()["properties"])
    );
}

#[test]
fn operator_file_flat_form() {
    let s = with_extra(
        json!({"hw_disk_bus": {"type": "string", "enum": ["virtio", "scsi"]}, "is_flag": {
        "type": "string", "is_base": true}}),
    )
    .unwrap();
    let p = props(s.image());
    assert_eq!(p.len(), BASE.len() + 2);
    assert_eq!(
        p["hw_disk_bus"],
        json!({"type": "string", "enum": ["virtio", "scsi"], "is_base": false})
    );
    // An is_base given in the file is overridden in place.
    assert_eq!(p["is_flag"], json!({"type": "string", "is_base": false}));
    assert!(s.image().get("required").is_none());
    assert!(p.get("kernel_id").is_none());
    let none = with_extra(json!({})).unwrap();
    assert_eq!(props(none.image()).len(), BASE.len());
}

#[test]
fn operator_file_extended_form_with_required() {
    let s = with_extra(
        json!({"properties": {"os_distro": {"type": "string"}}, "required": ["os_distro"]}),
    )
    .unwrap();
    assert_eq!(
        keys(s.image()),
        [
            "name",
            "properties",
            "additionalProperties",
            "required",
            "links"
        ]
    );
    assert_eq!(s.image()["required"], json!(["os_distro"]));
    assert_eq!(
        props(s.image())["os_distro"],
        json!({"type": "string", "is_base": false})
    );
    // The image inside the images collection carries the same required list.
    assert_eq!(
        s.images()["properties"]["images"]["items"]["required"],
        json!(["os_distro"])
    );

    let empty =
        with_extra(json!({"properties": {"a": {"type": "string"}}, "required": []})).unwrap();
    assert!(empty.image().get("required").is_none());
    let missing = with_extra(json!({"properties": {"a": {"type": "string"}}})).unwrap();
    assert!(missing.image().get("required").is_none());
}

#[test]
fn redefining_a_base_property_is_an_error() {
    let err =
        with_extra(json!({"name": {"type": ["null", "string"], "maxLength": 255}})).unwrap_err();
    assert_eq!(err, SchemaError::Conflict("name".into()));
    assert_eq!(
        err.to_string(),
        "Unable to load schema: custom properties (name) conflict with base properties"
    );
    let err = with_extra(
        json!({"properties": {"os_x": {"type": "string"}, "min_ram": {"type": "string"},
        "tags": {"type": "array"}}}),
    )
    .unwrap_err();
    assert_eq!(err, SchemaError::Conflict("min_ram, tags".into()));
}

#[test]
fn malformed_operator_documents_are_errors() {
    assert!(matches!(
        with_extra(json!(["x"])),
        Err(SchemaError::Invalid(_))
    ));
    assert!(matches!(
        with_extra(json!({"x": "string"})),
        Err(SchemaError::Invalid(_))
    ));
    assert!(matches!(
        with_extra(json!({"properties": [1]})),
        Err(SchemaError::Invalid(_))
    ));
    assert!(matches!(
        with_extra(json!({"properties": {}, "required": "x"})),
        Err(SchemaError::Invalid(_))
    ));
    assert!(matches!(
        with_extra(json!({"x": {"type": "string", "pattern": "(unclosed"}})),
        Err(SchemaError::Invalid(_))
    ));
}

#[test]
fn images_collection_wraps_the_image_schema() {
    let s = build_default();
    let images = s.images();
    assert_eq!(keys(images), ["name", "properties", "links"]);
    assert_eq!(images["name"], "images");
    assert_eq!(
        keys(&images["properties"]),
        ["images", "first", "next", "schema"]
    );
    assert_eq!(images["properties"]["images"]["type"], "array");
    assert_eq!(&images["properties"]["images"]["items"], s.image());
    for name in ["first", "next", "schema"] {
        assert_eq!(images["properties"][name], json!({"type": "string"}));
    }
    assert_eq!(
        images["links"],
        json!([{"rel": "first", "href": "{first}"}, {"rel": "next", "href": "{next}"},
        {"rel": "describedby", "href": "{schema}"}])
    );
}
