//! One GET or HEAD to a web server, following redirects the way upstream's
//! `_query` does, with every hop re-checked by the URL filter.

use std::sync::Arc;
use std::time::Duration;

use hyper::header::{HeaderValue, ACCEPT_ENCODING, AUTHORIZATION, LOCATION, RANGE, USER_AGENT};
use hyper::{Method, Request, StatusCode, Uri};

use crate::remote::ssrf::{Credentials, ParsedUrl, UriFilter};
use crate::remote::{empty_body, AddressFilter, HttpClient, Response, TlsOptions};
use crate::{ByteRange, StoreError};

/// Upstream's `MAX_REDIRECTS`: at most this many requests per call, so a chain
/// of `MAX_REDIRECTS - 1` redirects is followed and one more is an error.
pub const MAX_REDIRECTS: usize = 5;

/// How long a server may take to start answering (not to send a whole image).
const ANSWER_TIMEOUT: Duration = Duration::from_secs(60);

/// Sends requests for the store: through a client whose resolver checks every
/// address against the filter, or, for host names the operator listed in
/// `allowed_hosts`, through one that trusts what they resolve to.
pub(super) struct Fetcher {
    filter: Arc<UriFilter>,
    checked: HttpClient,
    trusted: HttpClient,
}

impl Fetcher {
    /// `Err` is the reason the TLS setup failed (a CA file that cannot be used).
    pub(super) fn new(filter: UriFilter, tls: &TlsOptions) -> Result<Fetcher, String> {
        let filter = Arc::new(filter);
        let address_filter: Arc<dyn AddressFilter> = filter.clone();
        Ok(Fetcher {
            checked: HttpClient::new(tls, Some(address_filter), ANSWER_TIMEOUT)?,
            trusted: HttpClient::new(tls, None, ANSWER_TIMEOUT)?,
            filter,
        })
    }

    /// Parses and checks a location an untrusted caller gave.
    pub(super) fn check(&self, location: &str) -> Result<ParsedUrl, StoreError> {
        self.filter
            .check_url(location)
            .map_err(StoreError::LocationRefused)
    }

    /// Sends `method` to `url`, following redirects; returns the URL that
    /// answered and its answer, whatever its status (redirects aside).
    pub(super) async fn fetch(
        &self,
        url: &ParsedUrl,
        method: Method,
        range: Option<ByteRange>,
    ) -> Result<(ParsedUrl, Response), StoreError> {
        let mut current = url.clone();
        for _ in 0..MAX_REDIRECTS {
            let response = self.send_once(&current, &method, range).await?;
            if !response.status().is_redirection() {
                return Ok((current, response));
            }
            current = self.redirect_target(&current, &response)?;
            tracing::debug!(from = %url, to = %current, "http store: following a redirect");
        }
        Err(StoreError::Backend(format!(
            "{url}: more than {} redirects",
            MAX_REDIRECTS - 1
        )))
    }

    /// Where a 3xx answer sends us, checked like the first URL.
    fn redirect_target(
        &self,
        current: &ParsedUrl,
        response: &Response,
    ) -> Result<ParsedUrl, StoreError> {
        let status = response.status();
        if !matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308) {
            return Err(StoreError::Backend(format!(
                "{current} answered {status}, which is not a redirect that can be followed"
            )));
        }
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|value| value.to_str().ok())
            .ok_or_else(|| {
                StoreError::Backend(format!(
                    "{current} answered {status} without a usable Location"
                ))
            })?;
        let target = current.redirect_target(location).map_err(|reason| {
            StoreError::LocationRefused(format!("redirect from {current}: {reason}"))
        })?;
        self.filter.check_parsed(&target).map_err(|reason| {
            StoreError::LocationRefused(format!("redirect from {current}: {reason}"))
        })?;
        Ok(target)
    }

    async fn send_once(
        &self,
        url: &ParsedUrl,
        method: &Method,
        range: Option<ByteRange>,
    ) -> Result<Response, StoreError> {
        let uri: Uri = url
            .request_uri()
            .parse()
            .map_err(|_| StoreError::LocationRefused(format!("{url} is not a valid request")))?;
        let mut request = Request::builder()
            .method(method.clone())
            .uri(uri)
            // The bytes must be the image's, not a compressed form of them.
            .header(ACCEPT_ENCODING, "identity")
            .header(USER_AGENT, concat!("glance-rs/", env!("CARGO_PKG_VERSION")));
        if let Some(credentials) = url.credentials() {
            request = request.header(AUTHORIZATION, basic_auth(credentials)?);
        }
        if let Some(range) = range {
            request = request.header(RANGE, format!("bytes={}-{}", range.start, range.end));
        }
        let request = request
            .body(empty_body())
            .map_err(|_| StoreError::LocationRefused(format!("{url} is not a valid request")))?;
        let client = if self.filter.is_listed_name(url) {
            &self.trusted
        } else {
            &self.checked
        };
        client.send(request).await
    }
}

/// The error for a final answer that is not a success, as upstream's
/// `_check_store_uri`: 404 is `NotFound`, other client errors say the location
/// is bad; server errors are the backend's.
pub(super) fn check_status(url: &ParsedUrl, status: StatusCode) -> Result<(), StoreError> {
    if status.is_success() {
        return Ok(());
    }
    Err(match status {
        StatusCode::NOT_FOUND => StoreError::NotFound(format!("{url} answered {status}")),
        StatusCode::RANGE_NOT_SATISFIABLE => StoreError::Backend(format!(
            "{url} answered {status}: the object changed size since it was measured"
        )),
        s if s.is_client_error() => StoreError::BadLocation(format!("{url} answered {status}")),
        _ => StoreError::Backend(format!("{url} answered {status}")),
    })
}

/// `Authorization: Basic ...`, marked sensitive so it never shows in debug output.
fn basic_auth(credentials: &Credentials) -> Result<HeaderValue, StoreError> {
    let token = base64(format!("{}:{}", credentials.user, credentials.password).as_bytes());
    let mut value = HeaderValue::from_str(&format!("Basic {token}"))
        .map_err(|_| StoreError::LocationRefused("unusable credentials in the URL".into()))?;
    value.set_sensitive(true);
    Ok(value)
}

/// Standard base64 with padding (RFC 4648), for the Basic credentials.
fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for group in input.chunks(3) {
        let bytes = [
            group[0],
            *group.get(1).unwrap_or(&0),
            *group.get(2).unwrap_or(&0),
        ];
        let n = u32::from_be_bytes([0, bytes[0], bytes[1], bytes[2]]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= group.len() {
                out.push(ALPHABET[(n >> shift & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (input, expected) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(super::base64(input.as_bytes()), expected);
        }
    }
}
