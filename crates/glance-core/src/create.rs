//! `POST /v2/images`: validation in upstream's order, then one insert.

use glance_auth::RequestContext;
use glance_domain::image::{is_reserved_key, READ_ONLY_ATTRIBUTES, SETTABLE_CORE_ATTRIBUTES};
use glance_domain::{Image, ImageStatus, Visibility};
use serde_json::{Map, Value};

use crate::access::{has_member_role, require_visibility_change};
use crate::{quota, CoreError, CoreResult, Glance};

/// Attributes that may never appear in a create body; upstream answers "read-only".
const CREATE_FORBIDDEN: &[&str] = &["direct_url", "self", "file", "schema", "stores"];
/// Silently dropped from a create body, as upstream does.
const CREATE_IGNORED: &[&str] = &["os_hash_algo", "os_hash_value"];

pub(crate) fn read_only(key: &str) -> CoreError {
    CoreError::Forbidden(format!("Attribute '{key}' is read-only."))
}

pub(crate) fn reserved(key: &str) -> CoreError {
    CoreError::Forbidden(format!("Attribute '{key}' is reserved."))
}

impl Glance {
    pub async fn create_image(&self, ctx: &RequestContext, body: Value) -> CoreResult<Image> {
        let Value::Object(mut body) = body else {
            return Err(CoreError::BadRequest("Request body must be a JSON object.".into()));
        };
        if let Some(key) = CREATE_FORBIDDEN.iter().find(|k| body.contains_key(**k)) {
            return Err(read_only(key));
        }
        for key in CREATE_IGNORED {
            body.remove(*key);
        }
        self.schemas.validate_image(&body).map_err(|v| CoreError::BadRequest(v.0))?;
        for key in body.keys() {
            if key == "locations" || is_reserved_key(key) {
                return Err(reserved(key));
            }
            if READ_ONLY_ATTRIBUTES.contains(&key.as_str()) && key != "id" {
                return Err(read_only(key));
            }
            if key.chars().count() > 255 {
                return Err(CoreError::BadRequest(format!("Property name '{key}' is longer than 255 characters.")));
            }
        }
        let image = self.image_from_body(ctx, &body)?;
        if !ctx.is_admin && !(has_member_role(ctx) && image.owner.is_some() && ctx.owns(image.owner.as_deref())) {
            let owner = image.owner.clone().unwrap_or_default();
            return Err(CoreError::Forbidden(format!(
                "You are not permitted to create images owned by '{owner}'."
            )));
        }
        require_visibility_change(ctx, image.owner.as_deref(), image.visibility)?;
        check_counts(&self.settings, image.properties.len(), image.tags.len())?;
        if image.min_ram < 0 || image.min_disk < 0 {
            return Err(CoreError::BadRequest("Cannot set min_ram or min_disk to a negative value.".into()));
        }
        match self.db.create_image(&image).await {
            Ok(()) => Ok(image),
            Err(glance_db::DbError::Duplicate) => {
                Err(CoreError::Conflict(format!("Image with identifier {} already exists!", image.id)))
            }
            Err(e) => Err(e.into()),
        }
    }

    fn image_from_body(&self, ctx: &RequestContext, body: &Map<String, Value>) -> CoreResult<Image> {
        let text = |k: &str| body.get(k).and_then(Value::as_str).map(String::from);
        let int = |k: &str| body.get(k).and_then(Value::as_i64).unwrap_or(0);
        let flag = |k: &str| body.get(k).and_then(Value::as_bool).unwrap_or(false);
        let visibility = match text("visibility") {
            Some(v) => v.parse::<Visibility>().map_err(|e| CoreError::BadRequest(e.to_string()))?,
            None => Visibility::Shared,
        };
        let mut tags: Vec<String> = Vec::new();
        for tag in body.get("tags").and_then(Value::as_array).into_iter().flatten() {
            if let Some(t) = tag.as_str() {
                if !tags.iter().any(|x| x == t) {
                    tags.push(t.to_string());
                }
            }
        }
        let properties = body
            .iter()
            .filter(|(k, _)| !SETTABLE_CORE_ATTRIBUTES.contains(&k.as_str()) && k.as_str() != "id")
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
            .collect();
        let now = glance_db_now();
        Ok(Image {
            id: text("id").unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
            name: text("name"),
            status: ImageStatus::Queued,
            visibility,
            protected: flag("protected"),
            os_hidden: flag("os_hidden"),
            checksum: None,
            os_hash_algo: None,
            os_hash_value: None,
            owner: if body.contains_key("owner") { text("owner") } else { ctx.project_id.clone() },
            size: None,
            virtual_size: None,
            min_ram: int("min_ram"),
            min_disk: int("min_disk"),
            disk_format: text("disk_format"),
            container_format: text("container_format"),
            created_at: now,
            updated_at: now,
            properties,
            tags,
            locations: Vec::new(),
        })
    }
}

fn glance_db_now() -> chrono::NaiveDateTime {
    glance_db::now()
}

/// `image_property_quota` and `image_tag_quota` (413).
pub(crate) fn check_counts(settings: &glance_config::Settings, properties: usize, tags: usize) -> CoreResult<()> {
    if let Some(max) = quota(settings.image_property_quota) {
        if properties > max {
            return Err(CoreError::TooLarge(format!(
                "Attempted: {properties}, Maximum: {max}. Maximum number of image properties exceeded."
            )));
        }
    }
    if let Some(max) = quota(settings.image_tag_quota) {
        if tags > max {
            return Err(CoreError::TooLarge(format!(
                "Attempted: {tags}, Maximum: {max}. Maximum number of image tags exceeded."
            )));
        }
    }
    Ok(())
}
