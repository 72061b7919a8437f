//! Uploads. Every upload runs on a task of its own that owns all its server-side
//! state, so however the writer ends (commit, abort, drop, a cancelled commit) the
//! task finishes the job or removes everything it wrote.
//!
//! * Declared size below `swift_store_large_object_size`: one PUT to the final name
//!   with `If-None-Match: *`. The last chunk is held back until `commit`, so the
//!   object cannot appear before then; a PUT broken off stores nothing.
//! * Otherwise (or size unknown): segments of `swift_store_large_object_chunk_size`,
//!   streamed, then a dynamic-large-object manifest (`X-Object-Manifest`), which is
//!   what upstream writes. The manifest PUT carries `If-None-Match: *`, so of two
//!   racing uploads the later commit is `Duplicate`. Segment names are upstream's
//!   `<object>-NNNNN` with a per-upload tag before the number (`<object>-<tag>-NNNNN`,
//!   manifest prefix `<container>/<object>-<tag>-`): upstream reads and deletes these
//!   through the manifest like its own, while two uploads of one image, or the
//!   leftovers of a crashed one, can never mix segments.
//! * An upload of unknown size that fits in one segment ends as a plain object: the
//!   manifest claims the name, then a server-side copy of the segment replaces it
//!   and the segment goes (one object, no dependency on container listings).

use async_trait::async_trait;
use bytes::Bytes;
use hyper::Method;
use tokio::sync::{mpsc, oneshot};

use super::account::{status_error, Account, Target};
use super::auth::drain;
use super::location::encode_path;
use super::objects::delete_one;
use super::streamed_put::{Stored, StreamedPut};
use crate::{StoreError, StoreWriter};

/// Chunks queued in front of the upload task.
const QUEUE_DEPTH: usize = 4;
/// Segment numbers are five digits wide (upstream's `%05d`), and a DLO concatenates
/// by name order, so there can be no more segments than this.
const MAX_SEGMENTS: usize = 99_999;

/// Everything an upload needs to know.
pub(crate) struct UploadPlan {
    pub account: Account,
    pub container: String,
    pub object: String,
    pub location: String,
    pub expected_size: Option<u64>,
    pub large_object_size: u64,
    pub chunk_size: u64,
}

enum Msg {
    Data(Bytes),
    Commit,
}

type Outcome = Result<String, StoreError>;

/// The writer handed to the caller: a queue into the upload task.
pub(crate) struct SwiftWriter {
    tx: Option<mpsc::Sender<Msg>>,
    done: Option<oneshot::Receiver<Outcome>>,
}

impl SwiftWriter {
    pub(crate) fn start(plan: UploadPlan) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
        let (done_tx, done) = oneshot::channel();
        tokio::spawn(UploadTask::new(plan).run(rx, done_tx));
        SwiftWriter {
            tx: Some(tx),
            done: Some(done),
        }
    }

    async fn outcome(&mut self) -> Outcome {
        match self.done.take() {
            Some(done) => done
                .await
                .unwrap_or_else(|_| Err(StoreError::Backend("the swift upload task died".into()))),
            None => Err(StoreError::Backend(
                "the upload has already finished".into(),
            )),
        }
    }
}

#[async_trait]
impl StoreWriter for SwiftWriter {
    async fn write(&mut self, chunk: Bytes) -> Result<(), StoreError> {
        if chunk.is_empty() {
            return Ok(());
        }
        let Some(tx) = &self.tx else {
            return Err(StoreError::Backend(
                "the upload has already finished".into(),
            ));
        };
        if tx.send(Msg::Data(chunk)).await.is_err() {
            // The task hangs up only after a failure, which it reports.
            self.tx = None;
            return Err(match self.outcome().await {
                Err(e) => e,
                Ok(_) => StoreError::Backend("the swift upload stopped".into()),
            });
        }
        Ok(())
    }

    async fn commit(mut self: Box<Self>) -> Result<String, StoreError> {
        let tx = self
            .tx
            .take()
            .ok_or_else(|| StoreError::Backend("the upload has already finished".into()))?;
        // If the task already stopped, the send fails and its outcome says why.
        let _ = tx.send(Msg::Commit).await;
        drop(tx);
        self.outcome().await
    }

    async fn abort(mut self: Box<Self>) {
        // A queue closed without Commit tells the task to remove what it wrote; its
        // outcome comes once that is done.
        self.tx = None;
        let _ = self.outcome().await;
    }
}

/// The server-side state of one upload.
struct UploadTask {
    plan: UploadPlan,
    /// Per-upload tag in segment names.
    tag: String,
    /// Set when the declared size takes the single-PUT path.
    single: bool,
    /// The PUT being fed: the object itself, or the current segment.
    current: Option<StreamedPut>,
    /// The last chunk, held back from a single PUT until commit.
    held: Option<Bytes>,
    segments: Vec<Stored>,
    received: u64,
    /// True once something exists under the final name that this upload made.
    final_created: bool,
}

impl UploadTask {
    fn new(plan: UploadPlan) -> Self {
        let single = plan
            .expected_size
            .is_some_and(|size| size < plan.large_object_size);
        let tag = uuid::Uuid::new_v4().simple().to_string()[..12].to_string();
        UploadTask {
            plan,
            tag,
            single,
            current: None,
            held: None,
            segments: Vec::new(),
            received: 0,
            final_created: false,
        }
    }

    async fn run(mut self, mut rx: mpsc::Receiver<Msg>, done: oneshot::Sender<Outcome>) {
        let received = loop {
            match rx.recv().await {
                Some(Msg::Data(chunk)) => {
                    if let Err(e) = self.write(chunk).await {
                        break Err(e);
                    }
                }
                Some(Msg::Commit) => break Ok(()),
                None => break Err(StoreError::Source("upload abandoned".into())),
            }
        };
        // Hang up first, so a writer still sending learns of a failure now.
        drop(rx);
        let result = match received {
            Ok(()) => self.finish().await,
            Err(e) => Err(e),
        };
        if result.is_err() {
            self.discard().await;
        }
        let committed = result.is_ok();
        if done.send(result).is_err() && committed {
            // The commit was cancelled before it learnt the location, so nothing will
            // ever refer to the object: remove it rather than leave it orphaned.
            self.discard().await;
        }
    }

    async fn write(&mut self, chunk: Bytes) -> Result<(), StoreError> {
        self.received += chunk.len() as u64;
        if let Some(expected) = self.plan.expected_size {
            if self.received > expected {
                return Err(StoreError::SizeMismatch {
                    expected,
                    received: self.received,
                });
            }
        }
        if self.single {
            if self.current.is_none() {
                self.current = Some(self.start_single());
            }
            if let Some(previous) = self.held.replace(chunk) {
                self.send(previous).await?;
            }
            return Ok(());
        }
        let mut rest = chunk;
        while !rest.is_empty() {
            if self.current.is_none() {
                self.current = Some(self.start_segment()?);
            }
            let sent = self.current.as_ref().map_or(0, |put| put.sent);
            let room = (self.plan.chunk_size - sent).min(rest.len() as u64) as usize;
            let piece = rest.split_to(room);
            self.send(piece).await?;
            if self.current.as_ref().map_or(0, |put| put.sent) == self.plan.chunk_size {
                self.close_segment().await?;
            }
        }
        Ok(())
    }

    async fn send(&mut self, chunk: Bytes) -> Result<(), StoreError> {
        match self.current.as_mut() {
            Some(put) => put.send(&self.plan.container, chunk).await,
            None => Err(StoreError::Backend("no upload in progress".into())),
        }
    }

    fn start_single(&self) -> StreamedPut {
        let size = self.plan.expected_size.unwrap_or(0);
        let headers = vec![
            ("Content-Length", size.to_string()),
            ("If-None-Match", "*".to_string()),
        ];
        StreamedPut::start(
            &self.plan.account,
            &self.plan.container,
            &self.plan.object,
            headers,
        )
    }

    /// `<object>-<tag>-`: the segments' common prefix.
    fn segment_prefix(&self) -> String {
        format!("{}-{}-", self.plan.object, self.tag)
    }

    fn start_segment(&self) -> Result<StreamedPut, StoreError> {
        let number = self.segments.len() + 1;
        if number > MAX_SEGMENTS {
            return Err(StoreError::Backend(format!(
                "the image needs more than {MAX_SEGMENTS} segments; raise \
                 swift_store_large_object_chunk_size"
            )));
        }
        let name = format!("{}{number:05}", self.segment_prefix());
        // With a declared size every segment's length is known, and Swift checks it.
        let written: u64 = self.segments.iter().map(|s| s.size).sum();
        let mut headers = Vec::new();
        if let Some(expected) = self.plan.expected_size {
            let length = (expected - written).min(self.plan.chunk_size);
            headers.push(("Content-Length", length.to_string()));
        }
        Ok(StreamedPut::start(
            &self.plan.account,
            &self.plan.container,
            &name,
            headers,
        ))
    }

    async fn close_segment(&mut self) -> Result<(), StoreError> {
        if let Some(put) = self.current.take() {
            let stored = put.finish(&self.plan.container).await?;
            self.segments.push(stored);
        }
        Ok(())
    }

    /// Makes the upload visible under its final name.
    async fn finish(&mut self) -> Result<String, StoreError> {
        if let Some(expected) = self.plan.expected_size {
            if self.received != expected {
                return Err(StoreError::SizeMismatch {
                    expected,
                    received: self.received,
                });
            }
        }
        if self.single {
            if self.current.is_none() {
                self.current = Some(self.start_single());
            }
            if let Some(last) = self.held.take() {
                self.send(last).await?;
            }
            if let Some(put) = self.current.take() {
                put.finish(&self.plan.container).await?;
            }
            self.final_created = true;
            return Ok(self.plan.location.clone());
        }
        self.close_segment().await?;
        match self.segments.len() {
            0 => self.put_final(&[("If-None-Match", "*")]).await?,
            1 if self.plan.expected_size.is_none() => {
                self.claim_with_manifest().await?;
                self.replace_manifest_with_copy().await?;
            }
            _ => self.claim_with_manifest().await?,
        }
        Ok(self.plan.location.clone())
    }

    /// A PUT to the final name with no body.
    async fn put_final(&mut self, headers: &[(&str, &str)]) -> Result<(), StoreError> {
        let target = Target::object(&self.plan.container, &self.plan.object);
        let response = self
            .plan
            .account
            .call(Method::PUT, target, "", headers, None)
            .await?;
        if !response.status().is_success() {
            return Err(status_error(response, target, "PUT").await);
        }
        drain(response).await;
        self.final_created = true;
        Ok(())
    }

    /// The manifest, written only if nothing exists under the name yet.
    async fn claim_with_manifest(&mut self) -> Result<(), StoreError> {
        let manifest = encode_path(
            &format!("{}/{}", self.plan.container, self.segment_prefix()),
            true,
        );
        self.put_final(&[("X-Object-Manifest", &manifest), ("If-None-Match", "*")])
            .await
    }

    /// Turns a one-segment manifest into a plain object by a server-side copy of the
    /// segment, checked against the segment's ETag. If the copy fails the manifest is
    /// written again, which is a complete image as well.
    async fn replace_manifest_with_copy(&mut self) -> Result<(), StoreError> {
        let Some(segment) = self.segments.first() else {
            return Ok(());
        };
        let source = format!(
            "/{}",
            encode_path(&format!("{}/{}", self.plan.container, segment.name), true)
        );
        let target = Target::object(&self.plan.container, &self.plan.object);
        let copied = match self
            .plan
            .account
            .call(Method::PUT, target, "", &[("X-Copy-From", &source)], None)
            .await
        {
            Ok(response) if response.status().is_success() => {
                let etag = response
                    .headers()
                    .get("etag")
                    .and_then(|v| v.to_str().ok())
                    .map(|v| v.trim_matches('"').to_string());
                drain(response).await;
                etag.is_some() && etag == segment.etag
            }
            Ok(response) => {
                drain(response).await;
                false
            }
            Err(_) => false,
        };
        if !copied {
            // The copy may have replaced the manifest with something else: put the
            // manifest back (no condition: the name is ours since the claim).
            let manifest = encode_path(
                &format!("{}/{}", self.plan.container, self.segment_prefix()),
                true,
            );
            tracing::warn!(object = %target.describe(), "copying a one-segment upload failed; keeping its manifest");
            return self.put_final(&[("X-Object-Manifest", &manifest)]).await;
        }
        let name = segment.name.clone();
        match delete_one(
            &self.plan.account,
            Target::object(&self.plan.container, &name),
            "",
        )
        .await
        {
            Ok(_) => self.segments.clear(),
            Err(e) => {
                tracing::warn!(error = %e, segment = %name, "cannot remove a copied swift segment")
            }
        }
        Ok(())
    }

    /// Removes everything this upload stored: the PUT in flight, every segment, and
    /// the object under the final name when this upload made it.
    async fn discard(&mut self) {
        let container = self.plan.container.clone();
        if let Some(put) = self.current.take() {
            if let Some(stored) = put.fail(&container).await {
                if self.single {
                    self.final_created = true;
                } else {
                    self.segments.push(stored);
                }
            }
        }
        if self.final_created {
            self.remove(&self.plan.object.clone()).await;
            self.final_created = false;
        }
        for segment in std::mem::take(&mut self.segments) {
            self.remove(&segment.name).await;
        }
    }

    async fn remove(&self, name: &str) {
        let target = Target::object(&self.plan.container, name);
        if let Err(e) = delete_one(&self.plan.account, target, "").await {
            tracing::warn!(error = %e, object = %target.describe(), "cannot remove an abandoned swift upload object");
        }
    }
}
