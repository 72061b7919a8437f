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

/// One store backend.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    fn info(&self) -> &StoreInfo;

    /// Start writing the data of `image_id`. Nothing is visible under the final
    /// location until [`StoreWriter::commit`] returns.
    async fn begin_upload(&self, image_id: &str) -> Result<Box<dyn StoreWriter>, StoreError>;

    /// Open the object at `location` (a URI this store produced, e.g. `file:///...`),
    /// optionally one range of it.
    async fn open(
        &self,
        location: &str,
        range: Option<ByteRange>,
    ) -> Result<ObjectReader, StoreError>;

    /// Size in bytes of the object at `location`.
    async fn size(&self, location: &str) -> Result<u64, StoreError>;

    /// Remove the object at `location`. Removing a missing object is `NotFound`.
    async fn delete(&self, location: &str) -> Result<(), StoreError>;

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
