//! Tests of the schema documents and of request validation. Expected validation texts were
//! checked against upstream's validator library run on the same schema documents.

mod entities;
mod image;
mod pyrepr;
mod validation;

use serde_json::{Map, Value};

use super::*;

pub(super) fn build_default() -> Schemas {
    Schemas::build(&ImageSchemaConfig::default()).expect("default schemas build")
}

pub(super) fn with_extra(extra: Value) -> Result<Schemas, SchemaError> {
    Schemas::build(&ImageSchemaConfig {
        extra_properties: Some(extra),
        ..Default::default()
    })
}

pub(super) fn keys(value: &Value) -> Vec<&str> {
    value
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect()
}

pub(super) fn props(doc: &Value) -> &Map<String, Value> {
    doc["properties"].as_object().expect("properties")
}

/// The definition without its free-text description.
pub(super) fn shape(def: &Value) -> Value {
    match def {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, v)| !(k.as_str() == "description" && v.is_string()))
                .map(|(k, v)| (k.clone(), shape(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(shape).collect()),
        other => other.clone(),
    }
}
