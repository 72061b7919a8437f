//! Hand-written declarations of the few librados / librbd C functions the driver
//! calls (from `rados/librados.h` and `rbd/librbd.h`, Ceph 16). Every function
//! returns a negative errno on failure unless noted.

use std::os::raw::{c_char, c_int, c_void};

/// `rados_t`: a cluster handle (thread-safe once connected).
pub type RadosT = *mut c_void;
/// `rados_ioctx_t`: a pool context.
pub type IoCtxT = *mut c_void;
/// `rbd_image_t`: an open image (one thread at a time).
pub type ImageT = *mut c_void;
/// `rbd_completion_t`: the handle of one asynchronous operation.
pub type CompletionT = *mut c_void;
/// `rbd_callback_t`; the driver passes none and waits on the completion instead.
pub type CallbackT = Option<unsafe extern "C" fn(CompletionT, *mut c_void)>;

/// `RBD_FEATURE_*` bits (`rbd/features.h`), for reading `rbd_default_features`
/// when it is spelled as names.
pub const RBD_FEATURE_LAYERING: u64 = 1 << 0;
pub const RBD_FEATURE_NAMES: [(&str, u64); 8] = [
    ("layering", RBD_FEATURE_LAYERING),
    ("striping", 1 << 1),
    ("exclusive-lock", 1 << 2),
    ("object-map", 1 << 3),
    ("fast-diff", 1 << 4),
    ("deep-flatten", 1 << 5),
    ("journaling", 1 << 6),
    ("data-pool", 1 << 7),
];

/// `LIBRADOS_OP_FLAG_FADVISE_SEQUENTIAL`: downloads read front to back.
pub const OP_FLAG_FADVISE_SEQUENTIAL: c_int = 0x8;

/// `rbd_linked_image_spec_t`, only ever handled through pointers we do not fill.
#[repr(C)]
pub struct LinkedImageSpec {
    _private: [u8; 0],
}

/// `rbd_image_watcher_t`, likewise.
#[repr(C)]
pub struct ImageWatcher {
    _private: [u8; 0],
}

#[link(name = "rados")]
extern "C" {
    pub fn rados_create(cluster: *mut RadosT, id: *const c_char) -> c_int;
    pub fn rados_conf_read_file(cluster: RadosT, path: *const c_char) -> c_int;
    pub fn rados_conf_set(cluster: RadosT, option: *const c_char, value: *const c_char) -> c_int;
    pub fn rados_conf_get(
        cluster: RadosT,
        option: *const c_char,
        buf: *mut c_char,
        len: usize,
    ) -> c_int;
    pub fn rados_connect(cluster: RadosT) -> c_int;
    pub fn rados_shutdown(cluster: RadosT);
    /// Writes the fsid as a NUL-terminated string; returns its length.
    pub fn rados_cluster_fsid(cluster: RadosT, buf: *mut c_char, len: usize) -> c_int;
    pub fn rados_ioctx_create(cluster: RadosT, pool: *const c_char, io: *mut IoCtxT) -> c_int;
    pub fn rados_ioctx_destroy(io: IoCtxT);
}

#[link(name = "rbd")]
extern "C" {
    pub fn rbd_create2(
        io: IoCtxT,
        name: *const c_char,
        size: u64,
        features: u64,
        order: *mut c_int,
    ) -> c_int;
    pub fn rbd_remove(io: IoCtxT, name: *const c_char) -> c_int;
    pub fn rbd_rename(io: IoCtxT, src: *const c_char, dst: *const c_char) -> c_int;
    pub fn rbd_trash_move(io: IoCtxT, name: *const c_char, delay: u64) -> c_int;

    pub fn rbd_open(
        io: IoCtxT,
        name: *const c_char,
        image: *mut ImageT,
        snap: *const c_char,
    ) -> c_int;
    pub fn rbd_open_read_only(
        io: IoCtxT,
        name: *const c_char,
        image: *mut ImageT,
        snap: *const c_char,
    ) -> c_int;
    pub fn rbd_close(image: ImageT) -> c_int;

    pub fn rbd_get_size(image: ImageT, size: *mut u64) -> c_int;
    pub fn rbd_resize(image: ImageT, size: u64) -> c_int;
    pub fn rbd_flush(image: ImageT) -> c_int;

    /// The asynchronous calls return at once; the buffer must stay valid, and the
    /// completion unreleased, until `rbd_aio_wait_for_complete` has returned.
    pub fn rbd_aio_create_completion(
        cb_arg: *mut c_void,
        complete_cb: CallbackT,
        completion: *mut CompletionT,
    ) -> c_int;
    pub fn rbd_aio_write2(
        image: ImageT,
        ofs: u64,
        len: usize,
        buf: *const c_char,
        completion: CompletionT,
        op_flags: c_int,
    ) -> c_int;
    pub fn rbd_aio_read2(
        image: ImageT,
        ofs: u64,
        len: usize,
        buf: *mut c_char,
        completion: CompletionT,
        op_flags: c_int,
    ) -> c_int;
    pub fn rbd_aio_wait_for_complete(completion: CompletionT) -> c_int;
    /// Bytes read for a read, 0 for a write, or a negative errno.
    pub fn rbd_aio_get_return_value(completion: CompletionT) -> isize;
    pub fn rbd_aio_release(completion: CompletionT);

    pub fn rbd_snap_exists(image: ImageT, name: *const c_char, exists: *mut bool) -> c_int;
    pub fn rbd_snap_create(image: ImageT, name: *const c_char) -> c_int;
    pub fn rbd_snap_protect(image: ImageT, name: *const c_char) -> c_int;
    pub fn rbd_snap_unprotect(image: ImageT, name: *const c_char) -> c_int;
    pub fn rbd_snap_is_protected(
        image: ImageT,
        name: *const c_char,
        is_protected: *mut c_int,
    ) -> c_int;
    pub fn rbd_snap_remove(image: ImageT, name: *const c_char) -> c_int;
    /// Lists the clones of the snapshot the image is open at; with too small a
    /// `max` it fails with `-ERANGE` and sets `max` to the number needed.
    /// Lists the clients watching the image (read-only opens do not watch); with
    /// too small a `max` it fails with `-ERANGE` and sets `max` to the number needed.
    pub fn rbd_watchers_list(image: ImageT, watchers: *mut ImageWatcher, max: *mut usize) -> c_int;
    pub fn rbd_list_children3(
        image: ImageT,
        images: *mut LinkedImageSpec,
        max: *mut usize,
    ) -> c_int;
}
