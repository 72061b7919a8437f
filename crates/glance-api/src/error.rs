//! The one place where errors become HTTP statuses and upstream's error bodies.
//!
//! Handlers return [`ApiError`]; its response carries an [`ErrorBody`] extension and
//! no body yet. The `render_errors` middleware, which can see the request's `Accept`
//! header, then writes the body in WebOb's HTML, JSON or plain-text form.

use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use glance_core::CoreError;

/// Which WebOb body template an error uses. Most exceptions share one; a few
/// (405, 415, 501) have their own wording and layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyTemplate {
    /// `${explanation}<br /><br />\n${detail}\n${html_comment}\n`.
    Standard,
    /// 415: `The request media type … is not supported by this server.\n<br /><br />\n${detail}`.
    MediaType,
    /// 405: `The method … is not allowed for this resource. <br /><br />\n${detail}`.
    MethodNotAllowed,
    /// 501: `\nThe request method … is not implemented for this server. <br /><br />\n${detail}`.
    NotImplemented,
}

/// An error response waiting for its body.
#[derive(Debug, Clone)]
pub struct ErrorBody {
    /// The first sentence (for the special templates, the whole sentence they print).
    pub explanation: String,
    pub detail: String,
    pub template: BodyTemplate,
}

impl ErrorBody {
    /// The body text as WebOb's template produces it, with `escape` applied to the
    /// substituted values.
    fn body(&self, escape: fn(&str) -> String) -> String {
        let (e, d) = (escape(&self.explanation), escape(&self.detail));
        match self.template {
            BodyTemplate::Standard => format!("{e}<br /><br />\n{d}\n\n"),
            BodyTemplate::MediaType => format!("{e}\n<br /><br />\n{d}"),
            BodyTemplate::MethodNotAllowed => format!("{e} <br /><br />\n{d}"),
            BodyTemplate::NotImplemented => format!("\n{e} <br /><br />\n{d}"),
        }
    }
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: ErrorBody,
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

impl ApiError {
    pub fn new(status: StatusCode, explanation: impl Into<String>) -> Self {
        ApiError::templated(
            status,
            BodyTemplate::Standard,
            explanation.into(),
            String::new(),
        )
    }

    fn templated(
        status: StatusCode,
        template: BodyTemplate,
        explanation: String,
        detail: String,
    ) -> Self {
        ApiError {
            status,
            body: ErrorBody {
                explanation,
                detail,
                template,
            },
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
        ApiError::templated(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            BodyTemplate::MediaType,
            format!("The request media type {content_type} is not supported by this server."),
            detail.into(),
        )
    }

    pub fn method_not_allowed(method: &str) -> Self {
        ApiError::templated(
            StatusCode::METHOD_NOT_ALLOWED,
            BodyTemplate::MethodNotAllowed,
            format!("The method {method} is not allowed for this resource."),
            String::new(),
        )
    }

    /// 405 with an explanation of its own and the methods that are allowed (v1's
    /// `HEAD /v1/images/detail`).
    pub fn method_not_allowed_because(explanation: &str, allow: &'static str) -> Self {
        ApiError::new(StatusCode::METHOD_NOT_ALLOWED, explanation)
            .with_header(header::ALLOW, HeaderValue::from_static(allow))
    }

    /// 501 for a request method no route knows, on an unknown path.
    pub fn not_implemented(method: &str) -> Self {
        ApiError::templated(
            StatusCode::NOT_IMPLEMENTED,
            BodyTemplate::NotImplemented,
            format!("The request method {method} is not implemented for this server."),
            String::new(),
        )
    }

    /// 416 as WebOb's `HTTPRequestRangeNotSatisfiable(detail)`.
    pub fn range_not_satisfiable(detail: impl Into<String>) -> Self {
        ApiError::templated(
            StatusCode::RANGE_NOT_SATISFIABLE,
            BodyTemplate::Standard,
            "The Range requested is not available.".into(),
            detail.into(),
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
            CoreError::Conflict(_) | CoreError::ConflictDetail(_) => StatusCode::CONFLICT,
            CoreError::ForbiddenDetail(_) => StatusCode::FORBIDDEN,
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
            CoreError::RangeNotSatisfiable { size } => ApiError::range_not_satisfiable(format!(
                "Invalid start position in Range header. Start position MUST be in the inclusive range [0, {}].",
                size as i128 - 1
            ))
            .with_header(
                axum::http::header::CONTENT_RANGE,
                HeaderValue::from_str(&format!("bytes */{size}")).expect("ascii"),
            ),
            CoreError::ForbiddenDetail(detail) => ApiError::templated(
                status,
                BodyTemplate::Standard,
                "Access was denied to this resource.".into(),
                detail,
            ),
            CoreError::ConflictDetail(detail) => ApiError::templated(
                status,
                BodyTemplate::Standard,
                "There was a conflict when trying to complete your request.".into(),
                detail,
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

/// Picks the form the way WebOb's `acceptable_offers(['text/html', 'application/json'])`
/// does: highest quality wins, ties go to HTML.
pub fn error_format(headers: &HeaderMap) -> ErrorFormat {
    let Some(accept) = headers
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
    else {
        return ErrorFormat::Plain;
    };
    let quality = |offer: &str| -> f32 {
        let (otype, _) = offer.split_once('/').unwrap_or((offer, ""));
        let mut best: Option<(u8, f32)> = None;
        for range in accept.split(',') {
            let mut parts = range.split(';');
            let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|q| q.parse::<f32>().ok())
                })
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

fn no_escape(s: &str) -> String {
    s.to_string()
}

/// WebOb's `strip_tags`, which turns the HTML body into the plain-text one: newlines
/// become spaces, `<br>` tags become newlines, other tags and comment marks vanish.
fn strip_tags(value: &str) -> String {
    let flat = value.replace('\n', " ").replace('\r', "");
    let mut out = String::with_capacity(flat.len());
    let mut rest = flat.as_str();
    while let Some(open) = rest.find('<') {
        let (before, tag) = rest.split_at(open);
        out.push_str(before);
        if let Some(after) = tag.strip_prefix("<!--") {
            rest = after;
            continue;
        }
        match tag.find('>') {
            Some(close) => {
                if tag[1..].to_ascii_lowercase().starts_with("br") {
                    out.push('\n');
                }
                rest = &tag[close + 1..];
            }
            None => {
                out.push_str(tag);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out.replace("-->", "")
}

/// The reason phrase WebOb uses in error titles (a few differ from today's RFC names).
pub fn webob_title(status: StatusCode) -> &'static str {
    match status.as_u16() {
        413 => "Request Entity Too Large",
        414 => "Request-URI Too Long",
        416 => "Request Range Not Satisfiable",
        _ => status.canonical_reason().unwrap_or(""),
    }
}

/// Renders the body and returns it with its content type.
pub fn render_error(
    status: StatusCode,
    body: &ErrorBody,
    format: ErrorFormat,
) -> (&'static str, String) {
    let title = webob_title(status);
    let status_line = format!("{} {title}", status.as_u16());
    match format {
        ErrorFormat::Html => (
            "text/html; charset=UTF-8",
            format!(
                "<html>\n <head>\n  <title>{status_line}</title>\n </head>\n <body>\n  <h1>{status_line}</h1>\n  {}\n </body>\n</html>",
                body.body(html_escape)
            ),
        ),
        ErrorFormat::Json => (
            "application/json",
            format!(
                "{{\"message\": {}, \"code\": {}, \"title\": {}}}",
                glance_domain::python_json::string(&body.body(no_escape)),
                glance_domain::python_json::string(&status_line),
                glance_domain::python_json::string(title)
            ),
        ),
        ErrorFormat::Plain => {
            ("text/plain; charset=UTF-8", format!("{status_line}\n\n{}", strip_tags(&body.body(no_escape))))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn standard(explanation: &str) -> ErrorBody {
        ErrorBody {
            explanation: explanation.into(),
            detail: String::new(),
            template: BodyTemplate::Standard,
        }
    }

    #[test]
    fn html_matches_upstream_bytes() {
        let body = standard("No image found with ID 00000000-0000-0000-0000-000000000000");
        let (ct, html) = render_error(StatusCode::NOT_FOUND, &body, ErrorFormat::Html);
        assert_eq!(ct, "text/html; charset=UTF-8");
        // Upstream's Content-Length for this exact page.
        assert_eq!(html.len(), 181);
        let ro = standard("Attribute 'status' is read-only.");
        assert_eq!(
            render_error(StatusCode::FORBIDDEN, &ro, ErrorFormat::Html)
                .1
                .len(),
            164
        );
        let patch = ApiError::unsupported_media_type(
            "application/json",
            "Image PATCH expects Content-Type one of: application/openstack-images-v2.0-json-patch, application/openstack-images-v2.1-json-patch",
        );
        assert_eq!(
            render_error(patch.status, &patch.body, ErrorFormat::Html)
                .1
                .len(),
            350
        );
        let post = ApiError::method_not_allowed("POST");
        let (_, html) = render_error(post.status, &post.body, ErrorFormat::Html);
        assert_eq!(html.len(), 188);
        assert!(html.contains(
            "  The method POST is not allowed for this resource. <br /><br />\n\n </body>"
        ));
        let foo = ApiError::not_implemented("FOO");
        assert_eq!(
            render_error(foo.status, &foo.body, ErrorFormat::Html)
                .1
                .len(),
            192
        );
    }

    #[test]
    fn json_and_plain_match_upstream_bytes() {
        let conflict = standard("Image status transition from active to saving is not allowed");
        assert_eq!(
            render_error(StatusCode::CONFLICT, &conflict, ErrorFormat::Json).1,
            r#"{"message": "Image status transition from active to saving is not allowed<br /><br />\n\n\n", "code": "409 Conflict", "title": "Conflict"}"#
        );
        assert_eq!(
            render_error(StatusCode::CONFLICT, &conflict, ErrorFormat::Plain).1,
            "409 Conflict\n\nImage status transition from active to saving is not allowed\n\n   "
        );
        let media =
            ApiError::unsupported_media_type("text/plain", "Invalid content type text/plain");
        assert_eq!(
            render_error(media.status, &media.body, ErrorFormat::Json).1,
            r#"{"message": "The request media type text/plain is not supported by this server.\n<br /><br />\nInvalid content type text/plain", "code": "415 Unsupported Media Type", "title": "Unsupported Media Type"}"#
        );
        assert_eq!(
            render_error(media.status, &media.body, ErrorFormat::Plain).1,
            "415 Unsupported Media Type\n\nThe request media type text/plain is not supported by this server. \n\n Invalid content type text/plain"
        );
        let post = ApiError::method_not_allowed("POST");
        assert_eq!(
            render_error(post.status, &post.body, ErrorFormat::Json).1,
            r#"{"message": "The method POST is not allowed for this resource. <br /><br />\n", "code": "405 Method Not Allowed", "title": "Method Not Allowed"}"#
        );
        let range = ApiError::range_not_satisfiable("Invalid Range header.");
        assert_eq!(
            render_error(range.status, &range.body, ErrorFormat::Json).1,
            r#"{"message": "The Range requested is not available.<br /><br />\nInvalid Range header.\n\n", "code": "416 Request Range Not Satisfiable", "title": "Request Range Not Satisfiable"}"#
        );
        assert_eq!(
            glance_domain::python_json::string("é\u{7f}\"x"),
            r#""\u00e9\u007f\"x""#
        );
        assert_eq!(strip_tags("a<br />b<!-- c -->"), "a\nb c ");
    }

    #[test]
    fn accept_negotiation() {
        let mut h = HeaderMap::new();
        assert_eq!(error_format(&h), ErrorFormat::Plain);
        h.insert("accept", "*/*".parse().unwrap());
        assert_eq!(error_format(&h), ErrorFormat::Html);
        h.insert("accept", "application/json".parse().unwrap());
        assert_eq!(error_format(&h), ErrorFormat::Json);
        h.insert(
            "accept",
            "text/html;q=0.5, application/json".parse().unwrap(),
        );
        assert_eq!(error_format(&h), ErrorFormat::Json);
        h.insert("accept", "image/png".parse().unwrap());
        assert_eq!(error_format(&h), ErrorFormat::Plain);
    }
}
