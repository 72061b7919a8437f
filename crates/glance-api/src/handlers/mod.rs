//! One handler per endpoint: extract, call the core, convert to the wire form.

pub mod discovery;
pub mod image_data;
pub mod images;
pub mod locations;
pub mod members;
pub mod metadefs_content;
pub mod metadefs_namespaces;
mod metadefs_views;
pub mod schemas;
pub mod tags;
pub mod tasks;

use axum::http::{header, HeaderMap};
use bytes::Bytes;
use serde_json::Value;

use crate::error::ApiError;

/// Upstream's "body_reject" routes refuse any request body.
pub(crate) fn reject_body(headers: &HeaderMap) -> Result<(), ApiError> {
    let length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(0);
    let chunked = headers
        .get(header::TRANSFER_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    if length > 0 || chunked {
        return Err(ApiError::body_not_expected());
    }
    Ok(())
}

/// Parses a JSON request body whatever its Content-Type says (as upstream).
pub(crate) fn json_body(body: &Bytes) -> Result<Value, ApiError> {
    if body.is_empty() {
        return Err(ApiError::bad_request("Body expected in request."));
    }
    let value: Value = serde_json::from_slice(body).map_err(|_| ApiError::malformed_json())?;
    if !(value.is_object() || value.is_array()) {
        return Err(ApiError::bad_request(
            "Unexpected body type. Expected list/dict.",
        ));
    }
    Ok(value)
}
