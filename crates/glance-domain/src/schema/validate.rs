//! A JSON-schema validator for the subset of keywords Glance's schemas use, reporting the
//! single most relevant failure in the same words upstream's validator library uses.
//!
//! Keywords checked: `type`, `enum`, `const`, `pattern`, `minLength`, `maxLength`,
//! `minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum`, `minItems`, `maxItems`,
//! `uniqueItems`, `items`, `properties`, `additionalProperties`, `required`,
//! `dependentRequired`, `allOf` and local `$ref`s. Everything else (`readOnly`, `format`,
//! `description`, `default`, ...) is annotation only.

use std::cmp::Ordering;

use serde_json::{Map, Value};

use super::failure::{best_match, is_type, Failure, Step};
use super::pattern::Patterns;
use super::pyrepr::{repr, str_repr};
use super::{SchemaError, SchemaViolation};

/// A schema document ready to validate instances against.
#[derive(Debug)]
pub struct Validator {
    name: String,
    schema: Value,
    patterns: Patterns,
}

impl Validator {
    /// Prepares `schema` (its `name` member names it in messages); fails when one of its
    /// `pattern`s is not a usable regular expression.
    pub fn new(schema: Value) -> Result<Validator, SchemaError> {
        let name = schema
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let patterns = Patterns::collect(&schema)?;
        Ok(Validator {
            name,
            schema,
            patterns,
        })
    }

    /// The schema document this validator checks against.
    pub fn schema(&self) -> &Value {
        &self.schema
    }

    /// Checks `instance`; the error text is
    /// `Provided object does not match schema '<name>': <reason>`.
    pub fn validate(&self, instance: &Value) -> Result<(), SchemaViolation> {
        let run = Run {
            root: &self.schema,
            patterns: &self.patterns,
        };
        let failures = run.check(instance, &self.schema);
        match best_match(failures) {
            None => Ok(()),
            Some(failure) => Err(SchemaViolation(format!(
                "Provided object does not match schema '{}': {}",
                self.name,
                failure.describe()
            ))),
        }
    }
}

/// Equality as the validator library sees it: `1 == 1.0`, but `true != 1`.
fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(i), Some(j)) => i == j,
            _ => x.as_f64() == y.as_f64(),
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_equal(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w)))
        }
        _ => a == b,
    }
}

fn as_f64(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        _ => None,
    }
}

/// Compares two JSON numbers exactly when both are integers.
fn compare_numbers(a: &Value, b: &Value) -> Option<Ordering> {
    if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
        return Some(x.cmp(&y));
    }
    as_f64(a)?.partial_cmp(&as_f64(b)?)
}

struct Run<'a> {
    root: &'a Value,
    patterns: &'a Patterns,
}

impl<'a> Run<'a> {
    fn check(&self, instance: &'a Value, schema: &'a Value) -> Vec<Failure<'a>> {
        let map = match schema {
            Value::Object(map) => map,
            Value::Bool(false) => {
                let mut failure =
                    Failure::new(format!("False schema does not allow {}", repr(instance)));
                // No keyword failed: upstream names the keyword `None` here.
                failure.origin = Some((String::new(), schema, instance));
                return vec![failure];
            }
            _ => return Vec::new(),
        };
        let mut failures = Vec::new();
        for (keyword, value) in map {
            for mut failure in self.keyword(keyword, value, instance, map) {
                if failure.origin.is_none() {
                    failure.origin = Some((keyword.clone(), schema, instance));
                }
                if keyword != "$ref" {
                    failure.schema_path.push_front(Step::Key(keyword.clone()));
                }
                failures.push(failure);
            }
        }
        failures
    }

    fn descend(
        &self,
        instance: &'a Value,
        schema: &'a Value,
        path: Option<Step>,
        schema_step: Option<Step>,
    ) -> Vec<Failure<'a>> {
        let mut failures = self.check(instance, schema);
        if schema == &Value::Bool(false) {
            // Upstream reports a `false` subschema without locating it.
            return failures;
        }
        for failure in &mut failures {
            if let Some(step) = &path {
                failure.path.push_front(step.clone());
            }
            if let Some(step) = &schema_step {
                failure.schema_path.push_front(step.clone());
            }
        }
        failures
    }

    fn resolve(&self, reference: &str) -> Option<&'a Value> {
        let pointer = reference.strip_prefix('#')?;
        let pointer = pointer.replace("%25", "%");
        self.root.pointer(&pointer)
    }

    fn keyword(
        &self,
        keyword: &str,
        value: &'a Value,
        instance: &'a Value,
        schema: &'a Map<String, Value>,
    ) -> Vec<Failure<'a>> {
        let one = |message: String| vec![Failure::new(message)];
        let inst = || repr(instance);
        match keyword {
            "$ref" => match value.as_str().and_then(|r| self.resolve(r)) {
                Some(target) => self.descend(instance, target, None, None),
                None => Vec::new(),
            },
            "allOf" => {
                let subs = value.as_array().map(Vec::as_slice).unwrap_or_default();
                subs.iter()
                    .enumerate()
                    .flat_map(|(i, sub)| self.descend(instance, sub, None, Some(Step::Index(i))))
                    .collect()
            }
            "type" => {
                let types: Vec<&Value> = match value {
                    Value::Array(items) => items.iter().collect(),
                    other => vec![other],
                };
                let ok = types
                    .iter()
                    .any(|t| t.as_str().is_some_and(|t| is_type(instance, t)));
                if ok {
                    return Vec::new();
                }
                let names: Vec<String> = types.iter().map(|t| repr(t)).collect();
                one(format!("{} is not of type {}", inst(), names.join(", ")))
            }
            "enum" => match value {
                Value::Array(options) if !options.iter().any(|o| json_equal(o, instance)) => {
                    one(format!("{} is not one of {}", inst(), repr(value)))
                }
                _ => Vec::new(),
            },
            "const" if !json_equal(value, instance) => one(format!("{} was expected", repr(value))),
            "pattern" => match (instance, value) {
                (Value::String(text), Value::String(p)) if !self.is_match(p, text) => {
                    one(format!("{} does not match {}", inst(), str_repr(p)))
                }
                _ => Vec::new(),
            },
            "minLength" | "maxLength" => {
                let (Value::String(text), Some(limit)) = (instance, as_f64(value)) else {
                    return Vec::new();
                };
                let len = text.chars().count() as f64;
                length_failure(keyword == "minLength", len, limit, &inst)
            }
            "minItems" | "maxItems" => {
                let (Value::Array(items), Some(limit)) = (instance, as_f64(value)) else {
                    return Vec::new();
                };
                length_failure(keyword == "minItems", items.len() as f64, limit, &inst)
            }
            "minimum" | "maximum" | "exclusiveMinimum" | "exclusiveMaximum" => {
                if !instance.is_number() {
                    return Vec::new();
                }
                let Some(order) = compare_numbers(instance, value) else {
                    return Vec::new();
                };
                let limit = repr(value);
                let failed = match keyword {
                    "minimum" => (order == Ordering::Less)
                        .then(|| format!("{} is less than the minimum of {limit}", inst())),
                    "maximum" => (order == Ordering::Greater)
                        .then(|| format!("{} is greater than the maximum of {limit}", inst())),
                    "exclusiveMinimum" => (order != Ordering::Greater).then(|| {
                        format!("{} is less than or equal to the minimum of {limit}", inst())
                    }),
                    _ => (order != Ordering::Less).then(|| {
                        format!(
                            "{} is greater than or equal to the maximum of {limit}",
                            inst()
                        )
                    }),
                };
                failed.map(one).unwrap_or_default()
            }
            "uniqueItems" => match instance {
                Value::Array(items) if value == &Value::Bool(true) => {
                    let dup = items
                        .iter()
                        .enumerate()
                        .any(|(i, a)| items[i + 1..].iter().any(|b| json_equal(a, b)));
                    if dup {
                        one(format!("{} has non-unique elements", inst()))
                    } else {
                        Vec::new()
                    }
                }
                _ => Vec::new(),
            },
            "items" => self.items(value, instance, schema),
            "properties" => {
                let (Value::Object(props), Value::Object(obj)) = (value, instance) else {
                    return Vec::new();
                };
                let mut failures = Vec::new();
                for (name, sub) in props {
                    if let Some(item) = obj.get(name) {
                        let step = Step::Key(name.clone());
                        failures.extend(self.descend(item, sub, Some(step.clone()), Some(step)));
                    }
                }
                failures
            }
            "additionalProperties" => self.additional(value, instance, schema),
            "required" => {
                let (Value::Array(names), Value::Object(obj)) = (value, instance) else {
                    return Vec::new();
                };
                names
                    .iter()
                    .filter_map(Value::as_str)
                    .filter(|n| !obj.contains_key(*n))
                    .map(|n| Failure::new(format!("{} is a required property", str_repr(n))))
                    .collect()
            }
            "dependentRequired" => {
                let (Value::Object(deps), Value::Object(obj)) = (value, instance) else {
                    return Vec::new();
                };
                let mut failures = Vec::new();
                for (property, needed) in deps.iter().filter(|(p, _)| obj.contains_key(*p)) {
                    for each in needed.as_array().map(Vec::as_slice).unwrap_or_default() {
                        if each.as_str().is_some_and(|e| !obj.contains_key(e)) {
                            let msg =
                                format!("{} is a dependency of {}", repr(each), str_repr(property));
                            failures.push(Failure::new(msg));
                        }
                    }
                }
                failures
            }
            _ => Vec::new(),
        }
    }

    fn is_match(&self, pattern: &str, text: &str) -> bool {
        self.patterns.is_match(pattern, text)
    }

    fn items(
        &self,
        items: &'a Value,
        instance: &'a Value,
        schema: &'a Map<String, Value>,
    ) -> Vec<Failure<'a>> {
        let Value::Array(elements) = instance else {
            return Vec::new();
        };
        let prefix = schema
            .get("prefixItems")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        if elements.len() <= prefix {
            return Vec::new();
        }
        let extra = elements.len() - prefix;
        if items == &Value::Bool(false) {
            let rest = if extra == 1 {
                repr(&elements[prefix])
            } else {
                repr(&Value::Array(elements[prefix..].to_vec()))
            };
            let noun = if prefix == 1 { "item" } else { "items" };
            return vec![Failure::new(format!(
                "Expected at most {prefix} {noun} but found {extra} extra: {rest}"
            ))];
        }
        (prefix..elements.len())
            .flat_map(|i| self.descend(&elements[i], items, Some(Step::Index(i)), None))
            .collect()
    }

    fn additional(
        &self,
        allowed: &'a Value,
        instance: &'a Value,
        schema: &'a Map<String, Value>,
    ) -> Vec<Failure<'a>> {
        let Value::Object(obj) = instance else {
            return Vec::new();
        };
        let declared = schema.get("properties").and_then(Value::as_object);
        let patterns = schema.get("patternProperties").and_then(Value::as_object);
        let extras: Vec<&String> = obj
            .keys()
            .filter(|k| !declared.is_some_and(|d| d.contains_key(*k)))
            .filter(|k| !patterns.is_some_and(|p| p.keys().any(|re| self.is_match(re, k))))
            .collect();
        match allowed {
            Value::Object(_) => extras
                .into_iter()
                .flat_map(|k| {
                    self.descend(&obj[k.as_str()], allowed, Some(Step::Key(k.clone())), None)
                })
                .collect(),
            Value::Bool(false) if !extras.is_empty() => {
                let mut sorted = extras;
                sorted.sort();
                let verb = if sorted.len() == 1 { "was" } else { "were" };
                let names: Vec<String> = sorted.iter().map(|k| str_repr(k)).collect();
                vec![Failure::new(format!(
                    "Additional properties are not allowed ({} {verb} unexpected)",
                    names.join(", ")
                ))]
            }
            _ => Vec::new(),
        }
    }
}

fn length_failure(
    at_least: bool,
    len: f64,
    limit: f64,
    inst: &dyn Fn() -> String,
) -> Vec<Failure<'static>> {
    let message = if at_least && len < limit {
        if limit == 1.0 {
            "should be non-empty"
        } else {
            "is too short"
        }
    } else if !at_least && len > limit {
        if limit == 0.0 {
            "is expected to be empty"
        } else {
            "is too long"
        }
    } else {
        return Vec::new();
    };
    vec![Failure::new(format!("{} {message}", inst()))]
}
