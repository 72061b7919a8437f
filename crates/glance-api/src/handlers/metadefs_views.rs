//! Wire forms of metadefs. Upstream renders WSME models whose attributes come out in
//! alphabetical order, with unset (None) attributes left out; keys are inserted in
//! that order here (serde_json keeps insertion order).

use chrono::NaiveDateTime;
use glance_core::metadefs::{Association, MetadefObject, MetadefTag, NamespaceDetail};
use glance_db::{NamespaceRow, ResourceTypeRow};
use serde_json::{Map, Value};

pub(crate) const NAMESPACE_SCHEMA: &str = "/v2/schemas/metadefs/namespace";
const OBJECT_SCHEMA: &str = "/v2/schemas/metadefs/object";

fn iso(t: NaiveDateTime) -> Value {
    Value::String(t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
}

/// Builds an object from (key, value) pairs, skipping absent values.
fn object(pairs: Vec<(&str, Option<Value>)>) -> Value {
    let mut m = Map::new();
    for (k, v) in pairs {
        if let Some(v) = v {
            m.insert(k.to_string(), v);
        }
    }
    Value::Object(m)
}

fn text(s: &Option<String>) -> Option<Value> {
    s.as_ref().map(|s| Value::String(s.clone()))
}

pub(crate) fn namespace_href(name: &str) -> String {
    format!("/v2/metadefs/namespaces/{name}")
}

/// A namespace without its content (update and list entries; associations are
/// listed when there are any).
pub(crate) fn namespace_json(ns: &NamespaceRow, associations: &[Association]) -> Value {
    let detail = NamespaceDetail {
        namespace: ns.clone(),
        associations: (!associations.is_empty()).then(|| associations.to_vec()),
        objects: None,
        properties: None,
        tags: None,
    };
    namespace_detail_json(&detail)
}

/// A namespace with the parts of its content that are present.
pub(crate) fn namespace_detail_json(d: &NamespaceDetail) -> Value {
    let ns = &d.namespace;
    let objects = d
        .objects
        .as_ref()
        .map(|o| Value::Array(o.iter().map(|o| object_json(&ns.namespace, o)).collect()));
    let associations = d
        .associations
        .as_ref()
        .map(|a| Value::Array(a.iter().map(association_json).collect()));
    let tags = d
        .tags
        .as_ref()
        .map(|t| Value::Array(t.iter().cloned().map(tag_name_json).collect()));
    object(vec![
        ("created_at", Some(iso(ns.created_at))),
        ("description", text(&ns.description)),
        ("display_name", text(&ns.display_name)),
        ("namespace", Some(Value::String(ns.namespace.clone()))),
        ("objects", objects),
        ("owner", Some(Value::String(ns.owner.clone()))),
        ("properties", d.properties.clone().map(Value::Object)),
        ("protected", Some(Value::Bool(ns.protected))),
        ("resource_type_associations", associations),
        ("schema", Some(Value::String(NAMESPACE_SCHEMA.into()))),
        ("self", Some(Value::String(namespace_href(&ns.namespace)))),
        ("tags", tags),
        ("updated_at", ns.updated_at.map(iso)),
        ("visibility", Some(Value::String(ns.visibility.clone()))),
    ])
}

pub(crate) fn association_json(a: &Association) -> Value {
    object(vec![
        ("created_at", a.created_at.map(iso)),
        ("name", Some(Value::String(a.name.clone()))),
        ("prefix", text(&a.prefix)),
        ("properties_target", text(&a.properties_target)),
        ("updated_at", a.updated_at.map(iso)),
    ])
}

/// An object; stored ones carry `self` and `schema`, echoed request parts do not.
pub(crate) fn object_json(namespace: &str, o: &MetadefObject) -> Value {
    let stored = o.created_at.is_some();
    object(vec![
        ("created_at", o.created_at.map(iso)),
        ("description", text(&o.description)),
        ("name", Some(Value::String(o.name.clone()))),
        ("properties", o.properties.clone().map(Value::Object)),
        (
            "required",
            o.required
                .as_ref()
                .map(|r| Value::Array(r.iter().cloned().map(Value::String).collect())),
        ),
        (
            "schema",
            stored.then(|| Value::String(OBJECT_SCHEMA.into())),
        ),
        (
            "self",
            stored.then(|| {
                Value::String(format!(
                    "/v2/metadefs/namespaces/{namespace}/objects/{}",
                    o.name
                ))
            }),
        ),
        ("updated_at", o.updated_at.map(iso)),
    ])
}

/// A tag or a resource type: a name and its timestamps (`updated_at` left out while
/// the column is NULL, as for every metadef).
fn stored_name_json(
    name: &str,
    created_at: NaiveDateTime,
    updated_at: Option<NaiveDateTime>,
) -> Value {
    object(vec![
        ("created_at", Some(iso(created_at))),
        ("name", Some(Value::String(name.to_string()))),
        ("updated_at", updated_at.map(iso)),
    ])
}

pub(crate) fn tag_json(t: &MetadefTag) -> Value {
    stored_name_json(&t.name, t.created_at, t.updated_at)
}

/// Tags in lists (and in namespaces) carry only their name, as upstream builds them.
fn tag_name_json(name: String) -> Value {
    object(vec![("name", Some(Value::String(name)))])
}

pub(crate) fn tag_names_json(names: impl Iterator<Item = String>) -> Value {
    let tags: Vec<Value> = names.map(tag_name_json).collect();
    object(vec![("tags", Some(Value::Array(tags)))])
}

pub(crate) fn resource_type_json(r: &ResourceTypeRow) -> Value {
    stored_name_json(&r.name, r.created_at, r.updated_at)
}
