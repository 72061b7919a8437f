//! Property protections: `[DEFAULT] property_protection_file` and
//! `property_protection_rule_format` (`roles` | `policies`).
//!
//! # The file
//!
//! An INI file read as Python's `ConfigParser` reads it (see `ini.rs`). Every
//! section name is a Python regular expression (see `python_regex.rs`) and every
//! section must give `create`, `read`, `update` and `delete`, itself or through
//! `[DEFAULT]`. Other keys are ignored, as upstream ignores them (a misspelt
//! operation still fails, because the real one is then missing); we log them.
//!
//! - `roles`: each value is a comma-separated list of roles, compared
//!   case-insensitively with the caller's roles and service-token roles. `@`
//!   anywhere in the list allows everyone, `!` anywhere denies everyone, both in
//!   one list is an error. An empty value allows nobody.
//! - `policies`: each value is the name of one policy rule (a comma is an error;
//!   combine rules in the policy file). The values `@` and `!` still mean
//!   everyone / no one. An empty value allows nobody. Upstream registers
//!   `"<section>:<op>": "rule:<name>"` in its policy enforcer and enforces that
//!   with an empty target; [`PropertyProtections::allows`] leaves that check to
//!   the caller's closure, which receives `<name>`. A name the policy file does
//!   not define denies (oslo.policy's `rule:` check fails closed); upstream does
//!   not warn, so the caller should check [`PropertyProtections::referenced_policy_rules`]
//!   at startup and at least warn.
//!
//! # Matching
//!
//! Sections are tried in file order; the first whose pattern is found anywhere
//! in the property name (Python `search`, unanchored: anchor with `^…$`) decides.
//! A property no section matches is denied every operation.
//!
//! Upstream puts a section `[os_glance.*]` allowing everything in front of the
//! file's sections and drops every section of the file whose name begins with
//! `os_glance` (bug #2085321: its own `os_glance_*` bookkeeping properties must
//! never be blocked; users cannot set that namespace anyway). We do the same.
//! Its pattern is unanchored, so every property whose name merely *contains*
//! `os_glance` (`x_os_glance`, say) is open to everyone whatever the file says.
//!
//! # Differences from upstream
//!
//! - A broken file stops the service at startup. Upstream loads the file on the
//!   first image request and answers each image request with 400
//!   "Invalid configuration in property protection file." until it is fixed.
//!   Upstream also resolves a relative `property_protection_file` against the
//!   configuration directories (oslo.config `find_file`); the caller resolves
//!   the path before [`PropertyProtections::load`].
//! - Upstream, a file that exists but cannot be read is silently treated as
//!   empty (everything but `os_glance*` denied); here it is an error.
//! - Upstream appends the service roles to the request context's roles on every
//!   check (mutating the context); here they are only consulted.
//!
//! # Applying them (for the image use cases)
//!
//! Protections cover an image's additional properties only, never its base
//! attributes (`name`, `visibility`, `min_disk`, `tags`, `locations`, ...). They
//! apply to image create, show, list and update; members, tags, data, tasks and
//! metadefs are unaffected. Internal writes (import and copy bookkeeping, the
//! `os_glance_*` keys) are not user requests and should bypass them.
//!
//! Images API v2, as upstream's `ProtectedImageFactoryProxy`,
//! `ProtectedImageRepoProxy` and `ExtraPropertiesProxy` behave:
//!
//! - **Responses** (show, list, and the image returned by create, update and
//!   the other calls returning an image): properties without `read` are left
//!   out. List filters and sort keys act in the database first, so a filter on
//!   a property the caller cannot read still selects images (upstream too).
//! - **Create** (`POST /v2/images`): after the deserializer's reserved-name
//!   checks and the `add_image` policy and image-count quota, each additional
//!   property, in body order, needs `create`; the first denied one fails the
//!   request with 403 `Attribute '<key>' is reserved.` and nothing is stored.
//!   Upstream side effect: the new image is read-filtered before it is saved,
//!   so a property the creator may create but not read is silently not stored
//!   (and absent from the 201 response). Recommended: store it, hide it from
//!   the response.
//! - **Update** (`PATCH /v2/images/{id}`): changes apply in order to the image
//!   as the caller sees it (unreadable properties look absent); the first
//!   failure aborts the request and nothing is saved. For a path that is not a
//!   base attribute, after the deserializer's read-only / reserved checks and
//!   the `modify_image` policy:
//!   - `add /k`: `k` present and readable → needs `update`; `k` absent, or
//!     present but unreadable → needs `create`, and the new value replaces the
//!     hidden one. Denied → 403 `Attribute 'k' is reserved.`. With the old
//!     `application/openstack-images-v2.0-json-patch` media type a readable `k`
//!     that already exists is 409 `Property k already present.` (an unreadable
//!     one looks absent).
//!   - `replace /k`: `k` present and readable → needs `update`, even when the
//!     value is unchanged; denied → 403 `Attribute 'k' is reserved.`. `k` absent
//!     or unreadable → 409 `Property k does not exist.` — the same answer, so
//!     the caller cannot tell a hidden property from a missing one.
//!   - `remove /k`: `k` present and readable → needs `delete`; denied → 403
//!     `Attribute 'k' is reserved.`. Absent or unreadable → 409
//!     `Property k does not exist.`.
//!   - Upstream side effect: the image is saved from its read-filtered property
//!     map with "purge missing properties", so any successful PATCH by a caller
//!     who cannot read property X deletes X. Recommended: do not reproduce;
//!     apply the changes to the full stored map.
//!
//! The 403s and 409s are the ordinary error bodies with those messages.
//!
//! Images API v1 (legacy), whose error bodies are `text/plain`:
//!
//! - create (`POST /v1/images`): every `x-image-meta-property-*` needs
//!   `create`, checked after the `add_image` / `publicize_image` / `copy_from` /
//!   `upload_image` policies; else 403 `Property '<key>' is protected`.
//! - `GET`/`HEAD /v1/images/{id}`, `GET /v1/images/detail` and the image returned
//!   by update: properties without `read` are left out (upstream does not
//!   filter the image returned by create).
//! - update (`PUT /v1/images/{id}`), comparing the stored properties with the
//!   request's: a key in both needs `read`, and `update` too unless its value is
//!   unchanged; a new key needs `create`; when properties are purged (header
//!   `x-glance-registry-purge-props`, default true, never while uploading data)
//!   a stored key missing from the request is kept silently if the caller
//!   cannot read it and otherwise needs `delete`. Any denial: 403
//!   `Property '<key>' is protected`.

mod ini;
mod python_regex;
#[cfg(test)]
mod tests;

use std::path::Path;

use regex_lite::Regex;

use crate::RequestContext;

/// How the values of the file are read (`property_protection_rule_format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleFormat {
    Roles,
    Policies,
}

impl RuleFormat {
    /// The option's value; oslo.config accepts exactly these two spellings.
    pub fn from_config(value: &str) -> Result<Self, ProtectionError> {
        match value {
            "roles" => Ok(RuleFormat::Roles),
            "policies" => Ok(RuleFormat::Policies),
            other => Err(ProtectionError::UnknownFormat(other.to_string())),
        }
    }
}

/// What is being done to a property.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PropertyOp {
    Create,
    Read,
    Update,
    Delete,
}

impl PropertyOp {
    pub const ALL: [PropertyOp; 4] = [
        PropertyOp::Create,
        PropertyOp::Read,
        PropertyOp::Update,
        PropertyOp::Delete,
    ];

    /// The key naming the operation in the file.
    pub fn as_str(self) -> &'static str {
        match self {
            PropertyOp::Create => "create",
            PropertyOp::Read => "read",
            PropertyOp::Update => "update",
            PropertyOp::Delete => "delete",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// A protection file that cannot be used; the service must not start.
#[derive(Debug, thiserror::Error)]
pub enum ProtectionError {
    #[error("property_protection_rule_format must be \"roles\" or \"policies\", not {0:?}")]
    UnknownFormat(String),
    #[error("cannot read property protection file {path}: {source}")]
    Unreadable {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid property protection file {origin}, line {line}: {problem}")]
    Invalid {
        origin: String,
        line: usize,
        problem: String,
    },
}

/// Who may perform one operation on the properties of one section.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Access {
    Nobody,
    Everyone,
    /// Lower-cased role names.
    Roles(Vec<String>),
    /// A policy rule name.
    Policy(String),
}

#[derive(Debug)]
struct Rule {
    section: String,
    pattern: Regex,
    /// Indexed by [`PropertyOp::index`].
    access: [Access; 4],
}

/// The loaded rules, in the order they are tried.
#[derive(Debug)]
pub struct PropertyProtections {
    format: RuleFormat,
    rules: Vec<Rule>,
}

/// The section upstream puts first; see the module documentation.
const OS_GLANCE_SECTION: &str = "os_glance.*";
/// File sections whose name starts with this are dropped.
const OS_GLANCE_PREFIX: &str = "os_glance";

impl PropertyProtections {
    /// Reads and validates the file at startup.
    pub fn load(path: &Path, format: RuleFormat) -> Result<Self, ProtectionError> {
        let text = std::fs::read_to_string(path).map_err(|source| ProtectionError::Unreadable {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string(), format)
    }

    /// Validates `text`; `origin` names it in errors (normally the path).
    pub fn parse(text: &str, origin: &str, format: RuleFormat) -> Result<Self, ProtectionError> {
        let invalid = |line: usize, problem: String| ProtectionError::Invalid {
            origin: origin.to_string(),
            line,
            problem,
        };
        let file = ini::parse(text).map_err(|e| invalid(e.line, e.problem))?;
        let os_glance = Rule {
            section: OS_GLANCE_SECTION.to_string(),
            pattern: python_regex::compile(OS_GLANCE_SECTION)
                .expect("the built-in section is a valid pattern"),
            access: [
                Access::Everyone,
                Access::Everyone,
                Access::Everyone,
                Access::Everyone,
            ],
        };
        let mut rules = vec![os_glance];
        for section in &file.sections {
            let name = &section.name;
            if name.starts_with(OS_GLANCE_PREFIX) {
                tracing::warn!(
                    file = origin,
                    section = %name,
                    "property protection section dropped: names starting with \
                     `os_glance` are reserved (the built-in [os_glance.*] allows everything)"
                );
                continue;
            }
            let pattern = python_regex::compile(name).map_err(|problem| {
                invalid(
                    section.line,
                    format!("section [{name}] is not a usable regular expression: {problem}"),
                )
            })?;
            let mut access = [
                Access::Nobody,
                Access::Nobody,
                Access::Nobody,
                Access::Nobody,
            ];
            for op in PropertyOp::ALL {
                let (value, line) = match file.get(section, op.as_str()) {
                    None => {
                        return Err(invalid(
                            section.line,
                            format!(
                                "section [{name}] does not set `{}`; every section must set \
                                 create, read, update and delete",
                                op.as_str()
                            ),
                        ))
                    }
                    Some(Err(e)) => return Err(invalid(e.line, e.problem)),
                    Some(Ok(found)) => found,
                };
                access[op.index()] = parse_access(&value, format).map_err(|problem| {
                    invalid(
                        line,
                        format!("[{name}] {} = {value}: {problem}", op.as_str()),
                    )
                })?;
                if value.is_empty() {
                    tracing::warn!(
                        file = origin,
                        section = %name,
                        operation = op.as_str(),
                        "empty property protection rule: nobody may perform this operation"
                    );
                }
            }
            for entry in &section.entries {
                if !PropertyOp::ALL.iter().any(|op| op.as_str() == entry.key) {
                    tracing::warn!(
                        file = origin,
                        line = entry.line,
                        section = %name,
                        key = %entry.key,
                        "unknown key in property protection section ignored"
                    );
                }
            }
            rules.push(Rule {
                section: name.clone(),
                pattern,
                access,
            });
        }
        Ok(PropertyProtections { format, rules })
    }

    pub fn format(&self) -> RuleFormat {
        self.format
    }

    /// Section names in the order they are tried, the built-in `os_glance.*`
    /// first.
    pub fn sections(&self) -> impl Iterator<Item = &str> {
        self.rules.iter().map(|r| r.section.as_str())
    }

    /// The policy rule names the file refers to (policies format), each once,
    /// in file order; `@` and `!` are not rule names. The caller should check
    /// at startup that the policy file defines them: an undefined one denies.
    pub fn referenced_policy_rules(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for rule in &self.rules {
            for access in &rule.access {
                if let Access::Policy(name) = access {
                    if !names.contains(&name.as_str()) {
                        names.push(name);
                    }
                }
            }
        }
        names
    }

    /// Whether the caller may perform `op` on the additional property
    /// `property`. `policy_check(name)` evaluates the policy rule `name` for the
    /// caller with an empty target (as `rule:<name>`, false when undefined); it
    /// is only called in the policies format.
    pub fn allows(
        &self,
        property: &str,
        op: PropertyOp,
        ctx: &RequestContext,
        policy_check: &dyn Fn(&str) -> bool,
    ) -> bool {
        let Some(rule) = self.rules.iter().find(|r| r.pattern.is_match(property)) else {
            return false;
        };
        match &rule.access[op.index()] {
            Access::Nobody => false,
            Access::Everyone => true,
            Access::Roles(roles) => roles
                .iter()
                .any(|role| ctx.roles.contains(role) || ctx.service_roles.contains(role)),
            Access::Policy(name) => policy_check(name),
        }
    }
}

/// One value of the file, validated as upstream validates it.
fn parse_access(value: &str, format: RuleFormat) -> Result<Access, String> {
    if value.is_empty() {
        return Ok(Access::Nobody);
    }
    match format {
        RuleFormat::Policies => {
            if value.contains(',') {
                return Err(
                    "only one policy per operation; combine policies in the policy file"
                        .to_string(),
                );
            }
            Ok(match value {
                "!" => Access::Nobody,
                "@" => Access::Everyone,
                name => Access::Policy(name.to_string()),
            })
        }
        RuleFormat::Roles => {
            let roles: Vec<&str> = value.split(',').map(ini::py_strip).collect();
            let nobody = roles.contains(&"!");
            let everyone = roles.contains(&"@");
            if nobody && everyone {
                return Err("'@' (everyone) and '!' (no one) are mutually exclusive".to_string());
            }
            Ok(if nobody {
                Access::Nobody
            } else if everyone {
                Access::Everyone
            } else {
                Access::Roles(roles.iter().map(|r| r.to_lowercase()).collect())
            })
        }
    }
}
