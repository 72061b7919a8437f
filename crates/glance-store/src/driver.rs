//! The store interface every driver implements.

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::stream::BoxStream;

use crate::StoreError;

/// An inclusive byte range already validated against the object size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    pub start: u64,
    /// Inclusive end.
    pub end: u64,
}

/// A stream of an object's bytes (or of one range of them).
pub struct ObjectReader {
    /// Size of the whole object.
    pub total_size: u64,
    pub stream: BoxStream<'static, Result<Bytes, std::io::Error>>,
}

/// Facts about a store shown by discovery calls.
#[derive(Debug, Clone, Default)]
pub struct StoreInfo {
    /// The store id (multi-store backend id, or the scheme name in single-store mode).
    pub id: String,
    /// Driver type as upstream names it: `file`, `http`, `swift`, `s3`, `rbd`.
    pub store_type: String,
    pub description: Option<String>,
    pub weight: i64,
    pub read_only: bool,
}

/// Who a store call is made for. Most drivers act with their own credentials and
/// ignore it; multi-tenant Swift stores each image in the caller's own account with
/// the caller's token.
#[derive(Debug, Clone, Default)]
pub struct StoreCaller {
    /// The caller's Keystone token (`X-Auth-Token`), when the request carried one.
    pub auth_token: Option<String>,
    pub project_id: Option<String>,
    /// The caller's object-store endpoint from its service catalog, when known.
    pub object_store_url: Option<String>,
}

impl StoreCaller {
    /// A call made by the service itself (tests, housekeeping).
    pub fn service() -> Self {
        Self::default()
    }
}

/// What an upload is for.
#[derive(Debug, Clone, Copy)]
pub struct UploadTarget<'a> {
    pub image_id: &'a str,
    /// The size the client declared, when it did. Drivers use it to size the object
    /// in one allocation (RBD) or to choose a single PUT over a multipart upload (S3);
    /// the data is still checked against it by [`crate::write_stream`].
    pub expected_size: Option<u64>,
    pub caller: &'a StoreCaller,
}

/// One store backend.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    fn info(&self) -> &StoreInfo;

    /// The driver facts `GET /v2/info/stores/detail` shows under `properties`.
    fn properties(&self) -> serde_json::Map<String, serde_json::Value> {
        serde_json::Map::new()
    }

    /// Start writing the data of `target.image_id`. Nothing is visible under the
    /// final location until [`StoreWriter::commit`] returns. An object already stored
    /// for the image is [`StoreError::Duplicate`].
    async fn begin_upload(
        &self,
        target: &UploadTarget<'_>,
    ) -> Result<Box<dyn StoreWriter>, StoreError>;

    /// Open the object at `location` (a URI this store produced or accepts, e.g.
    /// `file:///...`), optionally one range of it.
    async fn open(
        &self,
        location: &str,
        range: Option<ByteRange>,
        caller: &StoreCaller,
    ) -> Result<ObjectReader, StoreError>;

    /// Size in bytes of the object at `location`.
    async fn size(&self, location: &str, caller: &StoreCaller) -> Result<u64, StoreError>;

    /// Remove the object at `location`. Removing a missing object is `NotFound`; an
    /// object others still depend on (RBD clones) is `InUse`.
    async fn delete(&self, location: &str, caller: &StoreCaller) -> Result<(), StoreError>;

    /// Whether `delete` would be refused because others depend on the data (RBD
    /// snapshots with clones: `InUse`). Asked before an image or location is removed
    /// from the database, so a refusal changes nothing. Most stores have no such
    /// dependants.
    async fn check_deletable(
        &self,
        _location: &str,
        _caller: &StoreCaller,
    ) -> Result<(), StoreError> {
        Ok(())
    }

    /// Whether `location` (a URI) belongs to this store.
    fn owns(&self, location: &str) -> bool;
}

/// An upload in progress. Dropping it without `commit` or `abort` discards what was
/// written (drivers implement `Drop` for that), so a request that dies midway leaves nothing.
#[async_trait]
pub trait StoreWriter: Send {
    async fn write(&mut self, chunk: Bytes) -> Result<(), StoreError>;
    /// Make the data durable and visible; returns the location URI.
    async fn commit(self: Box<Self>) -> Result<String, StoreError>;
    /// Discard everything written.
    async fn abort(self: Box<Self>);
}
