//! The database connection and the only code that talks to the sqlx driver: it runs
//! [`SqlBuf`]s and turns result rows into engine-neutral [`DbRow`]s. Adding PostgreSQL
//! and MySQL means adding their arms here; queries elsewhere stay as they are.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDateTime;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{Column, Row, SqliteConnection, SqlitePool, TypeInfo, ValueRef};

use crate::sql::{parse_sqlite_time, SqlBuf, SqlValue, SQLITE_TIME_FORMAT};
use crate::DbError;

/// Pool settings from `[database]`.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
    pub idle_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        PoolSettings {
            max_connections: 8,
            acquire_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(3600),
        }
    }
}

/// A connection pool on one of the supported engines.
#[derive(Clone)]
pub struct Db {
    pub(crate) pool: SqlitePool,
}

/// A write transaction. SQLite takes the write lock at `BEGIN IMMEDIATE`, so two
/// writers queue on the busy timeout instead of deadlocking on a lock upgrade.
pub struct WriteTx {
    pub(crate) tx: sqlx::Transaction<'static, sqlx::Sqlite>,
}

impl Db {
    /// Connects to a database URL in the forms upstream accepts (`sqlite:///abs/path`,
    /// `sqlite:////abs/path`, `sqlite:///relative`, `sqlite://` for memory).
    pub async fn connect(url: &str, settings: &PoolSettings) -> Result<Db, DbError> {
        let sqlite_path = sqlite_path_from_url(url)?;
        let (options, max) = match &sqlite_path {
            Some(path) => (
                SqliteConnectOptions::from_str("sqlite://")?
                    .filename(path)
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal),
                settings.max_connections,
            ),
            // One shared in-memory database: a single connection keeps it alive.
            None => (SqliteConnectOptions::from_str("sqlite::memory:")?, 1),
        };
        let options = options
            .busy_timeout(Duration::from_secs(60))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(max)
            .min_connections(if sqlite_path.is_none() { 1 } else { 0 })
            .acquire_timeout(settings.acquire_timeout)
            .idle_timeout(if sqlite_path.is_none() {
                None
            } else {
                Some(settings.idle_timeout)
            })
            .max_lifetime(None)
            .connect_with(options)
            .await?;
        Ok(Db { pool })
    }

    pub async fn begin_write(&self) -> Result<WriteTx, DbError> {
        Ok(WriteTx {
            tx: self.pool.begin_with("BEGIN IMMEDIATE").await?,
        })
    }

    pub(crate) async fn execute(&self, q: &SqlBuf) -> Result<u64, DbError> {
        let mut conn = self.pool.acquire().await?;
        execute_on(&mut conn, q).await
    }

    pub(crate) async fn fetch(&self, q: &SqlBuf) -> Result<Vec<DbRow>, DbError> {
        let mut conn = self.pool.acquire().await?;
        fetch_on(&mut conn, q).await
    }

    /// Runs one statement outside the typed API (schema tools, tests).
    pub async fn raw_execute(&self, q: &SqlBuf) -> Result<u64, DbError> {
        self.execute(q).await
    }

    /// Runs one query outside the typed API (schema tools, tests).
    pub async fn raw_fetch(&self, q: &SqlBuf) -> Result<Vec<DbRow>, DbError> {
        self.fetch(q).await
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

impl WriteTx {
    pub(crate) async fn execute(&mut self, q: &SqlBuf) -> Result<u64, DbError> {
        execute_on(&mut self.tx, q).await
    }
    pub(crate) async fn fetch(&mut self, q: &SqlBuf) -> Result<Vec<DbRow>, DbError> {
        fetch_on(&mut self.tx, q).await
    }
    pub async fn commit(self) -> Result<(), DbError> {
        Ok(self.tx.commit().await?)
    }
}

/// Accepts SQLAlchemy-style SQLite URLs. Returns None for an in-memory database.
fn sqlite_path_from_url(url: &str) -> Result<Option<std::path::PathBuf>, DbError> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite+pysqlite://"))
        .ok_or_else(|| DbError::UnsupportedUrl(url.to_string()))?;
    // SQLAlchemy: "sqlite://" is memory, "sqlite:///rel" is relative, "sqlite:////abs" absolute.
    let rest = rest.split('?').next().unwrap_or("");
    if rest.is_empty() || rest == "/" || rest == "/:memory:" {
        return Ok(None);
    }
    let path = rest.strip_prefix('/').unwrap_or(rest);
    Ok(Some(std::path::PathBuf::from(path)))
}

fn bind_all<'q>(
    mut query: sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>,
    binds: &'q [SqlValue],
) -> sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>> {
    for v in binds {
        query = match v {
            SqlValue::Null => query.bind(None::<String>),
            SqlValue::Text(s) => query.bind(s.as_str()),
            SqlValue::Int(i) => query.bind(*i),
            SqlValue::Bool(b) => query.bind(*b),
            SqlValue::Time(t) => query.bind(t.format(SQLITE_TIME_FORMAT).to_string()),
        };
    }
    query
}

async fn execute_on(conn: &mut SqliteConnection, q: &SqlBuf) -> Result<u64, DbError> {
    let res = bind_all(sqlx::query(&q.text), &q.binds)
        .execute(conn)
        .await?;
    Ok(res.rows_affected())
}

async fn fetch_on(conn: &mut SqliteConnection, q: &SqlBuf) -> Result<Vec<DbRow>, DbError> {
    let rows = bind_all(sqlx::query(&q.text), &q.binds)
        .fetch_all(conn)
        .await?;
    let Some(first) = rows.first() else {
        return Ok(Vec::new());
    };
    let columns: Arc<[String]> = first
        .columns()
        .iter()
        .map(|c| c.name().to_string())
        .collect();
    rows.iter().map(|r| decode_row(r, &columns)).collect()
}

fn decode_row(row: &SqliteRow, columns: &Arc<[String]>) -> Result<DbRow, DbError> {
    let mut values = Vec::with_capacity(columns.len());
    for i in 0..columns.len() {
        let raw = row.try_get_raw(i)?;
        let value = if raw.is_null() {
            SqlValue::Null
        } else {
            match raw.type_info().name() {
                "INTEGER" | "BOOLEAN" => SqlValue::Int(row.try_get_unchecked::<i64, _>(i)?),
                "REAL" => SqlValue::Int(row.try_get_unchecked::<f64, _>(i)? as i64),
                _ => SqlValue::Text(row.try_get_unchecked::<String, _>(i)?),
            }
        };
        values.push(value);
    }
    Ok(DbRow {
        columns: columns.clone(),
        values,
    })
}

/// One result row, independent of the engine.
#[derive(Debug, Clone)]
pub struct DbRow {
    columns: Arc<[String]>,
    values: Vec<SqlValue>,
}

impl DbRow {
    /// The raw value of a column (Null when absent).
    pub fn value(&self, name: &str) -> SqlValue {
        self.get(name).clone()
    }

    fn get(&self, name: &str) -> &SqlValue {
        self.columns
            .iter()
            .position(|c| c == name)
            .map(|i| &self.values[i])
            .unwrap_or(&SqlValue::Null)
    }

    pub fn text(&self, name: &str) -> Option<String> {
        match self.get(name) {
            SqlValue::Text(s) => Some(s.clone()),
            SqlValue::Int(i) => Some(i.to_string()),
            _ => None,
        }
    }

    pub fn int(&self, name: &str) -> Option<i64> {
        match self.get(name) {
            SqlValue::Int(i) => Some(*i),
            SqlValue::Bool(b) => Some(*b as i64),
            SqlValue::Text(s) => s.parse().ok(),
            _ => None,
        }
    }

    pub fn boolean(&self, name: &str) -> bool {
        match self.get(name) {
            SqlValue::Bool(b) => *b,
            SqlValue::Int(i) => *i != 0,
            SqlValue::Text(s) => matches!(s.as_str(), "1" | "true" | "t"),
            _ => false,
        }
    }

    pub fn time(&self, name: &str) -> Option<NaiveDateTime> {
        match self.get(name) {
            SqlValue::Time(t) => Some(*t),
            SqlValue::Text(s) => parse_sqlite_time(s),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::sqlite_path_from_url;
    use std::path::PathBuf;

    #[test]
    fn sqlite_urls() {
        assert_eq!(sqlite_path_from_url("sqlite://").unwrap(), None);
        assert_eq!(
            sqlite_path_from_url("sqlite:////var/lib/glance/glance.sqlite").unwrap(),
            Some(PathBuf::from("/var/lib/glance/glance.sqlite"))
        );
        assert_eq!(
            sqlite_path_from_url("sqlite:///glance.sqlite").unwrap(),
            Some(PathBuf::from("glance.sqlite"))
        );
        assert!(sqlite_path_from_url("postgresql://x/y").is_err());
    }
}
