//! The versions document, `/healthcheck` and `/v2/info/*`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use glance_auth::RequestContext;
use glance_config::Settings;
use glance_store::Store;
use serde_json::{json, Value};

use super::reject_body;
use crate::error::ApiError;
use crate::router::AppState;
use crate::views::json_response;

/// The v2 minor versions this deployment advertises, newest first, with their status
/// (spec §1.2: the list depends on the cache and multi-store settings).
pub fn advertised_versions(settings: &Settings) -> Vec<(&'static str, &'static str)> {
    let mut v = Vec::new();
    let cache = settings.cache_enabled();
    if cache {
        v.extend([
            ("v2.18", "CURRENT"),
            ("v2.17", "SUPPORTED"),
            ("v2.16", "SUPPORTED"),
            ("v2.15", "SUPPORTED"),
            ("v2.14", "SUPPORTED"),
        ]);
    } else {
        v.push(("v2.15", "SUPPORTED"));
    }
    if settings.multi_store() {
        v.extend(["v2.13", "v2.12", "v2.11", "v2.10", "v2.9", "v2.8"].map(|id| (id, "SUPPORTED")));
    } else {
        v.push(("v2.9", "SUPPORTED"));
    }
    if !cache {
        v.push(("v2.17", "CURRENT"));
    }
    v.extend(
        [
            "v2.7", "v2.6", "v2.5", "v2.4", "v2.3", "v2.2", "v2.1", "v2.0",
        ]
        .map(|id| (id, "SUPPORTED")),
    );
    v
}

/// Whether a first path segment selects the v2 API.
pub fn accepted_prefix(settings: &Settings, segment: &str) -> bool {
    segment == "v2"
        || advertised_versions(settings)
            .iter()
            .any(|(id, _)| *id == segment)
}

pub fn versions_response(state: &AppState, headers: &HeaderMap, status: StatusCode) -> Response {
    let base = match &state.glance.settings.public_endpoint {
        Some(endpoint) => endpoint.trim_end_matches('/').to_string(),
        None => {
            let host = headers
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("localhost");
            format!("http://{host}")
        }
    };
    let href = format!("{base}/v2/");
    let mut versions: Vec<Value> = advertised_versions(&state.glance.settings)
        .into_iter()
        .map(|(id, status)| json!({"id": id, "status": status, "links": [{"rel": "self", "href": href}]}))
        .collect();
    // As Queens listed them while it still served v1.
    if state.glance.settings.enable_v1_api {
        let href = format!("{base}/v1/");
        for id in ["v1.1", "v1.0"] {
            versions.push(
                json!({"id": id, "status": "DEPRECATED", "links": [{"rel": "self", "href": href}]}),
            );
        }
    }
    json_response(status, &json!({ "versions": versions }))
}

pub async fn versions(State(state): State<AppState>, headers: HeaderMap) -> Response {
    versions_response(&state, &headers, StatusCode::OK)
}

pub async fn healthcheck() -> Response {
    ([(header::CONTENT_TYPE, "text/plain; charset=UTF-8")], "OK").into_response()
}

pub async fn import_info(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    reject_body(&headers)?;
    let body = json!({"import-methods": {
        "description": "Import methods available.",
        "type": "array",
        "value": state.glance.settings.enabled_import_methods,
    }});
    Ok(json_response(StatusCode::OK, &body))
}

pub async fn stores_info(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    reject_body(&headers)?;
    let stores: Vec<Value> = listed_stores(&state)?
        .into_iter()
        .map(|(entry, _)| Value::Object(entry))
        .collect();
    Ok(json_response(StatusCode::OK, &json!({ "stores": stores })))
}

/// `GET /v2/info/stores/detail` (2.15): the same entries with `type`, `weight` and
/// the driver's `properties`; admins and services only.
pub async fn stores_detail(
    State(state): State<AppState>,
    Extension(ctx): Extension<RequestContext>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    reject_body(&headers)?;
    let listed = listed_stores(&state)?;
    state.glance.enforce_global(&ctx, "stores_info_detail")?;
    let stores: Vec<Value> = listed
        .into_iter()
        .map(|(mut entry, store)| {
            let info = store.info();
            entry.insert("type".into(), info.store_type.clone().into());
            entry.insert("properties".into(), Value::Object(store.properties()));
            entry.insert("weight".into(), info.weight.into());
            Value::Object(entry)
        })
        .collect();
    Ok(json_response(StatusCode::OK, &json!({ "stores": stores })))
}

/// One `/v2/info/stores` entry and the store it describes.
type ListedStore<'a> = (serde_json::Map<String, Value>, &'a Arc<dyn Store>);

/// The stores `/v2/info/stores` lists (404 without multi-store), each as its entry
/// (`id`, `description`, `default`, `read-only`) and the store itself.
fn listed_stores(state: &AppState) -> Result<Vec<ListedStore<'_>>, ApiError> {
    if !state.glance.stores.multi_store() {
        return Err(ApiError::not_found(
            "Multi backend is not supported at this site.",
        ));
    }
    let default_id = state.glance.stores.default_store().info().id.clone();
    Ok(state
        .glance
        .stores
        .all()
        .iter()
        .filter(|s| !s.info().id.starts_with("os_glance_"))
        .map(|store| {
            let info = store.info();
            let mut m = serde_json::Map::new();
            m.insert("id".into(), info.id.clone().into());
            if let Some(d) = &info.description {
                m.insert("description".into(), d.clone().into());
            }
            if info.id == default_id {
                m.insert("default".into(), "true".into());
            }
            if info.read_only {
                m.insert("read-only".into(), "true".into());
            }
            (m, store)
        })
        .collect())
}
