//! `PUT /v2/images/{id}/stage`: the first half of `glance-direct`. The data goes
//! to the staging directory and the image to `uploading`; `POST /import` takes it
//! from there.

use bytes::Bytes;
use futures_util::Stream;
use glance_auth::RequestContext;
use glance_db::{Db, SqlValue, StatusChange};
use glance_domain::ImageStatus;
use glance_store::{write_stream, HashAlgo, Store, StoreCaller, StoreError, UploadLimits};

use crate::guard::RevertGuard;
use crate::{CoreError, CoreResult, Glance};

/// Puts the image back to `queued` and removes what was staged (staging failed,
/// or the request was dropped mid-way).
async fn unstage(glance: &Glance, id: &str) {
    glance.remove_staged_data(id).await;
    restore_queued(&glance.db, id).await;
}

async fn restore_queued(db: &Db, id: &str) {
    let change = StatusChange {
        from: ImageStatus::Uploading,
        to: ImageStatus::Queued,
        columns: vec![("size", SqlValue::Null)],
    };
    if let Err(e) = db.change_status(id, &change).await {
        tracing::error!(image = id, error = %e, "could not put the image back to queued");
    }
}

impl Glance {
    pub async fn stage<S, E>(
        &self,
        ctx: &RequestContext,
        id: &str,
        expected_size: Option<u64>,
        body: S,
    ) -> CoreResult<()>
    where
        S: Stream<Item = Result<Bytes, E>> + Send + Unpin,
        E: std::fmt::Display,
    {
        if !self
            .settings
            .enabled_import_methods
            .iter()
            .any(|m| m == "glance-direct")
        {
            return Err(CoreError::NotFound(
                "'glance-direct' method is not available at this site.".into(),
            ));
        }
        let image = self.find_image(ctx, id).await?;
        self.image_policy(ctx, &image).enforce("modify_image")?;
        let to_uploading = StatusChange {
            from: ImageStatus::Queued,
            to: ImageStatus::Uploading,
            columns: Vec::new(),
        };
        // Armed before the switch, as the upload's guard: a request dropped while
        // the switch commits must not leave the image in uploading.
        let mut guard = {
            let (glance, id) = (self.clone(), id.to_string());
            RevertGuard::new(async move { unstage(&glance, &id).await })
        };
        let switched = self.db.change_status(id, &to_uploading).await;
        if !matches!(switched, Ok(true)) {
            guard.disarm();
        }
        if !switched? {
            return Err(self.lost_transition(id, ImageStatus::Uploading).await);
        }
        let limits = UploadLimits {
            max_bytes: self.settings.image_size_cap,
            expected_size,
        };
        let staging = self.stores.staging().clone();
        let caller = StoreCaller::default();
        // The digests of the staged copy are not kept: the import hashes the data
        // as it writes it to the store.
        let written = match write_stream(
            staging.as_ref(),
            id,
            &caller,
            body,
            HashAlgo::Sha256,
            limits,
            Vec::new(),
        )
        .await
        {
            Ok(w) => w,
            Err(StoreError::Duplicate(_)) => {
                // Someone else's staged data: leave it, only put the status back.
                guard.disarm();
                restore_queued(&self.db, id).await;
                return Err(CoreError::Conflict(format!(
                    "The image {id} has data on staging"
                )));
            }
            Err(e) => {
                guard.revert().await;
                return Err(stage_error(e));
            }
        };
        let size = written.digests.size as i64;
        let mut changes = glance_db::ImageChanges {
            columns: vec![("size", SqlValue::Int(size))],
            ..Default::default()
        };
        if let Some(url) = &self.settings.public_endpoint {
            changes
                .set_properties
                .push(("os_glance_stage_host".into(), url.clone()));
        }
        match self
            .db
            .update_image(id, &changes, Some(ImageStatus::Uploading))
            .await
        {
            Ok(true) => {
                guard.disarm();
                Ok(())
            }
            Ok(false) => {
                // Deleted while staging: the delete already cleaned up the image.
                guard.disarm();
                self.remove_staged_data(id).await;
                Err(CoreError::NotFound(format!(
                    "Image {id} could not be found after staging"
                )))
            }
            Err(e) => {
                guard.revert().await;
                Err(e.into())
            }
        }
    }

    /// Removes staged data of an image, if any (upload failure, delete, import end).
    pub(crate) async fn remove_staged_data(&self, id: &str) {
        let staging = self.stores.staging();
        let location = staging.location_for(id);
        match staging.delete(&location, &StoreCaller::default()).await {
            Ok(()) | Err(StoreError::NotFound(_)) => {}
            Err(e) => tracing::warn!(image = %id, error = %e, "could not remove staged data"),
        }
    }
}

/// Upstream's answers for refused staging data.
fn stage_error(e: StoreError) -> CoreError {
    match e {
        StoreError::SizeLimitExceeded { .. } => CoreError::TooLarge(
            "The incoming image is too large: The provided image is too large.".into(),
        ),
        StoreError::StorageFull(why) => {
            CoreError::TooLarge(format!("Image storage media is full: {why}"))
        }
        StoreError::WriteDenied(why) => CoreError::ServiceUnavailable(format!(
            "Insufficient permissions on image storage media: {why}"
        )),
        StoreError::SizeMismatch { expected, received } => CoreError::BadRequest(format!(
            "Size mismatch: expected {expected} bytes, got {received} bytes"
        )),
        other => other.into(),
    }
}
