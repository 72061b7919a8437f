//! Objects, properties and tags of a namespace:
//! `/v2/metadefs/namespaces/{namespace}/{objects,properties,tags}[/{name}]`.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use bytes::Bytes;
use glance_auth::RequestContext;
use glance_core::metadefs::TagListParams;
use glance_db::ContentKind;
use serde_json::{json, Value};

use super::metadefs_namespaces::{param, query_pairs};
use super::metadefs_views::{object_json, tag_json, tag_names_json};
use super::{json_body, reject_body};
use crate::error::ApiError;
use crate::router::AppState;
use crate::views::json_response;

type ApiResult = Result<Response, ApiError>;

/// `DELETE .../objects`, `.../properties`, `.../tags` (no body check upstream).
async fn delete_all(
    state: AppState,
    ctx: RequestContext,
    namespace: String,
    kind: ContentKind,
) -> ApiResult {
    state
        .glance
        .delete_all_metadef_content(&ctx, &namespace, kind)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `DELETE .../objects/{name}`, `.../properties/{name}`, `.../tags/{name}`.
async fn delete_one(
    state: AppState,
    ctx: RequestContext,
    namespace: String,
    name: String,
    kind: ContentKind,
) -> ApiResult {
    state
        .glance
        .delete_metadef_content(&ctx, &namespace, &name, kind)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn list_objects(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path(namespace): Path<String>,
) -> ApiResult {
    let objects = state.glance.list_metadef_objects(&ctx, &namespace).await?;
    let objects: Vec<Value> = objects.iter().map(|o| object_json(&namespace, o)).collect();
    // Upstream's link here lacks the leading slash.
    Ok(json_response(
        StatusCode::OK,
        &json!({"objects": objects, "schema": "v2/schemas/metadefs/objects"}),
    ))
}

pub async fn create_object(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path(namespace): Path<String>,
    body: Bytes,
) -> ApiResult {
    let object = state
        .glance
        .create_metadef_object(&ctx, &namespace, json_body(&body)?)
        .await?;
    Ok(json_response(
        StatusCode::CREATED,
        &object_json(&namespace, &object),
    ))
}

pub async fn delete_objects(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path(namespace): Path<String>,
) -> ApiResult {
    delete_all(state, ctx, namespace, ContentKind::Object).await
}

pub async fn show_object(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path((namespace, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult {
    reject_body(&headers)?;
    let object = state
        .glance
        .show_metadef_object(&ctx, &namespace, &name)
        .await?;
    Ok(json_response(
        StatusCode::OK,
        &object_json(&namespace, &object),
    ))
}

pub async fn update_object(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path((namespace, name)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let object = state
        .glance
        .update_metadef_object(&ctx, &namespace, &name, json_body(&body)?)
        .await?;
    Ok(json_response(
        StatusCode::OK,
        &object_json(&namespace, &object),
    ))
}

pub async fn delete_object(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path((namespace, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult {
    reject_body(&headers)?;
    delete_one(state, ctx, namespace, name, ContentKind::Object).await
}

pub async fn list_properties(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path(namespace): Path<String>,
    headers: HeaderMap,
) -> ApiResult {
    reject_body(&headers)?;
    let properties = state
        .glance
        .list_metadef_properties(&ctx, &namespace)
        .await?;
    Ok(json_response(
        StatusCode::OK,
        &json!({ "properties": properties }),
    ))
}

pub async fn create_property(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path(namespace): Path<String>,
    body: Bytes,
) -> ApiResult {
    let property = state
        .glance
        .create_metadef_property(&ctx, &namespace, json_body(&body)?)
        .await?;
    Ok(json_response(StatusCode::CREATED, &property))
}

pub async fn delete_properties(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path(namespace): Path<String>,
) -> ApiResult {
    delete_all(state, ctx, namespace, ContentKind::Property).await
}

pub async fn show_property(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path((namespace, name)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> ApiResult {
    let resource_type = param(&query_pairs(&query), "resource_type");
    let property = state
        .glance
        .show_metadef_property(&ctx, &namespace, &name, resource_type.as_deref())
        .await?;
    Ok(json_response(StatusCode::OK, &property))
}

pub async fn update_property(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path((namespace, name)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let property = state
        .glance
        .update_metadef_property(&ctx, &namespace, &name, json_body(&body)?)
        .await?;
    Ok(json_response(StatusCode::OK, &property))
}

pub async fn delete_property(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path((namespace, name)): Path<(String, String)>,
) -> ApiResult {
    // Upstream's property delete route has no body check.
    delete_one(state, ctx, namespace, name, ContentKind::Property).await
}

pub async fn list_tags(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path(namespace): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult {
    let pairs = query_pairs(&query);
    let params = TagListParams {
        limit: param(&pairs, "limit"),
        marker: param(&pairs, "marker"),
        sort_key: param(&pairs, "sort_key"),
        sort_dir: param(&pairs, "sort_dir"),
        visibility: param(&pairs, "visibility"),
    };
    let tags = state
        .glance
        .list_metadef_tags(&ctx, &namespace, &params)
        .await?;
    Ok(json_response(
        StatusCode::OK,
        &tag_names_json(tags.into_iter().map(|t| t.name)),
    ))
}

/// `X-Openstack-Append` read as oslo's `bool_from_string`.
fn append_header(headers: &HeaderMap) -> bool {
    headers
        .get("x-openstack-append")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_ascii_lowercase())
        .is_some_and(|v| ["1", "t", "true", "on", "y", "yes"].contains(&v.as_str()))
}

pub async fn create_tags(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path(namespace): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let names = state
        .glance
        .create_metadef_tags(&ctx, &namespace, json_body(&body)?, append_header(&headers))
        .await?;
    Ok(json_response(
        StatusCode::CREATED,
        &tag_names_json(names.into_iter()),
    ))
}

pub async fn delete_tags(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path(namespace): Path<String>,
) -> ApiResult {
    delete_all(state, ctx, namespace, ContentKind::Tag).await
}

pub async fn show_tag(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path((namespace, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult {
    reject_body(&headers)?;
    let tag = state
        .glance
        .show_metadef_tag(&ctx, &namespace, &name)
        .await?;
    Ok(json_response(StatusCode::OK, &tag_json(&tag)))
}

pub async fn create_tag(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path((namespace, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult {
    reject_body(&headers)?;
    let tag = state
        .glance
        .create_metadef_tag(&ctx, &namespace, &name)
        .await?;
    Ok(json_response(StatusCode::CREATED, &tag_json(&tag)))
}

pub async fn update_tag(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path((namespace, name)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let tag = state
        .glance
        .update_metadef_tag(&ctx, &namespace, &name, json_body(&body)?)
        .await?;
    Ok(json_response(StatusCode::OK, &tag_json(&tag)))
}

pub async fn delete_tag(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path((namespace, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult {
    reject_body(&headers)?;
    delete_one(state, ctx, namespace, name, ContentKind::Tag).await
}
