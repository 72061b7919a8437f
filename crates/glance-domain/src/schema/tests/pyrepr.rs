//! Python-style rendering used in validation messages.

use super::super::pyrepr::*;
use serde_json::json;

#[test]
fn scalars_and_containers() {
    assert_eq!(repr(&json!(null)), "None");
    assert_eq!(repr(&json!([true, false, 1, -2])), "[True, False, 1, -2]");
    assert_eq!(repr(&json!({"a": "b"})), "{'a': 'b'}");
    assert_eq!(str_repr("it's"), "\"it's\"");
    assert_eq!(str_repr("it's \"x\""), "'it\\'s \"x\"'");
    assert_eq!(str_repr("a\nb\\\u{1}é"), "'a\\nb\\\\\\x01é'");
}

#[test]
fn floats_like_python() {
    assert_eq!(float_repr(1.5), "1.5");
    assert_eq!(float_repr(1.0), "1.0");
    assert_eq!(float_repr(-0.25), "-0.25");
    assert_eq!(float_repr(1e16), "1e+16");
    assert_eq!(float_repr(123456789012345.0), "123456789012345.0");
    assert_eq!(float_repr(0.0001), "0.0001");
    assert_eq!(float_repr(0.00001), "1e-05");
    assert_eq!(float_repr(1.5e300), "1.5e+300");
}

#[test]
fn pformat_wraps_long_values() {
    let v =
        json!({"type": ["null", "string"], "description": "x".repeat(80), "enum": [null, "ami"]});
    let expected = format!(
        "{{'type': ['null', 'string'],\n 'description': '{}',\n 'enum': [None, 'ami']}}",
        "x".repeat(80)
    );
    assert_eq!(pformat(&v), expected);
    let s = json!("word ".repeat(20));
    let text = pformat(&s);
    assert!(text.starts_with("('word word"), "{text}");
    assert!(text.ends_with("word ')"), "{text}");
    assert_eq!(pformat(&json!("short")), "'short'");
}
