//! The errors of every use case. `glance-api` maps each variant to one HTTP status
//! and upstream's error body; nothing else in the core knows about HTTP.

use glance_db::DbError;
use glance_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// 403 whose message upstream passes as WebOb's *detail*: the body starts with
    /// WebOb's generic sentence and the message follows it.
    #[error("{0}")]
    ForbiddenDetail(String),
    /// 409 with the message in WebOb's detail slot (see [`CoreError::ForbiddenDetail`]).
    #[error("{0}")]
    ConflictDetail(String),
    #[error("{0}")]
    Gone(String),
    /// 413: quotas, size cap, storage full.
    #[error("{0}")]
    TooLarge(String),
    /// 415 with a detail line.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 416 for a range that does not fit the image.
    #[error("Requested range not satisfiable")]
    RangeNotSatisfiable { size: u64 },
    #[error("{0}")]
    ServiceUnavailable(String),
    #[error("{0}")]
    Internal(String),
}

pub type CoreResult<T> = Result<T, CoreError>;

impl From<DbError> for CoreError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Duplicate => {
                CoreError::Conflict("An object with the same identifier already exists.".into())
            }
            other => {
                tracing::error!(error = %other, "database failure");
                CoreError::Internal(
                    "The server has either erred or is incapable of performing the requested operation.".into(),
                )
            }
        }
    }
}

impl From<StoreError> for CoreError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(m) => CoreError::NotFound(format!("Image data not found: {m}")),
            StoreError::Duplicate(m) => CoreError::Conflict(format!("Image data already exists: {m}")),
            StoreError::StorageFull(m) => CoreError::TooLarge(format!("Image storage media is full: {m}")),
            StoreError::WriteDenied(m) => {
                CoreError::ServiceUnavailable(format!("Insufficient permissions on image storage media: {m}"))
            }
            StoreError::SizeLimitExceeded { limit } => CoreError::TooLarge(format!(
                "Image exceeds the storage quota: The size of the data exceeds the limit of {limit} bytes."
            )),
            StoreError::SizeMismatch { expected, received } => CoreError::BadRequest(format!(
                "Size mismatch: the image data was {received} bytes, {expected} bytes were expected."
            )),
            StoreError::Source(m) => CoreError::BadRequest(format!("Error reading the image data: {m}")),
            StoreError::AddDisabled(_) => CoreError::Gone(
                "Error in store configuration. Adding images to store is disabled.".into(),
            ),
            StoreError::InUse(m) => CoreError::Conflict(format!("Image data is in use: {m}")),
            StoreError::LocationRefused(m) => CoreError::BadRequest(format!("Invalid location: {m}")),
            other => {
                tracing::error!(error = %other, "store failure");
                CoreError::ServiceUnavailable(format!("Image store failure: {other}"))
            }
        }
    }
}
