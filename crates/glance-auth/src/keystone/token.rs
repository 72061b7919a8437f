//! What a Keystone v3 token validation body says about its bearer.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Deserialize;

/// The parts of a validated token that a request context needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TokenInfo {
    pub user_id: String,
    pub user_domain_id: Option<String>,
    /// Set for a project-scoped token.
    pub project_id: Option<String>,
    pub project_domain_id: Option<String>,
    /// Set for a domain-scoped token.
    pub domain_id: Option<String>,
    /// `Some("all")` for a token scoped to the whole deployment.
    pub system_scope: Option<String>,
    /// Lower-cased, without duplicates, in Keystone's order.
    pub roles: Vec<String>,
    pub expires_at: DateTime<Utc>,
}

impl TokenInfo {
    /// True once `expires_at` is reached: like upstream (no stale margin), a token
    /// is usable up to its last instant and not at it.
    pub fn expired_at(&self, now: DateTime<Utc>) -> bool {
        self.expires_at <= now
    }

    pub fn has_any_role(&self, wanted: &[String]) -> bool {
        self.roles
            .iter()
            .any(|r| wanted.iter().any(|w| w.eq_ignore_ascii_case(r)))
    }
}

#[derive(Deserialize)]
struct Body {
    token: Token,
}

#[derive(Deserialize)]
struct Token {
    expires_at: String,
    user: Named,
    #[serde(default)]
    project: Option<Named>,
    #[serde(default)]
    domain: Option<Named>,
    #[serde(default)]
    system: Option<System>,
    #[serde(default)]
    roles: Vec<Role>,
}

#[derive(Deserialize)]
struct Named {
    id: String,
    #[serde(default)]
    domain: Option<DomainRef>,
}

#[derive(Deserialize)]
struct DomainRef {
    #[serde(default)]
    id: Option<String>,
}

#[derive(Deserialize)]
struct System {
    #[serde(default)]
    all: bool,
}

#[derive(Deserialize)]
struct Role {
    name: String,
}

/// Reads the body of `GET /v3/auth/tokens`. An error means the token cannot be
/// used (upstream treats unreadable token data as an invalid token).
pub(crate) fn parse_token_body(body: &[u8]) -> Result<TokenInfo, String> {
    let body: Body =
        serde_json::from_slice(body).map_err(|e| format!("unreadable token data: {e}"))?;
    let token = body.token;
    if token.user.id.is_empty() {
        return Err("token data without a user id".into());
    }
    let expires_at = parse_keystone_time(&token.expires_at)
        .ok_or_else(|| format!("unreadable expires_at `{}`", token.expires_at))?;
    let mut roles: Vec<String> = Vec::with_capacity(token.roles.len());
    for role in token.roles {
        let name = role.name.to_lowercase();
        if !roles.contains(&name) {
            roles.push(name);
        }
    }
    let (project_id, project_domain_id) = match token.project {
        Some(p) => (Some(p.id), p.domain.and_then(|d| d.id)),
        None => (None, None),
    };
    Ok(TokenInfo {
        user_id: token.user.id,
        user_domain_id: token.user.domain.and_then(|d| d.id),
        project_id,
        project_domain_id,
        domain_id: token.domain.map(|d| d.id),
        system_scope: token.system.filter(|s| s.all).map(|_| "all".to_string()),
        roles,
        expires_at,
    })
}

/// Keystone writes `2026-04-10T17:01:12.000000Z`; older releases and other
/// identity servers may leave out the fraction or the zone (then it is UTC).
fn parse_keystone_time(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|t| t.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const PROJECT_TOKEN: &str = r#"{"token": {
        "methods": ["password"],
        "user": {"domain": {"id": "default", "name": "Default"},
                 "id": "u1", "name": "demo", "password_expires_at": null},
        "audit_ids": ["x"],
        "expires_at": "2030-01-02T03:04:05.000000Z",
        "issued_at": "2030-01-02T02:04:05.000000Z",
        "project": {"domain": {"id": "default", "name": "Default"}, "id": "p1", "name": "demo"},
        "is_domain": false,
        "roles": [{"id": "r1", "name": "Member"}, {"id": "r2", "name": "reader"},
                  {"id": "r3", "name": "member"}],
        "catalog": []
    }}"#;

    #[test]
    fn project_scoped_token() {
        let t = parse_token_body(PROJECT_TOKEN.as_bytes()).unwrap();
        assert_eq!(t.user_id, "u1");
        assert_eq!(t.user_domain_id.as_deref(), Some("default"));
        assert_eq!(t.project_id.as_deref(), Some("p1"));
        assert_eq!(t.project_domain_id.as_deref(), Some("default"));
        assert_eq!(t.domain_id, None);
        assert_eq!(t.system_scope, None);
        assert_eq!(t.roles, vec!["member", "reader"]);
        assert_eq!(
            t.expires_at,
            Utc.with_ymd_and_hms(2030, 1, 2, 3, 4, 5).unwrap()
        );
    }

    #[test]
    fn domain_scoped_token() {
        let body = r#"{"token": {"expires_at": "2030-01-02T03:04:05Z",
            "user": {"id": "u2", "domain": {"id": "d0", "name": "D0"}},
            "domain": {"id": "d1", "name": "Other"},
            "roles": [{"id": "r", "name": "ADMIN"}]}}"#;
        let t = parse_token_body(body.as_bytes()).unwrap();
        assert_eq!(t.domain_id.as_deref(), Some("d1"));
        assert_eq!(t.project_id, None);
        assert_eq!(t.user_domain_id.as_deref(), Some("d0"));
        assert_eq!(t.roles, vec!["admin"]);
    }

    #[test]
    fn system_scoped_token() {
        let body = r#"{"token": {"expires_at": "2030-01-02T03:04:05.123456Z",
            "user": {"id": "admin-id", "domain": {"id": "default"}},
            "system": {"all": true},
            "roles": [{"id": "r", "name": "admin"}, {"id": "r2", "name": "reader"}]}}"#;
        let t = parse_token_body(body.as_bytes()).unwrap();
        assert_eq!(t.system_scope.as_deref(), Some("all"));
        assert_eq!(t.project_id, None);
        assert_eq!(t.domain_id, None);
        assert_eq!(t.roles, vec!["admin", "reader"]);
    }

    #[test]
    fn unscoped_token_has_no_scope_and_no_roles() {
        let body = r#"{"token": {"expires_at": "2030-01-02T03:04:05",
            "user": {"id": "u3"}}}"#;
        let t = parse_token_body(body.as_bytes()).unwrap();
        assert_eq!(
            (t.project_id, t.domain_id, t.system_scope),
            (None, None, None)
        );
        assert!(t.roles.is_empty());
        assert_eq!(t.user_domain_id, None);
        assert_eq!(
            t.expires_at,
            Utc.with_ymd_and_hms(2030, 1, 2, 3, 4, 5).unwrap()
        );
    }

    #[test]
    fn service_roles_match_any_case() {
        let body = r#"{"token": {"expires_at": "2030-01-02T03:04:05Z",
            "user": {"id": "glance"}, "project": {"id": "svc", "domain": {"id": "default"}},
            "roles": [{"id": "a", "name": "admin"}, {"id": "s", "name": "Service"}]}}"#;
        let t = parse_token_body(body.as_bytes()).unwrap();
        assert!(t.has_any_role(&["service".into()]));
        assert!(t.has_any_role(&["SERVICE".into(), "other".into()]));
        assert!(!t.has_any_role(&["member".into()]));
        assert!(!t.has_any_role(&[]));
    }

    #[test]
    fn unreadable_bodies_are_errors() {
        for body in [
            "",
            "not json",
            r#"{"access": {}}"#,
            r#"{"token": {"user": {"id": "u"}}}"#,
            r#"{"token": {"expires_at": "tomorrow", "user": {"id": "u"}}}"#,
            r#"{"token": {"expires_at": "2030-01-02T03:04:05Z", "user": {"id": ""}}}"#,
            r#"{"token": {"expires_at": "2030-01-02T03:04:05Z"}}"#,
        ] {
            assert!(parse_token_body(body.as_bytes()).is_err(), "{body}");
        }
    }

    #[test]
    fn expiry_is_exclusive() {
        let t = parse_token_body(PROJECT_TOKEN.as_bytes()).unwrap();
        let at = t.expires_at;
        assert!(!t.expired_at(at - chrono::Duration::seconds(1)));
        assert!(t.expired_at(at));
        assert!(t.expired_at(at + chrono::Duration::seconds(1)));
    }
}
