//! The upload of an image of unknown or large size: the data is cut into parts of
//! the configured size, uploaded in parallel as one multipart upload and joined on
//! commit. An image that turns out to fit in one part is sent with a single PUT
//! instead, so small uploads of unknown size never start a multipart upload.
//!
//! Memory: the part being filled plus at most `s3_store_thread_pools` parts in
//! flight, whatever the image size.

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use tokio::task::{JoinHandle, JoinSet};

use super::api::Bucket;
use super::multipart::MAX_PARTS;
use crate::{StoreError, StoreWriter};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Writing,
    /// A write failed; only abort (or drop) is left.
    Failed,
    /// The object is being created: a failure or a drop now must also remove it.
    Committing,
    /// Committed, or everything discarded.
    Settled,
}

type PartResult = Result<(u32, String), StoreError>;

/// A multipart upload in progress.
struct Upload {
    id: String,
    next_part: u32,
    in_flight: JoinSet<PartResult>,
    /// `(part number, ETag)` of the parts S3 has.
    done: Vec<(u32, String)>,
}

impl Upload {
    /// Waits for one part in flight.
    async fn join_one(&mut self) -> Result<(), StoreError> {
        match self.in_flight.join_next().await {
            Some(joined) => self.record(joined),
            None => Ok(()),
        }
    }

    /// Records parts that have already finished, so a failure shows early.
    fn collect_finished(&mut self) -> Result<(), StoreError> {
        while let Some(joined) = self.in_flight.try_join_next() {
            self.record(joined)?;
        }
        Ok(())
    }

    fn record(
        &mut self,
        joined: Result<PartResult, tokio::task::JoinError>,
    ) -> Result<(), StoreError> {
        let part = joined
            .map_err(|e| StoreError::Backend(format!("a part upload task failed: {e}")))??;
        self.done.push(part);
        Ok(())
    }
}

pub(super) struct PartWriter {
    bucket: Bucket,
    key: String,
    location: String,
    part_size: usize,
    max_in_flight: usize,
    /// The part being filled.
    buffer: BytesMut,
    upload: Option<Upload>,
    /// A CreateMultipartUpload was sent but its answer never read (it failed or was
    /// cancelled): S3 may hold an upload whose id we do not know.
    unknown_upload: bool,
    /// The single PUT or CompleteMultipartUpload that makes the object, run on a
    /// task of its own so that a cancelled commit can still wait for it to end.
    finishing: Option<JoinHandle<Result<(), StoreError>>>,
    phase: Phase,
}

impl PartWriter {
    /// `expected_size` sizes the parts so that no more than 10000 are needed (as
    /// upstream does) and the first buffer of a small image.
    pub(super) fn new(
        bucket: Bucket,
        key: String,
        location: String,
        expected_size: Option<u64>,
    ) -> Self {
        let config = bucket.config();
        let needed = expected_size.map_or(0, |size| size.div_ceil(u64::from(MAX_PARTS)));
        let part_size = usize::try_from(config.chunk_size.max(needed)).unwrap_or(usize::MAX);
        let first = expected_size
            .and_then(|size| usize::try_from(size).ok())
            .map_or(part_size, |size| size.min(part_size));
        PartWriter {
            max_in_flight: config.thread_pools,
            bucket,
            key,
            location,
            part_size,
            buffer: BytesMut::with_capacity(first),
            upload: None,
            unknown_upload: false,
            finishing: None,
            phase: Phase::Writing,
        }
    }

    /// Hands the full buffer to a part upload, starting the multipart upload first
    /// if this is the first part, and waiting for a free slot when
    /// `s3_store_thread_pools` parts are already in flight.
    async fn send_part(&mut self, data: Bytes) -> Result<(), StoreError> {
        let upload = match &mut self.upload {
            Some(upload) => upload,
            None => {
                self.unknown_upload = true;
                let id = self.bucket.create_multipart(&self.key).await?;
                self.unknown_upload = false;
                tracing::debug!(key = %self.key, "multipart upload started");
                self.upload.insert(Upload {
                    id,
                    next_part: 1,
                    in_flight: JoinSet::new(),
                    done: Vec::new(),
                })
            }
        };
        upload.collect_finished()?;
        while upload.in_flight.len() >= self.max_in_flight {
            upload.join_one().await?;
        }
        let number = upload.next_part;
        if number > MAX_PARTS {
            return Err(StoreError::Backend(format!(
                "the image needs more than {MAX_PARTS} parts of {} MiB; raise \
                 s3_store_large_object_chunk_size",
                self.part_size >> 20
            )));
        }
        let (bucket, key, id) = (self.bucket.clone(), self.key.clone(), upload.id.clone());
        upload.in_flight.spawn(async move {
            let etag = bucket.upload_part(&key, &id, number, data).await?;
            Ok((number, etag))
        });
        upload.next_part += 1;
        Ok(())
    }

    /// Sends what is left and makes the object.
    async fn finish(&mut self) -> Result<(), StoreError> {
        let last = std::mem::take(&mut self.buffer).freeze();
        let (bucket, key) = (self.bucket.clone(), self.key.clone());
        let final_call = match &mut self.upload {
            // The whole image fit in one part (an empty image included).
            None => tokio::spawn(async move {
                let payload = bucket.payload(last).await;
                bucket.put(&key, &payload).await
            }),
            Some(_) => {
                if !last.is_empty() {
                    self.send_part(last).await?;
                }
                let Some(upload) = &mut self.upload else {
                    return Err(StoreError::Backend("the multipart upload vanished".into()));
                };
                while !upload.in_flight.is_empty() {
                    upload.join_one().await?;
                }
                upload.done.sort_unstable_by_key(|(number, _)| *number);
                let (id, parts) = (upload.id.clone(), upload.done.clone());
                tokio::spawn(async move { bucket.complete_multipart(&key, &id, &parts).await })
            }
        };
        let result = self.finishing.insert(final_call).await.unwrap_or_else(|e| {
            Err(StoreError::Backend(format!(
                "the S3 commit task failed: {e}"
            )))
        });
        self.finishing = None;
        result
    }

    /// Everything the server holds for this upload, handed to [`discard`].
    fn leftovers(&mut self) -> Leftovers {
        Leftovers {
            bucket: self.bucket.clone(),
            key: self.key.clone(),
            upload: self.upload.take(),
            unknown_upload: std::mem::take(&mut self.unknown_upload),
            finishing: self.finishing.take(),
            object_may_exist: self.phase == Phase::Committing,
        }
    }
}

/// What an unfinished upload may have left on the server.
struct Leftovers {
    bucket: Bucket,
    key: String,
    upload: Option<Upload>,
    unknown_upload: bool,
    finishing: Option<JoinHandle<Result<(), StoreError>>>,
    /// The single PUT or the completion had started, so the object itself may exist
    /// (even when the call seemed to fail: an answer lost after S3 acted).
    object_may_exist: bool,
}

impl Leftovers {
    fn is_empty(&self) -> bool {
        self.upload.is_none() && !self.unknown_upload && !self.object_may_exist
    }
}

/// Runs [`discard`] on a task of its own, so it finishes even if the caller's future
/// is dropped.
async fn discard_now(leftovers: Leftovers) {
    let _ = tokio::spawn(discard(leftovers)).await;
}

/// Stops the parts in flight, aborts the multipart upload (S3 then drops every part)
/// and removes the object if it may have been made.
async fn discard(leftovers: Leftovers) {
    let Leftovers {
        bucket,
        key,
        upload,
        unknown_upload,
        finishing,
        object_may_exist,
    } = leftovers;
    // Let the final call end first, so the object is not made after its removal.
    if let Some(finishing) = finishing {
        let _ = finishing.await;
    }
    if unknown_upload {
        abort_uploads_of(&bucket, &key).await;
    }
    if let Some(mut upload) = upload {
        upload.in_flight.abort_all();
        while upload.in_flight.join_next().await.is_some() {}
        if let Err(e) = bucket.abort_multipart(&key, &upload.id).await {
            tracing::warn!(error = %e, "cannot abort an S3 multipart upload; its parts remain");
        }
    }
    if object_may_exist {
        if let Err(e) = bucket.delete(&key).await {
            tracing::warn!(error = %e, "cannot remove a half-committed S3 object");
        }
    }
}

#[async_trait]
impl StoreWriter for PartWriter {
    async fn write(&mut self, mut chunk: Bytes) -> Result<(), StoreError> {
        if self.phase != Phase::Writing {
            return Err(StoreError::Backend(
                "the S3 upload has already failed or finished".into(),
            ));
        }
        while !chunk.is_empty() {
            // A full part is only sent once more data arrives, so an image of exactly
            // one part still goes as a single PUT.
            if self.buffer.len() >= self.part_size {
                let full =
                    std::mem::replace(&mut self.buffer, BytesMut::with_capacity(self.part_size));
                if let Err(e) = self.send_part(full.freeze()).await {
                    self.phase = Phase::Failed;
                    return Err(e);
                }
            }
            let room = self.part_size - self.buffer.len();
            let piece = chunk.split_to(room.min(chunk.len()));
            self.buffer.extend_from_slice(&piece);
        }
        Ok(())
    }

    async fn commit(mut self: Box<Self>) -> Result<String, StoreError> {
        if self.phase != Phase::Writing {
            discard_now(self.leftovers()).await;
            self.phase = Phase::Settled;
            return Err(StoreError::Backend(
                "the S3 upload has already failed or finished".into(),
            ));
        }
        self.phase = Phase::Committing;
        let result = self.finish().await;
        if result.is_err() {
            discard_now(self.leftovers()).await;
        }
        self.phase = Phase::Settled;
        result.map(|()| self.location.clone())
    }

    async fn abort(mut self: Box<Self>) {
        discard_now(self.leftovers()).await;
        self.phase = Phase::Settled;
    }
}

impl Drop for PartWriter {
    /// Dropped midway (the request died, or a commit or abort was cancelled): the
    /// clean-up needs S3 calls, so it runs on a task of its own.
    fn drop(&mut self) {
        if self.phase == Phase::Settled {
            return;
        }
        let leftovers = self.leftovers();
        if leftovers.is_empty() {
            return;
        }
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(discard(leftovers));
            }
            Err(_) => tracing::warn!(
                key = %self.key,
                "S3 upload dropped outside a runtime; its multipart upload remains"
            ),
        }
    }
}

/// Aborts every multipart upload of `key` (one was started but its id is unknown).
/// The key is the image id, so no other upload of it is legitimately in progress.
async fn abort_uploads_of(bucket: &Bucket, key: &str) {
    match bucket.list_uploads(key).await {
        Ok(uploads) => {
            for (_, id) in uploads.iter().filter(|(k, _)| k == key) {
                if let Err(e) = bucket.abort_multipart(key, id).await {
                    tracing::warn!(error = %e, "cannot abort an S3 multipart upload");
                }
            }
        }
        Err(e) => tracing::warn!(error = %e, "cannot list S3 multipart uploads"),
    }
}
