//! Tasks (`tasks` and its one-to-one `task_info`): the record of background work
//! on an image, which users follow through `GET /v2/images/{id}/tasks`. A task is
//! created `pending`, moves to `processing`, and ends `success` or `failure`,
//! when it gets an expiry (upstream's `task_time_to_live` after the end).

use chrono::NaiveDateTime;

use crate::engine::DbRow;
use crate::sql::SqlBuf;
use crate::{now, Db, DbError};

/// A task to record.
#[derive(Debug, Clone)]
pub struct NewTask {
    pub id: String,
    /// `import`, `api_image_import` or `location_import`.
    pub task_type: String,
    pub owner: String,
    pub image_id: Option<String>,
    pub user_id: Option<String>,
    pub request_id: Option<String>,
    /// JSON text.
    pub input: String,
}

/// A stored task with its info, as upstream's `_task_format` returns it.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskRecord {
    pub id: String,
    pub task_type: String,
    pub status: String,
    pub owner: String,
    pub expires_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: Option<NaiveDateTime>,
    pub deleted_at: Option<NaiveDateTime>,
    pub deleted: bool,
    pub image_id: Option<String>,
    pub request_id: Option<String>,
    pub user_id: Option<String>,
    /// JSON text, as stored.
    pub input: Option<String>,
    pub result: Option<String>,
    pub message: Option<String>,
}

/// How a task ended.
#[derive(Debug, Clone)]
pub enum TaskEnd {
    /// `success`, with the result (JSON text).
    Success { result: String },
    /// `failure`, with the message users see.
    Failure { message: String },
}

fn task_from_row(row: &DbRow) -> Result<TaskRecord, DbError> {
    Ok(TaskRecord {
        id: row.text("id").unwrap_or_default(),
        task_type: row.text("type").unwrap_or_default(),
        status: row.text("status").unwrap_or_default(),
        owner: row.text("owner").unwrap_or_default(),
        expires_at: row.time("expires_at"),
        created_at: row
            .time("created_at")
            .ok_or_else(|| DbError::Corrupt("task without created_at".into()))?,
        updated_at: row.time("updated_at"),
        deleted_at: row.time("deleted_at"),
        deleted: row.boolean("deleted"),
        image_id: row.text("image_id"),
        request_id: row.text("request_id"),
        user_id: row.text("user_id"),
        input: row.text("input"),
        result: row.text("result"),
        message: row.text("message"),
    })
}

/// Every column of a task and its info; the caller appends the condition.
const TASK_SELECT: &str = "SELECT t.id, t.type, t.status, t.owner, t.expires_at, t.created_at, \
     t.updated_at, t.deleted_at, t.deleted, t.image_id, t.request_id, t.user_id, i.input, \
     i.result, i.message FROM tasks t LEFT JOIN task_info i ON i.task_id = t.id WHERE ";

impl Db {
    /// A task that is not deleted (expired ones included: upstream shows them until
    /// they are purged).
    pub async fn get_task(&self, id: &str) -> Result<Option<TaskRecord>, DbError> {
        let mut q = SqlBuf::new(TASK_SELECT);
        q.push("t.id = ")
            .bind(id)
            .push(" AND t.deleted = ")
            .bind(false);
        self.fetch(&q).await?.first().map(task_from_row).transpose()
    }

    /// The progress message of a running task (upstream's "Copied N MiB").
    pub async fn set_task_message(&self, id: &str, message: &str) -> Result<(), DbError> {
        let mut q = SqlBuf::new("UPDATE task_info SET message = ");
        q.bind(message).push(" WHERE task_id = ").bind(id);
        self.execute(&q).await?;
        Ok(())
    }

    /// Records a `pending` task and its input in one transaction.
    pub async fn create_task(&self, task: &NewTask) -> Result<(), DbError> {
        let at = now();
        let mut tx = self.begin_write().await?;
        let mut q = SqlBuf::new(
            "INSERT INTO tasks (id, type, status, owner, expires_at, created_at, updated_at, \
             deleted_at, deleted, image_id, request_id, user_id) VALUES (",
        );
        q.bind(task.id.as_str())
            .push(", ")
            .bind(task.task_type.as_str())
            .push(", ")
            .bind("pending")
            .push(", ")
            .bind(task.owner.as_str())
            .push(", NULL, ")
            .bind(at)
            .push(", ")
            .bind(at)
            .push(", NULL, ")
            .bind(false)
            .push(", ")
            .bind(task.image_id.clone())
            .push(", ")
            .bind(task.request_id.clone())
            .push(", ")
            .bind(task.user_id.clone())
            .push(")");
        tx.execute(&q).await?;
        let mut q = SqlBuf::new("INSERT INTO task_info (task_id, input, result, message) VALUES (");
        q.bind(task.id.as_str())
            .push(", ")
            .bind(task.input.as_str())
            .push(", NULL, ")
            .bind("")
            .push(")");
        tx.execute(&q).await?;
        tx.commit().await
    }

    /// `pending` -> `processing`; false if the task was not pending.
    pub async fn begin_task(&self, id: &str) -> Result<bool, DbError> {
        let mut q = SqlBuf::new("UPDATE tasks SET status = ");
        q.bind("processing")
            .push(", updated_at = ")
            .bind(now())
            .push(" WHERE id = ")
            .bind(id)
            .push(" AND status = ")
            .bind("pending");
        Ok(self.execute(&q).await? == 1)
    }

    /// Ends a `pending` or `processing` task, setting its expiry `ttl` from now;
    /// false if it had already ended.
    pub async fn end_task(
        &self,
        id: &str,
        end: &TaskEnd,
        ttl: chrono::Duration,
    ) -> Result<bool, DbError> {
        let at = now();
        let (status, result, message) = match end {
            TaskEnd::Success { result } => ("success", Some(result.as_str()), ""),
            TaskEnd::Failure { message } => ("failure", None, message.as_str()),
        };
        let mut tx = self.begin_write().await?;
        let mut q = SqlBuf::new("UPDATE tasks SET status = ");
        q.bind(status)
            .push(", updated_at = ")
            .bind(at)
            .push(", expires_at = ")
            .bind(at + ttl)
            .push(" WHERE id = ")
            .bind(id)
            .push(" AND status IN (")
            .bind("pending")
            .push(", ")
            .bind("processing")
            .push(")");
        if tx.execute(&q).await? != 1 {
            return Ok(false);
        }
        let mut q = SqlBuf::new("UPDATE task_info SET result = ");
        q.bind(result)
            .push(", message = ")
            .bind(message)
            .push(" WHERE task_id = ")
            .bind(id);
        tx.execute(&q).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The image's tasks that are neither deleted nor expired, oldest first.
    pub async fn image_tasks(&self, image_id: &str) -> Result<Vec<TaskRecord>, DbError> {
        let mut q = SqlBuf::new(TASK_SELECT);
        q.push("t.image_id = ")
            .bind(image_id)
            .push(" AND t.deleted = ")
            .bind(false)
            .push(" AND (t.expires_at IS NULL OR t.expires_at >= ")
            .bind(now())
            .push(") ORDER BY t.created_at, t.id");
        self.fetch(&q).await?.iter().map(task_from_row).collect()
    }
}

/// `GET /v2/tasks`: filters, order and page.
#[derive(Debug, Clone, Default)]
pub struct TaskListQuery {
    /// Only tasks of this owner (None: every owner, for admins).
    pub owner: Option<String>,
    pub status: Option<String>,
    pub task_type: Option<String>,
    /// A column of `tasks` (checked by the caller against [`TASK_SORT_KEYS`]).
    pub sort_key: String,
    pub descending: bool,
    /// The id after which the page starts.
    pub marker: Option<String>,
    pub limit: u64,
}

/// The columns a task list may be sorted on.
pub const TASK_SORT_KEYS: &[&str] = &[
    "id",
    "type",
    "status",
    "owner",
    "created_at",
    "updated_at",
    "expires_at",
];

impl Db {
    /// One page of tasks, ordered by the sort key then id. A marker that is not a
    /// visible task is `None` (upstream answers 400 for it).
    pub async fn list_tasks(&self, q: &TaskListQuery) -> Result<Option<Vec<TaskRecord>>, DbError> {
        let key = TASK_SORT_KEYS
            .iter()
            .find(|k| **k == q.sort_key)
            .copied()
            .unwrap_or("created_at");
        let (op, dir) = if q.descending {
            ("<", "DESC")
        } else {
            (">", "ASC")
        };
        let mut sql = SqlBuf::new(TASK_SELECT);
        sql.push("t.deleted = ").bind(false);
        if let Some(owner) = &q.owner {
            sql.push(" AND t.owner = ").bind(owner.as_str());
        }
        if let Some(status) = &q.status {
            sql.push(" AND t.status = ").bind(status.as_str());
        }
        if let Some(kind) = &q.task_type {
            sql.push(" AND t.type = ").bind(kind.as_str());
        }
        if let Some(marker) = &q.marker {
            let mut m = SqlBuf::new(TASK_SELECT);
            m.push("t.id = ")
                .bind(marker.as_str())
                .push(" AND t.deleted = ")
                .bind(false);
            if let Some(owner) = &q.owner {
                m.push(" AND t.owner = ").bind(owner.as_str());
            }
            let Some(row) = self.fetch(&m).await?.into_iter().next() else {
                return Ok(None);
            };
            let value = row.value(key);
            // Rows after the marker: (key, id) beyond the marker's, in the list's order.
            sql.push(" AND (t.")
                .push(key)
                .push(&format!(" {op} "))
                .bind(value.clone())
                .push(" OR (t.")
                .push(key)
                .push(" = ")
                .bind(value)
                .push(&format!(" AND t.id {op} "))
                .bind(marker.as_str())
                .push("))");
        }
        sql.push(" ORDER BY t.")
            .push(key)
            .push(&format!(" {dir}, t.id {dir} LIMIT "))
            .bind(q.limit as i64);
        self.fetch(&sql)
            .await?
            .iter()
            .map(task_from_row)
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }
}
