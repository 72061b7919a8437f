//! A metadefs file (one namespace as JSON) to the rows it loads as, and back.
//!
//! Upstream reads the keys loosely and fails half-way through a file whose shape
//! is wrong; we check the whole file first, so a bad file is skipped entirely.

use glance_db::{AssociationValues, ContentValues, NamespaceDocument};
use serde_json::{Map, Value};

use glance_domain::python_json;

/// The owner of a loaded namespace whose file names none.
const DEFAULT_OWNER: &str = "admin";

/// The namespace a parsed metadefs file describes.
pub fn from_json(value: &Value) -> Result<NamespaceDocument, String> {
    let top = value
        .as_object()
        .ok_or("the file does not hold a JSON object")?;
    let namespace =
        opt_str(top, "namespace", "the namespace")?.ok_or("the file names no \"namespace\"")?;
    let mut doc = NamespaceDocument {
        namespace,
        display_name: opt_str(top, "display_name", "the namespace")?,
        description: opt_str(top, "description", "the namespace")?,
        visibility: opt_str(top, "visibility", "the namespace")?,
        protected: match top.get("protected") {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => return Err("\"protected\" is not a boolean".into()),
        },
        owner: opt_str(top, "owner", "the namespace")?.unwrap_or_else(|| DEFAULT_OWNER.into()),
        ..Default::default()
    };
    for item in list(top, "resource_type_associations")? {
        let what = "a resource type association";
        let a = entry(item, what)?;
        doc.associations.push(AssociationValues {
            name: name(a, what)?,
            prefix: opt_str(a, "prefix", what)?,
            properties_target: opt_str(a, "properties_target", what)?,
        });
    }
    match top.get("properties") {
        None | Some(Value::Null) => {}
        Some(Value::Object(properties)) => {
            for (name, schema) in properties {
                doc.properties.push(ContentValues {
                    name: name.clone(),
                    json_schema: Some(python_json::dumps(schema)),
                    ..Default::default()
                });
            }
        }
        Some(_) => return Err("\"properties\" is not an object".into()),
    }
    for item in list(top, "objects")? {
        let o = entry(item, "an object")?;
        doc.objects.push(ContentValues {
            name: name(o, "an object")?,
            description: opt_str(o, "description", "an object")?,
            required: None,
            // Upstream stores `json.dumps(object.get("properties"))`: `null` when absent.
            json_schema: Some(python_json::dumps(
                o.get("properties").unwrap_or(&Value::Null),
            )),
        });
    }
    for item in list(top, "tags")? {
        let t = entry(item, "a tag")?;
        doc.tags.push(ContentValues::tag(name(t, "a tag")?));
    }
    Ok(doc)
}

/// The file an exported namespace is written to: upstream's exporter keeps only
/// the word characters of its display name (underscores dropped too), as
/// `re.sub(r'[\W_]+', '', display_name)` does.
pub fn file_stem(doc: &NamespaceDocument) -> String {
    let words = |s: &str| -> String { s.chars().filter(|c| c.is_alphanumeric()).collect() };
    // Upstream fails on a namespace without a display name (or one of no word
    // characters would become ".json"); the namespace's own name serves then.
    [doc.display_name.as_deref(), Some(doc.namespace.as_str())]
        .into_iter()
        .flatten()
        .map(words)
        .find(|stem| !stem.is_empty())
        .unwrap_or_else(|| "namespace".into())
}

/// The JSON an exported namespace is written as: upstream's keys in upstream's
/// order, the stored schemas parsed back (their key order kept).
pub fn to_json(doc: &NamespaceDocument) -> Result<Value, String> {
    let text = |v: &Option<String>| v.clone().map(Value::String).unwrap_or(Value::Null);
    let schema = |c: &ContentValues| -> Result<Value, String> {
        let stored = c.json_schema.as_deref().unwrap_or("null");
        serde_json::from_str(stored)
            .map_err(|e| format!("the stored schema of {:?} is not JSON: {e}", c.name))
    };
    let associations = doc
        .associations
        .iter()
        .map(|a| {
            let mut m = Map::new();
            m.insert("name".into(), Value::String(a.name.clone()));
            m.insert("prefix".into(), text(&a.prefix));
            m.insert("properties_target".into(), text(&a.properties_target));
            Value::Object(m)
        })
        .collect();
    let mut properties = Map::new();
    for p in &doc.properties {
        properties.insert(p.name.clone(), schema(p)?);
    }
    let mut objects = Vec::with_capacity(doc.objects.len());
    for o in &doc.objects {
        let mut m = Map::new();
        m.insert("name".into(), Value::String(o.name.clone()));
        m.insert("description".into(), text(&o.description));
        m.insert("properties".into(), schema(o)?);
        objects.push(Value::Object(m));
    }
    let tags = doc
        .tags
        .iter()
        .map(|t| {
            let mut m = Map::new();
            m.insert("name".into(), Value::String(t.name.clone()));
            Value::Object(m)
        })
        .collect();
    let mut m = Map::new();
    m.insert("namespace".into(), Value::String(doc.namespace.clone()));
    m.insert("display_name".into(), text(&doc.display_name));
    m.insert("description".into(), text(&doc.description));
    m.insert("visibility".into(), text(&doc.visibility));
    m.insert(
        "protected".into(),
        doc.protected.map(Value::Bool).unwrap_or(Value::Null),
    );
    m.insert(
        "resource_type_associations".into(),
        Value::Array(associations),
    );
    m.insert("properties".into(), Value::Object(properties));
    m.insert("objects".into(), Value::Array(objects));
    m.insert("tags".into(), Value::Array(tags));
    Ok(Value::Object(m))
}

/// An optional string member (`null` counts as absent).
fn opt_str(m: &Map<String, Value>, key: &str, what: &str) -> Result<Option<String>, String> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("\"{key}\" of {what} is not a string")),
    }
}

fn name(m: &Map<String, Value>, what: &str) -> Result<String, String> {
    opt_str(m, "name", what)?.ok_or_else(|| format!("{what} has no \"name\""))
}

/// An optional list member (`null` counts as absent).
fn list<'a>(m: &'a Map<String, Value>, key: &str) -> Result<&'a [Value], String> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(format!("\"{key}\" is not a list")),
    }
}

fn entry<'a>(item: &'a Value, what: &str) -> Result<&'a Map<String, Value>, String> {
    item.as_object()
        .ok_or_else(|| format!("{what} is not a JSON object"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{file_stem, from_json, to_json};

    #[test]
    fn loads_as_upstream_stores_and_exports_back() {
        let file = json!({
            "namespace": "OS::Test", "display_name": "My_Test ns-1",
            "resource_type_associations": [{"name": "OS::Glance::Image", "prefix": "t_"}],
            "properties": {"p": {"type": "string", "title": "P é"}},
            "objects": [{"name": "o", "properties": {"q": {"type": "integer"}}}],
            "tags": [{"name": "t"}]
        });
        let doc = from_json(&file).unwrap();
        assert_eq!(doc.owner, "admin");
        assert_eq!((doc.visibility.clone(), doc.protected), (None, None));
        assert_eq!(
            doc.properties[0].json_schema.as_deref(),
            Some(r#"{"type": "string", "title": "P \u00e9"}"#)
        );
        assert_eq!(
            doc.objects[0].json_schema.as_deref(),
            Some(r#"{"q": {"type": "integer"}}"#)
        );
        assert_eq!(file_stem(&doc), "MyTestns1");
        let exported = to_json(&doc).unwrap();
        let keys: Vec<&str> = exported
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "namespace",
                "display_name",
                "description",
                "visibility",
                "protected",
                "resource_type_associations",
                "properties",
                "objects",
                "tags"
            ]
        );
        assert_eq!(exported["properties"], file["properties"]);
        assert_eq!(exported["resource_type_associations"][0]["prefix"], "t_");
        assert_eq!(from_json(&exported).unwrap(), doc);
    }

    #[test]
    fn refuses_files_of_the_wrong_shape() {
        for bad in [
            json!([]),
            json!({"display_name": "no namespace"}),
            json!({"namespace": "n", "protected": "yes"}),
            json!({"namespace": "n", "properties": []}),
            json!({"namespace": "n", "objects": [{"description": "no name"}]}),
            json!({"namespace": "n", "tags": ["t"]}),
        ] {
            assert!(from_json(&bad).is_err(), "{bad}");
        }
    }
}
