//! The image schema: the base properties every deployment has, plus the operator's
//! additional properties (upstream's `schema-image.json`), each marked `is_base: false`.

use serde_json::{json, Map, Value};

use super::forms::{EntitySchema, Extras};
use super::{ImageSchemaConfig, SchemaError};

/// Pattern of a canonical UUID, as the image, member and task schemas spell it.
pub(crate) const UUID_PATTERN: &str =
    "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$";

/// Statuses an image can be in.
pub(crate) const IMAGE_STATUSES: [&str; 9] = [
    "queued",
    "saving",
    "active",
    "killed",
    "deleted",
    "uploading",
    "importing",
    "pending_delete",
    "deactivated",
];

fn format_enum(formats: &[String]) -> Value {
    let mut values = vec![Value::Null];
    values.extend(formats.iter().map(|f| Value::from(f.as_str())));
    Value::Array(values)
}

/// Properties every image has, in upstream's order.
pub(crate) fn base_properties(cfg: &ImageSchemaConfig) -> Map<String, Value> {
    let entries = [
        (
            "id",
            json!({"type": "string", "description": "Identifier of the image (a UUID)", "pattern": UUID_PATTERN}),
        ),
        (
            "name",
            json!({"type": ["null", "string"], "description": "Human-readable name of the image", "maxLength": 255}),
        ),
        (
            "status",
            json!({"type": "string", "readOnly": true, "description": "Lifecycle state of the image",
                          "enum": IMAGE_STATUSES}),
        ),
        (
            "visibility",
            json!({"type": "string", "description": "Who can see the image",
                              "enum": ["community", "public", "private", "shared"]}),
        ),
        (
            "protected",
            json!({"type": "boolean", "description": "When true the image cannot be deleted"}),
        ),
        (
            "os_hidden",
            json!({"type": "boolean", "description": "When true the image is left out of default image lists"}),
        ),
        (
            "checksum",
            json!({"type": ["null", "string"], "readOnly": true, "description": "MD5 digest of the image data",
                            "maxLength": 32}),
        ),
        (
            "os_hash_algo",
            json!({"type": ["null", "string"], "readOnly": true,
                                "description": "Hash algorithm used for os_hash_value", "maxLength": 64}),
        ),
        (
            "os_hash_value",
            json!({"type": ["null", "string"], "readOnly": true,
                                 "description": "Hex digest of the image data computed with os_hash_algo", "maxLength": 128}),
        ),
        (
            "owner",
            json!({"type": ["null", "string"], "description": "Project that owns the image", "maxLength": 255}),
        ),
        (
            "size",
            json!({"type": ["null", "integer"], "readOnly": true, "description": "Size of the image data in bytes"}),
        ),
        (
            "virtual_size",
            json!({"type": ["null", "integer"], "readOnly": true,
                                "description": "Size of the virtual disk in bytes"}),
        ),
        (
            "container_format",
            json!({"type": ["null", "string"], "description": "Container format of the image data",
                                    "enum": format_enum(&cfg.container_formats)}),
        ),
        (
            "disk_format",
            json!({"type": ["null", "string"], "description": "Disk format of the image data",
                               "enum": format_enum(&cfg.disk_formats)}),
        ),
        (
            "created_at",
            json!({"type": "string", "readOnly": true, "description": "When the image was created"}),
        ),
        (
            "updated_at",
            json!({"type": "string", "readOnly": true, "description": "When the image was last changed"}),
        ),
        (
            "tags",
            json!({"type": "array", "description": "Free-form strings attached to the image",
                        "items": {"type": "string", "maxLength": 255}}),
        ),
        (
            "direct_url",
            json!({"type": "string", "readOnly": true,
                              "description": "Location of the image data in the backing store"}),
        ),
        (
            "min_ram",
            json!({"type": "integer", "description": "Memory (MiB) needed to boot the image"}),
        ),
        (
            "min_disk",
            json!({"type": "integer", "description": "Disk space (GiB) needed to boot the image"}),
        ),
        (
            "self",
            json!({"type": "string", "readOnly": true, "description": "Link to this image"}),
        ),
        (
            "file",
            json!({"type": "string", "readOnly": true, "description": "Link to the image data"}),
        ),
        (
            "stores",
            json!({"type": "string", "readOnly": true,
                          "description": "Comma-separated identifiers of the stores holding the image data (multi-store only)"}),
        ),
        (
            "schema",
            json!({"type": "string", "readOnly": true, "description": "Link to the image schema"}),
        ),
        ("locations", locations_property()),
    ];
    entries
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
}

fn locations_property() -> Value {
    let validation_data = json!({
        "description": "Hash values for the image properties; unless the image is queued they must equal the values it already has",
        "type": "object",
        "writeOnly": true,
        "additionalProperties": false,
        "properties": {
            "checksum": {"type": "string", "minLength": 32, "maxLength": 32},
            "os_hash_algo": {"type": "string", "maxLength": 64},
            "os_hash_value": {"type": "string", "maxLength": 128},
        },
        "required": ["os_hash_algo", "os_hash_value"],
    });
    json!({
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "url": {"type": "string", "maxLength": 255},
                "metadata": {"type": "object"},
                "validation_data": validation_data,
            },
            "required": ["url", "metadata"],
        },
        "description": "Locations of the image data in backing stores",
    })
}

fn base_links() -> Value {
    json!([
        {"rel": "self", "href": "{self}"},
        {"rel": "enclosure", "href": "{file}"},
        {"rel": "describedby", "href": "{schema}"},
    ])
}

/// Additional properties served when the operator supplies none: the same definitions as
/// the `schema-image.json` upstream ships (our own descriptions).
pub fn default_extra_properties() -> Value {
    json!({
        "kernel_id": {"type": ["null", "string"], "pattern": UUID_PATTERN,
                      "description": "Image to use as the kernel when booting an AMI-style image"},
        "ramdisk_id": {"type": ["null", "string"], "pattern": UUID_PATTERN,
                       "description": "Image to use as the ramdisk when booting an AMI-style image"},
        "instance_uuid": {"type": "string",
                          "description": "Instance this image is associated with (informational only)"},
        "architecture": {"description": "CPU architecture the operating system runs on", "type": "string"},
        "os_distro": {"description": "Common name of the operating system distribution", "type": "string"},
        "os_version": {"description": "Operating system version as given by its distributor", "type": "string"},
        "description": {"description": "Free-text description of the image", "type": "string"},
        "cinder_encryption_key_id": {
            "description": "Key-manager identifier of the key the block storage service uses for volumes made from this image",
            "type": "string"},
        "cinder_encryption_key_deletion_policy": {
            "description": "When the image service deletes the key named by cinder_encryption_key_id",
            "type": "string", "enum": ["on_image_deletion", "do_not_delete"]},
    })
}

/// Property definitions and `required` list of an operator document.
type OperatorDocument = (Map<String, Value>, Option<Vec<Value>>);

/// Splits an operator document into its property definitions and its `required` list.
/// A document with a top-level `properties` member is the extended form
/// `{"properties": {...}, "required": [...]}`; anything else is a flat map of definitions.
fn split_operator_document(doc: &Value) -> Result<OperatorDocument, SchemaError> {
    let Value::Object(top) = doc else {
        return Err(SchemaError::Invalid(
            "schema-image.json must hold a JSON object".into(),
        ));
    };
    if !top.contains_key("properties") {
        return Ok((top.clone(), None));
    }
    let props = match top.get("properties") {
        Some(Value::Object(map)) => map.clone(),
        Some(Value::Null) => Map::new(),
        _ => {
            return Err(SchemaError::Invalid(
                "'properties' in schema-image.json must be an object".into(),
            ))
        }
    };
    let required = match top.get("required") {
        None | Some(Value::Null) => None,
        Some(Value::Array(names)) if names.iter().all(Value::is_string) => {
            Some(names.clone()).filter(|n| !n.is_empty())
        }
        Some(_) => {
            return Err(SchemaError::Invalid(
                "'required' in schema-image.json must be a list of property names".into(),
            ))
        }
    };
    Ok((props, required))
}

/// The image entity schema (published in full form: extra properties must be strings).
pub(crate) fn image_schema(cfg: &ImageSchemaConfig) -> Result<EntitySchema, SchemaError> {
    let default_doc;
    let doc = match &cfg.extra_properties {
        Some(doc) => doc,
        None => {
            default_doc = default_extra_properties();
            &default_doc
        }
    };
    let (mut custom, required) = split_operator_document(doc)?;
    for (name, definition) in custom.iter_mut() {
        let Value::Object(def) = definition else {
            return Err(SchemaError::Invalid(format!(
                "definition of custom property '{name}' must be a JSON object"
            )));
        };
        def.insert("is_base".into(), Value::Bool(false));
    }

    let mut properties = base_properties(cfg);
    // As upstream, the comparison happens after `is_base: false` was added, so a custom
    // definition can never equal a base one: naming a base property is always a conflict.
    let conflicts: Vec<&str> = custom
        .iter()
        .filter(|(name, def)| {
            properties
                .get(name.as_str())
                .is_some_and(|base| base != *def)
        })
        .map(|(name, _)| name.as_str())
        .collect();
    if !conflicts.is_empty() {
        return Err(SchemaError::Conflict(conflicts.join(", ")));
    }
    for (name, def) in custom {
        properties.insert(name, def);
    }

    let mut schema = EntitySchema::new("image", Value::Object(properties));
    schema.required = required;
    schema.links = Some(base_links());
    schema.extras = Extras::Strings;
    Ok(schema)
}

/// The body of the add-location call (2.17) is validated as `{"add_location": <body>}`.
pub(crate) fn location_schema() -> EntitySchema {
    let mut schema = EntitySchema::new(
        "location",
        json!({
            "add_location": {
                "type": "object",
                "description": "Location URL and optional hash values for the add-location call",
                "properties": {
                    "url": {"type": "string", "readOnly": true, "description": "URL of the location to add"},
                    "validation_data": {
                        "description": "Hash of the data at the URL; when the server does not hash the data itself these values are trusted as given",
                        "type": "object",
                        "writeOnly": true,
                        "additionalProperties": false,
                        "properties": {
                            "os_hash_algo": {"type": "string", "maxLength": 64,
                                             "enum": ["sha1", "sha256", "sha512", "md5"]},
                            "os_hash_value": {"type": "string", "maxLength": 128},
                        },
                        "dependentRequired": {
                            "os_hash_value": ["os_hash_algo"],
                            "os_hash_algo": ["os_hash_value"],
                        },
                    },
                },
                "required": ["url"],
            },
        }),
    );
    schema.extras = Extras::Strings;
    schema
}
