//! `glance-manage db purge` and `db purge_images_table`: hard-deleting rows that
//! were soft-deleted long enough ago, in upstream's order and batches.
//!
//! `purge` never touches `images`: a deleted image's row is what keeps its id from
//! being used again (OSSN-0075), so those rows go only through the separate
//! `purge_images_table`, with its own, longer default age.

use chrono::NaiveDateTime;

use crate::sql::SqlBuf;
use crate::{Db, DbError};

/// Tables `purge` empties of old deleted rows, children before parents
/// (`task_info` first, `tasks` last, as upstream orders them).
const PURGED_TABLES: &[&str] = &[
    "image_locations",
    "image_members",
    "image_properties",
    "image_tags",
    "tasks",
];

/// What one purge removed: (table, rows) in the order they were purged.
pub type PurgeReport = Vec<(&'static str, u64)>;

impl Db {
    /// Deletes rows with `deleted_at` before `cutoff` from every soft-deleting table
    /// but `images`, at most `max_rows` per table (None: all), and the `task_info`
    /// of such tasks.
    pub async fn purge_deleted_rows(
        &self,
        cutoff: NaiveDateTime,
        max_rows: Option<u64>,
    ) -> Result<PurgeReport, DbError> {
        let mut report = Vec::new();
        // task_info has no deleted column: it goes with its task.
        let mut q = SqlBuf::new(
            "DELETE FROM task_info WHERE task_id IN (SELECT t1.task_id FROM (\
             SELECT task_info.task_id FROM task_info JOIN tasks ON tasks.id = task_info.task_id \
             WHERE tasks.deleted_at < ",
        );
        q.bind(cutoff).push(" ORDER BY tasks.deleted_at");
        push_limit(&mut q, max_rows);
        q.push(") AS t1)");
        report.push(("task_info", self.purge_batch(&q).await?));
        for table in PURGED_TABLES {
            report.push((table, self.purge_table(table, cutoff, max_rows).await?));
        }
        Ok(report)
    }

    /// Deletes image rows with `deleted_at` before `cutoff`, at most `max_rows`
    /// (None: all). Their ids become free for reuse: the operator's explicit choice.
    pub async fn purge_deleted_images(
        &self,
        cutoff: NaiveDateTime,
        max_rows: Option<u64>,
    ) -> Result<u64, DbError> {
        self.purge_table("images", cutoff, max_rows).await
    }

    async fn purge_table(
        &self,
        table: &str,
        cutoff: NaiveDateTime,
        max_rows: Option<u64>,
    ) -> Result<u64, DbError> {
        // The inner select is wrapped in a derived table: MySQL refuses LIMIT inside
        // IN (...) and a subquery on the table being deleted from.
        let mut q = SqlBuf::new(&format!(
            "DELETE FROM {table} WHERE id IN (SELECT t1.id FROM (\
             SELECT id FROM {table} WHERE deleted_at < "
        ));
        q.bind(cutoff);
        // Rows of images still pending delete are the scrubber's queue: purging them
        // would leave their data in the stores for good.
        if table == "images" || table == "image_locations" {
            q.push(" AND status <> ").bind("pending_delete");
        }
        q.push(" ORDER BY deleted_at");
        push_limit(&mut q, max_rows);
        q.push(") AS t1)");
        self.purge_batch(&q).await
    }

    async fn purge_batch(&self, q: &SqlBuf) -> Result<u64, DbError> {
        let mut tx = self.begin_write().await?;
        let rows = tx.execute(q).await?;
        tx.commit().await?;
        Ok(rows)
    }
}

fn push_limit(q: &mut SqlBuf, max_rows: Option<u64>) {
    if let Some(n) = max_rows {
        q.push(" LIMIT ").bind(i64::try_from(n).unwrap_or(i64::MAX));
    }
}
