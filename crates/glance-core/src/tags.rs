//! `PUT/DELETE /v2/images/{id}/tags/{tag}`.

use glance_auth::RequestContext;
use glance_db::TagAdded;

use crate::access::require_write;
use crate::{quota, CoreError, CoreResult, Glance};

impl Glance {
    pub async fn add_tag(&self, ctx: &RequestContext, id: &str, tag: &str) -> CoreResult<()> {
        if tag.chars().count() > 255 {
            return Err(CoreError::BadRequest(format!(
                "Provided object does not match schema 'image': '{tag}' is too long"
            )));
        }
        let image = self.get_image(ctx, id).await?;
        require_write(ctx, &image, "modify_image")?;
        match self.db.add_tag(id, tag, quota(self.settings.image_tag_quota)).await? {
            TagAdded::Added | TagAdded::AlreadyPresent => Ok(()),
            TagAdded::QuotaExceeded => Err(CoreError::TooLarge(format!(
                "Maximum number of tags ({}) exceeded.",
                self.settings.image_tag_quota
            ))),
        }
    }

    pub async fn delete_tag(&self, ctx: &RequestContext, id: &str, tag: &str) -> CoreResult<()> {
        let image = self.get_image(ctx, id).await?;
        require_write(ctx, &image, "modify_image")?;
        if !self.db.delete_tag(id, tag).await? {
            return Err(CoreError::NotFound(format!("Tag {tag} not found")));
        }
        Ok(())
    }
}
