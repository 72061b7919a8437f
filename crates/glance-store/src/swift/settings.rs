//! The driver's options, parsed once from its config section (names and defaults of
//! upstream's `_SWIFT_OPTS` in `swift/store.py` and `swift_opts` in `swift/utils.py`),
//! and the account references (`SwiftParams` in `swift/utils.py`).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use super::config_file::SwiftConfigFile;
use crate::remote::TlsOptions;
use crate::{StoreError, StoreOptions};

/// Upstream's "MB" for the large-object options is 1000 * 1024 bytes
/// (`ONE_MB = units.k * units.Ki` in store.py); kept so sizes match byte for byte.
pub(crate) const ONE_MB: u64 = 1000 * 1024;

/// Which identity API a reference authenticates against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum AuthVersion {
    /// Swift's own auth (tempauth, swauth): `X-Auth-User`/`X-Auth-Key`.
    V1,
    /// Keystone v2.0 (`POST <auth>/tokens`).
    V2,
    /// Keystone v3 (`POST <auth>/auth/tokens`).
    V3,
}

impl AuthVersion {
    /// swiftclient's accepted spellings.
    fn parse(value: &str) -> Option<Self> {
        match value.trim() {
            "1" | "1.0" => Some(AuthVersion::V1),
            "2" | "2.0" => Some(AuthVersion::V2),
            "3" | "3.0" => Some(AuthVersion::V3),
            _ => None,
        }
    }
}

/// A Keystone domain given by id or by name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Domain {
    Id(String),
    Name(String),
}

/// How a reference proves who it is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Identity {
    /// `user` is `project:user` for Keystone (upstream splits it at the colon) and
    /// the whole `account:user` for v1 auth.
    Password { user: String, key: String },
    /// Keystone v3 application credential (already scoped to its project).
    AppCredential { id: String, secret: String },
}

/// One set of account credentials: a section of the credentials file, or the
/// deprecated in-section options.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct Reference {
    /// As configured, scheme included when given (`http://...`); no scheme means https.
    pub auth_address: String,
    pub identity: Identity,
    pub auth_version: AuthVersion,
    pub user_domain: Domain,
    pub project_domain: Domain,
}

// Hand-written so a reference printed in a log or a panic never shows the key.
impl std::fmt::Debug for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reference")
            .field("auth_address", &self.auth_address)
            .field("auth_version", &self.auth_version)
            .finish_non_exhaustive()
    }
}

impl Reference {
    /// The auth address with its scheme (https when none is written, as upstream).
    pub(crate) fn auth_url(&self) -> String {
        if self.auth_address.starts_with("http://") || self.auth_address.starts_with("https://") {
            self.auth_address.clone()
        } else {
            format!("https://{}", self.auth_address)
        }
    }
}

/// Upstream's domain when none is configured.
pub(crate) fn default_domain() -> Domain {
    Domain::Id("default".into())
}

/// Keystone catalog interface from `swift_store_endpoint_type`.
pub(crate) fn interface_of(endpoint_type: &str) -> &'static str {
    match endpoint_type {
        "adminURL" => "admin",
        "internalURL" => "internal",
        _ => "public",
    }
}

/// Everything the driver reads from its section.
#[derive(Debug, Clone)]
pub(crate) struct SwiftSettings {
    pub container: String,
    pub create_container_on_put: bool,
    /// Bytes (`swift_store_large_object_size` * [`ONE_MB`]).
    pub large_object_size: u64,
    /// Bytes (`swift_store_large_object_chunk_size` * [`ONE_MB`]).
    pub large_object_chunk_size: u64,
    pub multi_tenant: bool,
    pub multiple_containers_seed: usize,
    pub admin_tenants: Vec<String>,
    pub retry_get_count: u32,
    pub expire_soon: Duration,
    /// `swift_store_endpoint`: the storage URL to use instead of auth's answer.
    pub endpoint: Option<String>,
    /// `publicURL`, `adminURL` or `internalURL`.
    pub endpoint_type: String,
    pub service_type: String,
    pub region: Option<String>,
    pub tls: TlsOptions,
    /// `swift_store_auth_version`: for references that do not name one, and for
    /// credentials read from old locations.
    pub auth_version: AuthVersion,
    /// `default_swift_reference`: the account new images go to (single-tenant).
    pub default_reference: String,
    /// Every usable reference by name.
    pub references: BTreeMap<String, Reference>,
    /// True when the references come from `swift_store_config_file`: locations are
    /// then written as `swift+config://<ref>/...` with no secret in them.
    pub from_config_file: bool,
}

impl SwiftSettings {
    pub(crate) fn parse(options: &StoreOptions) -> Result<Self, StoreError> {
        let default_version = match options.string("swift_store_auth_version") {
            None => AuthVersion::V3,
            Some(v) => AuthVersion::parse(&v).ok_or_else(|| {
                options.invalid(
                    "swift_store_auth_version",
                    format!("'{v}' is not one of 1, 2, 3"),
                )
            })?,
        };
        let multi_tenant = options.bool("swift_store_multi_tenant", false)?;
        let config_file = options.string("swift_store_config_file").map(PathBuf::from);
        if multi_tenant && config_file.is_some() {
            return Err(options.invalid(
                "swift_store_config_file",
                "swift_store_multi_tenant and swift_store_config_file are mutually exclusive"
                    .into(),
            ));
        }
        let default_reference = options
            .string("default_swift_reference")
            .unwrap_or_else(|| "ref1".into());
        let references = match &config_file {
            Some(path) => load_config_file(options, path, default_version)?,
            None => in_section_reference(options, default_version)
                .map(|r| BTreeMap::from([(default_reference.clone(), r)]))
                .unwrap_or_default(),
        };
        let large = options.int("swift_store_large_object_size", 5120, 1, i64::MAX)? as u64;
        let chunk = options.int("swift_store_large_object_chunk_size", 200, 1, i64::MAX)? as u64;
        let seed = options.int("swift_store_multiple_containers_seed", 0, 0, 32)? as usize;
        let retry = options.int("swift_store_retry_get_count", 0, 0, i64::from(u32::MAX))?;
        let endpoint_type = options.choice(
            "swift_store_endpoint_type",
            "publicURL",
            &["publicURL", "adminURL", "internalURL"],
        )?;
        Ok(SwiftSettings {
            container: options
                .string("swift_store_container")
                .unwrap_or_else(|| "glance".into()),
            create_container_on_put: options.bool("swift_store_create_container_on_put", false)?,
            large_object_size: large.saturating_mul(ONE_MB),
            large_object_chunk_size: chunk.saturating_mul(ONE_MB),
            multi_tenant,
            multiple_containers_seed: seed,
            admin_tenants: options.list("swift_store_admin_tenants")?,
            retry_get_count: retry as u32,
            expire_soon: Duration::from_secs(options.uint("swift_store_expire_soon_interval", 60)?),
            endpoint: options.string("swift_store_endpoint"),
            endpoint_type,
            service_type: options
                .string("swift_store_service_type")
                .unwrap_or_else(|| "object-store".into()),
            region: options.string("swift_store_region"),
            tls: TlsOptions {
                ca_file: options.string("swift_store_cacert").map(PathBuf::from),
                insecure: options.bool("swift_store_auth_insecure", false)?,
            },
            auth_version: default_version,
            default_reference,
            references,
            from_config_file: config_file.is_some(),
        })
    }

    /// The container of `image_id` in single-tenant mode
    /// (`SingleTenantStore.get_container_name`): with a seed N, `<container>_` plus
    /// the first N characters of the lower-cased id, dashes not counted.
    pub(crate) fn single_tenant_container(&self, image_id: &str) -> String {
        let seed = self.multiple_containers_seed;
        if seed == 0 {
            return self.container.clone();
        }
        let id = image_id.to_lowercase();
        let head: String = id.chars().take(seed).collect();
        let dashes = head.matches('-').count();
        let suffix: String = id.chars().take(seed + dashes).collect();
        format!("{}_{suffix}", self.container)
    }

    /// The per-image container of multi-tenant mode (`MultiTenantStore.create_location`).
    pub(crate) fn multi_tenant_container(&self, image_id: &str) -> String {
        format!("{}_{image_id}", self.container)
    }
}

/// The deprecated `swift_store_auth_address` / `swift_store_user` / `swift_store_key`
/// (or application credential) options as one reference
/// (`SwiftParams._form_default_params`).
fn in_section_reference(options: &StoreOptions, version: AuthVersion) -> Option<Reference> {
    let auth_address = options.string("swift_store_auth_address")?;
    let identity = match (
        options.string("swift_store_application_credential_id"),
        options.string("swift_store_application_credential_secret"),
        options.string("swift_store_user"),
        options.string("swift_store_key"),
    ) {
        (Some(id), Some(secret), _, _) => Identity::AppCredential { id, secret },
        (_, _, Some(user), Some(key)) => Identity::Password { user, key },
        _ => return None,
    };
    Some(Reference {
        auth_address,
        identity,
        auth_version: version,
        user_domain: default_domain(),
        project_domain: default_domain(),
    })
}

/// Reads every reference of the credentials file (`SwiftParams._load_config`). A
/// malformed section is skipped with a warning, as upstream; an unreadable file is a
/// configuration error.
fn load_config_file(
    options: &StoreOptions,
    path: &std::path::Path,
    default_version: AuthVersion,
) -> Result<BTreeMap<String, Reference>, StoreError> {
    let bad = |reason: String| options.invalid("swift_store_config_file", reason);
    let text = std::fs::read_to_string(path)
        .map_err(|e| bad(format!("cannot read {}: {e}", path.display())))?;
    let file =
        SwiftConfigFile::parse(&text).map_err(|e| bad(format!("{}: {e}", path.display())))?;
    let mut references = BTreeMap::new();
    for name in file.sections() {
        match reference_from_file(&file, name, default_version) {
            Ok(reference) => {
                references.insert(name.to_string(), reference);
            }
            Err(reason) => tracing::warn!(
                file = %path.display(),
                reference = name,
                %reason,
                "skipping an unusable swift account reference"
            ),
        }
    }
    Ok(references)
}

fn reference_from_file(
    file: &SwiftConfigFile,
    name: &str,
    default_version: AuthVersion,
) -> Result<Reference, String> {
    let get = |key: &str| file.get(name, key);
    let required = |key: &str| get(key)?.ok_or_else(|| format!("'{key}' is missing"));
    let identity = match (
        get("application_credential_id")?,
        get("application_credential_secret")?,
    ) {
        (Some(id), Some(secret)) => Identity::AppCredential { id, secret },
        (Some(_), None) | (None, Some(_)) => {
            return Err("application_credential_id and _secret go together".into())
        }
        (None, None) => Identity::Password {
            user: required("user")?,
            key: required("key")?,
        },
    };
    let auth_version = match get("auth_version")? {
        None => default_version,
        Some(v) => {
            AuthVersion::parse(&v).ok_or_else(|| format!("auth_version '{v}' is not 1, 2 or 3"))?
        }
    };
    let domain = |id: &str, name: &str| -> Result<Domain, String> {
        Ok(match (get(id)?, get(name)?) {
            (Some(id), _) => Domain::Id(id),
            (None, Some(name)) => Domain::Name(name),
            (None, None) => default_domain(),
        })
    };
    Ok(Reference {
        auth_address: required("auth_address")?,
        identity,
        auth_version,
        user_domain: domain("user_domain_id", "user_domain_name")?,
        project_domain: domain("project_domain_id", "project_domain_name")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(seed: &str) -> SwiftSettings {
        let options = StoreOptions::new("glance_store", BTreeMap::new())
            .with("swift_store_multiple_containers_seed", seed);
        SwiftSettings::parse(&options).unwrap()
    }

    #[test]
    fn container_names_follow_the_seed() {
        let id = "FDAE39A1-bac5-4238-aba4-69bcc726e848";
        assert_eq!(settings("0").single_tenant_container(id), "glance");
        assert_eq!(settings("3").single_tenant_container(id), "glance_fda");
        // Upstream's own example: N=10 gives 'glance_fdae39a1-ba'.
        assert_eq!(
            settings("10").single_tenant_container(id),
            "glance_fdae39a1-ba"
        );
        assert_eq!(
            settings("0").multi_tenant_container(id),
            format!("glance_{id}")
        );
    }

    #[test]
    fn defaults_are_upstreams() {
        let s = settings("0");
        assert_eq!(s.large_object_size, 5120 * 1000 * 1024);
        assert_eq!(s.large_object_chunk_size, 200 * 1000 * 1024);
        assert_eq!(s.endpoint_type, "publicURL");
        assert_eq!(s.service_type, "object-store");
        assert_eq!(s.default_reference, "ref1");
        assert_eq!(s.expire_soon, Duration::from_secs(60));
        assert!(!s.create_container_on_put && !s.multi_tenant);
        assert!(s.references.is_empty());
    }

    #[test]
    fn bad_values_name_the_option() {
        let options =
            StoreOptions::new("swift1", BTreeMap::new()).with("swift_store_auth_version", "4");
        let err = SwiftSettings::parse(&options).unwrap_err().to_string();
        assert!(err.contains("swift_store_auth_version"), "{err}");
        let options = StoreOptions::new("swift1", BTreeMap::new())
            .with("swift_store_multi_tenant", "true")
            .with("swift_store_config_file", "/etc/glance/glance-swift.conf");
        assert!(SwiftSettings::parse(&options).is_err());
    }
}
