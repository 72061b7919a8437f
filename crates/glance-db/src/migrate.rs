//! Creates the upstream schema on first start and checks it on later starts.

use crate::sql::SqlBuf;
use crate::{Db, DbError, Engine, WriteTx};

/// Upstream's alembic head that our schema reproduces.
pub const SCHEMA_VERSION: &str = "2024_1_contract01";

const SQLITE_SCHEMA: &str = include_str!("../migrations/sqlite.sql");
const POSTGRESQL_SCHEMA: &str = include_str!("../migrations/postgresql.sql");
const MYSQL_SCHEMA: &str = include_str!("../migrations/mysql.sql");

/// PostgreSQL advisory lock key of schema creation ("glance" in ASCII).
const SCHEMA_LOCK_KEY: i64 = 0x676c_616e_6365;
/// MySQL named lock of schema creation.
const SCHEMA_LOCK_NAME: &str = "glance_schema_create";

impl Db {
    /// Creates every table when the database is empty; otherwise checks that it is at
    /// [`SCHEMA_VERSION`].
    ///
    /// Several API nodes may start together on one empty database: the check and the
    /// creation run under a lock (an advisory lock on PostgreSQL, a named lock on
    /// MySQL, the write lock on SQLite), so one node creates the schema and the
    /// others wait, then find it.
    pub async fn migrate(&self) -> Result<(), DbError> {
        let mut tx = self.begin_write().await?;
        match self.engine() {
            Engine::Postgres => {
                tx.execute(&SqlBuf::new(&format!(
                    "SELECT pg_advisory_xact_lock({SCHEMA_LOCK_KEY})"
                )))
                .await?;
            }
            Engine::MySql => {
                let got = tx
                    .fetch(&SqlBuf::new(&format!(
                        "SELECT GET_LOCK('{SCHEMA_LOCK_NAME}', 300) AS got"
                    )))
                    .await?;
                if got.first().and_then(|r| r.int("got")) != Some(1) {
                    return Err(DbError::Backend(
                        "timed out waiting for another node to create the schema".into(),
                    ));
                }
            }
            Engine::Sqlite => {}
        }
        let created = self.create_schema_if_missing(&mut tx).await;
        if self.engine() == Engine::MySql {
            // A session lock: it outlives the transaction, so release it on every path.
            let released = tx
                .execute(&SqlBuf::new(&format!(
                    "DO RELEASE_LOCK('{SCHEMA_LOCK_NAME}')"
                )))
                .await;
            if created.is_ok() {
                released?;
            }
        }
        if created? {
            tx.commit().await?;
            tracing::info!(version = SCHEMA_VERSION, "created the database schema");
        } else {
            drop(tx);
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

    /// Creates the schema inside `tx` unless `alembic_version` exists; true if it did.
    async fn create_schema_if_missing(&self, tx: &mut WriteTx) -> Result<bool, DbError> {
        let schema = match self.engine() {
            Engine::Sqlite => SQLITE_SCHEMA,
            Engine::Postgres => POSTGRESQL_SCHEMA,
            Engine::MySql => MYSQL_SCHEMA,
        };
        let exists = table_exists_query(self.engine(), "alembic_version");
        if !tx.fetch(&exists).await?.is_empty() {
            return Ok(false);
        }
        // PostgreSQL creates the schema in one transaction; MySQL commits each
        // CREATE on its own (its DDL is not transactional).
        for statement in split_statements(schema) {
            tx.execute(&SqlBuf::new(&statement)).await?;
        }
        crate::metadefs::seed_resource_types(tx).await?;
        Ok(true)
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

/// Upstream's alembic revisions, oldest first; the last is [`SCHEMA_VERSION`].
pub const KNOWN_REVISIONS: &[&str] = &[
    "liberty",
    "mitaka01",
    "mitaka02",
    "ocata_expand01",
    "ocata_contract01",
    "pike_expand01",
    "pike_contract01",
    "queens_expand01",
    "queens_contract01",
    "rocky_expand01",
    "rocky_expand02",
    "rocky_contract01",
    "rocky_contract02",
    "train_expand01",
    "train_contract01",
    "ussuri_expand01",
    "ussuri_contract01",
    "wallaby_expand01",
    "wallaby_contract01",
    "xena_expand01",
    "xena_contract01",
    "yoga_expand01",
    "yoga_contract01",
    "zed_expand01",
    "zed_contract01",
    "2023_1_expand01",
    "2023_1_contract01",
    "2024_1_expand01",
    "2024_1_contract01",
];

/// What a database holds, as `glance-manage` sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemaState {
    /// No Glance tables at all.
    Empty,
    /// Glance tables without `alembic_version` (never placed under migration control).
    Unversioned,
    /// Under migration control at these revisions.
    At(Vec<String>),
}

impl Db {
    pub async fn schema_state(&self) -> Result<SchemaState, DbError> {
        let engine = self.engine();
        if !self
            .fetch(&table_exists_query(engine, "alembic_version"))
            .await?
            .is_empty()
        {
            let rows = self
                .fetch(&SqlBuf::new("SELECT version_num FROM alembic_version"))
                .await?;
            return Ok(SchemaState::At(
                rows.iter().filter_map(|r| r.text("version_num")).collect(),
            ));
        }
        if self
            .fetch(&table_exists_query(engine, "images"))
            .await?
            .is_empty()
        {
            Ok(SchemaState::Empty)
        } else {
            Ok(SchemaState::Unversioned)
        }
    }

    /// Records `version` as the schema's revision without changing any table
    /// (alembic's `stamp`), creating `alembic_version` if needed.
    pub async fn stamp_schema_version(&self, version: &str) -> Result<(), DbError> {
        let mut tx = self.begin_write().await?;
        let exists = !tx
            .fetch(&table_exists_query(self.engine(), "alembic_version"))
            .await?
            .is_empty();
        if !exists {
            tx.execute(&SqlBuf::new(
                "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, \
                 CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))",
            ))
            .await?;
        }
        tx.execute(&SqlBuf::new("DELETE FROM alembic_version"))
            .await?;
        let mut q = SqlBuf::new("INSERT INTO alembic_version (version_num) VALUES (");
        q.bind(version).push(")");
        tx.execute(&q).await?;
        tx.commit().await
    }
}

/// A query that returns a row when `table` exists in the connection's schema.
fn table_exists_query(engine: Engine, table: &str) -> SqlBuf {
    let mut q = SqlBuf::new(match engine {
        Engine::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ",
        Engine::Postgres => {
            "SELECT 1 AS present FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_name = "
        }
        Engine::MySql => {
            "SELECT 1 AS present FROM information_schema.tables \
             WHERE table_schema = DATABASE() AND table_name = "
        }
    });
    q.bind(table);
    q
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
