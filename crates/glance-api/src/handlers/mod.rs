//! One handler per endpoint: extract, call the core, convert to the wire form.

pub mod discovery;
pub mod image_data;
pub mod image_import;
pub mod images;
pub mod locations;
pub mod members;
pub mod metadefs_content;
pub mod metadefs_namespaces;
mod metadefs_views;
pub mod registry;
pub mod schemas;
pub mod tags;
pub mod tasks;
pub mod v1_images;
pub mod v1_members;

use axum::http::{header, HeaderMap};
use bytes::Bytes;
use serde_json::Value;

use crate::error::ApiError;

/// How a request's body is framed: its `Content-Length`, and whether it is chunked.
pub(crate) struct BodyFraming {
    pub content_length: Option<u64>,
    pub chunked: bool,
}

impl BodyFraming {
    pub(crate) fn of(headers: &HeaderMap) -> Self {
        BodyFraming {
            content_length: headers
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok()),
            chunked: headers
                .get(header::TRANSFER_ENCODING)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.to_ascii_lowercase().contains("chunked")),
        }
    }

    /// WebOb's `has_body`: chunked, or a non-zero length.
    pub(crate) fn has_body(&self) -> bool {
        self.chunked || self.content_length.unwrap_or(0) > 0
    }
}

/// Upstream's "body_reject" routes refuse any request body.
pub(crate) fn reject_body(headers: &HeaderMap) -> Result<(), ApiError> {
    if BodyFraming::of(headers).has_body() {
        return Err(ApiError::body_not_expected());
    }
    Ok(())
}

/// A query string as (name, value) pairs in request order.
pub(crate) fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
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
