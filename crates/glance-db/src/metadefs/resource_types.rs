//! `metadef_resource_types` and their associations with namespaces
//! (`metadef_namespace_resource_types`).

use chrono::NaiveDateTime;

use super::created;
use crate::engine::DbRow;
use crate::sql::{SqlBuf, SqlValue};
use crate::{now, Db, DbError, WriteTx};

/// One resource type.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceTypeRow {
    pub name: String,
    pub protected: bool,
    pub created_at: NaiveDateTime,
    /// NULL when the loader wrote the row (see [`super::NamespaceRow`]).
    pub updated_at: Option<NaiveDateTime>,
}

/// A resource type as associated with one namespace.
#[derive(Debug, Clone, PartialEq)]
pub struct AssociationRow {
    pub name: String,
    pub prefix: Option<String>,
    pub properties_target: Option<String>,
    pub created_at: NaiveDateTime,
    /// NULL when the loader wrote the row (see [`super::NamespaceRow`]).
    pub updated_at: Option<NaiveDateTime>,
}

/// A new association (the resource type is created when it does not exist yet).
#[derive(Debug, Clone, PartialEq)]
pub struct AssociationValues {
    pub name: String,
    pub prefix: Option<String>,
    pub properties_target: Option<String>,
}

/// The resource types a fresh database knows, as upstream's catalogue of default
/// namespaces (`glance-manage db_load_metadefs`) names them; marked protected, as
/// upstream's seeded system types were. Without them a fresh deployment lists no
/// resource types at all.
const SEEDED_RESOURCE_TYPES: &[&str] = &[
    "OS::Glance::Image",
    "OS::Cinder::Volume",
    "OS::Nova::Flavor",
    "OS::Nova::Aggregate",
    "OS::Nova::Server",
];

/// Inserts the seeded resource types (run once, when the schema is created).
pub(crate) async fn seed_resource_types(tx: &mut WriteTx) -> Result<(), DbError> {
    let at = now();
    for name in SEEDED_RESOURCE_TYPES {
        let mut q = SqlBuf::new(
            "INSERT INTO metadef_resource_types (name, protected, created_at, updated_at) VALUES ",
        );
        q.bind_list([SqlValue::from(*name), true.into(), at.into(), at.into()]);
        tx.execute(&q).await?;
    }
    Ok(())
}

fn association_from_row(row: &DbRow) -> Result<AssociationRow, DbError> {
    Ok(AssociationRow {
        name: row.text("name").unwrap_or_default(),
        prefix: row.text("prefix"),
        properties_target: row.text("properties_target"),
        created_at: created(row, "metadef_namespace_resource_types")?,
        updated_at: row.time("updated_at"),
    })
}

/// Associates the resource type (created if unknown) with the namespace.
pub(crate) async fn insert_association(
    tx: &mut WriteTx,
    namespace_id: i64,
    values: &AssociationValues,
    at: NaiveDateTime,
) -> Result<(), DbError> {
    let type_id = match resource_type_id(tx, &values.name).await? {
        Some(id) => id,
        None => {
            let mut q = SqlBuf::new(
                "INSERT INTO metadef_resource_types (name, protected, created_at, updated_at) VALUES ",
            );
            q.bind_list([
                SqlValue::from(values.name.as_str()),
                false.into(),
                at.into(),
                at.into(),
            ]);
            tx.execute(&q).await?;
            resource_type_id(tx, &values.name)
                .await?
                .ok_or_else(|| DbError::Backend("resource type vanished".into()))?
        }
    };
    let mut q = SqlBuf::new(
        "INSERT INTO metadef_namespace_resource_types (resource_type_id, namespace_id, \
         properties_target, prefix, created_at, updated_at) VALUES ",
    );
    q.bind_list([
        SqlValue::from(type_id),
        namespace_id.into(),
        values.properties_target.clone().into(),
        values.prefix.clone().into(),
        at.into(),
        at.into(),
    ]);
    tx.execute(&q).await?;
    Ok(())
}

async fn resource_type_id(tx: &mut WriteTx, name: &str) -> Result<Option<i64>, DbError> {
    let mut q = SqlBuf::new("SELECT id FROM metadef_resource_types WHERE name = ");
    q.bind(name);
    Ok(tx.fetch(&q).await?.first().and_then(|r| r.int("id")))
}

const ASSOCIATION_SELECT: &str = "SELECT r.name AS name, a.prefix AS prefix, \
     a.properties_target AS properties_target, a.created_at AS created_at, \
     a.updated_at AS updated_at FROM metadef_namespace_resource_types a \
     JOIN metadef_resource_types r ON r.id = a.resource_type_id WHERE a.namespace_id = ";

impl Db {
    pub async fn list_metadef_resource_types(&self) -> Result<Vec<ResourceTypeRow>, DbError> {
        let q = SqlBuf::new(
            "SELECT name, protected, created_at, updated_at FROM metadef_resource_types ORDER BY id",
        );
        self.fetch(&q)
            .await?
            .iter()
            .map(|row| {
                Ok(ResourceTypeRow {
                    name: row.text("name").unwrap_or_default(),
                    protected: row.boolean("protected"),
                    created_at: created(row, "metadef_resource_types")?,
                    updated_at: row.time("updated_at"),
                })
            })
            .collect()
    }

    pub async fn list_metadef_associations(
        &self,
        namespace_id: i64,
    ) -> Result<Vec<AssociationRow>, DbError> {
        let mut q = SqlBuf::new(ASSOCIATION_SELECT);
        q.bind(namespace_id).push(" ORDER BY a.created_at, r.id");
        self.fetch(&q)
            .await?
            .iter()
            .map(association_from_row)
            .collect()
    }

    /// [`DbError::Duplicate`] when the namespace already has this resource type.
    pub async fn create_metadef_association(
        &self,
        namespace_id: i64,
        values: &AssociationValues,
    ) -> Result<AssociationRow, DbError> {
        let mut tx = self.begin_write().await?;
        insert_association(&mut tx, namespace_id, values, now()).await?;
        let mut q = SqlBuf::new(ASSOCIATION_SELECT);
        q.bind(namespace_id)
            .push(" AND r.name = ")
            .bind(values.name.as_str());
        let row = tx
            .fetch(&q)
            .await?
            .first()
            .map(association_from_row)
            .transpose()?
            .ok_or_else(|| DbError::Backend("association vanished".into()))?;
        tx.commit().await?;
        Ok(row)
    }

    /// Removes the association; false when the namespace had none with that name.
    pub async fn delete_metadef_association(
        &self,
        namespace_id: i64,
        resource_type: &str,
    ) -> Result<bool, DbError> {
        let mut q =
            SqlBuf::new("DELETE FROM metadef_namespace_resource_types WHERE namespace_id = ");
        q.bind(namespace_id)
            .push(" AND resource_type_id IN (SELECT id FROM metadef_resource_types WHERE name = ");
        q.bind(resource_type).push(")");
        Ok(self.execute(&q).await? > 0)
    }
}
