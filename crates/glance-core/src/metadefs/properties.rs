//! `/v2/metadefs/namespaces/{namespace}/properties[/{name}]`.

use glance_auth::RequestContext;
use glance_db::{ContentKind, ContentPage, ContentRow, ContentValues};
use glance_domain::schema::MetadefBody;
use serde_json::{Map, Value};

use super::content::ContentRules;
use super::{opt_str, property_definition, Missing};
use crate::{CoreError, CoreResult, Glance};

pub(crate) const PROPERTIES: ContentRules = ContentRules {
    kind: ContentKind::Property,
    noun: "property",
    missing: Missing::Rephrase,
    read_only: &["created_at", "updated_at"],
    schema: MetadefBody::Property,
    add_rule: "add_metadef_property",
    modify_rule: "modify_metadef_property",
    delete_rule: "remove_metadef_property",
};

/// A stored property definition under its (stored) name.
fn definition_of(row: &ContentRow) -> Map<String, Value> {
    let mut stored = row
        .json_schema
        .as_deref()
        .and_then(|s| serde_json::from_str::<Value>(s).ok())
        .filter(Value::is_object)
        .unwrap_or_else(|| Value::Object(Map::new()));
    stored["name"] = Value::String(row.name.clone());
    property_definition(&stored)
}

/// `{name: definition}` of stored property rows, as a namespace shows them.
pub(crate) fn property_rows(rows: &[ContentRow]) -> Map<String, Value> {
    rows.iter()
        .map(|r| {
            let stored = r
                .json_schema
                .as_deref()
                .and_then(|s| serde_json::from_str::<Value>(s).ok())
                .unwrap_or(Value::Null);
            (r.name.clone(), Value::Object(property_definition(&stored)))
        })
        .collect()
}

/// The columns of a property from its create or update body (name kept inside).
fn property_values(body: &Value) -> ContentValues {
    ContentValues {
        name: opt_str(body, "name").unwrap_or_default(),
        json_schema: Some(Value::Object(property_definition(body)).to_string()),
        ..Default::default()
    }
}

impl Glance {
    pub async fn list_metadef_properties(
        &self,
        ctx: &RequestContext,
        namespace: &str,
    ) -> CoreResult<Map<String, Value>> {
        let ns = self
            .content_namespace(ctx, &PROPERTIES, namespace, "get_metadef_properties")
            .await?;
        let rows = self
            .db
            .list_metadef_content(ContentKind::Property, ns.id, &ContentPage::default())
            .await?;
        Ok(property_rows(&rows))
    }

    /// `resource_type`: the name is given with that association's prefix, which is
    /// stripped before the lookup.
    pub async fn show_metadef_property(
        &self,
        ctx: &RequestContext,
        namespace: &str,
        name: &str,
        resource_type: Option<&str>,
    ) -> CoreResult<Map<String, Value>> {
        let ns = self
            .content_namespace(ctx, &PROPERTIES, namespace, "get_metadef_property")
            .await?;
        let mut name = name;
        if let Some(rt) = resource_type.filter(|r| !r.is_empty()) {
            self.metadef_policy(ctx, Some(&ns))
                .enforce("get_metadef_resource_type")?;
            let associations = self.db.list_metadef_associations(ns.id).await?;
            let association = associations.iter().find(|a| a.name == rt).ok_or_else(|| {
                CoreError::NotFound(format!(
                    "The metadata definition resource-type association of resource-type={rt} \
                     to namespace={namespace}, was not found."
                ))
            })?;
            let prefix = association.prefix.clone().unwrap_or_default();
            match name.strip_prefix(prefix.as_str()) {
                Some(stripped) if !prefix.is_empty() => name = stripped,
                _ => {
                    return Err(CoreError::NotFound(format!(
                        "Property {name} does not start with the expected resource type \
                         association prefix of '{prefix}'."
                    )))
                }
            }
        }
        Ok(definition_of(
            &self.stored_content(&PROPERTIES, &ns, name).await?,
        ))
    }

    pub async fn create_metadef_property(
        &self,
        ctx: &RequestContext,
        namespace: &str,
        body: Value,
    ) -> CoreResult<Map<String, Value>> {
        let row = self
            .create_content(ctx, &PROPERTIES, namespace, &body, &property_values(&body))
            .await?;
        Ok(definition_of(&row))
    }

    pub async fn update_metadef_property(
        &self,
        ctx: &RequestContext,
        namespace: &str,
        name: &str,
        body: Value,
    ) -> CoreResult<Map<String, Value>> {
        let values = property_values(&body);
        let row = self
            .update_content(ctx, &PROPERTIES, namespace, name, &body, &values)
            .await?;
        Ok(definition_of(&row))
    }
}
