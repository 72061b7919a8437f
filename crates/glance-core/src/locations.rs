//! Image locations through the API: `GET`/`POST /v2/images/{id}/locations` (2.17)
//! and `DELETE /v2/stores/{store}/{id}` (2.10). The legacy PATCH of `/locations` is
//! in `location_patch.rs`; the background part of `POST` in `location_import.rs`.

use glance_auth::RequestContext;
use glance_db::{LocationChange, StatusChange};
use glance_domain::{Image, ImageStatus, Location};
use glance_store::redact_location;

use crate::stores::store_caller;
use crate::tasks::TaskLog;
use crate::{CoreError, CoreResult, Glance};

/// Schemes no API caller may add, whatever its role: they would let a caller point
/// an image at a file of this host or at a Swift reference holding our own
/// credentials (upstream's `RESTRICTED_URI_SCHEMAS`).
pub(crate) const RESTRICTED_SCHEMES: [&str; 3] = ["file", "filesystem", "swift+config"];

/// `validation_data` of `POST /locations`: the hash the caller vouches for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationData {
    pub os_hash_algo: String,
    pub os_hash_value: String,
}

impl Glance {
    /// `GET /v2/images/{id}/locations`: for service users (Nova, Cinder).
    pub async fn list_locations(
        &self,
        ctx: &RequestContext,
        id: &str,
    ) -> CoreResult<Vec<Location>> {
        let image = self.find_image(ctx, id).await?;
        self.image_policy(ctx, &image)
            .enforce("fetch_image_location")?;
        Ok(self.active_locations(&image))
    }

    /// The image's live locations, in the order `order_locations` gave them when the
    /// image was loaded (the preferred first).
    pub fn active_locations(&self, image: &Image) -> Vec<Location> {
        image
            .locations
            .iter()
            .filter(|l| l.status == "active")
            .cloned()
            .collect()
    }

    /// Puts the preferred locations (highest store weight) first in multi-store
    /// mode, as upstream's database layer does (`sort_image_locations`), so that
    /// `locations`, `direct_url` and downloads all use that order.
    pub(crate) fn order_locations(&self, image: &mut Image) {
        if !self.stores.multi_store() || image.locations.len() < 2 {
            return;
        }
        let weight = |l: &Location| {
            l.store_id()
                .and_then(|id| self.stores.by_id(id))
                .map_or(0, |s| s.info().weight)
        };
        // Stable: equal weights keep the stored order.
        image
            .locations
            .sort_by_cached_key(|l| std::cmp::Reverse(weight(l)));
    }

    /// `DELETE /v2/stores/{store_id}/{image_id}`: removes one store's copy of an
    /// active image that has others.
    pub async fn delete_from_store(
        &self,
        ctx: &RequestContext,
        store_id: &str,
        id: &str,
    ) -> CoreResult<()> {
        if !self.stores.multi_store() {
            return Err(CoreError::NotFound(
                "The resource could not be found.".into(),
            ));
        }
        let Some(store) = self.stores.by_id(store_id).cloned() else {
            return Err(CoreError::Conflict(format!(
                "The selected store {store_id} is not available on this node."
            )));
        };
        let image = self
            .find_image(ctx, id)
            .await
            .map_err(|_| CoreError::NotFound(format!("Failed to find image {id}")))?;
        let policy = self.image_policy(ctx, &image);
        policy.enforce("get_image_location")?;
        policy.enforce("delete_image_location")?;
        if image.status != ImageStatus::Active {
            return Err(CoreError::Conflict(
                "It's not allowed to remove image data from store if image status is not 'active'"
                    .into(),
            ));
        }
        let live = self.active_locations(&image);
        if live.len() == 1 {
            return Err(CoreError::Forbidden(
                "Cannot delete image data from the only store containing it. Consider deleting \
                 the image instead."
                    .into(),
            ));
        }
        let Some(location) = live.iter().find(|l| l.store_id() == Some(store_id)) else {
            return Err(CoreError::NotFound(format!(
                "Image {id} is not stored in store {store_id}."
            )));
        };
        let caller = store_caller(ctx);
        // Data others depend on (RBD clones) is refused before anything changes.
        store
            .check_deletable(&location.url, &caller)
            .await
            .map_err(|e| in_use(id, e))?;
        let allowed = [ImageStatus::Active];
        match self.db.remove_location(id, location.id, &allowed).await? {
            LocationChange::Done => {}
            LocationChange::Last => {
                return Err(CoreError::Forbidden(
                    "Cannot delete image data from the only store containing it. Consider \
                     deleting the image instead."
                        .into(),
                ))
            }
            LocationChange::WrongStatus => {
                return Err(CoreError::Conflict(
                    "It's not allowed to remove image data from store if image status is not \
                     'active'"
                        .into(),
                ))
            }
            _ => {
                return Err(CoreError::NotFound(format!(
                    "Image {id} is not stored in store {store_id}."
                )))
            }
        }
        self.remove_data(id, &store, &location.url, &caller).await;
        Ok(())
    }

    /// Deletes data whose location is already gone from the database; a failure
    /// leaves an orphan object, which is logged (never an image pointing at nothing).
    pub(crate) async fn remove_data(
        &self,
        id: &str,
        store: &std::sync::Arc<dyn glance_store::Store>,
        url: &str,
        caller: &glance_store::StoreCaller,
    ) {
        match store.delete(url, caller).await {
            Ok(()) | Err(glance_store::StoreError::NotFound(_)) => {}
            Err(e) => tracing::warn!(
                image = id,
                location = %redact_location(url),
                error = %e,
                "could not remove image data; it is left in the store"
            ),
        }
    }

    /// `POST /v2/images/{id}/locations`: checks the request, then validates, hashes
    /// and activates in the background (202).
    pub async fn add_location(
        &self,
        ctx: &RequestContext,
        id: &str,
        url: &str,
        validation: Option<ValidationData>,
    ) -> CoreResult<()> {
        let image = self.find_image(ctx, id).await?;
        if image.status != ImageStatus::Queued {
            return Err(CoreError::Conflict(format!(
                "It's not allowed to add locations if image status is {}.",
                image.status
            )));
        }
        self.image_policy(ctx, &image)
            .enforce("add_image_location")?;
        if !has_service_role(ctx) && !self.http_store_serves(url) {
            return Err(CoreError::Forbidden(
                "http store must be enabled to use location API by normal user.".into(),
            ));
        }
        if let Some(v) = &validation {
            check_hash_value(v)?;
        }
        let store = self.store_for_new_location(ctx, url)?;
        if image.disk_format.is_none() || image.container_format.is_none() {
            return Err(CoreError::BadRequest(
                "Properties disk_format, container_format must be set prior to saving data.".into(),
            ));
        }
        // The lock: one location import per image. A second request finds the image
        // importing and gets 409 like any other change of a busy image.
        let lock = StatusChange {
            from: ImageStatus::Queued,
            to: ImageStatus::Importing,
            columns: Vec::new(),
        };
        if !self.db.change_status(id, &lock).await? {
            return Err(CoreError::Conflict(format!(
                "New operation on image '{id}' is not permitted as prior operation is still in \
                 progress"
            )));
        }
        // Upstream's `location_import` task, which clients follow through
        // `GET /v2/images/{id}/tasks`. Its input carries the URL without credentials.
        let input = serde_json::json!({
            "image_id": id,
            "loc_url": redact_location(url),
            "validation_data": validation.as_ref().map_or_else(
                || serde_json::json!({}),
                |v| serde_json::json!({"os_hash_algo": v.os_hash_algo, "os_hash_value": v.os_hash_value}),
            ),
        });
        let task = match TaskLog::create(
            self,
            ctx,
            "location_import",
            id,
            image.owner.as_deref(),
            input,
        )
        .await
        {
            Ok(task) => task,
            Err(e) => {
                self.db
                    .change_status(id, &crate::location_import::unlock())
                    .await?;
                return Err(e);
            }
        };
        let job = crate::location_import::LocationImport {
            task,
            glance: self.clone(),
            image_id: id.to_string(),
            url: url.to_string(),
            store,
            caller: store_caller(ctx),
            validation,
        };
        tokio::spawn(job.run());
        Ok(())
    }

    /// Whether `url` is an http(s) URL and an http store is configured.
    fn http_store_serves(&self, url: &str) -> bool {
        url.starts_with("http")
            && self
                .stores
                .all()
                .iter()
                .any(|s| s.info().store_type == "http")
    }

    /// The store that will serve a location a caller gives us, refusing schemes no
    /// caller may use and URIs no configured store accepts (400, as upstream's
    /// `BadStoreUri`).
    pub(crate) fn store_for_new_location(
        &self,
        ctx: &RequestContext,
        url: &str,
    ) -> CoreResult<std::sync::Arc<dyn glance_store::Store>> {
        let scheme = url
            .split("://")
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        if !url.contains("://") || RESTRICTED_SCHEMES.contains(&scheme.as_str()) {
            return Err(invalid_location(url));
        }
        // A URI no configured store takes is a bad request whoever sends it
        // (upstream's `BadStoreUri`), before the question of who may add it.
        let store = self
            .stores
            .for_location(url)
            .cloned()
            .ok_or_else(|| invalid_location(url))?;
        // Only admins and services may point an image at an object of a store we
        // write to (s3, swift, rbd): those are read with the service's own
        // credentials, so a project member could otherwise read any object the
        // service can, other projects' images included.
        let trusted = ctx.is_admin || has_service_role(ctx);
        if !trusted && scheme != "http" && scheme != "https" {
            return Err(CoreError::Forbidden(
                "Only web (http, https) locations may be added by this user.".into(),
            ));
        }
        // Web locations are fetched by this service: they must pass the SSRF rules
        // now, so a refused one never even starts an import.
        if scheme == "http" || scheme == "https" {
            self.stores.uri_filter().check_url(url).map_err(|why| {
                // Worded as upstream's filtering refusals, which clients (Tempest's
                // location tests) recognise.
                CoreError::BadRequest(format!(
                    "URI for location does not pass filtering: {} ({why})",
                    redact_location(url)
                ))
            })?;
        }
        Ok(store)
    }
}

/// The caller's token, or the service token beside it, carries the `service` role.
fn has_service_role(ctx: &RequestContext) -> bool {
    ctx.roles
        .iter()
        .chain(ctx.service_roles.iter())
        .any(|r| r == "service")
}

pub(crate) fn invalid_location(url: &str) -> CoreError {
    CoreError::BadRequest(format!("Invalid location: {}", redact_location(url)))
}

fn in_use(id: &str, e: glance_store::StoreError) -> CoreError {
    match e {
        glance_store::StoreError::InUse(why) => CoreError::Conflict(format!(
            "The data for Image {id} could not be deleted because it is in use: {why}"
        )),
        other => other.into(),
    }
}

/// The number of bytes `value` encodes when it is hexadecimal (`bytearray.fromhex`
/// without the spaces Python also allows), else None.
pub(crate) fn hex_len(value: &str) -> Option<usize> {
    (value.len().is_multiple_of(2) && value.bytes().all(|b| b.is_ascii_hexdigit()))
        .then_some(value.len() / 2)
}

/// Upstream's `_validate_hashing_data`: hex of the algorithm's digest length.
fn check_hash_value(v: &ValidationData) -> CoreResult<()> {
    let value = &v.os_hash_value;
    let bytes = hex_len(value).ok_or_else(|| {
        CoreError::BadRequest(format!(
            "os_hash_value ({value}) is not a valid hexadecimal value"
        ))
    })?;
    // sha1 passes the schema, but we hash only with hashing_algorithm's choices, so
    // such data could never be checked: refused now rather than failing later.
    let want = glance_store::HashAlgo::from_name(&v.os_hash_algo)
        .map(|algo| algo.digest_len())
        .ok_or_else(|| {
            CoreError::BadRequest(format!(
                "os_hash_algo {} is not supported by this server",
                v.os_hash_algo
            ))
        })?;
    if bytes != want {
        return Err(CoreError::BadRequest(format!(
            "os_hash_value: ({value}) is not the correct size for ({}) (should be ({want}) bytes)",
            v.os_hash_algo
        )));
    }
    Ok(())
}
