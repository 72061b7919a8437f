//! Whole namespaces in and out, for `glance-manage db load_metadefs`,
//! `unload_metadefs` and `export_metadefs`.
//!
//! These writes differ from the API's on purpose, to leave the rows upstream's
//! loader leaves: a loaded row keeps `updated_at` NULL until a later load updates
//! it, `visibility` and `protected` stay NULL when the file has none, and resource
//! types the loader creates are protected.

use std::collections::HashMap;

use chrono::NaiveDateTime;

use super::{AssociationValues, ContentKind, ContentValues};
use crate::engine::DbRow;
use crate::sql::{SqlBuf, SqlValue};
use crate::{now, Db, DbError, WriteTx};

/// One namespace with everything in it, as a metadefs file describes it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NamespaceDocument {
    pub namespace: String,
    pub display_name: Option<String>,
    pub description: Option<String>,
    pub visibility: Option<String>,
    pub protected: Option<bool>,
    pub owner: String,
    pub associations: Vec<AssociationValues>,
    /// Name and `json_schema` (the property's JSON text).
    pub properties: Vec<ContentValues>,
    /// Name, description and `json_schema` (the JSON text of the object's
    /// properties); `required` is neither loaded nor exported, as upstream's tool.
    pub objects: Vec<ContentValues>,
    /// Names only.
    pub tags: Vec<ContentValues>,
}

/// What loading does with a namespace that already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadMode {
    /// Leave it alone (no `--merge`).
    Skip,
    /// Add what it lacks; what it has wins (`--merge`).
    Merge,
    /// Add what it lacks and replace what it has (`--merge --prefer_new`).
    PreferNew,
    /// Drop it with its content and load it anew (`--merge --overwrite`).
    Overwrite,
}

/// What loading one namespace did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loaded {
    Created,
    /// It existed and [`LoadMode::Skip`] left it alone.
    Skipped,
    Merged,
    Overwritten,
}

/// The six metadef tables, children before parents, so deleting in this order
/// never trips a foreign key.
const TABLES_IN_DELETE_ORDER: [&str; 6] = [
    "metadef_properties",
    "metadef_objects",
    "metadef_tags",
    "metadef_namespace_resource_types",
    "metadef_namespaces",
    "metadef_resource_types",
];

fn table(kind: ContentKind) -> &'static str {
    match kind {
        ContentKind::Object => "metadef_objects",
        ContentKind::Property => "metadef_properties",
        ContentKind::Tag => "metadef_tags",
    }
}

/// The columns of `kind` a load writes besides namespace_id, name and timestamps.
fn loaded_columns(kind: ContentKind, v: &ContentValues) -> Vec<(&'static str, SqlValue)> {
    // json_schema is NOT NULL; a document always carries one, `null` at worst.
    let schema = || SqlValue::from(v.json_schema.clone().unwrap_or_else(|| "null".into()));
    match kind {
        ContentKind::Object => vec![
            ("description", v.description.clone().into()),
            ("json_schema", schema()),
        ],
        ContentKind::Property => vec![("json_schema", schema())],
        ContentKind::Tag => Vec::new(),
    }
}

impl Db {
    /// Loads one namespace in one transaction: a failure leaves nothing of it behind.
    pub async fn load_metadef_namespace(
        &self,
        doc: &NamespaceDocument,
        mode: LoadMode,
    ) -> Result<Loaded, DbError> {
        self.retry_deadlocks(|| self.load_once(doc, mode)).await
    }

    async fn load_once(&self, doc: &NamespaceDocument, mode: LoadMode) -> Result<Loaded, DbError> {
        let at = now();
        let mut tx = self.begin_write().await?;
        let (id, loaded) = match (namespace_id(&mut tx, &doc.namespace).await?, mode) {
            (None, _) => (insert_namespace(&mut tx, doc, at).await?, Loaded::Created),
            (Some(_), LoadMode::Skip) => return Ok(Loaded::Skipped),
            (Some(id), LoadMode::Overwrite) => {
                clear_namespace(&mut tx, id).await?;
                (
                    insert_namespace(&mut tx, doc, at).await?,
                    Loaded::Overwritten,
                )
            }
            (Some(id), LoadMode::Merge) => (id, Loaded::Merged),
            (Some(id), LoadMode::PreferNew) => {
                update_namespace(&mut tx, id, doc, at).await?;
                (id, Loaded::Merged)
            }
        };
        // Upstream applies "prefer new" to every existing part, also under a
        // namespace that was just created (a resource type shared with others).
        let replace = mode == LoadMode::PreferNew;
        for a in &doc.associations {
            upsert_association(&mut tx, id, a, replace, at).await?;
        }
        for (kind, list) in [
            (ContentKind::Property, &doc.properties),
            (ContentKind::Object, &doc.objects),
            (ContentKind::Tag, &doc.tags),
        ] {
            for v in list {
                upsert_content(&mut tx, kind, id, v, replace, at).await?;
            }
        }
        tx.commit().await?;
        Ok(loaded)
    }

    /// Deletes every row of the six metadef tables; returns the rows deleted per table.
    pub async fn unload_metadefs(&self) -> Result<Vec<(&'static str, u64)>, DbError> {
        let mut tx = self.begin_write().await?;
        let mut report = Vec::with_capacity(TABLES_IN_DELETE_ORDER.len());
        for t in TABLES_IN_DELETE_ORDER {
            let n = tx
                .execute(&SqlBuf::new(&format!("DELETE FROM {t}")))
                .await?;
            report.push((t, n));
        }
        tx.commit().await?;
        Ok(report)
    }

    /// Every namespace with its content, namespaces and content in the order they
    /// were created, read in one snapshot.
    pub async fn export_metadefs(&self) -> Result<Vec<NamespaceDocument>, DbError> {
        let queries = [
            "SELECT id, namespace, display_name, description, visibility, protected, owner \
             FROM metadef_namespaces ORDER BY id",
            "SELECT a.namespace_id AS namespace_id, r.name AS name, a.prefix AS prefix, \
             a.properties_target AS properties_target FROM metadef_namespace_resource_types a \
             JOIN metadef_resource_types r ON r.id = a.resource_type_id \
             ORDER BY a.namespace_id, a.created_at, r.id",
            "SELECT namespace_id, name, json_schema FROM metadef_properties \
             ORDER BY namespace_id, id",
            "SELECT namespace_id, name, description, json_schema FROM metadef_objects \
             ORDER BY namespace_id, id",
            "SELECT namespace_id, name FROM metadef_tags ORDER BY namespace_id, id",
        ];
        let results = self
            .fetch_batch(queries.iter().map(|q| SqlBuf::new(q)).collect())
            .await?;
        let [namespaces, associations, properties, objects, tags]: [Vec<DbRow>; 5] = results
            .try_into()
            .map_err(|_| DbError::Backend("the batch did not return five result sets".into()))?;
        let mut docs = Vec::with_capacity(namespaces.len());
        let mut index = HashMap::with_capacity(namespaces.len());
        for row in &namespaces {
            let id = required_int(row, "id", "metadef_namespaces")?;
            index.insert(id, docs.len());
            docs.push(NamespaceDocument {
                namespace: row.text("namespace").unwrap_or_default(),
                display_name: row.text("display_name"),
                description: row.text("description"),
                visibility: row.text("visibility"),
                protected: nullable_bool(row, "protected"),
                owner: row.text("owner").unwrap_or_default(),
                ..Default::default()
            });
        }
        for row in &associations {
            let i = namespace_at(&index, row, "metadef_namespace_resource_types")?;
            docs[i].associations.push(AssociationValues {
                name: row.text("name").unwrap_or_default(),
                prefix: row.text("prefix"),
                properties_target: row.text("properties_target"),
            });
        }
        for (kind, rows) in [
            (ContentKind::Property, &properties),
            (ContentKind::Object, &objects),
            (ContentKind::Tag, &tags),
        ] {
            for row in rows {
                let values = ContentValues {
                    name: row.text("name").unwrap_or_default(),
                    description: row.text("description"),
                    required: None,
                    json_schema: row.text("json_schema"),
                };
                let doc = &mut docs[namespace_at(&index, row, table(kind))?];
                match kind {
                    ContentKind::Property => doc.properties.push(values),
                    ContentKind::Object => doc.objects.push(values),
                    ContentKind::Tag => doc.tags.push(values),
                }
            }
        }
        Ok(docs)
    }
}

/// The position in the export of the namespace a content row belongs to.
fn namespace_at(index: &HashMap<i64, usize>, row: &DbRow, t: &str) -> Result<usize, DbError> {
    let id = required_int(row, "namespace_id", t)?;
    index
        .get(&id)
        .copied()
        .ok_or_else(|| DbError::Corrupt(format!("{t} row of missing namespace {id}")))
}

fn required_int(row: &DbRow, column: &str, t: &str) -> Result<i64, DbError> {
    row.int(column)
        .ok_or_else(|| DbError::Corrupt(format!("{t} row without {column}")))
}

/// A boolean column that may be NULL (upstream's loader leaves `protected` NULL
/// when a file has none, and its exporter writes that back as `null`).
fn nullable_bool(row: &DbRow, column: &str) -> Option<bool> {
    (row.value(column) != SqlValue::Null).then(|| row.boolean(column))
}

async fn namespace_id(tx: &mut WriteTx, name: &str) -> Result<Option<i64>, DbError> {
    let mut q = SqlBuf::new("SELECT id FROM metadef_namespaces WHERE namespace = ");
    q.bind(name);
    Ok(tx.fetch(&q).await?.first().and_then(|r| r.int("id")))
}

fn namespace_columns(doc: &NamespaceDocument) -> [(&'static str, SqlValue); 6] {
    [
        ("namespace", doc.namespace.as_str().into()),
        ("display_name", doc.display_name.clone().into()),
        ("description", doc.description.clone().into()),
        ("visibility", doc.visibility.clone().into()),
        ("protected", doc.protected.into()),
        ("owner", doc.owner.as_str().into()),
    ]
}

async fn insert_namespace(
    tx: &mut WriteTx,
    doc: &NamespaceDocument,
    at: NaiveDateTime,
) -> Result<i64, DbError> {
    let mut columns = namespace_columns(doc).to_vec();
    columns.push(("created_at", at.into()));
    insert(tx, "metadef_namespaces", columns).await?;
    namespace_id(tx, &doc.namespace)
        .await?
        .ok_or_else(|| DbError::Backend("namespace vanished inside its transaction".into()))
}

async fn update_namespace(
    tx: &mut WriteTx,
    id: i64,
    doc: &NamespaceDocument,
    at: NaiveDateTime,
) -> Result<(), DbError> {
    let mut q = update("metadef_namespaces", namespace_columns(doc).to_vec(), at);
    q.push(" WHERE id = ").bind(id);
    tx.execute(&q).await?;
    Ok(())
}

/// Deletes the namespace and its content (its resource types stay).
async fn clear_namespace(tx: &mut WriteTx, id: i64) -> Result<(), DbError> {
    for t in &TABLES_IN_DELETE_ORDER[..4] {
        let mut q = SqlBuf::new(&format!("DELETE FROM {t} WHERE namespace_id = "));
        q.bind(id);
        tx.execute(&q).await?;
    }
    let mut q = SqlBuf::new("DELETE FROM metadef_namespaces WHERE id = ");
    q.bind(id);
    tx.execute(&q).await?;
    Ok(())
}

/// The resource type's id, creating it (protected) when unknown; with `replace`
/// an existing one has its `updated_at` renewed, as upstream's loader does.
async fn resource_type(
    tx: &mut WriteTx,
    name: &str,
    replace: bool,
    at: NaiveDateTime,
) -> Result<i64, DbError> {
    let mut q = SqlBuf::new("SELECT id FROM metadef_resource_types WHERE name = ");
    q.bind(name);
    if let Some(id) = tx.fetch(&q).await?.first().and_then(|r| r.int("id")) {
        if replace {
            let mut u = update("metadef_resource_types", Vec::new(), at);
            u.push(" WHERE id = ").bind(id);
            tx.execute(&u).await?;
        }
        return Ok(id);
    }
    let columns = vec![
        ("name", name.into()),
        ("protected", true.into()),
        ("created_at", at.into()),
    ];
    insert(tx, "metadef_resource_types", columns).await?;
    tx.fetch(&q)
        .await?
        .first()
        .and_then(|r| r.int("id"))
        .ok_or_else(|| DbError::Backend("resource type vanished inside its transaction".into()))
}

async fn upsert_association(
    tx: &mut WriteTx,
    namespace_id: i64,
    a: &AssociationValues,
    replace: bool,
    at: NaiveDateTime,
) -> Result<(), DbError> {
    let type_id = resource_type(tx, &a.name, replace, at).await?;
    let columns = vec![
        ("properties_target", a.properties_target.clone().into()),
        ("prefix", a.prefix.clone().into()),
    ];
    let mut q = SqlBuf::new(
        "SELECT resource_type_id FROM metadef_namespace_resource_types WHERE namespace_id = ",
    );
    q.bind(namespace_id)
        .push(" AND resource_type_id = ")
        .bind(type_id);
    if tx.fetch(&q).await?.is_empty() {
        let mut columns = columns;
        columns.extend([
            ("namespace_id", namespace_id.into()),
            ("resource_type_id", type_id.into()),
            ("created_at", at.into()),
        ]);
        insert(tx, "metadef_namespace_resource_types", columns).await?;
    } else if replace {
        let mut u = update("metadef_namespace_resource_types", columns, at);
        u.push(" WHERE namespace_id = ")
            .bind(namespace_id)
            .push(" AND resource_type_id = ")
            .bind(type_id);
        tx.execute(&u).await?;
    }
    Ok(())
}

async fn upsert_content(
    tx: &mut WriteTx,
    kind: ContentKind,
    namespace_id: i64,
    v: &ContentValues,
    replace: bool,
    at: NaiveDateTime,
) -> Result<(), DbError> {
    let t = table(kind);
    let mut q = SqlBuf::new(&format!("SELECT id FROM {t} WHERE namespace_id = "));
    q.bind(namespace_id)
        .push(" AND name = ")
        .bind(v.name.as_str());
    let existing = tx.fetch(&q).await?.first().and_then(|r| r.int("id"));
    let columns = loaded_columns(kind, v);
    match existing {
        None => {
            let mut columns = columns;
            columns.extend([
                ("namespace_id", namespace_id.into()),
                ("name", v.name.as_str().into()),
                ("created_at", at.into()),
            ]);
            insert(tx, t, columns).await?;
        }
        Some(id) if replace => {
            let mut u = update(t, columns, at);
            u.push(" WHERE id = ").bind(id);
            tx.execute(&u).await?;
        }
        Some(_) => {}
    }
    Ok(())
}

async fn insert(
    tx: &mut WriteTx,
    t: &str,
    columns: Vec<(&'static str, SqlValue)>,
) -> Result<(), DbError> {
    let names: Vec<&str> = columns.iter().map(|(c, _)| *c).collect();
    let mut q = SqlBuf::new(&format!("INSERT INTO {t} ({}) VALUES ", names.join(", ")));
    q.bind_list(columns.into_iter().map(|(_, v)| v));
    tx.execute(&q).await?;
    Ok(())
}

/// `UPDATE t SET <columns>, updated_at = at` (the caller appends the WHERE).
fn update(t: &str, columns: Vec<(&'static str, SqlValue)>, at: NaiveDateTime) -> SqlBuf {
    let mut q = SqlBuf::new(&format!("UPDATE {t} SET "));
    for (c, v) in columns {
        q.push(c).push(" = ").bind(v).push(", ");
    }
    q.push("updated_at = ").bind(at);
    q
}
