//! The cluster handle (`rados_t`), pool handles (`rados_ioctx_t`), and the one
//! connection a store shares between all its operations.
//!
//! Upstream connects and shuts down around every operation. We connect once per
//! store and keep the handle: a librados cluster handle is thread-safe, and a
//! connect costs monitor round trips, cephx authentication and a set of messenger
//! threads, which would otherwise be paid for every download and every size query.
//! A handle the cluster has blocklisted never recovers, so one that reports
//! `ESHUTDOWN` is dropped and the next operation connects afresh.

use std::ffi::{CStr, CString};
use std::os::raw::c_char;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use super::errno::{CephError, ENOENT, ESHUTDOWN};
use super::ffi;
use crate::StoreError;

/// How to reach the cluster: `rbd_store_user`, `rbd_store_ceph_conf`,
/// `rados_connect_timeout`.
#[derive(Debug, Clone)]
pub struct ConnectSettings {
    /// The cephx id without `client.` (none: librados's default, `admin`).
    pub user: Option<CString>,
    /// None: librados searches its default places (`$CEPH_CONF`, /etc/ceph/ceph.conf, ...).
    pub conf_file: Option<CString>,
    /// Seconds; applied to mon and osd operations and the initial mount.
    pub timeout: Option<u64>,
}

/// A configuration problem found before connecting: (option, reason).
pub type ConfigProblem = (&'static str, String);

/// A `rados_t`, shut down when dropped.
struct Handle(ffi::RadosT);

impl Drop for Handle {
    fn drop(&mut self) {
        // SAFETY: the handle came from rados_create and is shut down exactly once;
        // every ioctx made from it holds an Arc to its Cluster, so none outlives it.
        unsafe { ffi::rados_shutdown(self.0) }
    }
}

impl ConnectSettings {
    /// A handle with the configuration read and the timeouts set, not connected.
    /// Local work only (no network), so it also serves to check the settings at
    /// start-up.
    fn configured(&self) -> Result<Handle, ConfigProblem> {
        let mut raw: ffi::RadosT = std::ptr::null_mut();
        let id = self.user.as_ref().map_or(std::ptr::null(), |u| u.as_ptr());
        // SAFETY: `raw` is a valid out pointer; `id` is NULL or a live C string.
        let ret = unsafe { ffi::rados_create(&mut raw, id) };
        if ret < 0 {
            let err = CephError::new("create cluster handle", ret.into());
            return Err(("rbd_store_user", err.to_string()));
        }
        let handle = Handle(raw);
        let path = self
            .conf_file
            .as_ref()
            .map_or(std::ptr::null(), |p| p.as_ptr());
        // SAFETY: the handle is live; `path` is NULL (default search) or a C string.
        let ret = unsafe { ffi::rados_conf_read_file(handle.0, path) };
        // Without an explicit file, finding none is not fatal: `CEPH_ARGS` may carry
        // everything (the connect reports it otherwise).
        if ret < 0 && (self.conf_file.is_some() || -ret != ENOENT) {
            let err = CephError::new("read the Ceph configuration", ret.into());
            return Err(("rbd_store_ceph_conf", err.to_string()));
        }
        if let Some(seconds) = self.timeout {
            let value = CString::new(seconds.to_string()).unwrap_or_default();
            for option in [
                c"rados_osd_op_timeout",
                c"rados_mon_op_timeout",
                c"client_mount_timeout",
            ] {
                // SAFETY: live handle and C strings.
                let ret = unsafe { ffi::rados_conf_set(handle.0, option.as_ptr(), value.as_ptr()) };
                if ret < 0 {
                    let err = CephError::new("set the connect timeout", ret.into());
                    return Err(("rados_connect_timeout", err.to_string()));
                }
            }
        }
        Ok(handle)
    }

    /// Checks what can be checked without the network (the config file parses).
    pub fn check(&self) -> Result<(), ConfigProblem> {
        self.configured().map(drop)
    }

    fn user_name(&self) -> String {
        match &self.user {
            Some(user) => format!("client.{}", user.to_string_lossy()),
            None => "the default Ceph user".into(),
        }
    }
}

/// A connected cluster handle.
pub struct Cluster {
    handle: Handle,
    fsid: String,
    /// `rbd_default_features` as the cluster configuration gives it.
    default_features: u64,
    /// Set once a call answered `ESHUTDOWN`: this client was blocklisted.
    blocklisted: AtomicBool,
}

// SAFETY: a connected librados cluster handle may be used from any thread at once.
unsafe impl Send for Cluster {}
unsafe impl Sync for Cluster {}

impl Cluster {
    /// Connects (blocking: monitors, authentication).
    fn connect(settings: &ConnectSettings) -> Result<Self, StoreError> {
        let handle = settings
            .configured()
            .map_err(|(option, reason)| StoreError::Backend(format!("{option}: {reason}")))?;
        // SAFETY: a configured, not yet connected handle.
        let ret = unsafe { ffi::rados_connect(handle.0) };
        if ret < 0 {
            let err = CephError::new("connect to the Ceph cluster", ret.into());
            return Err(StoreError::Backend(format!(
                "{err} (as {})",
                settings.user_name()
            )));
        }
        let mut buf = [0 as c_char; 64];
        // SAFETY: connected handle; the buffer and its length match.
        let ret = unsafe { ffi::rados_cluster_fsid(handle.0, buf.as_mut_ptr(), buf.len()) };
        if ret < 0 {
            let err = CephError::new("read the cluster fsid", ret.into());
            return Err(StoreError::Backend(err.to_string()));
        }
        // SAFETY: librados NUL-terminates the fsid inside the buffer.
        let fsid = unsafe { CStr::from_ptr(buf.as_ptr()) }
            .to_string_lossy()
            .into_owned();
        let default_features = conf_get(&handle, c"rbd_default_features")
            .map(|value| parse_features(&value))
            .unwrap_or(ffi::RBD_FEATURE_LAYERING);
        Ok(Cluster {
            handle,
            fsid,
            default_features,
            blocklisted: AtomicBool::new(false),
        })
    }

    pub fn fsid(&self) -> &str {
        &self.fsid
    }

    /// Features new images get: `rbd_default_features`, or layering alone when it
    /// is unset or 0, as upstream's `_create_image` does. Layering is what lets
    /// Nova and Cinder clone the image's snapshot.
    pub fn default_features(&self) -> u64 {
        self.default_features
    }

    /// Turns a C return value into a result, noting a blocklisted client.
    pub fn check(&self, op: &'static str, ret: i64) -> Result<i64, CephError> {
        if ret >= 0 {
            return Ok(ret);
        }
        let err = CephError::new(op, ret);
        if err.errno == ESHUTDOWN {
            self.blocklisted.store(true, Ordering::SeqCst);
        }
        Err(err)
    }

    /// A handle on `pool`.
    pub fn ioctx(self: &Arc<Self>, pool: &str) -> Result<IoCtx, CephError> {
        let name = c_name(pool)?;
        let mut raw: ffi::IoCtxT = std::ptr::null_mut();
        // SAFETY: connected handle, C string, valid out pointer.
        let ret = unsafe { ffi::rados_ioctx_create(self.handle.0, name.as_ptr(), &mut raw) };
        self.check("open pool", ret.into())?;
        Ok(IoCtx {
            raw,
            cluster: Arc::clone(self),
        })
    }
}

/// Reads one configuration value of a connected handle.
fn conf_get(handle: &Handle, option: &CStr) -> Option<String> {
    let mut buf = vec![0 as c_char; 4096];
    // SAFETY: live handle; the buffer and its length match.
    let ret =
        unsafe { ffi::rados_conf_get(handle.0, option.as_ptr(), buf.as_mut_ptr(), buf.len()) };
    if ret < 0 {
        return None;
    }
    // SAFETY: on success the value is NUL-terminated inside the buffer.
    let value = unsafe { CStr::from_ptr(buf.as_ptr()) };
    Some(value.to_string_lossy().into_owned())
}

/// `rbd_default_features` is a number ("61") in librados's view, but accept the
/// names too ("layering,exclusive-lock"); 0 or nothing usable means layering.
fn parse_features(value: &str) -> u64 {
    let value = value.trim();
    let bits = value.parse::<u64>().unwrap_or_else(|_| {
        value
            .split([',', ' '])
            .filter_map(|name| {
                ffi::RBD_FEATURE_NAMES
                    .iter()
                    .find(|(known, _)| *known == name.trim())
                    .map(|(_, bit)| *bit)
            })
            .fold(0, |all, bit| all | bit)
    });
    if bits == 0 {
        ffi::RBD_FEATURE_LAYERING
    } else {
        bits
    }
}

/// A name for the C API; names with NUL bytes do not exist in RBD.
pub fn c_name(name: &str) -> Result<CString, CephError> {
    CString::new(name).map_err(|_| CephError {
        op: "name contains a NUL byte",
        errno: super::errno::EINVAL,
    })
}

/// A pool handle. Keeps its cluster alive.
pub struct IoCtx {
    raw: ffi::IoCtxT,
    cluster: Arc<Cluster>,
}

// SAFETY: librados I/O contexts are thread-safe for the calls made here (no
// snapshot or namespace state is ever changed on one).
unsafe impl Send for IoCtx {}
unsafe impl Sync for IoCtx {}

impl Drop for IoCtx {
    fn drop(&mut self) {
        // SAFETY: created by rados_ioctx_create, destroyed once; images opened on it
        // hold an Arc to it, so none outlives it.
        unsafe { ffi::rados_ioctx_destroy(self.raw) }
    }
}

impl IoCtx {
    pub fn raw(&self) -> ffi::IoCtxT {
        self.raw
    }

    pub fn cluster(&self) -> &Arc<Cluster> {
        &self.cluster
    }
}

/// The connection of one store, made on first use and kept.
pub struct Connection {
    settings: ConnectSettings,
    current: Mutex<Option<Arc<Cluster>>>,
    /// The fsid of the first cluster reached, for `properties()` (which cannot wait
    /// for a connect).
    fsid: OnceLock<String>,
}

impl Connection {
    pub fn new(settings: ConnectSettings) -> Self {
        Connection {
            settings,
            current: Mutex::new(None),
            fsid: OnceLock::new(),
        }
    }

    /// The connected cluster, connecting first if needed. Blocking.
    pub fn cluster(&self) -> Result<Arc<Cluster>, StoreError> {
        // One connect at a time: callers arriving meanwhile wait for its outcome
        // rather than each opening a connection of their own.
        let mut current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(cluster) = current.as_ref() {
            if !cluster.blocklisted.load(Ordering::SeqCst) {
                return Ok(Arc::clone(cluster));
            }
            tracing::warn!("this Ceph client was blocklisted; reconnecting");
            *current = None;
        }
        let cluster = Arc::new(Cluster::connect(&self.settings)?);
        let _ = self.fsid.set(cluster.fsid().to_string());
        *current = Some(Arc::clone(&cluster));
        Ok(cluster)
    }

    pub fn known_fsid(&self) -> Option<&str> {
        self.fsid.get().map(String::as_str)
    }

    /// Connects on a thread of its own so the fsid is known early, without making
    /// start-up wait for the cluster. A failure is only logged: every operation
    /// tries again.
    pub fn warm_up(self: &Arc<Self>) {
        let connection = Arc::clone(self);
        let spawned = std::thread::Builder::new()
            .name("glance-rbd-connect".into())
            .spawn(move || {
                if let Err(err) = connection.cluster() {
                    tracing::warn!(error = %err, "cannot connect to the Ceph cluster yet");
                }
            });
        if let Err(err) = spawned {
            tracing::warn!(error = %err, "cannot start the Ceph connect thread");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_features;

    #[test]
    fn default_features_in_either_spelling() {
        assert_eq!(parse_features("61"), 61);
        assert_eq!(parse_features("0"), 1);
        assert_eq!(parse_features(""), 1);
        assert_eq!(parse_features("layering,exclusive-lock"), 5);
        assert_eq!(parse_features("layering, deep-flatten"), 33);
    }
}
