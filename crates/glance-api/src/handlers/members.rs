//! `/v2/images/{id}/members[/{member_id}]`.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use bytes::Bytes;
use glance_auth::RequestContext;
use serde_json::{json, Value};

use super::{json_body, reject_body};
use crate::error::ApiError;
use crate::router::AppState;
use crate::views::{json_response, member_json};

type ApiResult = Result<Response, ApiError>;

pub async fn list(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult {
    reject_body(&headers)?;
    let members = state.glance.list_members(&ctx, &id).await?;
    let members: Vec<Value> = members.iter().map(member_json).collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({"members": members, "schema": "/v2/schemas/members"}),
    ))
}

pub async fn create(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let member = state
        .glance
        .add_member(&ctx, &id, json_body(&body)?)
        .await?;
    Ok(json_response(StatusCode::OK, &member_json(&member)))
}

pub async fn show(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path((id, member_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult {
    reject_body(&headers)?;
    let member = state.glance.get_member(&ctx, &id, &member_id).await?;
    Ok(json_response(StatusCode::OK, &member_json(&member)))
}

pub async fn update(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path((id, member_id)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let member = state
        .glance
        .update_member(&ctx, &id, &member_id, json_body(&body)?)
        .await?;
    Ok(json_response(StatusCode::OK, &member_json(&member)))
}

pub async fn delete(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path((id, member_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult {
    reject_body(&headers)?;
    state.glance.delete_member(&ctx, &id, &member_id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
