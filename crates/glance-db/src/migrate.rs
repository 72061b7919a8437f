//! Creates the upstream schema on first start and checks it on later starts.

use crate::sql::SqlBuf;
use crate::{Db, DbError, Engine};

/// Upstream's alembic head that our schema reproduces.
pub const SCHEMA_VERSION: &str = "2024_1_contract01";

const SQLITE_SCHEMA: &str = include_str!("../migrations/sqlite.sql");
const POSTGRESQL_SCHEMA: &str = include_str!("../migrations/postgresql.sql");
const MYSQL_SCHEMA: &str = include_str!("../migrations/mysql.sql");

impl Db {
    /// Creates every table when the database is empty; otherwise checks that it is at
    /// [`SCHEMA_VERSION`].
    pub async fn migrate(&self) -> Result<(), DbError> {
        let (exists, schema) = match self.engine() {
            Engine::Sqlite => (
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'",
                SQLITE_SCHEMA,
            ),
            Engine::Postgres => (
                "SELECT 1 AS present FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_name = 'alembic_version'",
                POSTGRESQL_SCHEMA,
            ),
            Engine::MySql => (
                "SELECT 1 AS present FROM information_schema.tables \
                 WHERE table_schema = DATABASE() AND table_name = 'alembic_version'",
                MYSQL_SCHEMA,
            ),
        };
        let exists = self.fetch(&SqlBuf::new(exists)).await?;
        if exists.is_empty() {
            // PostgreSQL creates the schema in one transaction; MySQL commits each
            // CREATE on its own (its DDL is not transactional).
            let mut tx = self.begin_write().await?;
            for statement in split_statements(schema) {
                tx.execute(&SqlBuf::new(&statement)).await?;
            }
            crate::metadefs::seed_resource_types(&mut tx).await?;
            tx.commit().await?;
            tracing::info!(version = SCHEMA_VERSION, "created the database schema");
        } else {
            let found = self.schema_version().await?.unwrap_or_default();
            if found != SCHEMA_VERSION {
                return Err(DbError::SchemaVersion {
                    found,
                    expected: SCHEMA_VERSION.into(),
                });
            }
        }
        if self.engine() == Engine::Sqlite {
            self.pin_planner_statistics().await?;
        }
        Ok(())
    }

    /// Gives SQLite's query planner the shape of a Glance database up front.
    ///
    /// Without statistics SQLite assumes every index is selective, so it answers
    /// `deleted = 0 ... ORDER BY created_at LIMIT n` through the `deleted` index (which
    /// every row matches) and sorts the whole table, and finds members through the
    /// `deleted` index instead of `(image_id, member)`. These rows describe relative
    /// selectivity (rows per key), which holds at any size, so plans stay the ones
    /// the indexes were made for. Rewritten at every start; a real `ANALYZE` by an
    /// operator is replaced by the same picture.
    async fn pin_planner_statistics(&self) -> Result<(), DbError> {
        let mut tx = self.begin_write().await?;
        // Creates sqlite_stat1 if needed (analysing only the tiny schema table).
        tx.execute(&SqlBuf::new("ANALYZE sqlite_schema")).await?;
        let tables: Vec<&str> = PLANNER_STATISTICS.iter().map(|(t, _, _)| *t).collect();
        let mut q = SqlBuf::new("DELETE FROM sqlite_stat1 WHERE tbl IN ");
        q.bind_list(tables);
        tx.execute(&q).await?;
        for (table, index, stat) in PLANNER_STATISTICS {
            let mut q = SqlBuf::new("INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ");
            q.bind_list([*table, *index, *stat]);
            tx.execute(&q).await?;
        }
        tx.commit().await?;
        // Connections read statistics when they open; make this one reload them too.
        self.execute(&SqlBuf::new("ANALYZE sqlite_schema")).await?;
        Ok(())
    }

    pub async fn schema_version(&self) -> Result<Option<String>, DbError> {
        let rows = self
            .fetch(&SqlBuf::new("SELECT version_num FROM alembic_version"))
            .await?;
        Ok(rows.first().and_then(|r| r.text("version_num")))
    }
}

/// (table, index, "rows rows-per-key...") for a cloud of 10,000 images with ten
/// properties, two tags and two members each. `deleted` and `os_hidden` are described
/// as matching every row (nearly true: live, visible rows dominate), which keeps newer
/// SQLite versions from answering the default list through them and then sorting.
const PLANNER_STATISTICS: &[(&str, &str, &str)] = &[
    ("images", "sqlite_autoindex_images_1", "10000 1"),
    ("images", "created_at_image_idx", "10000 1"),
    ("images", "updated_at_image_idx", "10000 1"),
    ("images", "owner_image_idx", "10000 100"),
    ("images", "checksum_image_idx", "10000 2"),
    ("images", "os_hash_value_image_idx", "10000 2"),
    ("images", "os_hidden_image_idx", "10000 10000"),
    ("images", "visibility_image_idx", "10000 5000"),
    ("images", "ix_images_deleted", "10000 10000"),
    (
        "image_properties",
        "sqlite_autoindex_image_properties_1",
        "100000 10 1",
    ),
    (
        "image_properties",
        "ix_image_properties_image_id",
        "100000 10",
    ),
    (
        "image_properties",
        "ix_image_properties_deleted",
        "100000 100000",
    ),
    ("image_tags", "ix_image_tags_image_id", "20000 2"),
    (
        "image_tags",
        "ix_image_tags_image_id_tag_value",
        "20000 2 1",
    ),
    (
        "image_members",
        "sqlite_autoindex_image_members_1",
        "20000 2 1 1",
    ),
    (
        "image_members",
        "ix_image_members_image_id_member",
        "20000 2 1",
    ),
    ("image_members", "ix_image_members_image_id", "20000 2"),
    ("image_members", "ix_image_members_deleted", "20000 20000"),
    ("image_locations", "ix_image_locations_image_id", "10000 1"),
    (
        "image_locations",
        "ix_image_locations_deleted",
        "10000 10000",
    ),
];

/// Splits a schema file on `;` at line ends, dropping comment lines.
fn split_statements(script: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in script.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("--") || trimmed.is_empty() {
            continue;
        }
        current.push_str(line);
        current.push('\n');
        if trimmed.ends_with(';') {
            out.push(current.trim().trim_end_matches(';').to_string());
            current.clear();
        }
    }
    out
}
