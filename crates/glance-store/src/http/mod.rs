//! The read-only `http` store (upstream's `glance_store/_drivers/http.py`): image
//! data that lives on a web server, named by an `http://` or `https://` location.
//!
//! Every location and every redirect target goes through the `[import_filtering_opts]`
//! filter ([`UriFilter`]) and every address connected to through its address
//! check, since locations come from API callers.

mod body;
mod fetch;

use std::path::PathBuf;

use async_trait::async_trait;
use hyper::{Method, StatusCode};

use crate::remote::ssrf::UriFilter;
use crate::remote::{body_stream, TlsOptions};
use crate::{
    ByteRange, ObjectReader, Store, StoreCaller, StoreError, StoreInfo, StoreOptions, StoreWriter,
    UploadTarget,
};
use body::{content_length, content_range, window};
pub use fetch::MAX_REDIRECTS;
use fetch::{check_status, Fetcher};

/// Upstream's option names.
const CA_FILE: &str = "https_ca_certificates_file";
const INSECURE: &str = "https_insecure";
const PROXIES: &str = "http_proxy_information";

pub struct HttpStore {
    info: StoreInfo,
    fetcher: Fetcher,
}

impl HttpStore {
    /// Reads the store's options (`https_ca_certificates_file`,
    /// `https_insecure`, `http_proxy_information`) and builds its clients.
    pub fn new(
        mut info: StoreInfo,
        options: &StoreOptions,
        filter: UriFilter,
    ) -> Result<HttpStore, StoreError> {
        let tls = tls_options(options)?;
        refuse_proxies(options)?;
        let fetcher =
            Fetcher::new(filter, &tls).map_err(|reason| options.invalid(CA_FILE, reason))?;
        info.read_only = true;
        Ok(HttpStore { info, fetcher })
    }
}

/// As upstream: a CA file means verification against it (and `https_insecure`
/// is ignored); otherwise `https_insecure`, true by default, turns verification off.
fn tls_options(options: &StoreOptions) -> Result<TlsOptions, StoreError> {
    let ca_file = options.string(CA_FILE).map(PathBuf::from);
    let insecure = options.bool(INSECURE, true)?;
    Ok(TlsOptions {
        insecure: ca_file.is_none() && insecure,
        ca_file,
    })
}

/// `http_proxy_information` (`scheme:proxy` pairs) is parsed, but a proxy is
/// not supported: a configured one is a start-up error rather than silently
/// going direct.
fn refuse_proxies(options: &StoreOptions) -> Result<(), StoreError> {
    let proxies = options.dict(PROXIES)?;
    if proxies.is_empty() {
        return Ok(());
    }
    // Only the schemes are named: a proxy URL may carry credentials.
    let schemes: Vec<&str> = proxies.iter().map(|(scheme, _)| scheme.as_str()).collect();
    Err(options.invalid(
        PROXIES,
        format!(
            "proxies ({}) are not supported by this build; leave the option empty",
            schemes.join(", ")
        ),
    ))
}

fn is_http_url(location: &str) -> bool {
    let lower = |n: usize| location.get(..n).map(str::to_ascii_lowercase);
    lower(7).as_deref() == Some("http://") || lower(8).as_deref() == Some("https://")
}

impl HttpStore {
    fn parse_location(&self, location: &str) -> Result<crate::remote::ssrf::ParsedUrl, StoreError> {
        if !is_http_url(location) {
            return Err(StoreError::BadLocation(
                "the http store reads only http:// and https:// locations".into(),
            ));
        }
        self.fetcher.check(location)
    }
}

#[async_trait]
impl Store for HttpStore {
    fn info(&self) -> &StoreInfo {
        &self.info
    }

    /// Upstream's `StoreAddDisabled`.
    async fn begin_upload(
        &self,
        _target: &UploadTarget<'_>,
    ) -> Result<Box<dyn StoreWriter>, StoreError> {
        Err(StoreError::AddDisabled(
            "the http store is read-only".into(),
        ))
    }

    async fn open(
        &self,
        location: &str,
        range: Option<ByteRange>,
        _caller: &StoreCaller,
    ) -> Result<ObjectReader, StoreError> {
        let url = self.parse_location(location)?;
        let (url, response) = self.fetcher.fetch(&url, Method::GET, range).await?;
        let status = response.status();
        check_status(&url, status)?;
        let Some(range) = range else {
            if status == StatusCode::PARTIAL_CONTENT {
                return Err(StoreError::Backend(format!(
                    "{url} answered 206 to a request for the whole image"
                )));
            }
            let total_size = content_length(&url, &response)?;
            return Ok(ObjectReader {
                total_size,
                stream: window(body_stream(response), 0, total_size),
            });
        };
        let wanted = range.end - range.start + 1;
        let (total_size, skip) = if status == StatusCode::PARTIAL_CONTENT {
            let got = content_range(&url, &response)?;
            if got.first > range.start || got.last < range.end {
                return Err(StoreError::Backend(format!(
                    "{url} answered bytes {}-{} to a request for bytes {}-{}",
                    got.first, got.last, range.start, range.end
                )));
            }
            (got.total, range.start - got.first)
        } else {
            // The server ignored Range and sends the whole image: skip its head.
            let total = content_length(&url, &response)?;
            if range.end >= total {
                return Err(StoreError::Backend(format!(
                    "{url} holds {total} bytes, fewer than the range asked for"
                )));
            }
            tracing::debug!(%url, "http store: Range ignored by the server; skipping to the range");
            (total, range.start)
        };
        Ok(ObjectReader {
            total_size,
            stream: window(body_stream(response), skip, wanted),
        })
    }

    /// A HEAD's `Content-Length`; a server that refuses HEAD (405, 501) is
    /// asked with a GET whose body is never read.
    async fn size(&self, location: &str, _caller: &StoreCaller) -> Result<u64, StoreError> {
        let url = self.parse_location(location)?;
        let (mut answered, mut response) = self.fetcher.fetch(&url, Method::HEAD, None).await?;
        if matches!(
            response.status(),
            StatusCode::METHOD_NOT_ALLOWED | StatusCode::NOT_IMPLEMENTED
        ) {
            drop(response);
            (answered, response) = self.fetcher.fetch(&url, Method::GET, None).await?;
        }
        check_status(&answered, response.status())?;
        content_length(&answered, &response)
    }

    /// The data belongs to the web server: nothing is deleted there. Upstream
    /// raises `StoreDeleteNotSupported`, which glance logs and then goes on as if
    /// the data were gone; `Ok` says the same without an error to swallow.
    async fn delete(&self, location: &str, _caller: &StoreCaller) -> Result<(), StoreError> {
        if !is_http_url(location) {
            return Err(StoreError::BadLocation(
                "the http store reads only http:// and https:// locations".into(),
            ));
        }
        let shown = crate::remote::ssrf::ParsedUrl::parse(location)
            .map(|url| url.to_string())
            .unwrap_or_else(|_| "an unparseable URL".into());
        tracing::info!(location = %shown, "http store: image data left on the web server");
        Ok(())
    }

    fn owns(&self, location: &str) -> bool {
        is_http_url(location)
    }
}
