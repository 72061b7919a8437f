//! Writing and reading single images.

use chrono::NaiveDateTime;
use glance_domain::{Image, ImageStatus};

use crate::locations::{insert_location, NewLocation};
use crate::rows::{child_queries, fill_children, image_from_row, IMAGE_COLUMNS};
use crate::sql::{SqlBuf, SqlValue};
use crate::{now, Db, DbError, WriteTx};

/// A metadata update computed by the core: only what changed is written, so two
/// updates of different attributes from two API nodes both survive.
#[derive(Debug, Default, Clone)]
pub struct ImageChanges {
    /// Core columns to set (column names come from the core's fixed list, never from input).
    pub columns: Vec<(&'static str, SqlValue)>,
    pub set_properties: Vec<(String, String)>,
    pub remove_properties: Vec<String>,
    /// Replaces the whole tag set when present.
    pub tags: Option<Vec<String>>,
}

impl ImageChanges {
    pub fn is_empty(&self) -> bool {
        self.columns.is_empty()
            && self.set_properties.is_empty()
            && self.remove_properties.is_empty()
            && self.tags.is_none()
    }
}

/// A status compare-and-swap with the columns that change together with the status.
#[derive(Debug, Clone)]
pub struct StatusChange {
    pub from: ImageStatus,
    pub to: ImageStatus,
    pub columns: Vec<(&'static str, SqlValue)>,
}

impl Db {
    /// Inserts a new image with its properties and tags. An existing row with the same
    /// id, deleted or not, is `Duplicate`: ids are never reused.
    pub async fn create_image(&self, image: &Image) -> Result<(), DbError> {
        self.retry_deadlocks(|| self.create_image_once(image)).await
    }

    async fn create_image_once(&self, image: &Image) -> Result<(), DbError> {
        let mut tx = self.begin_write().await?;
        let mut q = SqlBuf::new(
            "INSERT INTO images (id, name, size, status, created_at, updated_at, deleted, \
             disk_format, container_format, checksum, owner, min_disk, min_ram, protected, \
             virtual_size, visibility, os_hidden, os_hash_algo, os_hash_value) VALUES ",
        );
        q.bind_list([
            SqlValue::from(&image.id),
            image.name.clone().into(),
            image.size.into(),
            image.status.as_str().into(),
            image.created_at.into(),
            image.updated_at.into(),
            false.into(),
            image.disk_format.clone().into(),
            image.container_format.clone().into(),
            image.checksum.clone().into(),
            image.owner.clone().into(),
            image.min_disk.into(),
            image.min_ram.into(),
            image.protected.into(),
            image.virtual_size.into(),
            image.visibility.as_str().into(),
            image.os_hidden.into(),
            image.os_hash_algo.clone().into(),
            image.os_hash_value.clone().into(),
        ]);
        tx.execute(&q).await?;
        for (name, value) in &image.properties {
            upsert_property(&mut tx, &image.id, name, value, image.created_at).await?;
        }
        for tag in &image.tags {
            insert_tag(&mut tx, &image.id, tag, image.created_at).await?;
        }
        tx.commit().await
    }

    /// The image with `id` unless deleted, with properties, tags and locations.
    pub async fn get_image(&self, id: &str) -> Result<Option<Image>, DbError> {
        let mut q = SqlBuf::new(&format!(
            "SELECT {IMAGE_COLUMNS} FROM images WHERE images.id = "
        ));
        q.bind(id).push(" AND images.deleted = ").bind(false);
        // The image and its child rows in one round trip (the id is known up front).
        let mut batch = vec![q];
        batch.extend(child_queries(&[id.to_string()]));
        let mut results = self.fetch_batch(batch).await?.into_iter();
        let rows = results.next().unwrap_or_default();
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        let mut images = vec![image_from_row(row)?];
        fill_children(&mut images, results.collect());
        Ok(images.pop())
    }

    /// Applies `changes` to a non-deleted image. When `expected_status` is given the
    /// update only happens while the image is still in it. Returns false when no
    /// (matching) image exists.
    pub async fn update_image(
        &self,
        id: &str,
        changes: &ImageChanges,
        expected_status: Option<ImageStatus>,
    ) -> Result<bool, DbError> {
        self.retry_deadlocks(|| self.update_image_once(id, changes, expected_status))
            .await
    }

    async fn update_image_once(
        &self,
        id: &str,
        changes: &ImageChanges,
        expected_status: Option<ImageStatus>,
    ) -> Result<bool, DbError> {
        let at = now();
        let mut tx = self.begin_write().await?;
        // The first statement writes, which also takes the write lock for the transaction.
        let mut q = SqlBuf::new("UPDATE images SET updated_at = ");
        q.bind(at);
        for (col, value) in &changes.columns {
            q.push(", ").push(col).push(" = ").bind(value.clone());
        }
        q.push(" WHERE id = ")
            .bind(id)
            .push(" AND deleted = ")
            .bind(false);
        if let Some(st) = expected_status {
            q.push(" AND status = ").bind(st.as_str());
        }
        if tx.execute(&q).await? == 0 {
            return Ok(false);
        }
        for (name, value) in &changes.set_properties {
            upsert_property(&mut tx, id, name, value, at).await?;
        }
        for name in &changes.remove_properties {
            remove_property(&mut tx, id, name, at).await?;
        }
        if let Some(tags) = &changes.tags {
            let mut q = SqlBuf::new("UPDATE image_tags SET deleted = ");
            q.bind(true).push(", deleted_at = ").bind(at);
            q.push(" WHERE image_id = ")
                .bind(id)
                .push(" AND deleted = ")
                .bind(false);
            tx.execute(&q).await?;
            for tag in tags {
                insert_tag(&mut tx, id, tag, at).await?;
            }
        }
        tx.commit().await?;
        Ok(true)
    }

    /// The one compare-and-swap path for statuses: moves the image from `change.from`
    /// to `change.to` (setting `change.columns` with it) only if it is still in
    /// `change.from`. Returns false when it was not (someone else won).
    pub async fn change_status(&self, id: &str, change: &StatusChange) -> Result<bool, DbError> {
        self.retry_deadlocks(|| self.change_status_once(id, change))
            .await
    }

    async fn change_status_once(&self, id: &str, change: &StatusChange) -> Result<bool, DbError> {
        let mut tx = self.begin_write().await?;
        let ok = change_status_in(&mut tx, id, change).await?;
        tx.commit().await?;
        Ok(ok)
    }

    /// Records uploaded data: adds the location and activates the image in one
    /// transaction, only if the image is still in `change.from`.
    pub async fn activate_with_location(
        &self,
        id: &str,
        change: &StatusChange,
        url: &str,
        metadata: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<bool, DbError> {
        self.retry_deadlocks(|| self.activate_with_location_once(id, change, url, metadata))
            .await
    }

    async fn activate_with_location_once(
        &self,
        id: &str,
        change: &StatusChange,
        url: &str,
        metadata: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<bool, DbError> {
        let mut tx = self.begin_write().await?;
        if !change_status_in(&mut tx, id, change).await? {
            return Ok(false);
        }
        let location = NewLocation {
            url: url.to_string(),
            metadata: metadata.clone(),
        };
        insert_location(&mut tx, id, &location).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Soft-deletes the image and its child rows, as upstream does, if it is still in
    /// `from`. The row stays so that its id can never be reused. `to` is `Deleted`, or
    /// `PendingDelete` under delayed delete: then the live locations become
    /// `pending_delete` (their data left for the scrubber) instead of `deleted`.
    pub async fn delete_image(
        &self,
        id: &str,
        from: ImageStatus,
        to: ImageStatus,
    ) -> Result<bool, DbError> {
        self.retry_deadlocks(|| self.delete_image_once(id, from, to))
            .await
    }

    async fn delete_image_once(
        &self,
        id: &str,
        from: ImageStatus,
        to: ImageStatus,
    ) -> Result<bool, DbError> {
        let at = now();
        let mut tx = self.begin_write().await?;
        let change = StatusChange {
            from,
            to,
            columns: vec![("deleted", true.into()), ("deleted_at", at.into())],
        };
        if !change_status_in(&mut tx, id, &change).await? {
            return Ok(false);
        }
        let location_status = match to {
            ImageStatus::PendingDelete => "pending_delete",
            _ => "deleted",
        };
        let mut q = SqlBuf::new("UPDATE image_locations SET deleted = ");
        q.bind(true).push(", deleted_at = ").bind(at);
        q.push(", updated_at = ").bind(at);
        q.push(", status = ").bind(location_status);
        q.push(" WHERE image_id = ")
            .bind(id)
            .push(" AND deleted = ")
            .bind(false);
        tx.execute(&q).await?;
        for table in ["image_properties", "image_tags", "image_members"] {
            let mut q = SqlBuf::new(&format!("UPDATE {table} SET deleted = "));
            q.bind(true).push(", deleted_at = ").bind(at);
            q.push(" WHERE image_id = ")
                .bind(id)
                .push(" AND deleted = ")
                .bind(false);
            tx.execute(&q).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Whether any image row (deleted or not) has this id.
    pub async fn image_id_exists(&self, id: &str) -> Result<bool, DbError> {
        let mut q = SqlBuf::new("SELECT id FROM images WHERE id = ");
        q.bind(id);
        Ok(!self.fetch(&q).await?.is_empty())
    }

    /// Bytes of data held by the non-deleted images of `owner` (user_storage_quota).
    pub async fn storage_used_by(&self, owner: Option<&str>) -> Result<i64, DbError> {
        let mut q =
            SqlBuf::new("SELECT COALESCE(SUM(size), 0) AS used FROM images WHERE deleted = ");
        q.bind(false);
        match owner {
            Some(o) => q.push(" AND owner = ").bind(o),
            None => q.push(" AND owner IS NULL"),
        };
        Ok(self
            .fetch(&q)
            .await?
            .first()
            .and_then(|r| r.int("used"))
            .unwrap_or(0))
    }
}

/// Which image rows a status compare-and-swap may match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RowState {
    /// Not deleted: every API path.
    Live,
    /// Soft-deleted: the scrubber's `pending_delete` images, which stay deleted
    /// rows until they are restored.
    SoftDeleted,
}

pub(crate) async fn change_status_in(
    tx: &mut WriteTx,
    id: &str,
    change: &StatusChange,
) -> Result<bool, DbError> {
    swap_status(tx, id, change, RowState::Live).await
}

/// The one conditional UPDATE every status change runs: `to` (with `columns`) only
/// while the row is still in `from` and in `row` state.
pub(crate) async fn swap_status(
    tx: &mut WriteTx,
    id: &str,
    change: &StatusChange,
    row: RowState,
) -> Result<bool, DbError> {
    let mut q = SqlBuf::new("UPDATE images SET status = ");
    q.bind(change.to.as_str())
        .push(", updated_at = ")
        .bind(now());
    for (col, value) in &change.columns {
        q.push(", ").push(col).push(" = ").bind(value.clone());
    }
    q.push(" WHERE id = ")
        .bind(id)
        .push(" AND deleted = ")
        .bind(row == RowState::SoftDeleted);
    q.push(" AND status = ").bind(change.from.as_str());
    Ok(tx.execute(&q).await? == 1)
}

/// Soft-deletes a live property (nothing when there is none).
pub(crate) async fn remove_property(
    tx: &mut WriteTx,
    image_id: &str,
    name: &str,
    at: NaiveDateTime,
) -> Result<(), DbError> {
    let mut q = SqlBuf::new("UPDATE image_properties SET deleted = ");
    q.bind(true).push(", deleted_at = ").bind(at);
    q.push(" WHERE image_id = ")
        .bind(image_id)
        .push(" AND name = ")
        .bind(name);
    q.push(" AND deleted = ").bind(false);
    tx.execute(&q).await?;
    Ok(())
}

/// Sets a property, reviving a soft-deleted row of the same name (the table has a
/// unique key on image_id + name that includes deleted rows).
pub(crate) async fn upsert_property(
    tx: &mut WriteTx,
    image_id: &str,
    name: &str,
    value: &str,
    at: NaiveDateTime,
) -> Result<(), DbError> {
    let mut q = SqlBuf::new("UPDATE image_properties SET value = ");
    q.bind(value)
        .push(", deleted = ")
        .bind(false)
        .push(", deleted_at = NULL, updated_at = ")
        .bind(at);
    q.push(" WHERE image_id = ")
        .bind(image_id)
        .push(" AND name = ")
        .bind(name);
    if tx.execute(&q).await? > 0 {
        return Ok(());
    }
    let mut q = SqlBuf::new(
        "INSERT INTO image_properties (image_id, name, value, created_at, updated_at, deleted) VALUES ",
    );
    q.bind_list([
        SqlValue::from(image_id),
        name.into(),
        value.into(),
        at.into(),
        at.into(),
        false.into(),
    ]);
    tx.execute(&q).await?;
    Ok(())
}

pub(crate) async fn insert_tag(
    tx: &mut WriteTx,
    image_id: &str,
    tag: &str,
    at: NaiveDateTime,
) -> Result<(), DbError> {
    // Compared here, not in SQL: MySQL's default collations are case-insensitive, and
    // tags are case-sensitive (`NewTag` is not `newtag`).
    let mut q = SqlBuf::new("SELECT value FROM image_tags WHERE image_id = ");
    q.bind(image_id).push(" AND deleted = ").bind(false);
    if tx
        .fetch(&q)
        .await?
        .iter()
        .any(|r| r.str("value") == Some(tag))
    {
        return Ok(());
    }
    let mut q = SqlBuf::new(
        "INSERT INTO image_tags (image_id, value, created_at, updated_at, deleted) VALUES ",
    );
    q.bind_list([
        SqlValue::from(image_id),
        tag.into(),
        at.into(),
        at.into(),
        false.into(),
    ]);
    tx.execute(&q).await?;
    Ok(())
}
