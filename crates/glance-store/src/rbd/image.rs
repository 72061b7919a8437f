//! RBD images: pool-level calls (create, remove, rename, trash) and an open
//! image (`rbd_image_t`) that is closed when dropped. Every call blocks.

use std::os::raw::c_int;
use std::sync::Arc;

use super::cluster::{c_name, IoCtx};
use super::errno::{CephError, ERANGE};
use super::ffi;

impl IoCtx {
    fn check(&self, op: &'static str, ret: c_int) -> Result<(), CephError> {
        self.cluster().check(op, ret.into()).map(drop)
    }

    /// Creates a format 2 image of `size` bytes with objects of `2^order` bytes.
    pub fn create_image(
        &self,
        name: &str,
        size: u64,
        features: u64,
        order: u8,
    ) -> Result<(), CephError> {
        let name = c_name(name)?;
        let mut order = c_int::from(order);
        // SAFETY: live ioctx, C string, valid out pointer.
        let ret =
            unsafe { ffi::rbd_create2(self.raw(), name.as_ptr(), size, features, &mut order) };
        self.check("create image", ret)
    }

    /// Removes an image without snapshots (`ENOTEMPTY` otherwise, `EBUSY` while
    /// another client has it open).
    pub fn remove_image(&self, name: &str) -> Result<(), CephError> {
        let name = c_name(name)?;
        // SAFETY: live ioctx and C string.
        let ret = unsafe { ffi::rbd_remove(self.raw(), name.as_ptr()) };
        self.check("remove image", ret)
    }

    /// Renames an image within the pool; `EEXIST` if `to` exists.
    pub fn rename_image(&self, from: &str, to: &str) -> Result<(), CephError> {
        let (from, to) = (c_name(from)?, c_name(to)?);
        // SAFETY: live ioctx and C strings.
        let ret = unsafe { ffi::rbd_rename(self.raw(), from.as_ptr(), to.as_ptr()) };
        self.check("rename image", ret)
    }

    /// Moves an image to the pool's trash, to be purged once nothing depends on it.
    pub fn trash_image(&self, name: &str) -> Result<(), CephError> {
        let name = c_name(name)?;
        // SAFETY: live ioctx and C string.
        let ret = unsafe { ffi::rbd_trash_move(self.raw(), name.as_ptr(), 0) };
        self.check("move image to trash", ret)
    }

    /// Opens `name`, at snapshot `snap` if given (snapshots are read-only).
    pub fn open_image(
        self: &Arc<Self>,
        name: &str,
        snap: Option<&str>,
        read_only: bool,
    ) -> Result<Image, CephError> {
        let name = c_name(name)?;
        let snap = snap.map(c_name).transpose()?;
        let snap_ptr = snap.as_ref().map_or(std::ptr::null(), |s| s.as_ptr());
        let mut raw: ffi::ImageT = std::ptr::null_mut();
        // SAFETY: live ioctx, C strings (or NULL for the head), valid out pointer.
        let ret = unsafe {
            if read_only {
                ffi::rbd_open_read_only(self.raw(), name.as_ptr(), &mut raw, snap_ptr)
            } else {
                ffi::rbd_open(self.raw(), name.as_ptr(), &mut raw, snap_ptr)
            }
        };
        self.check("open image", ret)?;
        Ok(Image {
            raw,
            io: Arc::clone(self),
        })
    }
}

/// An open image. Keeps its pool handle alive; closed on drop.
pub struct Image {
    raw: ffi::ImageT,
    io: Arc<IoCtx>,
}

// SAFETY: an image handle is used by one thread at a time (`&mut self` for every
// call that does I/O); moving it between threads is fine.
unsafe impl Send for Image {}

impl Drop for Image {
    fn drop(&mut self) {
        // SAFETY: opened by rbd_open*, closed exactly once. A failed close (a flush
        // error) leaves nothing to retry: the handle is gone either way.
        let ret = unsafe { ffi::rbd_close(self.raw) };
        if ret < 0 {
            tracing::warn!(error = %CephError::new("close image", ret.into()), "rbd close");
        }
    }
}

impl Image {
    pub(super) fn check(&self, op: &'static str, ret: i64) -> Result<i64, CephError> {
        self.io.cluster().check(op, ret)
    }

    /// The handle, for the asynchronous calls of `aio`.
    pub(super) fn raw(&self) -> ffi::ImageT {
        self.raw
    }

    pub fn size(&self) -> Result<u64, CephError> {
        let mut size = 0u64;
        // SAFETY: live image, valid out pointer.
        let ret = unsafe { ffi::rbd_get_size(self.raw, &mut size) };
        self.check("read image size", ret.into())?;
        Ok(size)
    }

    pub fn resize(&mut self, size: u64) -> Result<(), CephError> {
        // SAFETY: live image.
        let ret = unsafe { ffi::rbd_resize(self.raw, size) };
        self.check("resize image", ret.into()).map(drop)
    }

    /// Makes every write so far durable (they are with the default writethrough
    /// cache, but an operator may have enabled writeback).
    pub fn flush(&mut self) -> Result<(), CephError> {
        // SAFETY: live image.
        let ret = unsafe { ffi::rbd_flush(self.raw) };
        self.check("flush image", ret.into()).map(drop)
    }

    pub fn snap_exists(&self, snap: &str) -> Result<bool, CephError> {
        let snap = c_name(snap)?;
        let mut exists = false;
        // SAFETY: live image, C string, valid out pointer.
        let ret = unsafe { ffi::rbd_snap_exists(self.raw, snap.as_ptr(), &mut exists) };
        self.check("look up snapshot", ret.into())?;
        Ok(exists)
    }

    pub fn snap_create(&mut self, snap: &str) -> Result<(), CephError> {
        let snap = c_name(snap)?;
        // SAFETY: live image and C string.
        let ret = unsafe { ffi::rbd_snap_create(self.raw, snap.as_ptr()) };
        self.check("create snapshot", ret.into()).map(drop)
    }

    pub fn snap_protect(&mut self, snap: &str) -> Result<(), CephError> {
        let snap = c_name(snap)?;
        // SAFETY: live image and C string.
        let ret = unsafe { ffi::rbd_snap_protect(self.raw, snap.as_ptr()) };
        self.check("protect snapshot", ret.into()).map(drop)
    }

    /// `EBUSY` while the snapshot has clones; `EINVAL` if it is not protected.
    pub fn snap_unprotect(&mut self, snap: &str) -> Result<(), CephError> {
        let snap = c_name(snap)?;
        // SAFETY: live image and C string.
        let ret = unsafe { ffi::rbd_snap_unprotect(self.raw, snap.as_ptr()) };
        self.check("unprotect snapshot", ret.into()).map(drop)
    }

    pub fn snap_is_protected(&self, snap: &str) -> Result<bool, CephError> {
        let snap = c_name(snap)?;
        let mut protected: c_int = 0;
        // SAFETY: live image, C string, valid out pointer.
        let ret = unsafe { ffi::rbd_snap_is_protected(self.raw, snap.as_ptr(), &mut protected) };
        self.check("read snapshot protection", ret.into())?;
        Ok(protected != 0)
    }

    pub fn snap_remove(&mut self, snap: &str) -> Result<(), CephError> {
        let snap = c_name(snap)?;
        // SAFETY: live image and C string.
        let ret = unsafe { ffi::rbd_snap_remove(self.raw, snap.as_ptr()) };
        self.check("remove snapshot", ret.into()).map(drop)
    }

    /// How many clones the snapshot this image is open at has (trashed clones
    /// included: they still depend on it). Asks with room for none, so librbd only
    /// reports the count and nothing has to be freed.
    pub fn clone_count(&self) -> Result<usize, CephError> {
        let mut max: usize = 0;
        // SAFETY: live image; with `max` 0 librbd writes nothing through the NULL array.
        let ret = unsafe { ffi::rbd_list_children3(self.raw, std::ptr::null_mut(), &mut max) };
        match self.check("list clones", ret.into()) {
            Ok(_) => Ok(0),
            Err(err) if err.errno == ERANGE => Ok(max.max(1)),
            Err(err) => Err(err),
        }
    }

    /// How many clients have the image open for writing (they watch its header).
    /// Asks with room for none, as `clone_count`.
    pub fn watcher_count(&self) -> Result<usize, CephError> {
        let mut max: usize = 0;
        // SAFETY: live image; with `max` 0 librbd writes nothing through the NULL array.
        let ret = unsafe { ffi::rbd_watchers_list(self.raw, std::ptr::null_mut(), &mut max) };
        match self.check("list watchers", ret.into()) {
            Ok(_) => Ok(0),
            Err(err) if err.errno == ERANGE => Ok(max.max(1)),
            Err(err) => Err(err),
        }
    }
}
