//! SQLite through rusqlite on the blocking thread pool: rows are read straight from
//! the statement into [`DbRow`]s, one thread hop per statement (an async driver that
//! copies every value and hands rows over one by one cost ten times more on a
//! 10,000-row page; decision 7).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::{DbRow, PoolSettings};
use crate::sql::{SqlBuf, SqlValue, SQLITE_TIME_FORMAT};
use crate::DbError;

/// A pool of SQLite connections. Cheap to clone.
#[derive(Clone)]
pub(super) struct SqliteDb {
    pool: Arc<SqlitePool>,
}

struct SqlitePool {
    /// None: one private in-memory database (a single connection keeps it alive).
    path: Option<PathBuf>,
    idle: Mutex<Vec<Connection>>,
    permits: Arc<Semaphore>,
    acquire_timeout: Duration,
}

/// A connection checked out of the pool; returned when dropped.
struct Pooled {
    conn: Option<Connection>,
    pool: Arc<SqlitePool>,
    _permit: OwnedSemaphorePermit,
}

impl Drop for Pooled {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            // A connection left inside a transaction (a cancelled request) is closed,
            // which rolls the transaction back, instead of going back to the pool.
            if conn.is_autocommit() {
                if let Ok(mut idle) = self.pool.idle.lock() {
                    idle.push(conn);
                }
            }
        }
    }
}

/// A write transaction. SQLite takes the write lock at `BEGIN IMMEDIATE`, so two
/// writers queue on the busy timeout instead of deadlocking on a lock upgrade.
/// Dropped without [`SqliteTx::commit`], it rolls back.
pub(super) struct SqliteTx {
    conn: Pooled,
}

impl SqliteDb {
    /// Opens a pool on an SQLAlchemy-style SQLite URL (`sqlite:///abs/path`,
    /// `sqlite:////abs/path`, `sqlite:///relative`, `sqlite://` for memory).
    pub(super) async fn connect(url: &str, settings: &PoolSettings) -> Result<SqliteDb, DbError> {
        let path = sqlite_path_from_url(url)?;
        let max = if path.is_none() {
            1
        } else {
            // Readers beyond a handful only add file handles: SQLite has one writer.
            settings.max_connections().min(8)
        };
        let pool = Arc::new(SqlitePool {
            path,
            idle: Mutex::new(Vec::new()),
            permits: Arc::new(Semaphore::new(max as usize)),
            acquire_timeout: settings.acquire_timeout,
        });
        let db = SqliteDb { pool };
        // Open one connection now so a bad path fails at start-up, and so an in-memory
        // database exists for the pool's lifetime.
        let first = db.acquire().await?;
        drop(first);
        Ok(db)
    }

    async fn acquire(&self) -> Result<Pooled, DbError> {
        let permit = tokio::time::timeout(
            self.pool.acquire_timeout,
            self.pool.permits.clone().acquire_owned(),
        )
        .await
        .map_err(|_| DbError::Backend("timed out waiting for a database connection".into()))?
        .map_err(|_| DbError::Backend("database pool closed".into()))?;
        let idle = self.pool.idle.lock().ok().and_then(|mut idle| idle.pop());
        let conn = match idle {
            Some(conn) => conn,
            None => {
                let path = self.pool.path.clone();
                tokio::task::spawn_blocking(move || open_connection(path.as_ref()))
                    .await
                    .map_err(|e| DbError::Backend(e.to_string()))??
            }
        };
        Ok(Pooled {
            conn: Some(conn),
            pool: self.pool.clone(),
            _permit: permit,
        })
    }

    pub(super) async fn begin_write(&self) -> Result<SqliteTx, DbError> {
        let mut conn = self.acquire().await?;
        run(&mut conn, |c| {
            c.execute_batch("BEGIN IMMEDIATE").map_err(DbError::from)
        })
        .await?;
        Ok(SqliteTx { conn })
    }

    pub(super) async fn execute(&self, q: &SqlBuf) -> Result<u64, DbError> {
        let mut conn = self.acquire().await?;
        let q = q.clone();
        run(&mut conn, move |c| execute_on(c, &q)).await
    }

    pub(super) async fn fetch(&self, q: &SqlBuf) -> Result<Vec<DbRow>, DbError> {
        let mut conn = self.acquire().await?;
        let q = q.clone();
        run(&mut conn, move |c| fetch_on(c, &q)).await
    }

    /// Several queries in one read transaction and one trip to the database thread.
    pub(super) async fn fetch_batch(
        &self,
        queries: Vec<SqlBuf>,
    ) -> Result<Vec<Vec<DbRow>>, DbError> {
        let mut conn = self.acquire().await?;
        run(&mut conn, move |c| {
            c.execute_batch("BEGIN")?;
            let results: Result<Vec<_>, DbError> = queries.iter().map(|q| fetch_on(c, q)).collect();
            c.execute_batch(if results.is_ok() {
                "COMMIT"
            } else {
                "ROLLBACK"
            })?;
            results
        })
        .await
    }

    pub(super) fn close(&self) {
        self.pool.permits.close();
        if let Ok(mut idle) = self.pool.idle.lock() {
            idle.clear();
        }
    }
}

impl SqliteTx {
    pub(super) async fn execute(&mut self, q: &SqlBuf) -> Result<u64, DbError> {
        let q = q.clone();
        run(&mut self.conn, move |c| execute_on(c, &q)).await
    }

    pub(super) async fn fetch(&mut self, q: &SqlBuf) -> Result<Vec<DbRow>, DbError> {
        let q = q.clone();
        run(&mut self.conn, move |c| fetch_on(c, &q)).await
    }

    pub(super) async fn commit(mut self) -> Result<(), DbError> {
        run(&mut self.conn, |c| {
            c.execute_batch("COMMIT").map_err(DbError::from)
        })
        .await
    }
}

impl Drop for SqliteTx {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.conn.as_ref() {
            if !conn.is_autocommit() {
                // Rolling back releases SQLite's locks at once; it does no I/O in WAL mode.
                let _ = conn.execute_batch("ROLLBACK");
            }
        }
    }
}

/// Runs `work` with the pooled connection on the blocking pool. If this future is
/// dropped midway the connection is lost with the closure (and closed, rolling back),
/// never returned to the pool half-used.
async fn run<T: Send + 'static>(
    pooled: &mut Pooled,
    work: impl FnOnce(&mut Connection) -> Result<T, DbError> + Send + 'static,
) -> Result<T, DbError> {
    let mut conn = pooled
        .conn
        .take()
        .ok_or_else(|| DbError::Backend("connection lost by an interrupted statement".into()))?;
    let (conn, result) = tokio::task::spawn_blocking(move || {
        let result = work(&mut conn);
        (conn, result)
    })
    .await
    .map_err(|e| DbError::Backend(e.to_string()))?;
    pooled.conn = Some(conn);
    result
}

fn open_connection(path: Option<&PathBuf>) -> Result<Connection, DbError> {
    let conn = match path {
        Some(path) => {
            let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
                | OpenFlags::SQLITE_OPEN_URI;
            let conn = Connection::open_with_flags(path, flags)?;
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.pragma_update(None, "synchronous", "NORMAL")?;
            // Read pages through a shared memory map instead of copying each into
            // every connection's page cache (the list path reads thousands of rows).
            conn.pragma_update(None, "mmap_size", 1i64 << 30)?;
            conn
        }
        None => Connection::open_in_memory()?,
    };
    conn.busy_timeout(Duration::from_secs(60))?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // 16 MiB of page cache per connection keeps a list page's child rows in memory.
    conn.pragma_update(None, "cache_size", -16_384)?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// Accepts SQLAlchemy-style SQLite URLs. Returns None for an in-memory database.
pub(super) fn sqlite_path_from_url(url: &str) -> Result<Option<PathBuf>, DbError> {
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
    Ok(Some(PathBuf::from(path)))
}

impl rusqlite::ToSql for SqlValue {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            SqlValue::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            SqlValue::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            SqlValue::Int(i) => ToSqlOutput::Owned((*i).into()),
            SqlValue::Bool(b) => ToSqlOutput::Owned((*b as i64).into()),
            SqlValue::Time(t) => {
                ToSqlOutput::Owned(t.format(SQLITE_TIME_FORMAT).to_string().into())
            }
        })
    }
}

fn prepare<'c>(conn: &'c Connection, q: &SqlBuf) -> Result<rusqlite::CachedStatement<'c>, DbError> {
    tracing::trace!(target: "glance_db::sql", sql = %q.text, "statement");
    let mut stmt = conn.prepare_cached(&q.text)?;
    for (i, value) in q.binds.iter().enumerate() {
        stmt.raw_bind_parameter(i + 1, value)?;
    }
    Ok(stmt)
}

fn execute_on(conn: &mut Connection, q: &SqlBuf) -> Result<u64, DbError> {
    let mut stmt = prepare(conn, q)?;
    Ok(stmt.raw_execute()? as u64)
}

fn fetch_on(conn: &mut Connection, q: &SqlBuf) -> Result<Vec<DbRow>, DbError> {
    let mut stmt = prepare(conn, q)?;
    let columns: Arc<[String]> = stmt.column_names().iter().map(|c| c.to_string()).collect();
    let width = columns.len();
    let mut rows = stmt.raw_query();
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let mut values = Vec::with_capacity(width);
        for i in 0..width {
            values.push(match row.get_ref(i)? {
                ValueRef::Null => SqlValue::Null,
                ValueRef::Integer(v) => SqlValue::Int(v),
                ValueRef::Real(v) => SqlValue::Int(v as i64),
                ValueRef::Text(t) | ValueRef::Blob(t) => {
                    SqlValue::Text(String::from_utf8_lossy(t).into_owned())
                }
            });
        }
        out.push(DbRow::new(columns.clone(), values));
    }
    Ok(out)
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
