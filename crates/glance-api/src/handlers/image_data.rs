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
    require_octet_stream(&headers)?;
    let request = UploadRequest {
        expected_size: expected_size(&headers)?,
        store: store_header(&headers),
        expected_checksum: None,
    };
    state
        .glance
        .upload(&ctx, &id, request, body.into_data_stream())
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Image data must come as `application/octet-stream` (415 otherwise).
pub(super) fn require_octet_stream(headers: &HeaderMap) -> Result<(), ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let essence = content_type.map(|c| c.split(';').next().unwrap_or("").trim());
    if essence.is_some_and(|e| e.eq_ignore_ascii_case("application/octet-stream")) {
        return Ok(());
    }
    // Upstream names the type without its parameters, and "None" when absent.
    let shown = essence.filter(|e| !e.is_empty()).unwrap_or("None");
    Err(ApiError::unsupported_media_type(
        shown,
        format!("Invalid content type {shown}"),
    ))
}

/// `x-openstack-image-size`, else `Content-Length`; zero means unknown, as upstream.
pub(super) fn expected_size(headers: &HeaderMap) -> Result<Option<u64>, ApiError> {
    let size = match headers.get("x-openstack-image-size") {
        Some(v) => v
            .to_str()
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .ok_or_else(|| {
                ApiError::bad_request("Invalid or missing image size in request headers.")
            })?,
        None => headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|s| s.trim().parse::<u64>().ok())
            .unwrap_or(0),
    };
    Ok((size > 0).then_some(size))
}

/// `X-Image-Meta-Store`: the backend to upload into (multi-store only).
pub(super) fn store_header(headers: &HeaderMap) -> Option<String> {
    headers
        .get("x-image-meta-store")
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// Parses `Range` (or the legacy request `Content-Range`) as WebOb does, with
/// upstream's 400/416 answers.
fn requested_range(headers: &HeaderMap) -> Result<Option<RangeSpec>, ApiError> {
    if let Some(value) = headers.get(header::RANGE) {
        let raw = value.to_str().map_err(|_| invalid_range("Range"))?;
        if raw.contains(',') {
            return Err(ApiError::bad_request(
                "Requests with multiple ranges are not supported in Glance. You may make multiple \
                 single-range requests instead.",
            ));
        }
        return parse_byte_range(raw, '=')
            .map(Some)
            .ok_or_else(|| invalid_range("Range"));
    }
    if let Some(value) = headers.get(header::CONTENT_RANGE) {
        // "bytes a-b/total" or "bytes a-b/*": both ends and the total are required,
        // and the end must lie inside the total.
        let raw = value.to_str().map_err(|_| invalid_range("Content-Range"))?;
        let (spec, total) = raw
            .split_once('/')
            .ok_or_else(|| invalid_range("Content-Range"))?;
        let total = match total.trim() {
            "*" => None,
            t => Some(
                t.parse::<u64>()
                    .map_err(|_| invalid_range("Content-Range"))?,
            ),
        };
        return match parse_byte_range(spec, ' ') {
            Some(r @ RangeSpec::FromTo(_, Some(end))) if total.is_none_or(|t| end < t) => {
                Ok(Some(r))
            }
            _ => Err(invalid_range("Content-Range")),
        };
    }
    Ok(None)
}

/// WebOb's `bytes *= *(\d*) *- *(\d*)` (unit case-insensitive, trailing text ignored);
/// None when it does not parse or the end is before the start.
fn parse_byte_range(raw: &str, separator: char) -> Option<RangeSpec> {
    let raw = raw.trim_start();
    let unit = raw.get(..5)?;
    if !unit.eq_ignore_ascii_case("bytes") {
        return None;
    }
    let rest = raw[5..].trim_start_matches(' ');
    let rest = if separator == ' ' {
        rest
    } else {
        rest.strip_prefix(separator)?.trim_start_matches(' ')
    };
    let digits = |s: &str| -> (String, usize) {
        let d: String = s.chars().take_while(char::is_ascii_digit).collect();
        let n = d.len();
        (d, n)
    };
    let (start, n) = digits(rest);
    let rest = rest[n..]
        .trim_start_matches(' ')
        .strip_prefix('-')?
        .trim_start_matches(' ');
    let (end, _) = digits(rest);
    let number = |s: &str| s.parse::<u64>().ok();
    match (start.is_empty(), end.is_empty()) {
        (true, true) => None,
        (true, false) => Some(RangeSpec::Suffix(number(&end)?)),
        (false, true) => Some(RangeSpec::FromTo(number(&start)?, None)),
        (false, false) => {
            let (a, b) = (number(&start)?, number(&end)?);
            (a <= b).then_some(RangeSpec::FromTo(a, Some(b)))
        }
    }
}

fn invalid_range(header_name: &str) -> ApiError {
    ApiError::range_not_satisfiable(format!("Invalid {header_name} header."))
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
        Download::Data {
            reader,
            range,
            checksum,
        } => {
            let (status, length) = match range {
                Some(r) => (StatusCode::PARTIAL_CONTENT, r.end - r.start + 1),
                None => (StatusCode::OK, reader.total_size),
            };
            let mut response = Response::new(Body::from_stream(reader.stream));
            *response.status_mut() = status;
            let h = response.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            );
            h.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
            if let Some(md5) = checksum.and_then(|c| HeaderValue::from_str(&c).ok()) {
                h.insert(HeaderName::from_static("content-md5"), md5);
            }
            if let Some(r) = range {
                let value = format!("bytes {}-{}/{}", r.start, r.end, reader.total_size);
                h.insert(
                    header::CONTENT_RANGE,
                    HeaderValue::from_str(&value).expect("ascii"),
                );
            }
            Ok(response)
        }
    }
}
