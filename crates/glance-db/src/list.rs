//! `GET /v2/images` in SQL: visibility, filters, keyset paging after a marker and
//! sorting all happen in the database, then the page's child rows are loaded with one
//! query per table. A list request runs at most six queries whatever its size.

use glance_domain::{Image, MemberStatus};

use crate::rows::{image_from_row, IMAGE_COLUMNS};
use crate::sql::{SqlBuf, SqlValue};
use crate::{Db, DbError, DbRow, Engine};

/// Columns of `images` a list may filter or sort on. Only these names ever reach SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Id,
    Name,
    Status,
    ContainerFormat,
    DiskFormat,
    Owner,
    Size,
    VirtualSize,
    MinRam,
    MinDisk,
    Checksum,
    OsHashAlgo,
    OsHashValue,
    CreatedAt,
    UpdatedAt,
    Protected,
    OsHidden,
    Visibility,
}

impl Column {
    pub fn from_name(name: &str) -> Option<Column> {
        Some(match name {
            "id" => Column::Id,
            "name" => Column::Name,
            "status" => Column::Status,
            "container_format" => Column::ContainerFormat,
            "disk_format" => Column::DiskFormat,
            "owner" => Column::Owner,
            "size" => Column::Size,
            "virtual_size" => Column::VirtualSize,
            "min_ram" => Column::MinRam,
            "min_disk" => Column::MinDisk,
            "checksum" => Column::Checksum,
            "os_hash_algo" => Column::OsHashAlgo,
            "os_hash_value" => Column::OsHashValue,
            "created_at" => Column::CreatedAt,
            "updated_at" => Column::UpdatedAt,
            "protected" => Column::Protected,
            "os_hidden" => Column::OsHidden,
            "visibility" => Column::Visibility,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Column::Id => "id",
            Column::Name => "name",
            Column::Status => "status",
            Column::ContainerFormat => "container_format",
            Column::DiskFormat => "disk_format",
            Column::Owner => "owner",
            Column::Size => "size",
            Column::VirtualSize => "virtual_size",
            Column::MinRam => "min_ram",
            Column::MinDisk => "min_disk",
            Column::Checksum => "checksum",
            Column::OsHashAlgo => "os_hash_algo",
            Column::OsHashValue => "os_hash_value",
            Column::CreatedAt => "created_at",
            Column::UpdatedAt => "updated_at",
            Column::Protected => "protected",
            Column::OsHidden => "os_hidden",
            Column::Visibility => "visibility",
        }
    }

    fn qualified(self) -> String {
        format!("images.{}", self.name())
    }

    /// Whether the column may hold NULL (upstream's schema).
    fn nullable(self) -> bool {
        !matches!(
            self,
            Column::Id
                | Column::Status
                | Column::CreatedAt
                | Column::MinRam
                | Column::MinDisk
                | Column::Protected
                | Column::OsHidden
                | Column::Visibility
        )
    }
}

pub type SortKey = Column;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortDir {
    Asc,
    Desc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Neq,
    Gt,
    Gte,
    Lt,
    Lte,
}

impl CmpOp {
    fn sql(self) -> &'static str {
        match self {
            CmpOp::Eq => " = ",
            CmpOp::Neq => " <> ",
            CmpOp::Gt => " > ",
            CmpOp::Gte => " >= ",
            CmpOp::Lt => " < ",
            CmpOp::Lte => " <= ",
        }
    }
}

/// One filter of a list request.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// Column equals any of the values.
    In(Column, Vec<SqlValue>),
    Cmp(Column, CmpOp, SqlValue),
    /// Extra property equals any of the values.
    Property {
        name: String,
        values: Vec<String>,
    },
    /// Image carries this tag.
    Tag(String),
    /// Matches no image (a filter value that can never be equal, as upstream finds).
    Never,
}

/// The `visibility` filter value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListVisibility {
    Public,
    Private,
    Shared,
    Community,
    All,
}

/// Who is listing and which visibility they asked for (spec §5.4).
#[derive(Debug, Clone, PartialEq)]
pub struct VisibilityScope {
    pub is_admin: bool,
    pub project: Option<String>,
    pub visibility: Option<ListVisibility>,
    /// Membership status that makes a shared image appear; None = any status.
    pub member_status: Option<MemberStatus>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ImageListQuery {
    pub scope: VisibilityScope,
    pub conditions: Vec<Condition>,
    /// Sort keys in order; the caller appends the created_at/id tie-breakers.
    pub sort: Vec<(Column, SortDir)>,
    pub marker: Option<String>,
    pub limit: u64,
}

/// Outcome of a list query.
#[derive(Debug)]
pub enum ListResult {
    Page(Vec<Image>),
    /// The marker id names no image the caller may page from (400 upstream): none at
    /// all, or a deleted one for a non-admin.
    MarkerNotFound,
    /// The marker image exists but the caller may not see it (403 upstream).
    MarkerNotVisible,
}

impl Db {
    pub async fn list_images(&self, query: &ImageListQuery) -> Result<ListResult, DbError> {
        let marker_row = match &query.marker {
            None => None,
            Some(marker) => {
                // Admins may page on from a deleted image; others may not (as upstream).
                let mut mq = SqlBuf::new(&format!(
                    "SELECT {IMAGE_COLUMNS} FROM images WHERE images.id = "
                ));
                mq.bind(marker.as_str());
                if !query.scope.is_admin {
                    mq.push(" AND images.deleted = ").bind(false);
                }
                let Some(row) = self.fetch(&mq).await?.into_iter().next() else {
                    return Ok(ListResult::MarkerNotFound);
                };
                if !self.marker_visible(&query.scope, &row).await? {
                    return Ok(ListResult::MarkerNotVisible);
                }
                Some(row)
            }
        };
        let rows = self
            .fetch(&page_query(self.engine(), query, marker_row.as_ref()))
            .await?;
        let mut images = rows
            .iter()
            .map(image_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        self.load_children(&mut images).await?;
        Ok(ListResult::Page(images))
    }

    /// The engine's plan for the page query of `query` (without a marker), one line
    /// per step: for tests and operators checking that listing stays on its indexes.
    pub async fn explain_list(&self, query: &ImageListQuery) -> Result<Vec<String>, DbError> {
        let page = page_query(self.engine(), query, None);
        let explain = match self.engine() {
            Engine::Sqlite => "EXPLAIN QUERY PLAN",
            Engine::Postgres | Engine::MySql => "EXPLAIN",
        };
        let mut q = SqlBuf::new(&format!("{explain} {}", page.text));
        q.binds = page.binds;
        let rows = self.fetch(&q).await?;
        Ok(match self.engine() {
            Engine::Sqlite => rows.iter().filter_map(|r| r.text("detail")).collect(),
            Engine::Postgres => rows.iter().filter_map(|r| r.text("QUERY PLAN")).collect(),
            // One row per table access: which table, through which key, how.
            Engine::MySql => rows
                .iter()
                .map(|r| {
                    r.columns()
                        .iter()
                        .filter_map(|c| Some(format!("{c}={}", r.text(c)?)))
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .collect(),
        })
    }
}

/// The page query: visibility, filters, keyset condition after the marker, order, limit.
fn page_query(engine: Engine, query: &ImageListQuery, marker_row: Option<&DbRow>) -> SqlBuf {
    // MariaDB intersects the `deleted` and `os_hidden` indexes, which nearly every
    // row matches, and then sorts the lot (96k rows for a page of 25 at 100k images);
    // without them it walks the sort index and stops after the page.
    let hint = match engine {
        Engine::MySql => " IGNORE INDEX (ix_images_deleted, os_hidden_image_idx)",
        _ => "",
    };
    let mut q = SqlBuf::new(&format!(
        "SELECT {IMAGE_COLUMNS} FROM images{hint} WHERE images.deleted = "
    ));
    q.bind(false).push(" AND images.status <> ").bind("killed");
    push_visibility(&mut q, &query.scope);
    for condition in &query.conditions {
        q.push(" AND ");
        push_condition(&mut q, condition);
    }
    if let Some(marker_row) = marker_row {
        q.push(" AND ");
        push_after_marker(&mut q, engine, &query.sort, |col| {
            marker_row.value(col.name())
        });
    }
    q.push(" ORDER BY ");
    for (i, (col, dir)) in query.sort.iter().enumerate() {
        if i > 0 {
            q.push(", ");
        }
        let d = if *dir == SortDir::Asc {
            " ASC"
        } else {
            " DESC"
        };
        // A plain ORDER BY, as upstream's: NULL sorts where the engine puts it
        // (smallest on SQLite and MySQL, largest on PostgreSQL), and the sort
        // indexes serve it.
        q.push(&col.qualified()).push(d);
    }
    q.push(" LIMIT ")
        .bind(query.limit.min(i64::MAX as u64) as i64);
    q
}

impl Db {
    /// Upstream's `is_image_visible` for the marker image: admin, no owner, public or
    /// community, the caller's own, or shared with the caller (any member status).
    async fn marker_visible(&self, scope: &VisibilityScope, row: &DbRow) -> Result<bool, DbError> {
        if scope.is_admin {
            return Ok(true);
        }
        let owner = row.text("owner");
        let visibility = row.text("visibility").unwrap_or_default();
        if owner.is_none() || visibility == "public" || visibility == "community" {
            return Ok(true);
        }
        let Some(project) = scope.project.as_deref() else {
            return Ok(false);
        };
        if owner.as_deref() == Some(project) {
            return Ok(true);
        }
        if visibility != "shared" {
            return Ok(false);
        }
        let mut q =
            SqlBuf::new("SELECT image_id FROM image_members WHERE image_members.image_id = ");
        q.bind(row.text("id").unwrap_or_default())
            .push(" AND image_members.member = ")
            .bind(project);
        q.push(" AND image_members.deleted = ").bind(false);
        Ok(!self.fetch(&q).await?.is_empty())
    }
}

/// "The caller's project is a member of this image", as a correlated EXISTS: it is
/// answered through the `(image_id, member)` index for each candidate image, where an
/// `IN (SELECT image_id ... WHERE member = ?)` would scan every membership of the cloud
/// (upstream has no index on `member` alone).
fn push_member_of(q: &mut SqlBuf, project: &str, status: Option<MemberStatus>) {
    q.push("EXISTS (SELECT 1 FROM image_members WHERE image_members.image_id = images.id");
    q.push(" AND image_members.member = ")
        .bind(project)
        .push(" AND image_members.deleted = ")
        .bind(false);
    if let Some(st) = status {
        q.push(" AND image_members.status = ").bind(st.as_str());
    }
    q.push(PROBE_ONCE);
}

/// Ends a correlated EXISTS. `LIMIT 1 OFFSET 0` keeps it a per-image probe of the
/// child table's `image_id` index: without it PostgreSQL turns the subquery into a
/// hashed subplan or a join that reads the whole child table (200k memberships, a
/// million properties at 100k images), and MariaDB materializes it.
const PROBE_ONCE: &str = " LIMIT 1 OFFSET 0)";

fn push_visibility(q: &mut SqlBuf, scope: &VisibilityScope) {
    use ListVisibility as V;
    let vis = |q: &mut SqlBuf, v: &str| {
        q.push("images.visibility = ").bind(v);
    };
    q.push(" AND (");
    match (scope.is_admin, scope.visibility, scope.project.as_deref()) {
        (true, None, project) => {
            q.push("images.visibility <> ").bind("community");
            if let Some(p) = project {
                q.push(" OR images.owner = ").bind(p);
            }
        }
        (true, Some(V::All), _) => {
            q.push("1 = 1");
        }
        (true, Some(v), _) | (false, Some(v @ (V::Public | V::Community)), _) => {
            vis(q, list_vis_name(v))
        }
        (false, None, Some(p)) | (false, Some(V::All), Some(p)) => {
            vis(q, "public");
            if scope.visibility == Some(V::All) {
                q.push(" OR ");
                vis(q, "community");
            }
            q.push(" OR images.owner = ").bind(p).push(" OR (");
            vis(q, "shared");
            q.push(" AND ");
            push_member_of(q, p, scope.member_status);
            q.push(")");
        }
        (false, Some(V::Private), Some(p)) => {
            vis(q, "private");
            q.push(" AND images.owner = ").bind(p);
        }
        (false, Some(V::Shared), Some(p)) => {
            vis(q, "shared");
            q.push(" AND (images.owner = ").bind(p).push(" OR ");
            push_member_of(q, p, scope.member_status);
            q.push(")");
        }
        (false, None, None) => vis(q, "public"),
        (false, Some(V::All), None) => {
            vis(q, "public");
            q.push(" OR ");
            vis(q, "community");
        }
        (false, Some(V::Private | V::Shared), None) => {
            q.push("1 = 0");
        }
    }
    q.push(")");
}

fn list_vis_name(v: ListVisibility) -> &'static str {
    match v {
        ListVisibility::Public => "public",
        ListVisibility::Private => "private",
        ListVisibility::Shared => "shared",
        ListVisibility::Community => "community",
        ListVisibility::All => "all",
    }
}

fn push_condition(q: &mut SqlBuf, condition: &Condition) {
    match condition {
        Condition::In(col, values) if values.len() == 1 => {
            q.push(&col.qualified()).push(" = ").bind(values[0].clone());
        }
        Condition::In(col, values) => {
            q.push(&col.qualified())
                .push(" IN ")
                .bind_list(values.iter().cloned());
        }
        Condition::Cmp(col, op, value) => {
            q.push(&col.qualified()).push(op.sql()).bind(value.clone());
        }
        Condition::Property { name, values } => {
            q.push("EXISTS (SELECT 1 FROM image_properties WHERE image_properties.image_id = images.id");
            q.push(" AND image_properties.name = ").bind(name.as_str());
            q.push(" AND image_properties.value IN ")
                .bind_list(values.iter().map(String::as_str));
            q.push(" AND image_properties.deleted = ")
                .bind(false)
                .push(PROBE_ONCE);
        }
        Condition::Never => {
            q.push("1 = 0");
        }
        Condition::Tag(tag) => {
            q.push("EXISTS (SELECT 1 FROM image_tags WHERE image_tags.image_id = images.id");
            q.push(" AND image_tags.value = ").bind(tag.as_str());
            q.push(" AND image_tags.deleted = ")
                .bind(false)
                .push(PROBE_ONCE);
        }
    }
}

/// Keyset condition "comes after the marker row in this order", with NULL where the
/// engine sorts it: (k1 after m1) OR (k1 = m1 AND k2 after m2) OR ...
fn push_after_marker(
    q: &mut SqlBuf,
    engine: Engine,
    sort: &[(Column, SortDir)],
    marker: impl Fn(Column) -> SqlValue,
) {
    let null_is_largest = engine == Engine::Postgres;
    // The first key can only stay or move on: saying so as a plain range gives the
    // sort index a place to start (PostgreSQL otherwise filters every row before
    // the marker: 50k of them deep in a 100k-image list).
    if let Some((first, dir)) = sort.first() {
        let value = marker(*first);
        if !first.nullable() && value != SqlValue::Null {
            let op = if *dir == SortDir::Asc { " >= " } else { " <= " };
            q.push(&first.qualified())
                .push(op)
                .bind(value)
                .push(" AND ");
        }
    }
    q.push("(");
    for (i, (col, dir)) in sort.iter().enumerate() {
        if i > 0 {
            q.push(" OR ");
        }
        q.push("(");
        for (prev, _) in &sort[..i] {
            push_equal(q, *prev, marker(*prev));
            q.push(" AND ");
        }
        push_beyond(q, *col, marker(*col), *dir, null_is_largest);
        q.push(")");
    }
    q.push(")");
}

fn push_equal(q: &mut SqlBuf, col: Column, value: SqlValue) {
    if value == SqlValue::Null {
        q.push(&col.qualified()).push(" IS NULL");
    } else {
        q.push(&col.qualified()).push(" = ").bind(value);
    }
}

/// "Comes after `value` in direction `dir`". NULLs tie with each other; whether
/// they come first or last depends on the direction and on `null_is_largest`.
fn push_beyond(q: &mut SqlBuf, col: Column, value: SqlValue, dir: SortDir, null_is_largest: bool) {
    let c = col.qualified();
    if !col.nullable() {
        let op = if dir == SortDir::Asc { " > " } else { " < " };
        q.push(&c).push(op).bind(value);
        return;
    }
    // Ascending with NULL largest is descending with NULL smallest, mirrored.
    let nulls_come_last = (dir == SortDir::Asc) == null_is_largest;
    let op = if dir == SortDir::Asc { ">" } else { "<" };
    match (value == SqlValue::Null, nulls_come_last) {
        // After a NULL that sorts last, nothing is left.
        (true, true) => {
            q.push("1 = 0");
        }
        // After a NULL that sorts first, every non-NULL value comes.
        (true, false) => {
            q.push(&format!("{c} IS NOT NULL"));
        }
        // The NULLs still to come, and the larger (smaller) values.
        (false, true) => {
            q.push(&format!("({c} IS NULL OR {c} {op} "))
                .bind(value)
                .push(")");
        }
        (false, false) => {
            q.push(&format!("{c} {op} ")).bind(value);
        }
    }
}
