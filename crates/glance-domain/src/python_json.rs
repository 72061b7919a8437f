//! JSON text as Python's `json.dumps` writes it with its defaults: `", "` and `": "`
//! separators, keys in their given order, everything outside printable ASCII
//! escaped as `\uXXXX`, and floats as Python's `repr` spells them. Upstream's
//! loader stores property and object schemas in this form and its exporter writes
//! files in it, so we do the same, byte for byte.
//!
//! glance-api's streaming serializer for response bodies writes the same layout
//! through serde; this one works on a `Value` and also spells floats as Python's
//! `repr` does (schemas stored by `glance-manage`, strings in error pages).

use std::fmt::Write;

use serde_json::Value;

/// A string as Python's `json.dumps` writes it.
pub fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    write_string(&mut out, s);
    out
}

/// `value` as Python's `json.dumps(value)` writes it.
pub fn dumps(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value);
    out
}

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => match n.as_f64().filter(|_| n.is_f64()) {
            Some(f) => out.push_str(&python_float(f)),
            None => out.push_str(&n.to_string()),
        },
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_string(out, key);
                out.push_str(": ");
                write_value(out, item);
            }
            out.push('}');
        }
    }
}

/// Python's `ensure_ascii` quoting: short escapes for the usual control characters,
/// `\uXXXX` (UTF-16 units, lowercase hex) for anything else outside ' '..='~'.
pub fn write_string(out: &mut String, s: &str) {
    out.push('"');
    let mut units = [0u16; 2];
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

/// Python's `repr` of a float (JSON has only finite ones).
fn python_float(value: f64) -> String {
    crate::schema::float_repr(value)
}

#[cfg(test)]
mod tests {
    use super::{dumps, python_float};
    use serde_json::json;

    #[test]
    fn layout_and_escapes_match_python() {
        // Expected texts as Python 3's json.dumps writes them.
        let v = json!({"b": [1, -2, null], "a": {"c": true}, "d": "é😀\n\"\\\u{7f}\u{1}/"});
        assert_eq!(
            dumps(&v),
            r#"{"b": [1, -2, null], "a": {"c": true}, "d": "\u00e9\ud83d\ude00\n\"\\\u007f\u0001/"}"#
        );
        assert_eq!(dumps(&json!({})), "{}");
        assert_eq!(dumps(&json!([])), "[]");
    }

    #[test]
    fn floats_match_python_repr() {
        for (value, python) in [
            (1.0, "1.0"),
            (-2.5, "-2.5"),
            (0.1, "0.1"),
            (100000.0, "100000.0"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (1.5e16, "1.5e+16"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-1.25e-7, "-1.25e-07"),
            (123.456, "123.456"),
            (1e100, "1e+100"),
            (0.0, "0.0"),
            (1234567890123456.7, "1234567890123456.8"),
            (12345678901234567.0, "1.2345678901234568e+16"),
            (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
        ] {
            assert_eq!(python_float(value), python, "{value}");
        }
    }
}
