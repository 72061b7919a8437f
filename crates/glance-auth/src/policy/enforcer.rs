//! The rule set Glance enforces: upstream's registered defaults, overridden by the
//! operator's policy files, plus rules added at run time.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

use super::check::{Check, Evaluation};
use super::check_parser::parse_check_str;
use super::credentials::Credentials;
use super::glance_defaults::{DefaultRule, GLANCE_DEFAULT_RULES};
use super::policy_file::read_policy_file;
use super::target::Target;
use super::{DenialReason, PolicyDenied, PolicyError};
use crate::RequestContext;

/// `[oslo_policy]`, with paths already resolved by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyOptions {
    /// The policy file (`policy_file`, default `policy.yaml`), if one was found.
    pub policy_file: Option<PathBuf>,
    /// Whether a `policy_file` that does not exist is an error. oslo only logs a
    /// missing file, which is right for the default name; set this when the
    /// operator named the file explicitly and a typo should stop the service.
    pub policy_file_required: bool,
    /// `policy_dirs`, in order. Missing directories are skipped, as oslo does.
    pub policy_dirs: Vec<PathBuf>,
    /// Deny rules whose `scope_types` exclude the token's scope. oslo.policy has
    /// removed the switch (always on); false keeps its old behaviour of only
    /// logging the mismatch.
    pub enforce_scope: bool,
    /// Enforce only the new (secure RBAC) defaults. False ORs each default with
    /// its deprecated pre-RBAC check string, as oslo does.
    pub enforce_new_defaults: bool,
}

impl Default for PolicyOptions {
    fn default() -> Self {
        PolicyOptions {
            policy_file: None,
            policy_file_required: false,
            policy_dirs: Vec::new(),
            enforce_scope: true,
            enforce_new_defaults: true,
        }
    }
}

/// Decides whether a caller may perform an action.
#[derive(Debug, Clone)]
pub struct Enforcer {
    rules: HashMap<String, Check>,
    /// The registered defaults' scope types; only these rules are scope-checked,
    /// as in oslo (a rule a policy file adds has none).
    scope_types: HashMap<&'static str, &'static [&'static str]>,
    enforce_scope: bool,
    /// Per rule, the target keys it can read (see [`Enforcer::target_keys`]);
    /// worked out whenever the rules change, so per-request checks need not.
    target_keys: HashMap<String, Vec<String>>,
}

impl Enforcer {
    /// Upstream's defaults only, as with no policy file at all.
    pub fn with_defaults() -> Enforcer {
        Enforcer::from_parts(&PolicyOptions::default(), HashMap::new(), &HashSet::new())
    }

    /// The defaults overridden by the policy file, then by each file of each
    /// policy directory (files in name order, dot-files and subdirectories
    /// skipped). A file rule replaces the default of the same name; other names
    /// are added.
    pub fn load(opts: &PolicyOptions) -> Result<Enforcer, PolicyError> {
        let mut file_rules: HashMap<String, Check> = HashMap::new();
        let mut overridden: HashSet<String> = HashSet::new();
        let mut apply = |path: &Path| -> Result<(), PolicyError> {
            for rule in read_policy_file(path)? {
                overridden.insert(rule.name.clone());
                file_rules.insert(rule.name, rule.check);
            }
            tracing::debug!(file = %path.display(), "loaded policy file");
            Ok(())
        };
        if let Some(path) = &opts.policy_file {
            if path.is_file() {
                apply(path)?;
            } else if opts.policy_file_required {
                return Err(PolicyError::MissingFile(path.clone()));
            } else {
                tracing::debug!(file = %path.display(), "policy file not found; using defaults");
            }
        }
        for dir in &opts.policy_dirs {
            for path in policy_dir_files(dir)? {
                apply(&path)?;
            }
        }
        Ok(Enforcer::from_parts(opts, file_rules, &overridden))
    }

    fn from_parts(
        opts: &PolicyOptions,
        mut rules: HashMap<String, Check>,
        overridden: &HashSet<String>,
    ) -> Enforcer {
        for default in GLANCE_DEFAULT_RULES {
            if !rules.contains_key(default.name) {
                rules.insert(
                    default.name.to_string(),
                    default_check(default, opts, overridden),
                );
            }
        }
        let mut enforcer = Enforcer {
            rules,
            scope_types: GLANCE_DEFAULT_RULES
                .iter()
                .map(|d| (d.name, d.scope_types))
                .collect(),
            enforce_scope: opts.enforce_scope,
            target_keys: HashMap::new(),
        };
        enforcer.index_target_keys();
        enforcer.warn_about_broken_references();
        enforcer
    }

    /// Adds (or replaces) a rule at run time, like upstream's `add_rules`.
    pub fn add_rule(&mut self, name: &str, check_str: &str) -> Result<(), PolicyError> {
        let check = parse_check_str(check_str).map_err(|reason| PolicyError::InvalidRule {
            rule: name.to_string(),
            check: check_str.to_string(),
            reason,
            origin: None,
        })?;
        self.rules.insert(name.to_string(), check);
        // Any rule may reach the new one through `rule:` references.
        self.index_target_keys();
        Ok(())
    }

    /// Whether a rule of that name exists (default, from a file or added).
    pub fn contains_rule(&self, name: &str) -> bool {
        self.rules.contains_key(name)
    }

    /// Whether `ctx` may do `rule` on `target`.
    pub fn check(&self, rule: &str, target: &Target, ctx: &RequestContext) -> bool {
        self.decide(rule, target, &Credentials::from_context(ctx))
            .is_ok()
    }

    /// Like [`check`](Self::check), with the refusal as an error carrying
    /// upstream's message.
    pub fn enforce(
        &self,
        rule: &str,
        target: &Target,
        ctx: &RequestContext,
    ) -> Result<(), PolicyDenied> {
        self.decide(rule, target, &Credentials::from_context(ctx))
            .map_err(|reason| {
                tracing::debug!(rule, %reason, "policy denied the action");
                PolicyDenied {
                    action: rule.to_string(),
                    reason,
                }
            })
    }

    /// The target keys `rule` can read, following `rule:` references: a caller
    /// checking many objects (a list) may build targets holding only these and get
    /// the same answers, since every other key is never looked at.
    pub fn target_keys(&self, rule: &str) -> &[String] {
        self.target_keys.get(rule).map_or(&[], Vec::as_slice)
    }

    fn index_target_keys(&mut self) {
        self.target_keys = self
            .rules
            .keys()
            .map(|name| (name.clone(), self.collect_rule_target_keys(name)))
            .collect();
    }

    fn collect_rule_target_keys(&self, rule: &str) -> Vec<String> {
        let mut keys = BTreeSet::new();
        let mut seen = HashSet::new();
        let mut pending = vec![rule.to_string()];
        while let Some(name) = pending.pop() {
            let Some(check) = self.rules.get(&name) else {
                continue;
            };
            if !seen.insert(name) {
                continue;
            }
            collect_target_keys(check, &mut keys);
            collect_references(check, &mut |r| pending.push(r.to_string()));
        }
        keys.into_iter().collect()
    }

    /// Checks for one caller against many targets, with the caller's credentials
    /// worked out once.
    pub fn checker(&self, ctx: &RequestContext) -> PolicyChecker<'_> {
        PolicyChecker {
            enforcer: self,
            creds: Credentials::from_context(ctx),
        }
    }

    /// The `context_is_admin` rule with the caller's own context as the target,
    /// as upstream's `RequestContext` computes `is_admin`.
    pub fn is_admin(&self, ctx: &RequestContext) -> bool {
        let creds = Credentials::from_context(ctx);
        self.decide("context_is_admin", &creds.as_target(), &creds)
            .is_ok()
    }

    fn decide(&self, rule: &str, target: &Target, creds: &Credentials) -> Result<(), DenialReason> {
        let Some(check) = self.rules.get(rule) else {
            tracing::warn!(rule, "policy rule is not defined; denying");
            return Err(DenialReason::UnknownRule);
        };
        if let Some(scopes) = self.scope_types.get(rule).filter(|s| !s.is_empty()) {
            let token_scope = creds.token_scope();
            if !scopes.contains(&token_scope.as_str()) {
                if self.enforce_scope {
                    return Err(DenialReason::ScopeMismatch { token_scope });
                }
                tracing::warn!(rule, %token_scope, ?scopes,
                    "token scope is outside the rule's scope types; allowed because enforce_scope is off");
            }
        }
        let evaluation = Evaluation {
            rules: &self.rules,
            creds,
            target,
        };
        if evaluation.evaluate(check) {
            Ok(())
        } else {
            Err(DenialReason::RuleFailed)
        }
    }

    /// oslo's `check_rules`: rules that name undefined rules or form a cycle are
    /// logged (they deny when reached).
    fn warn_about_broken_references(&self) {
        let mut names: Vec<&String> = self.rules.keys().collect();
        names.sort();
        for name in names {
            let mut missing = Vec::new();
            collect_references(&self.rules[name], &mut |r| {
                if !self.rules.contains_key(r) {
                    missing.push(r.to_string());
                }
            });
            if !missing.is_empty() {
                tracing::warn!(rule = %name, ?missing, "policy rule references undefined rules");
            }
            if self.reaches(name, name, &mut HashSet::new()) {
                tracing::warn!(rule = %name, "policy rule is part of a cyclical reference");
            }
        }
    }

    /// Whether following `rule:` references from `from` comes back to `target`.
    fn reaches<'a>(&'a self, from: &'a str, target: &str, seen: &mut HashSet<&'a str>) -> bool {
        let Some(check) = self.rules.get(from) else {
            return false;
        };
        let mut refs = Vec::new();
        collect_references(check, &mut |r| refs.push(r.to_string()));
        refs.iter().any(|r| {
            r == target
                || self
                    .rules
                    .get_key_value(r.as_str())
                    .is_some_and(|(k, _)| seen.insert(k.as_str()) && self.reaches(k, target, seen))
        })
    }
}

/// The check a registered default contributes when no file overrides it.
fn default_check(
    default: &DefaultRule,
    opts: &PolicyOptions,
    overridden: &HashSet<String>,
) -> Check {
    let parse = |s: &str| {
        parse_check_str(s)
            .unwrap_or_else(|e| panic!("upstream default {} does not parse: {e}", default.name))
    };
    let new = parse(default.check_str);
    match default.deprecated_check_str {
        Some(old)
            if !opts.enforce_new_defaults
                && old != default.check_str
                && !overridden.contains(default.name) =>
        {
            Check::Or(vec![new, parse(old)])
        }
        _ => new,
    }
}

fn collect_target_keys(check: &Check, keys: &mut BTreeSet<String>) {
    match check {
        Check::Role(template)
        | Check::Generic {
            right: template, ..
        } => keys.extend(template.keys().map(String::from)),
        Check::Not(inner) => collect_target_keys(inner, keys),
        Check::And(items) | Check::Or(items) => {
            items.iter().for_each(|c| collect_target_keys(c, keys))
        }
        // Remote checks are never called (they deny), so they read nothing.
        Check::Always | Check::Never | Check::Rule(_) | Check::Remote { .. } => {}
    }
}

/// [`Enforcer::check`] for one caller over many targets.
pub struct PolicyChecker<'a> {
    enforcer: &'a Enforcer,
    creds: Credentials,
}

impl PolicyChecker<'_> {
    pub fn check(&self, rule: &str, target: &Target) -> bool {
        self.enforcer.decide(rule, target, &self.creds).is_ok()
    }
}

fn collect_references(check: &Check, found: &mut dyn FnMut(&str)) {
    match check {
        Check::Rule(name) => found(name),
        Check::Not(inner) => collect_references(inner, found),
        Check::And(items) | Check::Or(items) => {
            items.iter().for_each(|c| collect_references(c, found))
        }
        _ => {}
    }
}

/// The files of a policy directory in the order oslo reads them.
fn policy_dir_files(dir: &Path) -> Result<Vec<PathBuf>, PolicyError> {
    if !dir.exists() {
        tracing::debug!(dir = %dir.display(), "policy directory not found; skipped");
        return Ok(Vec::new());
    }
    if !dir.is_dir() {
        return Err(PolicyError::NotADirectory(dir.to_path_buf()));
    }
    let unreadable = |source| PolicyError::Unreadable {
        file: dir.to_path_buf(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(unreadable)? {
        let entry = entry.map_err(unreadable)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        // Like os.walk, a symlink counts as what it points to.
        if !name.starts_with('.') && entry.path().is_file() {
            files.push((name, entry.path()));
        }
    }
    files.sort();
    Ok(files.into_iter().map(|(_, path)| path).collect())
}
