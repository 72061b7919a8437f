//! Getting and keeping a Swift token for one account reference: Swift's own v1 auth
//! (tempauth), Keystone v2.0 and Keystone v3 with a service-catalog lookup, the
//! storage URL overridable by `swift_store_endpoint`.
//!
//! The token is cached and replaced when it is within `swift_store_expire_soon_interval`
//! of expiring (upstream's connection manager), or after Swift answered 401 to it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use hyper::{Method, Request, StatusCode};
use serde_json::Value;

use super::keystone::{self, CatalogQuery, TokenFacts};
use super::settings::{AuthVersion, Reference};
use crate::remote::{empty_body, full_body, read_small_body, HttpClient, Response};
use crate::StoreError;

/// Keystone token answers are a few KiB (bigger with large catalogs).
const MAX_AUTH_ANSWER: usize = 4 << 20;

/// A token and the storage URL it is good for.
pub(crate) struct Token {
    pub value: String,
    pub storage_url: String,
    expires: Option<SystemTime>,
    /// Tells a stale 401 from one for the current token.
    pub generation: u64,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Token")
            .field("storage_url", &self.storage_url)
            .field("expires", &self.expires)
            .finish_non_exhaustive()
    }
}

/// What a session needs besides the reference.
#[derive(Debug, Clone)]
pub(crate) struct AuthContext {
    pub catalog: CatalogQuery,
    /// `swift_store_endpoint`.
    pub endpoint: Option<String>,
    pub expire_soon: Duration,
}

/// The cached token of one reference.
pub(crate) struct AuthSession {
    http: HttpClient,
    reference: Reference,
    context: AuthContext,
    current: tokio::sync::Mutex<Option<Arc<Token>>>,
    generations: AtomicU64,
}

impl AuthSession {
    pub(crate) fn new(http: HttpClient, reference: Reference, context: AuthContext) -> Self {
        AuthSession {
            http,
            reference,
            context,
            current: tokio::sync::Mutex::new(None),
            generations: AtomicU64::new(0),
        }
    }

    /// A token that does not expire within the expire-soon window. Concurrent callers
    /// wait for one authentication instead of each starting their own.
    pub(crate) async fn token(&self) -> Result<Arc<Token>, StoreError> {
        let mut current = self.current.lock().await;
        if let Some(token) = current.as_ref() {
            let fresh = match token.expires {
                None => true,
                Some(at) => SystemTime::now() + self.context.expire_soon < at,
            };
            if fresh {
                return Ok(token.clone());
            }
        }
        let token = Arc::new(self.authenticate().await?);
        *current = Some(token.clone());
        Ok(token)
    }

    /// Forgets the token of `generation` (Swift refused it), so the next call
    /// authenticates again.
    pub(crate) async fn invalidate(&self, generation: u64) {
        let mut current = self.current.lock().await;
        if current.as_ref().is_some_and(|t| t.generation == generation) {
            *current = None;
        }
    }

    async fn authenticate(&self) -> Result<Token, StoreError> {
        let auth_url = self.reference.auth_url();
        let (value, facts) = match self.reference.auth_version {
            AuthVersion::V1 => self.v1(&auth_url).await?,
            AuthVersion::V2 => self.v2(&auth_url).await?,
            AuthVersion::V3 => self.v3(&auth_url).await?,
        };
        let storage_url = self
            .context
            .endpoint
            .clone()
            .or(facts.storage_url)
            .ok_or_else(|| {
                StoreError::Backend(format!(
                    "no '{}' endpoint (interface {}, region {}) in the service catalog from {}",
                    self.context.catalog.service_type,
                    self.context.catalog.interface,
                    self.context.catalog.region.as_deref().unwrap_or("any"),
                    host_of(&auth_url)
                ))
            })?;
        Ok(Token {
            value,
            storage_url,
            expires: facts.expires,
            generation: self.generations.fetch_add(1, Ordering::Relaxed) + 1,
        })
    }

    /// Swift v1 auth: `GET <auth>` with `X-Auth-User`/`X-Auth-Key`.
    async fn v1(&self, auth_url: &str) -> Result<(String, TokenFacts), StoreError> {
        let super::settings::Identity::Password { user, key } = &self.reference.identity else {
            return Err(StoreError::Backend(
                "application credentials need Keystone v3 (auth_version = 3)".into(),
            ));
        };
        let request = Request::builder()
            .method(Method::GET)
            .uri(auth_url)
            .header("X-Auth-User", user)
            .header("X-Auth-Key", key)
            .body(empty_body())
            .map_err(|_| bad_auth_address(auth_url))?;
        let response = self.send(auth_url, request).await?;
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let token = header("x-auth-token").or_else(|| header("x-storage-token"));
        let facts = TokenFacts {
            storage_url: header("x-storage-url"),
            expires: header("x-auth-token-expires")
                .and_then(|s| s.trim().parse::<u64>().ok())
                .map(|secs| SystemTime::now() + Duration::from_secs(secs)),
        };
        drain(response).await;
        let token = token.ok_or_else(|| {
            StoreError::Backend(format!("{} sent no X-Auth-Token", host_of(auth_url)))
        })?;
        Ok((token, facts))
    }

    /// Keystone v2.0: the token is in the body.
    async fn v2(&self, auth_url: &str) -> Result<(String, TokenFacts), StoreError> {
        let body = keystone::v2_request(&self.reference).map_err(StoreError::Backend)?;
        let url = keystone::v2_tokens_url(auth_url);
        let (_, answer) = self.post_json(&url, &body).await?;
        let (token, facts) = keystone::v2_facts(&answer, &self.context.catalog);
        let token = token
            .ok_or_else(|| StoreError::Backend(format!("{} sent no token", host_of(auth_url))))?;
        Ok((token, facts))
    }

    /// Keystone v3: the token is the `X-Subject-Token` header.
    async fn v3(&self, auth_url: &str) -> Result<(String, TokenFacts), StoreError> {
        let body = keystone::v3_request(&self.reference).map_err(StoreError::Backend)?;
        let url = keystone::v3_tokens_url(auth_url);
        let (token, answer) = self.post_json(&url, &body).await?;
        let token = token.ok_or_else(|| {
            StoreError::Backend(format!("{} sent no X-Subject-Token", host_of(auth_url)))
        })?;
        Ok((token, keystone::v3_facts(&answer, &self.context.catalog)))
    }

    /// POSTs a JSON auth request; returns the `X-Subject-Token` header and the body.
    async fn post_json(
        &self,
        url: &str,
        body: &Value,
    ) -> Result<(Option<String>, Value), StoreError> {
        let request = Request::builder()
            .method(Method::POST)
            .uri(url)
            .header("Content-Type", "application/json")
            .header("Accept", "application/json")
            .body(full_body(Bytes::from(body.to_string())))
            .map_err(|_| bad_auth_address(url))?;
        let response = self.send(url, request).await?;
        let subject = response
            .headers()
            .get("x-subject-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let raw = read_small_body(response, MAX_AUTH_ANSWER).await?;
        let answer = serde_json::from_slice(&raw).map_err(|_| {
            StoreError::Backend(format!(
                "{} sent a token answer that is not JSON",
                host_of(url)
            ))
        })?;
        Ok((subject, answer))
    }

    /// Sends an auth request; a refusal names the host and status only.
    async fn send(
        &self,
        url: &str,
        request: Request<crate::remote::RequestBody>,
    ) -> Result<Response, StoreError> {
        let response = self.http.send(request).await?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        drain(response).await;
        let what = match status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => "refused the credentials",
            _ => "failed",
        };
        Err(StoreError::Backend(format!(
            "Swift authentication at {} {what} ({status})",
            host_of(url)
        )))
    }
}

fn bad_auth_address(url: &str) -> StoreError {
    StoreError::Backend(format!(
        "the auth address of {} is not a valid URL",
        host_of(url)
    ))
}

/// `host[:port]` of a URL, without any user info, for messages.
pub(crate) fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split('/').next().unwrap_or_default();
    authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host)
        .to_string()
}

/// Reads and drops a short answer so its connection can be reused.
pub(crate) async fn drain(response: Response) {
    let _ = read_small_body(response, 64 * 1024).await;
}
