//! S3's error answers turned into [`StoreError`]s that name S3's code and message but
//! never a credential.

use hyper::StatusCode;

use super::sigv4::Credentials;
use super::xml;
use crate::remote::{read_small_body, Response};
use crate::StoreError;

/// Error documents are a few hundred bytes; more is not an S3 error document.
const ERROR_BODY_LIMIT: usize = 64 * 1024;
/// Longest S3 message quoted in an error.
const MESSAGE_LIMIT: usize = 300;

/// A refusal from S3: the status and, when the answer had a body, its code and message.
#[derive(Debug, Clone)]
pub(crate) struct S3Failure {
    pub status: StatusCode,
    pub code: Option<String>,
    pub message: Option<String>,
}

impl S3Failure {
    /// Reads the error document of `response` (HEAD answers have none).
    pub(crate) async fn read(response: Response) -> Self {
        let status = response.status();
        let body = read_small_body(response, ERROR_BODY_LIMIT)
            .await
            .ok()
            .and_then(|bytes| String::from_utf8(bytes.to_vec()).ok())
            .unwrap_or_default();
        Self::from_document(status, &body)
    }

    pub(crate) fn from_document(status: StatusCode, body: &str) -> Self {
        let field = |tag| xml::text(body, tag).filter(|s: &String| !s.trim().is_empty());
        S3Failure {
            status,
            code: field("Code"),
            message: field("Message"),
        }
    }

    pub(crate) fn code_is(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }

    /// Describes the failure of `what` (e.g. `PUT glance/<id>`), with any credential
    /// scrubbed from S3's own text.
    pub(crate) fn describe(&self, what: &str, credentials: &Credentials) -> String {
        let mut text = format!("{what}: HTTP {}", self.status.as_u16());
        if let Some(code) = &self.code {
            text.push(' ');
            text.push_str(code);
        }
        if let Some(message) = &self.message {
            let message: String = message.chars().take(MESSAGE_LIMIT).collect();
            text.push_str(": ");
            text.push_str(&message);
        }
        scrub(&text, credentials)
    }

    /// The error for a write or bucket call: a missing key is NotFound, a full quota is
    /// StorageFull, everything else (403 SignatureDoesNotMatch, NoSuchBucket, 5xx) is
    /// Backend with S3's code.
    pub(crate) fn into_error(self, what: &str, credentials: &Credentials) -> StoreError {
        let text = self.describe(what, credentials);
        if self.code_is("QuotaExceeded") || self.status == StatusCode::INSUFFICIENT_STORAGE {
            StoreError::StorageFull(text)
        } else if self.status == StatusCode::NOT_FOUND && !self.code_is("NoSuchBucket") {
            StoreError::NotFound(text)
        } else {
            StoreError::Backend(text)
        }
    }

    /// The error for a read, size or delete of an image: any 404, a missing bucket
    /// included, means the data is not there (as upstream, which asks with HEAD).
    pub(crate) fn into_read_error(self, what: &str, credentials: &Credentials) -> StoreError {
        if self.status == StatusCode::NOT_FOUND {
            StoreError::NotFound(self.describe(what, credentials))
        } else {
            self.into_error(what, credentials)
        }
    }
}

/// Replaces the key pair wherever it appears in `text`.
pub(crate) fn scrub(text: &str, credentials: &Credentials) -> String {
    let mut out = text.to_string();
    for secret in [&credentials.secret_key, &credentials.access_key] {
        if !secret.is_empty() {
            out = out.replace(secret.as_str(), "***");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> Credentials {
        Credentials {
            access_key: "AKID".into(),
            secret_key: "s3cr3t".into(),
        }
    }

    #[test]
    fn maps_codes_and_hides_credentials() {
        let doc = "<Error><Code>SignatureDoesNotMatch</Code><Message>key AKID with s3cr3t</Message></Error>";
        let err =
            S3Failure::from_document(StatusCode::FORBIDDEN, doc).into_error("PUT b/k", &creds());
        let StoreError::Backend(text) = err else {
            panic!("{err:?}")
        };
        assert_eq!(
            text,
            "PUT b/k: HTTP 403 SignatureDoesNotMatch: key *** with ***"
        );

        let missing = "<Error><Code>NoSuchKey</Code></Error>";
        let f = S3Failure::from_document(StatusCode::NOT_FOUND, missing);
        assert!(matches!(
            f.into_error("GET", &creds()),
            StoreError::NotFound(_)
        ));

        let no_bucket = "<Error><Code>NoSuchBucket</Code></Error>";
        let f = S3Failure::from_document(StatusCode::NOT_FOUND, no_bucket);
        assert!(matches!(
            f.clone().into_error("PUT", &creds()),
            StoreError::Backend(_)
        ));
        assert!(matches!(
            f.into_read_error("GET", &creds()),
            StoreError::NotFound(_)
        ));

        let quota = "<Error><Code>QuotaExceeded</Code></Error>";
        let f = S3Failure::from_document(StatusCode::FORBIDDEN, quota);
        assert!(matches!(
            f.into_error("PUT", &creds()),
            StoreError::StorageFull(_)
        ));

        // A HEAD answer has no document.
        let f = S3Failure::from_document(StatusCode::NOT_FOUND, "");
        assert!(matches!(
            f.into_error("HEAD", &creds()),
            StoreError::NotFound(_)
        ));
    }
}
