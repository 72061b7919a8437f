/// The caller of one request, as policy and visibility rules see it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RequestContext {
    pub request_id: String,
    /// The project (tenant) the caller acts for; None for noauth and anonymous callers.
    pub project_id: Option<String>,
    pub project_domain_id: Option<String>,
    pub user_id: Option<String>,
    pub user_domain_id: Option<String>,
    /// Set for a domain-scoped token.
    pub domain_id: Option<String>,
    /// `Some("all")` for a system-scoped token.
    pub system_scope: Option<String>,
    /// Lower-cased role names (Keystone already expanded implied roles).
    pub roles: Vec<String>,
    /// Roles of the `X-Service-Token`, lower-cased; empty without one.
    pub service_roles: Vec<String>,
    pub service_user_id: Option<String>,
    pub service_project_id: Option<String>,
    /// The result of the `context_is_admin` policy rule (noauth: always true).
    pub is_admin: bool,
    /// False for anonymous read-only access.
    pub authenticated: bool,
    /// The caller's token, kept for calls made on the caller's behalf; never logged.
    pub auth_token: Option<String>,
}

impl RequestContext {
    /// Upstream's unauthenticated pipeline: admin, no project. Unlike upstream, whose
    /// context has no roles (so its default policy refuses every write), ours carries
    /// the admin role so the embedded default is fully usable.
    pub fn noauth_admin(request_id: String) -> Self {
        RequestContext {
            request_id,
            roles: vec!["admin".into()],
            is_admin: true,
            authenticated: true,
            ..Default::default()
        }
    }

    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }

    /// Whether `owner` is the caller's project.
    pub fn owns(&self, owner: Option<&str>) -> bool {
        match (&self.project_id, owner) {
            (Some(p), Some(o)) => p == o,
            _ => false,
        }
    }
}
