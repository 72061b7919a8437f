//! The background half of `POST /v2/images/{id}/locations` (upstream's
//! `location_import` task): find the size, hash the data unless told not to, check
//! the caller's `validation_data`, then record the location and activate the image
//! in one transaction. Any failure puts the image back to `queued` with nothing
//! recorded.
//!
//! Unlike upstream, which activates first and hashes afterwards when no
//! validation_data is given, the image only becomes active once its checksum is
//! known: no client ever sees an active image without one.

use std::sync::Arc;

use futures_util::StreamExt;
use glance_db::{LocationChange, NewLocation, SqlValue, StatusChange, TaskEnd};
use glance_domain::ImageStatus;
use glance_store::{redact_location, Digests, HashAlgo, HashingPipeline, Store, StoreCaller};

use crate::locations::ValidationData;
use crate::tasks::TaskLog;
use crate::Glance;

pub(crate) struct LocationImport {
    /// The `location_import` task that reports how this went.
    pub task: TaskLog,
    pub glance: Glance,
    pub image_id: String,
    pub url: String,
    pub store: Arc<dyn Store>,
    pub caller: StoreCaller,
    pub validation: Option<ValidationData>,
}

impl LocationImport {
    pub async fn run(self) {
        self.task.begin().await;
        let id = &self.image_id;
        let end = match self.import().await {
            Ok(true) => {
                tracing::info!(image = %id, "location added; image active");
                TaskEnd::Success {
                    result: serde_json::json!({ "image_id": id }).to_string(),
                }
            }
            Ok(false) => {
                tracing::info!(image = %id, "image changed during the location import");
                TaskEnd::Failure {
                    message: format!(
                        "Image {id} was deleted or changed during the location import"
                    ),
                }
            }
            Err(why) => {
                tracing::warn!(
                    image = %id,
                    location = %redact_location(&self.url),
                    "location import failed: {why}"
                );
                if let Err(e) = self.glance.db.change_status(id, &unlock()).await {
                    tracing::error!(image = %id, error = %e, "could not put the image back to queued");
                }
                TaskEnd::Failure { message: why }
            }
        };
        // Last, so that a client seeing the task end sees the image's final state.
        self.task.end(end).await;
    }

    /// `Ok(false)` when the image left `importing` meanwhile (deleted, say).
    async fn import(&self) -> Result<bool, String> {
        let settings = &self.glance.settings;
        let algo_name = self
            .validation
            .as_ref()
            .map_or(settings.hashing_algorithm.as_str(), |v| {
                v.os_hash_algo.as_str()
            });
        let size = self
            .store
            .size(&self.url, &self.caller)
            .await
            .map_err(|e| format!("cannot find the size of the data: {e}"))?;
        let mut columns: Vec<(&'static str, SqlValue)> = vec![("size", SqlValue::Int(size as i64))];
        if settings.do_secure_hash {
            let algo = HashAlgo::from_name(algo_name)
                .ok_or_else(|| format!("hashing algorithm {algo_name} is not supported"))?;
            let digests = self.hash_with_retries(algo).await?;
            if let Some(v) = &self.validation {
                if !v.os_hash_value.eq_ignore_ascii_case(&digests.os_hash_hex) {
                    return Err(format!(
                        "os_hash_value: ({}) not matched with actual os_hash_value: ({})",
                        v.os_hash_value, digests.os_hash_hex
                    ));
                }
            }
            if digests.size != size {
                return Err(format!(
                    "the store reported {size} bytes but {} were read",
                    digests.size
                ));
            }
            columns.push(("checksum", SqlValue::Text(digests.md5_hex)));
            columns.push(("os_hash_algo", SqlValue::Text(digests.os_hash_algo)));
            columns.push(("os_hash_value", SqlValue::Text(digests.os_hash_hex)));
        } else if let Some(v) = &self.validation {
            // Trusted as given (upstream's `_SetHashValues`).
            columns.push(("os_hash_algo", SqlValue::Text(v.os_hash_algo.clone())));
            columns.push(("os_hash_value", SqlValue::Text(v.os_hash_value.clone())));
        }
        let mut metadata = serde_json::Map::new();
        if self.glance.stores.multi_store() {
            metadata.insert("store".into(), self.store.info().id.clone().into());
        }
        let activate = StatusChange {
            from: ImageStatus::Importing,
            to: ImageStatus::Active,
            columns,
        };
        let location = NewLocation {
            url: self.url.clone(),
            metadata,
        };
        let quota = usize::try_from(settings.image_location_quota).ok();
        let change = self
            .glance
            .db
            .add_location(&self.image_id, &location, &[], Some(&activate), quota)
            .await
            .map_err(|e| format!("database: {e}"))?;
        match change {
            LocationChange::Done => Ok(true),
            LocationChange::WrongStatus => Ok(false),
            other => Err(format!("the location cannot be added ({other:?})")),
        }
    }

    /// Reads the data once through the hashing pipeline, retrying a broken read up
    /// to `http_retries` times (upstream's retry of `_calculate_hash`).
    async fn hash_with_retries(&self, algo: HashAlgo) -> Result<Digests, String> {
        let attempts = self.glance.settings.http_retries.max(1);
        let mut last = String::new();
        for attempt in 1..=attempts {
            match self.hash_once(algo).await {
                Ok(digests) => return Ok(digests),
                Err(e) => {
                    tracing::debug!(image = %self.image_id, attempt, "hashing failed: {e}");
                    last = e;
                }
            }
        }
        Err(format!(
            "Hash calculation failed for image {}: {last}",
            self.image_id
        ))
    }

    async fn hash_once(&self, algo: HashAlgo) -> Result<Digests, String> {
        let reader = self
            .store
            .open(&self.url, None, &self.caller)
            .await
            .map_err(|e| e.to_string())?;
        let mut pipeline = HashingPipeline::try_start(algo).map_err(|e| e.to_string())?;
        let mut stream = reader.stream;
        while let Some(chunk) = stream.next().await {
            pipeline.feed(chunk.map_err(|e| e.to_string())?).await;
        }
        Ok(pipeline.finish().await)
    }
}

/// Releases the location-import lock: `importing` back to `queued`, nothing else
/// changed.
pub(crate) fn unlock() -> StatusChange {
    StatusChange {
        from: ImageStatus::Importing,
        to: ImageStatus::Queued,
        columns: Vec::new(),
    }
}
