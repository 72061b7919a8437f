//! One HTTP/1.1 client (plain or TLS) for every call, with retries of idempotent calls
//! when the connection fails.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt, TryStreamExt};
use http_body_util::{combinators::UnsyncBoxBody, BodyExt, Empty, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::header::{HeaderName, HeaderValue};
use hyper::{HeaderMap, Method, Request, Response, StatusCode};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::error::{error_text, ClientError, ClientResult};

type WireBody = UnsyncBoxBody<Bytes, std::io::Error>;

/// What a request carries.
pub enum RequestBody {
    Empty,
    /// Small bodies (JSON): can be sent again on a retry.
    Bytes(Bytes),
    /// Image data, streamed once (never retried).
    Stream(std::pin::Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send>>),
}

impl RequestBody {
    pub fn json(value: &serde_json::Value) -> Self {
        RequestBody::Bytes(Bytes::from(value.to_string()))
    }

    fn replayable(&self) -> Option<WireBody> {
        match self {
            RequestBody::Empty => Some(Empty::new().map_err(|never| match never {}).boxed_unsync()),
            RequestBody::Bytes(b) => Some(
                Full::new(b.clone())
                    .map_err(|never| match never {})
                    .boxed_unsync(),
            ),
            RequestBody::Stream(_) => None,
        }
    }
}

/// A successful answer whose body has not been read yet.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Incoming,
}

impl Answer {
    pub async fn bytes(self) -> ClientResult<Bytes> {
        Ok(self
            .body
            .collect()
            .await
            .map_err(|e| ClientError::Protocol(format!("reading the answer: {e}")))?
            .to_bytes())
    }

    pub async fn json(self) -> ClientResult<serde_json::Value> {
        let bytes = self.bytes().await?;
        serde_json::from_slice(&bytes)
            .map_err(|e| ClientError::Protocol(format!("the answer is not JSON ({e})")))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body as a stream of chunks (downloads).
    pub fn into_stream(self) -> impl Stream<Item = std::io::Result<Bytes>> + Send {
        http_body_util::BodyStream::new(self.body).filter_map(|frame| async move {
            match frame {
                Ok(frame) => frame.into_data().ok().map(Ok),
                Err(e) => Some(Err(std::io::Error::other(e))),
            }
        })
    }
}

#[derive(Clone)]
pub struct Transport {
    client: Client<HttpsConnector<HttpConnector>, WireBody>,
    /// The endpoint without a trailing slash, e.g. `http://127.0.0.1:9292`.
    pub endpoint: String,
    pub token: Option<String>,
    /// Extra tries of an idempotent call whose connection failed.
    pub retries: u32,
}

impl Transport {
    pub fn new(endpoint: &str) -> ClientResult<Transport> {
        let endpoint = endpoint.trim_end_matches('/').to_string();
        if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
            return Err(ClientError::Config(format!(
                "the endpoint must be an http:// or https:// URL, not '{endpoint}'"
            )));
        }
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(Duration::from_secs(30)));
        let connector = HttpsConnectorBuilder::new()
            .with_tls_config(tls_config()?)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new()).build(connector);
        Ok(Transport {
            client,
            endpoint,
            token: None,
            retries: 3,
        })
    }

    /// Sends one call and returns its answer when the status is a success; an error
    /// status becomes [`ClientError::Http`] with the server's message.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, String)],
        body: RequestBody,
    ) -> ClientResult<Answer> {
        let idempotent = matches!(
            method,
            Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
        );
        let url = format!("{}{path}", self.endpoint);
        let mut body = Some(body);
        let mut attempt = 0;
        loop {
            let current = body.take().expect("a body for each attempt");
            let (wire, kept) = match current.replayable() {
                Some(wire) => (wire, Some(current)),
                None => match current {
                    RequestBody::Stream(stream) => (
                        BodyExt::boxed_unsync(StreamBody::new(stream.map_ok(Frame::data))),
                        None,
                    ),
                    _ => unreachable!("only streams are not replayable"),
                },
            };
            let request = self.request(&method, &url, headers, wire)?;
            match self.client.request(request).await {
                Ok(response) => return finish(response).await,
                Err(e) => {
                    let can_retry = idempotent && kept.is_some() && attempt < self.retries;
                    if !can_retry {
                        return Err(ClientError::Connection {
                            endpoint: self.endpoint.clone(),
                            reason: describe(&e),
                        });
                    }
                    attempt += 1;
                    body = kept;
                    tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
                }
            }
        }
    }

    fn request(
        &self,
        method: &Method,
        url: &str,
        headers: &[(&str, String)],
        body: WireBody,
    ) -> ClientResult<Request<WireBody>> {
        let mut request = Request::builder().method(method.clone()).uri(url);
        if let Some(token) = &self.token {
            request = request.header("x-auth-token", token.as_str());
        }
        request = request.header(
            "user-agent",
            concat!("glance-rs/", env!("CARGO_PKG_VERSION")),
        );
        for (name, value) in headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| ClientError::Config(format!("bad header name '{name}'")))?;
            let value = HeaderValue::from_bytes(value.as_bytes())
                .map_err(|_| ClientError::Config(format!("bad value for header '{name}'")))?;
            request = request.header(name, value);
        }
        request
            .body(body)
            .map_err(|e| ClientError::Config(format!("bad request to {url}: {e}")))
    }
}

async fn finish(response: Response<Incoming>) -> ClientResult<Answer> {
    let (parts, body) = response.into_parts();
    let answer = Answer {
        status: parts.status,
        headers: parts.headers,
        body,
    };
    if answer.status.is_client_error() || answer.status.is_server_error() {
        let status = answer.status.as_u16();
        let bytes = answer.bytes().await.unwrap_or_default();
        return Err(ClientError::Http {
            status,
            message: error_text(&bytes),
        });
    }
    Ok(answer)
}

/// The innermost cause of a connection failure ("Connection refused (os error 111)").
fn describe(e: &hyper_util::client::legacy::Error) -> String {
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
    let mut last = e.to_string();
    while let Some(s) = source {
        last = s.to_string();
        source = s.source();
    }
    last
}

fn tls_config() -> ClientResult<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ClientError::Config(format!("TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}
