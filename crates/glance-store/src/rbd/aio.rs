//! Asynchronous reads and writes, so that a transfer keeps several RBD objects
//! in flight instead of waiting for each round trip to the OSDs in turn (one
//! synchronous 8 MiB write at a time reached a third of `rbd import`'s rate).
//!
//! librbd's asynchronous calls return at once and finish on librbd's own
//! threads; the caller must keep the buffer alive and unmoved, and the image open,
//! until the operation is done. [`InFlight`] owns its buffer and waits for the
//! operation when dropped, and [`Pipeline`] owns the image together with the
//! operations on it, finishing them before the image is closed.

use std::collections::VecDeque;
use std::os::raw::c_char;

use super::errno::CephError;
use super::ffi;
use super::image::Image;

/// One librbd completion: waited for and released when dropped, so librbd never
/// touches a buffer after its owner is gone.
struct Completion(ffi::CompletionT);

impl Completion {
    fn new() -> Result<Self, CephError> {
        let mut raw: ffi::CompletionT = std::ptr::null_mut();
        // SAFETY: valid out pointer; no callback, so no argument is ever used.
        let ret = unsafe { ffi::rbd_aio_create_completion(std::ptr::null_mut(), None, &mut raw) };
        if ret < 0 {
            return Err(CephError::new("create completion", ret.into()));
        }
        Ok(Completion(raw))
    }

    /// Blocks until the operation is done; its return value.
    fn wait(&self) -> i64 {
        // SAFETY: a live completion. Waiting again on a finished one returns at once.
        unsafe {
            ffi::rbd_aio_wait_for_complete(self.0);
            ffi::rbd_aio_get_return_value(self.0) as i64
        }
    }
}

impl Drop for Completion {
    fn drop(&mut self) {
        self.wait();
        // SAFETY: created by rbd_aio_create_completion, finished, released once.
        unsafe { ffi::rbd_aio_release(self.0) };
    }
}

// SAFETY: a completion is a handle to librbd state that librbd itself
// synchronises; ours is only waited on and released by the thread that owns it.
unsafe impl Send for Completion {}

/// An operation in flight with the buffer it reads from or writes into. The
/// field order is load-bearing: fields drop in order, so the completion is
/// waited for before the buffer is freed.
pub(super) struct InFlight {
    completion: Completion,
    offset: u64,
    buffer: Vec<u8>,
}

impl InFlight {
    /// Waits for the operation: the bytes it transferred (reads: fewer only at
    /// the end of the image) and the buffer back.
    fn finish(
        self,
        check: impl Fn(i64) -> Result<i64, CephError>,
    ) -> (Result<usize, CephError>, Vec<u8>) {
        let InFlight {
            completion, buffer, ..
        } = self;
        let ret = completion.wait();
        drop(completion);
        (check(ret).map(|n| n as usize), buffer)
    }
}

/// What a finished operation gave back.
pub(super) struct Finished {
    pub offset: u64,
    /// For reads, the bytes read; for writes, the buffer, for reuse.
    pub buffer: Vec<u8>,
}

/// An open image with up to `depth` operations in flight on it, finished in
/// the order they were started.
pub(super) struct Pipeline {
    /// Declared before `image`: dropping the pipeline finishes every operation
    /// before the image is closed.
    in_flight: VecDeque<InFlight>,
    image: Image,
    depth: usize,
}

impl Pipeline {
    pub fn new(image: Image, depth: usize) -> Self {
        Pipeline {
            in_flight: VecDeque::with_capacity(depth),
            image,
            depth: depth.max(1),
        }
    }

    /// The image, for calls that must not overlap the writes in flight (resize,
    /// flush, snapshot): every write started is finished first, and the first
    /// that failed is the error.
    pub fn quiesced(&mut self) -> Result<&mut Image, CephError> {
        while let Some(done) = self.finish_write() {
            done?;
        }
        Ok(&mut self.image)
    }

    pub fn is_full(&self) -> bool {
        self.in_flight.len() >= self.depth
    }

    /// Starts writing `buffer` at `offset`; all of it must lie inside the image.
    pub fn start_write(&mut self, offset: u64, buffer: Vec<u8>) -> Result<(), CephError> {
        let completion = Completion::new()?;
        // SAFETY: live image and completion. The buffer is moved into the
        // `InFlight` below without its heap allocation moving, and that keeps it
        // until the completion is done.
        let ret = unsafe {
            ffi::rbd_aio_write2(
                self.image.raw(),
                offset,
                buffer.len(),
                buffer.as_ptr().cast::<c_char>(),
                completion.0,
                0,
            )
        };
        self.image.check("write image", ret.into())?;
        self.in_flight.push_back(InFlight {
            completion,
            offset,
            buffer,
        });
        Ok(())
    }

    /// Starts reading `len` bytes at `offset` into a new buffer.
    pub fn start_read(&mut self, offset: u64, len: usize) -> Result<(), CephError> {
        let completion = Completion::new()?;
        let mut buffer = vec![0u8; len];
        // SAFETY: as in `start_write`; librbd writes at most `len` bytes.
        let ret = unsafe {
            ffi::rbd_aio_read2(
                self.image.raw(),
                offset,
                len,
                buffer.as_mut_ptr().cast::<c_char>(),
                completion.0,
                ffi::OP_FLAG_FADVISE_SEQUENTIAL,
            )
        };
        self.image.check("read image", ret.into())?;
        self.in_flight.push_back(InFlight {
            completion,
            offset,
            buffer,
        });
        Ok(())
    }

    /// Waits for the oldest write; None if nothing is in flight. Its buffer comes
    /// back for reuse.
    pub fn finish_write(&mut self) -> Option<Result<Finished, CephError>> {
        let oldest = self.in_flight.pop_front()?;
        let offset = oldest.offset;
        let (result, buffer) = oldest.finish(|ret| self.image.check("write image", ret));
        Some(result.map(|_| Finished { offset, buffer }))
    }

    /// Waits for the oldest read; None if nothing is in flight. Its bytes, cut to
    /// what was read (less than asked only at the end of the image).
    pub fn finish_read(&mut self) -> Option<Result<Finished, CephError>> {
        let oldest = self.in_flight.pop_front()?;
        let offset = oldest.offset;
        let (result, mut buffer) = oldest.finish(|ret| self.image.check("read image", ret));
        Some(result.map(|read| {
            buffer.truncate(read);
            Finished { offset, buffer }
        }))
    }
}
