use crate::RequestContext;

/// How a request's identity is established (`[paste_deploy] flavor`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthMode {
    /// Empty/unset flavor: every request is an admin.
    NoAuth,
    /// `trusted-auth`: identity from `X-Identity-Status`, `X-Project-Id`, `X-User-Id`, `X-Roles`.
    TrustedHeaders,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("unknown [paste_deploy] flavor '{0}' (supported: none, trusted-auth)")]
    UnknownFlavor(String),
    /// 401: the proxy did not confirm the identity.
    #[error("This server could not verify that you are authorized to access the document you requested.")]
    Unauthenticated,
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
}

impl AuthMode {
    /// Maps `[paste_deploy] flavor` as upstream's paste pipelines do.
    pub fn from_flavor(flavor: Option<&str>) -> Result<AuthMode, AuthError> {
        match flavor.map(str::trim).unwrap_or("") {
            "" => Ok(AuthMode::NoAuth),
            "trusted-auth" | "trusted-headers" => Ok(AuthMode::TrustedHeaders),
            other => Err(AuthError::UnknownFlavor(other.to_string())),
        }
    }

    /// Builds the context of one request.
    pub fn authenticate(
        &self,
        headers: &IdentityHeaders<'_>,
        request_id: String,
    ) -> Result<RequestContext, AuthError> {
        match self {
            AuthMode::NoAuth => Ok(RequestContext::noauth_admin(request_id)),
            AuthMode::TrustedHeaders => {
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
                let is_admin = roles.iter().any(|r| r == "admin");
                let nonempty =
                    |v: Option<&str>| v.map(str::trim).filter(|v| !v.is_empty()).map(String::from);
                Ok(RequestContext {
                    request_id,
                    project_id: nonempty(headers.project_id)
                        .or_else(|| nonempty(headers.tenant_id)),
                    user_id: nonempty(headers.user_id),
                    roles,
                    is_admin,
                    authenticated: true,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flavors() {
        assert_eq!(AuthMode::from_flavor(None).unwrap(), AuthMode::NoAuth);
        assert_eq!(AuthMode::from_flavor(Some("")).unwrap(), AuthMode::NoAuth);
        assert_eq!(
            AuthMode::from_flavor(Some("trusted-auth")).unwrap(),
            AuthMode::TrustedHeaders
        );
        assert!(AuthMode::from_flavor(Some("bogus")).is_err());
    }

    #[test]
    fn trusted_headers_build_the_context() {
        let h = IdentityHeaders {
            identity_status: Some("Confirmed"),
            project_id: Some("p1"),
            user_id: Some("u1"),
            roles: Some("Member, reader"),
            ..Default::default()
        };
        let ctx = AuthMode::TrustedHeaders
            .authenticate(&h, "req-1".into())
            .unwrap();
        assert_eq!(ctx.project_id.as_deref(), Some("p1"));
        assert_eq!(ctx.roles, vec!["member", "reader"]);
        assert!(!ctx.is_admin);
        let legacy = IdentityHeaders {
            identity_status: Some("Confirmed"),
            tenant_id: Some("t9"),
            roles: Some("admin"),
            ..Default::default()
        };
        let ctx = AuthMode::TrustedHeaders
            .authenticate(&legacy, "r".into())
            .unwrap();
        assert_eq!(ctx.project_id.as_deref(), Some("t9"));
        assert!(ctx.is_admin);
    }

    #[test]
    fn unconfirmed_identity_is_refused() {
        let h = IdentityHeaders {
            identity_status: Some("Invalid"),
            project_id: Some("p"),
            ..Default::default()
        };
        assert_eq!(
            AuthMode::TrustedHeaders.authenticate(&h, "r".into()),
            Err(AuthError::Unauthenticated)
        );
        assert!(AuthMode::TrustedHeaders
            .authenticate(&IdentityHeaders::default(), "r".into())
            .is_err());
    }

    #[test]
    fn noauth_is_admin() {
        let ctx = AuthMode::NoAuth
            .authenticate(&IdentityHeaders::default(), "r".into())
            .unwrap();
        assert!(ctx.is_admin);
        assert_eq!(ctx.project_id, None);
    }
}
