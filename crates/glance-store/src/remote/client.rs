//! The HTTP client of the remote stores.
//!
//! Every connection goes through one resolver that can refuse addresses (the http
//! store's SSRF rules), checked on the addresses actually connected to, so a name
//! that resolves to a private address is refused as surely as the literal address.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Empty, Full, Limited, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::Request;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use tokio::sync::mpsc;

use crate::StoreError;

/// Request bodies: empty, one buffer, or a stream fed through a [`ChannelBody`].
pub type RequestBody = BoxBody<Bytes, std::io::Error>;
pub type Response = hyper::Response<Incoming>;

/// Decides which peer addresses a client may connect to.
pub trait AddressFilter: Send + Sync + 'static {
    /// `Err` carries the reason the address is refused.
    fn check(&self, address: &IpAddr) -> Result<(), String>;
}

/// The TLS options of one store.
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    /// A PEM bundle trusted in addition to the system's certificates.
    pub ca_file: Option<PathBuf>,
    /// Accept any server certificate.
    pub insecure: bool,
}

type Connector = HttpsConnector<HttpConnector<FilteringResolver>>;

/// A pooled HTTP/1.1 client (plain and TLS).
#[derive(Clone)]
pub struct HttpClient {
    client: Client<Connector, RequestBody>,
    filter: Option<Arc<dyn AddressFilter>>,
    /// How long to wait for the head of an answer (not for a whole body).
    answer_timeout: Duration,
}

impl HttpClient {
    /// `Err` is the reason (a CA file that cannot be used); the caller names the option.
    pub fn new(
        tls: &TlsOptions,
        filter: Option<Arc<dyn AddressFilter>>,
        answer_timeout: Duration,
    ) -> Result<Self, String> {
        let resolver = FilteringResolver {
            filter: filter.clone(),
        };
        let mut http = HttpConnector::new_with_resolver(resolver);
        http.set_connect_timeout(Some(Duration::from_secs(30)));
        http.set_nodelay(true);
        // Let the TLS layer see https:// URLs (the plain connector refuses them).
        http.enforce_http(false);
        let tls = super::tls::client_config(tls.ca_file.as_deref(), tls.insecure)?;
        let connector = HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(connector);
        Ok(HttpClient {
            client,
            filter,
            answer_timeout,
        })
    }

    /// Sends `request` and waits for the head of the answer. `Err` means no answer
    /// (refused address, connection failure, timeout); its text never holds the
    /// URL's query or credentials.
    pub async fn send(&self, request: Request<RequestBody>) -> Result<Response, StoreError> {
        let host = request.uri().host().unwrap_or_default().to_string();
        // A literal address skips the resolver, so it is checked here.
        if let (Some(filter), Ok(ip)) = (
            &self.filter,
            host.trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>(),
        ) {
            filter.check(&ip).map_err(StoreError::LocationRefused)?;
        }
        let call = self.client.request(request);
        match tokio::time::timeout(self.answer_timeout, call).await {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(e)) => Err(describe(&host, &e)),
            Err(_) => Err(StoreError::Backend(format!(
                "no answer from {host} within {:?}",
                self.answer_timeout
            ))),
        }
    }
}

fn describe(host: &str, e: &hyper_util::client::legacy::Error) -> StoreError {
    use std::error::Error as _;
    let mut source = e.source();
    let mut causes = Vec::new();
    while let Some(cause) = source {
        // The resolver's refusal travels as an io::Error of kind PermissionDenied.
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::PermissionDenied {
                return StoreError::LocationRefused(io.to_string());
            }
        }
        causes.push(cause.to_string());
        source = cause.source();
    }
    let what = if e.is_connect() {
        "cannot connect to"
    } else {
        "request failed to"
    };
    StoreError::Backend(format!("{what} {host}: {}", causes.join(": ")))
}

/// Resolves with the system resolver, then drops refused addresses; a name left
/// with none is refused.
#[derive(Clone)]
struct FilteringResolver {
    filter: Option<Arc<dyn AddressFilter>>,
}

type Addresses = std::vec::IntoIter<SocketAddr>;

impl tower_service::Service<Name> for FilteringResolver {
    type Response = Addresses;
    type Error = std::io::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Addresses, std::io::Error>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let filter = self.filter.clone();
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let Some(filter) = filter else {
                return Ok(found.into_iter());
            };
            let mut reasons = Vec::new();
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|addr| match filter.check(&addr.ip()) {
                    Ok(()) => true,
                    Err(reason) => {
                        reasons.push(reason);
                        false
                    }
                })
                .collect();
            if allowed.is_empty() {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    format!("{host}: {}", reasons.join("; ")),
                ));
            }
            Ok(allowed.into_iter())
        })
    }
}

pub fn empty_body() -> RequestBody {
    Empty::new().map_err(|never| match never {}).boxed()
}

pub fn full_body(bytes: Bytes) -> RequestBody {
    Full::new(bytes).map_err(|never| match never {}).boxed()
}

/// A request body fed chunk by chunk while the request is in flight. A few chunks
/// are queued at most, so a slow server slows the writer instead of filling memory.
pub struct ChannelBody {
    sender: mpsc::Sender<Result<Frame<Bytes>, std::io::Error>>,
}

impl ChannelBody {
    pub fn new(queued_chunks: usize) -> (ChannelBody, RequestBody) {
        let (sender, receiver) = mpsc::channel(queued_chunks.max(1));
        let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
            receiver.recv().await.map(|item| (item, receiver))
        });
        (
            ChannelBody { sender },
            BodyExt::boxed(StreamBody::new(stream)),
        )
    }

    /// Queues one chunk; `Err` when the request has already ended (the server
    /// answered early or the connection broke).
    pub async fn send(&self, chunk: Bytes) -> Result<(), StoreError> {
        self.sender
            .send(Ok(Frame::data(chunk)))
            .await
            .map_err(|_| StoreError::Backend("the store ended the upload early".into()))
    }

    /// Ends the body with an error, so the server sees a broken upload and keeps
    /// nothing (a chunked body is never terminated).
    pub async fn fail(self) {
        let broken = std::io::Error::other("upload abandoned");
        let _ = self.sender.send(Err(broken)).await;
    }
}

/// The body of an answer as a stream of chunks.
pub fn body_stream(response: Response) -> BoxStream<'static, Result<Bytes, std::io::Error>> {
    response
        .into_body()
        .into_data_stream()
        .map_err(std::io::Error::other)
        .boxed()
}

/// Reads a short answer (XML, JSON, an error page) whole, refusing more than `limit`
/// bytes.
pub async fn read_small_body(response: Response, limit: usize) -> Result<Bytes, StoreError> {
    Limited::new(response.into_body(), limit)
        .collect()
        .await
        .map(|collected| collected.to_bytes())
        .map_err(|e| StoreError::Backend(format!("reading the store's answer failed: {e}")))
}
