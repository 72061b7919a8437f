//! PostgreSQL through sqlx. Placeholders become `$n`; text and NULL are bound
//! without a declared type so that the server infers the column's own type (the
//! `image_visibility` enum, `varchar`, `bigint` for a NULL size), as psycopg2's
//! literal parameters let it do for upstream.

use std::sync::Arc;

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::types::Oid;
use sqlx::postgres::{
    PgArgumentBuffer, PgArguments, PgConnectOptions, PgPool, PgPoolOptions, PgRow, PgTypeInfo,
    PgValueRef,
};
use sqlx::{AssertSqlSafe, Decode, Encode, Postgres, Row, Type, TypeInfo};

use super::url::UrlParts;
use super::{DbRow, PoolSettings};
use crate::sql::{SqlBuf, SqlValue};
use crate::DbError;

pub(super) async fn connect(url: &str, settings: &PoolSettings) -> Result<PgPool, DbError> {
    let parts = UrlParts::parse(url)?;
    let mut opts = PgConnectOptions::new_without_pgpass();
    match parts.param("host").or(parts.host.as_deref()) {
        Some(dir) if dir.starts_with('/') => opts = opts.socket(dir),
        Some(host) => opts = opts.host(host),
        None => {}
    }
    if let Some(port) = parts
        .param("port")
        .and_then(|p| p.parse().ok())
        .or(parts.port)
    {
        opts = opts.port(port);
    }
    if let Some(user) = parts.param("user").or(parts.user.as_deref()) {
        opts = opts.username(user);
    }
    if let Some(password) = parts.param("password").or(parts.password.as_deref()) {
        opts = opts.password(password);
    }
    if let Some(db) = parts.param("dbname").or(parts.database.as_deref()) {
        opts = opts.database(db);
    }
    if let Some(mode) = parts.param("sslmode") {
        opts = opts.ssl_mode(
            mode.parse()
                .map_err(|_| DbError::UnsupportedUrl(format!("sslmode={mode}")))?,
        );
    }
    if let Some(name) = parts.param("application_name") {
        opts = opts.application_name(name);
    }
    // One connection first, so that an unreachable server, a refused login or a
    // missing database fails at start-up with its own error rather than a pool timeout.
    sqlx::Connection::close(sqlx::ConnectOptions::connect(&opts).await?).await?;
    let pool = PgPoolOptions::new()
        .max_connections(settings.max_connections())
        .acquire_timeout(settings.acquire_timeout)
        .idle_timeout(Some(settings.idle_timeout))
        .max_lifetime(settings.recycle_time)
        // A pooled connection is checked before use, as oslo.db pings on checkout,
        // so connections a restarted or failed-over server dropped are replaced
        // instead of failing the request.
        .test_before_acquire(true)
        .connect_with(opts)
        .await?;
    Ok(pool)
}

sqlx_execute_and_fetch!(Postgres);

fn query(q: &SqlBuf) -> sqlx::query::Query<'static, Postgres, PgArguments> {
    let mut query = sqlx::query(AssertSqlSafe(numbered(&q.text)));
    for value in &q.binds {
        query = match value {
            SqlValue::Null => query.bind(Untyped(None)),
            SqlValue::Text(s) => query.bind(Untyped(Some(s))),
            SqlValue::Int(i) => query.bind(*i),
            SqlValue::Bool(b) => query.bind(*b),
            SqlValue::Time(t) => query.bind(*t),
        };
    }
    query
}

/// `?` placeholders as `$1, $2, ...`, leaving quoted text and identifiers alone.
fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    let mut quote: Option<char> = None;
    for c in sql.chars() {
        match (quote, c) {
            (None, '\'' | '"') => {
                quote = Some(c);
                out.push(c);
            }
            (Some(q), c) if c == q => {
                quote = None;
                out.push(c);
            }
            (None, '?') => {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            }
            _ => out.push(c),
        }
    }
    out
}

/// Text or NULL sent with an unspecified type (OID 0): the server gives the parameter
/// the type its context needs. Its binary form is the UTF-8 text, which is also the
/// binary form of `varchar`, `text` and enum labels.
struct Untyped<'a>(Option<&'a str>);

impl Type<Postgres> for Untyped<'_> {
    fn type_info() -> PgTypeInfo {
        PgTypeInfo::with_oid(Oid(0))
    }
}

impl Encode<'_, Postgres> for Untyped<'_> {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        match self.0 {
            Some(s) => <&str as Encode<Postgres>>::encode(s, buf),
            None => Ok(IsNull::Yes),
        }
    }
}

/// How a result column is read into a [`SqlValue`].
#[derive(Debug, Clone, Copy)]
enum Kind {
    Bool,
    Int2,
    Int4,
    Int8,
    Oid,
    Float4,
    Float,
    Numeric,
    Timestamp,
    TimestampTz,
    /// Text, varchar, enums, names and anything else read as its text.
    Text,
}

impl Kind {
    fn of(ty: &PgTypeInfo) -> Kind {
        match ty.name() {
            "BOOL" => Kind::Bool,
            "INT2" => Kind::Int2,
            "INT4" => Kind::Int4,
            "INT8" => Kind::Int8,
            "OID" => Kind::Oid,
            "FLOAT4" => Kind::Float4,
            "FLOAT8" => Kind::Float,
            "NUMERIC" => Kind::Numeric,
            "TIMESTAMP" => Kind::Timestamp,
            "TIMESTAMPTZ" => Kind::TimestampTz,
            _ => Kind::Text,
        }
    }
}

fn decode_row(row: &PgRow, columns: &Arc<[String]>, kinds: &[Kind]) -> Result<DbRow, DbError> {
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

fn decode_value(raw: PgValueRef<'_>, kind: Kind) -> Result<SqlValue, BoxDynError> {
    use sqlx::ValueRef;
    if raw.is_null() {
        return Ok(SqlValue::Null);
    }
    Ok(match kind {
        Kind::Bool => SqlValue::Bool(dec::<bool>(raw)?),
        Kind::Int2 => SqlValue::Int(dec::<i16>(raw)?.into()),
        Kind::Int4 => SqlValue::Int(dec::<i32>(raw)?.into()),
        Kind::Int8 => SqlValue::Int(dec::<i64>(raw)?),
        Kind::Oid => SqlValue::Int(dec::<Oid>(raw)?.0.into()),
        Kind::Float4 => SqlValue::Int(dec::<f32>(raw)? as i64),
        Kind::Float => SqlValue::Int(dec::<f64>(raw)? as i64),
        Kind::Numeric => SqlValue::Int(numeric_to_i64(raw.as_bytes()?)?),
        Kind::Timestamp => SqlValue::Time(dec::<chrono::NaiveDateTime>(raw)?),
        Kind::TimestampTz => SqlValue::Time(dec::<chrono::DateTime<chrono::Utc>>(raw)?.naive_utc()),
        Kind::Text => SqlValue::Text(raw.as_str()?.to_string()),
    })
}

fn dec<'r, T: Decode<'r, Postgres>>(raw: PgValueRef<'r>) -> Result<T, BoxDynError> {
    T::decode(raw)
}

/// The integer part of a NUMERIC in PostgreSQL's binary form (what `SUM(bigint)`
/// returns): digit count, weight, sign, scale, then base-10000 digits.
fn numeric_to_i64(bytes: &[u8]) -> Result<i64, BoxDynError> {
    let word = |i: usize| -> Result<i16, BoxDynError> {
        let b = bytes.get(i * 2..i * 2 + 2).ok_or("short NUMERIC")?;
        Ok(i16::from_be_bytes([b[0], b[1]]))
    };
    let (ndigits, weight, sign) = (word(0)?, word(1)?, word(2)? as u16);
    if sign == 0xC000 {
        return Err("NUMERIC NaN".into());
    }
    let mut value: i128 = 0;
    for i in 0..=weight.max(-1) {
        let digit = if i < ndigits {
            word(4 + i as usize)? as i128
        } else {
            0
        };
        value = value * 10_000 + digit;
    }
    if sign == 0x4000 {
        value = -value;
    }
    i64::try_from(value).map_err(|_| "NUMERIC out of range".into())
}

#[cfg(test)]
mod tests {
    use super::{numbered, numeric_to_i64};

    #[test]
    fn placeholders_are_numbered_outside_quotes() {
        assert_eq!(
            numbered("SELECT '?', \"a?\" FROM t WHERE a = ? AND b IN (?, ?)"),
            "SELECT '?', \"a?\" FROM t WHERE a = $1 AND b IN ($2, $3)"
        );
    }

    #[test]
    fn numeric_integers() {
        // 123456789 = [1, 2345, 6789] with weight 2.
        let mut b = Vec::new();
        for w in [3i16, 2, 0, 0, 1, 2345, 6789] {
            b.extend(w.to_be_bytes());
        }
        assert_eq!(numeric_to_i64(&b).unwrap(), 123_456_789);
        // 20000 = [2] with weight 1 (trailing zero digits are not sent).
        let mut b = Vec::new();
        for w in [1i16, 1, 0x4000u16 as i16, 0, 2] {
            b.extend(w.to_be_bytes());
        }
        assert_eq!(numeric_to_i64(&b).unwrap(), -20_000);
        // Zero has no digits.
        let b: Vec<u8> = [0i16, 0, 0, 0]
            .iter()
            .flat_map(|w| w.to_be_bytes())
            .collect();
        assert_eq!(numeric_to_i64(&b).unwrap(), 0);
    }
}
