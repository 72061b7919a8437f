//! Calls into one Swift account: building object and container URLs, sending them
//! with a token, retrying once with a new token after a 401, and turning Swift's
//! statuses into store errors.

use std::sync::Arc;

use bytes::Bytes;
use hyper::{Method, Request, StatusCode};

use super::auth::{drain, host_of, AuthSession};
use super::location::encode_path;
use crate::remote::{empty_body, full_body, HttpClient, RequestBody, Response};
use crate::StoreError;

/// How calls into the account are authorised.
pub(crate) enum Access {
    /// The service's own credentials: a refreshable token.
    Service(Arc<AuthSession>),
    /// The caller's token on the caller's storage URL (multi-tenant); never refreshed.
    Caller { storage_url: String, token: String },
}

/// An object or a container of the account.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Target<'a> {
    pub container: &'a str,
    pub object: Option<&'a str>,
}

impl<'a> Target<'a> {
    pub(crate) fn object(container: &'a str, object: &'a str) -> Self {
        Target {
            container,
            object: Some(object),
        }
    }

    pub(crate) fn container(container: &'a str) -> Self {
        Target {
            container,
            object: None,
        }
    }

    /// `container/object` for messages.
    pub(crate) fn describe(&self) -> String {
        match self.object {
            Some(object) => format!("{}/{object}", self.container),
            None => self.container.to_string(),
        }
    }
}

/// Cheap to clone: uploads hand a copy to their background task.
#[derive(Clone)]
pub(crate) struct Account {
    /// Short calls (HEAD, DELETE, listings, GET up to the answer's head).
    http: HttpClient,
    /// Streamed PUTs: the answer only comes once the whole segment is sent.
    upload_http: HttpClient,
    access: Arc<Access>,
}

impl Account {
    pub(crate) fn new(http: HttpClient, upload_http: HttpClient, access: Access) -> Self {
        Account {
            http,
            upload_http,
            access: Arc::new(access),
        }
    }

    /// Storage URL, token, and the token's generation when it can be renewed.
    async fn credentials(&self) -> Result<(String, String, Option<u64>), StoreError> {
        match self.access.as_ref() {
            Access::Service(session) => {
                let token = session.token().await?;
                Ok((
                    token.storage_url.clone(),
                    token.value.clone(),
                    Some(token.generation),
                ))
            }
            Access::Caller { storage_url, token } => Ok((storage_url.clone(), token.clone(), None)),
        }
    }

    /// Sends a request with a small (replayable) body; a 401 gets one retry with a
    /// new token when the token is ours.
    pub(crate) async fn call(
        &self,
        method: Method,
        target: Target<'_>,
        query: &str,
        headers: &[(&str, &str)],
        body: Option<Bytes>,
    ) -> Result<Response, StoreError> {
        let mut retried = false;
        loop {
            let (storage_url, token, generation) = self.credentials().await?;
            let length =
                needs_length(&method).then(|| body.as_ref().map_or(0, Bytes::len).to_string());
            let body = match &body {
                Some(bytes) => full_body(bytes.clone()),
                None => empty_body(),
            };
            let mut all: Vec<(&str, &str)> = headers.to_vec();
            if let Some(length) = &length {
                all.push(("Content-Length", length));
            }
            let request = build(&method, &storage_url, target, query, &token, &all, body)?;
            let response = self.http.send(request).await?;
            if response.status() == StatusCode::UNAUTHORIZED && !retried {
                if let (Access::Service(session), Some(generation)) =
                    (self.access.as_ref(), generation)
                {
                    drain(response).await;
                    session.invalidate(generation).await;
                    retried = true;
                    continue;
                }
            }
            return Ok(response);
        }
    }

    /// PUTs a streamed body (no retry: it cannot be sent twice). The token is fetched
    /// fresh first, so a long upload renews it between segments.
    pub(crate) async fn put_stream(
        &self,
        target: Target<'_>,
        headers: &[(&str, &str)],
        body: RequestBody,
    ) -> Result<Response, StoreError> {
        let (storage_url, token, _) = self.credentials().await?;
        let request = build(
            &Method::PUT,
            &storage_url,
            target,
            "",
            &token,
            headers,
            body,
        )?;
        self.upload_http.send(request).await
    }
}

fn needs_length(method: &Method) -> bool {
    *method == Method::PUT || *method == Method::POST
}

fn build(
    method: &Method,
    storage_url: &str,
    target: Target<'_>,
    query: &str,
    token: &str,
    headers: &[(&str, &str)],
    body: RequestBody,
) -> Result<Request<RequestBody>, StoreError> {
    let mut url = format!(
        "{}/{}",
        storage_url.trim_end_matches('/'),
        encode_path(target.container, false)
    );
    if let Some(object) = target.object {
        url.push('/');
        url.push_str(&encode_path(object, false));
    }
    if !query.is_empty() {
        url.push('?');
        url.push_str(query);
    }
    let mut builder = Request::builder()
        .method(method.clone())
        .uri(&url)
        .header("X-Auth-Token", token);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(body).map_err(|_| {
        StoreError::Backend(format!(
            "cannot build a request to {} for {}",
            host_of(storage_url),
            target.describe()
        ))
    })
}

/// The store error for an unexpected answer about `target`. Bodies are not quoted:
/// they are Swift's HTML pages and say no more than the status.
pub(crate) async fn status_error(
    response: Response,
    target: Target<'_>,
    action: &str,
) -> StoreError {
    let status = response.status();
    drain(response).await;
    let what = target.describe();
    match status {
        StatusCode::NOT_FOUND => StoreError::NotFound(format!("swift object {what}")),
        StatusCode::CONFLICT | StatusCode::PRECONDITION_FAILED => {
            StoreError::Duplicate(format!("swift already has {what}"))
        }
        StatusCode::PAYLOAD_TOO_LARGE | StatusCode::INSUFFICIENT_STORAGE => {
            StoreError::StorageFull(format!("swift refused {what} ({status})"))
        }
        _ => StoreError::Backend(format!("swift answered {status} to {action} {what}")),
    }
}
