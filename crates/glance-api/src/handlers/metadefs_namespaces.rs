//! `/v2/metadefs/namespaces[/{namespace}]` and the resource type routes.

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use bytes::Bytes;
use glance_auth::RequestContext;
use glance_core::metadefs::NamespaceListParams;
use serde_json::{json, Map, Value};

use super::metadefs_views::{
    association_json, namespace_detail_json, namespace_href, namespace_json, resource_type_json,
};
use super::{json_body, reject_body};
use crate::error::ApiError;
use crate::router::AppState;
use crate::views::json_response;

type ApiResult = Result<Response, ApiError>;

/// Query parameters in order; a repeated key keeps its last value, as upstream's
/// `dict(request.params)`.
pub(crate) fn query_pairs(query: &Option<String>) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for (k, v) in form_urlencoded::parse(query.as_deref().unwrap_or("").as_bytes()) {
        match pairs.iter_mut().find(|(key, _)| *key == k) {
            Some(pair) => pair.1 = v.into_owned(),
            None => pairs.push((k.into_owned(), v.into_owned())),
        }
    }
    pairs
}

pub(crate) fn param(pairs: &[(String, String)], key: &str) -> Option<String> {
    pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
}

fn encode(pairs: &[(String, String)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

pub async fn list(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    RawQuery(query): RawQuery,
) -> ApiResult {
    let pairs = query_pairs(&query);
    let params = NamespaceListParams {
        limit: param(&pairs, "limit"),
        marker: param(&pairs, "marker"),
        sort_key: param(&pairs, "sort_key"),
        sort_dir: param(&pairs, "sort_dir"),
        visibility: param(&pairs, "visibility"),
        resource_types: param(&pairs, "resource_types"),
    };
    let page = state.glance.list_metadef_namespaces(&ctx, &params).await?;
    let without_marker: Vec<(String, String)> =
        pairs.into_iter().filter(|(k, _)| k != "marker").collect();
    let mut first = "/v2/metadefs/namespaces".to_string();
    if !without_marker.is_empty() {
        first = format!("{first}?{}", encode(&without_marker));
    }
    let namespaces: Vec<Value> = page
        .namespaces
        .iter()
        .map(|(ns, assoc)| namespace_json(ns, assoc))
        .collect();
    let mut body = Map::new();
    body.insert("first".into(), Value::String(first));
    body.insert("namespaces".into(), Value::Array(namespaces));
    if let Some(next) = page.next {
        let mut with_marker = without_marker;
        with_marker.push(("marker".into(), next));
        body.insert(
            "next".into(),
            Value::String(format!("/v2/metadefs/namespaces?{}", encode(&with_marker))),
        );
    }
    body.insert(
        "schema".into(),
        Value::String("/v2/schemas/metadefs/namespaces".into()),
    );
    Ok(json_response(StatusCode::OK, &Value::Object(body)))
}

pub async fn create(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let detail = state
        .glance
        .create_metadef_namespace(&ctx, json_body(&body)?)
        .await?;
    let mut response = json_response(StatusCode::CREATED, &namespace_detail_json(&detail));
    // WebOb makes a relative Location absolute against the request's host.
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    let location = format!(
        "http://{host}{}",
        namespace_href(&detail.namespace.namespace)
    );
    if let Ok(v) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}

pub async fn show(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path(namespace): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> ApiResult {
    reject_body(&headers)?;
    let resource_type = param(&query_pairs(&query), "resource_type");
    let detail = state
        .glance
        .show_metadef_namespace(&ctx, &namespace, resource_type.as_deref())
        .await?;
    Ok(json_response(
        StatusCode::OK,
        &namespace_detail_json(&detail),
    ))
}

pub async fn update(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path(namespace): Path<String>,
    body: Bytes,
) -> ApiResult {
    let ns = state
        .glance
        .update_metadef_namespace(&ctx, &namespace, json_body(&body)?)
        .await?;
    Ok(json_response(StatusCode::OK, &namespace_json(&ns, &[])))
}

pub async fn delete(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path(namespace): Path<String>,
    headers: HeaderMap,
) -> ApiResult {
    reject_body(&headers)?;
    state
        .glance
        .delete_metadef_namespace(&ctx, &namespace)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn list_resource_types(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    headers: HeaderMap,
) -> ApiResult {
    reject_body(&headers)?;
    let types = state.glance.list_metadef_resource_types(&ctx).await?;
    let types: Vec<Value> = types.iter().map(resource_type_json).collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({ "resource_types": types }),
    ))
}

pub async fn list_associations(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path(namespace): Path<String>,
    headers: HeaderMap,
) -> ApiResult {
    reject_body(&headers)?;
    let list = state
        .glance
        .list_metadef_associations(&ctx, &namespace)
        .await?;
    let list: Vec<Value> = list.iter().map(association_json).collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({ "resource_type_associations": list }),
    ))
}

pub async fn create_association(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path(namespace): Path<String>,
    body: Bytes,
) -> ApiResult {
    let association = state
        .glance
        .create_metadef_association(&ctx, &namespace, json_body(&body)?)
        .await?;
    Ok(json_response(
        StatusCode::CREATED,
        &association_json(&association),
    ))
}

pub async fn delete_association(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path((namespace, resource_type)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult {
    reject_body(&headers)?;
    state
        .glance
        .delete_metadef_association(&ctx, &namespace, &resource_type)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
