//! The scrubber's queries: `pending_delete` images (deleted rows whose data is
//! still in the stores, upstream's delayed delete), finishing them once their data
//! is gone, and restoring one to `active`.
//!
//! Every image status change here goes through the same compare-and-swap as the
//! API's (`swap_status`), on soft-deleted rows: a restore and a scrub of the same
//! image cannot both win.

use chrono::NaiveDateTime;
use glance_domain::ImageStatus;

use crate::images::{swap_status, RowState, StatusChange};
use crate::sql::{SqlBuf, SqlValue};
use crate::{now, Db, DbError};

/// Images fetched per query, as upstream's scrub queue pages.
const PAGE: i64 = 1000;

/// One image to scrub and its locations whose data is still to be removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScrubJob {
    pub image_id: String,
    pub locations: Vec<PendingLocation>,
}

/// A `pending_delete` location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingLocation {
    pub id: i64,
    pub url: String,
    /// The `store` of its metadata (multi-store).
    pub store: Option<String>,
}

/// What `--restore` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Restore {
    Restored,
    NotFound,
    /// The image is in this status, not `pending_delete`.
    WrongStatus(String),
}

impl Db {
    /// Every `pending_delete` image deleted at or before `cutoff`, with its
    /// `pending_delete` locations (possibly none, when an earlier pass removed the
    /// data but stopped before the status change).
    pub async fn scrub_jobs(&self, cutoff: NaiveDateTime) -> Result<Vec<ScrubJob>, DbError> {
        let mut jobs = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let mut q = SqlBuf::new("SELECT id FROM images WHERE status = ");
            q.bind(ImageStatus::PendingDelete.as_str())
                .push(" AND deleted = ")
                .bind(true)
                .push(" AND deleted_at <= ")
                .bind(cutoff);
            if let Some(m) = &marker {
                q.push(" AND id > ").bind(m.as_str());
            }
            q.push(" ORDER BY id LIMIT ").bind(PAGE);
            let ids: Vec<String> = self
                .fetch(&q)
                .await?
                .iter()
                .filter_map(|r| r.text("id"))
                .collect();
            let Some(last) = ids.last().cloned() else {
                break;
            };
            let full_page = ids.len() as i64 == PAGE;
            jobs.extend(self.pending_locations(ids).await?);
            if !full_page {
                break;
            }
            marker = Some(last);
        }
        Ok(jobs)
    }

    async fn pending_locations(&self, ids: Vec<String>) -> Result<Vec<ScrubJob>, DbError> {
        let mut q = SqlBuf::new(
            "SELECT id, image_id, value, meta_data FROM image_locations WHERE status = ",
        );
        q.bind("pending_delete").push(" AND image_id IN ");
        q.bind_list(ids.iter().map(SqlValue::from));
        q.push(" ORDER BY id");
        let rows = self.fetch(&q).await?;
        let mut jobs: Vec<ScrubJob> = ids
            .into_iter()
            .map(|image_id| ScrubJob {
                image_id,
                locations: Vec::new(),
            })
            .collect();
        for row in &rows {
            let (Some(id), Some(image_id), Some(url)) =
                (row.int("id"), row.text("image_id"), row.text("value"))
            else {
                continue;
            };
            let store = row
                .str("meta_data")
                .and_then(|m| serde_json::from_str::<serde_json::Value>(m).ok())
                .and_then(|m| m.get("store").and_then(|s| s.as_str()).map(String::from));
            if let Some(job) = jobs.iter_mut().find(|j| j.image_id == image_id) {
                job.locations.push(PendingLocation { id, url, store });
            }
        }
        Ok(jobs)
    }

    /// Marks a scrubbed location `deleted` (upstream's `image_location_delete` with
    /// status `deleted`).
    pub async fn mark_location_scrubbed(
        &self,
        image_id: &str,
        location_id: i64,
    ) -> Result<(), DbError> {
        self.retry_deadlocks(|| async {
            let at = now();
            let mut tx = self.begin_write().await?;
            let mut q = SqlBuf::new("UPDATE image_locations SET status = ");
            q.bind("deleted")
                .push(", deleted = ")
                .bind(true)
                .push(", deleted_at = ")
                .bind(at)
                .push(", updated_at = ")
                .bind(at)
                .push(" WHERE id = ")
                .bind(location_id)
                .push(" AND image_id = ")
                .bind(image_id)
                .push(" AND status = ")
                .bind("pending_delete");
            tx.execute(&q).await?;
            tx.commit().await
        })
        .await
    }

    /// `pending_delete -> deleted` once no location of the image awaits scrubbing.
    /// False when the image is no longer pending (restored meanwhile) or still has
    /// pending locations.
    pub async fn finish_scrub(&self, image_id: &str) -> Result<bool, DbError> {
        self.retry_deadlocks(|| async {
            let mut tx = self.begin_write().await?;
            let change = StatusChange {
                from: ImageStatus::PendingDelete,
                to: ImageStatus::Deleted,
                columns: Vec::new(),
            };
            if !swap_status(&mut tx, image_id, &change, RowState::SoftDeleted).await? {
                return Ok(false);
            }
            let mut q = SqlBuf::new("SELECT id FROM image_locations WHERE image_id = ");
            q.bind(image_id)
                .push(" AND status = ")
                .bind("pending_delete");
            if !tx.fetch(&q).await?.is_empty() {
                // Dropping the transaction rolls the status change back.
                return Ok(false);
            }
            tx.commit().await?;
            Ok(true)
        })
        .await
    }

    /// `glance-scrubber --restore`: a `pending_delete` image back to `active`, with
    /// the locations, properties, tags and members its delete removed (those
    /// soft-deleted at the image's own `deleted_at`).
    pub async fn restore_pending(&self, image_id: &str) -> Result<Restore, DbError> {
        self.retry_deadlocks(|| self.restore_pending_once(image_id))
            .await
    }

    async fn restore_pending_once(&self, image_id: &str) -> Result<Restore, DbError> {
        let mut tx = self.begin_write().await?;
        let mut q = SqlBuf::new("SELECT status, deleted_at FROM images WHERE id = ");
        q.bind(image_id);
        let rows = tx.fetch(&q).await?;
        let Some(row) = rows.first() else {
            return Ok(Restore::NotFound);
        };
        let status = row.text("status").unwrap_or_default();
        if status != ImageStatus::PendingDelete.as_str() {
            return Ok(Restore::WrongStatus(status));
        }
        let deleted_at = row.time("deleted_at");
        let change = StatusChange {
            from: ImageStatus::PendingDelete,
            to: ImageStatus::Active,
            columns: vec![("deleted", false.into()), ("deleted_at", SqlValue::Null)],
        };
        if !swap_status(&mut tx, image_id, &change, RowState::SoftDeleted).await? {
            // Changed between the read and the swap (scrubbed meanwhile).
            return Ok(Restore::WrongStatus(ImageStatus::Deleted.as_str().into()));
        }
        let at = now();
        let mut q = SqlBuf::new("UPDATE image_locations SET status = ");
        q.bind("active")
            .push(", deleted = ")
            .bind(false)
            .push(", deleted_at = NULL, updated_at = ")
            .bind(at)
            .push(" WHERE image_id = ")
            .bind(image_id)
            .push(" AND status = ")
            .bind("pending_delete");
        tx.execute(&q).await?;
        if let Some(deleted_at) = deleted_at {
            for table in ["image_properties", "image_tags", "image_members"] {
                let mut q = SqlBuf::new(&format!("UPDATE {table} SET deleted = "));
                q.bind(false)
                    .push(", deleted_at = NULL, updated_at = ")
                    .bind(at)
                    .push(" WHERE image_id = ")
                    .bind(image_id)
                    .push(" AND deleted = ")
                    .bind(true)
                    .push(" AND deleted_at = ")
                    .bind(deleted_at);
                tx.execute(&q).await?;
            }
        }
        tx.commit().await?;
        Ok(Restore::Restored)
    }
}
