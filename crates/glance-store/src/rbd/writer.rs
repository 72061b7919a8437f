//! Uploads. Each runs on a thread of its own that owns the librbd handles (every
//! librbd call blocks). The data goes into a temporary image,
//! `<image_id>.partial-<random>`, in chunks of the store's chunk size (one RBD
//! object each), several written at once; commit snapshots and protects it as `snap`, then renames it to
//! `<image_id>`, which fails if that name exists. So a finished image appears
//! whole under its name, two racing uploads of one image end with the first
//! commit winning, and an upload that dies leaves nothing to block a retry.

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};

use super::aio::Pipeline;
use super::cluster::{Connection, IoCtx};
use super::errno::{CephError, ENOENT};
use super::location::RbdLocation;
use super::removal::remove_image;
use super::SNAPSHOT_NAME;
use crate::{StoreError, StoreWriter};

/// Chunks queued in front of the writing thread: the request body keeps being read
/// while a chunk is written, and memory stays bounded.
const QUEUE_DEPTH: usize = 4;
/// Bytes of writes kept in flight per upload (at least two writes): one
/// synchronous write at a time reached a third of `rbd import`'s rate.
const WRITES_IN_FLIGHT_BYTES: u64 = 32 << 20;
/// Upstream doubles the growth of an image of unknown size on each resize, up to
/// this much at a time.
const MAX_GROWTH: u64 = 8 << 30;

/// What one upload needs to know.
pub(super) struct UploadPlan {
    pub connection: Arc<Connection>,
    pub pool: String,
    pub image_id: String,
    /// The declared size; None (or a declared 0) means grow as data arrives.
    pub expected_size: Option<u64>,
    /// Bytes per write, also the RBD object size (`2^order`) when a power of two.
    pub chunk_size: u64,
    pub order: u8,
    /// Skip writing chunks that are all zeros (they read back as zeros anyway).
    pub thin_provisioning: bool,
}

enum Msg {
    Data(Bytes),
    Commit,
}

type Outcome = Result<String, StoreError>;

pub(super) struct RbdWriter {
    tx: Option<mpsc::Sender<Msg>>,
    /// The declared size, and the bytes handed over so far: more than declared is
    /// refused at once rather than when the thread gets to it.
    expected_size: Option<u64>,
    received: u64,
    /// The thread's single report: the location once committed, or why it stopped
    /// (after removing what it had written).
    done: Option<oneshot::Receiver<Outcome>>,
}

impl RbdWriter {
    /// Starts the upload thread and waits until it has created the image. If this
    /// future is dropped meanwhile, the thread finds the queue closed and removes
    /// the image again.
    pub async fn start(plan: UploadPlan) -> Result<Self, StoreError> {
        let expected_size = plan.expected_size;
        let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
        let (ready_tx, ready_rx) = oneshot::channel();
        let (done_tx, done) = oneshot::channel();
        std::thread::Builder::new()
            .name("glance-rbd-write".into())
            .spawn(move || run(plan, rx, ready_tx, done_tx))
            .map_err(StoreError::Io)?;
        match ready_rx.await {
            Ok(Ok(())) => Ok(RbdWriter {
                tx: Some(tx),
                expected_size,
                received: 0,
                done: Some(done),
            }),
            Ok(Err(err)) => Err(err),
            Err(_) => Err(stopped()),
        }
    }

    async fn outcome(&mut self) -> Outcome {
        match self.done.take() {
            Some(rx) => rx.await.unwrap_or_else(|_| Err(stopped())),
            None => Err(finished()),
        }
    }
}

fn stopped() -> StoreError {
    StoreError::Backend("the RBD upload thread stopped".into())
}

fn finished() -> StoreError {
    StoreError::Backend("the upload has already finished".into())
}

#[async_trait]
impl StoreWriter for RbdWriter {
    async fn write(&mut self, chunk: Bytes) -> Result<(), StoreError> {
        if chunk.is_empty() {
            return Ok(());
        }
        let tx = self.tx.as_ref().ok_or_else(finished)?;
        self.received += chunk.len() as u64;
        if let Some(expected) = self.expected_size.filter(|&e| self.received > e) {
            // Closing the queue makes the thread discard the image; wait for that.
            self.tx = None;
            let _ = self.outcome().await;
            return Err(StoreError::SizeMismatch {
                expected,
                received: self.received,
            });
        }
        if tx.send(Msg::Data(chunk)).await.is_err() {
            // The thread hangs up only after a failure, which it reports.
            self.tx = None;
            return Err(self.outcome().await.err().unwrap_or_else(stopped));
        }
        Ok(())
    }

    async fn commit(mut self: Box<Self>) -> Result<String, StoreError> {
        let tx = self.tx.take().ok_or_else(finished)?;
        // If the thread already stopped, the send fails and its report says why.
        let _ = tx.send(Msg::Commit).await;
        drop(tx);
        self.outcome().await
    }

    async fn abort(mut self: Box<Self>) {
        // A queue closed without `Commit` means discard; the thread removes the
        // image before it reports, so nothing is left when this returns.
        self.tx = None;
        let _ = self.outcome().await;
    }
}

// No `Drop`: dropping the writer drops the sender, and the thread, seeing the queue
// close without `Commit`, removes the image.

/// The upload thread.
fn run(
    plan: UploadPlan,
    mut rx: mpsc::Receiver<Msg>,
    ready: oneshot::Sender<Result<(), StoreError>>,
    done: oneshot::Sender<Outcome>,
) {
    let mut upload = match Upload::create(plan) {
        Ok(upload) => upload,
        Err(err) => {
            let _ = ready.send(Err(err));
            return;
        }
    };
    if ready.send(Ok(())).is_err() {
        upload.discard();
        return;
    }
    let received = loop {
        match rx.blocking_recv() {
            Some(Msg::Data(chunk)) => {
                if let Err(err) = upload.push(&chunk) {
                    break Err(err);
                }
            }
            Some(Msg::Commit) => break Ok(()),
            None => break Err(StoreError::Source("upload abandoned".into())),
        }
    };
    // Hang up first so a writer still sending learns of a failure now.
    drop(rx);
    let result = received.and_then(|()| upload.commit());
    match result {
        Ok(location) => {
            if let Err(Ok(_)) = done.send(Ok(location)) {
                // The commit future was dropped before it learnt the location, so
                // no one will record it: remove the image rather than orphan it.
                upload.remove_committed();
            }
        }
        Err(err) => {
            upload.discard();
            let _ = done.send(Err(err));
        }
    }
}

/// The state of one upload, on its thread.
struct Upload {
    plan: UploadPlan,
    io: Arc<IoCtx>,
    /// The open image with the writes in flight on it; None once closed (at
    /// commit, or before removal), which first waits for those writes.
    writes: Option<Pipeline>,
    temp_name: String,
    location: String,
    /// Current size of the image.
    image_size: u64,
    /// The next growth step of an image of unknown size.
    growth: u64,
    /// Bytes written (or skipped as zeros) to the image so far.
    flushed: u64,
    /// Bytes per write.
    chunk: usize,
    /// Received bytes not yet written: at most one chunk.
    buffer: Vec<u8>,
    /// Whether the temporary image has been renamed to its final name.
    renamed: bool,
}

impl Upload {
    fn create(plan: UploadPlan) -> Result<Self, StoreError> {
        let cluster = plan.connection.cluster()?;
        let io = Arc::new(cluster.ioctx(&plan.pool).map_err(|err| match err.errno {
            ENOENT => StoreError::Backend(format!("pool {:?} does not exist", plan.pool)),
            _ => err.writing(&format!("pool {}", plan.pool)),
        })?);
        let location =
            RbdLocation::new(cluster.fsid(), &plan.pool, &plan.image_id, SNAPSHOT_NAME).uri();
        // Upstream's create fails on an existing image; ours creates a temporary one,
        // so look for a stored one first (the rename at commit re-checks atomically).
        match io.open_image(&plan.image_id, None, true) {
            Ok(_) => return Err(StoreError::Duplicate(location)),
            Err(err) if err.errno == ENOENT => {}
            Err(err) => return Err(err.reading(&location)),
        }
        let random = uuid::Uuid::new_v4().simple().to_string();
        let temp_name = format!("{}.partial-{}", plan.image_id, &random[..12]);
        // A known size is allocated at once; otherwise start empty and grow.
        let size = plan.expected_size.unwrap_or(0);
        tracing::debug!(image = %temp_name, size, order = plan.order, "creating RBD image");
        io.create_image(&temp_name, size, cluster.default_features(), plan.order)
            .map_err(|err| err.writing(&location))?;
        let image = match io.open_image(&temp_name, None, false) {
            Ok(image) => image,
            Err(err) => {
                let _ = io.remove_image(&temp_name);
                return Err(err.writing(&location));
            }
        };
        let chunk = usize::try_from(plan.chunk_size).unwrap_or(usize::MAX);
        let depth = (WRITES_IN_FLIGHT_BYTES / plan.chunk_size.max(1)).max(2) as usize;
        Ok(Upload {
            growth: plan.chunk_size,
            plan,
            io,
            writes: Some(Pipeline::new(image, depth)),
            chunk,
            temp_name,
            location,
            image_size: size,
            flushed: 0,
            buffer: Vec::with_capacity(chunk),
            renamed: false,
        })
    }

    fn writes(&mut self) -> Result<&mut Pipeline, StoreError> {
        self.writes.as_mut().ok_or_else(finished)
    }

    /// Takes in received bytes, writing each chunk as it fills.
    fn push(&mut self, mut data: &[u8]) -> Result<(), StoreError> {
        let received = self.flushed + (self.buffer.len() + data.len()) as u64;
        if let Some(expected) = self.plan.expected_size {
            // Never write past the image allocated for the declared size.
            if received > expected {
                return Err(StoreError::SizeMismatch { expected, received });
            }
        }
        let chunk = self.chunk;
        while !data.is_empty() {
            let take = (chunk - self.buffer.len()).min(data.len());
            self.buffer.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.buffer.len() == chunk {
                self.write_buffer()?;
            }
        }
        Ok(())
    }

    /// Starts writing the buffered chunk at its offset, growing the image first if
    /// needed. With the window full, waits for the oldest write and reuses its
    /// buffer for the next chunk.
    fn write_buffer(&mut self) -> Result<(), StoreError> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let end = self.flushed + self.buffer.len() as u64;
        if self.plan.expected_size.is_none() && self.image_size < end {
            // Upstream's resize-on-write: each growth twice the last, capped.
            let mut new_size = self.image_size;
            while new_size < end {
                self.growth = (self.growth * 2).min(MAX_GROWTH);
                new_size += self.growth;
            }
            tracing::debug!(image = %self.temp_name, new_size, "growing RBD image");
            let location = self.location.clone();
            let writing = |err: CephError| err.writing(&location);
            self.writes()?
                .quiesced()
                .map_err(writing)?
                .resize(new_size)
                .map_err(writing)?;
            self.image_size = new_size;
        }
        let skip = self.plan.thin_provisioning && self.buffer.iter().all(|&b| b == 0);
        if skip {
            self.buffer.clear();
        } else {
            let (offset, chunk, location) = (self.flushed, self.chunk, self.location.clone());
            let writing = |err: CephError| err.writing(&location);
            let writes = self.writes.as_mut().ok_or_else(finished)?;
            let mut next = match writes.is_full() {
                true => {
                    writes
                        .finish_write()
                        .ok_or_else(finished)?
                        .map_err(writing)?
                        .buffer
                }
                false => Vec::with_capacity(chunk),
            };
            next.clear();
            let data = std::mem::replace(&mut self.buffer, next);
            writes.start_write(offset, data).map_err(writing)?;
        }
        self.flushed = end;
        Ok(())
    }

    /// Writes the tail, waits for every write, trims the image to the data,
    /// snapshots and protects it, and moves it under its final name.
    fn commit(&mut self) -> Outcome {
        self.write_buffer()?;
        let received = self.flushed;
        let location = self.location.clone();
        let writing = |err: CephError| err.writing(&location);
        let (expected_size, image_size) = (self.plan.expected_size, self.image_size);
        let image = self.writes()?.quiesced().map_err(writing)?;
        match expected_size {
            Some(expected) if expected != received => {
                return Err(StoreError::SizeMismatch { expected, received })
            }
            Some(_) => {}
            // Upstream trims the overshoot of the last growth step.
            None if image_size != received => {
                image.resize(received).map_err(writing)?;
            }
            None => {}
        }
        image.flush().map_err(writing)?;
        image.snap_create(SNAPSHOT_NAME).map_err(writing)?;
        image.snap_protect(SNAPSHOT_NAME).map_err(writing)?;
        self.image_size = received;
        // Closed before the rename, so no handle of ours holds the image's lock.
        self.writes = None;
        match self.io.rename_image(&self.temp_name, &self.plan.image_id) {
            Ok(()) => {
                self.renamed = true;
                Ok(self.location.clone())
            }
            Err(err) => Err(err.writing(&self.location)),
        }
    }

    /// Removes the temporary image (with its snapshot, if commit got that far).
    fn discard(&mut self) {
        // Waits for the writes in flight, then closes the image.
        self.writes = None;
        if self.renamed {
            return;
        }
        match remove_image(
            &self.io,
            &self.temp_name,
            Some(SNAPSHOT_NAME),
            &self.temp_name,
        ) {
            Ok(()) | Err(StoreError::NotFound(_)) => {}
            Err(err) => {
                tracing::error!(image = %self.temp_name, error = %err, "cannot remove an unfinished RBD image")
            }
        }
    }

    /// Undoes a commit no one learnt of.
    fn remove_committed(&mut self) {
        let name = self.plan.image_id.clone();
        if let Err(err) = remove_image(&self.io, &name, Some(SNAPSHOT_NAME), &self.location) {
            tracing::error!(image = %name, error = %err, "cannot remove an unrecorded RBD image");
        }
    }
}
