//! Image tags (`image_tags`), soft-deleted like upstream.

use crate::images::insert_tag;
use crate::sql::SqlBuf;
use crate::{now, Db, DbError, WriteTx};

/// What adding one tag did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagAdded {
    Added,
    AlreadyPresent,
    QuotaExceeded,
}

impl Db {
    /// Adds `tag` unless present; refuses when the image would exceed `quota` tags.
    pub async fn add_tag(
        &self,
        image_id: &str,
        tag: &str,
        quota: Option<usize>,
    ) -> Result<TagAdded, DbError> {
        self.retry_deadlocks(|| self.add_tag_once(image_id, tag, quota))
            .await
    }

    async fn add_tag_once(
        &self,
        image_id: &str,
        tag: &str,
        quota: Option<usize>,
    ) -> Result<TagAdded, DbError> {
        let at = now();
        let mut tx = self.begin_write().await?;
        touch_image(&mut tx, image_id).await?;
        let mut q = SqlBuf::new("SELECT value FROM image_tags WHERE image_id = ");
        q.bind(image_id).push(" AND deleted = ").bind(false);
        let existing: Vec<String> = tx
            .fetch(&q)
            .await?
            .iter()
            .filter_map(|r| r.text("value"))
            .collect();
        if existing.iter().any(|t| t == tag) {
            return Ok(TagAdded::AlreadyPresent);
        }
        if quota.is_some_and(|max| existing.len() + 1 > max) {
            return Ok(TagAdded::QuotaExceeded);
        }
        insert_tag(&mut tx, image_id, tag, at).await?;
        tx.commit().await?;
        Ok(TagAdded::Added)
    }

    /// Removes `tag`; false when the image did not have it.
    pub async fn delete_tag(&self, image_id: &str, tag: &str) -> Result<bool, DbError> {
        self.retry_deadlocks(|| self.delete_tag_once(image_id, tag))
            .await
    }

    async fn delete_tag_once(&self, image_id: &str, tag: &str) -> Result<bool, DbError> {
        let at = now();
        let mut tx = self.begin_write().await?;
        // The rows are picked here, not by `value = ` in SQL: MySQL's default collations
        // are case-insensitive, and removing `NewTag` must leave `newtag`.
        let mut q = SqlBuf::new("SELECT id, value FROM image_tags WHERE image_id = ");
        q.bind(image_id).push(" AND deleted = ").bind(false);
        let ids: Vec<i64> = tx
            .fetch(&q)
            .await?
            .iter()
            .filter(|r| r.str("value") == Some(tag))
            .filter_map(|r| r.int("id"))
            .collect();
        let removed = !ids.is_empty();
        if removed {
            let mut q = SqlBuf::new("UPDATE image_tags SET deleted = ");
            q.bind(true).push(", deleted_at = ").bind(at);
            q.push(" WHERE id IN ").bind_list(ids);
            tx.execute(&q).await?;
        }
        if removed {
            touch_image(&mut tx, image_id).await?;
            tx.commit().await?;
        }
        Ok(removed)
    }
}

/// Bumps `updated_at`, as upstream saves the image on every tag change.
pub(crate) async fn touch_image(tx: &mut WriteTx, image_id: &str) -> Result<(), DbError> {
    let mut q = SqlBuf::new("UPDATE images SET updated_at = ");
    q.bind(now()).push(" WHERE id = ").bind(image_id);
    tx.execute(&q).await?;
    Ok(())
}
