//! Reading an answer's size and bytes: `Content-Length`, `Content-Range`, and a
//! stream cut to exactly the bytes asked for (skipping the head of a whole
//! object when the server ignored `Range`), chunk by chunk.

use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use hyper::header::{CONTENT_LENGTH, CONTENT_RANGE};

use crate::remote::ssrf::ParsedUrl;
use crate::remote::Response;
use crate::StoreError;

type ByteStream = BoxStream<'static, Result<Bytes, std::io::Error>>;

/// The answer's `Content-Length`. Upstream takes a missing one as 0; we refuse
/// it, since that size would be recorded and served as the image's.
pub(super) fn content_length(url: &ParsedUrl, response: &Response) -> Result<u64, StoreError> {
    response
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok())
        .ok_or_else(|| {
            StoreError::Backend(format!(
                "{url} did not give the size of the image (no valid Content-Length)"
            ))
        })
}

/// `Content-Range: bytes first-last/total` of a 206 answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ContentRange {
    pub first: u64,
    pub last: u64,
    pub total: u64,
}

pub(super) fn content_range(
    url: &ParsedUrl,
    response: &Response,
) -> Result<ContentRange, StoreError> {
    response
        .headers()
        .get(CONTENT_RANGE)
        .and_then(|value| value.to_str().ok())
        .and_then(parse_content_range)
        .ok_or_else(|| {
            StoreError::Backend(format!(
                "{url} answered 206 without a usable Content-Range (bytes first-last/total)"
            ))
        })
}

fn parse_content_range(value: &str) -> Option<ContentRange> {
    let (unit, spec) = value.trim().split_once(' ')?;
    if !unit.eq_ignore_ascii_case("bytes") {
        return None;
    }
    let (range, total) = spec.trim().split_once('/')?;
    let (first, last) = range.split_once('-')?;
    let number = |text: &str| {
        (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
            .then(|| text.parse::<u64>().ok())
            .flatten()
    };
    let parsed = ContentRange {
        first: number(first)?,
        last: number(last)?,
        total: number(total)?,
    };
    (parsed.first <= parsed.last && parsed.last < parsed.total).then_some(parsed)
}

/// What is left of a [`window`].
struct Window {
    inner: ByteStream,
    skip: u64,
    remaining: u64,
}

/// The `take` bytes of `inner` that follow its first `skip` bytes. Ends (and
/// drops `inner`, closing the connection) as soon as they are out; a body that
/// ends early is an `UnexpectedEof` error, so a short image is never served as
/// complete.
pub(super) fn window(inner: ByteStream, skip: u64, take: u64) -> ByteStream {
    let start = Window {
        inner,
        skip,
        remaining: take,
    };
    futures_util::stream::unfold(Some(start), |state| async move {
        let mut w = state?;
        while w.remaining > 0 {
            let mut chunk = match w.inner.next().await {
                Some(Ok(chunk)) => chunk,
                Some(Err(e)) => return Some((Err(e), None)),
                None => {
                    let short = std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        format!("the web server ended the data {} bytes early", w.remaining),
                    );
                    return Some((Err(short), None));
                }
            };
            let len = chunk.len() as u64;
            if w.skip >= len {
                w.skip -= len;
                continue;
            }
            // Both casts are below `chunk.len()`, a usize.
            let _ = chunk.split_to(w.skip as usize);
            w.skip = 0;
            if chunk.len() as u64 > w.remaining {
                chunk.truncate(w.remaining as usize);
            }
            w.remaining -= chunk.len() as u64;
            if chunk.is_empty() {
                continue;
            }
            let next = (w.remaining > 0).then_some(w);
            return Some((Ok(chunk), next));
        }
        None
    })
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(parts: &[&'static [u8]]) -> ByteStream {
        let items: Vec<Result<Bytes, std::io::Error>> =
            parts.iter().map(|p| Ok(Bytes::from_static(p))).collect();
        futures_util::stream::iter(items).boxed()
    }

    async fn collect(stream: ByteStream) -> Result<Vec<u8>, std::io::Error> {
        let mut out = Vec::new();
        let mut stream = stream;
        while let Some(chunk) = stream.next().await {
            out.extend_from_slice(&chunk?);
        }
        Ok(out)
    }

    #[tokio::test]
    async fn window_skips_and_cuts_across_chunks() {
        let parts: &[&'static [u8]] = &[b"abc", b"defg", b"", b"hij"];
        for skip in 0..10u64 {
            for take in 0..(10 - skip) {
                let got = collect(window(chunks(parts), skip, take)).await.unwrap();
                let expected = &b"abcdefghij"[skip as usize..(skip + take) as usize];
                assert_eq!(got, expected, "skip {skip} take {take}");
            }
        }
    }

    #[tokio::test]
    async fn window_reports_a_short_body() {
        let err = collect(window(chunks(&[b"abc"]), 1, 5)).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn content_range_is_parsed_strictly() {
        assert_eq!(
            parse_content_range("bytes 2-5/10"),
            Some(ContentRange {
                first: 2,
                last: 5,
                total: 10
            })
        );
        for bad in [
            "bytes 2-5/*",
            "bytes */10",
            "bytes 5-2/10",
            "bytes 2-10/10",
            "items 2-5/10",
            "bytes +2-5/10",
            "bytes 2-5",
        ] {
            assert_eq!(parse_content_range(bad), None, "{bad}");
        }
    }
}
