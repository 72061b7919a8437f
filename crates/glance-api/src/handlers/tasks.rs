//! `GET /v2/images/{id}/tasks` (2.12): the image's tasks as upstream returns
//! them, raw database records with their info merged in.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Extension;
use chrono::NaiveDateTime;
use glance_auth::RequestContext;
use glance_db::TaskRecord;
use serde_json::{json, Value};

use super::reject_body;
use crate::error::ApiError;
use crate::router::AppState;
use crate::views::json_response;

pub async fn image_tasks(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    reject_body(&headers)?;
    let tasks = state.glance.image_tasks(&ctx, &id).await?;
    let tasks: Vec<Value> = tasks.iter().map(task_record_view).collect();
    Ok(json_response(StatusCode::OK, &json!({ "tasks": tasks })))
}

/// Upstream serialises these records with microseconds and no zone, unlike
/// the other views.
fn raw_time(t: &NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
}

/// `input` and `result` are stored as JSON text and returned as JSON.
fn stored_json(text: &Option<String>) -> Value {
    text.as_deref()
        .and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or(Value::Null)
}

fn task_record_view(t: &TaskRecord) -> Value {
    json!({
        "id": t.id,
        "type": t.task_type,
        "status": t.status,
        "owner": t.owner,
        "expires_at": t.expires_at.as_ref().map(raw_time),
        "created_at": raw_time(&t.created_at),
        "updated_at": t.updated_at.as_ref().map(raw_time),
        "deleted_at": t.deleted_at.as_ref().map(raw_time),
        "deleted": t.deleted,
        "image_id": t.image_id,
        "request_id": t.request_id,
        "user_id": t.user_id,
        "input": stored_json(&t.input),
        "result": stored_json(&t.result),
        "message": t.message,
    })
}
