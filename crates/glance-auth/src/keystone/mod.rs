//! Keystone token validation (keystonemiddleware auth_token, in Rust).
//!
//! [`KeystoneAuth::authenticate`] turns the `X-Auth-Token` (and optional
//! `X-Service-Token`) of a request into a [`RequestContext`], asking Keystone
//! v3 (`GET /v3/auth/tokens`) with a service token of our own, and caching the
//! answers. Behaviour follows keystonemiddleware:
//!
//! * A service token holding one of `service_token_roles` adds the service
//!   identity to the context and lets an expired user token through
//!   (`allow_expired`, within Keystone's window). Without such a role it is
//!   invalid when `service_token_roles_required`, else accepted with a warning.
//! * Unscoped tokens are valid (the context then has no project).
//! * Keystone unreachable: 503, or with `delay_auth_decision` an invalid token
//!   (401). Tokens already in the cache keep working meanwhile.
//! * `is_admin` is left false: the policy engine decides it.
//!
//! Deliberate differences: tokens are validated at `auth_url` rather than at
//! the identity endpoint of the catalog; the catalog is never requested (no
//! `X-Service-Catalog`); application credentials restricted by access rules are
//! refused (Keystone does so for a validator that does not announce support);
//! token binding is not checked (upstream's default `permissive` ignores binds
//! it does not know); refused tokens are remembered for a few seconds.

mod cache;
mod config;
mod error;
#[cfg(test)]
mod flow_tests;
mod identity;
mod token;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;

use crate::RequestContext;
use cache::{cache_key, Cached, TokenCache};
pub use config::{KeystoneConfig, KeystoneConfigError, DEFAULT_HTTP_TIMEOUT};
pub use error::{KeystoneError, UNAUTHORIZED_MESSAGE, UNAVAILABLE_MESSAGE};
use identity::{IdentityClient, ServiceAuth, Validation};
use token::TokenInfo;

/// Longest token header accepted. Keystone fernet tokens are under 300 bytes
/// and JWS tokens under 1 KiB; anything longer is refused without asking
/// Keystone, so a client cannot make us forward huge headers.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// Validates tokens against one Keystone. Cheap to clone: clones share the
/// connection pool, the service token and the cache.
#[derive(Clone)]
pub struct KeystoneAuth {
    inner: Arc<Inner>,
}

struct Inner {
    config: KeystoneConfig,
    www_authenticate: String,
    identity: IdentityClient,
    service: ServiceAuth,
    cache: TokenCache,
    roles_warning_emitted: AtomicBool,
}

impl KeystoneAuth {
    /// Checks the settings; Keystone is first contacted by the first request
    /// that needs it, so the API can start while Keystone is still down.
    pub fn new(config: KeystoneConfig) -> Result<Self, KeystoneConfigError> {
        config.validate()?;
        if !config.service_token_roles_required {
            tracing::warn!(
                "[keystone_authtoken] service_token_roles_required is false: any valid \
                 token is accepted as a service token"
            );
        }
        if config.www_authenticate_uri.is_none() {
            tracing::warn!(
                "[keystone_authtoken] www_authenticate_uri is not set; 401 responses \
                 point clients at auth_url"
            );
        }
        Ok(KeystoneAuth {
            inner: Arc::new(Inner {
                www_authenticate: config.www_authenticate(),
                identity: IdentityClient::new(&config)?,
                service: ServiceAuth::new(&config),
                cache: TokenCache::new(config.token_cache_time, config.token_cache_max_entries),
                roles_warning_emitted: AtomicBool::new(false),
                config,
            }),
        })
    }

    pub fn config(&self) -> &KeystoneConfig {
        &self.inner.config
    }

    /// `Keystone uri="<www_authenticate_uri>"`: upstream puts it on every 401
    /// that leaves the pipeline, including those raised further down.
    pub fn www_authenticate(&self) -> &str {
        &self.inner.www_authenticate
    }

    /// The identity of one request. `user_token` is `X-Auth-Token`,
    /// `service_token` is `X-Service-Token`.
    pub async fn authenticate(
        &self,
        user_token: Option<&str>,
        service_token: Option<&str>,
        request_id: String,
    ) -> Result<RequestContext, KeystoneError> {
        let user_token = checked_token(user_token)?.ok_or(KeystoneError::Missing)?;
        let (service, allow_expired) = self.service_identity(service_token, &request_id).await?;
        let user = match self.validate(user_token, allow_expired).await {
            Ok(info) => info,
            Err(KeystoneError::Unavailable(why)) if self.inner.config.delay_auth_decision => {
                tracing::error!(request_id, %why, "cannot validate the token; treating it as invalid");
                return Err(KeystoneError::Invalid(format!(
                    "Keystone unavailable: {why}"
                )));
            }
            Err(error) => {
                log_refusal(&request_id, "user", &error);
                return Err(error);
            }
        };
        Ok(RequestContext {
            request_id,
            project_id: user.project_id.clone(),
            project_domain_id: user.project_domain_id.clone(),
            user_id: Some(user.user_id.clone()),
            user_domain_id: user.user_domain_id.clone(),
            domain_id: user.domain_id.clone(),
            system_scope: user.system_scope.clone(),
            roles: user.roles.clone(),
            service_roles: service
                .as_ref()
                .map(|s| s.roles.clone())
                .unwrap_or_default(),
            service_user_id: service.as_ref().map(|s| s.user_id.clone()),
            service_project_id: service.as_ref().and_then(|s| s.project_id.clone()),
            is_admin: false,
            authenticated: true,
            auth_token: Some(user_token.to_string()),
        })
    }

    /// Judges `X-Service-Token`: the service identity to add (if any) and
    /// whether it may vouch for an expired user token. An unusable service
    /// token fails the request, or with `delay_auth_decision` is ignored (as
    /// Glance ignores `X-Service-Identity-Status: Invalid`).
    async fn service_identity(
        &self,
        service_token: Option<&str>,
        request_id: &str,
    ) -> Result<(Option<Arc<TokenInfo>>, bool), KeystoneError> {
        let config = &self.inner.config;
        let refused = |error: KeystoneError| {
            log_refusal(request_id, "service", &error);
            if config.delay_auth_decision {
                Ok((None, false))
            } else {
                Err(match error {
                    KeystoneError::Invalid(why) => {
                        KeystoneError::Invalid(format!("service token: {why}"))
                    }
                    KeystoneError::Expired => {
                        KeystoneError::Invalid("service token: expired".into())
                    }
                    other => other,
                })
            }
        };
        let token = match checked_token(service_token) {
            Ok(Some(token)) => token,
            Ok(None) => return Ok((None, false)),
            Err(error) => return refused(error),
        };
        let info = match self.validate(token, false).await {
            Ok(info) => info,
            Err(error) => return refused(error),
        };
        if info.has_any_role(&config.service_token_roles) {
            return Ok((Some(info), true));
        }
        if config.service_token_roles_required {
            return refused(KeystoneError::Invalid(format!(
                "it has none of the service_token_roles {:?}",
                config.service_token_roles
            )));
        }
        if !self
            .inner
            .roles_warning_emitted
            .swap(true, Ordering::Relaxed)
        {
            tracing::warn!(
                request_id,
                "a valid token without a service role was sent as X-Service-Token; accepted \
                 because service_token_roles_required is false"
            );
        }
        Ok((Some(info), false))
    }

    /// One token, from the cache or from Keystone. `allow_expired` (a trusted
    /// service vouches for the request) lets an expired token through and
    /// ignores a remembered refusal, which may have been only its expiry.
    async fn validate(
        &self,
        token: &str,
        allow_expired: bool,
    ) -> Result<Arc<TokenInfo>, KeystoneError> {
        let inner = &self.inner;
        let key = cache_key(token);
        match inner.cache.get(&key, Instant::now()) {
            Some(Cached::Valid(info)) => {
                if allow_expired || !info.expired_at(Utc::now()) {
                    return Ok(info);
                }
                inner.cache.remove(&key);
                return Err(KeystoneError::Expired);
            }
            Some(Cached::Invalid) if !allow_expired => {
                return Err(KeystoneError::Invalid(
                    "Keystone refused this token moments ago".into(),
                ));
            }
            _ => {}
        }
        let info = match self.ask_keystone(token, allow_expired).await? {
            Ok(info) => Arc::new(info),
            Err(why) => {
                if !allow_expired {
                    inner.cache.put_invalid(key, Instant::now());
                }
                return Err(KeystoneError::Invalid(why));
            }
        };
        let now = Utc::now();
        if !allow_expired && info.expired_at(now) {
            return Err(KeystoneError::Expired);
        }
        inner
            .cache
            .put_valid(key, info.clone(), Instant::now(), now);
        Ok(info)
    }

    /// Keystone's verdict on `token`: the token data, or why it is refused.
    /// When Keystone refuses our service token (expired early, revoked, keys
    /// rotated) logs in again and asks once more.
    async fn ask_keystone(
        &self,
        token: &str,
        allow_expired: bool,
    ) -> Result<Result<TokenInfo, String>, KeystoneError> {
        let inner = &self.inner;
        for _ in 0..2 {
            let service = inner.service.token(&inner.identity).await?;
            match inner
                .identity
                .validate(&service, token, allow_expired)
                .await?
            {
                Validation::Valid(info) => return Ok(Ok(info)),
                Validation::Invalid(why) => return Ok(Err(why)),
                Validation::ServiceTokenRefused => {
                    tracing::info!("Keystone refused our service token; logging in again");
                    inner.service.forget(&service).await;
                }
            }
        }
        Err(KeystoneError::Unavailable(
            "Keystone rejected the service token needed to validate tokens".into(),
        ))
    }
}

/// The token of a header, or None when there is none. Surrounding blanks are
/// dropped as upstream does; what is left must be visible ASCII (what every
/// Keystone token format uses) and at most [`MAX_TOKEN_BYTES`].
fn checked_token(raw: Option<&str>) -> Result<Option<&str>, KeystoneError> {
    let Some(token) = raw.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if token.len() > MAX_TOKEN_BYTES {
        return Err(KeystoneError::Invalid(format!(
            "token longer than {MAX_TOKEN_BYTES} bytes"
        )));
    }
    if !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(KeystoneError::Invalid(
            "token contains characters no Keystone token has".into(),
        ));
    }
    Ok(Some(token))
}

fn log_refusal(request_id: &str, which: &str, error: &KeystoneError) {
    match error {
        KeystoneError::Unavailable(why) => {
            tracing::error!(request_id, which, %why, "cannot validate token")
        }
        other => tracing::info!(request_id, which, reason = %other, "token refused"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_headers_are_checked_before_keystone() {
        assert_eq!(checked_token(None), Ok(None));
        assert_eq!(checked_token(Some("  ")), Ok(None));
        assert_eq!(
            checked_token(Some(" gAAAAAB-x_y= ")),
            Ok(Some("gAAAAAB-x_y="))
        );
        let huge = "a".repeat(MAX_TOKEN_BYTES + 1);
        assert!(matches!(
            checked_token(Some(&huge)),
            Err(KeystoneError::Invalid(_))
        ));
        let largest = "a".repeat(MAX_TOKEN_BYTES);
        assert!(checked_token(Some(&largest)).is_ok());
        for bad in ["tök", "a b", "a\tb", "a\u{7f}b"] {
            assert!(
                matches!(checked_token(Some(bad)), Err(KeystoneError::Invalid(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn new_refuses_bad_config() {
        let err = KeystoneAuth::new(KeystoneConfig::default()).err().unwrap();
        assert_eq!(err.option, "auth_url");
    }

    #[tokio::test]
    async fn garbage_never_reaches_keystone() {
        // auth_url points nowhere: if a call were made the answer would be
        // Unavailable, not Invalid/Missing.
        let auth = KeystoneAuth::new(KeystoneConfig {
            auth_url: Some("http://127.0.0.1:9".into()),
            auth_type: Some("password".into()),
            username: Some("u".into()),
            password: Some("p".into()),
            project_name: Some("service".into()),
            project_domain_id: Some("default".into()),
            user_domain_id: Some("default".into()),
            http_request_max_retries: 0,
            ..Default::default()
        })
        .unwrap();
        let huge = "x".repeat(MAX_TOKEN_BYTES * 4);
        let r = auth.authenticate(Some(&huge), None, "req-1".into()).await;
        assert!(matches!(r, Err(KeystoneError::Invalid(_))));
        let r = auth
            .authenticate(Some("bad\u{e9}"), None, "req-2".into())
            .await;
        assert!(matches!(r, Err(KeystoneError::Invalid(_))));
        assert_eq!(
            auth.authenticate(None, None, "req-3".into()).await,
            Err(KeystoneError::Missing)
        );
        assert_eq!(
            auth.authenticate(Some(""), Some("svc"), "req-4".into())
                .await,
            Err(KeystoneError::Missing)
        );
        assert_eq!(
            auth.www_authenticate(),
            "Keystone uri=\"http://127.0.0.1:9\""
        );
        // And a well-formed token does reach (the absent) Keystone.
        let r = auth.authenticate(Some("gAAAA"), None, "req-5".into()).await;
        assert!(matches!(r, Err(KeystoneError::Unavailable(_))), "{r:?}");
    }
}
