//! `[keystone_authtoken]` as the token validator needs it.

use std::time::Duration;

/// Settings of the Keystone token validator. Field names are the upstream
/// `[keystone_authtoken]` option names; defaults are upstream's.
#[derive(Clone, PartialEq, Eq)]
pub struct KeystoneConfig {
    /// Sent back in `WWW-Authenticate` on 401s; falls back to `auth_url`.
    pub www_authenticate_uri: Option<String>,
    /// Where the service user logs in and where tokens are validated. Either the
    /// Keystone root (`http://keystone:5000`) or its `/v3` endpoint.
    pub auth_url: Option<String>,
    /// Only `password` is supported.
    pub auth_type: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub project_name: Option<String>,
    pub project_id: Option<String>,
    pub project_domain_name: Option<String>,
    pub project_domain_id: Option<String>,
    pub user_domain_name: Option<String>,
    pub user_domain_id: Option<String>,
    /// Roles of which a service token must hold at least one.
    pub service_token_roles: Vec<String>,
    /// When true a service token without one of `service_token_roles` is invalid;
    /// when false it is accepted with a warning (it still may not unlock expired
    /// user tokens).
    pub service_token_roles_required: bool,
    /// Seconds a validated token is trusted without asking Keystone again.
    /// Negative disables the cache, 0 caches until the token expires.
    pub token_cache_time: i64,
    /// Seconds for one request to Keystone (connect + response). None: upstream
    /// waits forever; we cap it at [`DEFAULT_HTTP_TIMEOUT`] so a hung Keystone
    /// cannot hold every API request forever.
    pub http_connect_timeout: Option<u64>,
    /// Extra attempts after a connection failure or timeout.
    pub http_request_max_retries: u32,
    /// When true, a token Keystone could not judge (Keystone down) is reported as
    /// invalid (401) rather than 503, and an invalid service token is ignored
    /// rather than failing the request. Glance's paste pipeline sets it true.
    pub delay_auth_decision: bool,
    /// Accepted for compatibility; the catalog is never requested (see mod docs).
    pub include_service_catalog: bool,
    /// Accepted, unused: tokens are validated at `auth_url`, not at a catalog endpoint.
    pub region_name: Option<String>,
    /// Accepted, unused (see `region_name`).
    pub interface: String,
    /// Not an upstream option: the most tokens remembered at once, so a flood of
    /// distinct garbage tokens cannot grow memory without bound.
    pub token_cache_max_entries: usize,
    /// `cafile`: PEM certificates trusted for `https://` Keystone endpoints, in
    /// addition to the system's.
    pub cafile: Option<std::path::PathBuf>,
    /// `insecure`: do not verify the Keystone server's certificate.
    pub insecure: bool,
    /// `certfile` / `keyfile`: a client certificate; not supported yet (refused).
    pub certfile: Option<std::path::PathBuf>,
    pub keyfile: Option<std::path::PathBuf>,
}

/// The request timeout used when `http_connect_timeout` is unset.
pub const DEFAULT_HTTP_TIMEOUT: Duration = Duration::from_secs(30);

impl Default for KeystoneConfig {
    fn default() -> Self {
        KeystoneConfig {
            www_authenticate_uri: None,
            auth_url: None,
            auth_type: None,
            username: None,
            password: None,
            project_name: None,
            project_id: None,
            project_domain_name: None,
            project_domain_id: None,
            user_domain_name: None,
            user_domain_id: None,
            service_token_roles: vec!["service".into()],
            // keystonemiddleware 13.0.0 (2026.1) changed this default to true.
            service_token_roles_required: true,
            token_cache_time: 300,
            http_connect_timeout: None,
            http_request_max_retries: 3,
            delay_auth_decision: false,
            include_service_catalog: true,
            region_name: None,
            interface: "internal".into(),
            token_cache_max_entries: 10_000,
            cafile: None,
            insecure: false,
            certfile: None,
            keyfile: None,
        }
    }
}

// The password must never reach a log line through `{:?}`.
impl std::fmt::Debug for KeystoneConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeystoneConfig")
            .field("www_authenticate_uri", &self.www_authenticate_uri)
            .field("auth_url", &self.auth_url)
            .field("auth_type", &self.auth_type)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("project_name", &self.project_name)
            .field("project_id", &self.project_id)
            .field("project_domain_name", &self.project_domain_name)
            .field("project_domain_id", &self.project_domain_id)
            .field("user_domain_name", &self.user_domain_name)
            .field("user_domain_id", &self.user_domain_id)
            .field("service_token_roles", &self.service_token_roles)
            .field(
                "service_token_roles_required",
                &self.service_token_roles_required,
            )
            .field("token_cache_time", &self.token_cache_time)
            .field("http_connect_timeout", &self.http_connect_timeout)
            .field("http_request_max_retries", &self.http_request_max_retries)
            .field("delay_auth_decision", &self.delay_auth_decision)
            .field("token_cache_max_entries", &self.token_cache_max_entries)
            .field("cafile", &self.cafile)
            .field("insecure", &self.insecure)
            .finish_non_exhaustive()
    }
}

/// A `[keystone_authtoken]` setting that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("[keystone_authtoken] {option}: {message}")]
pub struct KeystoneConfigError {
    pub option: &'static str,
    pub message: String,
}

fn config_error(option: &'static str, message: impl Into<String>) -> KeystoneConfigError {
    KeystoneConfigError {
        option,
        message: message.into(),
    }
}

fn set(value: &Option<String>) -> bool {
    value.as_deref().is_some_and(|v| !v.trim().is_empty())
}

impl KeystoneConfig {
    /// Checks that the settings can log the service user in and validate tokens.
    pub fn validate(&self) -> Result<(), KeystoneConfigError> {
        let auth_url = self
            .auth_url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .ok_or_else(|| config_error("auth_url", "is required to validate tokens"))?;
        check_http_url("auth_url", auth_url)?;
        if self.certfile.is_some() || self.keyfile.is_some() {
            let option = if self.certfile.is_some() {
                "certfile"
            } else {
                "keyfile"
            };
            return Err(config_error(
                option,
                "client certificates towards Keystone are not supported yet",
            ));
        }
        match self.auth_type.as_deref().map(str::trim) {
            Some("password") => {}
            None | Some("") => {
                return Err(config_error(
                    "auth_type",
                    "is not set; only `password` is supported",
                ))
            }
            Some(other) => {
                return Err(config_error(
                    "auth_type",
                    format!("`{other}` is not supported; only `password` is"),
                ))
            }
        }
        if !set(&self.username) {
            return Err(config_error(
                "username",
                "is required for auth_type password",
            ));
        }
        if self.password.is_none() {
            return Err(config_error(
                "password",
                "is required for auth_type password",
            ));
        }
        if !set(&self.user_domain_name) && !set(&self.user_domain_id) {
            return Err(config_error(
                "user_domain_name",
                "user_domain_name or user_domain_id is required with username",
            ));
        }
        if !set(&self.project_name) && !set(&self.project_id) {
            return Err(config_error(
                "project_name",
                "project_name or project_id (the service project) is required",
            ));
        }
        if !set(&self.project_id)
            && !set(&self.project_domain_name)
            && !set(&self.project_domain_id)
        {
            return Err(config_error(
                "project_domain_name",
                "project_domain_name or project_domain_id is required with project_name",
            ));
        }
        if self.token_cache_max_entries == 0 {
            return Err(config_error(
                "token_cache_max_entries",
                "must be at least 1",
            ));
        }
        if let Some(uri) = self.www_authenticate_uri.as_deref() {
            // The value is quoted in a header: a quote or control character would
            // break the header or smuggle a second one.
            if uri.chars().any(|c| c == '"' || c.is_control()) {
                return Err(config_error(
                    "www_authenticate_uri",
                    "must not contain quotes or control characters",
                ));
            }
        }
        Ok(())
    }

    /// The Keystone v3 endpoint: `auth_url` with `/v3` appended unless present.
    pub fn identity_v3_url(&self) -> String {
        let base = self.auth_url.as_deref().unwrap_or("").trim();
        let base = base.trim_end_matches('/');
        if base.ends_with("/v3") {
            base.to_string()
        } else {
            format!("{base}/v3")
        }
    }

    /// The value of `WWW-Authenticate` on 401 responses.
    pub fn www_authenticate(&self) -> String {
        let uri = self
            .www_authenticate_uri
            .as_deref()
            .filter(|u| !u.trim().is_empty())
            .or(self.auth_url.as_deref())
            .unwrap_or("")
            .trim();
        format!("Keystone uri=\"{uri}\"")
    }

    pub(crate) fn http_timeout(&self) -> Duration {
        match self.http_connect_timeout {
            Some(0) | None => DEFAULT_HTTP_TIMEOUT,
            Some(secs) => Duration::from_secs(secs),
        }
    }
}

fn check_http_url(option: &'static str, url: &str) -> Result<(), KeystoneConfigError> {
    let lower = url.to_ascii_lowercase();
    let scheme_len = if lower.starts_with("https://") {
        "https://".len()
    } else if lower.starts_with("http://") {
        "http://".len()
    } else {
        0
    };
    if scheme_len == 0 || url.len() <= scheme_len {
        return Err(config_error(
            option,
            format!("`{url}` is not an http:// or https:// URL"),
        ));
    }
    url.parse::<hyper::Uri>()
        .map_err(|e| config_error(option, format!("`{url}` is not a valid URL: {e}")))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete() -> KeystoneConfig {
        KeystoneConfig {
            auth_url: Some("http://127.0.0.1:5000".into()),
            auth_type: Some("password".into()),
            username: Some("glance".into()),
            password: Some("secret".into()),
            project_name: Some("service".into()),
            project_domain_name: Some("Default".into()),
            user_domain_name: Some("Default".into()),
            ..Default::default()
        }
    }

    #[test]
    fn defaults_are_upstreams() {
        let c = KeystoneConfig::default();
        assert_eq!(c.token_cache_time, 300);
        assert_eq!(c.service_token_roles, vec!["service".to_string()]);
        assert!(c.service_token_roles_required);
        assert_eq!(c.http_request_max_retries, 3);
        assert!(!c.delay_auth_decision);
        assert!(c.include_service_catalog);
        assert_eq!(c.interface, "internal");
    }

    #[test]
    fn complete_config_is_valid() {
        complete().validate().unwrap();
    }

    #[test]
    fn errors_name_the_option() {
        let cases: Vec<(KeystoneConfig, &str)> = vec![
            (
                KeystoneConfig {
                    auth_url: None,
                    ..complete()
                },
                "auth_url",
            ),
            (
                KeystoneConfig {
                    auth_url: Some(" ".into()),
                    ..complete()
                },
                "auth_url",
            ),
            (
                KeystoneConfig {
                    auth_url: Some("ftp://x".into()),
                    ..complete()
                },
                "auth_url",
            ),
            (
                KeystoneConfig {
                    auth_type: None,
                    ..complete()
                },
                "auth_type",
            ),
            (
                KeystoneConfig {
                    auth_type: Some("v3token".into()),
                    ..complete()
                },
                "auth_type",
            ),
            (
                KeystoneConfig {
                    username: None,
                    ..complete()
                },
                "username",
            ),
            (
                KeystoneConfig {
                    password: None,
                    ..complete()
                },
                "password",
            ),
            (
                KeystoneConfig {
                    user_domain_name: None,
                    ..complete()
                },
                "user_domain_name",
            ),
            (
                KeystoneConfig {
                    project_name: None,
                    ..complete()
                },
                "project_name",
            ),
            (
                KeystoneConfig {
                    project_domain_name: None,
                    ..complete()
                },
                "project_domain_name",
            ),
            (
                KeystoneConfig {
                    www_authenticate_uri: Some("http://a\"b".into()),
                    ..complete()
                },
                "www_authenticate_uri",
            ),
        ];
        for (config, option) in cases {
            let err = config.validate().unwrap_err();
            assert_eq!(err.option, option, "{err}");
            assert!(err.to_string().starts_with("[keystone_authtoken] "));
        }
    }

    #[test]
    fn https_is_accepted_and_client_certificates_are_refused() {
        let config = KeystoneConfig {
            auth_url: Some("https://keystone.example.com/v3".into()),
            ..complete()
        };
        config.validate().unwrap();
        let config = KeystoneConfig {
            certfile: Some("/etc/glance/client.pem".into()),
            ..config
        };
        let err = config.validate().unwrap_err();
        assert_eq!(err.option, "certfile");
        let err = KeystoneConfig {
            auth_url: Some("ftp://keystone.example.com".into()),
            ..complete()
        }
        .validate()
        .unwrap_err();
        assert!(err.message.contains("https://"), "{err}");
    }

    #[test]
    fn ids_may_replace_names() {
        let config = KeystoneConfig {
            project_name: None,
            project_domain_name: None,
            project_id: Some("abc".into()),
            user_domain_name: None,
            user_domain_id: Some("default".into()),
            ..complete()
        };
        config.validate().unwrap();
    }

    #[test]
    fn v3_url_is_derived_from_auth_url() {
        for (auth_url, v3) in [
            ("http://k:5000", "http://k:5000/v3"),
            ("http://k:5000/", "http://k:5000/v3"),
            ("http://k:5000/v3", "http://k:5000/v3"),
            ("http://k:5000/v3/", "http://k:5000/v3"),
            ("http://k/identity", "http://k/identity/v3"),
        ] {
            let c = KeystoneConfig {
                auth_url: Some(auth_url.into()),
                ..complete()
            };
            assert_eq!(c.identity_v3_url(), v3);
        }
    }

    #[test]
    fn www_authenticate_falls_back_to_auth_url() {
        let mut c = complete();
        assert_eq!(
            c.www_authenticate(),
            "Keystone uri=\"http://127.0.0.1:5000\""
        );
        c.www_authenticate_uri = Some("http://public:5000/v3".into());
        assert_eq!(
            c.www_authenticate(),
            "Keystone uri=\"http://public:5000/v3\""
        );
    }

    #[test]
    fn debug_hides_the_password() {
        let shown = format!("{:?}", complete());
        assert!(!shown.contains("secret"), "{shown}");
    }
}
