//! `/v2/metadefs/resource_types` and `/v2/metadefs/namespaces/{ns}/resource_types`.

use glance_auth::RequestContext;
use glance_db::{AssociationValues, ResourceTypeRow};
use glance_domain::schema::MetadefBody;
use serde_json::Value;

use super::{opt_str, or_conflict, Association, Missing};
use crate::{CoreError, CoreResult, Glance};

/// 409 for a resource type the namespace is already associated with.
pub(crate) fn association_exists(resource_type: &str, namespace: &str) -> CoreError {
    CoreError::Conflict(format!(
        "The metadata definition resource-type association of resource-type={resource_type} \
         to namespace={namespace} already exists."
    ))
}

/// An association as a request body gives it.
pub(crate) fn association_values(body: &Value) -> AssociationValues {
    AssociationValues {
        name: opt_str(body, "name").unwrap_or_default(),
        prefix: opt_str(body, "prefix"),
        properties_target: opt_str(body, "properties_target"),
    }
}

impl Glance {
    pub async fn list_metadef_resource_types(
        &self,
        ctx: &RequestContext,
    ) -> CoreResult<Vec<ResourceTypeRow>> {
        self.metadef_policy(ctx, None)
            .enforce("list_metadef_resource_types")?;
        Ok(self.db.list_metadef_resource_types().await?)
    }

    pub async fn list_metadef_associations(
        &self,
        ctx: &RequestContext,
        namespace: &str,
    ) -> CoreResult<Vec<Association>> {
        let ns = self
            .permitted_namespace(
                ctx,
                namespace,
                Missing::Rephrase,
                "list_metadef_resource_types",
            )
            .await?;
        if !self
            .metadef_policy(ctx, Some(&ns))
            .check("get_metadef_resource_type")
        {
            return Ok(Vec::new());
        }
        let rows = self.db.list_metadef_associations(ns.id).await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    pub async fn create_metadef_association(
        &self,
        ctx: &RequestContext,
        namespace: &str,
        body: Value,
    ) -> CoreResult<Association> {
        self.check_metadef_body(
            &body,
            &["created_at", "updated_at"],
            MetadefBody::ResourceTypeAssociation,
        )?;
        let ns = self
            .permitted_namespace(
                ctx,
                namespace,
                Missing::Rephrase,
                "add_metadef_resource_type_association",
            )
            .await?;
        let values = association_values(&body);
        let row = or_conflict(
            self.db.create_metadef_association(ns.id, &values).await,
            || association_exists(&values.name, namespace),
        )?;
        Ok(row.into())
    }

    pub async fn delete_metadef_association(
        &self,
        ctx: &RequestContext,
        namespace: &str,
        resource_type: &str,
    ) -> CoreResult<()> {
        let ns = self
            .permitted_namespace(
                ctx,
                namespace,
                Missing::Rephrase,
                "remove_metadef_resource_type_association",
            )
            .await?;
        let exists = self
            .db
            .list_metadef_associations(ns.id)
            .await?
            .iter()
            .any(|a| a.name == resource_type);
        if !exists {
            return Err(CoreError::NotFound(format!(
                "Failed to find resource type {resource_type} to delete"
            )));
        }
        if ns.protected {
            return Err(CoreError::Forbidden(format!(
                "Metadata definition resource-type-association {resource_type} is protected \
                 and cannot be deleted."
            )));
        }
        self.db
            .delete_metadef_association(ns.id, resource_type)
            .await?;
        Ok(())
    }
}
