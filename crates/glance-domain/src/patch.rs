//! JSON-patch documents of `PATCH /v2/images/{id}` in both media types, parsed into
//! typed changes. Only syntax is checked here; what a change may touch is decided by
//! the core.

use serde_json::Value;

pub const MEDIA_TYPE_V2_0: &str = "application/openstack-images-v2.0-json-patch";
pub const MEDIA_TYPE_V2_1: &str = "application/openstack-images-v2.1-json-patch";

/// Which dialect a PATCH body is written in (the media type decides).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchDialect {
    /// `{"replace": "/name", "value": ..}`; `add` of an existing key is a conflict.
    V2_0,
    /// RFC 6902 style `{"op": "replace", "path": "/name", "value": ..}`; `add` overwrites.
    V2_1,
}

impl PatchDialect {
    /// Picks the dialect from a Content-Type value, ignoring parameters such as charset.
    pub fn from_content_type(content_type: &str) -> Option<PatchDialect> {
        let essence = content_type.split(';').next().unwrap_or("").trim();
        if essence.eq_ignore_ascii_case(MEDIA_TYPE_V2_1) {
            Some(PatchDialect::V2_1)
        } else if essence.eq_ignore_ascii_case(MEDIA_TYPE_V2_0) {
            Some(PatchDialect::V2_0)
        } else {
            None
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchOpKind {
    Add,
    Remove,
    Replace,
}

impl PatchOpKind {
    pub fn name(self) -> &'static str {
        match self {
            PatchOpKind::Add => "add",
            PatchOpKind::Remove => "remove",
            PatchOpKind::Replace => "replace",
        }
    }

    fn parse(name: &str) -> Option<PatchOpKind> {
        match name {
            "add" => Some(PatchOpKind::Add),
            "remove" => Some(PatchOpKind::Remove),
            "replace" => Some(PatchOpKind::Replace),
            _ => None,
        }
    }
}

/// One change: the decoded pointer segments and, for add/replace, the value.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchOp {
    pub kind: PatchOpKind,
    pub path: Vec<String>,
    pub value: Option<Value>,
}

/// A syntax error in a PATCH body (400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PatchSyntaxError(pub String);

fn err(msg: impl Into<String>) -> PatchSyntaxError {
    PatchSyntaxError(msg.into())
}

/// Parses a whole PATCH body (already decoded JSON).
pub fn parse_patch(body: &Value, dialect: PatchDialect) -> Result<Vec<PatchOp>, PatchSyntaxError> {
    let items = body
        .as_array()
        .ok_or_else(|| err("Request body must be a JSON array of operation objects."))?;
    items.iter().map(|item| parse_op(item, dialect)).collect()
}

const OPERATIONS: &str = "add, remove, replace";

fn parse_op(item: &Value, dialect: PatchDialect) -> Result<PatchOp, PatchSyntaxError> {
    let obj = item
        .as_object()
        .ok_or_else(|| err("Operations must be JSON objects."))?;
    let (kind, raw_path) = match dialect {
        PatchDialect::V2_1 => {
            let op = obj.get("op").ok_or_else(|| {
                err(format!(
                    "Unable to find `op` in JSON Schema change. It must be one of the following: {OPERATIONS}."
                ))
            })?;
            let kind = op.as_str().and_then(PatchOpKind::parse).ok_or_else(|| {
                let shown = op
                    .as_str()
                    .map(String::from)
                    .unwrap_or_else(|| op.to_string());
                err(format!(
                    "Invalid operation: `{shown}`. It must be one of the following: {OPERATIONS}."
                ))
            })?;
            let path = obj
                .get("path")
                .ok_or_else(|| err("Unable to find 'path' in JSON Schema change"))?;
            (kind, path)
        }
        PatchDialect::V2_0 => {
            let mut found = [
                ("add", PatchOpKind::Add),
                ("remove", PatchOpKind::Remove),
                ("replace", PatchOpKind::Replace),
            ]
            .into_iter()
            .filter_map(|(name, kind)| obj.get(name).map(|v| (kind, v)));
            let first = found.next().ok_or_else(|| {
                err("Operation objects must contain exactly one member named \"add\", \"remove\", or \"replace\".")
            })?;
            if found.next().is_some() {
                return Err(err(
                    "Operation objects must contain only one member named \"add\", \"remove\", or \"replace\".",
                ));
            }
            first
        }
    };
    let pointer = raw_path
        .as_str()
        .ok_or_else(|| err("Pointer must be a string."))?;
    let path = decode_pointer(pointer)?;
    check_depth(kind, &path)?;
    let value = match kind {
        PatchOpKind::Remove => None,
        PatchOpKind::Add | PatchOpKind::Replace => {
            Some(obj.get("value").cloned().ok_or_else(|| {
                err(format!(
                    "Operation \"{}\" requires a member named \"value\".",
                    kind.name()
                ))
            })?)
        }
    };
    Ok(PatchOp { kind, path, value })
}

/// Upstream's `_validate_path`: one segment, except `/locations/<pos>` for add and
/// remove.
fn check_depth(kind: PatchOpKind, path: &[String]) -> Result<(), PatchSyntaxError> {
    let depth = match (path.first().map(String::as_str), kind) {
        (Some("locations"), PatchOpKind::Add | PatchOpKind::Remove) => 2,
        _ => 1,
    };
    if path.len() != depth {
        return Err(err(format!(
            "Invalid JSON pointer for this resource: '/{}'",
            path.join("/")
        )));
    }
    Ok(())
}

/// Decodes a JSON pointer the way upstream does: leading slashes stripped, `~1` and
/// `~0` unescaped, each segment trimmed.
pub fn decode_pointer(pointer: &str) -> Result<Vec<String>, PatchSyntaxError> {
    if !pointer.starts_with('/') {
        return Err(err(format!(
            "Pointer `{pointer}` does not start with \"/\"."
        )));
    }
    let rest = &pointer[1..];
    if has_adjacent_slashes(rest) {
        return Err(err(format!("Pointer `{pointer}` contains adjacent \"/\".")));
    }
    if pointer.len() > 1 && pointer.ends_with('/') {
        return Err(err(format!("Pointer `{pointer}` end with \"/\".")));
    }
    if rest.trim() == "/" {
        return Err(err(format!(
            "Pointer `{pointer}` does not contains valid token."
        )));
    }
    if has_bad_escape(pointer) {
        return Err(err(format!(
            "Pointer `{pointer}` contains \"~\" not part of a recognized escape sequence."
        )));
    }
    Ok(pointer
        .trim_start_matches('/')
        .split('/')
        .map(|part| {
            part.replace("~1", "/")
                .replace("~0", "~")
                .trim()
                .to_string()
        })
        .collect())
}

/// Two slashes with only whitespace between them, as upstream's `/\s*?/` search.
fn has_adjacent_slashes(s: &str) -> bool {
    let mut last_slash = false;
    for c in s.chars() {
        if c == '/' {
            if last_slash {
                return true;
            }
            last_slash = true;
        } else if !c.is_whitespace() {
            last_slash = false;
        }
    }
    false
}

fn has_bad_escape(s: &str) -> bool {
    let bytes = s.as_bytes();
    bytes
        .iter()
        .enumerate()
        .any(|(i, &b)| b == b'~' && !matches!(bytes.get(i + 1), Some(b'0') | Some(b'1')))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn v2_1_ops_parse() {
        let ops = parse_patch(
            &json!([
                {"op": "replace", "path": "/name", "value": "x"},
                {"op": "add", "path": "/a~1b~0c", "value": "y"},
                {"op": "remove", "path": "/foo"}
            ]),
            PatchDialect::V2_1,
        )
        .unwrap();
        assert_eq!(ops[0].kind, PatchOpKind::Replace);
        assert_eq!(ops[0].path, vec!["name"]);
        assert_eq!(ops[1].path, vec!["a/b~c"]);
        assert_eq!(ops[2].value, None);
    }

    #[test]
    fn v2_0_ops_parse() {
        let ops = parse_patch(
            &json!([{"replace": "/protected", "value": false}, {"remove": "/x"}]),
            PatchDialect::V2_0,
        )
        .unwrap();
        assert_eq!(ops[0].kind, PatchOpKind::Replace);
        assert_eq!(ops[0].value, Some(json!(false)));
        assert_eq!(ops[1].kind, PatchOpKind::Remove);
    }

    #[test]
    fn syntax_errors() {
        let bad_v21 = [
            json!({"op": "replace", "path": "/name", "value": "x"}),
            json!([1]),
            json!([{"path": "/name", "value": 1}]),
            json!([{"op": "move", "path": "/name", "value": 1}]),
            json!([{"op": "test", "path": "/name", "value": 1}]),
            json!([{"op": "add", "value": 1}]),
            json!([{"op": "add", "path": "/name"}]),
            json!([{"op": "add", "path": "name", "value": 1}]),
            json!([{"op": "add", "path": "/a//b", "value": 1}]),
            json!([{"op": "add", "path": "/name/", "value": 1}]),
            json!([{"op": "add", "path": "/a~2", "value": 1}]),
            json!([{"op": "add", "path": 5, "value": 1}]),
            json!([{"op": "add", "path": "/tags/-", "value": 1}]),
            json!([{"op": "add", "path": "/locations", "value": []}]),
            json!([{"op": "replace", "path": "/locations/0", "value": {}}]),
        ];
        for body in bad_v21 {
            assert!(parse_patch(&body, PatchDialect::V2_1).is_err(), "{body}");
        }
        let bad_v20 = [
            json!([{"op": "add", "path": "/name", "value": 1}]),
            json!([{"add": "/a", "replace": "/b", "value": 1}]),
            json!([{"replace": "/name"}]),
        ];
        for body in bad_v20 {
            assert!(parse_patch(&body, PatchDialect::V2_0).is_err(), "{body}");
        }
        // The pointer depth is checked before the value, as upstream.
        let e =
            parse_patch(&json!([{"op": "add", "path": "/a/b"}]), PatchDialect::V2_1).unwrap_err();
        assert!(e.0.starts_with("Invalid JSON pointer"), "{e}");
        let ok = json!([{"op": "add", "path": "/locations/-", "value": {}}, {"op": "remove", "path": "/locations/0"}]);
        assert!(parse_patch(&ok, PatchDialect::V2_1).is_ok());
    }

    #[test]
    fn upstream_pointer_quirks() {
        // "/" names the empty property; "//name" is accepted and strips to "name".
        assert_eq!(decode_pointer("/").unwrap(), vec![""]);
        assert_eq!(decode_pointer("//name").unwrap(), vec!["name"]);
        assert_eq!(
            decode_pointer("/locations/0").unwrap(),
            vec!["locations", "0"]
        );
    }

    #[test]
    fn media_types() {
        assert_eq!(
            PatchDialect::from_content_type(
                "application/openstack-images-v2.1-json-patch; charset=UTF-8"
            ),
            Some(PatchDialect::V2_1)
        );
        assert_eq!(
            PatchDialect::from_content_type(MEDIA_TYPE_V2_0),
            Some(PatchDialect::V2_0)
        );
        assert_eq!(PatchDialect::from_content_type("application/json"), None);
    }
}
