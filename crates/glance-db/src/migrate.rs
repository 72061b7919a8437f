//! Creates the upstream schema on first start and checks it on later starts.

use crate::sql::SqlBuf;
use crate::{Db, DbError};

/// Upstream's alembic head that our schema reproduces.
pub const SCHEMA_VERSION: &str = "2024_1_contract01";

const SQLITE_SCHEMA: &str = include_str!("../migrations/sqlite.sql");

impl Db {
    /// Creates every table when the database is empty; otherwise checks that it is at
    /// [`SCHEMA_VERSION`].
    pub async fn migrate(&self) -> Result<(), DbError> {
        let exists = self
            .fetch(&SqlBuf::new(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'",
            ))
            .await?;
        if exists.is_empty() {
            let mut tx = self.begin_write().await?;
            for statement in split_statements(SQLITE_SCHEMA) {
                tx.execute(&SqlBuf::new(&statement)).await?;
            }
            tx.commit().await?;
            tracing::info!(version = SCHEMA_VERSION, "created the database schema");
            return Ok(());
        }
        let found = self.schema_version().await?.unwrap_or_default();
        if found != SCHEMA_VERSION {
            return Err(DbError::SchemaVersion {
                found,
                expected: SCHEMA_VERSION.into(),
            });
        }
        Ok(())
    }

    pub async fn schema_version(&self) -> Result<Option<String>, DbError> {
        let rows = self
            .fetch(&SqlBuf::new("SELECT version_num FROM alembic_version"))
            .await?;
        Ok(rows.first().and_then(|r| r.text("version_num")))
    }
}

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
