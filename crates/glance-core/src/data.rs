//! Image data: `PUT /file` (upload) and `GET /file` (download).

use std::sync::Arc;

use bytes::Bytes;
use futures_util::Stream;
use glance_auth::RequestContext;
use glance_db::{Db, SqlValue, StatusChange};
use glance_domain::{Image, ImageStatus};
use glance_store::{
    write_stream, ByteRange, HashAlgo, ObjectReader, Store, StoreError, UploadLimits,
};

use crate::guard::RevertGuard;
use crate::stores::store_caller;

use crate::{CoreError, CoreResult, Glance};

/// What the client asked for with `Range` (already syntactically parsed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeSpec {
    /// `bytes=a-b` or `bytes=a-` (end None).
    FromTo(u64, Option<u64>),
    /// `bytes=-n`: the last n bytes.
    Suffix(u64),
}

/// The headers and body stream of a download.
pub enum Download {
    /// The image has no data (204).
    NoData,
    Data {
        reader: ObjectReader,
        /// The range served, if the client asked for one (206).
        range: Option<ByteRange>,
        checksum: Option<String>,
    },
}

/// The facts of one upload request besides its body.
pub struct UploadRequest {
    /// `x-openstack-image-size`, else `Content-Length` (None when unknown).
    pub expected_size: Option<u64>,
    /// `X-Image-Meta-Store`: the backend to write to (multi-store only; ignored otherwise).
    pub store: Option<String>,
    /// The MD5 the client vouches for (v1's `x-image-meta-checksum`): a different
    /// digest refuses the upload (400) and keeps nothing.
    pub expected_checksum: Option<String>,
}

async fn restore_queued(db: &Db, id: &str) {
    let change = StatusChange {
        from: ImageStatus::Saving,
        to: ImageStatus::Queued,
        columns: vec![("size", SqlValue::Null), ("virtual_size", SqlValue::Null)],
    };
    if let Err(e) = db.change_status(id, &change).await {
        tracing::error!(image = id, error = %e, "could not put the image back to queued");
    }
}

impl Glance {
    pub async fn upload<S, E>(
        &self,
        ctx: &RequestContext,
        id: &str,
        req: UploadRequest,
        body: S,
    ) -> CoreResult<()>
    where
        S: Stream<Item = Result<Bytes, E>> + Send + Unpin,
        E: std::fmt::Display,
    {
        let store: Arc<dyn Store> = self.upload_store(req.store.as_deref())?;
        let image = self.find_image(ctx, id).await?;
        self.image_policy(ctx, &image).enforce("upload_image")?;
        if image.status != ImageStatus::Queued {
            return Err(CoreError::Conflict(format!(
                "Image status transition from {} to saving is not allowed",
                image.status
            )));
        }
        if image.disk_format.is_none() || image.container_format.is_none() {
            return Err(CoreError::BadRequest(
                "Properties disk_format, container_format must be set prior to saving data.".into(),
            ));
        }
        let (max_bytes, quota_left) = self.upload_limit(&image, req.expected_size).await?;
        let algo = HashAlgo::from_name(&self.settings.hashing_algorithm)
            .ok_or_else(|| CoreError::Internal("unsupported hashing_algorithm".into()))?;

        let to_saving = StatusChange {
            from: ImageStatus::Queued,
            to: ImageStatus::Saving,
            columns: Vec::new(),
        };
        // Armed before the compare-and-swap: a request dropped while the switch to
        // saving commits (the client left just then) must not leave the image in
        // saving with nobody to put it back. Disarmed when the switch did not happen.
        let mut guard = {
            let (db, id) = (self.db.clone(), id.to_string());
            RevertGuard::new(async move { restore_queued(&db, &id).await })
        };
        let switched = self.db.change_status(id, &to_saving).await;
        if !matches!(switched, Ok(true)) {
            guard.disarm();
        }
        if !switched? {
            return Err(self.lost_transition(id, ImageStatus::Saving).await);
        }
        let limits = UploadLimits {
            max_bytes,
            expected_size: req.expected_size,
        };
        let inspection = crate::inspection::observer_for(&image, &self.settings.image_format);
        let (observers, outcome) = match inspection {
            Some((observer, outcome)) => (vec![observer], Some(outcome)),
            None => (Vec::new(), None),
        };
        let caller = store_caller(ctx);
        let written =
            match write_stream(store.as_ref(), id, &caller, body, algo, limits, observers).await {
                Ok(w) => w,
                Err(e) => {
                    guard.revert().await;
                    return Err(upload_error(e, quota_left));
                }
            };
        let size = written.digests.size as i64;
        if let Some(expected) = req.expected_checksum.as_deref() {
            if !expected.eq_ignore_ascii_case(&written.digests.md5_hex) {
                let _ = store.delete(&written.location, &caller).await;
                guard.revert().await;
                return Err(CoreError::BadRequest(format!(
                    "Supplied checksum ({expected}) and checksum generated from uploaded image ({}) \
                     did not match.",
                    written.digests.md5_hex
                )));
            }
        }
        // Another upload of the same owner may have finished meanwhile: check the quota
        // again now that the size is known (as upstream does after storing).
        if let Err(e) = self.recheck_quota(&image, written.digests.size).await {
            let _ = store.delete(&written.location, &caller).await;
            guard.revert().await;
            return Err(e);
        }
        // From the inspector's verdict; non-bare containers are not inspected and get none.
        let virtual_size = outcome.and_then(|o| o.virtual_size()).map(|v| v as i64);
        let activate = StatusChange {
            from: ImageStatus::Saving,
            to: ImageStatus::Active,
            columns: vec![
                ("size", SqlValue::Int(size)),
                ("virtual_size", virtual_size.into()),
                ("checksum", SqlValue::Text(written.digests.md5_hex.clone())),
                (
                    "os_hash_algo",
                    SqlValue::Text(written.digests.os_hash_algo.clone()),
                ),
                (
                    "os_hash_value",
                    SqlValue::Text(written.digests.os_hash_hex.clone()),
                ),
            ],
        };
        let mut metadata = serde_json::Map::new();
        if self.stores.multi_store() {
            metadata.insert("store".into(), store.info().id.clone().into());
        }
        let recorded = self
            .db
            .activate_with_location(id, &activate, &written.location, &metadata)
            .await;
        match recorded {
            Ok(true) => {
                guard.disarm();
                Ok(())
            }
            Ok(false) => {
                // Deleted (or otherwise changed) while we were writing: drop the data.
                guard.disarm();
                let _ = store.delete(&written.location, &caller).await;
                Err(CoreError::Gone(format!(
                    "Image {id} could not be found after upload. The image may have been deleted during \
                     the upload, cleaning up the chunks uploaded."
                )))
            }
            Err(e) => {
                let _ = store.delete(&written.location, &caller).await;
                guard.revert().await;
                Err(e.into())
            }
        }
    }

    /// Upstream's 409 for a status compare-and-swap lost to another request,
    /// naming the status the image is in now ("deleted" when it is gone).
    pub(crate) async fn lost_transition(&self, id: &str, to: ImageStatus) -> CoreError {
        let now = match self.db.get_image(id).await {
            Ok(image) => image.map_or("deleted".to_string(), |i| i.status.to_string()),
            Err(e) => return e.into(),
        };
        CoreError::Conflict(format!(
            "Image status transition from {now} to {to} is not allowed"
        ))
    }

    /// The store an upload writes to: `X-Image-Meta-Store` with multi-store, else the
    /// default store.
    fn upload_store(&self, requested: Option<&str>) -> CoreResult<Arc<dyn Store>> {
        match requested {
            Some(name) if self.stores.multi_store() => self
                .stores
                .by_id(name)
                .filter(|s| !s.info().id.starts_with("os_glance_"))
                .cloned()
                .ok_or_else(|| {
                    CoreError::BadRequest(format!("Store for identifier {name} not found"))
                }),
            _ => Ok(self.stores.default_store().clone()),
        }
    }

    /// The most bytes this upload may bring (`image_size_cap`, and what is left of
    /// `user_storage_quota` for the owner), and the quota left when the quota is what
    /// limits it.
    pub(crate) async fn upload_limit(
        &self,
        image: &Image,
        expected: Option<u64>,
    ) -> CoreResult<(u64, Option<u64>)> {
        let cap = self.settings.image_size_cap;
        if self.settings.user_storage_quota == 0 {
            return Ok((cap, None));
        }
        let used = self
            .db
            .storage_used_by(image.owner.as_deref())
            .await?
            .max(0) as u64;
        let left = self.settings.user_storage_quota.saturating_sub(used);
        let too_large = |size: String| {
            CoreError::TooLarge(format!(
                "Image exceeds the storage quota: The size of the data {size} will exceed the limit. {left} bytes remaining."
            ))
        };
        if left == 0 {
            return Err(too_large(expected.map_or("None".into(), |e| e.to_string())));
        }
        if let Some(e) = expected.filter(|e| *e > left) {
            return Err(too_large(e.to_string()));
        }
        Ok(if left < cap {
            (left, Some(left))
        } else {
            (cap, None)
        })
    }

    /// `user_storage_quota` with this upload's final size.
    async fn recheck_quota(&self, image: &Image, size: u64) -> CoreResult<()> {
        let quota = self.settings.user_storage_quota;
        if quota == 0 {
            return Ok(());
        }
        let used = self
            .db
            .storage_used_by(image.owner.as_deref())
            .await?
            .max(0) as u64;
        let left = quota.saturating_sub(used);
        if size > left {
            return Err(CoreError::TooLarge(format!(
                "Image exceeds the storage quota: The size of the data {size} will exceed the limit. \
                 {left} bytes remaining."
            )));
        }
        Ok(())
    }

    pub async fn download(
        &self,
        ctx: &RequestContext,
        id: &str,
        range: Option<RangeSpec>,
    ) -> CoreResult<Download> {
        let image = self.find_image(ctx, id).await?;
        self.image_policy(ctx, &image).enforce("download_image")?;
        if image.status == ImageStatus::Deactivated && !ctx.is_admin {
            return Err(CoreError::Forbidden(
                "The requested image has been deactivated. Image data download is forbidden."
                    .into(),
            ));
        }
        let Some((store, location)) = self.active_locations(&image).iter().find_map(|l| {
            self.stores
                .for_location(&l.url)
                .map(|s| (s.clone(), l.url.clone()))
        }) else {
            return Ok(Download::NoData);
        };
        let caller = store_caller(ctx);
        let size = match image.size {
            Some(s) if s >= 0 => s as u64,
            _ => match store.size(&location, &caller).await {
                Ok(s) => s,
                Err(glance_store::StoreError::NotFound(_)) => return Ok(Download::NoData),
                Err(e) => return Err(e.into()),
            },
        };
        let byte_range = range.map(|r| resolve_range(r, size)).transpose()?;
        match store.open(&location, byte_range, &caller).await {
            Ok(reader) => Ok(Download::Data {
                reader,
                range: byte_range,
                checksum: image.checksum.clone(),
            }),
            Err(glance_store::StoreError::NotFound(_)) => Ok(Download::NoData),
            Err(e) => Err(e.into()),
        }
    }
}

/// Upstream's wording for the ways an upload's data can be refused.
fn upload_error(e: StoreError, quota_left: Option<u64>) -> CoreError {
    match e {
        StoreError::SizeLimitExceeded { .. } => match quota_left {
            Some(left) => CoreError::TooLarge(format!(
                "Image exceeds the storage quota: The size of the data exceeds the limit. {left} bytes remaining."
            )),
            None => CoreError::TooLarge("The incoming image is too large: The provided image is too large.".into()),
        },
        StoreError::SizeMismatch { expected, received } if received > expected => {
            CoreError::BadRequest(format!("Size exceeds: expected {expected} bytes, got {received} bytes"))
        }
        StoreError::SizeMismatch { expected, received } => {
            CoreError::BadRequest(format!("Size mismatch: expected {expected} bytes, got {received} bytes"))
        }
        // The format inspector's refusal: WebOb's 415 with the reason as its detail.
        StoreError::Rejected(why) => CoreError::UnsupportedMediaType(why),
        other => other.into(),
    }
}

/// Fits a requested range to an object of `size` bytes (416 when it cannot).
fn resolve_range(spec: RangeSpec, size: u64) -> CoreResult<ByteRange> {
    let unsatisfiable = CoreError::RangeNotSatisfiable { size };
    if size == 0 {
        return Err(unsatisfiable);
    }
    match spec {
        // Upstream serves the whole image for `bytes=-0`.
        RangeSpec::Suffix(0) => Ok(ByteRange {
            start: 0,
            end: size - 1,
        }),
        RangeSpec::Suffix(n) => Ok(ByteRange {
            start: size.saturating_sub(n),
            end: size - 1,
        }),
        RangeSpec::FromTo(start, end) => {
            let end = end.unwrap_or(size - 1).min(size - 1);
            if start >= size || start > end {
                return Err(unsatisfiable);
            }
            Ok(ByteRange { start, end })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(
            resolve_range(RangeSpec::FromTo(0, Some(15)), 100).unwrap(),
            ByteRange { start: 0, end: 15 }
        );
        assert_eq!(
            resolve_range(RangeSpec::FromTo(90, None), 100).unwrap(),
            ByteRange { start: 90, end: 99 }
        );
        assert_eq!(
            resolve_range(RangeSpec::FromTo(90, Some(500)), 100).unwrap(),
            ByteRange { start: 90, end: 99 }
        );
        assert_eq!(
            resolve_range(RangeSpec::Suffix(10), 100).unwrap(),
            ByteRange { start: 90, end: 99 }
        );
        assert_eq!(
            resolve_range(RangeSpec::Suffix(0), 100).unwrap(),
            ByteRange { start: 0, end: 99 }
        );
        assert!(resolve_range(RangeSpec::FromTo(100, None), 100).is_err());
        assert!(resolve_range(RangeSpec::FromTo(10, Some(5)), 100).is_err());
    }
}
