//! A small YAML emitter for `-f yaml`: block mappings and sequences in PyYAML's
//! `safe_dump(default_flow_style=False)` layout (a sequence inside a mapping is not
//! indented further), keys kept in the order given. Strings are quoted only when a
//! YAML 1.1 reader would take them for something else (a number, a boolean, null, a
//! date) or when their characters would break the plain style.

use serde_json::Value;

/// The document for `value`, ending with a newline.
pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Array(items) if !items.is_empty() => sequence(items, 0, &mut out),
        Value::Object(map) if !map.is_empty() => mapping(map, 0, &mut out),
        scalar => {
            out.push_str(&inline(scalar));
            out.push('\n');
        }
    }
    out
}

fn is_block(value: &Value) -> bool {
    match value {
        Value::Array(items) => !items.is_empty(),
        Value::Object(map) => !map.is_empty(),
        _ => false,
    }
}

fn mapping(map: &serde_json::Map<String, Value>, indent: usize, out: &mut String) {
    for (n, (key, value)) in map.iter().enumerate() {
        // The first key of a mapping that is a sequence item sits after the "- ".
        if n > 0 || !out.ends_with("- ") {
            out.push_str(&" ".repeat(indent));
        }
        out.push_str(&scalar_string(key));
        out.push(':');
        match value {
            Value::Object(inner) if !inner.is_empty() => {
                out.push('\n');
                mapping(inner, indent + 2, out);
            }
            Value::Array(items) if !items.is_empty() => {
                out.push('\n');
                sequence(items, indent, out);
            }
            scalar => {
                out.push(' ');
                out.push_str(&inline(scalar));
                out.push('\n');
            }
        }
    }
}

fn sequence(items: &[Value], indent: usize, out: &mut String) {
    for (n, item) in items.iter().enumerate() {
        // A sequence that is itself an item starts on its parent's dash line.
        if n > 0 || !out.ends_with("- ") {
            out.push_str(&" ".repeat(indent));
        }
        out.push_str("- ");
        match item {
            Value::Object(map) if is_block(item) => mapping(map, indent + 2, out),
            Value::Array(inner) if is_block(item) => sequence(inner, indent + 2, out),
            scalar => {
                out.push_str(&inline(scalar));
                out.push('\n');
            }
        }
    }
}

/// A scalar or an empty collection on one line.
fn inline(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => scalar_string(s),
        Value::Array(_) => "[]".into(),
        Value::Object(_) => "{}".into(),
    }
}

/// `s` plain when that reads back as the same string, else quoted: single quotes
/// (only `'` needs escaping) unless it holds characters those cannot carry.
fn scalar_string(s: &str) -> String {
    if s.chars().any(|c| c.is_control() || c == '\u{feff}') {
        // JSON's escapes are all valid in a YAML double-quoted scalar.
        return Value::String(s.to_string()).to_string();
    }
    if needs_quotes(s) {
        return format!("'{}'", s.replace('\'', "''"));
    }
    s.to_string()
}

fn needs_quotes(s: &str) -> bool {
    const INDICATORS: &str = "-?:,[]{}#&*!|>'\"%@`";
    const SPECIAL_WORDS: &[&str] = &[
        "null", "~", "true", "false", "yes", "no", "on", "off", "y", "n",
    ];
    let Some(first) = s.chars().next() else {
        return true;
    };
    INDICATORS.contains(first)
        || s.starts_with(' ')
        || s.ends_with(' ')
        || s.ends_with(':')
        || s.contains(": ")
        || s.contains(" #")
        || SPECIAL_WORDS.contains(&s.to_ascii_lowercase().as_str())
        || looks_numeric(s)
        || looks_like_a_date(s)
}

/// Integers, floats (also `.inf`, `.nan`, `1_000`, `0x1f`, `1e3`) and YAML 1.1's
/// sexagesimal numbers (`12:30`): anything built only of number characters that
/// starts like a number.
fn looks_numeric(s: &str) -> bool {
    let unsigned = s.trim_start_matches(['+', '-']);
    let lower = unsigned.to_ascii_lowercase();
    if [".inf", ".nan"].contains(&lower.as_str()) || s.parse::<f64>().is_ok() {
        return true;
    }
    if let Some(digits) = lower
        .strip_prefix("0x")
        .or_else(|| lower.strip_prefix("0o"))
        .or_else(|| lower.strip_prefix("0b"))
    {
        return !digits.is_empty() && digits.chars().all(|c| c.is_ascii_hexdigit() || c == '_');
    }
    unsigned.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && unsigned
            .chars()
            .all(|c| c.is_ascii_digit() || "._:eE+-".contains(c))
}

/// YAML 1.1 timestamps start with `YYYY-M-D`.
fn looks_like_a_date(s: &str) -> bool {
    let mut parts = s.splitn(3, '-');
    let (Some(year), Some(month), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let day: String = rest.chars().take_while(char::is_ascii_digit).collect();
    year.len() == 4
        && year.chars().all(|c| c.is_ascii_digit())
        && (1..=2).contains(&month.len())
        && month.chars().all(|c| c.is_ascii_digit())
        && (1..=2).contains(&day.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn mappings_and_sequences_in_block_style() {
        let doc = json!({
            "id": "6f3c1f2e-0d4b-4c39-9c61-6c2f0b0c6b0e",
            "tags": ["blue", "red"],
            "min_disk": 0,
            "protected": false,
            "checksum": null,
            "locations": [],
            "properties": {"a": {"b": "c"}, "empty": {}},
        });
        assert_eq!(
            to_yaml(&doc),
            "id: 6f3c1f2e-0d4b-4c39-9c61-6c2f0b0c6b0e\n\
             tags:\n- blue\n- red\n\
             min_disk: 0\nprotected: false\nchecksum: null\nlocations: []\n\
             properties:\n  a:\n    b: c\n  empty: {}\n"
        );
    }

    #[test]
    fn lists_of_rows_put_the_first_key_after_the_dash() {
        let doc = json!([
            {"ID": "1a", "Name": "one", "Tags": ["x"]},
            {"ID": "2b", "Name": null, "Tags": []},
        ]);
        assert_eq!(
            to_yaml(&doc),
            "- ID: 1a\n  Name: one\n  Tags:\n  - x\n- ID: 2b\n  Name: null\n  Tags: []\n"
        );
        assert_eq!(to_yaml(&json!([])), "[]\n");
        assert_eq!(to_yaml(&json!([[1, 2], [3]])), "- - 1\n  - 2\n- - 3\n");
    }

    #[test]
    fn strings_that_would_read_back_as_something_else_are_quoted() {
        for (plain, yaml) in [
            ("", "''"),
            ("true", "'true'"),
            ("No", "'No'"),
            ("null", "'null'"),
            ("~", "'~'"),
            ("42", "'42'"),
            ("-1.5", "'-1.5'"),
            ("1e3", "'1e3'"),
            ("0x1F", "'0x1F'"),
            (".inf", "'.inf'"),
            ("12:30", "'12:30'"),
            ("1_000", "'1_000'"),
            ("2024-05-01T10:00:00Z", "'2024-05-01T10:00:00Z'"),
            ("- item", "'- item'"),
            ("key: value", "'key: value'"),
            ("a #comment", "'a #comment'"),
            ("it's", "it's"),
            ("'quoted'", "'''quoted'''"),
            (" padded", "' padded'"),
            ("{json}", "'{json}'"),
            ("two\nlines", "\"two\\nlines\""),
            ("6f3c1f2e-0d4b", "6f3c1f2e-0d4b"),
            ("raw", "raw"),
            ("sha512", "sha512"),
            ("http://x:80/a", "http://x:80/a"),
        ] {
            assert_eq!(scalar_string(plain), yaml, "{plain:?}");
        }
    }
}
