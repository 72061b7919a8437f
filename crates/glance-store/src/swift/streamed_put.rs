//! One PUT whose body is fed chunk by chunk while the request is in flight (an image
//! object or one segment of a large one). Swift stores an object only once its whole
//! body has arrived, so a PUT that is failed midway leaves nothing behind.

use bytes::Bytes;
use tokio::task::JoinHandle;

use super::account::{status_error, Account, Target};
use super::auth::drain;
use crate::remote::{ChannelBody, Response};
use crate::StoreError;

/// Chunks queued between the upload task and the connection.
const QUEUED_CHUNKS: usize = 4;

pub(crate) struct StreamedPut {
    pub name: String,
    body: Option<ChannelBody>,
    answer: Option<JoinHandle<Result<Response, StoreError>>>,
    /// Bytes handed to the body so far.
    pub sent: u64,
}

/// What a finished PUT left on the server.
pub(crate) struct Stored {
    pub name: String,
    pub size: u64,
    /// The MD5 of the content as Swift computed it.
    pub etag: Option<String>,
}

impl StreamedPut {
    /// Starts `PUT container/name`; `headers` carry Content-Length when known
    /// (otherwise the body is sent chunked) and any condition.
    pub(crate) fn start(
        account: &Account,
        container: &str,
        name: &str,
        headers: Vec<(&'static str, String)>,
    ) -> Self {
        let (body, request_body) = ChannelBody::new(QUEUED_CHUNKS);
        let (account, container, object) =
            (account.clone(), container.to_string(), name.to_string());
        let answer = tokio::spawn(async move {
            let headers: Vec<(&str, &str)> =
                headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
            account
                .put_stream(Target::object(&container, &object), &headers, request_body)
                .await
        });
        StreamedPut {
            name: name.to_string(),
            body: Some(body),
            answer: Some(answer),
            sent: 0,
        }
    }

    /// Queues `chunk`. When the request has already ended (Swift answered early or the
    /// connection broke) the answer says why.
    pub(crate) async fn send(&mut self, container: &str, chunk: Bytes) -> Result<(), StoreError> {
        let len = chunk.len() as u64;
        let Some(body) = &self.body else {
            return Err(StoreError::Backend("the upload has already ended".into()));
        };
        if body.send(chunk).await.is_ok() {
            self.sent += len;
            return Ok(());
        }
        self.body = None;
        match self.answer(container).await {
            Ok(_) => Err(StoreError::Backend(format!(
                "swift stored {container}/{} before the end of its data",
                self.name
            ))),
            Err(e) => Err(e),
        }
    }

    /// Ends the body and waits for Swift to store the object.
    pub(crate) async fn finish(mut self, container: &str) -> Result<Stored, StoreError> {
        self.body = None;
        let etag = self.answer(container).await?;
        Ok(Stored {
            name: self.name.clone(),
            size: self.sent,
            etag,
        })
    }

    /// Breaks the body off so Swift discards it, and waits for the request to end.
    /// Returns the object when Swift stored it anyway (its whole body had already
    /// been sent), for the caller to remove.
    pub(crate) async fn fail(mut self, container: &str) -> Option<Stored> {
        if let Some(body) = self.body.take() {
            body.fail().await;
        }
        match self.answer(container).await {
            Ok(etag) => Some(Stored {
                name: self.name.clone(),
                size: self.sent,
                etag,
            }),
            Err(_) => None,
        }
    }

    /// Swift's answer: the ETag of a stored object, or why it was not stored.
    async fn answer(&mut self, container: &str) -> Result<Option<String>, StoreError> {
        let Some(answer) = self.answer.take() else {
            return Err(StoreError::Backend("the upload has already ended".into()));
        };
        let response = answer
            .await
            .map_err(|e| StoreError::Backend(format!("the upload task failed: {e}")))??;
        let target = Target::object(container, &self.name);
        if !response.status().is_success() {
            return Err(status_error(response, target, "PUT").await);
        }
        let etag = response
            .headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim_matches('"').to_string());
        drain(response).await;
        Ok(etag)
    }
}

impl Drop for StreamedPut {
    fn drop(&mut self) {
        // Letting the body end normally would complete a chunked PUT and store a
        // partial object, so a PUT dropped midway is broken off instead.
        if let Some(body) = self.body.take() {
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(body.fail());
            }
        }
    }
}
