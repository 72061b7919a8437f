//! The upload of an image whose declared size is below the large-object threshold
//! but above one part: a single PUT whose body streams as the data arrives, so
//! nothing is buffered beyond a few chunks. The last chunk is held back until
//! `commit`, so S3 only makes the object then (it never keeps an incomplete PUT).
//!
//! The body is not hashed into the signature (`UNSIGNED-PAYLOAD`): the hash would
//! have to be known before the first byte is sent.

use async_trait::async_trait;
use bytes::Bytes;
use hyper::Method;
use tokio::task::JoinHandle;

use super::api::{Bucket, Call};
use super::failure::S3Failure;
use super::sigv4::UNSIGNED_PAYLOAD;
use crate::remote::ChannelBody;
use crate::{StoreError, StoreWriter};

/// Chunks queued between the writer and the connection.
const QUEUED_CHUNKS: usize = 4;

type PutResult = Result<(), StoreError>;

pub(super) struct StreamingPut {
    bucket: Bucket,
    key: String,
    location: String,
    declared: u64,
    /// Bytes accepted by `write`, the held-back chunk included.
    accepted: u64,
    body: Option<ChannelBody>,
    held: Option<Bytes>,
    /// The PUT in flight.
    request: Option<JoinHandle<PutResult>>,
    /// True once committed or discarded.
    settled: bool,
}

impl StreamingPut {
    /// Sends the head of the PUT; the body follows as `write` is called.
    pub(super) fn start(
        bucket: Bucket,
        key: String,
        location: String,
        declared: u64,
    ) -> Result<Self, StoreError> {
        let (body, request_body) = ChannelBody::new(QUEUED_CHUNKS);
        let call = Call::new(Method::PUT, Some(&key));
        let request = bucket.sign(&call, request_body, UNSIGNED_PAYLOAD, Some(declared))?;
        let what = format!("PUT {}", bucket.describe(Some(&key)));
        let sender = bucket.clone();
        let request = tokio::spawn(async move {
            let response = sender.send_streaming(request).await?;
            if response.status().is_success() {
                return Ok(());
            }
            let failure = S3Failure::read(response).await;
            Err(failure.into_error(&what, sender.credentials()))
        });
        Ok(StreamingPut {
            bucket,
            key,
            location,
            declared,
            accepted: 0,
            body: Some(body),
            held: None,
            request: Some(request),
            settled: false,
        })
    }

    /// The outcome of the PUT, once it has ended.
    /// The handle stays in place while awaited, so a cancelled commit leaves it to
    /// `Drop`, which then removes an object the PUT made after all.
    async fn outcome(&mut self) -> PutResult {
        let Some(request) = self.request.as_mut() else {
            return Err(StoreError::Backend(
                "the S3 upload has already ended".into(),
            ));
        };
        let result = request
            .await
            .unwrap_or_else(|e| Err(StoreError::Backend(format!("the S3 PUT task failed: {e}"))));
        self.request = None;
        result
    }

    /// Why the PUT stopped taking data.
    async fn failure(&mut self) -> StoreError {
        self.body = None;
        self.held = None;
        match self.outcome().await {
            Err(e) => e,
            Ok(()) => StoreError::Backend("the S3 PUT ended before its data was sent".into()),
        }
    }

    fn leftovers(&mut self) -> Leftovers {
        self.held = None;
        Leftovers {
            bucket: self.bucket.clone(),
            key: self.key.clone(),
            body: self.body.take(),
            request: self.request.take(),
        }
    }
}

/// A PUT that has to be undone.
struct Leftovers {
    bucket: Bucket,
    key: String,
    body: Option<ChannelBody>,
    request: Option<JoinHandle<PutResult>>,
}

/// Runs [`discard`] on a task of its own, so it finishes even if the caller's future
/// is dropped.
async fn discard_now(leftovers: Leftovers) {
    let _ = tokio::spawn(discard(leftovers)).await;
}

/// Breaks the body off (S3 then drops the partial object) and waits for the PUT to
/// end; if it succeeded after all (a commit cancelled at the last moment), the object
/// is removed.
async fn discard(leftovers: Leftovers) {
    if let Some(body) = leftovers.body {
        body.fail().await;
    }
    let Some(request) = leftovers.request else {
        return;
    };
    if let Ok(Ok(())) = request.await {
        if let Err(e) = leftovers.bucket.delete(&leftovers.key).await {
            tracing::warn!(error = %e, "cannot remove an S3 object whose upload was abandoned");
        }
    }
}

#[async_trait]
impl StoreWriter for StreamingPut {
    async fn write(&mut self, chunk: Bytes) -> Result<(), StoreError> {
        if chunk.is_empty() {
            return Ok(());
        }
        let received = self.accepted + chunk.len() as u64;
        if received > self.declared {
            // Never send more than the Content-Length announced.
            return Err(StoreError::SizeMismatch {
                expected: self.declared,
                received,
            });
        }
        self.accepted = received;
        let Some(previous) = self.held.replace(chunk) else {
            return Ok(());
        };
        let sent = match &self.body {
            Some(body) => body.send(previous).await,
            None => Err(StoreError::Backend(
                "the S3 upload has already ended".into(),
            )),
        };
        match sent {
            Ok(()) => Ok(()),
            Err(_) => Err(self.failure().await),
        }
    }

    async fn commit(mut self: Box<Self>) -> Result<String, StoreError> {
        if self.accepted != self.declared {
            discard_now(self.leftovers()).await;
            self.settled = true;
            return Err(StoreError::SizeMismatch {
                expected: self.declared,
                received: self.accepted,
            });
        }
        // The last bytes complete the body; S3 answers once it has stored the object.
        let last = self.held.take();
        let sent = match (&self.body, last) {
            (Some(body), Some(last)) => body.send(last).await,
            (Some(_), None) => Ok(()),
            (None, _) => Err(StoreError::Backend(
                "the S3 upload has already ended".into(),
            )),
        };
        self.body = None;
        let result = match sent {
            Ok(()) => self.outcome().await,
            Err(_) => Err(self.failure().await),
        };
        self.settled = true;
        result.map(|()| self.location.clone())
    }

    async fn abort(mut self: Box<Self>) {
        discard_now(self.leftovers()).await;
        self.settled = true;
    }
}

impl Drop for StreamingPut {
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        let leftovers = self.leftovers();
        if leftovers.request.is_none() {
            return;
        }
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(discard(leftovers));
            }
            // Dropping the body sender alone already breaks the PUT off.
            Err(_) => tracing::warn!("S3 upload dropped outside a runtime"),
        }
    }
}
