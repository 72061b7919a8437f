//! The registry API (`glance-registry`): image metadata as JSON, locations included.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Extension;
use bytes::Bytes;
use glance_auth::RequestContext;
use glance_domain::v1_meta::is_true_spelling;
use serde_json::{json, Value};

use super::json_body;
use super::v1_images::list_params;
use crate::error::ApiError;
use crate::router::AppState;
use crate::v1_views::registry_object;
use crate::views::json_response;

type ApiResult = Result<Response, ApiError>;

fn image_answer(image: &glance_domain::Image) -> Response {
    json_response(StatusCode::OK, &json!({ "image": registry_object(image) }))
}

/// `GET /images/detail`: every field, locations included.
pub async fn detail(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    RawQuery(query): RawQuery,
) -> ApiResult {
    let images = state.glance.v1_list(&ctx, &list_params(query)).await?;
    let full: Vec<Value> = images.iter().map(registry_object).collect();
    Ok(json_response(StatusCode::OK, &json!({ "images": full })))
}

pub async fn show(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path(id): Path<String>,
) -> ApiResult {
    let image = state.glance.v1_image(&ctx, &id).await?;
    Ok(image_answer(&image))
}

pub async fn create(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    body: Bytes,
) -> ApiResult {
    let image = state
        .glance
        .registry_create(&ctx, &json_body(&body)?)
        .await?;
    Ok(image_answer(&image))
}

/// `PUT /images/{id}`; `X-Glance-Registry-Purge-Props: true` replaces the properties
/// (the registry's default is to merge them).
pub async fn update(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let purge = headers
        .get("x-glance-registry-purge-props")
        .and_then(|v| v.to_str().ok())
        .is_some_and(is_true_spelling);
    let image = state
        .glance
        .registry_update(&ctx, &id, &json_body(&body)?, purge)
        .await?;
    Ok(image_answer(&image))
}

/// `DELETE /images/{id}`: the image as it was before.
pub async fn delete(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path(id): Path<String>,
) -> ApiResult {
    let image = state.glance.registry_delete(&ctx, &id).await?;
    let mut object = registry_object(&image);
    object["deleted"] = Value::Bool(true);
    object["status"] = Value::String("deleted".into());
    Ok(json_response(StatusCode::OK, &json!({ "image": object })))
}
