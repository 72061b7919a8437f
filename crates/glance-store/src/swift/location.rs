//! Swift location URIs, in upstream's formats (`StoreLocation` in `swift/store.py`):
//!
//! * `swift+config://<reference>/<container>/<object>`: credentials in the
//!   credentials file, nothing secret in the database;
//! * `swift+http(s)://<user>:<key>@<auth address>/<container>/<object>` (legacy,
//!   credentials in the URI; `swift://` means https);
//! * `swift+http(s)://<storage url>/<container>/<object>` (multi-tenant: the image
//!   lives in the owner's account and is reached with the caller's token).
//!
//! Error messages never repeat the URI, which may hold a key.

use crate::StoreError;

/// The schemes upstream registers for the driver.
pub(crate) const SCHEMES: [&str; 4] = ["swift+https", "swift", "swift+http", "swift+config"];

/// Who to authenticate as, according to the location.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum LocationAuth {
    /// Nothing in the URI: a multi-tenant storage URL.
    None,
    /// `user:key@` in the URI, percent-decoded.
    Inline { user: String, key: String },
    /// A section of the credentials file.
    Reference(String),
}

// Hand-written so a key never reaches a log or a panic message.
impl std::fmt::Debug for LocationAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LocationAuth::None => write!(f, "None"),
            LocationAuth::Inline { .. } => write!(f, "Inline(***)"),
            LocationAuth::Reference(name) => write!(f, "Reference({name})"),
        }
    }
}

/// A parsed location.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct SwiftLocation {
    /// `http` or `https`.
    pub http_scheme: &'static str,
    pub auth: LocationAuth,
    /// Auth address or storage URL without its scheme, no slash at either end
    /// (empty for `swift+config`, whose address comes from the reference).
    pub address: String,
    pub container: String,
    pub object: String,
}

impl std::fmt::Debug for SwiftLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SwiftLocation({})", self.describe())
    }
}

impl SwiftLocation {
    /// Parses any of the three forms; `swift+config` references are not resolved here.
    pub(crate) fn parse(uri: &str) -> Result<Self, StoreError> {
        let bad =
            |why: &str| StoreError::BadLocation(format!("not a usable swift location: {why}"));
        // Upstream refuses `swift://user:pass@http://host/...` outright.
        if uri.matches("://").count() != 1 {
            return Err(bad("the URI must contain '://' exactly once"));
        }
        let (scheme, rest) = uri.split_once("://").ok_or_else(|| bad("no scheme"))?;
        if !SCHEMES.contains(&scheme) {
            return Err(bad("the scheme is not a swift scheme"));
        }
        if rest.contains(['?', '#']) {
            return Err(bad("a query or fragment is not allowed"));
        }
        if scheme == "swift+config" {
            let mut parts = rest.split('/');
            let reference = parts.next().unwrap_or_default();
            let tail: Vec<&str> = parts.collect();
            let (container, object) = container_and_object(&tail)
                .ok_or_else(|| bad("expected swift+config://<reference>/<container>/<object>"))?;
            if reference.is_empty() || tail.len() != 2 {
                return Err(bad(
                    "expected swift+config://<reference>/<container>/<object>",
                ));
            }
            return Ok(SwiftLocation {
                http_scheme: "https",
                auth: LocationAuth::Reference(reference.to_string()),
                address: String::new(),
                container,
                object,
            });
        }
        let http_scheme = if scheme == "swift+http" {
            "http"
        } else {
            "https"
        };
        // The credentials end at the last '@': a key may hold '/' (upstream leaves it
        // unquoted), and container, object and address never hold '@'.
        let (auth, path) = match rest.rfind('@') {
            Some(at) => {
                let creds = &rest[..at];
                let (user, key) = creds
                    .rsplit_once(':')
                    .ok_or_else(|| bad("badly formed credentials"))?;
                let auth = LocationAuth::Inline {
                    user: percent_decode(user).ok_or_else(|| bad("badly formed credentials"))?,
                    key: percent_decode(key).ok_or_else(|| bad("badly formed credentials"))?,
                };
                (auth, &rest[at + 1..])
            }
            None => (LocationAuth::None, rest),
        };
        let parts: Vec<&str> = path.split('/').collect();
        if parts.len() < 3 || parts[0].is_empty() {
            return Err(bad("expected <address>/<container>/<object>"));
        }
        let (container, object) = container_and_object(&parts[parts.len() - 2..])
            .ok_or_else(|| bad("empty container or object name"))?;
        let address = parts[..parts.len() - 2].join("/");
        Ok(SwiftLocation {
            http_scheme,
            auth,
            address: address.trim_matches('/').to_string(),
            container,
            object,
        })
    }

    /// The auth address (legacy form) or storage URL (multi-tenant form) with its
    /// scheme, as upstream's `swift_url`.
    pub(crate) fn address_url(&self) -> String {
        format!("{}://{}", self.http_scheme, self.address)
    }

    /// `container/object`: how errors name the object (no credentials, no host).
    pub(crate) fn describe(&self) -> String {
        format!("{}/{}", self.container, self.object)
    }
}

fn container_and_object(parts: &[&str]) -> Option<(String, String)> {
    match parts {
        [container, object] if !container.is_empty() && !object.is_empty() => {
            Some((container.to_string(), object.to_string()))
        }
        _ => None,
    }
}

/// `swift+config://<reference>/<container>/<object>` (`get_uri(credentials_included=False)`).
pub(crate) fn config_uri(reference: &str, container: &str, object: &str) -> String {
    format!(
        "swift+config://{reference}/{}/{}",
        container.trim_matches('/'),
        object.trim_matches('/')
    )
}

/// The legacy form with credentials, or the multi-tenant form when `credentials` is
/// None (`StoreLocation.get_uri`): the scheme follows the address's, https by default.
pub(crate) fn address_uri(
    address: &str,
    credentials: Option<(&str, &str)>,
    container: &str,
    object: &str,
) -> String {
    let (scheme, bare) = if let Some(bare) = address.strip_prefix("http://") {
        ("swift+http", bare)
    } else if let Some(bare) = address.strip_prefix("https://") {
        ("swift+https", bare)
    } else {
        ("swift+https", address)
    };
    let creds = match credentials {
        Some((user, key)) => format!("{}:{}@", quote(user), quote(key)),
        None => String::new(),
    };
    format!(
        "{scheme}://{creds}{}/{}/{}",
        bare.trim_matches('/'),
        container.trim_matches('/'),
        object.trim_matches('/')
    )
}

// Upstream quotes with Python's `urllib.parse.quote`, which leaves '/' bare and so
// writes keys with '/' that its own parser cannot read; ours escapes it too. For
// every other input the output is byte for byte upstream's.
pub(crate) use crate::percent::quote;

/// Percent-encodes a container or object name for a URL path; `keep_slash` leaves
/// '/' alone (a manifest's `container/prefix`).
pub(crate) fn encode_path(value: &str, keep_slash: bool) -> String {
    if keep_slash {
        value.split('/').map(quote).collect::<Vec<_>>().join("/")
    } else {
        quote(value)
    }
}

/// `%XX` sequences to bytes; None for a malformed escape or non-UTF-8 result.
pub(crate) fn percent_decode(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = value.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_uris_round_trip_with_upstream_quoting() {
        let uri = address_uri(
            "http://127.0.0.1:18080/auth/v1.0/",
            Some(("test:tester", "p@ss:w/rd")),
            "glance",
            "abc",
        );
        assert_eq!(
            uri,
            "swift+http://test%3Atester:p%40ss%3Aw%2Frd@127.0.0.1:18080/auth/v1.0/glance/abc"
        );
        let loc = SwiftLocation::parse(&uri).unwrap();
        assert_eq!(
            loc.auth,
            LocationAuth::Inline {
                user: "test:tester".into(),
                key: "p@ss:w/rd".into()
            }
        );
        assert_eq!(loc.address_url(), "http://127.0.0.1:18080/auth/v1.0");
        assert_eq!(
            (loc.container.as_str(), loc.object.as_str()),
            ("glance", "abc")
        );
    }

    #[test]
    fn upstream_written_forms_parse() {
        // Unquoted old-style credentials with an account prefix, https by default.
        let loc = SwiftLocation::parse("swift://account:user:pass@authurl.com/v2.0/c/o").unwrap();
        assert_eq!(
            loc.auth,
            LocationAuth::Inline {
                user: "account:user".into(),
                key: "pass".into()
            }
        );
        assert_eq!(loc.address_url(), "https://authurl.com/v2.0");
        // An upstream key with a bare '/'.
        let loc = SwiftLocation::parse("swift+https://t%3Au:a/b@h/v3/c/o").unwrap();
        assert!(matches!(loc.auth, LocationAuth::Inline { ref key, .. } if key == "a/b"));
        let loc = SwiftLocation::parse("swift+config://ref1/glance/o").unwrap();
        assert_eq!(loc.auth, LocationAuth::Reference("ref1".into()));
        let loc = SwiftLocation::parse("swift+http://127.0.0.1:8080/v1/AUTH_p/glance_o/o").unwrap();
        assert_eq!(loc.auth, LocationAuth::None);
        assert_eq!(loc.address_url(), "http://127.0.0.1:8080/v1/AUTH_p");
        assert_eq!(loc.container, "glance_o");
    }

    #[test]
    fn malformed_locations_are_refused_without_echoing_secrets() {
        for uri in [
            "swift://user:secret@http://auth/c/o",
            "file:///etc/passwd",
            "swift+http://host/c",
            "swift+http://userwithoutkey@host/v1/c/o",
            "swift+config://ref1/c",
            "swift+config://ref1/a/c/o",
            "swift+http://u:secret@host/v1/c/",
            "swift+http://u:secret@host/v1/c/o?x=1",
        ] {
            let err = SwiftLocation::parse(uri).unwrap_err().to_string();
            assert!(!err.contains("secret"), "{uri}: {err}");
        }
    }

    #[test]
    fn config_and_tenant_uris() {
        assert_eq!(
            config_uri("ref1", "glance", "id"),
            "swift+config://ref1/glance/id"
        );
        assert_eq!(
            address_uri(
                "https://swift.example.com/v1/AUTH_p",
                None,
                "glance_id",
                "id"
            ),
            "swift+https://swift.example.com/v1/AUTH_p/glance_id/id"
        );
    }
}
