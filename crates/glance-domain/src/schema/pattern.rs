//! Regular expressions of `pattern` keywords, compiled once per schema, with Python `re`
//! search semantics.

use std::collections::HashMap;

use regex_lite::Regex;
use serde_json::Value;

use super::SchemaError;

/// The compiled `pattern`s of one schema document, keyed by their source text.
#[derive(Debug, Default)]
pub(crate) struct Patterns(HashMap<String, Regex>);

impl Patterns {
    /// Compiles every `pattern` string found in `schema`.
    pub(crate) fn collect(schema: &Value) -> Result<Patterns, SchemaError> {
        let mut patterns = Patterns::default();
        collect_patterns(schema, &mut patterns.0)?;
        Ok(patterns)
    }

    /// `re.search(pattern, text) is not None`; a pattern that cannot be compiled matches.
    pub(crate) fn is_match(&self, pattern: &str, text: &str) -> bool {
        match self.0.get(pattern) {
            Some(re) => re.is_match(text),
            None => compile(pattern).map(|re| re.is_match(text)).unwrap_or(true),
        }
    }
}

/// Python's `re` lets `$` match before a final newline and spells end-of-text `\Z`.
fn translate_pattern(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut chars = pattern.chars();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('Z') => out.push_str("\\z"),
                Some(next) => {
                    out.push('\\');
                    out.push(next);
                }
                None => out.push('\\'),
            },
            '[' if !in_class => {
                in_class = true;
                out.push(c);
            }
            ']' if in_class => {
                in_class = false;
                out.push(c);
            }
            '$' if !in_class => out.push_str("(?:\\n?\\z)"),
            c => out.push(c),
        }
    }
    out
}

fn compile(pattern: &str) -> Result<Regex, regex_lite::Error> {
    Regex::new(&translate_pattern(pattern))
}

fn collect_patterns(schema: &Value, into: &mut HashMap<String, Regex>) -> Result<(), SchemaError> {
    match schema {
        Value::Object(map) => {
            for (key, value) in map {
                if let (true, Value::String(p)) = (key == "pattern", value) {
                    if !into.contains_key(p) {
                        let re = compile(p).map_err(|e| {
                            SchemaError::Invalid(format!("invalid pattern {p:?}: {e}"))
                        })?;
                        into.insert(p.clone(), re);
                    }
                } else {
                    collect_patterns(value, into)?;
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                collect_patterns(item, into)?;
            }
        }
        _ => {}
    }
    Ok(())
}
