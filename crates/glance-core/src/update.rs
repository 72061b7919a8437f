//! `PATCH /v2/images/{id}`: check every operation as upstream's deserializer does
//! (before the image is even looked up), apply them in order to a working copy as
//! upstream's controller does, then write only what changed.

use glance_auth::protections::PropertyOp;
use glance_auth::RequestContext;
use glance_db::{ImageChanges, SqlValue};
use glance_domain::image::{is_reserved_key, SETTABLE_CORE_ATTRIBUTES};
use glance_domain::patch::{PatchDialect, PatchOp, PatchOpKind};
use glance_domain::{Image, ImageStatus, Visibility};
use serde_json::{Map, Value};

use crate::access::ImagePolicy;
use crate::create::{
    check_not_negative, check_property_count, check_tag_count, read_only, reserved,
};
use crate::{CoreError, CoreResult, Glance};

/// What a PATCH may never target (upstream's `_readonly_properties` of the
/// deserializer, plus `stores`, which only the server sets).
const PATCH_READ_ONLY: &[&str] = &[
    "created_at",
    "updated_at",
    "status",
    "checksum",
    "size",
    "virtual_size",
    "direct_url",
    "self",
    "file",
    "schema",
    "id",
    "os_hash_algo",
    "os_hash_value",
    "stores",
];

impl Glance {
    pub async fn update_image(
        &self,
        ctx: &RequestContext,
        id: &str,
        ops: &[PatchOp],
        dialect: PatchDialect,
    ) -> CoreResult<Image> {
        let is_location_op = |op: &PatchOp| op.path.first().is_some_and(|k| k == "locations");
        if self.settings.show_multiple_locations && ops.iter().any(is_location_op) {
            // Location operations touch the store and are written one by one; mixing
            // them with other changes in one request is not supported.
            if !ops.iter().all(is_location_op) {
                return Err(CoreError::BadRequest(
                    "Location changes cannot be combined with other changes in one request.".into(),
                ));
            }
            self.patch_locations(ctx, id, ops).await?;
            return self.get_image(ctx, id).await;
        }
        for op in ops {
            self.validate_op(op)?;
        }
        let original = self.find_image(ctx, id).await?;
        if ops.is_empty() {
            // Upstream saves nothing (and checks no write policy) for an empty patch.
            return Ok(original);
        }
        let mut image = original.clone();
        let policy = self.image_policy(ctx, &original);
        for op in ops {
            self.apply(ctx, &policy, &mut image, op, dialect)?;
        }
        if image
            .properties
            .keys()
            .any(|k| !original.properties.contains_key(k))
        {
            check_property_count(&self.settings, &image.properties)?;
        }
        let changes = diff(&original, &image);
        // A format change is only legal while queued: make the write conditional on it.
        let formats_changed = original.disk_format != image.disk_format
            || original.container_format != image.container_format;
        let expected = formats_changed.then_some(original.status);
        if !self.db.update_image(id, &changes, expected).await? {
            return Err(if formats_changed {
                CoreError::Conflict(format!(
                    "Image {id} changed status concurrently; try again."
                ))
            } else {
                crate::images::not_found(id)
            });
        }
        self.get_image(ctx, id).await
    }

    /// Upstream's `_validate_change` (the pointer depth was checked when parsing):
    /// read-only and reserved targets, and the value against the image schema.
    fn validate_op(&self, op: &PatchOp) -> CoreResult<()> {
        let key = op.path.first().map(String::as_str).unwrap_or("");
        if PATCH_READ_ONLY.contains(&key) {
            return Err(read_only(key));
        }
        if is_reserved_key(key) {
            return Err(reserved(key));
        }
        let Some(value) = &op.value else {
            return Ok(());
        };
        let mut single = Map::new();
        let value = if op.path.len() == 1 {
            value.clone()
        } else {
            Value::Array(vec![value.clone()])
        };
        single.insert(key.to_string(), value);
        self.schemas
            .validate_image(&single)
            .map_err(|v| CoreError::BadRequest(v.0))
    }

    /// Upstream's `_do_add` / `_do_replace` / `_do_remove` on the working copy.
    fn apply(
        &self,
        ctx: &RequestContext,
        policy: &ImagePolicy<'_>,
        image: &mut Image,
        op: &PatchOp,
        dialect: PatchDialect,
    ) -> CoreResult<()> {
        let key = op.path[0].as_str();
        if key == "locations" {
            return Err(locations_refusal(op));
        }
        let is_core = SETTABLE_CORE_ATTRIBUTES.contains(&key);
        match op.kind {
            PatchOpKind::Remove => {
                policy.enforce("modify_image")?;
                if is_core {
                    return Err(CoreError::ForbiddenDetail(format!(
                        "Property {key} may not be removed."
                    )));
                }
                // A property the caller may not read does not exist for it.
                if !self.property_visible(ctx, image, key) {
                    return Err(CoreError::ConflictDetail(format!(
                        "Property {key} does not exist."
                    )));
                }
                self.require_property_op(ctx, key, PropertyOp::Delete)?;
                if image.properties.remove(key).is_none() {
                    return Err(CoreError::ConflictDetail(format!(
                        "Property {key} does not exist."
                    )));
                }
                Ok(())
            }
            PatchOpKind::Add | PatchOpKind::Replace => {
                let value = op.value.clone().unwrap_or(Value::Null);
                // Unlike upstream, an `add` of the owner is refused too (upstream hands
                // the image to the other project, then answers 403).
                if key == "owner" && !ctx.is_admin {
                    return Err(CoreError::ForbiddenDetail(
                        "Owner can't be updated by non admin.".into(),
                    ));
                }
                if key == "visibility" {
                    if let Some(to) = value.as_str().and_then(|v| v.parse::<Visibility>().ok()) {
                        policy.enforce_visibility(to)?;
                    }
                }
                policy.enforce("modify_image")?;
                let visible = !is_core && self.property_visible(ctx, image, key);
                if op.kind == PatchOpKind::Add
                    && dialect == PatchDialect::V2_0
                    && (is_core || visible)
                {
                    return Err(CoreError::ConflictDetail(format!(
                        "Property {key} already present."
                    )));
                }
                if is_core {
                    return set_core(&self.settings, image, key, value);
                }
                if op.kind == PatchOpKind::Replace && !visible {
                    return Err(CoreError::ConflictDetail(format!(
                        "Property {key} does not exist."
                    )));
                }
                // Changing a property the caller can see needs `update`; anything else
                // (a new one, or one hidden from it) is a creation.
                let needed = if visible {
                    PropertyOp::Update
                } else {
                    PropertyOp::Create
                };
                self.require_property_op(ctx, key, needed)?;
                if key.chars().count() > 255 {
                    return Err(CoreError::BadRequest(
                        "Custom property should not be greater than 255 characters.".into(),
                    ));
                }
                image.properties.insert(
                    key.to_string(),
                    value.as_str().unwrap_or_default().to_string(),
                );
                Ok(())
            }
        }
    }
}

/// Location changes through PATCH need `show_multiple_locations`, which this server
/// does not offer yet: upstream's refusals when locations are hidden.
fn locations_refusal(op: &PatchOp) -> CoreError {
    let empty = op
        .value
        .as_ref()
        .is_some_and(|v| v.as_array().is_some_and(Vec::is_empty));
    if op.kind == PatchOpKind::Replace && empty {
        return CoreError::ForbiddenDetail("Cannot set locations to empty list.".into());
    }
    let msg = match op.kind {
        PatchOpKind::Replace => "It's not allowed to update locations if locations are invisible.",
        PatchOpKind::Add => "It's not allowed to add locations if locations are invisible.",
        PatchOpKind::Remove => "It's not allowed to remove locations if locations are invisible.",
    };
    CoreError::Forbidden(msg.into())
}

/// Sets a base attribute (the value already passed the schema).
fn set_core(
    settings: &glance_config::Settings,
    image: &mut Image,
    key: &str,
    value: Value,
) -> CoreResult<()> {
    let text = || value.as_str().map(String::from);
    match key {
        "name" => image.name = text(),
        "protected" => image.protected = value.as_bool().unwrap_or(image.protected),
        "os_hidden" => image.os_hidden = value.as_bool().unwrap_or(image.os_hidden),
        "min_ram" | "min_disk" => {
            let n = value.as_i64().unwrap_or(0);
            check_not_negative(key, n)?;
            if key == "min_ram" {
                image.min_ram = n;
            } else {
                image.min_disk = n;
            }
        }
        "owner" => image.owner = text(),
        "visibility" => {
            image.visibility =
                value.as_str().unwrap_or_default().parse().map_err(
                    |e: glance_domain::UnknownValue| CoreError::BadRequest(e.to_string()),
                )?;
        }
        "disk_format" | "container_format" => {
            if !matches!(image.status, ImageStatus::Queued | ImageStatus::Importing) {
                return Err(CoreError::Forbidden(format!(
                    "Attribute {key} can be only replaced for a queued image."
                )));
            }
            if key == "disk_format" {
                image.disk_format = text();
            } else {
                image.container_format = text();
            }
        }
        "tags" => {
            let sent = value.as_array().map_or(0, Vec::len);
            check_tag_count(settings, sent)?;
            let mut tags: Vec<String> = Vec::new();
            for t in value
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                if !tags.iter().any(|x| x == t) {
                    tags.push(t.to_string());
                }
            }
            image.tags = tags;
        }
        _ => return Err(read_only(key)),
    }
    Ok(())
}

/// What differs between two versions of an image, as column writes.
fn diff(old: &Image, new: &Image) -> ImageChanges {
    let mut c = ImageChanges::default();
    let mut col = |name: &'static str, changed: bool, value: SqlValue| {
        if changed {
            c.columns.push((name, value));
        }
    };
    col("name", old.name != new.name, new.name.clone().into());
    col(
        "protected",
        old.protected != new.protected,
        new.protected.into(),
    );
    col(
        "os_hidden",
        old.os_hidden != new.os_hidden,
        new.os_hidden.into(),
    );
    col("min_ram", old.min_ram != new.min_ram, new.min_ram.into());
    col(
        "min_disk",
        old.min_disk != new.min_disk,
        new.min_disk.into(),
    );
    col("owner", old.owner != new.owner, new.owner.clone().into());
    col(
        "visibility",
        old.visibility != new.visibility,
        new.visibility.as_str().into(),
    );
    col(
        "disk_format",
        old.disk_format != new.disk_format,
        new.disk_format.clone().into(),
    );
    col(
        "container_format",
        old.container_format != new.container_format,
        new.container_format.clone().into(),
    );
    for (k, v) in &new.properties {
        if old.properties.get(k) != Some(v) {
            c.set_properties.push((k.clone(), v.clone()));
        }
    }
    for k in old.properties.keys() {
        if !new.properties.contains_key(k) {
            c.remove_properties.push(k.clone());
        }
    }
    let mut old_tags = old.tags.clone();
    let mut new_tags = new.tags.clone();
    old_tags.sort();
    new_tags.sort();
    if old_tags != new_tags {
        c.tags = Some(new.tags.clone());
    }
    c
}
