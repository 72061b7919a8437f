//! Metadata-definition schemas: namespace, object, property, resource type association
//! and tag, each with its collection. All are published in full form.

use serde_json::{json, Value};

use super::forms::EntitySchema;

/// Types a metadef property may declare (`null` included, as upstream).
fn property_types() -> Value {
    json!(["array", "boolean", "integer", "number", "object", "string", null])
}

/// The members of one property definition, in upstream's order.
fn property_members() -> Value {
    json!({
        "name": {"type": "string", "maxLength": 80},
        "title": {"type": "string"},
        "description": {"type": "string"},
        "operators": {"type": "array", "items": {"type": "string"}},
        "type": {"type": "string", "enum": property_types()},
        "required": {"$ref": "#/definitions/stringArray"},
        "minimum": {"type": "number"},
        "maximum": {"type": "number"},
        "maxLength": {"$ref": "#/definitions/positiveInteger"},
        "minLength": {"$ref": "#/definitions/positiveIntegerDefault0"},
        "pattern": {"type": "string", "format": "regex"},
        "enum": {"type": "array"},
        "readonly": {"type": "boolean"},
        "default": {},
        "items": {
            "type": "object",
            "properties": {
                "type": {"type": "string", "enum": property_types()},
                "enum": {"type": "array"},
            },
        },
        "maxItems": {"$ref": "#/definitions/positiveInteger"},
        "minItems": {"$ref": "#/definitions/positiveIntegerDefault0"},
        "uniqueItems": {"type": "boolean", "default": false},
        "additionalItems": {"type": "boolean"},
    })
}

/// Shared definitions; `string_array_min_items` adds `minItems: 1` to `stringArray` (the
/// property schemas have it, the namespace and object schemas do not).
fn common_definitions(string_array_min_items: bool) -> serde_json::Map<String, Value> {
    let mut string_array = json!({"type": "array", "items": {"type": "string"}});
    if string_array_min_items {
        string_array["minItems"] = json!(1);
    }
    string_array["uniqueItems"] = json!(true);
    let defs = json!({
        "positiveInteger": {"type": "integer", "minimum": 0},
        "positiveIntegerDefault0": {"allOf": [{"$ref": "#/definitions/positiveInteger"}, {"default": 0}]},
        "stringArray": string_array,
    });
    match defs {
        Value::Object(map) => map,
        _ => serde_json::Map::new(),
    }
}

/// Definitions used by the namespace and object schemas (they include `property`).
fn namespace_definitions() -> Value {
    let mut defs = common_definitions(false);
    defs.insert(
        "property".into(),
        json!({
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "required": ["title", "type"],
                "properties": property_members(),
            },
        }),
    );
    Value::Object(defs)
}

fn timestamps(what: &str) -> (Value, Value) {
    (
        json!({"type": "string", "readOnly": true, "description": format!("When the {what} was created"),
               "format": "date-time"}),
        json!({"type": "string", "readOnly": true, "description": format!("When the {what} was last changed"),
               "format": "date-time"}),
    )
}

pub(crate) fn namespace_schema() -> EntitySchema {
    let (created, updated) = timestamps("namespace");
    let props = json!({
        "namespace": {"type": "string", "description": "Unique name of the namespace", "maxLength": 80},
        "display_name": {"type": "string", "description": "Name of the namespace for display in user interfaces",
                         "maxLength": 80},
        "description": {"type": "string", "description": "Free-text description of the namespace",
                        "maxLength": 500},
        "visibility": {"type": "string", "description": "Who can see the namespace", "enum": ["public", "private"]},
        "protected": {"type": "boolean", "description": "When true the namespace cannot be deleted"},
        "owner": {"type": "string", "description": "Project that owns the namespace", "maxLength": 255},
        "created_at": created,
        "updated_at": updated,
        "schema": {"readOnly": true, "type": "string"},
        "self": {"readOnly": true, "type": "string"},
        "resource_type_associations": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "prefix": {"type": "string"},
                    "properties_target": {"type": "string"},
                },
            },
        },
        "properties": {"$ref": "#/definitions/property"},
        "objects": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "description": {"type": "string"},
                    "required": {"$ref": "#/definitions/stringArray"},
                    "properties": {"$ref": "#/definitions/property"},
                },
            },
        },
        "tags": {
            "type": "array",
            "items": {"type": "object", "properties": {"name": {"type": "string"}}},
        },
    });
    EntitySchema::new("namespace", props)
        .required(&["namespace"])
        .definitions(namespace_definitions())
}

pub(crate) fn object_schema() -> EntitySchema {
    let (created, updated) = timestamps("object");
    let props = json!({
        "name": {"type": "string", "maxLength": 80},
        "description": {"type": "string"},
        "required": {"$ref": "#/definitions/stringArray"},
        "properties": {"$ref": "#/definitions/property"},
        "schema": {"readOnly": true, "type": "string"},
        "self": {"readOnly": true, "type": "string"},
        "created_at": created,
        "updated_at": updated,
    });
    EntitySchema::new("object", props)
        .required(&["name"])
        .definitions(namespace_definitions())
}

/// A single property definition; `require_name` is false for the properties embedded in
/// an object and for the items of the property collection (keyed by name there).
pub(crate) fn property_schema(require_name: bool) -> EntitySchema {
    let required: &[&str] = if require_name {
        &["type", "title", "name"]
    } else {
        &["type", "title"]
    };
    EntitySchema::new("property", property_members())
        .required(required)
        .definitions(Value::Object(common_definitions(true)))
}

pub(crate) fn resource_type_schema() -> EntitySchema {
    let (created, updated) = timestamps("resource type association");
    let props = json!({
        "name": {"type": "string",
                 "description": "Name of the resource type, following Heat resource type names where possible",
                 "maxLength": 80},
        "prefix": {"type": "string",
                   "description": "Prefix, separator included, that the namespace's properties take when applied to this resource type",
                   "maxLength": 80},
        "properties_target": {"type": "string",
                              "description": "Which group of key/value pairs of the resource the properties apply to, for resource types that have several",
                              "maxLength": 80},
        "created_at": created,
        "updated_at": updated,
    });
    EntitySchema::new("resource_type_association", props).required(&["name"])
}

pub(crate) fn tag_schema() -> EntitySchema {
    let (created, updated) = timestamps("tag");
    let props = json!({
        "name": {"type": "string", "maxLength": 80},
        "created_at": created,
        "updated_at": updated,
    });
    EntitySchema::new("tag", props).required(&["name"])
}

/// The body of "create tags" (`{"tags": [{"name": ...}, ...]}`).
pub(crate) fn tag_list_schema() -> EntitySchema {
    EntitySchema::new(
        "tags",
        json!({
            "tags": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"name": {"type": "string"}},
                    "required": ["name"],
                    "additionalProperties": false,
                },
            },
        }),
    )
}
