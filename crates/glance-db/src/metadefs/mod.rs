//! Metadata definitions (`metadef_*` tables): namespaces and what they contain.
//! Rows are hard-deleted, as upstream does; a namespace's content goes with it.

mod bulk;
mod content;
mod namespaces;
mod resource_types;

use chrono::NaiveDateTime;

use crate::engine::DbRow;
use crate::sql::{SqlBuf, SqlValue};
use crate::{DbError, SortDir};

pub use bulk::{LoadMode, Loaded, NamespaceDocument};
pub use content::{ContentKind, ContentPage, ContentRow, ContentValues};
pub use namespaces::{
    sortable as namespace_sortable, NamespaceContent, NamespaceListQuery, NamespaceScope,
};
pub(crate) use resource_types::seed_resource_types;
pub use resource_types::{AssociationRow, AssociationValues, ResourceTypeRow};

/// One `metadef_namespaces` row.
#[derive(Debug, Clone, PartialEq)]
pub struct NamespaceRow {
    pub id: i64,
    pub namespace: String,
    pub display_name: Option<String>,
    pub description: Option<String>,
    /// `public` or `private` (NULL is read as `private`, as upstream's domain does).
    pub visibility: String,
    pub protected: bool,
    pub owner: String,
    pub created_at: NaiveDateTime,
    /// NULL on a row `glance-manage db load_metadefs` wrote, until an update changes
    /// it; upstream leaves the key out of its documents while it is.
    pub updated_at: Option<NaiveDateTime>,
}

/// The writable attributes of a namespace.
#[derive(Debug, Clone, PartialEq)]
pub struct NamespaceValues {
    pub namespace: String,
    pub display_name: Option<String>,
    pub description: Option<String>,
    pub visibility: String,
    pub protected: bool,
    pub owner: String,
}

fn created(row: &DbRow, table: &str) -> Result<NaiveDateTime, DbError> {
    row.time("created_at")
        .ok_or_else(|| DbError::Corrupt(format!("{table} row without created_at")))
}

fn namespace_from_row(row: &DbRow) -> Result<NamespaceRow, DbError> {
    Ok(NamespaceRow {
        id: row
            .int("id")
            .ok_or_else(|| DbError::Corrupt("namespace without id".into()))?,
        namespace: row.text("namespace").unwrap_or_default(),
        display_name: row.text("display_name"),
        description: row.text("description"),
        visibility: row.text("visibility").unwrap_or_else(|| "private".into()),
        protected: row.boolean("protected"),
        owner: row.text("owner").unwrap_or_default(),
        created_at: created(row, "metadef_namespaces")?,
        updated_at: row.time("updated_at"),
    })
}

/// One page of a metadef list, as upstream pages: ordered by (`sort_key`, created_at,
/// id), all in one direction, starting after the `marker` row (whose column values
/// `marker_value` gives), at most `limit` rows. A NULL marker value (a loaded row's
/// `updated_at`, a namespace without a description) cannot be compared, so oslo.db's
/// `paginate_query`, which upstream pages with, leaves that column out of the
/// condition; so does this (the id, never NULL, still orders the page).
pub(crate) fn push_page<M>(
    q: &mut SqlBuf,
    sort_key: &str,
    sort_dir: SortDir,
    marker: Option<&M>,
    marker_value: impl Fn(&M, &str) -> SqlValue,
    limit: Option<usize>,
) {
    let mut keys = vec![sort_key];
    for k in ["created_at", "id"] {
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    let (cmp, dir) = match sort_dir {
        SortDir::Asc => (" > ", " ASC"),
        SortDir::Desc => (" < ", " DESC"),
    };
    if let Some(marker) = marker {
        let values: Vec<SqlValue> = keys.iter().map(|k| marker_value(marker, k)).collect();
        q.push(" AND (");
        let mut first = true;
        for i in (0..keys.len()).filter(|i| values[*i] != SqlValue::Null) {
            if !first {
                q.push(" OR ");
            }
            first = false;
            q.push("(");
            for j in (0..i).filter(|j| values[*j] != SqlValue::Null) {
                q.push(keys[j])
                    .push(" = ")
                    .bind(values[j].clone())
                    .push(" AND ");
            }
            q.push(keys[i]).push(cmp).bind(values[i].clone());
            q.push(")");
        }
        q.push(")");
    }
    let order: Vec<String> = keys.iter().map(|k| format!("{k}{dir}")).collect();
    q.push(" ORDER BY ").push(&order.join(", "));
    if let Some(limit) = limit {
        q.push(" LIMIT ").bind(limit as i64);
    }
}
