//! What a call can end with besides success.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum ClientError {
    /// The server could not be reached (connection refused, reset, timed out).
    #[error("Unable to connect to the server at {endpoint}: {reason}")]
    Connection { endpoint: String, reason: String },
    /// The server answered with an error status; `message` is the text of its
    /// error body (HTML, JSON or plain text, as Glance sends them).
    #[error("{status} {message}")]
    Http { status: u16, message: String },
    /// The answer was not what the API promises (bad JSON, a missing header).
    #[error("unexpected response: {0}")]
    Protocol(String),
    /// A setting of the client itself (an endpoint that is not a URL, ...).
    #[error("{0}")]
    Config(String),
    /// Reading local data to upload, or writing downloaded data, failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

impl ClientError {
    /// The HTTP status of an error answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Http { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }
}

pub type ClientResult<T> = Result<T, ClientError>;

/// The readable text of a Glance error body: the `message` of a JSON body, or the
/// text of an HTML or plain one without its tags and status line.
pub fn error_text(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) {
        if let Some(m) = value.get("message").and_then(|m| m.as_str()) {
            return strip_markup(m);
        }
        // v2 fault bodies: {"<kind>": {"message": "..."}}
        if let Some(m) = value
            .as_object()
            .and_then(|o| o.values().find_map(|v| v.get("message")?.as_str()))
        {
            return strip_markup(m);
        }
    }
    let stripped = strip_markup(&text);
    let status_line = |l: &str| {
        l.split(' ')
            .next()
            .is_some_and(|c| c.len() == 3 && c.parse::<u16>().is_ok())
    };
    let lines: Vec<&str> = stripped
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    // WebOb pages start with "<code> <title>" (twice in HTML: title and heading);
    // the message is what follows.
    let message: Vec<&str> = lines
        .iter()
        .copied()
        .skip_while(|l| status_line(l))
        .collect();
    if message.is_empty() {
        lines.join(" ")
    } else {
        message.join(" ")
    }
}

fn strip_markup(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => {
                in_tag = true;
                out.push('\n');
            }
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_come_out_of_every_error_form() {
        let html = b"<html>\n <head>\n  <title>404 Not Found</title>\n </head>\n <body>\n  <h1>404 Not Found</h1>\n  Image with identifier x not found<br /><br />\n\n\n </body>\n</html>";
        assert_eq!(error_text(html), "Image with identifier x not found");
        let json = br#"{"message": "Bad header: x-image-meta-foo<br /><br />\n\n\n", "code": "400 Bad Request", "title": "Bad Request"}"#;
        assert_eq!(error_text(json), "Bad header: x-image-meta-foo");
        let plain = b"409 Conflict\n\nCannot upload to an unqueued image\n\n   ";
        assert_eq!(error_text(plain), "Cannot upload to an unqueued image");
    }
}
