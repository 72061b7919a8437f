use thiserror::Error;

/// What can go wrong inside a store. The core maps these onto HTTP statuses.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The object named by a location does not exist (download answers 204).
    #[error("image data not found: {0}")]
    NotFound(String),
    /// An object with the same name already exists (an earlier upload was never cleaned up).
    #[error("image data already exists: {0}")]
    Duplicate(String),
    /// The backend has no space left (413 upstream).
    #[error("no space left in store: {0}")]
    StorageFull(String),
    /// The backend refuses writes (503 upstream).
    #[error("store does not allow writes: {0}")]
    WriteDenied(String),
    /// The location does not belong to this store or cannot be parsed.
    #[error("bad store location: {0}")]
    BadLocation(String),
    /// More bytes arrived than the size limit allows (413).
    #[error("image exceeds the size limit of {limit} bytes")]
    SizeLimitExceeded { limit: u64 },
    /// The declared size (x-openstack-image-size / Content-Length) does not match the data (400).
    #[error("size mismatch: expected {expected} bytes, received {received}")]
    SizeMismatch { expected: u64, received: u64 },
    /// The request body failed mid-stream (client disconnect).
    #[error("reading the image data failed: {0}")]
    Source(String),
    /// An upload inspector (e.g. the disk format checker) refused the data (400).
    #[error("image data rejected: {0}")]
    Rejected(String),
    #[error("store I/O error: {0}")]
    Io(#[from] std::io::Error),
}
