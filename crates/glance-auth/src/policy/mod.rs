//! oslo.policy-compatible rule engine with upstream Glance's default rules.
//!
//! A rule is a check string in oslo.policy's language (`role:admin or
//! (role:member and project_id:%(project_id)s)`), evaluated against the caller's
//! credentials (built from a [`RequestContext`](crate::RequestContext) the way
//! oslo.context's `to_policy_values()` does) and a [`Target`] describing the object
//! acted upon. The [`Enforcer`] holds upstream Glance's registered defaults (secure
//! RBAC, as in `glance/policies/*.py`), the operator's overrides from `policy.yaml` /
//! `policy.json` and `policy.d/`, and rules added at run time (property
//! protections' `policies` format).
//!
//! Where we differ from oslo.policy, on purpose:
//! - A check string that does not parse is a startup error ([`PolicyError`]) naming
//!   the rule and the file line; oslo logs it and makes the rule deny everything.
//!   So is a broken `%(...)` template or a malformed literal left side
//!   (`'open:x`), which oslo only trips over, with a 500, when the rule is
//!   enforced.
//! - `http:` / `https:` checks are recognised but always deny (with a warning): we
//!   do not call remote policy servers.
//! - `rule:NAME` naming a rule that does not exist, and enforcing a rule name that
//!   does not exist, deny. oslo falls back to the `default` rule (in Glance `""`,
//!   i.e. allow) for both; we fail closed.
//! - Evaluation errors Python would raise at run time (a `%(key)d` of a string,
//!   a dotted credential path through a string, endless `rule:` recursion) deny
//!   instead of failing the request with a 500.
//! - A policy file value that YAML types as a boolean or a number is an error; oslo
//!   would treat `false` / `0` as "always allow" and crash on `true` / `1`.

mod check;
mod check_parser;
mod credentials;
mod enforcer;
mod glance_defaults;
mod interpolation;
mod policy_file;
mod python_literal;
mod target;
mod yaml_scalars;
mod yaml_subset;

#[cfg(test)]
mod check_tests;
#[cfg(test)]
mod default_rules_tests;
#[cfg(test)]
mod policy_file_tests;

use std::fmt;
use std::path::PathBuf;

pub use credentials::TokenScope;
pub use enforcer::{Enforcer, PolicyChecker, PolicyOptions};
pub use target::{Target, TargetValue};

/// A policy that cannot be loaded: the service must not start with it.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// A check string that is not valid in the policy language.
    #[error("{}policy rule \"{rule}\" has an invalid check string {check:?}: {reason}", origin_prefix(.origin))]
    InvalidRule {
        rule: String,
        check: String,
        reason: String,
        /// Where the rule was written; None for rules added at run time.
        origin: Option<RuleOrigin>,
    },
    /// A policy file that is not the YAML or JSON mapping oslo.policy reads.
    #[error("{}, line {line}: {reason}", .file.display())]
    InvalidFile {
        file: PathBuf,
        /// 1-based.
        line: usize,
        reason: String,
    },
    #[error("cannot read policy file {}: {source}", .file.display())]
    Unreadable {
        file: PathBuf,
        source: std::io::Error,
    },
    /// `policy_file` was required to exist and does not.
    #[error("policy file {} does not exist", .0.display())]
    MissingFile(PathBuf),
    /// A `policy_dirs` entry that exists but is a file (oslo raises too).
    #[error("policy directory {} is not a directory", .0.display())]
    NotADirectory(PathBuf),
}

/// The file and 1-based line a rule was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleOrigin {
    pub file: PathBuf,
    pub line: usize,
}

fn origin_prefix(origin: &Option<RuleOrigin>) -> String {
    match origin {
        Some(o) => format!("{}, line {}: ", o.file.display(), o.line),
        None => String::new(),
    }
}

/// A refused action. The message is upstream Glance's `Forbidden` text, which
/// clients see in the 403 body whichever way the check failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("You are not authorized to complete {action} action.")]
pub struct PolicyDenied {
    /// The rule name that was enforced.
    pub action: String,
    /// Why, for logs; not shown to the caller.
    pub reason: DenialReason,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DenialReason {
    /// The rule's check string evaluated to false.
    RuleFailed,
    /// The token's scope is not one of the rule's `scope_types` (upstream's
    /// `InvalidScope`, which Glance turns into the same 403).
    ScopeMismatch { token_scope: TokenScope },
    /// No rule of that name exists.
    UnknownRule,
}

impl fmt::Display for DenialReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DenialReason::RuleFailed => f.write_str("the rule's check failed"),
            DenialReason::ScopeMismatch { token_scope } => {
                write!(
                    f,
                    "the token is {token_scope}-scoped, outside the rule's scope_types"
                )
            }
            DenialReason::UnknownRule => f.write_str("no such rule"),
        }
    }
}
