//! The tasks API (`/v2/tasks`, deprecated upstream but still served): list and
//! show task records, and create the legacy `import` task, which makes an image
//! from `input.image_properties` and fills it from `input.import_from` the way
//! web-download does. Every call first passes `tasks_api_access` (admin by default).

use glance_auth::RequestContext;
use glance_db::{TaskListQuery, TaskRecord, TASK_SORT_KEYS};
use serde_json::Value;

use crate::import::{ImportMethod, ImportRequest};
use crate::tasks::TaskLog;
use crate::{CoreError, CoreResult, Glance};

/// The task types upstream's task schema names.
const TASK_TYPES: &[&str] = &["import", "api_image_import", "location_import"];
const TASK_STATUSES: &[&str] = &["pending", "processing", "success", "failure"];

/// `GET /v2/tasks` parameters as given.
#[derive(Debug, Default, Clone)]
pub struct TaskListParams {
    pub status: Option<String>,
    pub task_type: Option<String>,
    pub sort_key: Option<String>,
    pub sort_dir: Option<String>,
    pub marker: Option<String>,
    pub limit: Option<String>,
}

/// One page of `GET /v2/tasks`, with the page size used (a full page has a next one).
pub struct TaskPage {
    pub tasks: Vec<TaskRecord>,
    pub limit: u64,
}

impl Glance {
    pub async fn list_tasks(
        &self,
        ctx: &RequestContext,
        p: TaskListParams,
    ) -> CoreResult<TaskPage> {
        self.enforce_global(ctx, "tasks_api_access")?;
        let bad = |m: String| Err(CoreError::BadRequest(m));
        let dir = p.sort_dir.unwrap_or_else(|| "desc".into());
        if dir != "asc" && dir != "desc" {
            return bad(format!("Invalid sort direction: {dir}"));
        }
        if let Some(s) = p.status.as_deref().filter(|s| !s.is_empty()) {
            if !TASK_STATUSES.contains(&s) {
                return bad(format!("Invalid status value: {s}"));
            }
        }
        if let Some(t) = p.task_type.as_deref().filter(|t| !t.is_empty()) {
            if t != "import" {
                return bad(format!("Invalid type value: {t}"));
            }
        }
        if let Some(m) = &p.marker {
            if uuid::Uuid::parse_str(m).is_err() {
                return bad("Invalid marker format".into());
            }
        }
        let limit = match p.limit.as_deref() {
            None => self.settings.limit_param_default,
            Some(l) => match l.parse::<i64>() {
                Err(_) => return bad("limit param must be an integer".into()),
                Ok(n) if n < 0 => return bad("limit param must be positive".into()),
                Ok(n) => n as u64,
            },
        }
        .min(self.settings.api_limit_max);
        let sort_key = p.sort_key.unwrap_or_else(|| "created_at".into());
        if !TASK_SORT_KEYS.contains(&sort_key.as_str()) {
            return bad(format!("Unsupported sort_key: {sort_key}"));
        }
        let query = TaskListQuery {
            owner: (!ctx.is_admin).then(|| ctx.project_id.clone().unwrap_or_default()),
            status: p.status.filter(|s| !s.is_empty()),
            task_type: p.task_type.filter(|t| !t.is_empty()),
            sort_key,
            descending: dir == "desc",
            marker: p.marker.clone(),
            limit,
        };
        match self.db.list_tasks(&query).await? {
            Some(tasks) => Ok(TaskPage { tasks, limit }),
            None => Err(CoreError::BadRequest(format!(
                "Task with identifier {} not found",
                p.marker.unwrap_or_default()
            ))),
        }
    }

    pub async fn get_task(&self, ctx: &RequestContext, id: &str) -> CoreResult<TaskRecord> {
        self.enforce_global(ctx, "tasks_api_access")?;
        let not_found = || CoreError::NotFound(format!("Could not find task {id}"));
        let task = self.db.get_task(id).await?.ok_or_else(not_found)?;
        if !ctx.is_admin && !ctx.owns(Some(&task.owner)) {
            return Err(not_found());
        }
        Ok(task)
    }

    /// `POST /v2/tasks`: records the task and starts it; returns the new record.
    pub async fn create_task(&self, ctx: &RequestContext, body: Value) -> CoreResult<TaskRecord> {
        self.enforce_global(ctx, "tasks_api_access")?;
        let bad = |m: String| CoreError::BadRequest(m);
        for required in ["type", "input"] {
            if body.get(required).is_none() {
                return Err(bad(format!("Task '{required}' is required")));
            }
        }
        let task_type = body["type"].as_str().unwrap_or_default().to_string();
        if !TASK_TYPES.contains(&task_type.as_str()) {
            return Err(bad(format!(
                "Provided object does not match schema 'task': '{}' is not one of {:?}",
                body["type"], TASK_TYPES
            )));
        }
        let input = body["input"].clone();
        if !input.is_object() {
            return Err(bad(format!(
                "Provided object does not match schema 'task': {input} is not of type 'object'"
            )));
        }
        let import_from = if task_type == "import" {
            Some(self.legacy_import_uri(input.get("import_from"))?)
        } else {
            None
        };
        let image_id = input.get("image_id").and_then(Value::as_str);
        let task = TaskLog::record(self, ctx, &task_type, image_id, input.clone()).await?;
        let record = self
            .db
            .get_task(&task.id)
            .await?
            .ok_or_else(|| CoreError::Internal("the new task vanished".into()))?;
        let glance = self.clone();
        let ctx = ctx.clone();
        tokio::spawn(async move {
            match import_from {
                Some(uri) => glance.run_legacy_import(&ctx, task, input, uri).await,
                None => {
                    task.fail_before_start(format!(
                        "Tasks of type {task_type} cannot be created here"
                    ))
                    .await;
                }
            }
        });
        Ok(record)
    }

    /// Upstream's checks of `import_from`: http(s) only, no local files, and the
    /// import filter.
    fn legacy_import_uri(&self, from: Option<&Value>) -> CoreResult<String> {
        let bad = |m: String| CoreError::BadRequest(m);
        let uri = match from {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            Some(Value::String(_)) => return Err(bad("Invalid location: ".into())),
            _ => return Err(bad("Invalid location: None".into())),
        };
        if uri.starts_with("file:///") || uri.starts_with("filesystem:///") {
            return Err(bad(
                "File based imports are not allowed. Please use a non-local \
                            source of image data."
                    .into(),
            ));
        }
        if !(uri.starts_with("http://") || uri.starts_with("https://")) {
            return Err(bad(
                "The given uri is not valid. Please specify a valid uri from the \
                            following list of supported uri ['http']"
                    .into(),
            ));
        }
        if self.stores.uri_filter().check_url(&uri).is_err() {
            return Err(bad(format!(
                "URI for legacy import task does not pass filtering: {uri}"
            )));
        }
        Ok(uri)
    }

    /// The legacy import: a new image from `image_properties`, then a web-download
    /// into it under the same task.
    async fn run_legacy_import(
        &self,
        ctx: &RequestContext,
        task: TaskLog,
        input: Value,
        uri: String,
    ) {
        let properties = input
            .get("image_properties")
            .cloned()
            .unwrap_or_else(|| Value::Object(Default::default()));
        let image = match self.create_image(ctx, properties).await {
            Ok(image) => image,
            Err(e) => {
                task.fail_before_start(format!("Error: {e}")).await;
                return;
            }
        };
        let body = serde_json::json!({"method": {"name": "web-download", "uri": uri}});
        let request = ImportRequest {
            body,
            method: ImportMethod::WebDownload,
            uri: Some(uri),
            stores: None,
            all_stores: false,
            all_stores_must_succeed: true,
            store_header: None,
        };
        let started = match self.import_stores(&request) {
            Ok(stores) => {
                self.start_import(ctx, &image, request, stores, task.clone())
                    .await
            }
            Err(e) => Err(e),
        };
        if let Err(e) = started {
            task.fail_before_start(format!("Error: {e}")).await;
        }
    }
}
