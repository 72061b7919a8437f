//! The filesystem upload: a temp file next to the final name, written by one dedicated
//! thread, made durable and renamed into place only on commit.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};

use super::{is_no_hardlink_support, write_error};
use crate::{StoreError, StoreWriter};

/// Chunks queued in front of the writing thread; bounds memory per upload while letting
/// the request body be read while the previous chunks are written.
const WRITE_QUEUE_DEPTH: usize = 8;
/// Request bodies arrive in small frames (16–64 KiB); coalescing them into large
/// `write(2)` calls is what makes page-cache writes fast.
const WRITE_BUFFER_BYTES: usize = 1 << 20;

enum Msg {
    Data(Bytes),
    Commit,
}

type Outcome = Result<(), StoreError>;

pub(super) struct FsWriter {
    tx: Option<mpsc::Sender<Msg>>,
    /// The thread's single report: `Ok` once the object is durable under its final name,
    /// or why it stopped. Taken when read.
    done: Option<oneshot::Receiver<Outcome>>,
    temp_path: PathBuf,
    location: String,
    /// True once commit/abort has run to the end or the thread has cleaned up after a
    /// failure, so `Drop` has nothing left to remove.
    settled: bool,
}

impl FsWriter {
    /// Takes over `file` (already created at `temp_path`) and starts its writing thread.
    pub(super) fn start(
        file: File,
        temp_path: PathBuf,
        final_path: PathBuf,
        location: String,
    ) -> Result<Self, StoreError> {
        let (tx, rx) = mpsc::channel(WRITE_QUEUE_DEPTH);
        let (done_tx, done) = oneshot::channel();
        let job = WriteJob {
            temp_path: temp_path.clone(),
            final_path,
        };
        let file = BufWriter::with_capacity(WRITE_BUFFER_BYTES, file);
        // A thread of its own rather than the blocking pool: it lives as long as the
        // upload, and a slow client must not pin a pool thread other tasks need.
        let spawned = std::thread::Builder::new()
            .name("glance-fs-write".into())
            .spawn(move || job.run(file, rx, done_tx));
        if let Err(err) = spawned {
            let _ = fs::remove_file(&temp_path);
            return Err(StoreError::Io(err));
        }
        Ok(Self {
            tx: Some(tx),
            done: Some(done),
            temp_path,
            location,
            settled: false,
        })
    }

    /// Waits for the writing thread's report.
    async fn outcome(&mut self) -> Outcome {
        match self.done.take() {
            Some(rx) => rx
                .await
                .unwrap_or_else(|_| Err(io_other("filesystem writer thread panicked"))),
            None => Err(io_other("the upload has already finished")),
        }
    }
}

#[async_trait]
impl StoreWriter for FsWriter {
    async fn write(&mut self, chunk: Bytes) -> Result<(), StoreError> {
        if chunk.is_empty() {
            return Ok(());
        }
        let Some(tx) = &self.tx else {
            return Err(io_other("the upload has already finished"));
        };
        if tx.send(Msg::Data(chunk)).await.is_err() {
            // The thread only hangs up after a failed write, and it removes the temp file
            // before reporting; its report says why.
            self.tx = None;
            let err = self.outcome().await.err();
            self.settled = true;
            return Err(err.unwrap_or_else(|| io_other("filesystem writer stopped")));
        }
        Ok(())
    }

    async fn commit(mut self: Box<Self>) -> Result<String, StoreError> {
        let tx = self
            .tx
            .take()
            .ok_or_else(|| io_other("the upload has already finished"))?;
        // If the thread already stopped, the send fails and `outcome` carries its error.
        let _ = tx.send(Msg::Commit).await;
        drop(tx);
        let result = self.outcome().await;
        self.settled = true;
        result.map(|()| self.location.clone())
    }

    async fn abort(mut self: Box<Self>) {
        // Closing the queue without `Commit` tells the thread to discard; it removes the
        // temp file before reporting, so nothing is left when this returns.
        self.tx = None;
        let _ = self.outcome().await;
        self.settled = true;
    }
}

impl Drop for FsWriter {
    fn drop(&mut self) {
        if !self.settled {
            // Dropped midway (request died, or a commit/abort future was cancelled). The
            // thread also cleans up once it sees the queue close, but unlinking the name
            // here makes "nothing left behind" hold as soon as the drop returns. This is
            // cheap: the thread still holds the file open, so no blocks are freed here.
            let _ = fs::remove_file(&self.temp_path);
        }
    }
}

struct WriteJob {
    temp_path: PathBuf,
    final_path: PathBuf,
}

impl WriteJob {
    fn run(
        self,
        mut file: BufWriter<File>,
        mut rx: mpsc::Receiver<Msg>,
        done: oneshot::Sender<Outcome>,
    ) {
        let received = loop {
            match rx.blocking_recv() {
                Some(Msg::Data(chunk)) => {
                    if let Err(err) = file.write_all(&chunk) {
                        break Err(write_error(err));
                    }
                }
                Some(Msg::Commit) => break Ok(()),
                // Every sender is gone without `Commit`: abort or drop.
                None => break Err(StoreError::Source("upload abandoned".into())),
            }
        };
        // Hang up before cleaning so a writer still sending learns of a failure now.
        drop(rx);
        let result = match received {
            Ok(()) => self.commit(file),
            Err(err) => {
                // Discard the buffered tail instead of flushing it into a file about to go.
                drop(file.into_parts());
                Err(err)
            }
        };
        if result.is_err() {
            remove_quietly(&self.temp_path);
        }
        let committed = result.is_ok();
        if done.send(result).is_err() && committed {
            // The commit future was dropped before it could learn the location, so no
            // one will ever record it: undo rather than leave an orphaned object.
            remove_quietly(&self.final_path);
        }
    }

    /// fsync the data, move it under its final name without replacing anything, fsync
    /// the directory so the name survives a crash.
    fn commit(&self, file: BufWriter<File>) -> Outcome {
        let file = file.into_inner().map_err(|e| write_error(e.into_error()))?;
        file.sync_all().map_err(write_error)?;
        drop(file);
        publish(&self.temp_path, &self.final_path)?;
        let dir = self.final_path.parent().unwrap_or(Path::new("/"));
        if let Err(err) = sync_dir(dir) {
            // The name may not survive a crash, and the caller will treat the upload as
            // failed, so do not leave the object behind.
            remove_quietly(&self.final_path);
            return Err(write_error(err));
        }
        Ok(())
    }
}

/// Moves `temp` to `dest` unless `dest` exists. `rename(2)` silently replaces, so the
/// no-replace move is a hard link (fails with EEXIST atomically) plus an unlink; on
/// filesystems without hard links, a checked rename is the best available.
fn publish(temp: &Path, dest: &Path) -> Outcome {
    match fs::hard_link(temp, dest) {
        Ok(()) => {
            if let Err(err) = fs::remove_file(temp) {
                // The object is complete under its final name; only the temp name lingers.
                tracing::warn!(path = %temp.display(), error = %err, "cannot remove upload temp file");
            }
            Ok(())
        }
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
            Err(StoreError::Duplicate(dest.display().to_string()))
        }
        Err(err) if is_no_hardlink_support(&err) => {
            if dest.symlink_metadata().is_ok() {
                return Err(StoreError::Duplicate(dest.display().to_string()));
            }
            fs::rename(temp, dest).map_err(write_error)
        }
        Err(err) => Err(write_error(err)),
    }
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    match File::open(dir)?.sync_all() {
        // Some filesystems cannot fsync a directory; there is nothing more to do there.
        Err(err) if err.kind() == std::io::ErrorKind::InvalidInput => Ok(()),
        other => other,
    }
}

fn remove_quietly(path: &Path) {
    match fs::remove_file(path) {
        Ok(()) => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => {
            tracing::warn!(path = %path.display(), error = %err, "cannot remove upload file")
        }
    }
}

fn io_other(msg: &str) -> StoreError {
    StoreError::Io(std::io::Error::other(msg.to_owned()))
}
