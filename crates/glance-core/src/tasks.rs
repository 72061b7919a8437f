//! The tasks of an image (`GET /v2/images/{id}/tasks`, 2.12) and the task
//! record a background job keeps of itself.

use glance_auth::RequestContext;
use glance_db::{NewTask, TaskEnd, TaskRecord};

use crate::{CoreResult, Glance};

impl Glance {
    /// The image's current tasks the caller may see: an admin sees all, others
    /// those of their own project and those without an owner. 404 when the image
    /// is not visible, as upstream.
    pub async fn image_tasks(&self, ctx: &RequestContext, id: &str) -> CoreResult<Vec<TaskRecord>> {
        self.get_image(ctx, id).await?;
        let tasks = self.db.image_tasks(id).await?;
        Ok(tasks
            .into_iter()
            .filter(|t| ctx.is_admin || t.owner.is_empty() || ctx.owns(Some(&t.owner)))
            .collect())
    }
}

/// A background job's task record. Failing to write it is logged, never fatal:
/// the job's effect on the image is what matters.
#[derive(Clone)]
pub(crate) struct TaskLog {
    pub glance: Glance,
    pub id: String,
}

impl TaskLog {
    /// Records a new `pending` task for `image_id` on behalf of the caller (or of
    /// the image's owner when the caller has no project).
    pub async fn create(
        glance: &Glance,
        ctx: &RequestContext,
        task_type: &str,
        image_id: &str,
        owner: Option<&str>,
        input: serde_json::Value,
    ) -> CoreResult<TaskLog> {
        Self::insert(glance, ctx, task_type, Some(image_id), owner, input).await
    }

    /// Records a new `pending` task asked for through the tasks API.
    pub async fn record(
        glance: &Glance,
        ctx: &RequestContext,
        task_type: &str,
        image_id: Option<&str>,
        input: serde_json::Value,
    ) -> CoreResult<TaskLog> {
        Self::insert(glance, ctx, task_type, image_id, None, input).await
    }

    async fn insert(
        glance: &Glance,
        ctx: &RequestContext,
        task_type: &str,
        image_id: Option<&str>,
        owner: Option<&str>,
        input: serde_json::Value,
    ) -> CoreResult<TaskLog> {
        let id = uuid::Uuid::new_v4().to_string();
        let task = NewTask {
            id: id.clone(),
            task_type: task_type.into(),
            owner: ctx
                .project_id
                .as_deref()
                .or(owner)
                .unwrap_or_default()
                .to_string(),
            image_id: image_id.map(str::to_string),
            user_id: ctx.user_id.clone(),
            request_id: Some(ctx.request_id.clone()),
            input: input.to_string(),
        };
        glance.db.create_task(&task).await?;
        Ok(TaskLog {
            glance: glance.clone(),
            id,
        })
    }

    pub async fn begin(&self) {
        if let Err(e) = self.glance.db.begin_task(&self.id).await {
            tracing::warn!(task = %self.id, error = %e, "could not mark the task processing");
        }
    }

    /// Fails a task that never got going: `processing` first, as a task that ran
    /// and failed would be, then `failure` with `message`.
    pub async fn fail_before_start(&self, message: String) {
        self.begin().await;
        self.end(TaskEnd::Failure { message }).await;
    }

    pub async fn end(&self, end: TaskEnd) {
        let hours = i64::from(self.glance.settings.task_time_to_live_hours);
        let ttl = chrono::Duration::hours(hours);
        if let Err(e) = self.glance.db.end_task(&self.id, &end, ttl).await {
            tracing::warn!(task = %self.id, error = %e, "could not record the end of the task");
        }
    }
}
