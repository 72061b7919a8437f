//! Downloads: a streamed GET (ranged when asked) that, with
//! `swift_store_retry_get_count` > 0, picks up a broken transfer with a new ranged
//! GET from the first byte not yet delivered (upstream's `swift_retry_iter`), pinned
//! to the object's ETag so a replaced object is never spliced into the old one.

use std::io::{Error as IoError, ErrorKind};

use bytes::Bytes;
use futures_util::stream::{self, BoxStream, StreamExt};
use hyper::{Method, StatusCode};

use super::account::{status_error, Account, Target};
use super::auth::drain;
use super::objects;
use crate::remote::{body_stream, Response};
use crate::{ByteRange, ObjectReader, StoreError};

type Body = BoxStream<'static, Result<Bytes, IoError>>;

/// Opens `container/object`, or `range` of it.
pub(crate) async fn open(
    account: Account,
    container: String,
    object: String,
    range: Option<ByteRange>,
    retries: u32,
) -> Result<ObjectReader, StoreError> {
    if let Some(r) = range {
        if r.start > r.end {
            return Err(outside(r, None));
        }
    }
    let target = Target::object(&container, &object);
    let range_header = range.map(|r| format!("bytes={}-{}", r.start, r.end));
    let mut headers: Vec<(&str, &str)> = Vec::new();
    if let Some(value) = &range_header {
        headers.push(("Range", value));
    }
    let response = account
        .call(Method::GET, target, "", &headers, None)
        .await?;
    let status = response.status();
    let (start, stop, total_size) = match (status, range) {
        (StatusCode::OK, None) => {
            let total = match header_u64(&response, "content-length") {
                Some(total) => total,
                // A dynamic large object of more than one listing page has no length
                // in its GET answer; its HEAD adds the segments up.
                None => objects::head(&account, target).await?.size,
            };
            (0, total, total)
        }
        (StatusCode::PARTIAL_CONTENT, Some(r)) => {
            let (first, last, total) = content_range(&response).ok_or_else(|| {
                StoreError::Backend(format!(
                    "swift sent a bad Content-Range for {}",
                    target.describe()
                ))
            })?;
            // Swift shortens a range that runs past the end instead of refusing it.
            if first != r.start || last != r.end {
                drain(response).await;
                return Err(outside(r, Some(total)));
            }
            (first, last + 1, total)
        }
        (StatusCode::RANGE_NOT_SATISFIABLE, Some(r)) => {
            drain(response).await;
            return Err(outside(r, None));
        }
        (_, _) if status.is_success() => {
            drain(response).await;
            return Err(StoreError::Backend(format!(
                "swift answered {status} to a GET of {} that asked for {range_header:?}",
                target.describe()
            )));
        }
        _ => return Err(status_error(response, target, "GET").await),
    };
    let etag = response
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let download = Download {
        source: Source {
            account,
            container,
            object,
            etag,
        },
        next: start,
        stop,
        retries_left: retries,
        body: Some(body_stream(response)),
    };
    Ok(ObjectReader {
        total_size,
        stream: download.into_stream(),
    })
}

fn outside(r: ByteRange, total: Option<u64>) -> StoreError {
    let size = total.map_or_else(String::new, |t| format!(" of {t} bytes"));
    StoreError::Io(IoError::new(
        ErrorKind::InvalidInput,
        format!("range {}-{} outside the object{size}", r.start, r.end),
    ))
}

fn header_u64(response: &Response, name: &str) -> Option<u64> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

/// `Content-Range: bytes <first>-<last>/<total>`.
fn content_range(response: &Response) -> Option<(u64, u64, u64)> {
    let value = response.headers().get("content-range")?.to_str().ok()?;
    let (range, total) = value.trim().strip_prefix("bytes ")?.split_once('/')?;
    let (first, last) = range.split_once('-')?;
    Some((first.parse().ok()?, last.parse().ok()?, total.parse().ok()?))
}

/// Where a download comes from (what a resume needs).
struct Source {
    account: Account,
    container: String,
    object: String,
    etag: Option<String>,
}

/// One download in progress.
struct Download {
    source: Source,
    /// Offset of the next byte to deliver.
    next: u64,
    /// One past the last byte to deliver.
    stop: u64,
    retries_left: u32,
    /// None once the stream has failed for good.
    body: Option<Body>,
}

impl Download {
    fn into_stream(self) -> Body {
        stream::unfold(self, |mut this| async move {
            let item = this.next_chunk().await?;
            Some((item, this))
        })
        .boxed()
    }

    /// The next chunk; None at the end (or after a reported failure).
    async fn next_chunk(&mut self) -> Option<Result<Bytes, IoError>> {
        loop {
            if self.next >= self.stop {
                return None;
            }
            let body = self.body.as_mut()?;
            let failure = match body.next().await {
                Some(Ok(chunk)) => {
                    // Never deliver past the range asked for, whatever the server sends.
                    let room = self.stop - self.next;
                    let chunk = if chunk.len() as u64 > room {
                        chunk.slice(..room as usize)
                    } else {
                        chunk
                    };
                    self.next += chunk.len() as u64;
                    return Some(Ok(chunk));
                }
                Some(Err(e)) => e.to_string(),
                None => format!("the answer ended {} bytes early", self.stop - self.next),
            };
            self.body = None;
            if self.retries_left == 0 {
                return Some(Err(IoError::other(format!(
                    "reading swift object {}/{} failed: {failure}",
                    self.source.container, self.source.object
                ))));
            }
            self.retries_left -= 1;
            tracing::info!(
                container = %self.source.container,
                object = %self.source.object,
                from = self.next,
                retries_left = self.retries_left,
                %failure,
                "swift download broke; resuming with a ranged GET"
            );
            match self.source.resume(self.next, self.stop).await {
                Ok(body) => self.body = Some(body),
                Err(e) => return Some(Err(IoError::other(e.to_string()))),
            }
        }
    }
}

impl Source {
    /// A ranged GET of `next..stop`, only if the object is still the one being read.
    async fn resume(&self, next: u64, stop: u64) -> Result<Body, StoreError> {
        let target = Target::object(&self.container, &self.object);
        let range = format!("bytes={}-{}", next, stop - 1);
        let mut headers: Vec<(&str, &str)> = vec![("Range", &range)];
        if let Some(etag) = &self.etag {
            headers.push(("If-Match", etag));
        }
        let response = self
            .account
            .call(Method::GET, target, "", &headers, None)
            .await?;
        match response.status() {
            StatusCode::PARTIAL_CONTENT => {}
            StatusCode::PRECONDITION_FAILED => {
                drain(response).await;
                return Err(StoreError::Backend(format!(
                    "swift object {} changed during the download",
                    target.describe()
                )));
            }
            _ => return Err(status_error(response, target, "resume GET").await),
        }
        match content_range(&response) {
            Some((first, _, _)) if first == next => Ok(body_stream(response)),
            _ => {
                drain(response).await;
                Err(StoreError::Backend(format!(
                    "swift resumed {} at the wrong offset",
                    target.describe()
                )))
            }
        }
    }
}
