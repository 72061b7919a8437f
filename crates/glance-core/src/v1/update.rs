//! `PUT /v1/images/{id}`: metadata, and data or a location for a queued image.

use std::collections::BTreeMap;

use bytes::Bytes;
use futures_util::Stream;
use glance_auth::protections::PropertyOp;
use glance_auth::RequestContext;
use glance_db::{ImageChanges, SqlValue};
use glance_domain::v1_meta::V1Meta;
use glance_domain::{Image, ImageStatus, Visibility};

use super::V1Body;
use crate::create::check_property_count;
use crate::{CoreError, CoreResult, Glance};

/// What a v1 update asks for besides the metadata headers.
pub struct V1UpdateOptions {
    /// `x-glance-registry-purge-props`; upstream's default (header absent) is to purge.
    pub purge_props: Option<bool>,
}

impl Glance {
    /// Upstream's order: metadata (400), policy (403), the image (404), immutable
    /// fields (403), data only for queued images (409), locations only for queued
    /// images (400), property protections and quota, then one conditional update.
    pub async fn v1_update<S, E>(
        &self,
        ctx: &RequestContext,
        id: &str,
        mut meta: V1Meta,
        options: V1UpdateOptions,
        body: Option<V1Body<S>>,
    ) -> CoreResult<Image>
    where
        S: Stream<Item = Result<Bytes, E>> + Send + Unpin,
        E: std::fmt::Display,
    {
        self.v1_check_meta(&mut meta, body.as_ref())?;
        let image = self.v1_find(ctx, id).await?;
        let policy = self.image_policy(ctx, &image);
        policy.enforce("modify_image")?;
        if meta.is_public == Some(true) {
            policy.enforce_visibility(Visibility::Public)?;
        }
        if body.is_some() {
            policy.enforce("upload_image")?;
        }
        if meta.has("location") {
            policy.enforce("set_image_location")?;
        }
        check_immutable_fields(ctx, &image, &meta)?;
        let purge = options.purge_props.unwrap_or(true) && body.is_none();
        if body.is_some() && image.status != ImageStatus::Queued {
            return Err(CoreError::Conflict(
                "Cannot upload to an unqueued image".into(),
            ));
        }
        if meta.has("location") && image.status != ImageStatus::Queued {
            return Err(CoreError::BadRequest(
                "Attempted to update Location field for an image not in queued status.".into(),
            ));
        }
        let changes = self.v1_changes(ctx, &image, &meta, purge)?;
        let location = self
            .v1_image_source(ctx, &meta, Some(&image), body.as_ref().map(V1Body::octet))
            .await?;
        if !changes.is_empty()
            && !self
                .db
                .update_image(id, &changes, Some(image.status))
                .await?
        {
            return Err(CoreError::Conflict("Image operation conflicts".into()));
        }
        if let Some((url, store, size)) = location {
            self.v1_activate_location(id, ImageStatus::Queued, &url, &store, size)
                .await?;
        } else if let Some(body) = body {
            self.v1_upload(ctx, id, &meta, body).await?;
        }
        self.v1_reload(ctx, id).await
    }

    /// The column and property changes of a v1 update, after protections and quota.
    fn v1_changes(
        &self,
        ctx: &RequestContext,
        image: &Image,
        meta: &V1Meta,
        purge: bool,
    ) -> CoreResult<ImageChanges> {
        let mut changes = ImageChanges::default();
        let text = |field: &str| meta.text(field).map_or(SqlValue::Null, SqlValue::from);
        for field in ["name", "disk_format", "container_format"] {
            if meta.has(field) {
                changes.columns.push((field, text(field)));
            }
        }
        if let Some(v) = meta.min_ram {
            changes.columns.push(("min_ram", SqlValue::Int(v)));
        }
        if let Some(v) = meta.min_disk {
            changes.columns.push(("min_disk", SqlValue::Int(v)));
        }
        if let Some(v) = meta.protected {
            changes.columns.push(("protected", SqlValue::Bool(v)));
        }
        if let Some(public) = meta.is_public {
            let visibility = super::visibility_for(public, image.visibility);
            changes
                .columns
                .push(("visibility", SqlValue::Text(visibility.as_str().into())));
        }
        // Only admins may give an image away; the registry drops it for others.
        if ctx.is_admin && meta.has("owner") {
            changes.columns.push(("owner", text("owner")));
        }
        for (key, value) in &meta.properties {
            let op = if image.properties.contains_key(key) {
                PropertyOp::Update
            } else {
                PropertyOp::Create
            };
            self.v1_require_property(ctx, key, op)?;
            changes
                .set_properties
                .push((key.clone(), value.clone().unwrap_or_default()));
        }
        if purge {
            for key in image.properties.keys() {
                if meta.properties.contains_key(key) {
                    continue;
                }
                // Properties the caller cannot read are kept, silently.
                if !self.property_allowed(ctx, key, PropertyOp::Read) {
                    continue;
                }
                self.v1_require_property(ctx, key, PropertyOp::Delete)?;
                changes.remove_properties.push(key.clone());
            }
        }
        let mut after: BTreeMap<String, String> = image.properties.clone();
        for key in &changes.remove_properties {
            after.remove(key);
        }
        after.extend(changes.set_properties.iter().cloned());
        check_property_count(&self.settings, &after)?;
        Ok(changes)
    }
}

/// Upstream's immutability rules: nobody changes `status` or `id`; only admins change
/// the `size` or `checksum` of an image that has data. Restating a value is allowed.
fn check_immutable_fields(ctx: &RequestContext, image: &Image, meta: &V1Meta) -> CoreResult<()> {
    let has_data = matches!(image.status, ImageStatus::Active | ImageStatus::Deactivated);
    if !ctx.is_admin && has_data {
        let changed = [
            ("size", meta.has("size") && meta.size != image.size),
            (
                "checksum",
                meta.has("checksum") && meta.text("checksum") != image.checksum.as_deref(),
            ),
        ];
        for (field, changed) in changed {
            if changed {
                return Err(CoreError::Forbidden(format!(
                    "Forbidden to modify '{field}' of {} image.",
                    image.status
                )));
            }
        }
    }
    for (field, current) in [("status", image.status.as_str()), ("id", image.id.as_str())] {
        if meta.has(field) && meta.text(field) != Some(current) {
            return Err(CoreError::Forbidden(format!(
                "Forbidden to modify '{field}' of image."
            )));
        }
    }
    Ok(())
}
