//! `/v2/images` and `/v2/images/{id}` (+ deactivate/reactivate).

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use bytes::Bytes;
use glance_auth::RequestContext;
use glance_domain::patch::{parse_patch, PatchDialect, MEDIA_TYPE_V2_0, MEDIA_TYPE_V2_1};
use serde_json::{json, Value};

use super::{json_body, reject_body};
use crate::error::ApiError;
use crate::router::AppState;
use crate::views::{image_json, json_response};

type ApiResult = Result<Response, ApiError>;

pub async fn create(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let image = state.glance.create_image(&ctx, json_body(&body)?).await?;
    let mut response = json_response(StatusCode::CREATED, &image_json(&image, state.view));
    let h = response.headers_mut();
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    if let Ok(v) = HeaderValue::from_str(&format!("http://{host}/v2/images/{}", image.id)) {
        h.insert(header::LOCATION, v);
    }
    let methods = &state.glance.settings.enabled_import_methods;
    if !methods.is_empty() {
        if let Ok(v) = HeaderValue::from_str(&methods.join(",")) {
            h.insert(HeaderName::from_static("openstack-image-import-methods"), v);
        }
    }
    if state.glance.stores.multi_store() {
        let ids: Vec<&str> = state
            .glance
            .stores
            .all()
            .iter()
            .map(|s| s.info().id.as_str())
            .collect();
        if let Ok(v) = HeaderValue::from_str(&ids.join(",")) {
            h.insert(HeaderName::from_static("openstack-image-store-ids"), v);
        }
    }
    Ok(response)
}

pub async fn show(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult {
    reject_body(&headers)?;
    let image = state.glance.get_image(&ctx, &id).await?;
    Ok(json_response(
        StatusCode::OK,
        &image_json(&image, state.view),
    ))
}

pub async fn list(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    RawQuery(query): RawQuery,
) -> ApiResult {
    let params: Vec<(String, String)> =
        form_urlencoded::parse(query.as_deref().unwrap_or("").as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
    let page = state.glance.list_images(&ctx, &params).await?;
    let images: Vec<Value> = page
        .images
        .iter()
        .map(|i| image_json(i, state.view))
        .collect();
    let mut link_params = link_params(&params);
    let first = images_link(&link_params);
    let mut body = json!({
        "images": images,
        "first": first,
        "schema": "/v2/schemas/images",
    });
    if let Some(marker) = page.next_marker {
        link_params.push(("marker", marker.as_str()));
        body["next"] = images_link(&link_params).into();
    }
    Ok(json_response(StatusCode::OK, &body))
}

/// The request's parameters as upstream's serializer sees them (`dict(request.params)`):
/// one entry per name, in order of first appearance, holding the last value; without
/// `marker`.
fn link_params(params: &[(String, String)]) -> Vec<(&str, &str)> {
    let mut out: Vec<(&str, &str)> = Vec::new();
    for (k, v) in params.iter().filter(|(k, _)| k != "marker") {
        match out.iter_mut().find(|(name, _)| *name == k.as_str()) {
            Some(slot) => slot.1 = v.as_str(),
            None => out.push((k.as_str(), v.as_str())),
        }
    }
    out
}

/// `/v2/images` with the parameters encoded as Python's `urlencode` does.
fn images_link(params: &[(&str, &str)]) -> String {
    if params.is_empty() {
        return "/v2/images".to_string();
    }
    let query: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{}={}", quote_plus(k), quote_plus(v)))
        .collect();
    format!("/v2/images?{}", query.join("&"))
}

/// Python's `urllib.parse.quote_plus`: unreserved characters stay, space becomes `+`,
/// every other byte is percent-encoded in upper case.
fn quote_plus(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

pub async fn update(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let Some(dialect) = PatchDialect::from_content_type(content_type) else {
        let accepted = format!("{MEDIA_TYPE_V2_0}, {MEDIA_TYPE_V2_1}");
        return Err(ApiError::unsupported_media_type(
            if content_type.is_empty() {
                "None"
            } else {
                content_type
            },
            format!("Image PATCH expects Content-Type one of: {accepted}"),
        )
        .with_header(
            HeaderName::from_static("accept-patch"),
            HeaderValue::from_str(&accepted).expect("ascii"),
        ));
    };
    let doc = json_body(&body)?;
    let ops = parse_patch(&doc, dialect).map_err(|e| ApiError::bad_request(e.0))?;
    let image = state.glance.update_image(&ctx, &id, &ops, dialect).await?;
    Ok(json_response(
        StatusCode::OK,
        &image_json(&image, state.view),
    ))
}

pub async fn delete(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult {
    reject_body(&headers)?;
    state.glance.delete_image(&ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn deactivate(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult {
    reject_body(&headers)?;
    state.glance.deactivate(&ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn reactivate(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult {
    reject_body(&headers)?;
    state.glance.reactivate(&ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
