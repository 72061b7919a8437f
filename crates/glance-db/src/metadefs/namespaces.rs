//! `metadef_namespaces`: lookup, listing with upstream's visibility and pagination,
//! creation together with embedded content, update and cascading delete.

use super::content::{insert_content, ContentKind, ContentValues};
use super::resource_types::{insert_association, AssociationValues};
use super::{namespace_from_row, push_page, NamespaceRow, NamespaceValues};
use crate::sql::{SqlBuf, SqlValue};
use crate::{now, Db, DbError, SortDir, WriteTx};

const COLUMNS: &str =
    "id, namespace, display_name, description, visibility, protected, owner, created_at, updated_at";

/// Which namespaces a caller sees in a list (upstream's `_select_namespaces_query`).
#[derive(Debug, Clone, PartialEq)]
pub enum NamespaceScope {
    /// Admins see every namespace.
    All,
    /// Public namespaces plus those owned by this project (when there is one).
    PublicOr(Option<String>),
}

/// A page of namespaces.
#[derive(Debug, Clone)]
pub struct NamespaceListQuery {
    pub scope: NamespaceScope,
    pub visibility: Option<String>,
    /// Only namespaces associated with one of these resource type names.
    pub resource_types: Option<Vec<String>>,
    /// The namespace the page starts after.
    pub marker: Option<NamespaceRow>,
    pub limit: Option<usize>,
    /// A column of `metadef_namespaces` (checked by the caller with [`sortable`]).
    pub sort_key: String,
    pub sort_dir: SortDir,
}

/// Whether `key` names a column a namespace list can be sorted by.
pub fn sortable(key: &str) -> bool {
    COLUMNS.split(", ").any(|c| c == key)
}

/// Content created together with a namespace.
#[derive(Debug, Clone, Default)]
pub struct NamespaceContent {
    pub associations: Vec<AssociationValues>,
    pub objects: Vec<ContentValues>,
    pub properties: Vec<ContentValues>,
    pub tags: Vec<ContentValues>,
}

fn select_named(name: &str) -> SqlBuf {
    let mut q = SqlBuf::new(&format!(
        "SELECT {COLUMNS} FROM metadef_namespaces WHERE namespace = "
    ));
    q.bind(name);
    q
}

/// Whether namespace `row` already has the attributes `values`.
fn holds(row: &NamespaceRow, values: &NamespaceValues) -> bool {
    row.namespace == values.namespace
        && row.display_name == values.display_name
        && row.description == values.description
        && row.visibility == values.visibility
        && row.protected == values.protected
        && row.owner == values.owner
}

fn marker_value(row: &NamespaceRow, column: &str) -> SqlValue {
    match column {
        "id" => row.id.into(),
        "namespace" => row.namespace.clone().into(),
        "display_name" => row.display_name.clone().into(),
        "description" => row.description.clone().into(),
        "visibility" => row.visibility.clone().into(),
        "protected" => row.protected.into(),
        "owner" => row.owner.clone().into(),
        "updated_at" => row.updated_at.into(),
        _ => row.created_at.into(),
    }
}

impl Db {
    /// The namespace named `name`, whoever owns it (visibility is the caller's check).
    pub async fn get_metadef_namespace(&self, name: &str) -> Result<Option<NamespaceRow>, DbError> {
        self.fetch(&select_named(name))
            .await?
            .first()
            .map(namespace_from_row)
            .transpose()
    }

    pub async fn list_metadef_namespaces(
        &self,
        query: &NamespaceListQuery,
    ) -> Result<Vec<NamespaceRow>, DbError> {
        let mut q = SqlBuf::new(&format!(
            "SELECT {COLUMNS} FROM metadef_namespaces WHERE 1 = 1"
        ));
        match &query.scope {
            NamespaceScope::All => {}
            NamespaceScope::PublicOr(Some(owner)) => {
                q.push(" AND (owner = ")
                    .bind(owner)
                    .push(" OR visibility = ")
                    .bind("public")
                    .push(")");
            }
            NamespaceScope::PublicOr(None) => {
                q.push(" AND visibility = ").bind("public");
            }
        }
        if let Some(v) = &query.visibility {
            q.push(" AND visibility = ").bind(v);
        }
        if let Some(types) = &query.resource_types {
            q.push(
                " AND id IN (SELECT a.namespace_id FROM metadef_namespace_resource_types a \
                 JOIN metadef_resource_types r ON r.id = a.resource_type_id WHERE r.name IN ",
            );
            q.bind_list(types.iter()).push(")");
        }
        push_page(
            &mut q,
            &query.sort_key,
            query.sort_dir,
            query.marker.as_ref(),
            marker_value,
            query.limit,
        );
        self.fetch(&q)
            .await?
            .iter()
            .map(namespace_from_row)
            .collect()
    }

    /// Creates a namespace and its embedded content in one transaction. A duplicate
    /// anywhere is [`DbError::Duplicate`] and nothing is kept.
    pub async fn create_metadef_namespace(
        &self,
        values: &NamespaceValues,
        content: &NamespaceContent,
    ) -> Result<NamespaceRow, DbError> {
        let at = now();
        let mut tx = self.begin_write().await?;
        let mut q = SqlBuf::new(
            "INSERT INTO metadef_namespaces (namespace, display_name, description, visibility, \
             protected, owner, created_at, updated_at) VALUES ",
        );
        q.bind_list([
            SqlValue::from(values.namespace.as_str()),
            values.display_name.clone().into(),
            values.description.clone().into(),
            values.visibility.as_str().into(),
            values.protected.into(),
            values.owner.as_str().into(),
            at.into(),
            at.into(),
        ]);
        tx.execute(&q).await?;
        let row = namespace_in(&mut tx, &values.namespace).await?;
        for a in &content.associations {
            insert_association(&mut tx, row.id, a, at).await?;
        }
        for (kind, list) in [
            (ContentKind::Object, &content.objects),
            (ContentKind::Property, &content.properties),
            (ContentKind::Tag, &content.tags),
        ] {
            for v in list {
                insert_content(&mut tx, kind, row.id, v, at).await?;
            }
        }
        tx.commit().await?;
        Ok(row)
    }

    /// Replaces the attributes of namespace `id`. When it already has `values`
    /// nothing is written, so `updated_at` keeps its value (NULL included), as
    /// upstream's ORM emits no UPDATE then.
    pub async fn update_metadef_namespace(
        &self,
        id: i64,
        values: &NamespaceValues,
    ) -> Result<NamespaceRow, DbError> {
        let mut tx = self.begin_write().await?;
        let mut q = SqlBuf::new(&format!(
            "SELECT {COLUMNS} FROM metadef_namespaces WHERE id = "
        ));
        q.bind(id);
        let current = tx
            .fetch(&q)
            .await?
            .first()
            .map(namespace_from_row)
            .transpose()?;
        if let Some(current) = current.filter(|c| holds(c, values)) {
            tx.commit().await?;
            return Ok(current);
        }
        let mut q = SqlBuf::new("UPDATE metadef_namespaces SET namespace = ");
        q.bind(values.namespace.as_str())
            .push(", display_name = ")
            .bind(values.display_name.clone())
            .push(", description = ")
            .bind(values.description.clone())
            .push(", visibility = ")
            .bind(values.visibility.as_str())
            .push(", protected = ")
            .bind(values.protected)
            .push(", owner = ")
            .bind(values.owner.as_str())
            .push(", updated_at = ")
            .bind(now())
            .push(" WHERE id = ")
            .bind(id);
        tx.execute(&q).await?;
        let row = namespace_in(&mut tx, &values.namespace).await?;
        tx.commit().await?;
        Ok(row)
    }

    /// Deletes namespace `id` and everything in it.
    pub async fn delete_metadef_namespace(&self, id: i64) -> Result<(), DbError> {
        let mut tx = self.begin_write().await?;
        for table in [
            "metadef_tags",
            "metadef_objects",
            "metadef_properties",
            "metadef_namespace_resource_types",
        ] {
            let mut q = SqlBuf::new(&format!("DELETE FROM {table} WHERE namespace_id = "));
            q.bind(id);
            tx.execute(&q).await?;
        }
        let mut q = SqlBuf::new("DELETE FROM metadef_namespaces WHERE id = ");
        q.bind(id);
        tx.execute(&q).await?;
        tx.commit().await
    }
}

async fn namespace_in(tx: &mut WriteTx, name: &str) -> Result<NamespaceRow, DbError> {
    tx.fetch(&select_named(name))
        .await?
        .first()
        .map(namespace_from_row)
        .transpose()?
        .ok_or_else(|| DbError::Backend("namespace vanished inside its transaction".into()))
}
