//! Cross-cutting request handling: request ids, the caller's context, and writing
//! error bodies in the form the client accepts.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use glance_auth::{AuthError, IdentityHeaders};

use crate::error::{error_format, render_error, ApiError, ErrorBody};
use crate::router::AppState;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-openstack-request-id");

/// Upstream's pipeline starts with oslo.middleware's CORS filter, which answers every
/// OPTIONS request itself: 200 with an empty body, before authentication and version
/// negotiation.
pub async fn cors_preflight(request: Request, next: Next) -> Response {
    if request.method() == axum::http::Method::OPTIONS {
        return StatusCode::OK.into_response();
    }
    next.run(request).await
}

/// WebOb's default explanation for 401, which upstream's context middleware sends.
const UNAUTHORIZED_TEXT: &str = "This server could not verify that you are authorized to access the \
    document you requested. Either you supplied the wrong credentials (e.g., bad password), or your \
    browser does not understand how to supply the credentials required.";

/// WebOb's text for an error raised without an explanation.
fn default_explanation(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "The server could not comply with the request since it is either malformed or otherwise incorrect.",
        403 => "Access was denied to this resource.",
        404 => "The resource could not be found.",
        413 => "The request is larger than the server is willing or able to process.",
        500 => "The server has either erred or is incapable of performing the requested operation.",
        _ => status.canonical_reason().unwrap_or(""),
    }
}

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
        // The framework's own rejections (an undecodable path segment, a request body
        // over a limit...) get upstream's error form too, their text as explanation.
        None if response.status().is_client_error() || response.status().is_server_error() => {
            let status = response.status();
            let (parts, body) = response.into_parts();
            let text = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
            let text = String::from_utf8_lossy(&text).trim().to_string();
            let explanation = if text.is_empty() {
                default_explanation(status).to_string()
            } else {
                text
            };
            response = Response::from_parts(parts, Body::empty());
            ApiError::new(status, explanation).body
        }
        None => return response,
    };
    let (content_type, text) = render_error(response.status(), &body, format);
    let (mut parts, _) = response.into_parts();
    parts
        .headers
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    parts.headers.remove(header::CONTENT_LENGTH);
    let body = if method == axum::http::Method::HEAD {
        Body::empty()
    } else {
        Body::from(text)
    };
    Response::from_parts(parts, body)
}

/// Assigns the request id and builds the caller's context (v2 routes only: the
/// versions document has neither, as upstream).
pub async fn request_context(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
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
        auth_token: text("x-auth-token"),
        service_token: text("x-service-token"),
    };
    let result = state.auth.authenticate(&identity, request_id.clone()).await;
    let authenticated = result.is_ok();
    let mut response = match result {
        Ok(ctx) => {
            request.extensions_mut().insert(ctx);
            next.run(request).await
        }
        Err(AuthError::Keystone(e)) => {
            // The reason is for the logs; the body says only what upstream says.
            tracing::info!(request_id, reason = %e, status = e.status(), "request not authenticated");
            let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::UNAUTHORIZED);
            let text = if status == StatusCode::UNAUTHORIZED {
                UNAUTHORIZED_TEXT
            } else {
                e.public_message()
            };
            ApiError::new(status, text).into_response()
        }
        Err(_) => ApiError::new(StatusCode::UNAUTHORIZED, UNAUTHORIZED_TEXT).into_response(),
    };
    // Upstream's auth_token adds the challenge to every 401 leaving the pipeline.
    if response.status() == StatusCode::UNAUTHORIZED {
        if let Some(v) = state
            .auth
            .www_authenticate()
            .and_then(|v| HeaderValue::from_str(v).ok())
        {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
    }
    // Upstream's own 401 comes before its context exists: no request id on it.
    if authenticated {
        if let Ok(v) = HeaderValue::from_str(&request_id) {
            response.headers_mut().insert(REQUEST_ID, v);
        }
    }
    response
}
