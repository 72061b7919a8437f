//! The import lock of an image: upstream's `os_glance_import_task` property, which
//! names the one `api_image_import` task allowed to work on the image. It is taken
//! and dropped together with the status change and the progress properties of the
//! import, in one transaction each, so no two imports ever run on one image.

use crate::images::{change_status_in, remove_property, upsert_property, StatusChange};
use crate::locations;
use crate::sql::SqlBuf;
use crate::{now, Db, DbError, WriteTx};

/// The property holding the lock.
pub const IMPORT_LOCK_PROPERTY: &str = "os_glance_import_task";

/// What happened to a request for the lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockAttempt {
    Taken,
    /// Another task holds it (its id).
    Held(String),
    /// The image was not in the expected status (or is gone).
    WrongStatus,
}

/// Properties (and, when an import is undone, locations) written with a lock change.
#[derive(Debug, Default, Clone)]
pub struct PropertyEdits {
    pub set: Vec<(String, String)>,
    pub remove: Vec<String>,
    /// Live locations with these URLs are marked deleted (an import's own
    /// locations, when it fails and takes back what it wrote).
    pub drop_locations: Vec<String>,
}

impl Db {
    /// Takes the lock for `task_id`, with the status change an import starts with
    /// (none for copy-image, whose image stays active) and `edits`.
    pub async fn take_import_lock(
        &self,
        image_id: &str,
        task_id: &str,
        change: Option<&StatusChange>,
        edits: &PropertyEdits,
    ) -> Result<LockAttempt, DbError> {
        self.retry_deadlocks(|| self.take_import_lock_once(image_id, task_id, change, edits))
            .await
    }

    async fn take_import_lock_once(
        &self,
        image_id: &str,
        task_id: &str,
        change: Option<&StatusChange>,
        edits: &PropertyEdits,
    ) -> Result<LockAttempt, DbError> {
        let mut tx = self.begin_write().await?;
        // The first statement writes the image row: it serialises every lock
        // attempt on this image (row lock, or SQLite's write lock) before the
        // current holder is read below.
        if !touch_image(&mut tx, image_id, change).await? {
            return Ok(LockAttempt::WrongStatus);
        }
        if let Some(holder) = lock_holder(&mut tx, image_id).await? {
            return Ok(LockAttempt::Held(holder));
        }
        let at = now();
        upsert_property(&mut tx, image_id, IMPORT_LOCK_PROPERTY, task_id, at).await?;
        apply_edits(&mut tx, image_id, edits).await?;
        tx.commit().await?;
        Ok(LockAttempt::Taken)
    }

    /// Drops the lock if `task_id` still holds it, with the import's final status
    /// change (when the image is still where the import left it) and `edits`.
    /// Returns whether the status change happened (true when none was asked).
    pub async fn release_import_lock(
        &self,
        image_id: &str,
        task_id: &str,
        change: Option<&StatusChange>,
        edits: &PropertyEdits,
    ) -> Result<bool, DbError> {
        self.retry_deadlocks(|| self.release_import_lock_once(image_id, task_id, change, edits))
            .await
    }

    async fn release_import_lock_once(
        &self,
        image_id: &str,
        task_id: &str,
        change: Option<&StatusChange>,
        edits: &PropertyEdits,
    ) -> Result<bool, DbError> {
        let mut tx = self.begin_write().await?;
        let changed = touch_image(&mut tx, image_id, change).await?;
        if !changed && change.is_some() && !touch_image(&mut tx, image_id, None).await? {
            // The image is gone: nothing left to unlock.
            return Ok(false);
        }
        if lock_holder(&mut tx, image_id).await?.as_deref() == Some(task_id) {
            let mut edits = edits.clone();
            edits.remove.push(IMPORT_LOCK_PROPERTY.into());
            apply_edits(&mut tx, image_id, &edits).await?;
        } else {
            apply_edits(&mut tx, image_id, edits).await?;
        }
        tx.commit().await?;
        Ok(changed)
    }

    /// Removes a lock whose task is gone or expired (upstream's lock busting),
    /// only if `task_id` still holds it. False when someone else changed it first.
    pub async fn bust_import_lock(&self, image_id: &str, task_id: &str) -> Result<bool, DbError> {
        let mut tx = self.begin_write().await?;
        if !touch_image(&mut tx, image_id, None).await? {
            return Ok(false);
        }
        if lock_holder(&mut tx, image_id).await?.as_deref() != Some(task_id) {
            return Ok(false);
        }
        let edits = PropertyEdits {
            remove: vec![IMPORT_LOCK_PROPERTY.into()],
            ..Default::default()
        };
        apply_edits(&mut tx, image_id, &edits).await?;
        tx.commit().await?;
        Ok(true)
    }
}

/// Writes the image row: the status change when given, else only `updated_at`.
/// False when the image is deleted or not in the expected status.
async fn touch_image(
    tx: &mut WriteTx,
    image_id: &str,
    change: Option<&StatusChange>,
) -> Result<bool, DbError> {
    match change {
        Some(change) => change_status_in(tx, image_id, change).await,
        None => locations::touch_image(tx, image_id, &[]).await,
    }
}

async fn lock_holder(tx: &mut WriteTx, image_id: &str) -> Result<Option<String>, DbError> {
    let mut q = SqlBuf::new("SELECT value FROM image_properties WHERE image_id = ");
    q.bind(image_id)
        .push(" AND name = ")
        .bind(IMPORT_LOCK_PROPERTY)
        .push(" AND deleted = ")
        .bind(false);
    Ok(tx.fetch(&q).await?.first().and_then(|r| r.text("value")))
}

async fn apply_edits(
    tx: &mut WriteTx,
    image_id: &str,
    edits: &PropertyEdits,
) -> Result<(), DbError> {
    let at = now();
    for (name, value) in &edits.set {
        upsert_property(tx, image_id, name, value, at).await?;
    }
    for name in &edits.remove {
        remove_property(tx, image_id, name, at).await?;
    }
    if !edits.drop_locations.is_empty() {
        for (id, url) in locations::live_locations(tx, image_id).await? {
            if edits.drop_locations.contains(&url) {
                locations::mark_location_deleted(tx, id, at).await?;
            }
        }
    }
    Ok(())
}
