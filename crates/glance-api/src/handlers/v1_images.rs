//! The legacy v1 image routes: `/v1/images`, `/v1/images/detail`, `/v1/images/{id}`.

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use glance_auth::RequestContext;
use glance_core::v1::{V1Body, V1ListParams, V1UpdateOptions};
use glance_core::Download;
use glance_domain::v1_meta::{is_true_spelling, V1Meta};
use serde_json::{json, Value};

use super::{query_pairs, BodyFraming};
use crate::error::ApiError;
use crate::router::AppState;
use crate::v1_views::{brief_object, image_object, insert_meta_headers};
use crate::views::json_response;

type ApiResult = Result<Response, ApiError>;
type BodyStream = axum::body::BodyDataStream;

/// The request's `x-image-meta-*` headers as v1 metadata (400 "Bad header: ...").
fn meta_from(headers: &HeaderMap) -> Result<V1Meta, ApiError> {
    let pairs: Vec<(String, String)> = headers
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    V1Meta::from_headers(pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())))
        .map_err(ApiError::bad_request)
}

/// Image data, when the request carries any (WebOb's `has_body`).
fn body_from(headers: &HeaderMap, body: Body) -> Option<V1Body<BodyStream>> {
    let framing = BodyFraming::of(headers);
    if !framing.has_body() {
        return None;
    }
    let octet_stream = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/octet-stream"));
    Some(V1Body {
        stream: body.into_data_stream(),
        content_length: framing.content_length.filter(|_| !framing.chunked),
        octet_stream,
    })
}

/// The list query as v1 takes it.
pub(crate) fn list_params(query: Option<String>) -> V1ListParams {
    V1ListParams(query_pairs(query.as_deref()))
}

/// `{"image": {...}}` with the image's ETag.
fn image_response(status: StatusCode, image: &glance_domain::Image) -> Response {
    let mut response = json_response(status, &json!({ "image": image_object(image) }));
    if let Some(etag) = image
        .checksum
        .as_deref()
        .and_then(|c| HeaderValue::from_str(c).ok())
    {
        response.headers_mut().insert(header::ETAG, etag);
    }
    response
}

/// `GET /v1/images` (and `GET /v1/`): the brief list.
pub async fn list(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    RawQuery(query): RawQuery,
) -> ApiResult {
    let images = state.glance.v1_list(&ctx, &list_params(query)).await?;
    let brief: Vec<Value> = images.iter().map(brief_object).collect();
    Ok(json_response(StatusCode::OK, &json!({ "images": brief })))
}

/// `GET /v1/images/detail`.
pub async fn detail(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    RawQuery(query): RawQuery,
) -> ApiResult {
    let images = state.glance.v1_list(&ctx, &list_params(query)).await?;
    let full: Vec<Value> = images.iter().map(image_object).collect();
    Ok(json_response(StatusCode::OK, &json!({ "images": full })))
}

/// `HEAD /v1/images/detail` is refused, as upstream.
pub async fn detail_head() -> ApiError {
    ApiError::method_not_allowed_because(
        "This operation is currently not permitted on Glance images details.",
        "GET",
    )
}

/// `HEAD /v1/images/{id}`: the metadata as headers.
pub async fn meta(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path(id): Path<String>,
) -> ApiResult {
    let image = state.glance.v1_image(&ctx, &id).await?;
    let mut response = StatusCode::OK.into_response();
    insert_meta_headers(response.headers_mut(), &image);
    Ok(response)
}

/// `GET /v1/images/{id}`: the data, with the metadata as headers.
pub async fn show(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path(id): Path<String>,
) -> ApiResult {
    let (image, download) = state.glance.v1_download(&ctx, &id).await?;
    let (body, length) = match download {
        Download::NoData => (Body::empty(), 0),
        Download::Data { reader, .. } => {
            let total = reader.total_size;
            (Body::from_stream(reader.stream), total)
        }
    };
    let mut response = Response::new(body);
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    insert_meta_headers(h, &image);
    Ok(response)
}

/// `POST /v1/images`: 201 with the image and its address.
pub async fn create(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult {
    let meta = meta_from(&headers)?;
    let image = state
        .glance
        .v1_create(&ctx, meta, body_from(&headers, body))
        .await?;
    let mut response = image_response(StatusCode::CREATED, &image);
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    if let Ok(v) = HeaderValue::from_str(&format!("http://{host}/v1/images/{}", image.id)) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}

/// `PUT /v1/images/{id}`.
pub async fn update(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult {
    let meta = meta_from(&headers)?;
    let options = V1UpdateOptions {
        purge_props: headers
            .get("x-glance-registry-purge-props")
            .map(|v| is_true_spelling(&String::from_utf8_lossy(v.as_bytes()))),
    };
    let image = state
        .glance
        .v1_update(&ctx, &id, meta, options, body_from(&headers, body))
        .await?;
    Ok(image_response(StatusCode::OK, &image))
}

/// `DELETE /v1/images/{id}`: 200 with an empty body, as Queens.
pub async fn delete(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path(id): Path<String>,
) -> ApiResult {
    state.glance.v1_delete(&ctx, &id).await?;
    Ok(StatusCode::OK.into_response())
}
