//! `PUT /v2/images/{id}/file` and `GET /v2/images/{id}/file`.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use glance_auth::RequestContext;
use glance_core::{Download, RangeSpec, UploadRequest};

use super::reject_body;
use crate::error::ApiError;
use crate::router::AppState;

type ApiResult = Result<Response, ApiError>;

pub async fn upload(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case("application/octet-stream") {
        return Err(ApiError::unsupported_media_type(
            if content_type.is_empty() { "None" } else { content_type },
            "",
        ));
    }
    let declared = match headers.get("x-openstack-image-size") {
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(|s| s.trim().parse::<u64>().ok())
                .ok_or_else(|| ApiError::bad_request("x-openstack-image-size must be an integer"))?,
        ),
        None => None,
    };
    let content_length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.trim().parse::<u64>().ok());
    let request = UploadRequest { expected_size: declared.or(content_length) };
    state.glance.upload(&ctx, &id, request, body.into_data_stream()).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Parses `Range` (or the legacy request `Content-Range`) as upstream accepts it.
fn requested_range(headers: &HeaderMap) -> Result<Option<RangeSpec>, ApiError> {
    let raw = match headers.get(header::RANGE).or_else(|| headers.get(header::CONTENT_RANGE)) {
        Some(v) => v.to_str().map_err(|_| unsatisfiable())?.trim().to_string(),
        None => return Ok(None),
    };
    if raw.contains(',') {
        return Err(ApiError::bad_request("Requests with multiple ranges are not supported"));
    }
    let spec = raw.strip_prefix("bytes=").or_else(|| raw.strip_prefix("bytes ")).ok_or_else(unsatisfiable)?;
    // A Content-Range request header may carry a "/total" suffix.
    let spec = spec.split('/').next().unwrap_or("");
    let (start, end) = spec.split_once('-').ok_or_else(unsatisfiable)?;
    let number = |s: &str| s.trim().parse::<u64>().map_err(|_| unsatisfiable());
    Ok(Some(match (start.trim().is_empty(), end.trim().is_empty()) {
        (true, false) => RangeSpec::Suffix(number(end)?),
        (false, true) => RangeSpec::FromTo(number(start)?, None),
        (false, false) => RangeSpec::FromTo(number(start)?, Some(number(end)?)),
        (true, true) => return Err(unsatisfiable()),
    }))
}

fn unsatisfiable() -> ApiError {
    ApiError::new(StatusCode::RANGE_NOT_SATISFIABLE, "Requested range not satisfiable")
}

pub async fn download(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult {
    reject_body(&headers)?;
    let range = requested_range(&headers)?;
    match state.glance.download(&ctx, &id, range).await? {
        Download::NoData => Ok(StatusCode::NO_CONTENT.into_response()),
        Download::Data { reader, range, checksum } => {
            let (status, length) = match range {
                Some(r) => (StatusCode::PARTIAL_CONTENT, r.end - r.start + 1),
                None => (StatusCode::OK, reader.total_size),
            };
            let mut response = Response::new(Body::from_stream(reader.stream));
            *response.status_mut() = status;
            let h = response.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
            h.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
            if let Some(md5) = checksum.and_then(|c| HeaderValue::from_str(&c).ok()) {
                h.insert(HeaderName::from_static("content-md5"), md5);
            }
            if let Some(r) = range {
                let value = format!("bytes {}-{}/{}", r.start, r.end, reader.total_size);
                h.insert(header::CONTENT_RANGE, HeaderValue::from_str(&value).expect("ascii"));
            }
            Ok(response)
        }
    }
}
