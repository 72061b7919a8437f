//! `POST /v2/images`: validation in upstream's order, then one insert.

use glance_auth::RequestContext;
use std::collections::BTreeMap;

use glance_domain::image::{
    is_reserved_key, READ_ONLY_ATTRIBUTES, RESERVED_PREFIX, SETTABLE_CORE_ATTRIBUTES,
};
use glance_domain::{Image, ImageStatus, Visibility};
use serde_json::{Map, Value};

use crate::access::ImagePolicy;
use crate::{quota, CoreError, CoreResult, Glance};
use glance_auth::protections::PropertyOp;

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

/// The create path words the same refusal as WebOb's detail (upstream's deserializer).
fn reserved_on_create(key: &str) -> CoreError {
    CoreError::ForbiddenDetail(format!("Attribute '{key}' is reserved."))
}

impl Glance {
    /// Checks in upstream's order: read-only links (403), schema (400), extra property
    /// names (400 / 403 reserved), policy (403), tag quota (413), read-only attributes
    /// (403), negative sizes (400), property quota (413), duplicate id (409).
    pub async fn create_image(&self, ctx: &RequestContext, body: Value) -> CoreResult<Image> {
        let Value::Object(mut body) = body else {
            return Err(CoreError::BadRequest(
                "Request body must be a JSON object.".into(),
            ));
        };
        if let Some(key) = CREATE_FORBIDDEN.iter().find(|k| body.contains_key(**k)) {
            return Err(read_only(key));
        }
        for key in CREATE_IGNORED {
            body.remove(*key);
        }
        self.schemas
            .validate_image(&body)
            .map_err(|v| CoreError::BadRequest(v.0))?;
        for key in body.keys().filter(|k| !is_base_attribute(k)) {
            if key.chars().count() > 255 {
                return Err(CoreError::BadRequest(
                    "Custom property should not be greater than 255 characters.".into(),
                ));
            }
            if is_reserved_key(key) {
                return Err(reserved_on_create(key));
            }
        }
        let image = self.image_from_body(ctx, &body)?;
        let policy =
            ImagePolicy::proposed(&self.policy, ctx, image.owner.as_deref(), image.visibility);
        if let Err(denied) = policy.enforce("add_image") {
            // Upstream words a refusal for another project's image differently.
            return Err(match &image.owner {
                Some(owner) if image.owner != ctx.project_id => CoreError::Forbidden(format!(
                    "You are not permitted to create images owned by '{owner}'"
                )),
                _ => denied,
            });
        }
        if body.contains_key("visibility") {
            policy.enforce_visibility(image.visibility)?;
        }
        // Property protections wrap everything below (upstream's outermost image
        // factory layer), checked in the order the body lists the properties.
        for key in body.keys().filter(|k| !is_base_attribute(k)) {
            self.require_property_op(ctx, key, PropertyOp::Create)?;
        }
        // Upstream counts the tags as sent, duplicates included.
        let sent_tags = body
            .get("tags")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        check_tag_count(&self.settings, sent_tags)?;
        if let Some(key) = READ_ONLY_ATTRIBUTES
            .iter()
            .find(|k| **k != "id" && body.contains_key(**k))
        {
            return Err(read_only(key));
        }
        if body.contains_key("locations") {
            return Err(reserved("locations"));
        }
        check_not_negative("min_disk", image.min_disk)?;
        check_not_negative("min_ram", image.min_ram)?;
        check_property_count(&self.settings, &image.properties)?;
        match self.db.create_image(&image).await {
            Ok(()) => {
                let mut shown = image;
                self.shape_for_caller(ctx, &mut shown);
                Ok(shown)
            }
            Err(glance_db::DbError::Duplicate) => Err(CoreError::Conflict(format!(
                "Image ID {} already exists!",
                image.id
            ))),
            Err(e) => Err(e.into()),
        }
    }

    fn image_from_body(
        &self,
        ctx: &RequestContext,
        body: &Map<String, Value>,
    ) -> CoreResult<Image> {
        let text = |k: &str| body.get(k).and_then(Value::as_str).map(String::from);
        let int = |k: &str| body.get(k).and_then(Value::as_i64).unwrap_or(0);
        let flag = |k: &str| body.get(k).and_then(Value::as_bool).unwrap_or(false);
        let visibility = match text("visibility") {
            Some(v) => v
                .parse::<Visibility>()
                .map_err(|e| CoreError::BadRequest(e.to_string()))?,
            None => Visibility::Shared,
        };
        let mut tags: Vec<String> = Vec::new();
        for tag in body
            .get("tags")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
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
        let now = glance_db::now();
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
            owner: if body.contains_key("owner") {
                text("owner")
            } else {
                ctx.project_id.clone()
            },
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

/// Base attributes of the image schema, which are never extra properties.
fn is_base_attribute(key: &str) -> bool {
    SETTABLE_CORE_ATTRIBUTES.contains(&key) || READ_ONLY_ATTRIBUTES.contains(&key)
}

/// Upstream's domain setters refuse negative `min_ram` / `min_disk` (400).
pub(crate) fn check_not_negative(param: &str, value: i64) -> CoreResult<()> {
    if value < 0 {
        return Err(CoreError::BadRequest(format!(
            "Invalid value '{value}' for parameter '{param}': Cannot be a negative value"
        )));
    }
    Ok(())
}

/// `image_property_quota` (413); the server's own `os_glance_*` properties do not count.
pub(crate) fn check_property_count(
    settings: &glance_config::Settings,
    properties: &BTreeMap<String, String>,
) -> CoreResult<()> {
    let attempted = properties
        .keys()
        .filter(|k| !k.starts_with(RESERVED_PREFIX))
        .count();
    match quota(settings.image_property_quota) {
        Some(max) if attempted > max => Err(CoreError::TooLarge(format!(
            "The limit has been exceeded on the number of allowed image properties. Attempted: {attempted}, Maximum: {max}"
        ))),
        _ => Ok(()),
    }
}

/// `image_tag_quota` (413).
pub(crate) fn check_tag_count(
    settings: &glance_config::Settings,
    attempted: usize,
) -> CoreResult<()> {
    match quota(settings.image_tag_quota) {
        Some(max) if attempted > max => Err(CoreError::TooLarge(format!(
            "The limit has been exceeded on the number of allowed image tags. Attempted: {attempted}, Maximum: {max}"
        ))),
        _ => Ok(()),
    }
}
