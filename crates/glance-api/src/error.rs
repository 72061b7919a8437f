//! The one place where errors become HTTP statuses and upstream's error bodies.
//!
//! Handlers return [`ApiError`]; its response carries an [`ErrorBody`] extension and
//! no body yet. The `render_errors` middleware, which can see the request's `Accept`
//! header, then writes the body in WebOb's HTML, JSON or plain-text form.

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use glance_core::CoreError;

/// An error response waiting for its body.
#[derive(Debug, Clone)]
pub struct ErrorBody {
    pub explanation: String,
    pub detail: String,
    /// 415 bodies put the explanation and the detail on separate lines.
    pub media_type_style: bool,
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: ErrorBody,
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

impl ApiError {
    pub fn new(status: StatusCode, explanation: impl Into<String>) -> Self {
        ApiError {
            status,
            body: ErrorBody { explanation: explanation.into(), detail: String::new(), media_type_style: false },
            headers: Vec::new(),
        }
    }

    pub fn bad_request(msg: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, msg)
    }

    pub fn not_found(msg: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, msg)
    }

    /// 415 in WebOb's wording, with a detail line.
    pub fn unsupported_media_type(content_type: &str, detail: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            body: ErrorBody {
                explanation: format!("The request media type {content_type} is not supported by this server."),
                detail: detail.into(),
                media_type_style: true,
            },
            headers: Vec::new(),
        }
    }

    pub fn method_not_allowed(method: &str) -> Self {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("The method {method} is not allowed for this resource."),
        )
    }

    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    pub fn body_not_expected() -> Self {
        ApiError::bad_request("A body is not expected with this request.")
    }

    pub fn malformed_json() -> Self {
        ApiError::bad_request("Malformed JSON in request body.")
    }
}

impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> Self {
        let status = match &e {
            CoreError::BadRequest(_) => StatusCode::BAD_REQUEST,
            CoreError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            CoreError::Forbidden(_) => StatusCode::FORBIDDEN,
            CoreError::NotFound(_) => StatusCode::NOT_FOUND,
            CoreError::Conflict(_) => StatusCode::CONFLICT,
            CoreError::Gone(_) => StatusCode::GONE,
            CoreError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            CoreError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            CoreError::RangeNotSatisfiable { .. } => StatusCode::RANGE_NOT_SATISFIABLE,
            CoreError::ServiceUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            CoreError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        match e {
            CoreError::UnsupportedMediaType(detail) => {
                ApiError::unsupported_media_type("application/octet-stream", detail)
            }
            CoreError::RangeNotSatisfiable { size } => ApiError::new(status, "Requested range not satisfiable")
                .with_header(
                    axum::http::header::CONTENT_RANGE,
                    HeaderValue::from_str(&format!("bytes */{size}")).expect("ascii"),
                ),
            other => ApiError::new(status, other.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = self.status.into_response();
        for (name, value) in self.headers {
            response.headers_mut().insert(name, value);
        }
        response.extensions_mut().insert(self.body);
        response
    }
}

/// The three body forms WebOb offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorFormat {
    Html,
    Json,
    Plain,
}

/// Picks the form the way WebOb's `best_match(['text/html', 'application/json'])` does.
pub fn error_format(headers: &HeaderMap) -> ErrorFormat {
    let Some(accept) = headers.get(axum::http::header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return ErrorFormat::Plain;
    };
    let quality = |offer: &str| -> f32 {
        let (otype, _) = offer.split_once('/').unwrap_or((offer, ""));
        let mut best: Option<(u8, f32)> = None;
        for range in accept.split(',') {
            let mut parts = range.split(';');
            let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q=").and_then(|q| q.parse::<f32>().ok()))
                .next()
                .unwrap_or(1.0);
            let specificity = if media == offer {
                3
            } else if media == format!("{otype}/*") {
                2
            } else if media == "*/*" {
                1
            } else {
                continue;
            };
            if best.is_none_or(|(s, _)| specificity > s) {
                best = Some((specificity, q));
            }
        }
        best.map(|(_, q)| q).unwrap_or(0.0)
    };
    let html = quality("text/html");
    let json = quality("application/json");
    if html > 0.0 && html >= json {
        ErrorFormat::Html
    } else if json > 0.0 {
        ErrorFormat::Json
    } else {
        ErrorFormat::Plain
    }
}

fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            other => out.push(other),
        }
    }
    out
}

/// Renders the body and returns it with its content type.
pub fn render_error(status: StatusCode, body: &ErrorBody, format: ErrorFormat) -> (&'static str, String) {
    let status_line = format!("{} {}", status.as_u16(), status.canonical_reason().unwrap_or(""));
    match format {
        ErrorFormat::Html => {
            let inner = if body.media_type_style {
                format!("{}\n<br /><br />\n{}", html_escape(&body.explanation), html_escape(&body.detail))
            } else {
                format!("{}<br /><br />\n{}\n\n", html_escape(&body.explanation), html_escape(&body.detail))
            };
            (
                "text/html; charset=UTF-8",
                format!(
                    "<html>\n <head>\n  <title>{status_line}</title>\n </head>\n <body>\n  <h1>{status_line}</h1>\n  {inner}\n </body>\n</html>"
                ),
            )
        }
        ErrorFormat::Json => {
            let message = format!("{}<br /><br />\n{}\n\n", body.explanation, body.detail);
            let value = serde_json::json!({
                "message": message,
                "code": status_line,
                "title": status.canonical_reason().unwrap_or(""),
            });
            ("application/json", value.to_string())
        }
        ErrorFormat::Plain => (
            "text/plain; charset=UTF-8",
            format!("{status_line}\n\n{}\n\n{}\n\n", body.explanation, body.detail),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_matches_upstream_bytes() {
        let body = ErrorBody {
            explanation: "No image found with ID 00000000-0000-0000-0000-000000000000".into(),
            detail: String::new(),
            media_type_style: false,
        };
        let (ct, html) = render_error(StatusCode::NOT_FOUND, &body, ErrorFormat::Html);
        assert_eq!(ct, "text/html; charset=UTF-8");
        // Upstream's Content-Length for this exact page.
        assert_eq!(html.len(), 181);
        let ro = ErrorBody { explanation: "Attribute 'status' is read-only.".into(), detail: String::new(), media_type_style: false };
        assert_eq!(render_error(StatusCode::FORBIDDEN, &ro, ErrorFormat::Html).1.len(), 164);
        let patch = ApiError::unsupported_media_type(
            "application/json",
            "Image PATCH expects Content-Type one of: application/openstack-images-v2.0-json-patch, application/openstack-images-v2.1-json-patch",
        );
        assert_eq!(render_error(patch.status, &patch.body, ErrorFormat::Html).1.len(), 350);
    }

    #[test]
    fn accept_negotiation() {
        let mut h = HeaderMap::new();
        assert_eq!(error_format(&h), ErrorFormat::Plain);
        h.insert("accept", "*/*".parse().unwrap());
        assert_eq!(error_format(&h), ErrorFormat::Html);
        h.insert("accept", "application/json".parse().unwrap());
        assert_eq!(error_format(&h), ErrorFormat::Json);
        h.insert("accept", "text/html;q=0.5, application/json".parse().unwrap());
        assert_eq!(error_format(&h), ErrorFormat::Json);
        h.insert("accept", "image/png".parse().unwrap());
        assert_eq!(error_format(&h), ErrorFormat::Plain);
    }
}
