//! `[keystone_authtoken]` (keystonemiddleware's options), `[oslo_policy]` and
//! `[DEFAULT] allow_anonymous_access`: read here so that malformed values are
//! startup errors naming the option, like every other option.

use std::path::PathBuf;

use crate::error::ConfigError;
use crate::reader::OptionReader;
use crate::settings::Settings;

const AUTHTOKEN: &str = "keystone_authtoken";
const OSLO_POLICY: &str = "oslo_policy";

/// `[keystone_authtoken]`, with keystonemiddleware's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeystoneAuthtokenSettings {
    /// `www_authenticate_uri` (deprecated alias `auth_uri`): advertised in 401s.
    pub www_authenticate_uri: Option<String>,
    /// `auth_url`: where the service user authenticates and tokens are validated.
    pub auth_url: Option<String>,
    /// `auth_type` (alias `auth_plugin`).
    pub auth_type: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub user_id: Option<String>,
    pub project_name: Option<String>,
    pub project_id: Option<String>,
    pub user_domain_name: Option<String>,
    pub user_domain_id: Option<String>,
    pub project_domain_name: Option<String>,
    pub project_domain_id: Option<String>,
    /// `service_token_roles` (["service"]).
    pub service_token_roles: Vec<String>,
    /// `service_token_roles_required` (true since keystonemiddleware 13).
    pub service_token_roles_required: bool,
    /// `token_cache_time` in seconds (300; -1 disables the cache).
    pub token_cache_time: i64,
    /// `http_connect_timeout` in seconds (None: the client's default).
    pub http_connect_timeout: Option<u64>,
    /// `http_request_max_retries` (3).
    pub http_request_max_retries: u32,
    /// `delay_auth_decision` (false).
    pub delay_auth_decision: bool,
    pub region_name: Option<String>,
    pub interface: Option<String>,
    /// `cafile`, `insecure` (false), `certfile`, `keyfile`: TLS towards Keystone.
    pub cafile: Option<PathBuf>,
    pub insecure: bool,
    pub certfile: Option<PathBuf>,
    pub keyfile: Option<PathBuf>,
}

impl Default for KeystoneAuthtokenSettings {
    fn default() -> Self {
        KeystoneAuthtokenSettings {
            www_authenticate_uri: None,
            auth_url: None,
            auth_type: None,
            username: None,
            password: None,
            user_id: None,
            project_name: None,
            project_id: None,
            user_domain_name: None,
            user_domain_id: None,
            project_domain_name: None,
            project_domain_id: None,
            service_token_roles: vec!["service".into()],
            service_token_roles_required: true,
            token_cache_time: 300,
            http_connect_timeout: None,
            http_request_max_retries: 3,
            delay_auth_decision: false,
            region_name: None,
            interface: None,
            cafile: None,
            insecure: false,
            certfile: None,
            keyfile: None,
        }
    }
}

/// `[oslo_policy]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicySettings {
    /// `policy_file` ("policy.yaml"): relative names are looked up in the config directories.
    pub policy_file: String,
    /// `policy_dirs` (["policy.d"]).
    pub policy_dirs: Vec<String>,
    /// `enforce_scope` (true).
    pub enforce_scope: bool,
    /// `enforce_new_defaults` (true).
    pub enforce_new_defaults: bool,
}

impl Default for PolicySettings {
    fn default() -> Self {
        PolicySettings {
            policy_file: "policy.yaml".into(),
            policy_dirs: vec!["policy.d".into()],
            enforce_scope: true,
            enforce_new_defaults: true,
        }
    }
}

impl PolicySettings {
    /// The policy file to read, if it exists: an absolute path as given, a relative
    /// one in the config directories (last wins, as oslo.config's `find_file`
    /// searches them), else `/etc/glance/`. None when no such file exists, which
    /// oslo.policy accepts for the default name.
    pub fn resolve_file(&self, config_dirs: &[PathBuf]) -> Option<PathBuf> {
        resolve(&self.policy_file, config_dirs).filter(|p| p.is_file())
    }

    /// Every existing `policy_dirs` directory, resolved like the file.
    pub fn resolve_dirs(&self, config_dirs: &[PathBuf]) -> Vec<PathBuf> {
        self.policy_dirs
            .iter()
            .filter_map(|d| resolve(d, config_dirs))
            .filter(|p| p.is_dir())
            .collect()
    }
}

fn resolve(name: &str, config_dirs: &[PathBuf]) -> Option<PathBuf> {
    let path = PathBuf::from(name);
    if path.is_absolute() {
        return Some(path);
    }
    config_dirs
        .iter()
        .rev()
        .map(|d| d.join(&path))
        .chain(std::iter::once(PathBuf::from("/etc/glance").join(&path)))
        .find(|p| p.exists())
}

pub(crate) fn read_auth(reader: &OptionReader<'_>, s: &mut Settings) -> Result<(), ConfigError> {
    s.allow_anonymous_access = reader.bool(&[("default", "allow_anonymous_access")], false)?;
    s.keystone_authtoken = read_authtoken(reader)?;
    s.oslo_policy = read_policy(reader)?;
    Ok(())
}

fn read_authtoken(reader: &OptionReader<'_>) -> Result<KeystoneAuthtokenSettings, ConfigError> {
    let d = KeystoneAuthtokenSettings::default();
    let text = |option: &str| reader.string(&[(AUTHTOKEN, option)]);
    Ok(KeystoneAuthtokenSettings {
        www_authenticate_uri: reader
            .string(&[(AUTHTOKEN, "www_authenticate_uri"), (AUTHTOKEN, "auth_uri")]),
        auth_url: text("auth_url"),
        auth_type: reader.string(&[(AUTHTOKEN, "auth_type"), (AUTHTOKEN, "auth_plugin")]),
        username: text("username"),
        password: reader.find(&[(AUTHTOKEN, "password")]).map(|f| f.value),
        user_id: text("user_id"),
        project_name: reader.string(&[(AUTHTOKEN, "project_name"), (AUTHTOKEN, "tenant_name")]),
        project_id: reader.string(&[(AUTHTOKEN, "project_id"), (AUTHTOKEN, "tenant_id")]),
        user_domain_name: text("user_domain_name"),
        user_domain_id: text("user_domain_id"),
        project_domain_name: text("project_domain_name"),
        project_domain_id: text("project_domain_id"),
        service_token_roles: reader
            .list(&[(AUTHTOKEN, "service_token_roles")])?
            .unwrap_or(d.service_token_roles),
        service_token_roles_required: reader.bool(
            &[(AUTHTOKEN, "service_token_roles_required")],
            d.service_token_roles_required,
        )?,
        token_cache_time: reader
            .int(&[(AUTHTOKEN, "token_cache_time")], -1i64, i64::MAX)?
            .unwrap_or(d.token_cache_time),
        http_connect_timeout: reader.int(&[(AUTHTOKEN, "http_connect_timeout")], 0u64, 86_400)?,
        http_request_max_retries: reader
            .int(&[(AUTHTOKEN, "http_request_max_retries")], 0u32, 100)?
            .unwrap_or(d.http_request_max_retries),
        delay_auth_decision: reader.bool(&[(AUTHTOKEN, "delay_auth_decision")], false)?,
        region_name: text("region_name"),
        interface: text("interface"),
        cafile: reader.path(&[(AUTHTOKEN, "cafile")]),
        insecure: reader.bool(&[(AUTHTOKEN, "insecure")], false)?,
        certfile: reader.path(&[(AUTHTOKEN, "certfile")]),
        keyfile: reader.path(&[(AUTHTOKEN, "keyfile")]),
    })
}

fn read_policy(reader: &OptionReader<'_>) -> Result<PolicySettings, ConfigError> {
    let d = PolicySettings::default();
    Ok(PolicySettings {
        policy_file: reader
            .string(&[(OSLO_POLICY, "policy_file"), ("default", "policy_file")])
            .unwrap_or(d.policy_file),
        policy_dirs: reader
            .list(&[(OSLO_POLICY, "policy_dirs"), ("default", "policy_dirs")])?
            .unwrap_or(d.policy_dirs),
        enforce_scope: reader.bool(&[(OSLO_POLICY, "enforce_scope")], d.enforce_scope)?,
        enforce_new_defaults: reader.bool(
            &[(OSLO_POLICY, "enforce_new_defaults")],
            d.enforce_new_defaults,
        )?,
    })
}

#[cfg(test)]
mod tests {
    use crate::load_from_str;

    #[test]
    fn authtoken_and_policy_options() {
        let s = load_from_str(
            "[paste_deploy]\nflavor = keystone\n\
             [keystone_authtoken]\nauth_uri = http://ks:5000\nauth_url = http://ks:5000\n\
             auth_type = password\nusername = glance\npassword = secret\n\
             project_name = service\nservice_token_roles = service, Admin\n\
             service_token_roles_required = true\ntoken_cache_time = 60\n\
             [oslo_policy]\npolicy_file = my-policy.json\nenforce_scope = false\n",
        )
        .unwrap();
        let k = &s.keystone_authtoken;
        assert_eq!(k.www_authenticate_uri.as_deref(), Some("http://ks:5000"));
        assert_eq!(k.password.as_deref(), Some("secret"));
        assert_eq!(k.service_token_roles, vec!["service", "Admin"]);
        assert!(k.service_token_roles_required);
        assert_eq!(k.token_cache_time, 60);
        assert_eq!(s.oslo_policy.policy_file, "my-policy.json");
        assert!(!s.oslo_policy.enforce_scope);
        assert!(s.oslo_policy.enforce_new_defaults);
    }

    #[test]
    fn malformed_values_name_the_option() {
        let err = load_from_str("[keystone_authtoken]\ntoken_cache_time = soon\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("token_cache_time"), "{err}");
        let err = load_from_str("[oslo_policy]\nenforce_scope = maybe\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("enforce_scope"), "{err}");
    }
}
