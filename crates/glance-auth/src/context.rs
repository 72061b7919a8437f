/// The caller of one request, as policy and visibility rules see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestContext {
    pub request_id: String,
    /// The project (tenant) the caller acts for; None for noauth and anonymous callers.
    pub project_id: Option<String>,
    pub user_id: Option<String>,
    /// Lower-cased role names.
    pub roles: Vec<String>,
    pub is_admin: bool,
    /// False for anonymous read-only access.
    pub authenticated: bool,
}

impl RequestContext {
    /// Upstream's unauthenticated pipeline: admin, no project. Unlike upstream, whose
    /// context has no roles (so its default policy refuses every write), ours carries
    /// the admin role so the embedded default is fully usable.
    pub fn noauth_admin(request_id: String) -> Self {
        RequestContext {
            request_id,
            project_id: None,
            user_id: None,
            roles: vec!["admin".into()],
            is_admin: true,
            authenticated: true,
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
