//! The `rbd` store (Ceph RADOS Block Device), compatible with upstream
//! glance_store's `rbd` driver: the same options, one RBD image per Glance image
//! named after its id, with a protected snapshot `snap` that Nova and Cinder
//! clone, and locations `rbd://<fsid>/<pool>/<image>/snap`.
//!
//! librados and librbd only offer blocking calls, so every call runs on the
//! blocking pool (short metadata operations) or on a thread owned by one transfer
//! (uploads and downloads), never on the async executor.

mod aio;
mod cluster;
mod errno;
mod ffi;
mod image;
mod location;
mod reader;
mod removal;
mod writer;

use std::ffi::CString;
use std::sync::Arc;

use async_trait::async_trait;

use crate::{
    ByteRange, ObjectReader, Store, StoreCaller, StoreError, StoreInfo, StoreOptions, StoreWriter,
    UploadTarget,
};
use cluster::{ConnectSettings, Connection, IoCtx};
use errno::ENOENT;
use image::Image;
use location::RbdLocation;
use writer::{RbdWriter, UploadPlan};

/// The snapshot every image gets (upstream's `DEFAULT_SNAPNAME`).
pub const SNAPSHOT_NAME: &str = "snap";
const DEFAULT_POOL: &str = "images";
const DEFAULT_CHUNK_MIB: i64 = 8;
/// librbd refuses objects larger than 32 MiB (order 25).
const MAX_CHUNK_MIB: i64 = 32;
/// Download pieces are at most this big (and divide the object size), so a
/// download holds a few of them at most.
const MAX_READ_PIECE: u64 = 4 << 20;

pub struct RbdStore {
    info: StoreInfo,
    /// `rbd_store_pool`: where new images go, and where old `rbd://<image>`
    /// locations are looked for.
    pool: String,
    /// `rbd_store_chunk_size` in bytes.
    chunk_size: u64,
    /// log2 of the RBD object size.
    order: u8,
    thin_provisioning: bool,
    connection: Arc<Connection>,
}

impl RbdStore {
    /// Reads the options and checks the Ceph configuration file (no network). The
    /// cluster is connected on a background thread and, failing that, by the first
    /// operation, so start-up never waits for Ceph.
    pub fn new(info: StoreInfo, options: &StoreOptions) -> Result<Self, StoreError> {
        let chunk_mib = options.int(
            "rbd_store_chunk_size",
            DEFAULT_CHUNK_MIB,
            1,
            i64::from(i32::MAX),
        )?;
        if chunk_mib > MAX_CHUNK_MIB {
            return Err(options.invalid(
                "rbd_store_chunk_size",
                format!("{chunk_mib} MiB: RBD objects are at most {MAX_CHUNK_MIB} MiB"),
            ));
        }
        let chunk_size = (chunk_mib as u64) << 20;
        // As upstream: the object size is the largest power of two within the chunk.
        let order = chunk_size.ilog2() as u8;
        if !chunk_size.is_power_of_two() {
            tracing::warn!(
                chunk_mib,
                "rbd_store_chunk_size is not a power of two; RBD objects will be {} MiB",
                1u64 << (order - 20)
            );
        }
        let c_option = |option: &str| -> Result<Option<CString>, StoreError> {
            options
                .string(option)
                .map(|value| {
                    CString::new(value)
                        .map_err(|_| options.invalid(option, "contains a NUL byte".into()))
                })
                .transpose()
        };
        let timeout = options.int("rados_connect_timeout", -1, i64::MIN, i64::MAX)?;
        let settings = ConnectSettings {
            user: c_option("rbd_store_user")?,
            conf_file: c_option("rbd_store_ceph_conf")?,
            timeout: u64::try_from(timeout).ok(),
        };
        let pool = options
            .string("rbd_store_pool")
            .unwrap_or_else(|| DEFAULT_POOL.into());
        if pool.contains('\0') {
            return Err(options.invalid("rbd_store_pool", "contains a NUL byte".into()));
        }
        let thin_provisioning = options.bool("rbd_thin_provisioning", false)?;
        // Last: the only check that reads a file (the Ceph configuration).
        settings
            .check()
            .map_err(|(option, reason)| options.invalid(option, reason))?;
        let connection = Arc::new(Connection::new(settings));
        connection.warm_up();
        Ok(RbdStore {
            info,
            pool,
            chunk_size,
            order,
            thin_provisioning,
            connection,
        })
    }

    /// The parsed location and the pool it names (or ours, for the old form).
    fn target(&self, location: &str) -> Result<(RbdLocation, String), StoreError> {
        let parsed = RbdLocation::parse(location)?;
        if let Some(ours) = self.connection.known_fsid() {
            check_fsid(&parsed, ours, location)?;
        }
        let pool = parsed.pool.clone().unwrap_or_else(|| self.pool.clone());
        Ok((parsed, pool))
    }

    /// Opens the image a location names, read-only (at its snapshot, if it has
    /// one), on the blocking pool, and runs `then` there with it and its size. The
    /// image is closed there too unless `then` hands it on.
    async fn with_image<T, F>(&self, location: &str, then: F) -> Result<T, StoreError>
    where
        F: FnOnce(Image, u64) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let (parsed, pool) = self.target(location)?;
        let connection = Arc::clone(&self.connection);
        let subject = location.to_string();
        blocking(move || {
            let io = open_pool(&connection, &parsed, &pool, &subject)?;
            let image = io
                .open_image(&parsed.image, parsed.snapshot.as_deref(), true)
                .map_err(|err| err.reading(&subject))?;
            let size = image.size().map_err(|err| err.reading(&subject))?;
            then(image, size)
        })
        .await
    }
}

/// A location of another Ceph cluster is refused rather than looked up in ours.
fn check_fsid(parsed: &RbdLocation, ours: &str, location: &str) -> Result<(), StoreError> {
    match &parsed.fsid {
        Some(theirs) if theirs != ours => Err(StoreError::BadLocation(format!(
            "{location}: belongs to Ceph cluster {theirs}, not {ours}"
        ))),
        _ => Ok(()),
    }
}

/// A handle on the pool a location names (a missing pool means missing data),
/// once the location is known to be of this cluster.
fn open_pool(
    connection: &Connection,
    parsed: &RbdLocation,
    pool: &str,
    subject: &str,
) -> Result<Arc<IoCtx>, StoreError> {
    let cluster = connection.cluster()?;
    check_fsid(parsed, cluster.fsid(), subject)?;
    match cluster.ioctx(pool) {
        Ok(io) => Ok(Arc::new(io)),
        Err(err) if err.errno == ENOENT => Err(StoreError::NotFound(format!(
            "{subject}: pool {pool:?} does not exist"
        ))),
        Err(err) => Err(err.reading(subject)),
    }
}

/// Runs short blocking librados / librbd calls on the blocking pool.
async fn blocking<T, F>(f: F) -> Result<T, StoreError>
where
    F: FnOnce() -> Result<T, StoreError> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StoreError::Backend(format!("RBD call failed: {e}")))?
}

/// Image ids become RBD image names: one plain name that fits, with our temporary
/// suffix, within librbd's limit.
fn check_image_id(image_id: &str) -> Result<(), StoreError> {
    let ok = !image_id.is_empty()
        && image_id.len() <= 64
        && !image_id.contains(['/', '@', '\0'])
        && !image_id.chars().any(char::is_control);
    if ok {
        Ok(())
    } else {
        Err(StoreError::BadLocation(format!(
            "invalid image id {image_id:?}"
        )))
    }
}

#[async_trait]
impl Store for RbdStore {
    fn info(&self) -> &StoreInfo {
        &self.info
    }

    /// As upstream's discovery shows an rbd store (`_get_rbd_properties`): the
    /// chunk size in bytes, the pool, thin provisioning, and the cluster fsid once
    /// known (null before the first connect, as upstream without a URL prefix).
    fn properties(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut map = serde_json::Map::new();
        map.insert("chunk_size".into(), self.chunk_size.into());
        map.insert("pool".into(), self.pool.clone().into());
        map.insert("thin_provisioning".into(), self.thin_provisioning.into());
        let fsid = self.connection.known_fsid().map(str::to_string);
        map.insert("fsid".into(), fsid.into());
        map
    }

    async fn begin_upload(
        &self,
        target: &UploadTarget<'_>,
    ) -> Result<Box<dyn StoreWriter>, StoreError> {
        check_image_id(target.image_id)?;
        let plan = UploadPlan {
            connection: Arc::clone(&self.connection),
            pool: self.pool.clone(),
            image_id: target.image_id.to_string(),
            // Upstream treats a declared 0 as unknown.
            expected_size: target.expected_size.filter(|&size| size > 0),
            chunk_size: self.chunk_size,
            order: self.order,
            thin_provisioning: self.thin_provisioning,
        };
        Ok(Box::new(RbdWriter::start(plan).await?))
    }

    async fn open(
        &self,
        location: &str,
        range: Option<ByteRange>,
        _caller: &StoreCaller,
    ) -> Result<ObjectReader, StoreError> {
        let piece = self.chunk_size.min(MAX_READ_PIECE);
        self.with_image(location, move |image, total_size| {
            let (start, end) = match range {
                None => (0, total_size),
                Some(r) if r.start <= r.end && r.end < total_size => (r.start, r.end + 1),
                Some(r) => {
                    return Err(StoreError::Io(std::io::Error::new(
                        std::io::ErrorKind::InvalidInput,
                        format!(
                            "range {}-{} outside an object of {total_size} bytes",
                            r.start, r.end
                        ),
                    )))
                }
            };
            let stream = reader::stream_range(image, start, end, piece)?;
            Ok(ObjectReader { total_size, stream })
        })
        .await
    }

    async fn size(&self, location: &str, _caller: &StoreCaller) -> Result<u64, StoreError> {
        self.with_image(location, |_image, size| Ok(size)).await
    }

    async fn delete(&self, location: &str, _caller: &StoreCaller) -> Result<(), StoreError> {
        let (parsed, pool) = self.target(location)?;
        let connection = Arc::clone(&self.connection);
        let subject = location.to_string();
        blocking(move || {
            let io = open_pool(&connection, &parsed, &pool, &subject)?;
            removal::remove_image(&io, &parsed.image, parsed.snapshot.as_deref(), &subject)
        })
        .await
    }

    async fn check_deletable(
        &self,
        location: &str,
        _caller: &StoreCaller,
    ) -> Result<(), StoreError> {
        let (parsed, pool) = self.target(location)?;
        let connection = Arc::clone(&self.connection);
        let subject = location.to_string();
        blocking(move || {
            let io = open_pool(&connection, &parsed, &pool, &subject)?;
            removal::check_removable(&io, &parsed.image, parsed.snapshot.as_deref(), &subject)
        })
        .await
    }

    /// Any well-formed `rbd://` location, unless it names another cluster's fsid.
    fn owns(&self, location: &str) -> bool {
        self.target(location).is_ok()
    }
}
