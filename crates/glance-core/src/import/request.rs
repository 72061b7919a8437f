//! The body of `POST /v2/images/{id}/import`, checked as upstream does before
//! anything else happens.

use serde_json::Value;

use crate::{CoreError, CoreResult};

/// The import methods this server runs (`enabled_import_methods` picks among them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportMethod {
    GlanceDirect,
    WebDownload,
    CopyImage,
}

impl ImportMethod {
    fn from_name(name: &str) -> Option<ImportMethod> {
        match name {
            "glance-direct" => Some(ImportMethod::GlanceDirect),
            "web-download" => Some(ImportMethod::WebDownload),
            "copy-image" => Some(ImportMethod::CopyImage),
            _ => None,
        }
    }
}

/// A checked import request.
#[derive(Debug, Clone)]
pub struct ImportRequest {
    /// The body as sent: the task's `import_req` input.
    pub body: Value,
    pub method: ImportMethod,
    /// `method.uri` (web-download).
    pub uri: Option<String>,
    /// The `stores` list, when given.
    pub stores: Option<Vec<String>>,
    pub all_stores: bool,
    pub all_stores_must_succeed: bool,
    /// `X-Image-Meta-Store`.
    pub store_header: Option<String>,
}

impl ImportRequest {
    /// Upstream's `_validate_import_body`, then the types of the fields we read.
    pub fn parse(
        body: Value,
        enabled_methods: &[String],
        store_header: Option<String>,
    ) -> CoreResult<ImportRequest> {
        let bad = |m: &str| CoreError::BadRequest(m.to_string());
        let method = body
            .get("method")
            .ok_or_else(|| bad("Import request requires a 'method' field."))?;
        let name = method
            .get("name")
            .ok_or_else(|| bad("Import request requires a 'name' field."))?;
        let name_text = name.as_str().unwrap_or_default();
        let known = ImportMethod::from_name(name_text)
            .filter(|_| enabled_methods.iter().any(|m| m == name_text))
            .ok_or_else(|| {
                CoreError::BadRequest(format!("Unknown import method name '{}'.", shown(name)))
            })?;
        let all_stores_must_succeed = match body.get("all_stores_must_succeed") {
            None => true,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err(bad("'all_stores_must_succeed' must be boolean value only")),
        };
        let all_stores = match body.get("all_stores") {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err(bad("'all_stores' must be boolean value only")),
        };
        let stores = match body.get("stores") {
            None => None,
            Some(Value::Array(items)) => Some(
                items
                    .iter()
                    .map(|v| v.as_str().map(str::to_string))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| bad("'stores' must be a list of store identifiers"))?,
            ),
            Some(_) => return Err(bad("'stores' must be a list of store identifiers")),
        };
        let uri = match method.get("uri") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(bad("'uri' must be a string")),
        };
        Ok(ImportRequest {
            method: known,
            uri,
            stores,
            all_stores,
            all_stores_must_succeed,
            store_header,
            body,
        })
    }
}

/// A JSON value as Python would print it in the message.
fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "None".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn methods() -> Vec<String> {
        vec!["glance-direct".into(), "web-download".into()]
    }

    fn err(body: Value) -> String {
        ImportRequest::parse(body, &methods(), None)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn upstreams_messages_in_its_order() {
        assert_eq!(err(json!({})), "Import request requires a 'method' field.");
        assert_eq!(
            err(json!({"method": {}})),
            "Import request requires a 'name' field."
        );
        assert_eq!(
            err(json!({"method": {"name": "copy-image"}})),
            "Unknown import method name 'copy-image'."
        );
        assert_eq!(
            err(json!({"method": {"name": "glance-direct"}, "all_stores": "yes"})),
            "'all_stores' must be boolean value only"
        );
        assert_eq!(
            err(json!({"method": {"name": "glance-direct"}, "all_stores_must_succeed": 1})),
            "'all_stores_must_succeed' must be boolean value only"
        );
    }

    #[test]
    fn a_valid_body_keeps_what_was_sent() {
        let body = json!({"method": {"name": "web-download", "uri": "http://example.com/x"},
                          "stores": ["a", "b"], "all_stores_must_succeed": false});
        let req = ImportRequest::parse(body.clone(), &methods(), Some("a".into())).unwrap();
        assert_eq!(req.method, ImportMethod::WebDownload);
        assert_eq!(req.uri.as_deref(), Some("http://example.com/x"));
        assert_eq!(req.stores, Some(vec!["a".to_string(), "b".to_string()]));
        assert!(!req.all_stores_must_succeed);
        assert!(!req.all_stores);
        assert_eq!(req.body, body);
    }
}
