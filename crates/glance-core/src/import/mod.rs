//! Interoperable image import (Image API 2.6+): `PUT /v2/images/{id}/stage` and
//! `POST /v2/images/{id}/import` with the `glance-direct`, `web-download` and
//! `copy-image` methods. The request is checked here, in upstream's order and
//! with its messages; the work runs in the background as an `api_image_import`
//! task ([`job`]) that holds the image's import lock.

mod job;
mod request;
mod stage;

pub use request::{ImportMethod, ImportRequest};

use glance_auth::RequestContext;
use glance_db::{LockAttempt, PropertyEdits, SqlValue, StatusChange, IMPORT_LOCK_PROPERTY};
use glance_domain::{Image, ImageStatus};

use crate::tasks::TaskLog;
use crate::{CoreError, CoreResult, Glance};

/// Upstream's progress properties: the stores an import still writes to, and
/// those it failed to write to.
pub(crate) const IMPORTING_STORES: &str = "os_glance_importing_to_stores";
pub(crate) const FAILED_STORES: &str = "os_glance_failed_import";
/// The staging node's URL, which upstream records at stage time and drops at import.
const STAGE_HOST: &str = "os_glance_stage_host";

/// A lock older than this whose task never ended is taken over (upstream doubles
/// it for a task still `pending`).
const LOCK_EXPIRY_MINUTES: i64 = 60;

impl Glance {
    /// Checks an import request and starts its task. Returns once the task is
    /// recorded and the image locked; the data moves in the background.
    pub async fn import_image(
        &self,
        ctx: &RequestContext,
        id: &str,
        req: ImportRequest,
    ) -> CoreResult<()> {
        let image = self.find_image(ctx, id).await?;
        check_status(&image, req.method)?;
        let policy = self.image_policy(ctx, &image);
        match req.method {
            ImportMethod::CopyImage => policy.enforce("copy_image")?,
            _ => policy.enforce("modify_image")?,
        }
        if let Some(holder) = image.properties.get(IMPORT_LOCK_PROPERTY) {
            self.expire_lock(id, holder).await?;
        }
        let mut stores = self.import_stores(&req)?;
        if req.method == ImportMethod::CopyImage {
            let present = self.stores_holding(&image);
            if req.all_stores {
                stores.retain(|s| !present.contains(s));
                if stores.is_empty() {
                    tracing::info!(image = %id, "copy-image: the image is in every store already");
                    return Ok(());
                }
            } else if let Some(s) = stores.iter().find(|s| present.contains(s)) {
                return Err(CoreError::BadRequest(format!(
                    "Image is already present at store '{s}'"
                )));
            }
        }
        if !req.all_stores_must_succeed && !self.stores.multi_store() {
            return Err(CoreError::BadRequest(format!(
                "All_stores_must_succeed can only be set with enabled_backends {}",
                req.uri.as_deref().unwrap_or("None")
            )));
        }
        if req.method == ImportMethod::WebDownload {
            let uri = req.uri.as_deref().unwrap_or("None");
            if req.uri.is_none() || self.stores.uri_filter().check_url(uri).is_err() {
                tracing::debug!(image = %id, "URI for web-download does not pass filtering");
                return Err(CoreError::BadRequest(format!(
                    "URI for web-download does not pass filtering: {uri}"
                )));
            }
        }
        let store_ids: Vec<Option<String>> = if self.stores.multi_store() {
            stores.iter().cloned().map(Some).collect()
        } else {
            vec![None]
        };
        let input = serde_json::json!({
            "image_id": id,
            "import_req": req.body,
            "backend": store_ids,
        });
        let task = TaskLog::create(
            self,
            ctx,
            "api_image_import",
            id,
            image.owner.as_deref(),
            input,
        )
        .await?;
        self.start_import(ctx, &image, req, stores, task).await
    }

    /// Takes the import lock for `task` (with the status change the method starts
    /// with and the progress properties) and starts the work in the background.
    pub(crate) async fn start_import(
        &self,
        ctx: &RequestContext,
        image: &Image,
        req: ImportRequest,
        stores: Vec<String>,
        task: TaskLog,
    ) -> CoreResult<()> {
        let id = image.id.as_str();
        let mut edits = PropertyEdits::default();
        edits.remove.push(STAGE_HOST.into());
        if self.stores.multi_store() {
            edits.set.push((IMPORTING_STORES.into(), stores.join(",")));
            let failed = list_property(image, FAILED_STORES)
                .into_iter()
                .filter(|s| !stores.contains(s))
                .collect::<Vec<_>>();
            edits.set.push((FAILED_STORES.into(), failed.join(",")));
        }
        let start = start_change(req.method);
        let refusal = match self
            .db
            .take_import_lock(id, &task.id, start.as_ref(), &edits)
            .await?
        {
            LockAttempt::Taken => None,
            LockAttempt::Held(_) => Some(CoreError::Conflict(format!(
                "New operation on image '{id}' is not permitted as prior operation is still \
                 in progress"
            ))),
            LockAttempt::WrongStatus => {
                Some(self.lost_transition(id, ImageStatus::Importing).await)
            }
        };
        if let Some(refusal) = refusal {
            task.end(glance_db::TaskEnd::Failure {
                message: refusal.to_string(),
            })
            .await;
            return Err(refusal);
        }
        let job = job::ImportJob {
            glance: self.clone(),
            task,
            image: image.clone(),
            method: req.method,
            uri: req.uri,
            stores,
            all_stores_must_succeed: req.all_stores_must_succeed,
            caller: crate::stores::store_caller(ctx),
        };
        tokio::spawn(job.run());
        Ok(())
    }

    /// The stores an import writes to: `all_stores`, `stores`, the
    /// `X-Image-Meta-Store` header, else the default backend (multi-store); the
    /// one store otherwise.
    pub(crate) fn import_stores(&self, req: &ImportRequest) -> CoreResult<Vec<String>> {
        if !self.stores.multi_store() {
            return Ok(vec![self.stores.default_store().info().id.clone()]);
        }
        let wanted: Vec<String> = if req.all_stores {
            if req.stores.is_some() || req.store_header.is_some() {
                return Err(CoreError::BadRequest(
                    "All_stores parameter can't be used with x-image-meta-store header or stores \
                     parameter"
                        .into(),
                ));
            }
            self.stores
                .all()
                .iter()
                .filter(|s| !s.info().read_only)
                .map(|s| s.info().id.clone())
                .collect()
        } else if let Some(list) = &req.stores {
            if req.store_header.is_some() {
                return Err(CoreError::BadRequest(
                    "Stores parameter and x-image-meta-store header can't be both specified".into(),
                ));
            }
            list.clone()
        } else {
            vec![req
                .store_header
                .clone()
                .unwrap_or_else(|| self.stores.default_store().info().id.clone())]
        };
        for id in &wanted {
            let known = self
                .stores
                .by_id(id)
                .is_some_and(|s| !s.info().id.starts_with("os_glance_"));
            if !known {
                return Err(CoreError::Conflict(format!(
                    "Unknown scheme '{id}' found in URI"
                )));
            }
        }
        Ok(wanted)
    }

    /// The stores an image's active locations are in (multi-store metadata).
    fn stores_holding(&self, image: &Image) -> Vec<String> {
        self.active_locations(image)
            .iter()
            .filter_map(|l| l.metadata.get("store").and_then(|v| v.as_str()))
            .map(str::to_string)
            .collect()
    }

    /// Upstream's lock busting: a lock whose task is gone, or ended or stuck for
    /// longer than the expiry, is removed; a live one is a 409.
    async fn expire_lock(&self, image_id: &str, holder: &str) -> CoreResult<()> {
        let task = self.db.get_task(holder).await?;
        let expired = match &task {
            None => true,
            Some(t) => {
                let mut expiry = chrono::Duration::minutes(LOCK_EXPIRY_MINUTES);
                if t.status == "pending" {
                    expiry = expiry * 2;
                }
                let age = glance_db::now() - t.updated_at.unwrap_or(t.created_at);
                age >= expiry
            }
        };
        if !expired {
            return Err(CoreError::Conflict("Image has active task".into()));
        }
        if let Some(t) = &task {
            let ttl = chrono::Duration::hours(i64::from(self.settings.task_time_to_live_hours));
            let end = glance_db::TaskEnd::Failure {
                message: "Expired lock preempted".into(),
            };
            self.db.end_task(&t.id, &end, ttl).await?;
        }
        if !self.db.bust_import_lock(image_id, holder).await? {
            return Err(CoreError::Conflict("Image has active task".into()));
        }
        tracing::warn!(image = %image_id, task = %holder, "removed an expired import lock");
        Ok(())
    }
}

/// Upstream's status rules, checked before the policy.
fn check_status(image: &Image, method: ImportMethod) -> CoreResult<()> {
    let status = image.status;
    let conflict = |m: &str| Err(CoreError::Conflict(m.to_string()));
    if status == ImageStatus::Active && method != ImportMethod::CopyImage {
        return conflict("Image with status active cannot be target for import");
    }
    if status != ImageStatus::Active && method == ImportMethod::CopyImage {
        return conflict("Only images with status active can be targeted for copying");
    }
    if status != ImageStatus::Queued && method == ImportMethod::WebDownload {
        return conflict("Image needs to be in 'queued' state to use 'web-download' method");
    }
    if status != ImageStatus::Uploading && method == ImportMethod::GlanceDirect {
        return conflict("Image needs to be staged before 'glance-direct' method can be used");
    }
    if image.container_format.is_none() {
        return conflict("'container_format' needs to be set before import");
    }
    if image.disk_format.is_none() {
        return conflict("'disk_format' needs to be set before import");
    }
    Ok(())
}

/// The status change that starts an import (copy-image leaves the image active).
fn start_change(method: ImportMethod) -> Option<StatusChange> {
    let from = match method {
        ImportMethod::GlanceDirect => ImageStatus::Uploading,
        ImportMethod::WebDownload => ImageStatus::Queued,
        ImportMethod::CopyImage => return None,
    };
    Some(StatusChange {
        from,
        to: ImageStatus::Importing,
        columns: Vec::new(),
    })
}

/// A comma-separated list property, as upstream keeps the store lists.
pub(crate) fn list_property(image: &Image, name: &str) -> Vec<String> {
    image
        .properties
        .get(name)
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Puts a failed import's image back to `queued` with no size (not copy-image).
pub(crate) fn back_to_queued() -> StatusChange {
    StatusChange {
        from: ImageStatus::Importing,
        to: ImageStatus::Queued,
        columns: vec![("size", SqlValue::Null), ("virtual_size", SqlValue::Null)],
    }
}
