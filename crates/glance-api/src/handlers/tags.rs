//! `PUT/DELETE /v2/images/{id}/tags/{tag}`.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use glance_auth::RequestContext;

use super::reject_body;
use crate::error::ApiError;
use crate::router::AppState;

pub async fn add(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path((id, tag)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    reject_body(&headers)?;
    state.glance.add_tag(&ctx, &id, &tag).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn delete(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path((id, tag)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    reject_body(&headers)?;
    state.glance.delete_tag(&ctx, &id, &tag).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
