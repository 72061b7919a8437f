//! Cross-cutting request handling: request ids, the caller's context, and writing
//! error bodies in the form the client accepts.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use glance_auth::IdentityHeaders;

use crate::error::{error_format, render_error, ApiError, ErrorBody};
use crate::router::AppState;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-openstack-request-id");

/// Writes the body of every error response (see `error.rs`), including the router's
/// own 405s.
pub async fn render_errors(request: Request, next: Next) -> Response {
    let format = error_format(request.headers());
    let method = request.method().clone();
    let mut response = next.run(request).await;
    let body = match response.extensions_mut().remove::<ErrorBody>() {
        Some(body) => body,
        None if response.status() == StatusCode::METHOD_NOT_ALLOWED => {
            ApiError::method_not_allowed(method.as_str()).body
        }
        None => return response,
    };
    let (content_type, text) = render_error(response.status(), &body, format);
    let (mut parts, _) = response.into_parts();
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    parts.headers.remove(header::CONTENT_LENGTH);
    let body = if method == axum::http::Method::HEAD { Body::empty() } else { Body::from(text) };
    Response::from_parts(parts, body)
}

/// Assigns the request id and builds the caller's context (v2 routes only: the
/// versions document has neither, as upstream).
pub async fn request_context(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let inbound = request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(String::from);
    let request_id = match inbound {
        Some(id) if id.len() > state.glance.settings.max_request_id_length => {
            return ApiError::bad_request(format!(
                "x-openstack-request-id is too long, max size {}",
                state.glance.settings.max_request_id_length
            ))
            .into_response();
        }
        Some(id) if id.starts_with("req-") => id,
        Some(id) => format!("req-{id}"),
        None => format!("req-{}", uuid::Uuid::new_v4()),
    };
    let h = request.headers();
    let text = |name: &str| h.get(name).and_then(|v| v.to_str().ok());
    let identity = IdentityHeaders {
        identity_status: text("x-identity-status"),
        project_id: text("x-project-id"),
        tenant_id: text("x-tenant-id").or_else(|| text("x-tenant")),
        user_id: text("x-user-id"),
        roles: text("x-roles"),
    };
    let ctx = match state.auth.authenticate(&identity, request_id.clone()) {
        Ok(ctx) => ctx,
        Err(e) => return ApiError::new(StatusCode::UNAUTHORIZED, e.to_string()).into_response(),
    };
    request.extensions_mut().insert(ctx);
    let mut response = next.run(request).await;
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID, v);
    }
    response
}
