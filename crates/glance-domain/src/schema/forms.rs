//! The shapes in which a schema is published: the full ("raw") document used for
//! validation, the "minimal" document, and the list/map collection documents wrapping an
//! item schema. Key order follows upstream's documents.

use serde_json::{json, Map, Value};

/// What a document in its full form says about members it does not declare.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Extras {
    /// `additionalProperties: false`.
    Forbidden,
    /// `additionalProperties: {"type": "string"}` (the image schema).
    Strings,
}

/// An entity schema before rendering.
#[derive(Clone, Debug)]
pub(crate) struct EntitySchema {
    pub name: &'static str,
    pub properties: Map<String, Value>,
    pub required: Option<Vec<Value>>,
    pub definitions: Option<Value>,
    pub links: Option<Value>,
    pub extras: Extras,
}

impl EntitySchema {
    pub(crate) fn new(name: &'static str, properties: Value) -> EntitySchema {
        let properties = match properties {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        EntitySchema {
            name,
            properties,
            required: None,
            definitions: None,
            links: None,
            extras: Extras::Forbidden,
        }
    }

    pub(crate) fn required(mut self, names: &[&str]) -> EntitySchema {
        self.required = Some(names.iter().map(|n| Value::from(*n)).collect());
        self
    }

    pub(crate) fn definitions(mut self, definitions: Value) -> EntitySchema {
        self.definitions = Some(definitions);
        self
    }

    fn additional_properties(&self) -> Value {
        match self.extras {
            Extras::Forbidden => Value::Bool(false),
            Extras::Strings => json!({"type": "string"}),
        }
    }

    /// Full form: name, properties, additionalProperties, then definitions, required and
    /// links when present (`with_definitions: false` leaves the definitions to a wrapper).
    fn full_with(&self, with_definitions: bool) -> Value {
        let mut doc = Map::new();
        doc.insert("name".into(), Value::from(self.name));
        doc.insert("properties".into(), Value::Object(self.properties.clone()));
        doc.insert("additionalProperties".into(), self.additional_properties());
        if let (true, Some(defs)) = (with_definitions, &self.definitions) {
            doc.insert("definitions".into(), defs.clone());
        }
        if let Some(required) = self.required.as_ref().filter(|r| !r.is_empty()) {
            doc.insert("required".into(), Value::Array(required.clone()));
        }
        if let Some(links) = &self.links {
            doc.insert("links".into(), links.clone());
        }
        Value::Object(doc)
    }

    pub(crate) fn full(&self) -> Value {
        self.full_with(true)
    }

    /// Minimal form: name, properties, then definitions and required when present.
    fn minimal_with(&self, with_definitions: bool) -> Value {
        let mut doc = Map::new();
        doc.insert("name".into(), Value::from(self.name));
        doc.insert("properties".into(), Value::Object(self.properties.clone()));
        if let (true, Some(defs)) = (with_definitions, &self.definitions) {
            doc.insert("definitions".into(), defs.clone());
        }
        if let Some(required) = self.required.as_ref().filter(|r| !r.is_empty()) {
            doc.insert("required".into(), Value::Array(required.clone()));
        }
        Value::Object(doc)
    }

    pub(crate) fn minimal(&self) -> Value {
        self.minimal_with(true)
    }
}

fn paging_links() -> Value {
    json!([
        {"rel": "first", "href": "{first}"},
        {"rel": "next", "href": "{next}"},
        {"rel": "describedby", "href": "{schema}"},
    ])
}

/// How a collection holds its items.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Holder {
    /// `{"type": "array", "items": <item>}`.
    List,
    /// `{"type": "object", "additionalProperties": <item>}` (metadef properties by name).
    Map,
}

fn holder(kind: Holder, item: Value) -> Value {
    match kind {
        Holder::List => json!({"type": "array", "items": item}),
        Holder::Map => json!({"type": "object", "additionalProperties": item}),
    }
}

/// Full collection document: the item's definitions move up to the collection.
pub(crate) fn collection_full(name: &str, kind: Holder, item: &EntitySchema) -> Value {
    let mut properties = Map::new();
    properties.insert(name.into(), holder(kind, item.full_with(false)));
    properties.insert("first".into(), json!({"type": "string"}));
    properties.insert("next".into(), json!({"type": "string"}));
    properties.insert("schema".into(), json!({"type": "string"}));
    finish_collection(name, properties, paging_links(), item)
}

/// Minimal collection document: items in minimal form, only a `describedby` link.
pub(crate) fn collection_minimal(name: &str, kind: Holder, item: &EntitySchema) -> Value {
    let mut properties = Map::new();
    properties.insert(name.into(), holder(kind, item.minimal_with(false)));
    properties.insert("schema".into(), json!({"type": "string"}));
    let links = json!([{"rel": "describedby", "href": "{schema}"}]);
    finish_collection(name, properties, links, item)
}

fn finish_collection(
    name: &str,
    properties: Map<String, Value>,
    links: Value,
    item: &EntitySchema,
) -> Value {
    let mut doc = Map::new();
    doc.insert("name".into(), Value::from(name));
    doc.insert("properties".into(), Value::Object(properties));
    doc.insert("links".into(), links);
    if let Some(defs) = &item.definitions {
        doc.insert("definitions".into(), defs.clone());
    }
    Value::Object(doc)
}
