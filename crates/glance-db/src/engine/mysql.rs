//! MySQL and MariaDB through sqlx. Sessions are set up as oslo.db sets up upstream's:
//! `sql_mode=TRADITIONAL`, UTC, the URL's charset (utf8mb4 by default), and the
//! CLIENT_FOUND_ROWS flag (sqlx sets it, as SQLAlchemy does), so an UPDATE that
//! matches a row but changes nothing still counts it and compare-and-swap stays exact.

use std::sync::Arc;

use chrono::{NaiveDateTime, Timelike};
use sqlx::error::BoxDynError;
use sqlx::mysql::{
    MySqlArguments, MySqlConnectOptions, MySqlPool, MySqlPoolOptions, MySqlRow, MySqlTypeInfo,
    MySqlValueRef,
};
use sqlx::{AssertSqlSafe, Decode, Executor, MySql, Row, TypeInfo};

use super::url::UrlParts;
use super::{DbRow, PoolSettings};
use crate::sql::{SqlBuf, SqlValue};
use crate::DbError;

pub(super) async fn connect(url: &str, settings: &PoolSettings) -> Result<MySqlPool, DbError> {
    let parts = UrlParts::parse(url)?;
    let mut opts = MySqlConnectOptions::new();
    if let Some(host) = &parts.host {
        opts = opts.host(host);
    }
    if let Some(port) = parts.port {
        opts = opts.port(port);
    }
    if let Some(socket) = parts.param("unix_socket") {
        opts = opts.socket(socket);
    }
    if let Some(user) = &parts.user {
        opts = opts.username(user);
    }
    if let Some(password) = &parts.password {
        opts = opts.password(password);
    }
    if let Some(db) = &parts.database {
        opts = opts.database(db);
    }
    let charset = match parts.param("charset") {
        // pymysql's "utf8" is MySQL's three-byte utf8.
        Some("utf8") => "utf8mb3",
        Some(cs) => cs,
        None => "utf8mb4",
    };
    opts = opts
        .charset(charset)
        .timezone(Some("+00:00".to_string()))
        .pipes_as_concat(false)
        .no_engine_substitution(false);
    // One connection first, so that an unreachable server, a refused login or a
    // missing database fails at start-up with its own error rather than a pool timeout.
    sqlx::Connection::close(sqlx::ConnectOptions::connect(&opts).await?).await?;
    let pool = MySqlPoolOptions::new()
        .max_connections(settings.max_connections())
        .acquire_timeout(settings.acquire_timeout)
        .idle_timeout(Some(settings.idle_timeout))
        .max_lifetime(settings.recycle_time)
        // A pooled connection is checked before use, as oslo.db pings on checkout,
        // so connections a restarted or failed-over server dropped are replaced
        // instead of failing the request.
        .test_before_acquire(true)
        .after_connect(|conn, _| {
            Box::pin(async move {
                conn.execute("SET SESSION sql_mode = 'TRADITIONAL'").await?;
                Ok(())
            })
        })
        .connect_with(opts)
        .await?;
    Ok(pool)
}

sqlx_execute_and_fetch!(MySql);

fn query(q: &SqlBuf) -> sqlx::query::Query<'static, MySql, MySqlArguments> {
    let mut query = sqlx::query(AssertSqlSafe(q.text.clone()));
    for value in &q.binds {
        query = match value {
            SqlValue::Null => query.bind(None::<&str>),
            SqlValue::Text(s) => query.bind(s.as_str()),
            SqlValue::Int(i) => query.bind(*i),
            SqlValue::Bool(b) => query.bind(*b),
            SqlValue::Time(t) => query.bind(whole_seconds(*t)),
        };
    }
    query
}

/// Upstream's DATETIME columns keep whole seconds; MariaDB truncates a fraction and
/// MySQL rounds it, so we truncate first and both store the same second.
fn whole_seconds(t: NaiveDateTime) -> NaiveDateTime {
    t.with_nanosecond(0).unwrap_or(t)
}

/// How a result column is read into a [`SqlValue`].
#[derive(Debug, Clone, Copy)]
enum Kind {
    Bool,
    Int,
    Unsigned,
    Float,
    Decimal,
    DateTime,
    /// Strings, enums, blobs and anything else read as (lossy UTF-8) text.
    Text,
}

impl Kind {
    fn of(ty: &MySqlTypeInfo) -> Kind {
        match ty.name() {
            "BOOLEAN" => Kind::Bool,
            "TINYINT" | "SMALLINT" | "MEDIUMINT" | "INT" | "BIGINT" | "YEAR" => Kind::Int,
            "TINYINT UNSIGNED" | "SMALLINT UNSIGNED" | "MEDIUMINT UNSIGNED" | "INT UNSIGNED"
            | "BIGINT UNSIGNED" => Kind::Unsigned,
            "FLOAT" | "DOUBLE" => Kind::Float,
            "DECIMAL" => Kind::Decimal,
            "DATETIME" | "TIMESTAMP" => Kind::DateTime,
            _ => Kind::Text,
        }
    }
}

fn decode_row(row: &MySqlRow, columns: &Arc<[String]>, kinds: &[Kind]) -> Result<DbRow, DbError> {
    let mut values = Vec::with_capacity(kinds.len());
    for (i, kind) in kinds.iter().enumerate() {
        let raw = row.try_get_raw(i)?;
        values.push(
            decode_value(raw, *kind)
                .map_err(|e| DbError::Backend(format!("decoding column {}: {e}", columns[i])))?,
        );
    }
    Ok(DbRow::new(columns.clone(), values))
}

fn dec<'r, T: Decode<'r, MySql>>(raw: MySqlValueRef<'r>) -> Result<T, BoxDynError> {
    T::decode(raw)
}

fn decode_value(raw: MySqlValueRef<'_>, kind: Kind) -> Result<SqlValue, BoxDynError> {
    use sqlx::ValueRef;
    if raw.is_null() {
        return Ok(SqlValue::Null);
    }
    Ok(match kind {
        Kind::Bool => SqlValue::Bool(dec::<bool>(raw)?),
        Kind::Int => SqlValue::Int(dec::<i64>(raw)?),
        Kind::Unsigned => SqlValue::Int(i64::try_from(dec::<u64>(raw)?)?),
        Kind::Float => SqlValue::Int(dec::<f64>(raw)? as i64),
        Kind::Decimal => {
            let text = String::from_utf8_lossy(dec::<&[u8]>(raw)?).into_owned();
            match text.split('.').next().and_then(|i| i.parse().ok()) {
                Some(i) => SqlValue::Int(i),
                None => SqlValue::Text(text),
            }
        }
        Kind::DateTime => SqlValue::Time(dec::<NaiveDateTime>(raw)?),
        Kind::Text => SqlValue::Text(String::from_utf8_lossy(dec::<&[u8]>(raw)?).into_owned()),
    })
}
