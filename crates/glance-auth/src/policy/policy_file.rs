//! Reading a policy file (`policy.yaml`, legacy `policy.json`, files of
//! `policy.d/`) into parsed rules.
//!
//! oslo.policy hands the text to `yaml.safe_load`, which reads JSON too. We read a
//! document that starts with `{` as JSON, anything else with our YAML subset.
//! Values are check strings; `null` / an empty value allows everyone; a list is
//! the legacy list-of-lists syntax.

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;

use super::check::Check;
use super::check_parser::{parse_check_str, parse_legacy_rule};
use super::yaml_subset::{parse_top_level_mapping, YamlValue};
use super::{PolicyError, RuleOrigin};

/// One rule as a file defines it.
#[derive(Debug, Clone)]
pub(crate) struct FileRule {
    pub(crate) name: String,
    pub(crate) check: Check,
}

/// A rule's value before parsing.
enum RuleText {
    CheckStr(String),
    Legacy(Vec<Vec<String>>),
}

pub(crate) fn read_policy_file(path: &Path) -> Result<Vec<FileRule>, PolicyError> {
    let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Unreadable {
        file: path.to_path_buf(),
        source,
    })?;
    parse_policy_text(&text, path)
}

/// Parses the text of the file at `path` (named in errors). Rules come back in
/// file order, duplicates included, so inserting them in order keeps the last.
pub(crate) fn parse_policy_text(text: &str, path: &Path) -> Result<Vec<FileRule>, PolicyError> {
    let invalid = |line: usize, reason: String| PolicyError::InvalidFile {
        file: path.to_path_buf(),
        line,
        reason,
    };
    let raw = match json_document(text) {
        Some(json) => json_rules(&json).map_err(|(line, reason)| invalid(line, reason))?,
        None => yaml_rules(text).map_err(|(line, reason)| invalid(line, reason))?,
    };

    let mut first_lines: HashMap<String, usize> = HashMap::new();
    let mut rules = Vec::with_capacity(raw.len());
    for (name, value, line) in raw {
        if let Some(first) = first_lines.insert(name.clone(), line) {
            tracing::warn!(file = %path.display(), rule = %name, first_line = first, line,
                "policy file defines a rule twice; the last definition wins");
        }
        let origin = Some(RuleOrigin {
            file: path.to_path_buf(),
            line,
        });
        let (check, source) = match value {
            RuleText::CheckStr(s) => (parse_check_str(&s), s),
            RuleText::Legacy(lists) => (
                parse_legacy_rule(&lists),
                serde_json::to_string(&lists).unwrap_or_default(),
            ),
        };
        let check = check.map_err(|reason| PolicyError::InvalidRule {
            rule: name.clone(),
            check: source,
            reason,
            origin,
        })?;
        rules.push(FileRule { name, check });
    }
    Ok(rules)
}

/// The text to read as JSON, if the document is a JSON object: leading YAML
/// comments are blanked (keeping line numbers) since YAML would skip them.
fn json_document(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut in_prefix = true;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if in_prefix && trimmed.starts_with('#') {
            out.push('\n');
            continue;
        }
        if in_prefix && !trimmed.is_empty() {
            if !trimmed.starts_with('{') {
                return None;
            }
            in_prefix = false;
        }
        out.push_str(line);
    }
    (!in_prefix).then_some(out)
}

type RawRules = Vec<(String, RuleText, usize)>;

fn json_rules(text: &str) -> Result<RawRules, (usize, String)> {
    let document: Value =
        serde_json::from_str(text).map_err(|e| (e.line().max(1), format!("invalid JSON: {e}")))?;
    let Value::Object(map) = document else {
        return Err((
            1,
            "a policy file must be a mapping of rule names to check strings".into(),
        ));
    };
    map.into_iter()
        .map(|(name, value)| {
            let line = json_key_line(text, &name);
            let rule = match value {
                Value::String(s) => RuleText::CheckStr(s),
                Value::Null => RuleText::CheckStr(String::new()),
                Value::Array(items) => {
                    RuleText::Legacy(legacy_lists(items).map_err(|e| (line, e))?)
                }
                other => {
                    return Err((
                        line,
                        format!("rule {name:?}: {other} is not a check string"),
                    ))
                }
            };
            Ok((name, rule, line))
        })
        .collect()
}

/// The line of the last `"name":` in a JSON text (the definition that wins).
fn json_key_line(text: &str, name: &str) -> usize {
    let needle = serde_json::to_string(name).unwrap_or_default();
    text.match_indices(&needle)
        .filter(|(at, _)| text[at + needle.len()..].trim_start().starts_with(':'))
        .last()
        .map_or(1, |(at, _)| text[..at].matches('\n').count() + 1)
}

/// The legacy syntax: a list whose items are check strings or lists of them.
fn legacy_lists(items: Vec<Value>) -> Result<Vec<Vec<String>>, String> {
    const SHAPE: &str = "a list rule must hold check strings or lists of check strings";
    items
        .into_iter()
        .map(|item| match item {
            Value::String(s) => Ok(vec![s]),
            Value::Array(inner) => inner
                .into_iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s),
                    _ => Err(SHAPE.to_string()),
                })
                .collect(),
            _ => Err(SHAPE.to_string()),
        })
        .collect()
}

fn yaml_rules(text: &str) -> Result<RawRules, (usize, String)> {
    let entries = parse_top_level_mapping(text).map_err(|e| (e.line, e.message))?;
    entries
        .into_iter()
        .map(|entry| {
            let line = entry.line;
            let name = entry.key;
            let rule = match entry.value {
                YamlValue::Str(s) => RuleText::CheckStr(s),
                YamlValue::Null => RuleText::CheckStr(String::new()),
                YamlValue::Bool(_) | YamlValue::Number(_) => {
                    return Err((
                        line,
                        format!(
                            "rule {name:?}: YAML reads this value as a boolean or number, not a \
                             check string; quote it"
                        ),
                    ))
                }
                YamlValue::FlowSequence(raw) => match serde_json::from_str::<Value>(&raw) {
                    Ok(Value::Array(items)) => {
                        RuleText::Legacy(legacy_lists(items).map_err(|e| (line, e))?)
                    }
                    _ => {
                        return Err((
                            line,
                            format!(
                                "rule {name:?}: a list rule must be written JSON-style, \
                                 like [[\"role:admin\"]]"
                            ),
                        ))
                    }
                },
            };
            Ok((name, rule, line))
        })
        .collect()
}
