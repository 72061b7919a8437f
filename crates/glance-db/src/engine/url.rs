//! SQLAlchemy database URLs (`dialect[+driver]://user:password@host:port/database?k=v`)
//! taken apart, so each engine builds its own connect options from them.

use crate::DbError;

/// The parts of a server database URL, percent-decoded.
#[derive(Debug, Default, PartialEq)]
pub(super) struct UrlParts {
    pub user: Option<String>,
    pub password: Option<String>,
    /// None: the driver's default (local socket or localhost).
    pub host: Option<String>,
    pub port: Option<u16>,
    pub database: Option<String>,
    pub query: Vec<(String, String)>,
}

impl UrlParts {
    pub(super) fn parse(url: &str) -> Result<UrlParts, DbError> {
        let bad = || DbError::UnsupportedUrl(redact(url));
        let (_, rest) = url.split_once("://").ok_or_else(bad)?;
        let (rest, query) = match rest.split_once('?') {
            Some((r, q)) => (r, q),
            None => (rest, ""),
        };
        let (authority, database) = match rest.split_once('/') {
            Some((a, d)) => (a, d),
            None => (rest, ""),
        };
        let mut parts = UrlParts::default();
        let host_port = match authority.rsplit_once('@') {
            Some((userinfo, hp)) => {
                let (user, password) = match userinfo.split_once(':') {
                    Some((u, p)) => (u, Some(p)),
                    None => (userinfo, None),
                };
                parts.user = Some(decode(user)).filter(|u| !u.is_empty());
                parts.password = password.map(decode);
                hp
            }
            None => authority,
        };
        let (host, port) = if let Some(v6) = host_port.strip_prefix('[') {
            let (h, after) = v6.split_once(']').ok_or_else(bad)?;
            (h, after.strip_prefix(':'))
        } else {
            match host_port.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (host_port, None),
            }
        };
        parts.host = Some(decode(host)).filter(|h| !h.is_empty());
        parts.port = match port {
            Some(p) if !p.is_empty() => Some(p.parse().map_err(|_| bad())?),
            _ => None,
        };
        parts.database = Some(decode(database)).filter(|d| !d.is_empty());
        parts.query = query
            .split('&')
            .filter(|kv| !kv.is_empty())
            .map(|kv| match kv.split_once('=') {
                Some((k, v)) => (decode(k), decode(v)),
                None => (decode(kv), String::new()),
            })
            .collect();
        Ok(parts)
    }

    pub(super) fn param(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// The URL with its password replaced, for error messages and logs.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    match rest[..end].rsplit_once('@') {
        Some((userinfo, _)) if userinfo.contains(':') => {
            let user = userinfo.split(':').next().unwrap_or_default();
            let at = rest[..end].rfind('@').unwrap_or(0);
            format!("{scheme}://{user}:***{}", &rest[at..])
        }
        _ => url.to_string(),
    }
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::{redact, UrlParts};

    #[test]
    fn upstream_urls() {
        let p = UrlParts::parse(
            "mysql+pymysql://glance:s%40cret@db.example:3307/glance?charset=utf8mb4",
        )
        .unwrap();
        assert_eq!(p.user.as_deref(), Some("glance"));
        assert_eq!(p.password.as_deref(), Some("s@cret"));
        assert_eq!(p.host.as_deref(), Some("db.example"));
        assert_eq!(p.port, Some(3307));
        assert_eq!(p.database.as_deref(), Some("glance"));
        assert_eq!(p.param("charset"), Some("utf8mb4"));

        let p = UrlParts::parse("postgresql+psycopg2://glance@[::1]/glance").unwrap();
        assert_eq!(p.host.as_deref(), Some("::1"));
        assert_eq!(p.port, None);
        assert_eq!(p.password, None);

        let p = UrlParts::parse("postgresql:///glance?host=/run/postgresql").unwrap();
        assert_eq!(p.host, None);
        assert_eq!(p.param("host"), Some("/run/postgresql"));
        assert!(UrlParts::parse("mysql://h:notaport/x").is_err());
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("mysql+pymysql://glance:secret@db/glance"),
            "mysql+pymysql://glance:***@db/glance"
        );
        assert_eq!(redact("postgresql://db/glance"), "postgresql://db/glance");
    }
}
