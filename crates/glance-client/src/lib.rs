//! A typed async client for Glance: the Image API v2 and the legacy v1 API (with the
//! seeds' `Client` operations by name), streaming uploads and downloads, a given token
//! or Keystone v3 password authentication, and retries of idempotent calls when the
//! connection fails.
//!
//! ```no_run
//! # async fn demo() -> Result<(), glance_client::ClientError> {
//! use glance_client::{GlanceClient, ImageMeta, ListOptions};
//!
//! let client = GlanceClient::new("http://127.0.0.1:9292")?.with_token("secret");
//! // The seeds' operations (v1):
//! let mut meta = ImageMeta::default();
//! meta.set("name", "cirros").set("disk_format", "raw").set("container_format", "bare");
//! let data = glance_client::file_data(std::path::Path::new("cirros.img")).await?;
//! let added = client.add_image(&meta, Some(data)).await?;
//! for image in client.get_images(&ListOptions::default()).await? {
//!     println!("{:?} {:?}", image.id(), image.text("name"));
//! }
//! // The same image through v2:
//! let shown = client.show_image(&added.id().unwrap()).await?;
//! println!("{}", shown["os_hash_value"]);
//! # Ok(()) }
//! ```

mod error;
mod keystone;
mod transport;
pub mod v1;
mod v2;

use std::path::Path;

use bytes::Bytes;
use futures_util::StreamExt;

pub use error::{error_text, ClientError, ClientResult};
pub use keystone::PasswordAuth;
pub use v1::{Download, ImageData, ImageMeta, ListOptions, Membership, SharedImage};
pub use v2::ImageDownload;

use transport::Transport;

/// A client for one Glance endpoint.
#[derive(Clone)]
pub struct GlanceClient {
    transport: Transport,
}

impl GlanceClient {
    /// `endpoint` is the service's root, e.g. `http://glance.example.com:9292`.
    pub fn new(endpoint: &str) -> ClientResult<GlanceClient> {
        Ok(GlanceClient {
            transport: Transport::new(endpoint)?,
        })
    }

    /// Sends `X-Auth-Token: token` with every call.
    pub fn with_token(mut self, token: impl Into<String>) -> Self {
        self.transport.token = Some(token.into());
        self
    }

    /// How many more times an idempotent call is tried when its connection fails
    /// (default 3).
    pub fn with_retries(mut self, retries: u32) -> Self {
        self.transport.retries = retries;
        self
    }

    /// Authenticates with Keystone v3 and uses the image endpoint of its catalog (or
    /// `endpoint` when given).
    pub async fn from_keystone(
        auth: &PasswordAuth,
        endpoint: Option<&str>,
    ) -> ClientResult<GlanceClient> {
        let (token, catalog_endpoint) = auth.authenticate().await?;
        let endpoint = match endpoint {
            Some(e) => e.to_string(),
            None => catalog_endpoint.ok_or_else(|| {
                ClientError::Config("the Keystone catalog has no image endpoint".into())
            })?,
        };
        Ok(GlanceClient::new(&endpoint)?.with_token(token))
    }

    pub fn endpoint(&self) -> &str {
        &self.transport.endpoint
    }
}

/// `?k=v&...` encoded as Python's `urlencode`, or "" without parameters.
pub(crate) fn query_string(pairs: &[(String, String)]) -> String {
    if pairs.is_empty() {
        return String::new();
    }
    let mut encoder = form_urlencoded::Serializer::new(String::from("?"));
    for (k, v) in pairs {
        encoder.append_pair(k, v);
    }
    encoder.finish()
}

/// The contents of a file as image data (streamed in 1 MiB chunks, size known).
pub async fn file_data(path: &Path) -> ClientResult<ImageData> {
    let file = tokio::fs::File::open(path).await?;
    let size = file.metadata().await?.len();
    Ok(ImageData {
        stream: Box::pin(reader_stream(file)),
        size: Some(size),
    })
}

/// Anything readable (stdin, a pipe) as image data of unknown size (sent chunked).
pub fn reader_data<R>(reader: R) -> ImageData
where
    R: tokio::io::AsyncRead + Send + Unpin + 'static,
{
    ImageData {
        stream: Box::pin(reader_stream(reader)),
        size: None,
    }
}

fn reader_stream<R>(reader: R) -> impl futures_util::Stream<Item = std::io::Result<Bytes>> + Send
where
    R: tokio::io::AsyncRead + Send + Unpin + 'static,
{
    futures_util::stream::unfold(reader, |mut reader| async move {
        use tokio::io::AsyncReadExt;
        let mut buf = vec![0u8; 1 << 20];
        match reader.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(Bytes::from(buf)), reader))
            }
            Err(e) => Some((Err(e), reader)),
        }
    })
    .boxed()
}
