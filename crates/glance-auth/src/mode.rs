use std::sync::Arc;

use crate::keystone::{KeystoneAuth, KeystoneError};
use crate::policy::Enforcer;
use crate::RequestContext;

/// How a request's identity is established (`[paste_deploy] flavor`).
#[derive(Clone)]
pub enum AuthMode {
    /// Empty/unset flavor: every request is an admin.
    NoAuth,
    /// `trusted-auth`: identity from `X-Identity-Status`, `X-Project-Id`, `X-User-Id`, `X-Roles`.
    TrustedHeaders,
    /// `keystone`: `X-Auth-Token` validated against Keystone.
    Keystone(KeystoneAuth),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("unknown [paste_deploy] flavor '{0}' (supported: empty for no authentication, keystone, trusted-auth; each optionally followed by +cache or +cachemanagement)")]
    UnknownFlavor(String),
    /// 401: the proxy did not confirm the identity.
    #[error("This server could not verify that you are authorized to access the document you requested.")]
    Unauthenticated,
    /// 401 or 503 from token validation.
    #[error(transparent)]
    Keystone(#[from] KeystoneError),
}

/// The identity headers of one request, as the HTTP layer hands them over.
#[derive(Debug, Default, Clone)]
pub struct IdentityHeaders<'a> {
    pub identity_status: Option<&'a str>,
    pub project_id: Option<&'a str>,
    /// Legacy spelling `X-Tenant-Id` / `X-Tenant`.
    pub tenant_id: Option<&'a str>,
    pub user_id: Option<&'a str>,
    /// Comma-separated.
    pub roles: Option<&'a str>,
    /// `X-Auth-Token`.
    pub auth_token: Option<&'a str>,
    /// `X-Service-Token`.
    pub service_token: Option<&'a str>,
}

/// The identity part of a `[paste_deploy] flavor`. Upstream's pipelines combine it
/// with cache filters (`keystone+cachemanagement`, `caching`, ...), which change
/// nothing about identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    NoAuth,
    TrustedAuth,
    Keystone,
}

impl Flavor {
    pub fn parse(flavor: Option<&str>) -> Result<Flavor, AuthError> {
        let flavor = flavor.map(str::trim).unwrap_or("");
        let identity = flavor.split('+').next().unwrap_or("").trim();
        match identity {
            "" | "caching" | "cachemanagement" => Ok(Flavor::NoAuth),
            "trusted-auth" | "trusted-headers" => Ok(Flavor::TrustedAuth),
            "keystone" => Ok(Flavor::Keystone),
            _ => Err(AuthError::UnknownFlavor(flavor.to_string())),
        }
    }
}

/// Builds each request's [`RequestContext`]: the identity from the configured
/// mode, then `is_admin` from the `context_is_admin` policy rule, as upstream's
/// context does.
#[derive(Clone)]
pub struct Authenticator {
    mode: AuthMode,
    policy: Arc<Enforcer>,
    /// `[DEFAULT] allow_anonymous_access`: no token gives an anonymous context
    /// (which the default policy then refuses everything) instead of 401.
    allow_anonymous: bool,
}

impl Authenticator {
    pub fn new(mode: AuthMode, policy: Arc<Enforcer>, allow_anonymous: bool) -> Self {
        Authenticator {
            mode,
            policy,
            allow_anonymous,
        }
    }

    pub fn mode(&self) -> &AuthMode {
        &self.mode
    }

    pub fn policy(&self) -> &Arc<Enforcer> {
        &self.policy
    }

    /// The `WWW-Authenticate` value every 401 carries (Keystone mode only).
    pub fn www_authenticate(&self) -> Option<&str> {
        match &self.mode {
            AuthMode::Keystone(k) => Some(k.www_authenticate()),
            _ => None,
        }
    }

    /// The context of one request, or why there is none.
    pub async fn authenticate(
        &self,
        headers: &IdentityHeaders<'_>,
        request_id: String,
    ) -> Result<RequestContext, AuthError> {
        let mut ctx = match &self.mode {
            // Every request is an admin; the policy is not asked.
            AuthMode::NoAuth => return Ok(RequestContext::noauth_admin(request_id)),
            AuthMode::TrustedHeaders => match trusted_context(headers, request_id.clone()) {
                Err(AuthError::Unauthenticated) if self.allow_anonymous => anonymous(request_id),
                other => other?,
            },
            AuthMode::Keystone(keystone) => match keystone
                .authenticate(
                    headers.auth_token,
                    headers.service_token,
                    request_id.clone(),
                )
                .await
            {
                Err(KeystoneError::Missing) if self.allow_anonymous => anonymous(request_id),
                other => other?,
            },
        };
        ctx.is_admin = self.policy.is_admin(&ctx);
        Ok(ctx)
    }
}

fn anonymous(request_id: String) -> RequestContext {
    RequestContext {
        request_id,
        authenticated: false,
        ..Default::default()
    }
}

fn trusted_context(
    headers: &IdentityHeaders<'_>,
    request_id: String,
) -> Result<RequestContext, AuthError> {
    if headers.identity_status.map(str::trim) != Some("Confirmed") {
        return Err(AuthError::Unauthenticated);
    }
    let roles: Vec<String> = headers
        .roles
        .unwrap_or("")
        .split(',')
        .map(|r| r.trim().to_ascii_lowercase())
        .filter(|r| !r.is_empty())
        .collect();
    let nonempty = |v: Option<&str>| v.map(str::trim).filter(|v| !v.is_empty()).map(String::from);
    Ok(RequestContext {
        request_id,
        project_id: nonempty(headers.project_id).or_else(|| nonempty(headers.tenant_id)),
        user_id: nonempty(headers.user_id),
        roles,
        authenticated: true,
        auth_token: nonempty(headers.auth_token),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trusted() -> Authenticator {
        Authenticator::new(
            AuthMode::TrustedHeaders,
            Arc::new(Enforcer::with_defaults()),
            false,
        )
    }

    #[test]
    fn flavors() {
        assert_eq!(Flavor::parse(None).unwrap(), Flavor::NoAuth);
        assert_eq!(Flavor::parse(Some("")).unwrap(), Flavor::NoAuth);
        assert_eq!(Flavor::parse(Some("caching")).unwrap(), Flavor::NoAuth);
        assert_eq!(
            Flavor::parse(Some("trusted-auth")).unwrap(),
            Flavor::TrustedAuth
        );
        assert_eq!(
            Flavor::parse(Some("keystone+cachemanagement")).unwrap(),
            Flavor::Keystone
        );
        assert!(Flavor::parse(Some("bogus")).is_err());
    }

    #[tokio::test]
    async fn trusted_headers_build_the_context() {
        let h = IdentityHeaders {
            identity_status: Some("Confirmed"),
            project_id: Some("p1"),
            user_id: Some("u1"),
            roles: Some("Member, reader"),
            ..Default::default()
        };
        let ctx = trusted().authenticate(&h, "req-1".into()).await.unwrap();
        assert_eq!(ctx.project_id.as_deref(), Some("p1"));
        assert_eq!(ctx.roles, vec!["member", "reader"]);
        assert!(!ctx.is_admin);
        let legacy = IdentityHeaders {
            identity_status: Some("Confirmed"),
            tenant_id: Some("t9"),
            roles: Some("ADMIN"),
            ..Default::default()
        };
        let ctx = trusted().authenticate(&legacy, "r".into()).await.unwrap();
        assert_eq!(ctx.project_id.as_deref(), Some("t9"));
        // Roles are lower-cased before the context_is_admin rule sees them.
        assert!(ctx.is_admin);
    }

    #[tokio::test]
    async fn unconfirmed_identity_is_refused_unless_anonymous_is_allowed() {
        let h = IdentityHeaders {
            identity_status: Some("Invalid"),
            project_id: Some("p"),
            ..Default::default()
        };
        assert_eq!(
            trusted().authenticate(&h, "r".into()).await,
            Err(AuthError::Unauthenticated)
        );
        let open = Authenticator::new(
            AuthMode::TrustedHeaders,
            Arc::new(Enforcer::with_defaults()),
            true,
        );
        let ctx = open.authenticate(&h, "r".into()).await.unwrap();
        assert!(!ctx.authenticated && !ctx.is_admin && ctx.project_id.is_none());
    }

    #[tokio::test]
    async fn noauth_is_admin() {
        let auth = Authenticator::new(AuthMode::NoAuth, Arc::new(Enforcer::with_defaults()), false);
        let ctx = auth
            .authenticate(&IdentityHeaders::default(), "r".into())
            .await
            .unwrap();
        assert!(ctx.is_admin);
        assert_eq!(ctx.project_id, None);
    }
}
