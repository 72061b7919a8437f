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

impl Db {
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
        let mut q = SqlBuf::new(
            "SELECT t.id, t.type, t.status, t.owner, t.expires_at, t.created_at, t.updated_at, \
             t.deleted_at, t.deleted, t.image_id, t.request_id, t.user_id, i.input, i.result, \
             i.message FROM tasks t LEFT JOIN task_info i ON i.task_id = t.id WHERE t.image_id = ",
        );
        q.bind(image_id)
            .push(" AND t.deleted = ")
            .bind(false)
            .push(" AND (t.expires_at IS NULL OR t.expires_at >= ")
            .bind(now())
            .push(") ORDER BY t.created_at, t.id");
        self.fetch(&q).await?.iter().map(task_from_row).collect()
    }
}
