//! `/v2/metadefs/namespaces[/{namespace}]`: list, create (with embedded content),
//! show, replace, delete, and deleting all objects / properties / tags at once.

use std::collections::HashSet;

use glance_auth::RequestContext;
use glance_db::{
    namespace_sortable, AssociationValues, ContentKind, ContentPage, ContentValues,
    NamespaceContent, NamespaceListQuery, NamespaceRow, NamespaceScope, NamespaceValues,
};
use glance_domain::schema::MetadefBody;
use serde_json::{Map, Value};

use super::objects::{object_from_body, object_from_row, object_values, OBJECTS};
use super::properties::property_rows;
use super::resource_types::{association_exists, association_values};
use super::tags::TAGS;
use super::{
    default_owner, opt_str, or_conflict, parse_limit, parse_sort_dir, parse_sort_key, property_map,
    Association, MetadefObject, Missing, NamespaceDetail,
};
use crate::{CoreError, CoreResult, Glance};

/// Query parameters of the namespace list, as given.
#[derive(Debug, Clone, Default)]
pub struct NamespaceListParams {
    pub limit: Option<String>,
    pub marker: Option<String>,
    pub sort_key: Option<String>,
    pub sort_dir: Option<String>,
    pub visibility: Option<String>,
    pub resource_types: Option<String>,
}

/// One page of namespaces; `next` is the marker of the following page.
#[derive(Debug, Clone)]
pub struct NamespaceList {
    pub namespaces: Vec<(NamespaceRow, Vec<Association>)>,
    pub next: Option<String>,
}

const READ_ONLY: &[&str] = &["self", "schema", "created_at", "updated_at"];

impl Glance {
    pub async fn list_metadef_namespaces(
        &self,
        ctx: &RequestContext,
        params: &NamespaceListParams,
    ) -> CoreResult<NamespaceList> {
        let limit = match params.limit.as_deref() {
            Some(v) => parse_limit(v)?,
            None => self.settings.limit_param_default as usize,
        }
        .min(self.settings.api_limit_max as usize);
        let sort_dir = parse_sort_dir(params.sort_dir.as_deref())?;
        if let Some(v) = params.visibility.as_deref().filter(|v| !v.is_empty()) {
            if v != "public" && v != "private" {
                return Err(CoreError::BadRequest(format!(
                    "Invalid visibility value: {v}"
                )));
            }
        }
        let sort_key = parse_sort_key(params.sort_key.as_deref(), namespace_sortable)?;
        let policy = self.metadef_policy(ctx, None);
        policy.enforce("get_metadef_namespaces")?;
        policy.enforce("list_metadef_resource_types")?;
        let marker = match params.marker.as_deref().filter(|m| !m.is_empty()) {
            None => None,
            Some(name) => Some(self.visible_marker(ctx, name).await?),
        };
        let scope = if ctx.is_admin {
            NamespaceScope::All
        } else {
            NamespaceScope::PublicOr(ctx.project_id.clone())
        };
        let resource_types = params
            .resource_types
            .as_deref()
            .map(|t| t.split(',').map(String::from).collect());
        let rows = self
            .db
            .list_metadef_namespaces(&NamespaceListQuery {
                scope,
                visibility: params.visibility.clone().filter(|v| !v.is_empty()),
                resource_types,
                marker,
                limit: Some(limit),
                sort_key,
                sort_dir,
            })
            .await?;
        let mut namespaces = Vec::with_capacity(rows.len());
        for ns in rows {
            if !self
                .metadef_policy(ctx, Some(&ns))
                .check("get_metadef_namespace")
            {
                continue;
            }
            let associations = self.db.list_metadef_associations(ns.id).await?;
            namespaces.push((ns, associations.into_iter().map(Into::into).collect()));
        }
        let next = (!namespaces.is_empty() && namespaces.len() == limit)
            .then(|| namespaces.last().map(|(ns, _)| ns.namespace.clone()))
            .flatten();
        Ok(NamespaceList { namespaces, next })
    }

    /// The marker namespace: 404 when missing, 403 when not visible (upstream's
    /// database layer raises Forbidden there and the list passes it on).
    async fn visible_marker(&self, ctx: &RequestContext, name: &str) -> CoreResult<NamespaceRow> {
        match self.db.get_metadef_namespace(name).await? {
            Some(ns) if super::visible(ctx, &ns) => Ok(ns),
            Some(_) => Err(CoreError::Forbidden(format!(
                "Forbidding request, metadata definition namespace={name} is not visible."
            ))),
            None => Err(CoreError::NotFound(format!(
                "Metadata definition namespace={name} was not found."
            ))),
        }
    }

    pub async fn create_metadef_namespace(
        &self,
        ctx: &RequestContext,
        body: Value,
    ) -> CoreResult<NamespaceDetail> {
        self.check_metadef_body(&body, READ_ONLY, MetadefBody::Namespace)?;
        let list = |key: &str| {
            body.get(key)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        };
        let (rt_list, obj_list, tag_list) = (
            list("resource_type_associations"),
            list("objects"),
            list("tags"),
        );
        let properties = property_map(body.get("properties"));
        let policy = self.metadef_policy(ctx, None);
        policy.enforce("add_metadef_namespace")?;
        for (present, rule) in [
            (!rt_list.is_empty(), "add_metadef_resource_type_association"),
            (!obj_list.is_empty(), "add_metadef_object"),
            (!properties.is_empty(), "add_metadef_property"),
            (!tag_list.is_empty(), "add_metadef_tag"),
        ] {
            if present {
                policy.enforce(rule)?;
            }
        }
        let values = namespace_values(ctx, &body);
        let name = values.namespace.clone();
        let duplicate = || {
            CoreError::Conflict(format!(
                "The metadata definition namespace={name} already exists."
            ))
        };
        if self.db.get_metadef_namespace(&name).await?.is_some() {
            return Err(duplicate());
        }
        let associations: Vec<AssociationValues> = rt_list.iter().map(association_values).collect();
        let objects: Vec<MetadefObject> = obj_list.iter().map(object_from_body).collect();
        let tags: Vec<String> = tag_list.iter().filter_map(|t| opt_str(t, "name")).collect();
        // Upstream adds the content one item at a time; the first repeated name fails.
        if let Some(a) = first_repeat(associations.iter().map(|a| &a.name)) {
            return Err(association_exists(a, &name));
        }
        if let Some(o) = first_repeat(objects.iter().map(|o| &o.name)) {
            return Err(OBJECTS.duplicate(o, &name, false));
        }
        if let Some(t) = first_repeat(tags.iter()) {
            return Err(TAGS.duplicate(t, &name, false));
        }
        let content = NamespaceContent {
            associations,
            objects: objects.iter().map(object_values).collect(),
            properties: properties
                .iter()
                .map(|(k, v)| ContentValues {
                    name: k.clone(),
                    json_schema: Some(v.to_string()),
                    ..Default::default()
                })
                .collect(),
            tags: tags.iter().map(ContentValues::tag).collect(),
        };
        let row = or_conflict(
            self.db.create_metadef_namespace(&values, &content).await,
            duplicate,
        )?;
        let given = |key: &str| body.get(key).is_some_and(|v| !v.is_null());
        Ok(NamespaceDetail {
            namespace: row,
            associations: given("resource_type_associations")
                .then(|| content.associations.into_iter().map(Into::into).collect()),
            objects: given("objects").then_some(objects),
            properties: given("properties").then_some(properties),
            tags: given("tags").then_some(tags),
        })
    }

    pub async fn show_metadef_namespace(
        &self,
        ctx: &RequestContext,
        name: &str,
        resource_type: Option<&str>,
    ) -> CoreResult<NamespaceDetail> {
        let ns = self.visible_namespace(ctx, name, Missing::Show).await?;
        let policy = self.metadef_policy(ctx, Some(&ns));
        if !policy.check("get_metadef_namespace") {
            return Err(CoreError::NotFound(crate::access::HIDDEN.into()));
        }
        for rule in [
            "list_metadef_resource_types",
            "get_metadef_objects",
            "get_metadef_properties",
            "get_metadef_tags",
        ] {
            policy.enforce(rule)?;
        }
        let all = ContentPage::default();
        let objects = self
            .db
            .list_metadef_content(ContentKind::Object, ns.id, &all)
            .await?
            .iter()
            .map(object_from_row)
            .collect();
        let associations: Vec<Association> = self
            .db
            .list_metadef_associations(ns.id)
            .await?
            .into_iter()
            .map(Into::into)
            .collect();
        let properties = property_rows(
            &self
                .db
                .list_metadef_content(ContentKind::Property, ns.id, &all)
                .await?,
        );
        let tags = self
            .db
            .list_metadef_content(ContentKind::Tag, ns.id, &all)
            .await?
            .into_iter()
            .map(|t| t.name)
            .collect();
        let mut detail = NamespaceDetail {
            namespace: ns,
            associations: non_empty(associations),
            objects: non_empty(objects),
            properties: (!properties.is_empty()).then_some(properties),
            tags: non_empty(tags),
        };
        if let Some(rt) = resource_type.filter(|r| !r.is_empty()) {
            apply_prefix(&mut detail, rt);
        }
        Ok(detail)
    }

    pub async fn update_metadef_namespace(
        &self,
        ctx: &RequestContext,
        name: &str,
        body: Value,
    ) -> CoreResult<NamespaceRow> {
        self.check_metadef_body(&body, READ_ONLY, MetadefBody::Namespace)?;
        let ns = self
            .permitted_namespace(ctx, name, Missing::Rephrase, "modify_metadef_namespace")
            .await?;
        let values = namespace_values(ctx, &body);
        let row = or_conflict(
            self.db.update_metadef_namespace(ns.id, &values).await,
            || {
                CoreError::Conflict(format!(
                    "Invalid update. It would result in a duplicate metadata definition \
                     namespace with the same name of {}",
                    values.namespace
                ))
            },
        )?;
        // Upstream answers with the namespace as it read it, the new values applied:
        // the `updated_at` from before this update (absent on a loaded one).
        Ok(NamespaceRow {
            updated_at: ns.updated_at,
            ..row
        })
    }

    pub async fn delete_metadef_namespace(
        &self,
        ctx: &RequestContext,
        name: &str,
    ) -> CoreResult<()> {
        let ns = self.deletable_namespace(ctx, name, &[]).await?;
        Ok(self.db.delete_metadef_namespace(ns.id).await?)
    }

    /// `DELETE .../objects`, `.../properties` or `.../tags`: empties one kind of content.
    pub async fn delete_all_metadef_content(
        &self,
        ctx: &RequestContext,
        name: &str,
        kind: ContentKind,
    ) -> CoreResult<()> {
        let extra: &[&str] = match kind {
            ContentKind::Tag => &["delete_metadef_tags"],
            _ => &[],
        };
        let ns = self.deletable_namespace(ctx, name, extra).await?;
        Ok(self.db.delete_all_metadef_content(kind, ns.id).await?)
    }

    /// The namespace, when the caller may delete (in) it and it is not protected.
    async fn deletable_namespace(
        &self,
        ctx: &RequestContext,
        name: &str,
        extra_rules: &[&str],
    ) -> CoreResult<NamespaceRow> {
        let ns = self
            .permitted_namespace(ctx, name, Missing::Rephrase, "delete_metadef_namespace")
            .await?;
        let policy = self.metadef_policy(ctx, Some(&ns));
        for rule in extra_rules {
            policy.enforce(rule)?;
        }
        if ns.protected {
            return Err(CoreError::Forbidden(format!(
                "Metadata definition namespace {name} is protected and cannot be deleted."
            )));
        }
        Ok(ns)
    }
}

/// A create or replace body as namespace columns, with upstream's defaults for what
/// is omitted (private, unprotected, owned by the caller's project).
fn namespace_values(ctx: &RequestContext, body: &Value) -> NamespaceValues {
    NamespaceValues {
        namespace: opt_str(body, "namespace").unwrap_or_default(),
        display_name: opt_str(body, "display_name"),
        description: opt_str(body, "description"),
        visibility: opt_str(body, "visibility").unwrap_or_else(|| "private".into()),
        protected: body
            .get("protected")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        owner: opt_str(body, "owner")
            .filter(|o| !o.is_empty())
            .unwrap_or_else(|| default_owner(ctx)),
    }
}

fn non_empty<T>(list: Vec<T>) -> Option<Vec<T>> {
    (!list.is_empty()).then_some(list)
}

fn first_repeat<'a>(names: impl Iterator<Item = &'a String>) -> Option<&'a String> {
    let mut seen = HashSet::new();
    names.into_iter().find(|n| !seen.insert(n.as_str()))
}

/// `?resource_type=`: property names (of the namespace and of its objects) get the
/// prefix of that association, as a client applying them would write them.
fn apply_prefix(detail: &mut NamespaceDetail, resource_type: &str) {
    let Some(prefix) = detail
        .associations
        .iter()
        .flatten()
        .find(|a| a.name == resource_type)
        .and_then(|a| a.prefix.clone())
        .filter(|p| !p.is_empty())
    else {
        return;
    };
    let prefixed = |m: &Map<String, Value>| -> Map<String, Value> {
        m.iter()
            .map(|(k, v)| (format!("{prefix}{k}"), v.clone()))
            .collect()
    };
    if let Some(props) = &detail.properties {
        detail.properties = Some(prefixed(props));
    }
    for object in detail.objects.iter_mut().flatten() {
        if let Some(props) = &object.properties {
            object.properties = Some(prefixed(props));
        }
        if let Some(required) = &mut object.required {
            for r in required.iter_mut() {
                *r = format!("{prefix}{r}");
            }
        }
    }
}
