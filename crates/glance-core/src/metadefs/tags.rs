//! `/v2/metadefs/namespaces/{namespace}/tags[/{name}]`.

use glance_auth::RequestContext;
use glance_db::{ContentKind, ContentPage, ContentRow, ContentValues};
use glance_domain::schema::MetadefBody;
use serde_json::{json, Value};

use super::content::ContentRules;
use super::{opt_str, parse_limit, parse_sort_dir, parse_sort_key, MetadefTag, Missing};
use crate::{CoreError, CoreResult, Glance};

pub(crate) const TAGS: ContentRules = ContentRules {
    kind: ContentKind::Tag,
    noun: "tag",
    missing: Missing::Rephrase,
    read_only: &["created_at", "updated_at"],
    schema: MetadefBody::Tag,
    add_rule: "add_metadef_tag",
    modify_rule: "modify_metadef_tag",
    delete_rule: "delete_metadef_tag",
};

/// Query parameters of the tag list, as given.
#[derive(Debug, Clone, Default)]
pub struct TagListParams {
    pub limit: Option<String>,
    pub marker: Option<String>,
    pub sort_key: Option<String>,
    pub sort_dir: Option<String>,
    /// Validated as upstream's deserializer does, otherwise unused (tags have none).
    pub visibility: Option<String>,
}

fn tag_from_row(row: ContentRow) -> MetadefTag {
    MetadefTag {
        name: row.name,
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

impl Glance {
    pub async fn list_metadef_tags(
        &self,
        ctx: &RequestContext,
        namespace: &str,
        params: &TagListParams,
    ) -> CoreResult<Vec<MetadefTag>> {
        let sort_dir = parse_sort_dir(params.sort_dir.as_deref())?;
        if let Some(v) = params.visibility.as_deref().filter(|v| !v.is_empty()) {
            if !["public", "private", "shared"].contains(&v) {
                return Err(CoreError::BadRequest(format!(
                    "Invalid visibility value: {v}"
                )));
            }
        }
        // An empty `limit` counts as absent, as upstream's `if limit:`.
        let limit = params
            .limit
            .as_deref()
            .filter(|l| !l.is_empty())
            .map(parse_limit)
            .transpose()?;
        let sort_key = parse_sort_key(params.sort_key.as_deref(), |key| {
            ["name", "created_at", "updated_at", "id"].contains(&key)
        })?;
        let ns = self
            .content_namespace(ctx, &TAGS, namespace, "get_metadef_tags")
            .await?;
        let marker = match params.marker.as_deref().filter(|m| !m.is_empty()) {
            Some(m) => Some(self.stored_content(&TAGS, &ns, m).await?),
            None => None,
        };
        let page = ContentPage {
            sort_key,
            sort_dir,
            marker,
            limit,
        };
        let rows = self
            .db
            .list_metadef_content(ContentKind::Tag, ns.id, &page)
            .await?;
        Ok(rows.into_iter().map(tag_from_row).collect())
    }

    /// `POST .../tags/{name}` (no body).
    pub async fn create_metadef_tag(
        &self,
        ctx: &RequestContext,
        namespace: &str,
        name: &str,
    ) -> CoreResult<MetadefTag> {
        let ns = self.visible_namespace(ctx, namespace, TAGS.missing).await?;
        self.validate_metadef(TAGS.schema, &json!({ "name": name }))?;
        self.metadef_policy(ctx, Some(&ns)).enforce(TAGS.add_rule)?;
        let values = ContentValues::tag(name);
        let row = self.insert_content(&TAGS, &ns, namespace, &values).await?;
        Ok(tag_from_row(row))
    }

    /// `POST .../tags` with `{"tags": [...]}`: replaces the namespace's tags, or adds
    /// to them when `append` (header `X-Openstack-Append`). Returns the new names.
    pub async fn create_metadef_tags(
        &self,
        ctx: &RequestContext,
        namespace: &str,
        body: Value,
        append: bool,
    ) -> CoreResult<Vec<String>> {
        self.validate_metadef(MetadefBody::TagList, &body)?;
        let names: Vec<String> = body
            .get("tags")
            .and_then(Value::as_array)
            .map(|tags| tags.iter().filter_map(|t| opt_str(t, "name")).collect())
            .unwrap_or_default();
        let ns = self
            .content_namespace(ctx, &TAGS, namespace, "add_metadef_tags")
            .await?;
        // Upstream touches nothing, not even in replace mode, for an empty list.
        if names.is_empty() {
            return Ok(names);
        }
        match self.db.create_metadef_tags(ns.id, &names, append).await? {
            Ok(_) => Ok(names),
            Err(duplicate) => Err(TAGS.duplicate(&duplicate, namespace, false)),
        }
    }

    pub async fn show_metadef_tag(
        &self,
        ctx: &RequestContext,
        namespace: &str,
        name: &str,
    ) -> CoreResult<MetadefTag> {
        let ns = self
            .content_namespace(ctx, &TAGS, namespace, "get_metadef_tag")
            .await?;
        Ok(tag_from_row(self.stored_content(&TAGS, &ns, name).await?))
    }

    pub async fn update_metadef_tag(
        &self,
        ctx: &RequestContext,
        namespace: &str,
        name: &str,
        body: Value,
    ) -> CoreResult<MetadefTag> {
        let values = ContentValues::tag(opt_str(&body, "name").unwrap_or_default());
        let row = self
            .update_content(ctx, &TAGS, namespace, name, &body, &values)
            .await?;
        Ok(tag_from_row(row))
    }
}
