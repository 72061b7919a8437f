//! What objects, properties and tags share: upstream gives each its own controller,
//! but they check, look up, write and delete an item in the same steps, worded with
//! the kind's noun. [`ContentRules`] holds what differs.

use glance_auth::RequestContext;
use glance_db::{ContentKind, ContentRow, ContentValues, NamespaceRow};
use glance_domain::schema::MetadefBody;
use serde_json::Value;

use super::objects::OBJECTS;
use super::properties::PROPERTIES;
use super::tags::TAGS;
use super::{or_conflict, Missing};
use crate::{CoreError, CoreResult, Glance};

/// How the controller of one kind of content differs from the others.
pub(crate) struct ContentRules {
    pub kind: ContentKind,
    /// The word for one item in upstream's messages.
    pub noun: &'static str,
    pub missing: Missing,
    /// Keys a create or update body may not carry (403).
    pub read_only: &'static [&'static str],
    pub schema: MetadefBody,
    pub add_rule: &'static str,
    pub modify_rule: &'static str,
    pub delete_rule: &'static str,
}

impl ContentRules {
    pub(crate) fn of(kind: ContentKind) -> &'static ContentRules {
        match kind {
            ContentKind::Object => &OBJECTS,
            ContentKind::Property => &PROPERTIES,
            ContentKind::Tag => &TAGS,
        }
    }

    /// 409 for a name already taken in the namespace, by a create or by a rename.
    pub(crate) fn duplicate(&self, name: &str, namespace: &str, on_update: bool) -> CoreError {
        let noun = self.noun;
        CoreError::Conflict(match (self.kind, on_update) {
            // Upstream words tags its own way, the same for both.
            (ContentKind::Tag, _) => format!(
                "A metadata tag with name={name} already exists in namespace={namespace}. \
                 (Please note that metadata tag names are case insensitive)."
            ),
            (_, false) => format!(
                "A metadata definition {noun} with name={name} already exists in \
                 namespace={namespace}."
            ),
            (_, true) => format!(
                "Invalid update. It would result in a duplicate metadata definition {noun} \
                 with the same name={name} in namespace={namespace}."
            ),
        })
    }
}

impl Glance {
    /// The namespace an item is read or written in: visible to the caller (404 as
    /// the kind's controller words it) and `rule` allowed on it.
    pub(crate) async fn content_namespace(
        &self,
        ctx: &RequestContext,
        rules: &ContentRules,
        namespace: &str,
        rule: &str,
    ) -> CoreResult<NamespaceRow> {
        self.permitted_namespace(ctx, namespace, rules.missing, rule)
            .await
    }

    /// The stored item `name` of the namespace, else 404.
    pub(crate) async fn stored_content(
        &self,
        rules: &ContentRules,
        ns: &NamespaceRow,
        name: &str,
    ) -> CoreResult<ContentRow> {
        self.db
            .get_metadef_content(rules.kind, ns.id, name)
            .await?
            .ok_or_else(|| {
                CoreError::NotFound(format!(
                    "The metadata definition {} with name={name} was not found in \
                     namespace={}.",
                    rules.noun, ns.namespace
                ))
            })
    }

    /// Stores a new item; 409 when its name is taken.
    pub(crate) async fn insert_content(
        &self,
        rules: &ContentRules,
        ns: &NamespaceRow,
        namespace: &str,
        values: &ContentValues,
    ) -> CoreResult<ContentRow> {
        or_conflict(
            self.db
                .create_metadef_content(rules.kind, ns.id, values)
                .await,
            || rules.duplicate(&values.name, namespace, false),
        )
    }

    /// Creates an item from a request `body` that gives the column `values`.
    pub(crate) async fn create_content(
        &self,
        ctx: &RequestContext,
        rules: &ContentRules,
        namespace: &str,
        body: &Value,
        values: &ContentValues,
    ) -> CoreResult<ContentRow> {
        self.check_metadef_body(body, rules.read_only, rules.schema)?;
        let ns = self
            .content_namespace(ctx, rules, namespace, rules.add_rule)
            .await?;
        self.insert_content(rules, &ns, namespace, values).await
    }

    /// Replaces item `name` (a rename included) from a request `body` that gives the
    /// column `values`. The row comes back with the `updated_at` it had before: upstream
    /// answers with the item as it read it, the new values applied, its timestamps not
    /// reread.
    pub(crate) async fn update_content(
        &self,
        ctx: &RequestContext,
        rules: &ContentRules,
        namespace: &str,
        name: &str,
        body: &Value,
        values: &ContentValues,
    ) -> CoreResult<ContentRow> {
        self.check_metadef_body(body, rules.read_only, rules.schema)?;
        let ns = self
            .content_namespace(ctx, rules, namespace, rules.modify_rule)
            .await?;
        let current = self.stored_content(rules, &ns, name).await?;
        let row = or_conflict(
            self.db
                .update_metadef_content(rules.kind, ns.id, current.id, values)
                .await,
            || rules.duplicate(&values.name, namespace, true),
        )?;
        Ok(ContentRow {
            updated_at: current.updated_at,
            ..row
        })
    }

    /// `DELETE .../objects/{name}`, `.../properties/{name}` or `.../tags/{name}`.
    pub async fn delete_metadef_content(
        &self,
        ctx: &RequestContext,
        namespace: &str,
        name: &str,
        kind: ContentKind,
    ) -> CoreResult<()> {
        let rules = ContentRules::of(kind);
        let ns = self
            .content_namespace(ctx, rules, namespace, rules.delete_rule)
            .await?;
        self.stored_content(rules, &ns, name).await?;
        if ns.protected {
            return Err(CoreError::Forbidden(format!(
                "Metadata definition {} {name} is protected and cannot be deleted.",
                rules.noun
            )));
        }
        self.db.delete_metadef_content(kind, ns.id, name).await?;
        Ok(())
    }
}
