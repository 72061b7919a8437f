//! `/v2/metadefs/namespaces/{namespace}/objects[/{name}]`.

use glance_auth::RequestContext;
use glance_db::{ContentKind, ContentPage, ContentRow, ContentValues};
use glance_domain::schema::MetadefBody;
use serde_json::{Map, Value};

use super::content::ContentRules;
use super::{opt_str, property_map, MetadefObject, Missing};
use crate::{CoreResult, Glance};

pub(crate) const OBJECTS: ContentRules = ContentRules {
    kind: ContentKind::Object,
    noun: "object",
    missing: Missing::KeepDbMessage,
    read_only: &["self", "schema", "created_at", "updated_at"],
    schema: MetadefBody::Object,
    add_rule: "add_metadef_object",
    modify_rule: "modify_metadef_object",
    delete_rule: "delete_metadef_object",
};

/// An object as a create or update body gives it (absent parts stay None).
pub(crate) fn object_from_body(body: &Value) -> MetadefObject {
    MetadefObject {
        name: opt_str(body, "name").unwrap_or_default(),
        description: opt_str(body, "description"),
        required: body.get("required").and_then(Value::as_array).map(|r| {
            r.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        }),
        properties: body
            .get("properties")
            .filter(|p| p.is_object())
            .map(|p| property_map(Some(p))),
        created_at: None,
        updated_at: None,
    }
}

/// The columns of an object (upstream stores `required` comma-separated).
pub(crate) fn object_values(o: &MetadefObject) -> ContentValues {
    ContentValues {
        name: o.name.clone(),
        description: o.description.clone(),
        required: o
            .required
            .as_ref()
            .filter(|r| !r.is_empty())
            .map(|r| r.join(",")),
        json_schema: Some(Value::Object(o.properties.clone().unwrap_or_default()).to_string()),
    }
}

/// A stored object; as upstream reads it, `required` and `properties` are always present.
pub(crate) fn object_from_row(row: &ContentRow) -> MetadefObject {
    let properties: Map<String, Value> = row
        .json_schema
        .as_deref()
        .and_then(|s| serde_json::from_str::<Value>(s).ok())
        .map(|v| property_map(Some(&v)))
        .unwrap_or_default();
    MetadefObject {
        name: row.name.clone(),
        description: row.description.clone(),
        required: Some(
            row.required
                .as_deref()
                .filter(|r| !r.is_empty())
                .map(|r| r.split(',').map(String::from).collect())
                .unwrap_or_default(),
        ),
        properties: Some(properties),
        created_at: Some(row.created_at),
        updated_at: row.updated_at,
    }
}

impl Glance {
    pub async fn list_metadef_objects(
        &self,
        ctx: &RequestContext,
        namespace: &str,
    ) -> CoreResult<Vec<MetadefObject>> {
        let ns = self
            .content_namespace(ctx, &OBJECTS, namespace, "get_metadef_objects")
            .await?;
        if !self
            .metadef_policy(ctx, Some(&ns))
            .check("get_metadef_object")
        {
            return Ok(Vec::new());
        }
        let rows = self
            .db
            .list_metadef_content(ContentKind::Object, ns.id, &ContentPage::default())
            .await?;
        Ok(rows.iter().map(object_from_row).collect())
    }

    pub async fn create_metadef_object(
        &self,
        ctx: &RequestContext,
        namespace: &str,
        body: Value,
    ) -> CoreResult<MetadefObject> {
        let object = object_from_body(&body);
        let row = self
            .create_content(ctx, &OBJECTS, namespace, &body, &object_values(&object))
            .await?;
        // Upstream answers with the object it built from the request.
        Ok(MetadefObject {
            created_at: Some(row.created_at),
            updated_at: row.updated_at,
            ..object
        })
    }

    pub async fn show_metadef_object(
        &self,
        ctx: &RequestContext,
        namespace: &str,
        name: &str,
    ) -> CoreResult<MetadefObject> {
        let ns = self
            .content_namespace(ctx, &OBJECTS, namespace, "get_metadef_object")
            .await?;
        Ok(object_from_row(
            &self.stored_content(&OBJECTS, &ns, name).await?,
        ))
    }

    pub async fn update_metadef_object(
        &self,
        ctx: &RequestContext,
        namespace: &str,
        name: &str,
        body: Value,
    ) -> CoreResult<MetadefObject> {
        let values = object_values(&object_from_body(&body));
        let row = self
            .update_content(ctx, &OBJECTS, namespace, name, &body, &values)
            .await?;
        Ok(object_from_row(&row))
    }
}
