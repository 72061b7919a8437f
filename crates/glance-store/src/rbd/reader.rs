//! Downloads: a thread of its own reads the image piece by piece into a queue of
//! one, so at most a few pieces are in memory whatever the image size, and a slow
//! client never holds a thread of the blocking pool. When the stream is dropped
//! the next send fails, the thread ends, and the image handle is closed.

use bytes::Bytes;
use futures_util::stream::{self, BoxStream, StreamExt};
use tokio::sync::mpsc;

use super::image::Image;
use crate::StoreError;

type Item = Result<Bytes, std::io::Error>;

/// Streams bytes `[start, end)` of `image` in pieces of at most `piece` bytes, each
/// aligned to a multiple of `piece` so that no read spans two RBD objects when
/// `piece` divides the object size.
pub(super) fn stream_range(
    image: Image,
    start: u64,
    end: u64,
    piece: u64,
) -> Result<BoxStream<'static, Item>, StoreError> {
    if start >= end {
        return Ok(stream::empty().boxed());
    }
    let (tx, rx) = mpsc::channel::<Item>(1);
    std::thread::Builder::new()
        .name("glance-rbd-read".into())
        .spawn(move || read_loop(image, start, end, piece.max(1), tx))
        .map_err(StoreError::Io)?;
    Ok(stream::unfold(rx, |mut rx| async move {
        let item = rx.recv().await?;
        Some((item, rx))
    })
    .boxed())
}

fn read_loop(mut image: Image, start: u64, end: u64, piece: u64, tx: mpsc::Sender<Item>) {
    let mut pos = start;
    while pos < end {
        let len = (end - pos).min(piece - pos % piece);
        let mut buf = vec![0u8; usize::try_from(len).unwrap_or(usize::MAX)];
        let item = match image.read_at(pos, &mut buf) {
            Ok(0) => Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!("the RBD image ended at byte {pos}, before {end}"),
            )),
            Ok(read) => {
                buf.truncate(read);
                pos += read as u64;
                Ok(Bytes::from(buf))
            }
            Err(err) => Err(std::io::Error::other(err.to_string())),
        };
        let failed = item.is_err();
        // A failed send means the reader was dropped: stop, closing the image.
        if tx.blocking_send(item).is_err() || failed {
            return;
        }
    }
}
