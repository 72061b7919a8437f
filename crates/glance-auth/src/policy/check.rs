//! A parsed rule: a tree of checks, and how it evaluates.

use std::collections::HashMap;
use std::fmt;

use super::credentials::Credentials;
use super::interpolation::MatchTemplate;
use super::python_literal::LeftSide;
use super::target::Target;

/// How many `rule:` references deep an evaluation may go. oslo recurses until
/// Python's stack overflows on a cycle; real policies nest three or four deep.
const MAX_RULE_DEPTH: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Check {
    /// `""`, `@`.
    Always,
    /// `!`.
    Never,
    Not(Box<Check>),
    And(Vec<Check>),
    Or(Vec<Check>),
    /// `rule:NAME`: another rule's result.
    Rule(String),
    /// `role:NAME`: the caller has the role, compared case-insensitively.
    Role(MatchTemplate),
    /// `http:` / `https:`: a remote policy server, which we never call.
    Remote {
        kind: String,
        url: String,
    },
    /// `left:right`: a credential (or literal) equals the interpolated right side.
    Generic {
        kind: String,
        left: LeftSide,
        right: MatchTemplate,
    },
}

/// oslo.policy's `str()` of a check tree, so logs and tests read the same.
impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn join(f: &mut fmt::Formatter<'_>, items: &[Check], op: &str) -> fmt::Result {
            f.write_str("(")?;
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    write!(f, " {op} ")?;
                }
                write!(f, "{item}")?;
            }
            f.write_str(")")
        }
        match self {
            Check::Always => f.write_str("@"),
            Check::Never => f.write_str("!"),
            Check::Not(inner) => write!(f, "not {inner}"),
            Check::And(items) => join(f, items, "and"),
            Check::Or(items) => join(f, items, "or"),
            Check::Rule(name) => write!(f, "rule:{name}"),
            Check::Role(role) => write!(f, "role:{}", role.as_str()),
            Check::Remote { kind, url } => write!(f, "{kind}:{url}"),
            Check::Generic { kind, right, .. } => write!(f, "{kind}:{}", right.as_str()),
        }
    }
}

/// What one evaluation sees.
pub(crate) struct Evaluation<'a> {
    pub(crate) rules: &'a HashMap<String, Check>,
    pub(crate) creds: &'a Credentials,
    pub(crate) target: &'a Target,
}

impl Evaluation<'_> {
    pub(crate) fn evaluate(&self, check: &Check) -> bool {
        self.evaluate_at(check, 0)
    }

    fn evaluate_at(&self, check: &Check, depth: usize) -> bool {
        match check {
            Check::Always => true,
            Check::Never => false,
            Check::Not(inner) => !self.evaluate_at(inner, depth),
            Check::And(items) => items.iter().all(|c| self.evaluate_at(c, depth)),
            Check::Or(items) => items.iter().any(|c| self.evaluate_at(c, depth)),
            Check::Rule(name) => {
                if depth >= MAX_RULE_DEPTH {
                    tracing::warn!(rule = %name, "policy rules nest too deeply (a cycle?); denying");
                    return false;
                }
                match self.rules.get(name) {
                    Some(rule) => self.evaluate_at(rule, depth + 1),
                    None => {
                        tracing::debug!(rule = %name, "rule:{name} refers to no rule; denying");
                        false
                    }
                }
            }
            Check::Role(template) => match template.render(self.target) {
                Some(role) => {
                    let role = role.to_lowercase();
                    self.creds.roles().iter().any(|r| r.to_lowercase() == role)
                }
                None => false,
            },
            Check::Remote { kind, url } => {
                tracing::warn!(check = %format!("{kind}:{url}"),
                    "remote policy checks are not supported; denying");
                false
            }
            Check::Generic { left, right, .. } => {
                let Some(expected) = right.render(self.target) else {
                    return false;
                };
                match left {
                    LeftSide::Literal(value) => *value == expected,
                    LeftSide::CredentialPath(path) => self.credential_matches(path, &expected),
                }
            }
        }
    }

    /// oslo looks the dotted path up in the creds dict, descending into nested
    /// dicts and across lists. Our creds are flat, so only a one-segment path can
    /// reach a value; a longer one goes through a string or list, where Python
    /// raises (and we deny).
    fn credential_matches(&self, path: &[String], expected: &str) -> bool {
        match path {
            [key] => self.creds.get(key).is_some_and(|v| v.matches(expected)),
            _ => false,
        }
    }
}
