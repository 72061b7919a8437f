//! The background half of an import (upstream's `api_image_import` flow): bring
//! the data to staging (web-download), write it to each target store with the
//! upload's hashing and format inspection, record each location, activate the
//! image, then drop the staged data and the lock. A failure takes back what this
//! task wrote when every store had to succeed; the image goes back to `queued`
//! (copy-image leaves it active).

use std::sync::Arc;

use glance_db::{LocationChange, NewLocation, PropertyEdits, SqlValue, StatusChange, TaskEnd};
use glance_domain::{Image, ImageStatus};
use glance_store::{
    write_stream, Digests, HashAlgo, ObjectReader, Store, StoreCaller, UploadLimits,
};

use super::{back_to_queued, list_property, ImportMethod, FAILED_STORES, IMPORTING_STORES};
use crate::tasks::TaskLog;
use crate::Glance;

pub(crate) struct ImportJob {
    pub glance: Glance,
    pub task: TaskLog,
    /// The image as it was when the import was accepted.
    pub image: Image,
    pub method: ImportMethod,
    pub uri: Option<String>,
    /// Target store ids, in order.
    pub stores: Vec<String>,
    pub all_stores_must_succeed: bool,
    pub caller: StoreCaller,
}

/// What the import wrote so far.
#[derive(Default)]
struct Progress {
    /// (store, location) of each copy written.
    written: Vec<(Arc<dyn Store>, String)>,
    failed: Vec<String>,
    active: bool,
}

impl ImportJob {
    pub async fn run(self) {
        self.task.begin().await;
        let id = self.image.id.clone();
        let mut progress = Progress {
            active: self.method == ImportMethod::CopyImage,
            ..Default::default()
        };
        let outcome = self.import(&mut progress).await;
        if self.method != ImportMethod::CopyImage {
            self.glance.remove_staged_data(&id).await;
        }
        let end = match outcome {
            Ok(()) if progress.active => {
                tracing::info!(image = %id, method = ?self.method, "import finished");
                self.finish(&progress, None).await;
                TaskEnd::Success {
                    result: serde_json::json!({ "image_id": id }).to_string(),
                }
            }
            Ok(()) => {
                self.undo(&mut progress).await;
                TaskEnd::Failure {
                    message: "None of the uploads finished!".into(),
                }
            }
            Err(why) => {
                tracing::warn!(image = %id, method = ?self.method, "import failed: {why}");
                self.undo(&mut progress).await;
                TaskEnd::Failure { message: why }
            }
        };
        // Last, so that a client seeing the task end sees the image's final state.
        self.task.end(end).await;
    }

    async fn import(&self, progress: &mut Progress) -> Result<(), String> {
        let glance = &self.glance;
        let id = &self.image.id;
        if self.method == ImportMethod::WebDownload {
            self.download_to_staging().await?;
        }
        let source = match self.method {
            ImportMethod::CopyImage => Some(self.copy_source()?),
            _ => None,
        };
        let count = self.stores.len();
        for (index, store_id) in self.stores.iter().enumerate() {
            let store = glance
                .stores
                .by_id(store_id)
                .cloned()
                .ok_or_else(|| format!("store {store_id} is not configured"))?;
            let data = match &source {
                Some((from, url)) => from.open(url, None, &self.caller).await,
                None => {
                    let staging = glance.stores.staging();
                    staging
                        .open(&staging.location_for(id), None, &self.caller)
                        .await
                }
            }
            .map_err(|e| format!("cannot read the image data: {e}"));
            let result = match data {
                Ok(reader) => self.write_one(store.clone(), reader).await,
                Err(e) => Err(e),
            };
            let last = index + 1 == count;
            match result {
                Ok((location, digests, virtual_size)) => {
                    progress.written.push((store.clone(), location.clone()));
                    let set_active = !self.all_stores_must_succeed || last;
                    self.record(
                        &store,
                        &location,
                        &digests,
                        virtual_size,
                        set_active,
                        progress,
                    )
                    .await?;
                }
                Err(why) if self.all_stores_must_succeed => {
                    progress.failed.push(store_id.clone());
                    return Err(why);
                }
                Err(why) => {
                    tracing::warn!(image = %id, store = %store_id,
                        "import to this store failed; all_stores_must_succeed is false: {why}");
                    progress.failed.push(store_id.clone());
                }
            }
            self.update_importing(index + 1, progress).await;
        }
        Ok(())
    }

    /// web-download: the remote data into staging, under the import filter and
    /// the size cap.
    async fn download_to_staging(&self) -> Result<(), String> {
        let glance = &self.glance;
        let id = &self.image.id;
        let uri = self.uri.as_deref().unwrap_or_default();
        glance.remove_staged_data(id).await;
        let reader = glance
            .stores
            .web()
            .open(uri, None, &self.caller)
            .await
            .map_err(|e| format!("cannot download the image data: {e}"))?;
        let limits = UploadLimits {
            max_bytes: glance.settings.image_size_cap,
            expected_size: None,
        };
        write_stream(
            glance.stores.staging().as_ref(),
            id,
            &StoreCaller::default(),
            reader.stream,
            HashAlgo::Sha256,
            limits,
            Vec::new(),
        )
        .await
        .map(|_| ())
        .map_err(|e| format!("cannot download the image data: {e}"))
    }

    /// copy-image reads from the image's first active location whose store is here.
    fn copy_source(&self) -> Result<(Arc<dyn Store>, String), String> {
        self.glance
            .active_locations(&self.image)
            .iter()
            .find_map(|l| {
                self.glance
                    .stores
                    .for_location(&l.url)
                    .map(|s| (s.clone(), l.url.clone()))
            })
            .ok_or_else(|| "the image has no location to copy from".to_string())
    }

    /// Writes one copy; returns its location, digests and the inspected virtual size.
    async fn write_one(
        &self,
        store: Arc<dyn Store>,
        reader: ObjectReader,
    ) -> Result<(String, Digests, Option<u64>), String> {
        let glance = &self.glance;
        let algo = HashAlgo::from_name(&glance.settings.hashing_algorithm)
            .ok_or_else(|| "unsupported hashing_algorithm".to_string())?;
        let (max_bytes, _) = glance
            .upload_limit(&self.image, Some(reader.total_size))
            .await
            .map_err(|e| e.to_string())?;
        let limits = UploadLimits {
            max_bytes,
            expected_size: Some(reader.total_size),
        };
        // Copies of an active image were inspected when they were uploaded.
        let inspection = match self.method {
            ImportMethod::CopyImage => None,
            _ => crate::inspection::observer_for(&self.image, &glance.settings.image_format),
        };
        let (observers, outcome) = match inspection {
            Some((observer, outcome)) => (vec![observer], Some(outcome)),
            None => (Vec::new(), None),
        };
        let written = write_stream(
            store.as_ref(),
            &self.image.id,
            &self.caller,
            reader.stream,
            algo,
            limits,
            observers,
        )
        .await
        .map_err(|e| format!("cannot write the image to store {}: {e}", store.info().id))?;
        let virtual_size = outcome.and_then(|o| o.virtual_size());
        Ok((written.location, written.digests, virtual_size))
    }

    /// Records a written copy: the first that may activate the image does so with
    /// its size and digests; the others add their location.
    async fn record(
        &self,
        store: &Arc<dyn Store>,
        location: &str,
        digests: &Digests,
        virtual_size: Option<u64>,
        set_active: bool,
        progress: &mut Progress,
    ) -> Result<(), String> {
        let glance = &self.glance;
        let mut metadata = serde_json::Map::new();
        if glance.stores.multi_store() {
            metadata.insert("store".into(), store.info().id.clone().into());
        }
        let new = NewLocation {
            url: location.to_string(),
            metadata,
        };
        let quota = usize::try_from(glance.settings.image_location_quota).ok();
        let activate = StatusChange {
            from: ImageStatus::Importing,
            to: ImageStatus::Active,
            columns: vec![
                ("size", SqlValue::Int(digests.size as i64)),
                ("virtual_size", virtual_size.map(|v| v as i64).into()),
                ("checksum", SqlValue::Text(digests.md5_hex.clone())),
                ("os_hash_algo", SqlValue::Text(digests.os_hash_algo.clone())),
                ("os_hash_value", SqlValue::Text(digests.os_hash_hex.clone())),
            ],
        };
        let change = if progress.active {
            glance
                .db
                .add_location(&self.image.id, &new, &[ImageStatus::Active], None, quota)
                .await
        } else if set_active {
            glance
                .db
                .add_location(&self.image.id, &new, &[], Some(&activate), quota)
                .await
        } else {
            glance
                .db
                .add_location(&self.image.id, &new, &[ImageStatus::Importing], None, quota)
                .await
        }
        .map_err(|e| format!("database: {e}"))?;
        match change {
            LocationChange::Done => {
                progress.active |= set_active;
                Ok(())
            }
            LocationChange::WrongStatus => {
                Err("Image has been deleted, aborting import.".to_string())
            }
            other => Err(format!("the location cannot be recorded ({other:?})")),
        }
    }

    /// Keeps `os_glance_importing_to_stores` to the stores not yet done.
    async fn update_importing(&self, done: usize, progress: &Progress) {
        if !self.glance.stores.multi_store() {
            return;
        }
        let changes = glance_db::ImageChanges {
            set_properties: vec![
                (IMPORTING_STORES.into(), self.stores[done..].join(",")),
                (FAILED_STORES.into(), self.failed_list(progress)),
            ],
            ..Default::default()
        };
        if let Err(e) = self
            .glance
            .db
            .update_image(&self.image.id, &changes, None)
            .await
        {
            tracing::warn!(image = %self.image.id, error = %e, "could not record import progress");
        }
    }

    fn failed_list(&self, progress: &Progress) -> String {
        let mut failed = list_property(&self.image, FAILED_STORES);
        failed.retain(|s| !self.stores.contains(s));
        failed.extend(progress.failed.iter().cloned());
        failed.join(",")
    }

    /// Drops the lock with the final progress properties (and the status change).
    async fn finish(&self, progress: &Progress, change: Option<&StatusChange>) {
        let mut edits = PropertyEdits::default();
        if self.glance.stores.multi_store() {
            edits.set.push((IMPORTING_STORES.into(), String::new()));
            edits
                .set
                .push((FAILED_STORES.into(), self.failed_list(progress)));
        }
        if !progress.active {
            edits.drop_locations = progress.written.iter().map(|(_, l)| l.clone()).collect();
        }
        if let Err(e) = self
            .glance
            .db
            .release_import_lock(&self.image.id, &self.task.id, change, &edits)
            .await
        {
            tracing::error!(image = %self.image.id, error = %e, "could not release the import lock");
        }
    }

    /// Takes back every copy this task wrote, puts the image back to `queued`
    /// (copy-image: leaves it active) and drops the lock.
    async fn undo(&self, progress: &mut Progress) {
        for (store, location) in &progress.written {
            if let Err(e) = store.delete(location, &self.caller).await {
                tracing::warn!(image = %self.image.id, error = %e, "could not remove imported data");
            }
        }
        let change = (self.method != ImportMethod::CopyImage).then(back_to_queued);
        progress.active = false;
        self.finish(progress, change.as_ref()).await;
    }
}
