//! Show, delete, deactivate and reactivate.

use glance_auth::RequestContext;
use glance_db::StatusChange;
use glance_domain::{Image, ImageStatus};

use crate::access::can_read;
use crate::{CoreError, CoreResult, Glance};

pub(crate) fn not_found(id: &str) -> CoreError {
    CoreError::NotFound(format!("No image found with ID {id}"))
}

impl Glance {
    /// `GET /v2/images/{id}`: the image if the caller may see it (`get_image`), with
    /// the properties the caller may not read left out; 404 otherwise.
    pub async fn get_image(&self, ctx: &RequestContext, id: &str) -> CoreResult<Image> {
        let mut image = self.find_image(ctx, id).await?;
        self.image_policy(ctx, &image).enforce("get_image")?;
        self.shape_for_caller(ctx, &mut image);
        Ok(image)
    }

    /// The image if it exists for the caller (visibility only, upstream's database
    /// layer); every use case then enforces its own policy rule on it.
    pub(crate) async fn find_image(&self, ctx: &RequestContext, id: &str) -> CoreResult<Image> {
        // Ids longer than a UUID can never exist (upstream answers 404 too).
        if id.len() > 36 {
            return Err(not_found(id));
        }
        let mut image = self.db.get_image(id).await?.ok_or_else(|| not_found(id))?;
        self.order_locations(&mut image);
        let membership = match (&ctx.project_id, ctx.is_admin) {
            (Some(p), false) if !ctx.owns(image.owner.as_deref()) => {
                self.db.get_member(id, p).await?.map(|m| m.status)
            }
            _ => None,
        };
        if !can_read(ctx, &image, membership) {
            return Err(not_found(id));
        }
        Ok(image)
    }

    /// Deletes the image record, then its data. Refused for protected images.
    pub async fn delete_image(&self, ctx: &RequestContext, id: &str) -> CoreResult<()> {
        let image = self.find_image(ctx, id).await.map_err(|e| match e {
            CoreError::NotFound(_) => {
                CoreError::NotFound(format!("Failed to find image {id} to delete"))
            }
            other => other,
        })?;
        self.image_policy(ctx, &image).enforce("delete_image")?;
        if image.protected {
            return Err(CoreError::Forbidden(format!(
                "Image {id} is protected and cannot be deleted."
            )));
        }
        // Data others depend on (RBD clones) makes the delete a 409 before anything
        // changes, as upstream's InUseByStore.
        let caller = crate::stores::store_caller(ctx);
        for location in image.locations.iter().filter(|l| l.status == "active") {
            if let Some(store) = self.stores.for_location(&location.url) {
                if let Err(glance_store::StoreError::InUse(why)) =
                    store.check_deletable(&location.url, &caller).await
                {
                    return Err(CoreError::Conflict(format!(
                        "Image {id} could not be deleted because it is in use: {why}"
                    )));
                }
            }
        }
        // Delayed delete (upstream's deprecated `delayed_delete`): an image with data
        // goes to `pending_delete` and keeps it for glance-scrubber; as upstream's
        // domain model, only statuses that may become pending_delete can (400 else).
        let delayed = self.settings.scrubber.delayed_delete && !image.locations.is_empty();
        let to = if delayed {
            ImageStatus::PendingDelete
        } else {
            ImageStatus::Deleted
        };
        if delayed && !image.status.can_transition_to(to) {
            return Err(CoreError::BadRequest(format!(
                "Image status transition from {} to {to} is not allowed",
                image.status
            )));
        }
        // Mark it deleted first (compare-and-swap on the status we read), so no client
        // can see an active image whose data is gone; then remove the data.
        if !self.db.delete_image(id, image.status, to).await? {
            // Lost a race. When the winner deleted it too (another API node, say),
            // this request found nothing left to delete: 404, as a later one would.
            return Err(match self.find_image(ctx, id).await {
                Err(CoreError::NotFound(_)) => {
                    CoreError::NotFound(format!("Failed to find image {id} to delete"))
                }
                _ => CoreError::Conflict(format!(
                    "Image {id} changed while it was being deleted; try again."
                )),
            });
        }
        if delayed {
            tracing::info!(
                image = id,
                "image pending delete; glance-scrubber removes its data"
            );
            return Ok(());
        }
        for location in &image.locations {
            match self.stores.for_location(&location.url) {
                Some(store) => self.remove_data(id, store, &location.url, &caller).await,
                None => tracing::warn!(
                    image = id,
                    location = %glance_store::redact_location(&location.url),
                    "no store for location; data left in place"
                ),
            }
        }
        if matches!(
            image.status,
            ImageStatus::Uploading | ImageStatus::Importing
        ) {
            self.remove_staged_data(id).await;
        }
        Ok(())
    }

    pub async fn deactivate(&self, ctx: &RequestContext, id: &str) -> CoreResult<()> {
        self.toggle_active(
            ctx,
            id,
            ImageStatus::Active,
            ImageStatus::Deactivated,
            "deactivate",
        )
        .await
    }

    pub async fn reactivate(&self, ctx: &RequestContext, id: &str) -> CoreResult<()> {
        self.toggle_active(
            ctx,
            id,
            ImageStatus::Deactivated,
            ImageStatus::Active,
            "reactivate",
        )
        .await
    }

    async fn toggle_active(
        &self,
        ctx: &RequestContext,
        id: &str,
        from: ImageStatus,
        to: ImageStatus,
        action: &str,
    ) -> CoreResult<()> {
        let image = self.find_image(ctx, id).await?;
        self.image_policy(ctx, &image).enforce(action)?;
        if image.status == to {
            return Ok(());
        }
        if image.status != from {
            return Err(CoreError::Forbidden(format!(
                "Not allowed to {action} image in status '{}'",
                image.status
            )));
        }
        let change = StatusChange {
            from,
            to,
            columns: Vec::new(),
        };
        if !self.db.change_status(id, &change).await? {
            return Err(CoreError::Conflict(format!(
                "Image {id} changed status concurrently; try again."
            )));
        }
        Ok(())
    }
}
