//! What a namespace contains by name: objects, properties and tags. The three tables
//! share their shape (`namespace_id`, unique `name`, timestamps); objects and
//! properties add their JSON schema, objects a description and a required list.

use chrono::NaiveDateTime;

use super::{created, push_page};
use crate::engine::DbRow;
use crate::sql::{SqlBuf, SqlValue};
use crate::{now, Db, DbError, SortDir, WriteTx};

/// Which table of namespace content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentKind {
    Object,
    Property,
    Tag,
}

impl ContentKind {
    fn table(self) -> &'static str {
        match self {
            ContentKind::Object => "metadef_objects",
            ContentKind::Property => "metadef_properties",
            ContentKind::Tag => "metadef_tags",
        }
    }

    /// The columns besides id, namespace_id, name and the timestamps.
    fn extra(self) -> &'static [&'static str] {
        match self {
            ContentKind::Object => &["description", "required", "json_schema"],
            ContentKind::Property => &["json_schema"],
            ContentKind::Tag => &[],
        }
    }

    fn columns(self) -> String {
        let mut cols = vec!["id", "name", "created_at", "updated_at"];
        cols.extend(self.extra());
        cols.join(", ")
    }
}

/// One object, property or tag row (columns a table lacks are None).
#[derive(Debug, Clone, PartialEq)]
pub struct ContentRow {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    /// Objects: required property names, comma-separated (upstream's storage form).
    pub required: Option<String>,
    /// Objects and properties: the JSON text of the schema.
    pub json_schema: Option<String>,
    pub created_at: NaiveDateTime,
    /// NULL on a loaded row until an update (see [`super::NamespaceRow`]).
    pub updated_at: Option<NaiveDateTime>,
}

/// The writable columns of an object, property or tag.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContentValues {
    pub name: String,
    pub description: Option<String>,
    pub required: Option<String>,
    pub json_schema: Option<String>,
}

impl ContentValues {
    /// The columns of a tag: its name only.
    pub fn tag(name: impl Into<String>) -> Self {
        ContentValues {
            name: name.into(),
            ..Default::default()
        }
    }

    fn value(&self, column: &str) -> SqlValue {
        match column {
            "description" => self.description.clone().into(),
            "required" => self.required.clone().into(),
            // The column is NOT NULL: an object without properties stores `{}`.
            _ => self
                .json_schema
                .clone()
                .unwrap_or_else(|| "{}".into())
                .into(),
        }
    }
}

fn content_from_row(row: &DbRow, kind: ContentKind) -> Result<ContentRow, DbError> {
    Ok(ContentRow {
        id: row
            .int("id")
            .ok_or_else(|| DbError::Corrupt(format!("{} row without id", kind.table())))?,
        name: row.text("name").unwrap_or_default(),
        description: row.text("description"),
        required: row.text("required"),
        json_schema: row.text("json_schema"),
        created_at: created(row, kind.table())?,
        updated_at: row.time("updated_at"),
    })
}

/// Ordering and paging of a content list.
#[derive(Debug, Clone)]
pub struct ContentPage {
    /// `name`, `created_at`, `updated_at` or `id`.
    pub sort_key: String,
    pub sort_dir: SortDir,
    pub marker: Option<ContentRow>,
    pub limit: Option<usize>,
}

impl Default for ContentPage {
    fn default() -> Self {
        ContentPage {
            sort_key: "created_at".into(),
            sort_dir: SortDir::Asc,
            marker: None,
            limit: None,
        }
    }
}

/// Whether `row` already holds `values`. Schemas compare as JSON values, as
/// upstream's ORM compares the dicts it decoded, not as text (the loader's layout
/// differs from ours).
fn holds(kind: ContentKind, row: &ContentRow, values: &ContentValues) -> bool {
    row.name == values.name
        && kind
            .extra()
            .iter()
            .all(|column| match (*column, values.value(column)) {
                ("description", new) => SqlValue::from(row.description.clone()) == new,
                ("required", new) => SqlValue::from(row.required.clone()) == new,
                (_, SqlValue::Text(new)) => same_json(row.json_schema.as_deref(), &new),
                _ => false,
            })
}

fn same_json(stored: Option<&str>, new: &str) -> bool {
    let parse = |s: &str| serde_json::from_str::<serde_json::Value>(s).ok();
    match (stored.and_then(parse), parse(new)) {
        (Some(a), Some(b)) => a == b,
        _ => stored == Some(new),
    }
}

fn marker_value(row: &ContentRow, column: &str) -> SqlValue {
    match column {
        "id" => row.id.into(),
        "name" => row.name.clone().into(),
        "updated_at" => row.updated_at.into(),
        _ => row.created_at.into(),
    }
}

pub(crate) async fn insert_content(
    tx: &mut WriteTx,
    kind: ContentKind,
    namespace_id: i64,
    values: &ContentValues,
    at: NaiveDateTime,
) -> Result<(), DbError> {
    let mut cols = vec!["namespace_id", "name", "created_at", "updated_at"];
    cols.extend(kind.extra());
    let mut binds: Vec<SqlValue> = vec![
        namespace_id.into(),
        values.name.as_str().into(),
        at.into(),
        at.into(),
    ];
    binds.extend(kind.extra().iter().map(|c| values.value(c)));
    let mut q = SqlBuf::new(&format!(
        "INSERT INTO {} ({}) VALUES ",
        kind.table(),
        cols.join(", ")
    ));
    q.bind_list(binds);
    tx.execute(&q).await?;
    Ok(())
}

async fn content_in(
    tx: &mut WriteTx,
    kind: ContentKind,
    namespace_id: i64,
    name: &str,
) -> Result<ContentRow, DbError> {
    let q = select_one(kind, namespace_id, name);
    tx.fetch(&q)
        .await?
        .first()
        .map(|r| content_from_row(r, kind))
        .transpose()?
        .ok_or_else(|| DbError::Backend("row vanished inside its transaction".into()))
}

/// The rows of this kind in the namespace (conditions can be appended).
fn select_in(kind: ContentKind, namespace_id: i64) -> SqlBuf {
    let mut q = SqlBuf::new(&format!(
        "SELECT {} FROM {} WHERE namespace_id = ",
        kind.columns(),
        kind.table()
    ));
    q.bind(namespace_id);
    q
}

fn select_one(kind: ContentKind, namespace_id: i64, name: &str) -> SqlBuf {
    let mut q = select_in(kind, namespace_id);
    q.push(" AND name = ").bind(name);
    q
}

/// Deletes the rows of this kind in the namespace (conditions can be appended).
fn delete_in(kind: ContentKind, namespace_id: i64) -> SqlBuf {
    let mut q = SqlBuf::new(&format!(
        "DELETE FROM {} WHERE namespace_id = ",
        kind.table()
    ));
    q.bind(namespace_id);
    q
}

impl Db {
    pub async fn list_metadef_content(
        &self,
        kind: ContentKind,
        namespace_id: i64,
        page: &ContentPage,
    ) -> Result<Vec<ContentRow>, DbError> {
        let mut q = select_in(kind, namespace_id);
        push_page(
            &mut q,
            &page.sort_key,
            page.sort_dir,
            page.marker.as_ref(),
            marker_value,
            page.limit,
        );
        self.fetch(&q)
            .await?
            .iter()
            .map(|r| content_from_row(r, kind))
            .collect()
    }

    pub async fn get_metadef_content(
        &self,
        kind: ContentKind,
        namespace_id: i64,
        name: &str,
    ) -> Result<Option<ContentRow>, DbError> {
        self.fetch(&select_one(kind, namespace_id, name))
            .await?
            .first()
            .map(|r| content_from_row(r, kind))
            .transpose()
    }

    /// Adds one object, property or tag; [`DbError::Duplicate`] when the name is taken.
    pub async fn create_metadef_content(
        &self,
        kind: ContentKind,
        namespace_id: i64,
        values: &ContentValues,
    ) -> Result<ContentRow, DbError> {
        let mut tx = self.begin_write().await?;
        insert_content(&mut tx, kind, namespace_id, values, now()).await?;
        let row = content_in(&mut tx, kind, namespace_id, &values.name).await?;
        tx.commit().await?;
        Ok(row)
    }

    /// Replaces the columns of row `id` (a rename included). When they already hold
    /// `values` nothing is written, so `updated_at` keeps its value (NULL included):
    /// upstream's ORM emits no UPDATE for an object whose attributes did not change.
    pub async fn update_metadef_content(
        &self,
        kind: ContentKind,
        namespace_id: i64,
        id: i64,
        values: &ContentValues,
    ) -> Result<ContentRow, DbError> {
        let mut tx = self.begin_write().await?;
        let mut q = select_in(kind, namespace_id);
        q.push(" AND id = ").bind(id);
        let current = tx
            .fetch(&q)
            .await?
            .first()
            .map(|r| content_from_row(r, kind))
            .transpose()?;
        if let Some(current) = current.filter(|c| holds(kind, c, values)) {
            tx.commit().await?;
            return Ok(current);
        }
        let mut q = SqlBuf::new(&format!("UPDATE {} SET name = ", kind.table()));
        q.bind(values.name.as_str());
        for c in kind.extra() {
            q.push(", ").push(c).push(" = ").bind(values.value(c));
        }
        q.push(", updated_at = ").bind(now());
        q.push(" WHERE id = ").bind(id);
        tx.execute(&q).await?;
        let row = content_in(&mut tx, kind, namespace_id, &values.name).await?;
        tx.commit().await?;
        Ok(row)
    }

    /// Removes one row by name; false when there was none.
    pub async fn delete_metadef_content(
        &self,
        kind: ContentKind,
        namespace_id: i64,
        name: &str,
    ) -> Result<bool, DbError> {
        let mut q = delete_in(kind, namespace_id);
        q.push(" AND name = ").bind(name);
        Ok(self.execute(&q).await? > 0)
    }

    /// Removes every row of this kind from the namespace.
    pub async fn delete_all_metadef_content(
        &self,
        kind: ContentKind,
        namespace_id: i64,
    ) -> Result<(), DbError> {
        self.execute(&delete_in(kind, namespace_id)).await?;
        Ok(())
    }

    /// Adds tags in one transaction, first removing the existing ones unless
    /// `append`. `Ok(Err(name))`: `name` already exists (nothing is changed).
    pub async fn create_metadef_tags(
        &self,
        namespace_id: i64,
        names: &[String],
        append: bool,
    ) -> Result<Result<Vec<ContentRow>, String>, DbError> {
        let at = now();
        let mut tx = self.begin_write().await?;
        if !append {
            tx.execute(&delete_in(ContentKind::Tag, namespace_id))
                .await?;
        }
        let mut rows = Vec::with_capacity(names.len());
        for name in names {
            let values = ContentValues::tag(name);
            match insert_content(&mut tx, ContentKind::Tag, namespace_id, &values, at).await {
                Ok(()) => {}
                Err(DbError::Duplicate) => return Ok(Err(name.clone())),
                Err(e) => return Err(e),
            }
            rows.push(content_in(&mut tx, ContentKind::Tag, namespace_id, name).await?);
        }
        tx.commit().await?;
        Ok(Ok(rows))
    }
}
