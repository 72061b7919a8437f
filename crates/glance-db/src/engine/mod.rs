//! The database connection and the only code that talks to drivers: it runs
//! [`SqlBuf`]s and turns result rows into engine-neutral [`DbRow`]s. Queries elsewhere
//! are written once and run unchanged on every engine.
//!
//! SQLite runs through rusqlite on the blocking pool (decision 7); PostgreSQL and
//! MySQL/MariaDB through sqlx's drivers for those engines (decision 11).

/// `execute` and `fetch` for an sqlx engine module, which provides `query(&SqlBuf)`
/// (binding in its own dialect), `Kind::of(type_info)` (how to decode a column)
/// and `decode_row`. The two engines differ only in those; this is the rest.
macro_rules! sqlx_execute_and_fetch {
    ($database:ty) => {
        pub(super) async fn execute<'c, E>(executor: E, q: &SqlBuf) -> Result<u64, DbError>
        where
            E: sqlx::Executor<'c, Database = $database>,
        {
            tracing::trace!(target: "glance_db::sql", sql = %q.text, "statement");
            let done = if q.binds.is_empty() {
                // Schema statements go through the simple (text) protocol, unprepared:
                // not every one of them can be prepared.
                sqlx::raw_sql(sqlx::AssertSqlSafe(q.text.clone()))
                    .execute(executor)
                    .await?
            } else {
                query(q).execute(executor).await?
            };
            Ok(done.rows_affected())
        }

        pub(super) async fn fetch<'c, E>(executor: E, q: &SqlBuf) -> Result<Vec<DbRow>, DbError>
        where
            E: sqlx::Executor<'c, Database = $database>,
        {
            use sqlx::{Column, Row};
            tracing::trace!(target: "glance_db::sql", sql = %q.text, "statement");
            let rows = query(q).fetch_all(executor).await?;
            let Some(first) = rows.first() else {
                return Ok(Vec::new());
            };
            let columns = super::column_names(first);
            let kinds: Vec<Kind> = first
                .columns()
                .iter()
                .map(|c| Kind::of(c.type_info()))
                .collect();
            rows.iter()
                .map(|row| decode_row(row, &columns, &kinds))
                .collect()
        }
    };
}

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

/// Pool settings from `[database]`, with oslo.db's meanings and defaults.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    /// Connections the pool keeps for reuse (`max_pool_size`, 5).
    pub pool_size: u32,
    /// Connections it may open beyond `pool_size` under load (`max_overflow`, 50).
    pub max_overflow: u32,
    /// How long a request waits for a free connection (`pool_timeout`, 30 s).
    pub acquire_timeout: Duration,
    /// Connections older than this are closed instead of reused
    /// (`connection_recycle_time`, 3600 s; the seeds' `sql_idle_timeout`).
    pub recycle_time: Option<Duration>,
    /// An unused connection is closed after this long.
    pub idle_timeout: Duration,
    /// Attempts to reach the server at start-up (`max_retries`, 10; -1 for ever).
    pub connect_retries: i64,
    /// Pause between those attempts (`retry_interval`, 10 s).
    pub retry_interval: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        PoolSettings {
            pool_size: 5,
            max_overflow: 50,
            acquire_timeout: Duration::from_secs(30),
            recycle_time: Some(Duration::from_secs(3600)),
            idle_timeout: Duration::from_secs(600),
            connect_retries: 10,
            retry_interval: Duration::from_secs(10),
        }
    }
}

impl PoolSettings {
    /// The most connections open at once, as SQLAlchemy's QueuePool allows
    /// (`pool_size + max_overflow`).
    pub fn max_connections(&self) -> u32 {
        self.pool_size.saturating_add(self.max_overflow).max(1)
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
    ///
    /// A server that cannot be reached (refused, unreachable, timed out) is tried
    /// again `connect_retries` times, `retry_interval` apart, as oslo.db does, so
    /// that API nodes started with their database come up; a refused login or a
    /// missing database fails at once.
    pub async fn connect(url: &str, settings: &PoolSettings) -> Result<Db, DbError> {
        let engine = Engine::from_url(url)?;
        let mut attempt = 0i64;
        loop {
            let result = match engine {
                Engine::Sqlite => sqlite::SqliteDb::connect(url, settings)
                    .await
                    .map(Backend::Sqlite),
                Engine::Postgres => postgres::connect(url, settings)
                    .await
                    .map(Backend::Postgres),
                Engine::MySql => mysql::connect(url, settings).await.map(Backend::MySql),
            };
            match result {
                Ok(backend) => return Ok(Db { backend }),
                Err(DbError::Unreachable(why))
                    if settings.connect_retries < 0 || attempt < settings.connect_retries =>
                {
                    attempt += 1;
                    tracing::warn!(
                        url = %url::redact(url),
                        attempt,
                        error = %why,
                        "database not reachable; retrying in {:?}",
                        settings.retry_interval
                    );
                    tokio::time::sleep(settings.retry_interval).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Runs a write again when it loses a deadlock or a serialization conflict, as
    /// upstream's `wrap_db_retry(max_retries=50, retry_on_deadlock=True)` does
    /// around image writes. The pause grows from 10 ms to upstream's fixed 0.5 s,
    /// with jitter so that the losers do not collide again in step.
    pub(crate) async fn retry_deadlocks<T, F, Fut>(&self, mut attempt: F) -> Result<T, DbError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, DbError>>,
    {
        const MAX_RETRIES: u32 = 50;
        let mut retries = 0;
        loop {
            match attempt().await {
                Err(DbError::Deadlock(why)) if retries < MAX_RETRIES => {
                    retries += 1;
                    tracing::debug!(retries, error = %why, "deadlock; running the write again");
                    tokio::time::sleep(deadlock_pause(retries)).await;
                }
                other => return other,
            }
        }
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
        match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => DbError::Duplicate,
            // 40001: serialization failure (MySQL reports its deadlocks, 1213, with
            // it too); 40P01: PostgreSQL's deadlock_detected. oslo.db's DBDeadlock.
            sqlx::Error::Database(db)
                if matches!(db.code().as_deref(), Some("40001" | "40P01")) =>
            {
                DbError::Deadlock(e.to_string())
            }
            sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::Tls(_) => {
                DbError::Unreachable(e.to_string())
            }
            _ => DbError::Backend(e.to_string()),
        }
    }
}

/// 10 ms doubling up to 500 ms, scaled by a factor in [0.5, 1.5) taken from the
/// clock (no random-number dependency for this).
fn deadlock_pause(retries: u32) -> Duration {
    let base = 10u64.saturating_mul(1 << retries.min(6)).min(500);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let scale = 500 + u64::from(nanos % 1000);
    Duration::from_millis(base * scale / 1000)
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
    use super::{Db, Engine, PoolSettings};
    use crate::DbError;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test]
    async fn deadlocks_are_retried_and_other_errors_are_not() {
        let db = Db::connect("sqlite://", &PoolSettings::default())
            .await
            .unwrap();
        let tries = AtomicU32::new(0);
        let won = db
            .retry_deadlocks(|| async {
                match tries.fetch_add(1, Ordering::SeqCst) {
                    0 | 1 => Err(DbError::Deadlock("40P01".into())),
                    _ => Ok("written"),
                }
            })
            .await;
        assert_eq!((won.unwrap(), tries.load(Ordering::SeqCst)), ("written", 3));

        let tries = AtomicU32::new(0);
        let failed: Result<(), _> = db
            .retry_deadlocks(|| async {
                tries.fetch_add(1, Ordering::SeqCst);
                Err(DbError::Duplicate)
            })
            .await;
        assert!(matches!(failed, Err(DbError::Duplicate)));
        assert_eq!(
            tries.load(Ordering::SeqCst),
            1,
            "only deadlocks are run again"
        );
    }

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
