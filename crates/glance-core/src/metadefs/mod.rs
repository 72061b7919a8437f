//! Metadata definitions: namespaces and their objects, properties, tags and resource
//! type associations, with upstream's two access layers:
//!
//! 1. Visibility: a namespace exists for a caller when it is public, owned by the
//!    caller's project, or the caller is admin (upstream's `_is_namespace_visible`).
//! 2. Policy ([`MetadefPolicy`]): the `*_metadef_*` rules against
//!    `{project_id: owner, visibility}`; a refused rule on a namespace the caller may
//!    not `get_metadef_namespace` is 404, not 403 (upstream's `MetadefAPIPolicy`).

mod content;
mod namespaces;
mod objects;
mod properties;
mod resource_types;
mod tags;

use chrono::NaiveDateTime;
use glance_auth::policy::{Enforcer, Target, TargetValue};
use glance_auth::RequestContext;
use glance_db::{AssociationRow, AssociationValues, DbError, SortDir};
use glance_domain::schema::MetadefBody;
use serde_json::{Map, Value};

use crate::access::HIDDEN;
use crate::{CoreError, CoreResult, Glance};

pub use glance_db::{NamespaceRow, ResourceTypeRow};
pub use namespaces::{NamespaceList, NamespaceListParams};
pub use tags::TagListParams;

/// A namespace with what it contains. A part is None when upstream leaves it out:
/// shown namespaces omit empty parts, created ones echo exactly the parts the request
/// gave (even empty ones).
#[derive(Debug, Clone)]
pub struct NamespaceDetail {
    pub namespace: NamespaceRow,
    pub associations: Option<Vec<Association>>,
    pub objects: Option<Vec<MetadefObject>>,
    /// Property name -> property definition, in wire form.
    pub properties: Option<Map<String, Value>>,
    pub tags: Option<Vec<String>>,
}

/// A resource type association; timestamps are None when it only echoes a request,
/// `updated_at` also when the loader wrote it.
#[derive(Debug, Clone, PartialEq)]
pub struct Association {
    pub name: String,
    pub prefix: Option<String>,
    pub properties_target: Option<String>,
    pub created_at: Option<NaiveDateTime>,
    pub updated_at: Option<NaiveDateTime>,
}

impl From<AssociationRow> for Association {
    fn from(r: AssociationRow) -> Self {
        Association {
            name: r.name,
            prefix: r.prefix,
            properties_target: r.properties_target,
            created_at: Some(r.created_at),
            updated_at: r.updated_at,
        }
    }
}

impl From<AssociationValues> for Association {
    fn from(v: AssociationValues) -> Self {
        Association {
            name: v.name,
            prefix: v.prefix,
            properties_target: v.properties_target,
            created_at: None,
            updated_at: None,
        }
    }
}

/// A metadef object; timestamps are None when it only echoes a request, `updated_at`
/// also when the loader wrote it and nothing has updated it since.
#[derive(Debug, Clone, PartialEq)]
pub struct MetadefObject {
    pub name: String,
    pub description: Option<String>,
    pub required: Option<Vec<String>>,
    pub properties: Option<Map<String, Value>>,
    pub created_at: Option<NaiveDateTime>,
    pub updated_at: Option<NaiveDateTime>,
}

/// A tag as stored (`updated_at` is None when the loader wrote it).
#[derive(Debug, Clone, PartialEq)]
pub struct MetadefTag {
    pub name: String,
    pub created_at: NaiveDateTime,
    pub updated_at: Option<NaiveDateTime>,
}

/// How a controller words a namespace it cannot find. Upstream's controllers differ:
/// some keep the database's message for a missing namespace and only rephrase an
/// invisible one, others rephrase both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Missing {
    /// Namespace show: the database's message; invisible is a bare 404.
    Show,
    /// Objects: the database's message; invisible is "Namespace <name> not found".
    KeepDbMessage,
    /// "Namespace <name> not found" either way.
    Rephrase,
}

/// The policy checks on one namespace (or, without one, on the caller's project).
pub(crate) struct MetadefPolicy<'a> {
    enforcer: &'a Enforcer,
    ctx: &'a RequestContext,
    target: Target,
}

impl<'a> MetadefPolicy<'a> {
    pub(crate) fn new(
        enforcer: &'a Enforcer,
        ctx: &'a RequestContext,
        namespace: Option<&NamespaceRow>,
    ) -> Self {
        let target = match namespace {
            Some(ns) => Target::new()
                .set("project_id", ns.owner.as_str())
                .set("visibility", ns.visibility.as_str()),
            None => Target::new().set(
                "project_id",
                ctx.project_id
                    .as_deref()
                    .map_or(TargetValue::Null, TargetValue::from),
            ),
        };
        MetadefPolicy {
            enforcer,
            ctx,
            target,
        }
    }

    pub(crate) fn check(&self, rule: &str) -> bool {
        self.enforcer.check(rule, &self.target, self.ctx)
    }

    /// 403 with upstream's message, or a bare 404 when the caller may not even read
    /// the namespace.
    pub(crate) fn enforce(&self, rule: &str) -> CoreResult<()> {
        match self.enforcer.enforce(rule, &self.target, self.ctx) {
            Ok(()) => Ok(()),
            Err(_) if rule == "get_metadef_namespace" || !self.check("get_metadef_namespace") => {
                Err(CoreError::NotFound(HIDDEN.into()))
            }
            Err(denied) => Err(CoreError::Forbidden(denied.to_string())),
        }
    }
}

/// Whether the namespace exists for the caller (upstream's `_is_namespace_visible`).
pub(crate) fn visible(ctx: &RequestContext, ns: &NamespaceRow) -> bool {
    ctx.is_admin || ns.visibility == "public" || ctx.owns(Some(&ns.owner))
}

/// The owner given to a namespace created or updated without one: the caller's
/// project. The column is NOT NULL, so a caller without a project (the
/// unauthenticated embedded mode) gets an empty owner instead of a database error.
pub(crate) fn default_owner(ctx: &RequestContext) -> String {
    ctx.project_id.clone().unwrap_or_default()
}

/// `Attribute '<key>' is read-only.` (403) for the first forbidden key in the body.
pub(crate) fn check_read_only(body: &Value, keys: &[&str]) -> CoreResult<()> {
    if let Some(key) = keys.iter().find(|k| body.get(**k).is_some()) {
        return Err(CoreError::Forbidden(format!(
            "Attribute '{key}' is read-only."
        )));
    }
    Ok(())
}

pub(crate) fn parse_sort_dir(dir: Option<&str>) -> CoreResult<SortDir> {
    match dir.unwrap_or("desc") {
        "desc" => Ok(SortDir::Desc),
        "asc" => Ok(SortDir::Asc),
        other => Err(CoreError::BadRequest(format!(
            "Invalid sort direction: {other}"
        ))),
    }
}

/// A `limit` query value: a whole number, not negative.
pub(crate) fn parse_limit(value: &str) -> CoreResult<usize> {
    let limit = value
        .trim()
        .parse::<i64>()
        .map_err(|_| CoreError::BadRequest("limit param must be an integer".into()))?;
    if limit < 0 {
        return Err(CoreError::BadRequest("limit param must be positive".into()));
    }
    Ok(limit as usize)
}

/// The `sort_key` given (`created_at` when none), if `sortable` takes it.
pub(crate) fn parse_sort_key(
    given: Option<&str>,
    sortable: impl Fn(&str) -> bool,
) -> CoreResult<String> {
    let key = given.unwrap_or("created_at");
    if !sortable(key) {
        return Err(CoreError::BadRequest(format!("Invalid sort key: {key}")));
    }
    Ok(key.to_string())
}

/// The result of a write, with a name already taken (a database duplicate) as the
/// 409 `conflict` words it.
pub(crate) fn or_conflict<T>(
    result: Result<T, DbError>,
    conflict: impl FnOnce() -> CoreError,
) -> CoreResult<T> {
    match result {
        Err(DbError::Duplicate) => Err(conflict()),
        other => Ok(other?),
    }
}

/// The definition of a property as upstream's `PropertyType` model keeps it: known
/// attributes only, nulls dropped, in the model's (alphabetical) attribute order.
pub(crate) fn property_definition(value: &Value) -> Map<String, Value> {
    const ATTRIBUTES: &[&str] = &[
        "additionalItems",
        "confidential",
        "default",
        "description",
        "enum",
        "items",
        "maxItems",
        "maxLength",
        "maximum",
        "minItems",
        "minLength",
        "minimum",
        "name",
        "operators",
        "pattern",
        "readonly",
        "title",
        "type",
        "uniqueItems",
    ];
    let mut out = Map::new();
    for key in ATTRIBUTES {
        match value.get(*key) {
            None | Some(Value::Null) => {}
            Some(Value::Object(items)) if *key == "items" => {
                let mut item = Map::new();
                for k in ["type", "enum"] {
                    if let Some(v) = items.get(k).filter(|v| !v.is_null()) {
                        item.insert(k.into(), v.clone());
                    }
                }
                out.insert("items".into(), Value::Object(item));
            }
            Some(v) => {
                out.insert((*key).into(), v.clone());
            }
        }
    }
    out
}

/// Property definitions of a `{name: definition}` map, without their names.
pub(crate) fn property_map(value: Option<&Value>) -> Map<String, Value> {
    value
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), Value::Object(property_definition(v))))
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) fn opt_str(body: &Value, key: &str) -> Option<String> {
    body.get(key).and_then(Value::as_str).map(String::from)
}

impl Glance {
    /// Checks a metadef request body against its schema (400 with the violation).
    pub(crate) fn validate_metadef(&self, kind: MetadefBody, body: &Value) -> CoreResult<()> {
        self.schemas
            .validate_metadef(kind, body)
            .map_err(|v| CoreError::BadRequest(v.0))
    }

    /// Checks a create or update body: `read_only` keys (403), then the schema (400).
    pub(crate) fn check_metadef_body(
        &self,
        body: &Value,
        read_only: &[&str],
        schema: MetadefBody,
    ) -> CoreResult<()> {
        check_read_only(body, read_only)?;
        self.validate_metadef(schema, body)
    }

    pub(crate) fn metadef_policy<'a>(
        &'a self,
        ctx: &'a RequestContext,
        namespace: Option<&NamespaceRow>,
    ) -> MetadefPolicy<'a> {
        MetadefPolicy::new(&self.policy, ctx, namespace)
    }

    /// The namespace named `name` if the caller can see it, else 404 worded as the
    /// calling controller words it.
    pub(crate) async fn visible_namespace(
        &self,
        ctx: &RequestContext,
        name: &str,
        missing: Missing,
    ) -> CoreResult<NamespaceRow> {
        let rephrased = || CoreError::NotFound(format!("Namespace {name} not found"));
        match self.db.get_metadef_namespace(name).await? {
            Some(ns) if visible(ctx, &ns) => Ok(ns),
            Some(_) => Err(match missing {
                Missing::Show => CoreError::NotFound(HIDDEN.into()),
                _ => rephrased(),
            }),
            None => Err(match missing {
                Missing::Rephrase => rephrased(),
                _ => CoreError::NotFound(format!(
                    "Metadata definition namespace={name} was not found."
                )),
            }),
        }
    }

    /// [`Glance::visible_namespace`], when policy `rule` also allows the caller to act
    /// on it.
    pub(crate) async fn permitted_namespace(
        &self,
        ctx: &RequestContext,
        name: &str,
        missing: Missing,
        rule: &str,
    ) -> CoreResult<NamespaceRow> {
        let ns = self.visible_namespace(ctx, name, missing).await?;
        self.metadef_policy(ctx, Some(&ns)).enforce(rule)?;
        Ok(ns)
    }
}
