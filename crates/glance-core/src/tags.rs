//! `PUT/DELETE /v2/images/{id}/tags/{tag}`, with upstream's wording.

use glance_auth::RequestContext;
use glance_db::TagAdded;
use glance_domain::Image;
use serde_json::{Map, Value};

use crate::{quota, CoreError, CoreResult, Glance};

impl Glance {
    /// The image for a tag call: "Image <id> not found." when the caller cannot see it.
    async fn tag_image(&self, ctx: &RequestContext, id: &str) -> CoreResult<Image> {
        self.find_image(ctx, id).await.map_err(|e| match e {
            CoreError::NotFound(_) => CoreError::NotFound(format!("Image {id} not found.")),
            other => other,
        })
    }

    pub async fn add_tag(&self, ctx: &RequestContext, id: &str, tag: &str) -> CoreResult<()> {
        // The tag is checked against the image schema before the image is looked up.
        let mut probe = Map::new();
        probe.insert(
            "tags".into(),
            Value::Array(vec![Value::String(tag.to_string())]),
        );
        self.schemas
            .validate_image(&probe)
            .map_err(|v| CoreError::BadRequest(v.0))?;
        let image = self.tag_image(ctx, id).await?;
        self.image_policy(ctx, &image).enforce("modify_image")?;
        match self.db.add_tag(id, tag, quota(self.settings.image_tag_quota)).await? {
            TagAdded::Added | TagAdded::AlreadyPresent => Ok(()),
            TagAdded::QuotaExceeded => Err(CoreError::TooLarge(format!(
                "Image tag limit exceeded for image {id}: The limit has been exceeded on the number of \
                 allowed image tags. Attempted: {}, Maximum: {}:",
                image.tags.len() + 1,
                self.settings.image_tag_quota
            ))),
        }
    }

    pub async fn delete_tag(&self, ctx: &RequestContext, id: &str, tag: &str) -> CoreResult<()> {
        let image = self.tag_image(ctx, id).await?;
        self.image_policy(ctx, &image).enforce("modify_image")?;
        if !self.db.delete_tag(id, tag).await? {
            // Upstream raises a bare HTTPNotFound: WebOb's default text.
            return Err(CoreError::NotFound(
                "The resource could not be found.".into(),
            ));
        }
        Ok(())
    }
}
