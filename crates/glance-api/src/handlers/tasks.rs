//! `GET /v2/images/{id}/tasks` (2.12): the image's tasks as upstream returns
//! them, raw database records with their info merged in; and the tasks API
//! (`/v2/tasks`), with upstream's task views.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::Extension;
use chrono::NaiveDateTime;
use glance_auth::RequestContext;
use glance_core::{TaskListParams, TaskPage};
use glance_db::TaskRecord;
use serde_json::{json, Map, Value};

use super::{json_body, query_pairs, reject_body};
use crate::error::ApiError;
use crate::router::AppState;
use crate::views::{json_response, timestamp};

pub async fn list(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    reject_body(&headers)?;
    let pairs = query_pairs(query.as_deref());
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let params = TaskListParams {
        status: get("status"),
        task_type: get("type"),
        sort_key: get("sort_key"),
        sort_dir: get("sort_dir"),
        marker: get("marker"),
        limit: get("limit"),
    };
    let TaskPage { tasks, limit } = state.glance.list_tasks(&ctx, params).await?;
    let rest: Vec<(String, String)> = pairs.into_iter().filter(|(k, _)| k != "marker").collect();
    let encode = |pairs: &[(String, String)]| {
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish()
    };
    let mut body = Map::new();
    body.insert(
        "tasks".into(),
        tasks.iter().map(|t| task_view(t, false)).collect(),
    );
    let first = if rest.is_empty() {
        "/v2/tasks".to_string()
    } else {
        format!("/v2/tasks?{}", encode(&rest))
    };
    body.insert("first".into(), first.into());
    body.insert("schema".into(), "/v2/schemas/tasks".into());
    if let Some(last) = tasks
        .last()
        .filter(|_| tasks.len() as u64 == limit && limit > 0)
    {
        let mut next = rest.clone();
        next.push(("marker".into(), last.id.clone()));
        body.insert("next".into(), format!("/v2/tasks?{}", encode(&next)).into());
    }
    Ok(json_response(StatusCode::OK, &Value::Object(body)))
}

pub async fn show(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    reject_body(&headers)?;
    let task = state.glance.get_task(&ctx, &id).await?;
    Ok(json_response(StatusCode::OK, &task_view(&task, true)))
}

pub async fn create(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let task = state.glance.create_task(&ctx, json_body(&body)?).await?;
    let mut response = json_response(StatusCode::CREATED, &task_view(&task, true));
    if let Ok(v) = HeaderValue::from_str(&format!("/v2/tasks/{}", task.id)) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}

/// `DELETE /v2/tasks/{id}`: upstream refuses it (405, `Allow: GET`).
pub async fn delete(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
) -> Result<Response, ApiError> {
    state.glance.enforce_global(&ctx, "tasks_api_access")?;
    Err(ApiError::method_not_allowed_because(
        "This operation is currently not permitted on Glance Tasks. They are auto deleted \
         after reaching the time based on their expires_at property.",
        "GET",
    ))
}

/// Upstream's `_format_task` (`full`) and `_format_task_stub`.
fn task_view(t: &TaskRecord, full: bool) -> Value {
    let mut v = Map::new();
    v.insert("id".into(), t.id.clone().into());
    if full {
        v.insert("input".into(), stored_json(&t.input));
    }
    v.insert("type".into(), t.task_type.clone().into());
    v.insert("status".into(), t.status.clone().into());
    v.insert("owner".into(), t.owner.clone().into());
    if full {
        v.insert(
            "message".into(),
            t.message.clone().unwrap_or_default().into(),
        );
        v.insert("result".into(), stored_json(&t.result));
    }
    v.insert("created_at".into(), timestamp(&t.created_at).into());
    let updated = t.updated_at.unwrap_or(t.created_at);
    v.insert("updated_at".into(), timestamp(&updated).into());
    v.insert("self".into(), format!("/v2/tasks/{}", t.id).into());
    v.insert("schema".into(), "/v2/schemas/task".into());
    if full {
        for (key, value) in [
            ("image_id", &t.image_id),
            ("request_id", &t.request_id),
            ("user_id", &t.user_id),
        ] {
            if let Some(value) = value.as_ref().filter(|s| !s.is_empty()) {
                v.insert(key.into(), value.clone().into());
            }
        }
    }
    if let Some(expires) = &t.expires_at {
        v.insert("expires_at".into(), timestamp(expires).into());
    }
    Value::Object(v)
}

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
