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
    /// The store is read-only by design (the http store; 410 upstream).
    #[error("store does not accept image data: {0}")]
    AddDisabled(String),
    /// The object is still in use (RBD snapshots with clones; 409 upstream).
    #[error("image data is in use: {0}")]
    InUse(String),
    /// The location does not belong to this store or cannot be parsed.
    #[error("bad store location: {0}")]
    BadLocation(String),
    /// A location the store refuses to reach (SSRF rules of the http store).
    #[error("location refused: {0}")]
    LocationRefused(String),
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
    /// The remote server (Swift, S3, Ceph, a web server) failed or refused a call.
    /// The message never carries credentials.
    #[error("store backend error: {0}")]
    Backend(String),
    /// A store option is missing or malformed (a start-up error).
    #[error("invalid store option [{group}] {option}: {reason}")]
    Config {
        group: String,
        option: String,
        reason: String,
    },
    #[error("store I/O error: {0}")]
    Io(#[from] std::io::Error),
}
