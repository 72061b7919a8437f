//! `PUT /v2/images/{id}/stage` and `POST /v2/images/{id}/import` (2.6).

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use glance_auth::RequestContext;
use glance_core::ImportRequest;

use super::image_data::{expected_size, require_octet_stream, store_header};
use super::json_body;
use crate::error::ApiError;
use crate::router::AppState;

pub async fn stage(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    // Upstream's deserializer answers 404 for a disabled glance-direct before it
    // looks at the content type.
    if !state
        .glance
        .settings
        .enabled_import_methods
        .iter()
        .any(|m| m == "glance-direct")
    {
        return Err(ApiError::not_found(
            "'glance-direct' method is not available at this site.",
        ));
    }
    require_octet_stream(&headers)?;
    let size = expected_size(&headers)?;
    state
        .glance
        .stage(&ctx, &id, size, body.into_data_stream())
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn import(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request = ImportRequest::parse(
        json_body(&body)?,
        &state.glance.settings.enabled_import_methods,
        store_header(&headers),
    )?;
    state.glance.import_image(&ctx, &id, request).await?;
    Ok(StatusCode::ACCEPTED.into_response())
}
