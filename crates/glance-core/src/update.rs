//! `PATCH /v2/images/{id}`: apply JSON-patch operations to a working copy, validate,
//! then write only what changed.

use glance_auth::RequestContext;
use glance_db::{ImageChanges, SqlValue};
use glance_domain::image::{is_reserved_key, READ_ONLY_ATTRIBUTES, SETTABLE_CORE_ATTRIBUTES};
use glance_domain::patch::{PatchDialect, PatchOp, PatchOpKind};
use glance_domain::{Image, ImageStatus, Visibility};
use serde_json::{Map, Value};

use crate::access::{require_visibility_change, require_write};
use crate::create::{check_counts, read_only, reserved};
use crate::{CoreError, CoreResult, Glance};

impl Glance {
    pub async fn update_image(
        &self,
        ctx: &RequestContext,
        id: &str,
        ops: &[PatchOp],
        dialect: PatchDialect,
    ) -> CoreResult<Image> {
        let original = self.get_image(ctx, id).await?;
        require_write(ctx, &original, "modify_image")?;
        let mut image = original.clone();
        for op in ops {
            self.apply(ctx, &mut image, op, dialect)?;
        }
        if image.min_ram < 0 || image.min_disk < 0 {
            return Err(CoreError::BadRequest("Cannot set min_ram or min_disk to a negative value.".into()));
        }
        if image.properties.len() > original.properties.len() || image.tags.len() > original.tags.len() {
            check_counts(&self.settings, image.properties.len(), image.tags.len())?;
        }
        let changes = diff(&original, &image);
        // A format change is only legal while queued: make the write conditional on it.
        let formats_changed = original.disk_format != image.disk_format
            || original.container_format != image.container_format;
        let expected = formats_changed.then_some(original.status);
        if !self.db.update_image(id, &changes, expected).await? {
            return Err(if formats_changed {
                CoreError::Conflict(format!("Image {id} changed status concurrently; try again."))
            } else {
                crate::images::not_found(id)
            });
        }
        self.get_image(ctx, id).await
    }

    fn apply(&self, ctx: &RequestContext, image: &mut Image, op: &PatchOp, dialect: PatchDialect) -> CoreResult<()> {
        let key = op.path.first().map(String::as_str).unwrap_or("");
        if op.path.len() > 1 || key == "locations" {
            if key == "locations" {
                return Err(CoreError::Forbidden(
                    "It's not allowed to update locations if locations are invisible.".into(),
                ));
            }
            return Err(CoreError::BadRequest(format!(
                "Invalid JSON pointer for this resource: '/{}'",
                op.path.join("/")
            )));
        }
        if READ_ONLY_ATTRIBUTES.contains(&key) {
            return Err(read_only(key));
        }
        if is_reserved_key(key) {
            return Err(reserved(key));
        }
        let is_core = SETTABLE_CORE_ATTRIBUTES.contains(&key);
        match op.kind {
            PatchOpKind::Remove => {
                if is_core {
                    return Err(CoreError::Forbidden(format!("Property {key} may not be removed.")));
                }
                if image.properties.remove(key).is_none() {
                    return Err(CoreError::Conflict(format!("Property {key} does not exist.")));
                }
                Ok(())
            }
            PatchOpKind::Add | PatchOpKind::Replace => {
                let value = op.value.clone().unwrap_or(Value::Null);
                let mut single = Map::new();
                single.insert(key.to_string(), value.clone());
                self.schemas.validate_image(&single).map_err(|v| CoreError::BadRequest(v.0))?;
                if op.kind == PatchOpKind::Add && dialect == PatchDialect::V2_0
                    && (is_core || image.properties.contains_key(key))
                {
                    return Err(CoreError::Conflict(format!("Property {key} already present.")));
                }
                if is_core {
                    return set_core(ctx, image, key, value);
                }
                if op.kind == PatchOpKind::Replace && !image.properties.contains_key(key) {
                    return Err(CoreError::Conflict(format!("Property {key} does not exist.")));
                }
                if key.chars().count() > 255 {
                    return Err(CoreError::BadRequest(format!("Property name '{key}' is longer than 255 characters.")));
                }
                image.properties.insert(key.to_string(), value.as_str().unwrap_or_default().to_string());
                Ok(())
            }
        }
    }
}

fn set_core(ctx: &RequestContext, image: &mut Image, key: &str, value: Value) -> CoreResult<()> {
    let text = || value.as_str().map(String::from);
    match key {
        "name" => image.name = text(),
        "protected" => image.protected = value.as_bool().unwrap_or(image.protected),
        "os_hidden" => image.os_hidden = value.as_bool().unwrap_or(image.os_hidden),
        "min_ram" => image.min_ram = value.as_i64().unwrap_or(image.min_ram),
        "min_disk" => image.min_disk = value.as_i64().unwrap_or(image.min_disk),
        "owner" => {
            if !ctx.is_admin {
                return Err(CoreError::Forbidden("Owner can't be updated by non admin.".into()));
            }
            image.owner = text();
        }
        "visibility" => {
            let to: Visibility = value
                .as_str()
                .unwrap_or_default()
                .parse()
                .map_err(|e: glance_domain::UnknownValue| CoreError::BadRequest(e.to_string()))?;
            if to != image.visibility {
                require_visibility_change(ctx, image.owner.as_deref(), to)?;
            }
            image.visibility = to;
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
            let mut tags: Vec<String> = Vec::new();
            for t in value.as_array().into_iter().flatten().filter_map(Value::as_str) {
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
    col("protected", old.protected != new.protected, new.protected.into());
    col("os_hidden", old.os_hidden != new.os_hidden, new.os_hidden.into());
    col("min_ram", old.min_ram != new.min_ram, new.min_ram.into());
    col("min_disk", old.min_disk != new.min_disk, new.min_disk.into());
    col("owner", old.owner != new.owner, new.owner.clone().into());
    col("visibility", old.visibility != new.visibility, new.visibility.as_str().into());
    col("disk_format", old.disk_format != new.disk_format, new.disk_format.clone().into());
    col("container_format", old.container_format != new.container_format, new.container_format.clone().into());
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
