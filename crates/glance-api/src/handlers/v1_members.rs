//! The legacy v1 sharing routes: `/v1/images/{id}/members[/{member}]` and
//! `/v1/shared-images/{member}`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use bytes::Bytes;
use glance_auth::RequestContext;
use glance_core::v1::{can_share_from_body, memberships_from_body};
use serde_json::{json, Value};

use super::json_body;
use crate::error::ApiError;
use crate::router::AppState;
use crate::views::json_response;

type ApiResult = Result<Response, ApiError>;

/// `GET /v1/images/{id}/members`.
pub async fn list(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path(id): Path<String>,
) -> ApiResult {
    let members = state.glance.v1_members(&ctx, &id).await?;
    let members: Vec<Value> = members
        .iter()
        .map(|m| json!({"member_id": m.member_id, "can_share": m.can_share}))
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({ "members": members }),
    ))
}

/// `PUT /v1/images/{id}/members`: replaces the whole list (204).
pub async fn replace(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let wanted = memberships_from_body(&json_body(&body)?)?;
    state.glance.v1_replace_members(&ctx, &id, wanted).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `PUT /v1/images/{id}/members/{member}`, with an optional
/// `{"member": {"can_share": ...}}` body (204).
pub async fn add(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path((id, member)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let parsed = if body.is_empty() {
        None
    } else {
        Some(json_body(&body)?)
    };
    let can_share = can_share_from_body(parsed.as_ref());
    state
        .glance
        .v1_add_member(&ctx, &id, &member, can_share)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `DELETE /v1/images/{id}/members/{member}` (204).
pub async fn delete(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path((id, member)): Path<(String, String)>,
) -> ApiResult {
    state.glance.v1_delete_member(&ctx, &id, &member).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /v1/images/{id}/members/{member}` was never implemented upstream: 405.
pub async fn show() -> ApiError {
    ApiError::method_not_allowed("GET")
}

/// `/v1/shared-images/{member}` (any method, as upstream).
pub async fn shared_images(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path(member): Path<String>,
) -> ApiResult {
    let shared = state.glance.v1_shared_images(&ctx, &member).await?;
    let shared: Vec<Value> = shared
        .iter()
        .map(|s| json!({"image_id": s.image_id, "can_share": s.can_share}))
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({ "shared_images": shared }),
    ))
}
