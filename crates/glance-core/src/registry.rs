//! The registry API of the seeds (`glance-registry`, port 9191): image metadata as JSON
//! (`{"image": {...}}`), locations included, on the same database as the API. It
//! stores what it is told (status, size, checksum, location): the API server in front
//! of it, not the registry, validates image data. Upstream's registry rules: the owner
//! of a non-admin's image is the caller's project, mutations only by admins and the
//! owner, `from_state` as a compare-and-swap, properties merged unless purged.

use std::collections::BTreeMap;

use glance_auth::RequestContext;
use glance_db::{ImageChanges, NewLocation, SqlValue};
use glance_domain::{Image, ImageStatus, Visibility};
use serde_json::{Map, Value};

use crate::v1::v1_not_found;
use crate::{CoreError, CoreResult, Glance};

/// The largest `min_disk` / `min_ram` upstream's database takes (a signed 32-bit int).
const MAX_INT_FIELD: i64 = 2_147_483_647;

/// Core fields a registry body may set besides the properties.
const SETTABLE: &[&str] = &[
    "name",
    "status",
    "size",
    "virtual_size",
    "disk_format",
    "container_format",
    "min_disk",
    "min_ram",
    "is_public",
    "checksum",
    "owner",
    "protected",
];

/// A registry request body's `image` object, read with upstream's registry rules.
struct Body<'a>(&'a Map<String, Value>);

impl Body<'_> {
    fn has(&self, key: &str) -> bool {
        self.0.contains_key(key)
    }

    fn text(&self, key: &str) -> Option<String> {
        match self.0.get(key)? {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        }
    }

    fn int(&self, key: &str) -> CoreResult<Option<i64>> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| CoreError::BadRequest(format!("Invalid {key}"))),
            Some(Value::String(s)) => s
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| CoreError::BadRequest(format!("Invalid {key}"))),
            Some(_) => Err(CoreError::BadRequest(format!("Invalid {key}"))),
        }
    }

    fn flag(&self, key: &str) -> Option<bool> {
        match self.0.get(key)? {
            Value::Bool(b) => Some(*b),
            Value::String(s) => Some(glance_domain::v1_meta::is_true_spelling(s)),
            Value::Number(n) => Some(n.as_f64() != Some(0.0)),
            _ => Some(false),
        }
    }

    fn status(&self) -> CoreResult<Option<ImageStatus>> {
        match self.text("status") {
            None => Ok(None),
            Some(s) => s.parse().map(Some).map_err(|_| {
                CoreError::BadRequest(format!("Invalid image status '{s}' for image."))
            }),
        }
    }

    fn properties(&self) -> BTreeMap<String, String> {
        self.0
            .get("properties")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(k, v)| {
                let text = match v {
                    Value::String(s) => s.clone(),
                    Value::Null => String::new(),
                    other => other.to_string(),
                };
                (k.clone(), text)
            })
            .collect()
    }
}

fn image_object(body: &Value) -> CoreResult<Body<'_>> {
    body.get("image")
        .and_then(Value::as_object)
        .map(Body)
        .ok_or_else(|| {
            CoreError::BadRequest("Image metadata must be in an \"image\" object.".into())
        })
}

fn checked_range(key: &str, value: Option<i64>) -> CoreResult<Option<i64>> {
    match value {
        Some(v) if v > MAX_INT_FIELD => Err(CoreError::BadRequest(format!(
            "'{key}' value out of range, must not exceed {MAX_INT_FIELD}."
        ))),
        other => Ok(other),
    }
}

/// Wraps an invalid-body error the way the registry words it for the operation.
fn failed(operation: &str) -> impl Fn(CoreError) -> CoreError + '_ {
    move |e| match e {
        CoreError::BadRequest(m) => CoreError::BadRequest(format!(
            "Failed to {operation} image metadata. Got error: {m}"
        )),
        other => other,
    }
}

impl Glance {
    /// `POST /images`: status `active` unless the body says otherwise.
    pub async fn registry_create(&self, ctx: &RequestContext, body: &Value) -> CoreResult<Image> {
        let image = self.registry_image(ctx, body).map_err(failed("add"))?;
        let location = image_object(body)?.text("location");
        match self.db.create_image(&image).await {
            Ok(()) => {}
            Err(glance_db::DbError::Duplicate) => {
                return Err(CoreError::Conflict(format!(
                    "Image with identifier {} already exists!",
                    image.id
                )))
            }
            Err(e) => return Err(e.into()),
        }
        if let Some(url) = location {
            let location = NewLocation {
                url,
                metadata: Map::new(),
            };
            self.db
                .add_location(&image.id, &location, &ImageStatus::ALL, None, None)
                .await?;
        }
        self.v1_reload(ctx, &image.id).await
    }

    fn registry_image(&self, ctx: &RequestContext, body: &Value) -> CoreResult<Image> {
        let b = image_object(body)?;
        let id = match b.text("id") {
            Some(id) if uuid::Uuid::parse_str(&id).is_ok() => id,
            Some(_) => return Err(CoreError::BadRequest("Invalid image id format".into())),
            None => uuid::Uuid::new_v4().to_string(),
        };
        let owner = if ctx.is_admin && b.has("owner") {
            b.text("owner")
        } else {
            ctx.project_id.clone()
        };
        let now = glance_db::now();
        Ok(Image {
            id,
            name: b.text("name"),
            status: b.status()?.unwrap_or(ImageStatus::Active),
            visibility: if b.flag("is_public") == Some(true) {
                Visibility::Public
            } else {
                Visibility::Shared
            },
            protected: b.flag("protected").unwrap_or(false),
            os_hidden: false,
            checksum: b.text("checksum"),
            os_hash_algo: None,
            os_hash_value: None,
            owner,
            size: b.int("size")?,
            virtual_size: b.int("virtual_size")?,
            min_ram: checked_range("min_ram", b.int("min_ram")?)?.unwrap_or(0),
            min_disk: checked_range("min_disk", b.int("min_disk")?)?.unwrap_or(0),
            disk_format: b.text("disk_format"),
            container_format: b.text("container_format"),
            created_at: now,
            updated_at: now,
            properties: b.properties(),
            tags: Vec::new(),
            locations: Vec::new(),
        })
    }

    /// Admins and the owner may change an image; for anyone else it is not found,
    /// unless it is public (403), as the registry's `is_image_mutable` answers.
    async fn registry_mutable(&self, ctx: &RequestContext, id: &str) -> CoreResult<Image> {
        let image = self.v1_find(ctx, id).await?;
        if ctx.is_admin || ctx.owns(image.owner.as_deref()) {
            return Ok(image);
        }
        if matches!(image.visibility, Visibility::Public | Visibility::Community) {
            return Err(CoreError::Forbidden(format!(
                "Image {id} is public and cannot be changed by this user."
            )));
        }
        Err(v1_not_found(id))
    }

    /// `PUT /images/{id}`: the fields the body names; properties merged, or replaced
    /// when `purge`; with `from_state`, only while the image is in that status (409).
    pub async fn registry_update(
        &self,
        ctx: &RequestContext,
        id: &str,
        body: &Value,
        purge: bool,
    ) -> CoreResult<Image> {
        let image = self.registry_mutable(ctx, id).await?;
        let b = image_object(body)?;
        let changes = registry_changes(ctx, &image, &b, purge).map_err(failed("update"))?;
        let from_state = match body.get("from_state").and_then(Value::as_str) {
            Some(s) => Some(s.parse::<ImageStatus>().map_err(|_| {
                CoreError::BadRequest(format!("Invalid image status '{s}' for image."))
            })?),
            None => None,
        };
        let expected = from_state.or(Some(image.status));
        if !changes.is_empty() && !self.db.update_image(id, &changes, expected).await? {
            return Err(CoreError::Conflict("Image operation conflicts".into()));
        }
        if let Some(url) = b.text("location") {
            if !image.locations.iter().any(|l| l.url == url) {
                let location = NewLocation {
                    url,
                    metadata: Map::new(),
                };
                self.db
                    .add_location(id, &location, &ImageStatus::ALL, None, None)
                    .await?;
            }
        }
        self.v1_reload(ctx, id).await
    }

    /// `DELETE /images/{id}`: marks the image deleted and returns it as it was. The
    /// data is the API server's to remove.
    pub async fn registry_delete(&self, ctx: &RequestContext, id: &str) -> CoreResult<Image> {
        let image = self.registry_mutable(ctx, id).await?;
        // A v1 API node under delayed delete first sets `pending_delete` through the
        // registry; the delete then keeps it (and its locations) pending, as upstream's
        // `image_destroy` leaves the status alone.
        let to = match image.status {
            ImageStatus::PendingDelete => ImageStatus::PendingDelete,
            _ => ImageStatus::Deleted,
        };
        if !self.db.delete_image(id, image.status, to).await? {
            return Err(CoreError::Conflict("Image operation conflicts".into()));
        }
        Ok(image)
    }
}

fn registry_changes(
    ctx: &RequestContext,
    image: &Image,
    b: &Body<'_>,
    purge: bool,
) -> CoreResult<ImageChanges> {
    let mut changes = ImageChanges::default();
    for key in SETTABLE.iter().filter(|k| b.has(k)) {
        let value = match *key {
            "status" => b
                .status()?
                .map_or(SqlValue::Null, |s| SqlValue::Text(s.as_str().into())),
            "size" | "virtual_size" => b.int(key)?.map_or(SqlValue::Null, SqlValue::Int),
            "min_disk" | "min_ram" => SqlValue::Int(checked_range(key, b.int(key)?)?.unwrap_or(0)),
            "protected" => SqlValue::Bool(b.flag(key).unwrap_or(false)),
            "is_public" => {
                let visibility =
                    crate::v1::visibility_for(b.flag(key) == Some(true), image.visibility);
                changes
                    .columns
                    .push(("visibility", SqlValue::Text(visibility.as_str().into())));
                continue;
            }
            // Only admins may give an image away; the registry drops it for others.
            "owner" if !ctx.is_admin => continue,
            _ => b.text(key).map_or(SqlValue::Null, SqlValue::from),
        };
        changes.columns.push((*key, value));
    }
    let properties = b.properties();
    if b.has("properties") || purge {
        for (k, v) in &properties {
            changes.set_properties.push((k.clone(), v.clone()));
        }
        if purge {
            changes.remove_properties = image
                .properties
                .keys()
                .filter(|k| !properties.contains_key(*k))
                .cloned()
                .collect();
        }
    }
    Ok(changes)
}
