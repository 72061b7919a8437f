//! Adding and removing image locations (the location API, multi-store
//! `DELETE /v2/stores/...`, the legacy PATCH of `/locations`).
//!
//! Each change runs in one transaction that first touches the image row under a
//! status condition. That update is the compare-and-swap (the image must still be in
//! an allowed status) and also takes the row's write lock, so two API nodes changing
//! one image's locations at once are serialized and every rule (no duplicate URL,
//! the quota, never removing the last location) is checked on what is really stored.

use glance_domain::ImageStatus;

use crate::images::{change_status_in, StatusChange};
use crate::sql::{SqlBuf, SqlValue};
use crate::{now, Db, DbError, WriteTx};

/// A location to add.
#[derive(Debug, Clone)]
pub struct NewLocation {
    pub url: String,
    pub metadata: serde_json::Map<String, serde_json::Value>,
}

/// What happened to a location change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocationChange {
    Done,
    /// The image is gone or not in an allowed status.
    WrongStatus,
    /// The image already has a location with this URL.
    Duplicate,
    /// `image_location_quota` would be exceeded.
    OverQuota,
    /// No such (live) location on the image.
    NotFound,
    /// It is the image's only location.
    Last,
}

impl Db {
    /// Adds `location` to an image in one of `allowed` statuses, at most `quota`
    /// live locations in all (None: unlimited). With `activate`, the image's status
    /// changes in the same transaction instead (e.g. queued -> active with its size
    /// and hashes), which is then the status condition.
    pub async fn add_location(
        &self,
        image_id: &str,
        location: &NewLocation,
        allowed: &[ImageStatus],
        activate: Option<&StatusChange>,
        quota: Option<usize>,
    ) -> Result<LocationChange, DbError> {
        self.retry_deadlocks(|| {
            self.add_location_once(image_id, location, allowed, activate, quota)
        })
        .await
    }

    async fn add_location_once(
        &self,
        image_id: &str,
        location: &NewLocation,
        allowed: &[ImageStatus],
        activate: Option<&StatusChange>,
        quota: Option<usize>,
    ) -> Result<LocationChange, DbError> {
        let mut tx = self.begin_write().await?;
        let locked = match activate {
            Some(change) => change_status_in(&mut tx, image_id, change).await?,
            None => touch_image(&mut tx, image_id, allowed).await?,
        };
        if !locked {
            return Ok(LocationChange::WrongStatus);
        }
        let live = live_locations(&mut tx, image_id).await?;
        if live.iter().any(|(_, url)| *url == location.url) {
            return Ok(LocationChange::Duplicate);
        }
        if quota.is_some_and(|max| live.len() >= max) {
            return Ok(LocationChange::OverQuota);
        }
        insert_location(&mut tx, image_id, location).await?;
        tx.commit().await?;
        Ok(LocationChange::Done)
    }

    /// Marks location `location_id` of an image in one of `allowed` statuses deleted
    /// (`status = 'deleted'`, as upstream's `image_location_delete`), unless it is the
    /// last live location.
    pub async fn remove_location(
        &self,
        image_id: &str,
        location_id: i64,
        allowed: &[ImageStatus],
    ) -> Result<LocationChange, DbError> {
        self.retry_deadlocks(|| self.remove_location_once(image_id, location_id, allowed))
            .await
    }

    async fn remove_location_once(
        &self,
        image_id: &str,
        location_id: i64,
        allowed: &[ImageStatus],
    ) -> Result<LocationChange, DbError> {
        let mut tx = self.begin_write().await?;
        if !touch_image(&mut tx, image_id, allowed).await? {
            return Ok(LocationChange::WrongStatus);
        }
        let live = live_locations(&mut tx, image_id).await?;
        if !live.iter().any(|(id, _)| *id == location_id) {
            return Ok(LocationChange::NotFound);
        }
        if live.len() == 1 {
            return Ok(LocationChange::Last);
        }
        mark_location_deleted(&mut tx, location_id, now()).await?;
        tx.commit().await?;
        Ok(LocationChange::Done)
    }

    /// Replaces every live location of an image in one of `allowed` statuses by
    /// `locations` (the legacy `replace /locations`). Returns the removed ones, whose
    /// data the caller may delete.
    pub async fn replace_locations(
        &self,
        image_id: &str,
        locations: &[NewLocation],
        allowed: &[ImageStatus],
        activate: Option<&StatusChange>,
    ) -> Result<Option<Vec<String>>, DbError> {
        self.retry_deadlocks(|| self.replace_locations_once(image_id, locations, allowed, activate))
            .await
    }

    async fn replace_locations_once(
        &self,
        image_id: &str,
        locations: &[NewLocation],
        allowed: &[ImageStatus],
        activate: Option<&StatusChange>,
    ) -> Result<Option<Vec<String>>, DbError> {
        let mut tx = self.begin_write().await?;
        let locked = match activate {
            Some(change) => change_status_in(&mut tx, image_id, change).await?,
            None => touch_image(&mut tx, image_id, allowed).await?,
        };
        if !locked {
            return Ok(None);
        }
        let live = live_locations(&mut tx, image_id).await?;
        let keep: Vec<&str> = locations.iter().map(|l| l.url.as_str()).collect();
        let mut removed = Vec::new();
        let at = now();
        for (id, url) in &live {
            if keep.contains(&url.as_str()) {
                continue;
            }
            mark_location_deleted(&mut tx, *id, at).await?;
            removed.push(url.clone());
        }
        for location in locations {
            match live.iter().find(|(_, url)| *url == location.url) {
                // A kept location takes the metadata given for it (upstream's
                // `_image_location_update`).
                Some((id, _)) => {
                    let mut q = SqlBuf::new("UPDATE image_locations SET meta_data = ");
                    q.bind(serde_json::Value::Object(location.metadata.clone()).to_string())
                        .push(", updated_at = ")
                        .bind(at)
                        .push(" WHERE id = ")
                        .bind(*id);
                    tx.execute(&q).await?;
                }
                None => insert_location(&mut tx, image_id, location).await?,
            }
        }
        tx.commit().await?;
        Ok(Some(removed))
    }
}

/// Upstream's `image_location_delete` with status `deleted`: the row stays, soft-
/// deleted. `location_id` comes from [`live_locations`] of the same image.
pub(crate) async fn mark_location_deleted(
    tx: &mut WriteTx,
    location_id: i64,
    at: chrono::NaiveDateTime,
) -> Result<(), DbError> {
    let mut q = SqlBuf::new("UPDATE image_locations SET deleted = ");
    q.bind(true)
        .push(", deleted_at = ")
        .bind(at)
        .push(", updated_at = ")
        .bind(at)
        .push(", status = ")
        .bind("deleted")
        .push(" WHERE id = ")
        .bind(location_id);
    tx.execute(&q).await?;
    Ok(())
}

/// The status condition and row lock of every location change.
pub(crate) async fn touch_image(
    tx: &mut WriteTx,
    image_id: &str,
    allowed: &[ImageStatus],
) -> Result<bool, DbError> {
    let mut q = SqlBuf::new("UPDATE images SET updated_at = ");
    q.bind(now())
        .push(" WHERE id = ")
        .bind(image_id)
        .push(" AND deleted = ")
        .bind(false);
    // Empty: any status (an `IN ()` list is not valid SQL anyway).
    if !allowed.is_empty() {
        q.push(" AND status IN ");
        q.bind_list(allowed.iter().map(|s| SqlValue::from(s.as_str())));
    }
    Ok(tx.execute(&q).await? == 1)
}

/// `(id, url)` of the image's live locations, oldest first.
pub(crate) async fn live_locations(
    tx: &mut WriteTx,
    image_id: &str,
) -> Result<Vec<(i64, String)>, DbError> {
    let mut q = SqlBuf::new("SELECT id, value FROM image_locations WHERE image_id = ");
    q.bind(image_id)
        .push(" AND deleted = ")
        .bind(false)
        .push(" ORDER BY id");
    let rows = tx.fetch(&q).await?;
    Ok(rows
        .iter()
        .filter_map(|row| Some((row.int("id")?, row.text("value")?)))
        .collect())
}

pub(crate) async fn insert_location(
    tx: &mut WriteTx,
    image_id: &str,
    location: &NewLocation,
) -> Result<(), DbError> {
    let at = now();
    let mut q = SqlBuf::new(
        "INSERT INTO image_locations (image_id, value, created_at, updated_at, deleted, meta_data, status) VALUES ",
    );
    q.bind_list([
        SqlValue::from(image_id),
        location.url.as_str().into(),
        at.into(),
        at.into(),
        false.into(),
        serde_json::Value::Object(location.metadata.clone())
            .to_string()
            .into(),
        "active".into(),
    ]);
    tx.execute(&q).await?;
    Ok(())
}
