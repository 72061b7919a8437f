//! Persistence on the upstream Glance schema. Every status write is a
//! compare-and-swap (`WHERE status = <expected>`); zero rows updated means someone
//! else changed the image first.

mod engine;
mod images;
mod import_lock;
mod list;
mod locations;
mod members;
mod metadefs;
mod migrate;
mod purge;
mod rows;
mod scrub;
mod sql;
mod tags;
mod tasks;
#[cfg(feature = "testing")]
pub mod testing;

pub use engine::{redact_url, Db, DbRow, Engine, PoolSettings, WriteTx};
pub use images::{ImageChanges, StatusChange};
pub use import_lock::{LockAttempt, PropertyEdits, IMPORT_LOCK_PROPERTY};
pub use list::{
    CmpOp, Column, Condition, ImageListQuery, ListResult, ListVisibility, SortDir, SortKey,
    VisibilityScope,
};
pub use locations::{LocationChange, NewLocation};
pub use members::MemberAdded;
pub use metadefs::{
    namespace_sortable, AssociationRow, AssociationValues, ContentKind, ContentPage, ContentRow,
    ContentValues, NamespaceContent, NamespaceListQuery, NamespaceRow, NamespaceScope,
    NamespaceValues, ResourceTypeRow,
};
pub use metadefs::{LoadMode, Loaded, NamespaceDocument};
pub use migrate::{SchemaState, KNOWN_REVISIONS, SCHEMA_VERSION};
pub use purge::PurgeReport;
pub use scrub::{PendingLocation, Restore, ScrubJob};
pub use sql::{SqlBuf, SqlValue};
pub use tags::TagAdded;
pub use tasks::{NewTask, TaskEnd, TaskListQuery, TaskRecord, TASK_SORT_KEYS};

/// Errors of the persistence layer.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("a row with the same key already exists")]
    Duplicate,
    #[error("database URL not supported: {0}")]
    UnsupportedUrl(String),
    #[error("database schema is at version '{found}', expected '{expected}'")]
    SchemaVersion { found: String, expected: String },
    #[error("corrupt row: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Backend(String),
    /// The server could not be reached (or no connection was free in time).
    #[error("database not reachable: {0}")]
    Unreachable(String),
    /// The transaction lost a deadlock or a serialization conflict; running it
    /// again is safe.
    #[error("database deadlock: {0}")]
    Deadlock(String),
}

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> Self {
        if let rusqlite::Error::SqliteFailure(err, _) = &e {
            let unique = [
                rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE,
                rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY,
            ];
            if unique.contains(&err.extended_code) {
                return DbError::Duplicate;
            }
        }
        DbError::Backend(e.to_string())
    }
}

/// The current time as stored: UTC, microseconds.
pub fn now() -> chrono::NaiveDateTime {
    use chrono::{SubsecRound, Utc};
    Utc::now().naive_utc().trunc_subsecs(6)
}
