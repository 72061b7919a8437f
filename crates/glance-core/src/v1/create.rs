//! `POST /v1/images`: reserve an image, and upload its data or register a location.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::Stream;
use glance_auth::protections::PropertyOp;
use glance_auth::RequestContext;
use glance_db::{SqlValue, StatusChange};
use glance_domain::v1_meta::V1Meta;
use glance_domain::{Image, ImageStatus, Visibility};
use glance_store::Store;

use super::{OctetStream, V1Body};
use crate::access::ImagePolicy;
use crate::create::check_property_count;
use crate::locations::RESTRICTED_SCHEMES;
use crate::stores::store_caller;
use crate::{CoreError, CoreResult, Glance};

impl Glance {
    /// Checks everything first (metadata, policy, protections, quota, the image
    /// source), then inserts the image and brings its data, so that a refused request
    /// writes nothing.
    pub async fn v1_create<S, E>(
        &self,
        ctx: &RequestContext,
        mut meta: V1Meta,
        body: Option<V1Body<S>>,
    ) -> CoreResult<Image>
    where
        S: Stream<Item = Result<Bytes, E>> + Send + Unpin,
        E: std::fmt::Display,
    {
        self.v1_check_meta(&mut meta, body.as_ref())?;
        let visibility = match meta.is_public {
            Some(true) => Visibility::Public,
            _ => Visibility::Shared,
        };
        let owner = match (ctx.is_admin, meta.has("owner")) {
            (true, true) => meta.text("owner").map(str::to_string),
            _ => ctx.project_id.clone(),
        };
        let policy = ImagePolicy::proposed(&self.policy, ctx, owner.as_deref(), visibility);
        policy.enforce("add_image")?;
        policy.enforce_visibility(visibility)?;
        if body.is_some() {
            policy.enforce("upload_image")?;
        }
        if meta.has("location") {
            policy.enforce("set_image_location")?;
        }
        for key in meta.properties.keys() {
            self.v1_require_property(ctx, key, PropertyOp::Create)?;
        }
        let properties: BTreeMap<String, String> = meta
            .properties
            .iter()
            .map(|(k, v)| (k.clone(), v.clone().unwrap_or_default()))
            .collect();
        check_property_count(&self.settings, &properties)?;
        let location = self
            .v1_image_source(ctx, &meta, None, body.as_ref().map(V1Body::octet))
            .await?;
        let id = match meta.text("id") {
            Some(id) => uuid::Uuid::parse_str(id)
                .map(|_| id.to_string())
                .map_err(|_| {
                    CoreError::BadRequest(
                        "Failed to reserve image. Got error: Invalid image id format".into(),
                    )
                })?,
            None => uuid::Uuid::new_v4().to_string(),
        };
        let now = glance_db::now();
        // Upstream v1 makes an image announced as empty active at once.
        let empty = body.is_none() && location.is_none() && meta.size == Some(0);
        let image = Image {
            id: id.clone(),
            name: meta.text("name").map(str::to_string),
            status: if empty {
                ImageStatus::Active
            } else {
                ImageStatus::Queued
            },
            visibility,
            protected: meta.protected.unwrap_or(false),
            os_hidden: false,
            checksum: None,
            os_hash_algo: None,
            os_hash_value: None,
            owner,
            size: meta.size,
            virtual_size: meta.virtual_size.flatten(),
            min_ram: meta.min_ram.unwrap_or(0),
            min_disk: meta.min_disk.unwrap_or(0),
            disk_format: meta.text("disk_format").map(str::to_string),
            container_format: meta.text("container_format").map(str::to_string),
            created_at: now,
            updated_at: now,
            properties,
            tags: Vec::new(),
            locations: Vec::new(),
        };
        match self.db.create_image(&image).await {
            Ok(()) => {}
            Err(glance_db::DbError::Duplicate) => {
                return Err(CoreError::Conflict(format!(
                    "An image with identifier {id} already exists"
                )))
            }
            Err(e) => return Err(e.into()),
        }
        if let Some((url, store, size)) = location {
            self.v1_activate_location(&id, ImageStatus::Queued, &url, &store, size)
                .await?;
        } else if let Some(body) = body {
            self.v1_upload(ctx, &id, &meta, body).await?;
        }
        self.v1_reload(ctx, &id).await
    }

    /// The image's new data source, checked before anything is written: at most one
    /// of a body and `x-image-meta-location`, both formats set (in the request, or on
    /// the `current` image unless the request clears them), an octet-stream body, and
    /// a location a store serves (see `v1_location`).
    /// `body` says whether the request carries data, and then whether it is an octet
    /// stream (only these facts: the body itself is not `Sync`).
    pub(crate) async fn v1_image_source(
        &self,
        ctx: &RequestContext,
        meta: &V1Meta,
        current: Option<&Image>,
        body: Option<OctetStream>,
    ) -> CoreResult<Option<(String, Arc<dyn Store>, i64)>> {
        if meta.has("location") && body.is_some() {
            return Err(CoreError::BadRequest(
                "It's invalid to provide multiple image sources.".into(),
            ));
        }
        let location = self.v1_location(ctx, meta).await?;
        let set = |field: &str, stored: Option<&Option<String>>| {
            meta.text(field).is_some() || (!meta.has(field) && stored.is_some_and(Option::is_some))
        };
        if body.is_some() || location.is_some() {
            check_formats_for_data(
                set("disk_format", current.map(|i| &i.disk_format)),
                set("container_format", current.map(|i| &i.container_format)),
            )?;
        }
        if body == Some(OctetStream(false)) {
            return Err(CoreError::BadRequest(
                "Content-Type must be application/octet-stream".into(),
            ));
        }
        Ok(location)
    }

    /// `x-image-meta-location`: the store that serves it and its size (the supplied
    /// size, else the store's), after the same security rules as the v2 location API.
    async fn v1_location(
        &self,
        ctx: &RequestContext,
        meta: &V1Meta,
    ) -> CoreResult<Option<(String, Arc<dyn Store>, i64)>> {
        if !meta.has("location") {
            return Ok(None);
        }
        let Some(url) = meta.text("location") else {
            return Err(CoreError::BadRequest(
                "External source should not be empty".into(),
            ));
        };
        let scheme = url
            .split("://")
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        if !url.contains("://")
            || RESTRICTED_SCHEMES.contains(&scheme.as_str())
            || self.stores.for_location(url).is_none()
        {
            return Err(CoreError::BadRequest(format!(
                "External sources are not supported: '{}'",
                glance_store::redact_location(url)
            )));
        }
        let store = self.store_for_new_location(ctx, url)?;
        let stored = store
            .size(url, &store_caller(ctx))
            .await
            .map_err(|e| match e {
                glance_store::StoreError::NotFound(why) => CoreError::NotFound(why),
                other => CoreError::BadRequest(other.to_string()),
            })?;
        let size = match meta.size {
            Some(given) if given > 0 && stored > 0 && given as u64 != stored => {
                return Err(CoreError::Conflict(format!(
                    "Provided image size must match the stored image size. (provided size: \
                     {given}, stored size: {stored})"
                )))
            }
            Some(given) if given > 0 => given,
            _ => stored as i64,
        };
        Ok(Some((url.to_string(), store, size)))
    }

    /// Activates a queued image on a registered location (one transaction).
    pub(crate) async fn v1_activate_location(
        &self,
        id: &str,
        from: ImageStatus,
        url: &str,
        store: &Arc<dyn Store>,
        size: i64,
    ) -> CoreResult<()> {
        let change = StatusChange {
            from,
            to: ImageStatus::Active,
            columns: vec![("size", SqlValue::Int(size))],
        };
        let mut metadata = serde_json::Map::new();
        if self.stores.multi_store() {
            metadata.insert("store".into(), store.info().id.clone().into());
        }
        if !self
            .db
            .activate_with_location(id, &change, url, &metadata)
            .await?
        {
            return Err(CoreError::Conflict("Image operation conflicts".into()));
        }
        Ok(())
    }
}

/// Upstream's `_validate_image_for_activation`.
fn check_formats_for_data(disk: bool, container: bool) -> CoreResult<()> {
    if !disk {
        return Err(CoreError::BadRequest(
            "Disk format is not specified.".into(),
        ));
    }
    if !container {
        return Err(CoreError::BadRequest(
            "Container format is not specified.".into(),
        ));
    }
    Ok(())
}
