//! The scrubber's use cases: removing the data of `pending_delete` images (delayed
//! delete) once `scrub_time` has passed, and restoring one by mistake deleted.
//!
//! A pass is crash-safe and idempotent: a location is marked `deleted` only after
//! its data is gone (a missing object counts as gone), and the image becomes
//! `deleted` only when none of its locations is pending any more. An image whose
//! data could not all be removed stays `pending_delete` and is tried again on the
//! next pass; the other images of the pass go on.

use std::sync::Arc;

use futures_util::StreamExt;
use glance_db::{PendingLocation, Restore, ScrubJob};
use glance_store::{redact_location, Store, StoreCaller, StoreError};

use crate::{CoreError, CoreResult, Glance};

/// What one pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ScrubReport {
    /// Images whose data is gone and which are now `deleted`.
    pub scrubbed: Vec<String>,
    /// Images left `pending_delete` for the next pass.
    pub failed: Vec<String>,
}

/// Why one location could not be scrubbed.
#[derive(Debug, thiserror::Error)]
enum ScrubError {
    #[error("no configured store for this location")]
    NoStore,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Db(#[from] glance_db::DbError),
}

impl Glance {
    /// One scrubber pass over every `pending_delete` image deleted at least
    /// `scrub_time` seconds ago, `scrub_pool_size` images at a time.
    pub async fn scrub(&self) -> CoreResult<ScrubReport> {
        let scrubber = &self.settings.scrubber;
        let wait =
            chrono::Duration::seconds(i64::try_from(scrubber.scrub_time).unwrap_or(i64::MAX))
                .min(chrono::Duration::days(365 * 1000));
        let cutoff = glance_db::now() - wait;
        let jobs = self.db.scrub_jobs(cutoff).await.map_err(|e| {
            tracing::error!(error = %e, "Can not get scrub jobs from queue");
            CoreError::from(e)
        })?;
        let mut report = ScrubReport::default();
        let mut results = futures_util::stream::iter(jobs)
            .map(|job| async move {
                let ok = self.scrub_image(&job).await;
                (job.image_id, ok)
            })
            .buffer_unordered(scrubber.scrub_pool_size.max(1));
        while let Some((id, ok)) = results.next().await {
            if ok {
                report.scrubbed.push(id);
            } else {
                report.failed.push(id);
            }
        }
        Ok(report)
    }

    /// Removes one image's pending data; true when the image is now `deleted`.
    async fn scrub_image(&self, job: &ScrubJob) -> bool {
        let id = job.image_id.as_str();
        tracing::info!(
            image = id,
            locations = job.locations.len(),
            "Scrubbing image from its locations"
        );
        let mut all_gone = true;
        for location in &job.locations {
            if let Err(e) = self.scrub_location(id, location).await {
                tracing::error!(
                    image = id,
                    location = %redact_location(&location.url),
                    error = %e,
                    "Unable to scrub image from a location"
                );
                all_gone = false;
            }
        }
        if !all_gone {
            tracing::warn!(
                image = id,
                "One or more image locations couldn't be scrubbed from backend; leaving \
                 the image in 'pending_delete' status"
            );
            return false;
        }
        match self.db.finish_scrub(id).await {
            Ok(true) => {
                tracing::info!(image = id, "Image has been scrubbed successfully");
                true
            }
            Ok(false) => {
                tracing::warn!(
                    image = id,
                    "image left pending_delete (restored meanwhile?)"
                );
                false
            }
            Err(e) => {
                tracing::error!(image = id, error = %e, "could not mark the image deleted");
                false
            }
        }
    }

    async fn scrub_location(&self, id: &str, location: &PendingLocation) -> Result<(), ScrubError> {
        let store = self.store_of(location).ok_or(ScrubError::NoStore)?;
        match store.delete(&location.url, &StoreCaller::service()).await {
            Ok(()) => {}
            Err(StoreError::NotFound(_)) => tracing::info!(
                image = id,
                "Image location not found in backend; marking the location deleted"
            ),
            Err(e) => return Err(e.into()),
        }
        self.db.mark_location_scrubbed(id, location.id).await?;
        Ok(())
    }

    /// The store named by the location's `store` metadata (multi-store, as upstream
    /// passes it to the store API), else the one that owns the URI.
    fn store_of(&self, location: &PendingLocation) -> Option<&Arc<dyn Store>> {
        location
            .store
            .as_deref()
            .and_then(|name| self.stores.by_id(name))
            .filter(|store| store.owns(&location.url))
            .or_else(|| self.stores.for_location(&location.url))
    }

    /// `glance-scrubber --restore <id>`: a `pending_delete` image back to `active`.
    /// Upstream's errors: the image must exist (deleted rows count) and be pending.
    pub async fn restore_pending(&self, id: &str) -> CoreResult<()> {
        match self.db.restore_pending(id).await? {
            Restore::Restored => Ok(()),
            Restore::NotFound => Err(CoreError::NotFound(format!("No image found with ID {id}"))),
            Restore::WrongStatus(status) => Err(CoreError::Conflict(format!(
                "cannot restore the image from {status} to active (wanted \
                 from_state=pending_delete)"
            ))),
        }
    }
}
