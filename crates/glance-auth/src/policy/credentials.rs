//! The caller as rules see it: the `creds` dict oslo.policy builds from an
//! oslo.context `RequestContext` with `to_policy_values()`.

use std::collections::BTreeMap;
use std::fmt;

use super::target::{Target, TargetValue};
use crate::RequestContext;

/// One credential value. Lists (roles) match by membership.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CredentialValue {
    Str(String),
    Bool(bool),
    /// Python's None, compared as `"None"`.
    Null,
    List(Vec<String>),
}

impl CredentialValue {
    fn from_option(value: &Option<String>) -> Self {
        value
            .clone()
            .map_or(CredentialValue::Null, CredentialValue::Str)
    }

    /// Python's truthiness, which oslo uses to decide the token scope.
    fn is_truthy(&self) -> bool {
        match self {
            CredentialValue::Str(s) => !s.is_empty(),
            CredentialValue::Bool(b) => *b,
            CredentialValue::Null => false,
            CredentialValue::List(l) => !l.is_empty(),
        }
    }

    /// Whether the value, stringified like Python's `str()`, equals `expected`;
    /// for a list, whether any element does.
    pub(crate) fn matches(&self, expected: &str) -> bool {
        match self {
            CredentialValue::Str(s) => s == expected,
            CredentialValue::Bool(true) => expected == "True",
            CredentialValue::Bool(false) => expected == "False",
            CredentialValue::Null => expected == "None",
            CredentialValue::List(items) => items.iter().any(|i| i == expected),
        }
    }
}

/// The scope of the caller's token, derived like oslo.policy does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenScope {
    System,
    Domain,
    /// Also a context with no scope at all (noauth, trusted headers without a
    /// project): oslo treats "neither system nor domain" as project scope.
    Project,
}

impl TokenScope {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenScope::System => "system",
            TokenScope::Domain => "domain",
            TokenScope::Project => "project",
        }
    }
}

impl fmt::Display for TokenScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `creds` dict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Credentials {
    values: BTreeMap<&'static str, CredentialValue>,
}

impl Credentials {
    /// `to_policy_values()` of the context, plus `is_admin` (Glance hands the whole
    /// context to `context_is_admin`, and old custom rules use `is_admin:True`),
    /// plus `system`, which oslo.policy copies from a truthy `system_scope`.
    pub(crate) fn from_context(ctx: &RequestContext) -> Self {
        use CredentialValue as V;
        let mut values = BTreeMap::new();
        values.insert("user_id", V::from_option(&ctx.user_id));
        values.insert("user_domain_id", V::from_option(&ctx.user_domain_id));
        values.insert("system_scope", V::from_option(&ctx.system_scope));
        values.insert("domain_id", V::from_option(&ctx.domain_id));
        values.insert("project_id", V::from_option(&ctx.project_id));
        values.insert("project_domain_id", V::from_option(&ctx.project_domain_id));
        values.insert("roles", V::List(ctx.roles.clone()));
        // oslo.context's default: the project is the cloud's admin project unless
        // keystonemiddleware says otherwise, which we do not track.
        values.insert("is_admin_project", V::Bool(true));
        values.insert("service_user_id", V::from_option(&ctx.service_user_id));
        values.insert("service_user_domain_id", V::Null);
        values.insert(
            "service_project_id",
            V::from_option(&ctx.service_project_id),
        );
        values.insert("service_project_domain_id", V::Null);
        values.insert("service_roles", V::List(ctx.service_roles.clone()));
        values.insert("is_admin", V::Bool(ctx.is_admin));
        if let Some(system) = ctx.system_scope.as_ref().filter(|s| !s.is_empty()) {
            values.insert("system", V::Str(system.clone()));
        }
        Credentials { values }
    }

    pub(crate) fn get(&self, key: &str) -> Option<&CredentialValue> {
        self.values.get(key)
    }

    pub(crate) fn roles(&self) -> &[String] {
        match self.values.get("roles") {
            Some(CredentialValue::List(roles)) => roles,
            _ => &[],
        }
    }

    /// oslo.policy's rule: system if `system` is set, else domain if `domain_id`
    /// is set, else project (whether or not there is a project).
    pub(crate) fn token_scope(&self) -> TokenScope {
        let truthy = |k: &str| self.values.get(k).is_some_and(CredentialValue::is_truthy);
        if truthy("system") {
            TokenScope::System
        } else if truthy("domain_id") {
            TokenScope::Domain
        } else {
            TokenScope::Project
        }
    }

    /// The target upstream passes to `context_is_admin`: `context.to_dict()`.
    /// We expose the creds under their own names plus the context dict's
    /// identity aliases (`user`, `tenant`, `project`, `domain`, ...); lists are
    /// rendered as Python's `str()` of a list. The token is never included.
    pub(crate) fn as_target(&self) -> Target {
        let mut target = Target::new();
        for (key, value) in &self.values {
            target.insert(*key, credential_as_target_value(value));
        }
        let aliases = [
            ("user", "user_id"),
            ("tenant", "project_id"),
            ("project", "project_id"),
            ("domain", "domain_id"),
            ("user_domain", "user_domain_id"),
            ("project_domain", "project_domain_id"),
        ];
        for (alias, key) in aliases {
            if let Some(value) = self.values.get(key) {
                target.insert(alias, credential_as_target_value(value));
            }
        }
        target
    }
}

fn credential_as_target_value(value: &CredentialValue) -> TargetValue {
    match value {
        CredentialValue::Str(s) => TargetValue::Str(s.clone()),
        CredentialValue::Bool(b) => TargetValue::Bool(*b),
        CredentialValue::Null => TargetValue::Null,
        CredentialValue::List(items) => {
            let inner: Vec<String> = items
                .iter()
                .map(|i| super::python_literal::python_str_repr(i))
                .collect();
            TargetValue::Str(format!("[{}]", inner.join(", ")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_follow_to_policy_values() {
        let ctx = RequestContext {
            project_id: Some("p1".into()),
            user_id: Some("u1".into()),
            roles: vec!["member".into(), "reader".into()],
            ..Default::default()
        };
        let creds = Credentials::from_context(&ctx);
        assert!(creds.get("project_id").unwrap().matches("p1"));
        assert!(creds.get("domain_id").unwrap().matches("None"));
        assert!(creds.get("roles").unwrap().matches("reader"));
        assert!(creds.get("is_admin_project").unwrap().matches("True"));
        assert!(creds.get("is_admin").unwrap().matches("False"));
        assert!(creds.get("system").is_none());
        assert_eq!(creds.token_scope(), TokenScope::Project);
        let target = creds.as_target();
        assert_eq!(target.get("tenant"), Some(&TargetValue::Str("p1".into())));
        assert_eq!(
            target.get("roles"),
            Some(&TargetValue::Str("['member', 'reader']".into()))
        );
    }

    #[test]
    fn token_scope_follows_oslo() {
        let system = RequestContext {
            system_scope: Some("all".into()),
            ..Default::default()
        };
        assert_eq!(
            Credentials::from_context(&system).token_scope(),
            TokenScope::System
        );
        // oslo looks at domain_id alone, even when a project is also set.
        let domain = RequestContext {
            domain_id: Some("d".into()),
            project_id: Some("p".into()),
            ..Default::default()
        };
        assert_eq!(
            Credentials::from_context(&domain).token_scope(),
            TokenScope::Domain
        );
        let empty = RequestContext {
            system_scope: Some(String::new()),
            ..Default::default()
        };
        assert_eq!(
            Credentials::from_context(&empty).token_scope(),
            TokenScope::Project
        );
        let noauth = RequestContext::noauth_admin("r".into());
        assert_eq!(
            Credentials::from_context(&noauth).token_scope(),
            TokenScope::Project
        );
    }
}
