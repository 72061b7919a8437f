//! The database connection and the only code that talks to drivers: it runs
//! [`SqlBuf`]s and turns result rows into engine-neutral [`DbRow`]s. Queries elsewhere
//! are written once and run unchanged on every engine.
//!
//! SQLite runs through rusqlite on the blocking pool (decision 7); PostgreSQL and
//! MySQL/MariaDB through sqlx's drivers for those engines (decision 11).

mod mysql;
mod postgres;
mod sqlite;
mod url;
pub use url::redact as redact_url;

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDateTime;

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

/// The SQL engine behind a [`Db`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
    MySql,
}

impl Engine {
    /// The engine a database URL names (SQLAlchemy spellings, driver suffix allowed:
    /// `postgresql+psycopg2://`, `mysql+pymysql://`, `sqlite:///path`).
    pub fn from_url(url: &str) -> Result<Engine, DbError> {
        let scheme = url.split("://").next().unwrap_or_default();
        let dialect = scheme.split('+').next().unwrap_or_default();
        match dialect.to_ascii_lowercase().as_str() {
            "sqlite" => Ok(Engine::Sqlite),
            "postgresql" | "postgres" => Ok(Engine::Postgres),
            "mysql" | "mariadb" => Ok(Engine::MySql),
            _ => Err(DbError::UnsupportedUrl(url::redact(url))),
        }
    }
}

/// A connection pool on one of the supported engines. Cheap to clone.
#[derive(Clone)]
pub struct Db {
    backend: Backend,
}

#[derive(Clone)]
enum Backend {
    Sqlite(sqlite::SqliteDb),
    Postgres(sqlx::PgPool),
    MySql(sqlx::MySqlPool),
}

/// A write transaction. Dropped without [`WriteTx::commit`], it rolls back.
///
/// On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`); on PostgreSQL and
/// MySQL it is an ordinary transaction, and the compare-and-swap UPDATEs (rows
/// affected) make concurrent writers safe.
pub struct WriteTx {
    tx: Tx,
}

enum Tx {
    Sqlite(sqlite::SqliteTx),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
    MySql(sqlx::Transaction<'static, sqlx::MySql>),
}

impl Db {
    /// Connects to a database URL in the forms upstream accepts.
    pub async fn connect(url: &str, settings: &PoolSettings) -> Result<Db, DbError> {
        let backend = match Engine::from_url(url)? {
            Engine::Sqlite => Backend::Sqlite(sqlite::SqliteDb::connect(url, settings).await?),
            Engine::Postgres => Backend::Postgres(postgres::connect(url, settings).await?),
            Engine::MySql => Backend::MySql(mysql::connect(url, settings).await?),
        };
        Ok(Db { backend })
    }

    pub fn engine(&self) -> Engine {
        match &self.backend {
            Backend::Sqlite(_) => Engine::Sqlite,
            Backend::Postgres(_) => Engine::Postgres,
            Backend::MySql(_) => Engine::MySql,
        }
    }

    pub async fn begin_write(&self) -> Result<WriteTx, DbError> {
        let tx = match &self.backend {
            Backend::Sqlite(db) => Tx::Sqlite(db.begin_write().await?),
            Backend::Postgres(pool) => Tx::Postgres(pool.begin().await?),
            Backend::MySql(pool) => Tx::MySql(pool.begin().await?),
        };
        Ok(WriteTx { tx })
    }

    pub(crate) async fn execute(&self, q: &SqlBuf) -> Result<u64, DbError> {
        match &self.backend {
            Backend::Sqlite(db) => db.execute(q).await,
            Backend::Postgres(pool) => postgres::execute(pool, q).await,
            Backend::MySql(pool) => mysql::execute(pool, q).await,
        }
    }

    pub(crate) async fn fetch(&self, q: &SqlBuf) -> Result<Vec<DbRow>, DbError> {
        match &self.backend {
            Backend::Sqlite(db) => db.fetch(q).await,
            Backend::Postgres(pool) => postgres::fetch(pool, q).await,
            Backend::MySql(pool) => mysql::fetch(pool, q).await,
        }
    }

    /// Runs several queries in one read transaction (one consistent snapshot) and,
    /// on SQLite, one trip to the database thread.
    pub(crate) async fn fetch_batch(
        &self,
        queries: Vec<SqlBuf>,
    ) -> Result<Vec<Vec<DbRow>>, DbError> {
        match &self.backend {
            Backend::Sqlite(db) => db.fetch_batch(queries).await,
            Backend::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                let mut out = Vec::with_capacity(queries.len());
                for q in &queries {
                    out.push(postgres::fetch(&mut *tx, q).await?);
                }
                tx.commit().await?;
                Ok(out)
            }
            Backend::MySql(pool) => {
                let mut tx = pool.begin().await?;
                let mut out = Vec::with_capacity(queries.len());
                for q in &queries {
                    out.push(mysql::fetch(&mut *tx, q).await?);
                }
                tx.commit().await?;
                Ok(out)
            }
        }
    }

    /// Runs one statement outside the typed API (schema tools, tests).
    pub async fn raw_execute(&self, q: &SqlBuf) -> Result<u64, DbError> {
        self.execute(q).await
    }

    /// Runs one query outside the typed API (schema tools, tests).
    pub async fn raw_fetch(&self, q: &SqlBuf) -> Result<Vec<DbRow>, DbError> {
        self.fetch(q).await
    }

    /// Closes idle connections and refuses new ones.
    pub async fn close(&self) {
        match &self.backend {
            Backend::Sqlite(db) => db.close(),
            Backend::Postgres(pool) => pool.close().await,
            Backend::MySql(pool) => pool.close().await,
        }
    }
}

impl WriteTx {
    pub(crate) async fn execute(&mut self, q: &SqlBuf) -> Result<u64, DbError> {
        match &mut self.tx {
            Tx::Sqlite(tx) => tx.execute(q).await,
            Tx::Postgres(tx) => postgres::execute(&mut **tx, q).await,
            Tx::MySql(tx) => mysql::execute(&mut **tx, q).await,
        }
    }

    pub(crate) async fn fetch(&mut self, q: &SqlBuf) -> Result<Vec<DbRow>, DbError> {
        match &mut self.tx {
            Tx::Sqlite(tx) => tx.fetch(q).await,
            Tx::Postgres(tx) => postgres::fetch(&mut **tx, q).await,
            Tx::MySql(tx) => mysql::fetch(&mut **tx, q).await,
        }
    }

    pub async fn commit(self) -> Result<(), DbError> {
        match self.tx {
            Tx::Sqlite(tx) => tx.commit().await,
            Tx::Postgres(tx) => Ok(tx.commit().await?),
            Tx::MySql(tx) => Ok(tx.commit().await?),
        }
    }
}

impl From<sqlx::Error> for DbError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e {
            if db.is_unique_violation() {
                return DbError::Duplicate;
            }
        }
        DbError::Backend(e.to_string())
    }
}

/// One result row, independent of the engine.
#[derive(Debug, Clone)]
pub struct DbRow {
    columns: Arc<[String]>,
    values: Vec<SqlValue>,
}

impl DbRow {
    pub(crate) fn new(columns: Arc<[String]>, values: Vec<SqlValue>) -> DbRow {
        DbRow { columns, values }
    }

    /// The column names, in the order of the query.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

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

    /// A text column borrowed (None for NULL and non-text values).
    pub fn str(&self, name: &str) -> Option<&str> {
        match self.get(name) {
            SqlValue::Text(s) => Some(s.as_str()),
            _ => None,
        }
    }

    /// Any non-NULL value as text (integers and booleans as SQLite shows them,
    /// timestamps in SQLAlchemy's SQLite form).
    pub fn text(&self, name: &str) -> Option<String> {
        match self.get(name) {
            SqlValue::Text(s) => Some(s.clone()),
            SqlValue::Int(i) => Some(i.to_string()),
            SqlValue::Bool(b) => Some(if *b { "1" } else { "0" }.to_string()),
            SqlValue::Time(t) => Some(t.format(SQLITE_TIME_FORMAT).to_string()),
            SqlValue::Null => None,
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

/// The column names of a result set, shared by its rows.
fn column_names<R: sqlx::Row>(row: &R) -> Arc<[String]> {
    use sqlx::Column;
    row.columns().iter().map(|c| c.name().to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::Engine;

    #[test]
    fn engines_by_url() {
        assert_eq!(Engine::from_url("sqlite://").unwrap(), Engine::Sqlite);
        assert_eq!(
            Engine::from_url("postgresql+psycopg2://g:p@db/glance").unwrap(),
            Engine::Postgres
        );
        assert_eq!(
            Engine::from_url("mysql+pymysql://g:p@db/glance?charset=utf8mb4").unwrap(),
            Engine::MySql
        );
        let err = Engine::from_url("oracle://scott:tiger@db/x").unwrap_err();
        assert!(!err.to_string().contains("tiger"), "{err}");
    }
}
