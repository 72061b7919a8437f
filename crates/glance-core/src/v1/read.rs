//! `HEAD`, `GET` and `DELETE /v1/images/{id}`.

use glance_auth::RequestContext;
use glance_domain::{Image, ImageStatus};

use super::{require_active, v1_not_found};
use crate::{CoreError, CoreResult, Download, Glance};

impl Glance {
    /// `HEAD /v1/images/{id}`: the image in any status the caller can see.
    pub async fn v1_image(&self, ctx: &RequestContext, id: &str) -> CoreResult<Image> {
        let mut image = self.v1_find(ctx, id).await?;
        self.image_policy(ctx, &image)
            .enforce("get_image")
            .map_err(|_| v1_not_found(id))?;
        self.shape_for_caller(ctx, &mut image);
        Ok(image)
    }

    /// `GET /v1/images/{id}`: the metadata and, for an active image with data, its
    /// bytes. Deactivated is 403 and every other status 404, as upstream.
    pub async fn v1_download(
        &self,
        ctx: &RequestContext,
        id: &str,
    ) -> CoreResult<(Image, Download)> {
        let image = self.v1_image(ctx, id).await?;
        require_active(&image)?;
        if image.size == Some(0) || image.locations.is_empty() {
            return Ok((image, Download::NoData));
        }
        let download = self.download(ctx, id, None).await?;
        Ok((image, download))
    }

    /// `DELETE /v1/images/{id}`: v1's refusals first, then the same delete as v2.
    pub async fn v1_delete(&self, ctx: &RequestContext, id: &str) -> CoreResult<()> {
        let image = self.v1_find(ctx, id).await?;
        self.image_policy(ctx, &image).enforce("delete_image")?;
        if image.protected {
            return Err(CoreError::Forbidden("Image is protected".into()));
        }
        if image.status == ImageStatus::PendingDelete {
            return Err(CoreError::Forbidden(
                "Forbidden to delete a pending_delete image.".into(),
            ));
        }
        self.delete_image(ctx, id).await.map_err(|e| match e {
            CoreError::NotFound(_) => v1_not_found(id),
            other => other,
        })
    }
}
