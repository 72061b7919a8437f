//! A failed keyword and the choice and wording of the failure that is reported.

use std::cmp::Ordering;
use std::collections::VecDeque;

use serde_json::Value;

use super::pyrepr::{pformat, str_repr};

/// One step of a path into the instance or the schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    Index(usize),
    Key(String),
}

impl Ord for Step {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Step::Index(a), Step::Index(b)) => a.cmp(b),
            (Step::Key(a), Step::Key(b)) => a.cmp(b),
            (Step::Index(_), Step::Key(_)) => Ordering::Less,
            (Step::Key(_), Step::Index(_)) => Ordering::Greater,
        }
    }
}

impl PartialOrd for Step {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

fn step_repr(step: &Step) -> String {
    match step {
        Step::Index(i) => i.to_string(),
        Step::Key(k) => str_repr(k),
    }
}

/// One failed keyword, located in the instance and in the schema.
pub(crate) struct Failure<'a> {
    pub message: String,
    /// Keyword (empty for a `false` schema), schema holding it and the instance checked:
    /// set where the failure arose.
    pub origin: Option<(String, &'a Value, &'a Value)>,
    pub path: VecDeque<Step>,
    pub schema_path: VecDeque<Step>,
}

impl<'a> Failure<'a> {
    pub(crate) fn new(message: String) -> Failure<'a> {
        Failure {
            message,
            origin: None,
            path: VecDeque::new(),
            schema_path: VecDeque::new(),
        }
    }

    /// Whether the failing instance at least has a type its schema allows.
    fn matches_type(&self) -> bool {
        match &self.origin {
            Some((_, schema, instance)) => match schema.get("type") {
                Some(Value::String(t)) => is_type(instance, t),
                Some(Value::Array(types)) => types
                    .iter()
                    .any(|t| t.as_str().is_some_and(|t| is_type(instance, t))),
                _ => false,
            },
            None => false,
        }
    }

    /// Message, the keyword and schema that failed, and the offending instance.
    pub(crate) fn describe(&self) -> String {
        let Some((keyword, schema, instance)) = &self.origin else {
            return self.message.clone();
        };
        let steps: Vec<&Step> = self.schema_path.iter().collect();
        let schema_steps = &steps[..steps.len().saturating_sub(1)];
        let schema_at = index_text("schema", schema_steps.iter().copied());
        let instance_at = index_text("instance", self.path.iter());
        let text = format!(
            "{}\n\nFailed validating {} in {}:\n    {}\n\nOn {}:\n    {}",
            self.message,
            if keyword.is_empty() {
                "None".to_string()
            } else {
                str_repr(keyword)
            },
            schema_at,
            pformat(schema).replace('\n', "\n    "),
            instance_at,
            pformat(instance).replace('\n', "\n    "),
        );
        text.trim_end().to_string()
    }
}

fn index_text<'s>(word: &str, steps: impl Iterator<Item = &'s Step>) -> String {
    let parts: Vec<String> = steps.map(step_repr).collect();
    if parts.is_empty() {
        word.to_string()
    } else {
        format!("{word}[{}]", parts.join("]["))
    }
}

/// The shallowest failure wins; among those at the same depth the greatest instance path,
/// then one whose instance does not even have the right type; then the first found.
pub(crate) fn best_match(failures: Vec<Failure<'_>>) -> Option<Failure<'_>> {
    let key = |f: &Failure<'_>| {
        (
            std::cmp::Reverse(f.path.len()),
            f.path.clone(),
            !f.matches_type(),
        )
    };
    let mut best: Option<Failure<'_>> = None;
    for failure in failures {
        let better = match &best {
            None => true,
            Some(current) => key(&failure) > key(current),
        };
        if better {
            best = Some(failure);
        }
    }
    best
}

pub(crate) fn is_type(value: &Value, type_name: &str) -> bool {
    match type_name {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "number" => value.is_number(),
        "integer" => match value {
            Value::Number(n) => {
                n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0)
            }
            _ => false,
        },
        _ => false,
    }
}
