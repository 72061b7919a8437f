//! Downloads: a thread of its own keeps a few reads in flight and passes the
//! pieces, in order, into a queue of one, so at most a few pieces are in memory
//! whatever the image size, and a slow client never holds a thread of the
//! blocking pool. When the stream is dropped the next send fails, the thread
//! ends, and the image handle is closed once its reads are done.

use bytes::Bytes;
use futures_util::stream::{self, BoxStream, StreamExt};
use tokio::sync::mpsc;

use super::aio::Pipeline;
use super::image::Image;
use crate::StoreError;

type Item = Result<Bytes, std::io::Error>;

/// Reads in flight per download. One at a time reached about half of `rbd
/// export`'s rate; with pieces of at most 4 MiB this holds at most 16 MiB
/// (plus the one piece queued for the client) whatever the image size.
const READ_AHEAD: usize = 4;

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

fn read_loop(image: Image, start: u64, end: u64, piece: u64, tx: mpsc::Sender<Item>) {
    let mut reads = Pipeline::new(image, READ_AHEAD);
    // Where the next read starts, and where the next piece to send begins.
    let (mut next, mut pos) = (start, start);
    while pos < end {
        while next < end && !reads.is_full() {
            let len = (end - next).min(piece - next % piece);
            if let Err(err) = reads.start_read(next, len as usize) {
                let _ = tx.blocking_send(Err(std::io::Error::other(err.to_string())));
                return;
            }
            next += len;
        }
        let Some(done) = reads.finish_read() else {
            return;
        };
        let wanted = (end - pos).min(piece - pos % piece);
        let item = match done {
            Ok(read) if (read.buffer.len() as u64) < wanted => Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!(
                    "the RBD image ended at byte {}, before {end}",
                    read.offset + read.buffer.len() as u64
                ),
            )),
            Ok(read) => {
                pos += wanted;
                Ok(Bytes::from(read.buffer))
            }
            Err(err) => Err(std::io::Error::other(err.to_string())),
        };
        let failed = item.is_err();
        // A failed send means the reader was dropped: stop. Dropping the pipeline
        // waits for the reads still in flight, then closes the image.
        if tx.blocking_send(item).is_err() || failed {
            return;
        }
    }
}
