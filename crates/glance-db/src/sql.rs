//! Portable SQL text plus typed bind values. Every query is written once with `?`
//! placeholders; the engine layer turns them into its own placeholder style and binds
//! the values with its own types (timestamps in particular), so no query depends on
//! one engine.

use chrono::NaiveDateTime;

/// A value bound to a placeholder.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    Null,
    Text(String),
    Int(i64),
    Bool(bool),
    Time(NaiveDateTime),
}

impl From<&str> for SqlValue {
    fn from(v: &str) -> Self {
        SqlValue::Text(v.to_string())
    }
}
impl From<String> for SqlValue {
    fn from(v: String) -> Self {
        SqlValue::Text(v)
    }
}
impl From<&String> for SqlValue {
    fn from(v: &String) -> Self {
        SqlValue::Text(v.clone())
    }
}
impl From<i64> for SqlValue {
    fn from(v: i64) -> Self {
        SqlValue::Int(v)
    }
}
impl From<bool> for SqlValue {
    fn from(v: bool) -> Self {
        SqlValue::Bool(v)
    }
}
impl From<NaiveDateTime> for SqlValue {
    fn from(v: NaiveDateTime) -> Self {
        SqlValue::Time(v)
    }
}
impl<T: Into<SqlValue>> From<Option<T>> for SqlValue {
    fn from(v: Option<T>) -> Self {
        v.map(Into::into).unwrap_or(SqlValue::Null)
    }
}

/// SQL text being assembled together with its bind values, in order.
#[derive(Debug, Default, Clone)]
pub struct SqlBuf {
    pub text: String,
    pub binds: Vec<SqlValue>,
}

impl SqlBuf {
    pub fn new(text: &str) -> Self {
        SqlBuf {
            text: text.to_string(),
            binds: Vec::new(),
        }
    }

    /// Appends literal SQL (never user input).
    pub fn push(&mut self, sql: &str) -> &mut Self {
        self.text.push_str(sql);
        self
    }

    /// Appends one placeholder bound to `value`.
    pub fn bind(&mut self, value: impl Into<SqlValue>) -> &mut Self {
        self.text.push('?');
        self.binds.push(value.into());
        self
    }

    /// Appends `(?, ?, ...)` for a list of values.
    pub fn bind_list<V: Into<SqlValue>>(
        &mut self,
        values: impl IntoIterator<Item = V>,
    ) -> &mut Self {
        self.text.push('(');
        for (i, v) in values.into_iter().enumerate() {
            if i > 0 {
                self.text.push_str(", ");
            }
            self.bind(v);
        }
        self.text.push(')');
        self
    }
}

/// The text form upstream's SQLAlchemy uses for DATETIME columns on SQLite; keeping
/// it makes string comparison and ordering agree with time order, and lets us share a
/// database with upstream.
pub const SQLITE_TIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S%.6f";

pub fn parse_sqlite_time(s: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S"))
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f"))
        .ok()
}
