//! `GET/POST /v2/images/{id}/locations` (2.17) and `DELETE /v2/stores/{store}/{id}`
//! (2.10).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use glance_auth::RequestContext;
use glance_core::ValidationData;
use glance_store::redact_location;
use serde_json::{json, Value};

use super::{json_body, reject_body};
use crate::error::ApiError;
use crate::router::AppState;
use crate::views::json_response;

pub async fn list(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    reject_body(&headers)?;
    let locations = state.glance.list_locations(&ctx, &id).await?;
    let body: Vec<Value> = locations
        .iter()
        .map(|l| json!({"url": redact_location(&l.url), "metadata": l.metadata}))
        .collect();
    Ok(json_response(StatusCode::OK, &Value::Array(body)))
}

pub async fn add(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (url, validation) = parse_add(json_body(&body)?)?;
    state
        .glance
        .add_location(&ctx, &id, &url, validation)
        .await?;
    Ok(StatusCode::ACCEPTED.into_response())
}

pub async fn delete_from_store(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    Path((store_id, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    reject_body(&headers)?;
    state.glance.delete_from_store(&ctx, &store_id, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Upstream's `add_location` schema: `url` (string) required; `validation_data` an
/// object with only `os_hash_algo` (one of four) and `os_hash_value` (at most 128
/// characters), each requiring the other.
fn parse_add(body: Value) -> Result<(String, Option<ValidationData>), ApiError> {
    let invalid = |why: &str| {
        ApiError::bad_request(format!(
            "Provided object does not match schema 'location': {why}"
        ))
    };
    let Value::Object(mut body) = body else {
        return Err(invalid("the body is not an object"));
    };
    let url = match body.remove("url") {
        Some(Value::String(url)) => url,
        Some(_) => return Err(invalid("'url' is not of type 'string'")),
        None => return Err(invalid("'url' is a required property")),
    };
    let validation = match body.remove("validation_data") {
        None => None,
        Some(Value::Object(data)) => {
            if let Some(key) = data
                .keys()
                .find(|k| *k != "os_hash_algo" && *k != "os_hash_value")
            {
                return Err(invalid(&format!(
                    "Additional properties are not allowed ('{key}' was unexpected)"
                )));
            }
            let text = |key: &str| match data.get(key) {
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(invalid(&format!("'{key}' is not of type 'string'"))),
            };
            match (text("os_hash_algo")?, text("os_hash_value")?) {
                (None, None) => None,
                (Some(algo), Some(value)) => {
                    if !["sha1", "sha256", "sha512", "md5"].contains(&algo.as_str()) {
                        return Err(invalid(&format!(
                            "'{algo}' is not one of ['sha1', 'sha256', 'sha512', 'md5']"
                        )));
                    }
                    if value.chars().count() > 128 {
                        return Err(invalid("'os_hash_value' is too long"));
                    }
                    Some(ValidationData {
                        os_hash_algo: algo,
                        os_hash_value: value,
                    })
                }
                (Some(_), None) => {
                    return Err(invalid("'os_hash_value' is a dependency of 'os_hash_algo'"))
                }
                (None, Some(_)) => {
                    return Err(invalid("'os_hash_algo' is a dependency of 'os_hash_value'"))
                }
            }
        }
        Some(_) => return Err(invalid("'validation_data' is not of type 'object'")),
    };
    Ok((url, validation))
}
