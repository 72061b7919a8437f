//! `/v2/images` and `/v2/images/{id}` (+ deactivate/reactivate).

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use bytes::Bytes;
use glance_auth::RequestContext;
use glance_domain::patch::{parse_patch, PatchDialect, MEDIA_TYPE_V2_0, MEDIA_TYPE_V2_1};

use super::{json_body, query_pairs, reject_body};
use crate::error::ApiError;
use crate::router::AppState;
use crate::views::{json_response, json_response_sized, ImageView};

type ApiResult = Result<Response, ApiError>;

pub async fn create(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let image = state.glance.create_image(&ctx, json_body(&body)?).await?;
    let mut response = json_response(
        StatusCode::CREATED,
        &ImageView {
            image: &image,
            opts: state.view,
        },
    );
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
        &ImageView {
            image: &image,
            opts: state.view,
        },
    ))
}

pub async fn list(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    RawQuery(query): RawQuery,
) -> ApiResult {
    let params = query_pairs(query.as_deref());
    let page = state.glance.list_images(&ctx, &params).await?;
    let mut link_params = link_params(&params);
    let first = images_link(&link_params);
    let next = page.next_marker.as_deref().map(|marker| {
        link_params.push(("marker", marker));
        images_link(&link_params)
    });
    // About 700 bytes per image plus its extra properties.
    let size_hint: usize = page
        .images
        .iter()
        .map(|i| 800 + 48 * i.properties.len())
        .sum();
    let body = ImageList {
        images: page
            .images
            .iter()
            .map(|image| ImageView {
                image,
                opts: state.view,
            })
            .collect(),
        first,
        schema: "/v2/schemas/images",
        next,
    };
    Ok(json_response_sized(StatusCode::OK, &body, size_hint + 256))
}

/// The body of `GET /v2/images`, in upstream's key order.
#[derive(serde::Serialize)]
struct ImageList<'a> {
    images: Vec<ImageView<'a>>,
    first: String,
    schema: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    next: Option<String>,
}

/// The request's parameters for the `first`/`next` links: every pair in request order,
/// without `marker`. Upstream builds them from a dict, so a repeated parameter (two
/// `tag=`) keeps only its last value and the next page is filtered differently from the
/// first; we keep them all (docs/COMPATIBILITY.md).
fn link_params(params: &[(String, String)]) -> Vec<(&str, &str)> {
    params
        .iter()
        .filter(|(k, _)| k != "marker")
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
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
        &ImageView {
            image: &image,
            opts: state.view,
        },
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
