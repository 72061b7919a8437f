//! The legacy location changes of `PATCH /v2/images/{id}` (`add`, `replace` and
//! `remove` on `/locations`), offered when `show_multiple_locations` is true
//! (spec §8.1; upstream's `_do_add_locations`, `_do_replace_locations`,
//! `_do_remove_locations`). Each operation is one database transaction behind the
//! image's status; data of a removed location is deleted after the row is gone.

use glance_auth::RequestContext;
use glance_db::{LocationChange, NewLocation, SqlValue, StatusChange};
use glance_domain::patch::{PatchOp, PatchOpKind};
use glance_domain::{Image, ImageStatus, Location};
use glance_store::redact_location;
use serde_json::{Map, Value};

use crate::locations::{hex_len, invalid_location};
use crate::stores::store_caller;
use crate::{CoreError, CoreResult, Glance};

/// One location of a PATCH value.
struct GivenLocation {
    url: String,
    metadata: Map<String, Value>,
    validation: Map<String, Value>,
}

impl Glance {
    pub(crate) async fn patch_locations(
        &self,
        ctx: &RequestContext,
        id: &str,
        ops: &[PatchOp],
    ) -> CoreResult<()> {
        for op in ops {
            // Each operation sees what the previous one wrote.
            let image = self.find_image(ctx, id).await?;
            match op.kind {
                PatchOpKind::Add => self.add_patched_location(ctx, &image, op).await?,
                PatchOpKind::Replace => self.replace_locations(ctx, &image, op).await?,
                PatchOpKind::Remove => self.remove_patched_location(ctx, &image, op).await?,
            }
        }
        Ok(())
    }

    async fn add_patched_location(
        &self,
        ctx: &RequestContext,
        image: &Image,
        op: &PatchOp,
    ) -> CoreResult<()> {
        self.image_policy(ctx, image)
            .enforce("set_image_location")?;
        if !matches!(image.status, ImageStatus::Active | ImageStatus::Queued) {
            return Err(CoreError::Conflict(format!(
                "It's not allowed to add locations if image status is {}.",
                image.status
            )));
        }
        let given = given_location(op.value.as_ref())?;
        let live = image
            .locations
            .iter()
            .filter(|l| l.status == "active")
            .count();
        match op.path.get(1).map(String::as_str) {
            Some("-") => {}
            Some(n)
                if n.bytes().all(|b| b.is_ascii_digit())
                    && n.parse::<usize>().is_ok_and(|p| p <= live) => {}
            _ => {
                return Err(CoreError::BadRequest(
                    "Invalid position for adding a location.".into(),
                ))
            }
        }
        let activation = self
            .activation_for(ctx, image, std::slice::from_ref(&given))
            .await?;
        let location = self.new_location(ctx, &given)?;
        let quota = usize::try_from(self.settings.image_location_quota).ok();
        let allowed = [ImageStatus::Active];
        let change = self
            .db
            .add_location(&image.id, &location, &allowed, activation.as_ref(), quota)
            .await?;
        location_change_result(change, &location.url, live + 1, quota)
    }

    async fn replace_locations(
        &self,
        ctx: &RequestContext,
        image: &Image,
        op: &PatchOp,
    ) -> CoreResult<()> {
        let items = match op.value.as_ref() {
            Some(Value::Array(items)) => items,
            _ => return Err(CoreError::BadRequest("Invalid locations".into())),
        };
        if items.is_empty() {
            return Err(CoreError::ForbiddenDetail(
                "Cannot set locations to empty list.".into(),
            ));
        }
        self.image_policy(ctx, image)
            .enforce("set_image_location")?;
        if !matches!(image.status, ImageStatus::Active | ImageStatus::Queued) {
            return Err(CoreError::Conflict(format!(
                "It's not allowed to replace locations if image status is {}.",
                image.status
            )));
        }
        let given = items
            .iter()
            .map(|item| given_location(Some(item)))
            .collect::<CoreResult<Vec<_>>>()?;
        let current = self.active_locations(image);
        let (locations, activation, allowed) = if current.is_empty() {
            let activation = self.activation_for(ctx, image, &given).await?;
            let locations = self.new_locations(ctx, &given)?;
            let quota = usize::try_from(self.settings.image_location_quota).ok();
            if quota.is_some_and(|max| locations.len() > max) {
                return Err(over_quota(locations.len(), quota));
            }
            (locations, activation, &[ImageStatus::Active][..])
        } else {
            // Upstream's rule: once an image has locations, a replace may only
            // change their metadata, never which URLs they are.
            let mut current_urls: Vec<&str> = current.iter().map(|l| l.url.as_str()).collect();
            let mut given_urls: Vec<&str> = given.iter().map(|g| g.url.as_str()).collect();
            current_urls.sort_unstable();
            given_urls.sort_unstable();
            if current_urls != given_urls {
                let urls: Vec<String> = current
                    .iter()
                    .map(|l| redact_location(&l.url).into_owned())
                    .collect();
                return Err(CoreError::BadRequest(format!(
                    "Original locations is not empty: {}",
                    urls.join(", ")
                )));
            }
            let locations = self.restated_locations(&current, &given);
            (
                locations,
                None,
                &[ImageStatus::Active, ImageStatus::Queued][..],
            )
        };
        match self
            .db
            .replace_locations(&image.id, &locations, allowed, activation.as_ref())
            .await?
        {
            // Replaced locations keep their data: another image may use the same
            // object, and upstream does not delete it either.
            Some(_removed) => Ok(()),
            None => Err(CoreError::Conflict(format!(
                "Image {} changed while its locations were replaced; try again.",
                image.id
            ))),
        }
    }

    /// The locations an image without any gets from a replace: each URL checked
    /// as a new location, none twice.
    fn new_locations(
        &self,
        ctx: &RequestContext,
        given: &[GivenLocation],
    ) -> CoreResult<Vec<NewLocation>> {
        let mut locations: Vec<NewLocation> = Vec::with_capacity(given.len());
        for g in given {
            let location = self.new_location(ctx, g)?;
            if locations.iter().any(|l| l.url == location.url) {
                return Err(CoreError::BadRequest(format!(
                    "The location {} already exists",
                    redact_location(&location.url)
                )));
            }
            locations.push(location);
        }
        Ok(locations)
    }

    /// A replace naming the URLs the image already has: only their metadata
    /// changes. The URLs are not checked again (they may use schemes no caller
    /// may add, such as the store's own `file://`), and in multi-store mode each
    /// keeps the store it is in.
    fn restated_locations(
        &self,
        current: &[Location],
        given: &[GivenLocation],
    ) -> Vec<NewLocation> {
        given
            .iter()
            .map(|g| {
                let mut metadata = g.metadata.clone();
                let store = current
                    .iter()
                    .find(|l| l.url == g.url)
                    .and_then(|l| l.store_id());
                if let (true, Some(store)) = (self.stores.multi_store(), store) {
                    metadata.insert("store".into(), store.into());
                }
                NewLocation {
                    url: g.url.clone(),
                    metadata,
                }
            })
            .collect()
    }

    async fn remove_patched_location(
        &self,
        ctx: &RequestContext,
        image: &Image,
        op: &PatchOp,
    ) -> CoreResult<()> {
        self.image_policy(ctx, image)
            .enforce("delete_image_location")?;
        if image.status != ImageStatus::Active {
            return Err(CoreError::Conflict(format!(
                "It's not allowed to remove locations if image status is {}.",
                image.status
            )));
        }
        let live = self.active_locations(image);
        if live.len() == 1 {
            return Err(CoreError::Forbidden(
                "Cannot remove last location in the image.".into(),
            ));
        }
        let position = match op.path.get(1).map(String::as_str) {
            Some("-") => live.len().checked_sub(1),
            Some(n) if n.bytes().all(|b| b.is_ascii_digit()) => n.parse::<usize>().ok(),
            _ => None,
        };
        let Some(location) = position.and_then(|p| live.get(p)) else {
            return Err(CoreError::BadRequest(
                "Invalid position for removing a location.".into(),
            ));
        };
        let caller = store_caller(ctx);
        let store = self.stores.for_location(&location.url).cloned();
        if let Some(store) = &store {
            store
                .check_deletable(&location.url, &caller)
                .await
                .map_err(CoreError::from)?;
        }
        let allowed = [ImageStatus::Active];
        match self
            .db
            .remove_location(&image.id, location.id, &allowed)
            .await?
        {
            LocationChange::Done => {}
            LocationChange::Last => {
                return Err(CoreError::Forbidden(
                    "Cannot remove last location in the image.".into(),
                ))
            }
            other => {
                return Err(CoreError::Conflict(format!(
                    "Image {} changed while a location was removed ({other:?}); try again.",
                    image.id
                )))
            }
        }
        if let Some(store) = store {
            self.remove_data(&image.id, &store, &location.url, &caller)
                .await;
        }
        Ok(())
    }

    /// For a queued image: the switch to active with the size read from the store
    /// and the hashes the caller vouched for (upstream's `_validate_validation_data`
    /// rules). None for an active image, where validation data may only repeat the
    /// values it already has.
    async fn activation_for(
        &self,
        ctx: &RequestContext,
        image: &Image,
        given: &[GivenLocation],
    ) -> CoreResult<Option<StatusChange>> {
        let values = self.validation_values(image, given)?;
        if image.status != ImageStatus::Queued {
            if !values.is_empty() {
                let keys: Vec<&str> = values.iter().map(|(k, _)| *k).collect();
                return Err(CoreError::Conflict(format!(
                    "New value(s) for {} may only be provided when image status is 'queued'",
                    keys.join(", ")
                )));
            }
            return Ok(None);
        }
        if image.disk_format.is_none() || image.container_format.is_none() {
            return Err(CoreError::BadRequest(
                "Properties disk_format, container_format must be set prior to saving data.".into(),
            ));
        }
        let first = &given[0].url;
        let store = self.store_for_new_location(ctx, first)?;
        let size = store
            .size(first, &store_caller(ctx))
            .await
            .map_err(|_| invalid_location(first))?;
        let mut columns: Vec<(&'static str, SqlValue)> = vec![("size", SqlValue::Int(size as i64))];
        for (key, value) in values {
            columns.push((key, SqlValue::Text(value)));
        }
        Ok(Some(StatusChange {
            from: ImageStatus::Queued,
            to: ImageStatus::Active,
            columns,
        }))
    }

    /// The validation values that would change the image, after upstream's checks
    /// (409 for conflicts and malformed values).
    fn validation_values(
        &self,
        image: &Image,
        given: &[GivenLocation],
    ) -> CoreResult<Vec<(&'static str, String)>> {
        let mut merged: Vec<(&'static str, String)> = Vec::new();
        for g in given {
            for (key, value) in &g.validation {
                let key: &'static str = match key.as_str() {
                    "checksum" => "checksum",
                    "os_hash_algo" => "os_hash_algo",
                    "os_hash_value" => "os_hash_value",
                    other => {
                        return Err(CoreError::BadRequest(format!(
                            "Invalid validation_data key {other}"
                        )))
                    }
                };
                let text = value.as_str().unwrap_or_default().to_string();
                match merged.iter().find(|(k, _)| *k == key) {
                    Some((_, v)) if *v != text => {
                        return Err(CoreError::Conflict(format!("Conflicting values for {key}")))
                    }
                    Some(_) => {}
                    None => merged.push((key, text)),
                }
            }
        }
        let current = |key: &str| match key {
            "checksum" => image.checksum.clone(),
            "os_hash_algo" => image.os_hash_algo.clone(),
            _ => image.os_hash_value.clone(),
        };
        let mut new = Vec::new();
        for (key, value) in merged {
            match current(key) {
                Some(c) if c == value => continue,
                Some(_) => {
                    return Err(CoreError::Conflict(format!(
                        "{key} is already set with a different value"
                    )))
                }
                None => new.push((key, value)),
            }
        }
        if new.is_empty() || image.status != ImageStatus::Queued {
            return Ok(new);
        }
        let get = |key: &str| new.iter().find(|(k, _)| *k == key).map(|(_, v)| v.clone());
        if let Some(checksum) = get("checksum") {
            hex_of_length(&checksum, 16, "checksum", "md5")?;
        }
        let algo = get("os_hash_algo");
        if algo.as_deref() != Some(self.settings.hashing_algorithm.as_str()) {
            return Err(CoreError::Conflict(format!(
                "os_hash_algo must be {}, not {}",
                self.settings.hashing_algorithm,
                algo.unwrap_or_else(|| "None".into())
            )));
        }
        let want = glance_store::HashAlgo::from_name(&self.settings.hashing_algorithm)
            .map_or(64, |a| a.digest_len());
        let value = get("os_hash_value").unwrap_or_default();
        hex_of_length(
            &value,
            want,
            "os_hash_value",
            &self.settings.hashing_algorithm,
        )?;
        Ok(new)
    }

    fn new_location(&self, ctx: &RequestContext, given: &GivenLocation) -> CoreResult<NewLocation> {
        let store = self.store_for_new_location(ctx, &given.url)?;
        let mut metadata = given.metadata.clone();
        if self.stores.multi_store() {
            metadata.insert("store".into(), store.info().id.clone().into());
        }
        Ok(NewLocation {
            url: given.url.clone(),
            metadata,
        })
    }
}

/// `{"url": ..., "metadata": {...}, "validation_data": {...}}` (metadata optional here).
fn given_location(value: Option<&Value>) -> CoreResult<GivenLocation> {
    let invalid = || CoreError::BadRequest("Invalid location".into());
    let Some(Value::Object(obj)) = value else {
        return Err(invalid());
    };
    let Some(Value::String(url)) = obj.get("url") else {
        return Err(invalid());
    };
    let object = |key: &str| match obj.get(key) {
        None => Ok(Map::new()),
        Some(Value::Object(m)) => Ok(m.clone()),
        Some(_) => Err(invalid()),
    };
    Ok(GivenLocation {
        url: url.clone(),
        metadata: object("metadata")?,
        validation: object("validation_data")?,
    })
}

fn hex_of_length(value: &str, bytes: usize, key: &str, algo: &str) -> CoreResult<()> {
    let Some(len) = hex_len(value) else {
        return Err(CoreError::Conflict(format!(
            "{key} ({value}) is not a valid hexadecimal value"
        )));
    };
    if len != bytes {
        return Err(CoreError::Conflict(format!(
            "{key} ({value}) is not the correct size for {algo} (should be {bytes} bytes)"
        )));
    }
    Ok(())
}

fn over_quota(attempted: usize, quota: Option<usize>) -> CoreError {
    CoreError::TooLarge(format!(
        "The limit has been exceeded on the number of allowed image locations. Attempted: {attempted}, Maximum: {}",
        quota.map_or("unlimited".into(), |q| q.to_string())
    ))
}

fn location_change_result(
    change: LocationChange,
    url: &str,
    attempted: usize,
    quota: Option<usize>,
) -> CoreResult<()> {
    match change {
        LocationChange::Done => Ok(()),
        LocationChange::Duplicate => Err(CoreError::BadRequest(format!(
            "The location {} already exists",
            glance_store::redact_location(url)
        ))),
        LocationChange::OverQuota => Err(over_quota(attempted, quota)),
        _ => Err(CoreError::Conflict(
            "The image changed while the location was added; try again.".into(),
        )),
    }
}
