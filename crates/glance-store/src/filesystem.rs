//! The `file` store: one file per image, `<datadir>/<image_id>`, with locations written
//! exactly as upstream glance_store's filesystem driver writes them
//! (`file:///var/lib/glance/images/<image_id>`), so databases move between the two.

mod writer;

use std::fs::File;
use std::io::ErrorKind;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::stream::{self, StreamExt};

use crate::{
    ByteRange, ObjectReader, Store, StoreCaller, StoreError, StoreInfo, StoreWriter, UploadTarget,
};
use writer::FsWriter;

/// Download chunk size: large enough that per-chunk overhead (a blocking-pool hop)
/// is negligible, small enough that a slow client pins little memory.
const READ_CHUNK_BYTES: u64 = 2 << 20;

/// Schemes upstream registers for this driver.
const SCHEMES: [&str; 2] = ["file://", "filesystem://"];

pub struct FilesystemStore {
    info: StoreInfo,
    /// The data directory as configured (made absolute): new locations are written under
    /// this spelling, as upstream does, even when it goes through a symlink.
    datadir: PathBuf,
    /// The same directory with symlinks resolved: every object we touch must resolve
    /// to a path under it.
    real_datadir: PathBuf,
}

impl FilesystemStore {
    /// Opens the store, creating `datadir` if needed.
    pub fn new(info: StoreInfo, datadir: PathBuf) -> Result<Self, StoreError> {
        // `components()` drops `.` and repeated or trailing slashes, so the configured
        // `/var/lib/glance/images/` yields `file:///var/lib/glance/images/<id>`.
        let configured: PathBuf = std::path::absolute(&datadir)?.components().collect();
        std::fs::create_dir_all(&configured).map_err(write_error)?;
        let real_datadir = std::fs::canonicalize(&configured)?;
        // Locations we write must pass our own `..` check.
        let datadir = if configured.components().any(|c| c == Component::ParentDir) {
            real_datadir.clone()
        } else {
            configured
        };
        if datadir.to_str().is_none() {
            return Err(StoreError::BadLocation(format!(
                "data directory {} is not valid UTF-8",
                datadir.display()
            )));
        }
        Ok(Self {
            info,
            datadir,
            real_datadir,
        })
    }

    /// The data directory locations are written under.
    pub fn datadir(&self) -> &Path {
        &self.datadir
    }

    /// The location URI of `image_id`'s data in this store.
    pub fn location_for(&self, image_id: &str) -> String {
        format!("file://{}", self.datadir.join(image_id).display())
    }

    /// Lexical checks only (no I/O): the scheme is ours, the path is absolute, has no
    /// `..`, and names one file directly in the data directory. Returns that file's
    /// path under the real data directory.
    fn object_path(&self, location: &str) -> Result<PathBuf, StoreError> {
        let bad = |why: &str| StoreError::BadLocation(format!("{location}: {why}"));
        let raw = SCHEMES
            .iter()
            .find_map(|scheme| location.strip_prefix(scheme))
            .ok_or_else(|| bad("not a file:// location"))?;
        let path = Path::new(raw);
        if !path.is_absolute() {
            return Err(bad("path is not absolute"));
        }
        if path.components().any(|c| c == Component::ParentDir) {
            return Err(bad("path contains '..'"));
        }
        let path: PathBuf = path.components().collect();
        let rest = path
            .strip_prefix(&self.datadir)
            .or_else(|_| path.strip_prefix(&self.real_datadir))
            .map_err(|_| bad("outside the store's data directory"))?;
        let mut parts = rest.components();
        match (parts.next(), parts.next()) {
            (Some(Component::Normal(name)), None) => {
                let name = name.to_str().ok_or_else(|| bad("name is not UTF-8"))?;
                check_object_name(name).map_err(|_| bad("not an image file name"))?;
                Ok(self.real_datadir.join(name))
            }
            _ => Err(bad("not a file directly in the data directory")),
        }
    }
}

/// Image ids become file names: one plain component, and not starting with `.`, which
/// is reserved for upload temp files.
fn check_object_name(name: &str) -> Result<(), StoreError> {
    let ok = !name.is_empty() && !name.starts_with('.') && !name.contains(['/', '\0']);
    if ok {
        Ok(())
    } else {
        Err(StoreError::BadLocation(format!(
            "invalid image id {name:?}"
        )))
    }
}

/// Follows symlinks from `path` and insists the result is still under `real_datadir`,
/// so a link planted in the data directory cannot expose or remove other files.
/// Returns the resolved path, which is what gets opened (closing the window in which
/// the link could be swapped between check and use).
fn resolve_inside(path: &Path, real_datadir: &Path, location: &str) -> Result<PathBuf, StoreError> {
    let real = std::fs::canonicalize(path).map_err(|e| read_error(e, location))?;
    if real.starts_with(real_datadir) && real != real_datadir {
        Ok(real)
    } else {
        Err(StoreError::BadLocation(format!(
            "{location}: resolves outside the store's data directory"
        )))
    }
}

/// Opens a regular file for reading, returning it with its size.
fn open_regular(
    path: &Path,
    real_datadir: &Path,
    location: &str,
) -> Result<(File, u64), StoreError> {
    let real = resolve_inside(path, real_datadir, location)?;
    let file = File::open(&real).map_err(|e| read_error(e, location))?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(StoreError::BadLocation(format!(
            "{location}: not a regular file"
        )));
    }
    Ok((file, meta.len()))
}

/// Removes an upload's temp file if `begin_upload` is dropped while the file is
/// being created. Setting `abandoned` before unlinking means either this unlink
/// finds the file, or the creating closure sees the flag and removes it itself.
struct TempFileGuard {
    path: PathBuf,
    abandoned: Arc<AtomicBool>,
    armed: bool,
}

impl TempFileGuard {
    fn new(path: PathBuf) -> Self {
        TempFileGuard {
            path,
            abandoned: Arc::new(AtomicBool::new(false)),
            armed: true,
        }
    }

    fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for TempFileGuard {
    fn drop(&mut self) {
        if self.armed {
            self.abandoned.store(true, Ordering::SeqCst);
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Runs blocking filesystem calls off the async executor.
async fn blocking<T, F>(f: F) -> Result<T, StoreError>
where
    F: FnOnce() -> Result<T, StoreError> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StoreError::Io(std::io::Error::other(e)))?
}

#[async_trait]
impl Store for FilesystemStore {
    fn info(&self) -> &StoreInfo {
        &self.info
    }

    /// As upstream's file store shows them (its default chunk size; no thin
    /// provisioning).
    fn properties(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut map = serde_json::Map::new();
        map.insert("data_dir".into(), self.datadir.display().to_string().into());
        map.insert("chunk_size".into(), 65536.into());
        map.insert("thin_provisioning".into(), false.into());
        map
    }

    async fn begin_upload(
        &self,
        target: &UploadTarget<'_>,
    ) -> Result<Box<dyn StoreWriter>, StoreError> {
        let image_id = target.image_id;
        check_object_name(image_id)?;
        let location = self.location_for(image_id);
        let final_path = self.real_datadir.join(image_id);
        // Same directory as the final name so the commit is a rename, never a copy.
        let temp_path = self.real_datadir.join(format!(
            ".{image_id}.{}.partial",
            uuid::Uuid::new_v4().simple()
        ));
        let (final_check, temp_create) = (final_path.clone(), temp_path.clone());
        let duplicate = location.clone();
        // The create runs on the blocking pool, which finishes it even when this
        // future is dropped (the client went away). The guard then removes the
        // temp file, whichever of the two comes last.
        let guard = TempFileGuard::new(temp_path.clone());
        let abandoned = guard.abandoned.clone();
        let file = blocking(move || {
            // Upstream refuses early too; commit re-checks atomically.
            if final_check.symlink_metadata().is_ok() {
                return Err(StoreError::Duplicate(duplicate));
            }
            let file = File::options()
                .write(true)
                .create_new(true)
                .open(&temp_create)
                .map_err(write_error)?;
            if abandoned.load(Ordering::SeqCst) {
                let _ = std::fs::remove_file(&temp_create);
            }
            Ok(file)
        })
        .await?;
        guard.disarm();
        Ok(Box::new(FsWriter::start(
            file, temp_path, final_path, location,
        )?))
    }

    async fn open(
        &self,
        location: &str,
        range: Option<ByteRange>,
        _caller: &StoreCaller,
    ) -> Result<ObjectReader, StoreError> {
        let path = self.object_path(location)?;
        let (real_datadir, loc) = (self.real_datadir.clone(), location.to_owned());
        let (file, total_size) = blocking(move || open_regular(&path, &real_datadir, &loc)).await?;
        let (start, end) = match range {
            None => (0, total_size),
            Some(r) if r.start <= r.end && r.end < total_size => (r.start, r.end + 1),
            Some(r) => {
                return Err(StoreError::Io(std::io::Error::new(
                    ErrorKind::InvalidInput,
                    format!(
                        "range {}-{} outside an object of {total_size} bytes",
                        r.start, r.end
                    ),
                )))
            }
        };
        let stream = if end > start {
            mapped_stream(&file, start, end)?.boxed()
        } else {
            stream::empty().boxed()
        };
        Ok(ObjectReader { total_size, stream })
    }

    async fn size(&self, location: &str, _caller: &StoreCaller) -> Result<u64, StoreError> {
        let path = self.object_path(location)?;
        let (real_datadir, loc) = (self.real_datadir.clone(), location.to_owned());
        blocking(move || open_regular(&path, &real_datadir, &loc).map(|(_, size)| size)).await
    }

    async fn delete(&self, location: &str, _caller: &StoreCaller) -> Result<(), StoreError> {
        let path = self.object_path(location)?;
        let (real_datadir, loc) = (self.real_datadir.clone(), location.to_owned());
        blocking(move || {
            path.symlink_metadata().map_err(|e| read_error(e, &loc))?;
            // Refuse a name that leads outside, even though only the name itself would be
            // removed: such a location was never written by us.
            resolve_inside(&path, &real_datadir, &loc)?;
            std::fs::remove_file(&path).map_err(|e| match e.kind() {
                ErrorKind::NotFound => StoreError::NotFound(loc.clone()),
                _ => write_error(e),
            })
        })
        .await
    }

    fn owns(&self, location: &str) -> bool {
        self.object_path(location).is_ok()
    }
}

/// Streams `[start, end)` of `file` from a read-only memory map in `READ_CHUNK_BYTES`
/// pieces. Each piece is a view of the page cache, so the only copy of the data is the
/// kernel's into the socket (no read into a buffer first). Before a piece is handed
/// over, its pages are made resident on the blocking pool (`MADV_POPULATE_READ`), so
/// the async thread that writes it to the socket never waits for the disk, and a file
/// that shrank is reported as an error instead of faulting.
///
/// Committed objects are never written again (uploads go to a temp name and are linked
/// into place), which is what makes mapping them sound; see decision 8.
fn mapped_stream(
    file: &File,
    start: u64,
    end: u64,
) -> Result<
    impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static,
    StoreError,
> {
    // SAFETY: the mapping is read-only and the file is a committed object of this store,
    // which nothing truncates or rewrites (see above).
    let map = Arc::new(unsafe { memmap2::Mmap::map(file) }.map_err(StoreError::Io)?);
    let _ = map.advise(memmap2::Advice::Sequential);
    Ok(stream::unfold(start, move |pos| {
        let map = Arc::clone(&map);
        async move {
            if pos >= end {
                return None;
            }
            let len = (end - pos).min(READ_CHUNK_BYTES) as usize;
            let offset = pos as usize;
            let resident = {
                let map = Arc::clone(&map);
                tokio::task::spawn_blocking(move || populate(&map, offset, len))
                    .await
                    .unwrap_or_else(|e| Err(std::io::Error::other(e)))
            };
            match resident {
                Ok(()) => {
                    let chunk = Bytes::from_owner(MappedChunk { map, offset, len });
                    Some((Ok(chunk), pos + len as u64))
                }
                // Report once, then end the stream.
                Err(err) => Some((Err(err), end)),
            }
        }
    }))
}

/// Faults a range of the map in (reading from disk as needed) on the calling thread.
fn populate(map: &memmap2::Mmap, offset: usize, len: usize) -> std::io::Result<()> {
    match map.advise_range(memmap2::Advice::PopulateRead, offset, len) {
        Ok(()) => Ok(()),
        // Kernels before 5.14 lack MADV_POPULATE_READ: touch one byte per page instead.
        Err(e) if e.raw_os_error() == Some(22) => {
            let bytes = &map[offset..offset + len];
            let mut sum = 0u8;
            for i in (0..len).step_by(4096) {
                sum = sum.wrapping_add(bytes[i]);
            }
            std::hint::black_box(sum);
            Ok(())
        }
        Err(e) => Err(std::io::Error::new(
            ErrorKind::UnexpectedEof,
            format!("image file could not be read (did it shrink?): {e}"),
        )),
    }
}

/// One chunk of a mapped object; keeps the mapping alive while the chunk is in flight.
struct MappedChunk {
    map: Arc<memmap2::Mmap>,
    offset: usize,
    len: usize,
}

impl AsRef<[u8]> for MappedChunk {
    fn as_ref(&self) -> &[u8] {
        &self.map[self.offset..self.offset + self.len]
    }
}

impl Drop for MappedChunk {
    /// Once a chunk has been sent, drop its pages from this process's page tables so
    /// that memory stays flat whatever the image size (the data stays in the page
    /// cache for other readers).
    fn drop(&mut self) {
        // SAFETY: the mapping is a read-only view of a file; after MADV_DONTNEED a
        // later access (say, by a chunk sharing the boundary page) faults the same bytes
        // back in from the file.
        let _ = unsafe {
            self.map.unchecked_advise_range(
                memmap2::UncheckedAdvice::DontNeed,
                self.offset,
                self.len,
            )
        };
    }
}

// errno values shared by Linux and the BSDs (EDQUOT differs, so it is per target).
const EPERM: i32 = 1;
const EFBIG: i32 = 27;
const ENOSPC: i32 = 28;
const EROFS: i32 = 30;
#[cfg(target_os = "linux")]
const EDQUOT: i32 = 122;
#[cfg(not(target_os = "linux"))]
const EDQUOT: i32 = 69;
#[cfg(target_os = "linux")]
const EOPNOTSUPP: i32 = 95;
#[cfg(not(target_os = "linux"))]
const EOPNOTSUPP: i32 = 45;

/// Maps a failed write the way upstream does: out of space → 413, not allowed → 503.
/// (Raw errno rather than the newer `ErrorKind` variants, which postdate our MSRV.)
fn write_error(err: std::io::Error) -> StoreError {
    match err.raw_os_error() {
        Some(ENOSPC | EFBIG | EDQUOT) => StoreError::StorageFull(err.to_string()),
        Some(EROFS) => StoreError::WriteDenied(err.to_string()),
        _ if err.kind() == ErrorKind::PermissionDenied => StoreError::WriteDenied(err.to_string()),
        _ => StoreError::Io(err),
    }
}

fn read_error(err: std::io::Error, location: &str) -> StoreError {
    match err.kind() {
        ErrorKind::NotFound => StoreError::NotFound(location.to_owned()),
        _ => StoreError::Io(err),
    }
}

/// `link(2)` fails this way where the filesystem has no hard links.
fn is_no_hardlink_support(err: &std::io::Error) -> bool {
    matches!(err.raw_os_error(), Some(EPERM | EOPNOTSUPP)) || err.kind() == ErrorKind::Unsupported
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_errors_map_like_upstream() {
        let raw = std::io::Error::from_raw_os_error;
        assert!(matches!(
            write_error(raw(ENOSPC)),
            StoreError::StorageFull(_)
        ));
        assert!(matches!(
            write_error(raw(EFBIG)),
            StoreError::StorageFull(_)
        ));
        assert!(matches!(
            write_error(raw(EDQUOT)),
            StoreError::StorageFull(_)
        ));
        assert!(matches!(
            write_error(raw(EROFS)),
            StoreError::WriteDenied(_)
        ));
        assert!(matches!(write_error(raw(13)), StoreError::WriteDenied(_))); // EACCES
        assert!(matches!(write_error(raw(5)), StoreError::Io(_))); // EIO
    }
}
