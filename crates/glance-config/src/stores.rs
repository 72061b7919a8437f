//! Store configuration (glance_store): `[DEFAULT] enabled_backends`, the
//! `[glance_store]` options (once in `[DEFAULT]`, which we still read) and
//! one `[<id>]` section per enabled backend; then the start-up checks
//! glance and glance_store make (`verify_store`, `verify_default_store`).

use std::collections::BTreeMap;

use crate::error::{display_group, ConfigError};
use crate::layers::Found;
use crate::option_types;
use crate::reader::{invalid, OptionReader};
use crate::settings::{BackendSettings, Settings};

const DEFAULT: &str = "default";
const GLANCE_STORE: &str = "glance_store";

/// Store types glance_store ships (the `glance_store.drivers` entry points).
const STORE_TYPES: &[&str] = &["file", "http", "swift", "rbd", "cinder", "vmware", "s3"];

/// `default_store` choices and the store type serving each scheme.
const SCHEMES: &[(&str, &str)] = &[
    ("file", "file"),
    ("filesystem", "file"),
    ("http", "http"),
    ("https", "http"),
    ("swift", "swift"),
    ("swift+http", "swift"),
    ("swift+https", "swift"),
    ("swift+config", "swift"),
    ("rbd", "rbd"),
    ("cinder", "cinder"),
    ("vsphere", "vmware"),
    ("s3", "s3"),
];

pub(crate) fn read_stores(reader: &OptionReader<'_>, s: &mut Settings) -> Result<(), ConfigError> {
    let enabled = reader.find(&[(DEFAULT, "enabled_backends")]);
    if let Some(found) = &enabled {
        s.enabled_backends =
            option_types::parse_dict(&found.value).map_err(|reason| invalid(found, reason))?;
        if let Some((id, _)) = s
            .enabled_backends
            .iter()
            .find(|(id, _)| id.starts_with("os_glance_"))
        {
            let reason =
                format!("store id {id}: the 'os_glance_' prefix is reserved for internal use");
            return Err(invalid(found, reason));
        }
    }

    let stores = reader.find(&[(GLANCE_STORE, "stores"), (DEFAULT, "known_stores")]);
    if let Some(found) = &stores {
        s.glance_store.stores =
            option_types::parse_list(&found.value).map_err(|reason| invalid(found, reason))?;
    }
    let default_store = reader.find(&[(GLANCE_STORE, "default_store"), (DEFAULT, "default_store")]);
    if let Some(found) = &default_store {
        s.glance_store.default_store = found.value.clone();
    }
    s.glance_store.filesystem_store_datadir = reader.path(&[
        (GLANCE_STORE, "filesystem_store_datadir"),
        (DEFAULT, "filesystem_store_datadir"),
    ]);
    let default_backend = reader.find(&[(GLANCE_STORE, "default_backend")]);
    s.glance_store.default_backend = default_backend
        .as_ref()
        .map(|found| found.value.clone())
        .filter(|value| !value.is_empty());

    s.backends = read_backends(reader, &s.enabled_backends)?;
    if !s.multi_store() {
        let mut options = reader.layers().section(DEFAULT);
        options.extend(reader.layers().section(GLANCE_STORE));
        s.glance_store.options = options;
        // Driver options are read by the drivers; they are not unknown options.
        reader.mark_section_read(GLANCE_STORE);
    }

    if s.multi_store() {
        verify_default_backend(s, default_backend.as_ref())
    } else {
        verify_default_store(s, default_store.as_ref(), stores.as_ref())
    }
}

fn read_backends(
    reader: &OptionReader<'_>,
    enabled: &[(String, String)],
) -> Result<BTreeMap<String, BackendSettings>, ConfigError> {
    let mut backends = BTreeMap::new();
    for (id, store_type) in enabled {
        if !STORE_TYPES.contains(&store_type.as_str()) {
            tracing::warn!(
                "store {id} has the unknown type {store_type:?} (known: {}); it will be disabled",
                STORE_TYPES.join(", ")
            );
        }
        let section = id.to_ascii_lowercase();
        let group = section.as_str();
        if !reader.layers().has_section(group) {
            tracing::debug!("no [{id}] section for enabled backend {id}; using defaults");
        }
        let backend = BackendSettings {
            store_type: store_type.clone(),
            store_description: reader.string(&[(group, "store_description")]),
            weight: reader
                .int(&[(group, "weight")], i64::MIN, i64::MAX)?
                .unwrap_or(0),
            filesystem_store_datadir: reader.path(&[(group, "filesystem_store_datadir")]),
            options: reader.layers().section(group),
        };
        reader.mark_section_read(group);
        backends.insert(id.clone(), backend);
    }
    Ok(backends)
}

/// glance_store's `verify_store`: multi-store needs a `default_backend` that
/// names an enabled backend.
fn verify_default_backend(s: &Settings, found: Option<&Found>) -> Result<(), ConfigError> {
    let ids = || {
        s.enabled_backends
            .iter()
            .map(|(id, _)| id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match (&s.glance_store.default_backend, found) {
        (Some(backend), Some(found)) => {
            if s.enabled_backends.iter().any(|(id, _)| id == backend) {
                Ok(())
            } else {
                let reason = format!("'{backend}' is not one of the enabled backends ({})", ids());
                Err(invalid(found, reason))
            }
        }
        _ => Err(ConfigError::MissingOption {
            group: GLANCE_STORE.to_string(),
            option: "default_backend".to_string(),
            reason: format!(
                "enabled_backends is set ({}), so one of them must be the default",
                ids()
            ),
        }),
    }
}

/// glance_store's `verify_default_store`: in single-store mode the
/// `default_store` scheme must be served by one of the `stores`.
fn verify_default_store(
    s: &Settings,
    default_store: Option<&Found>,
    stores: Option<&Found>,
) -> Result<(), ConfigError> {
    let scheme = s.glance_store.default_store.as_str();
    let Some(store_type) = store_type_of_scheme(scheme) else {
        let choices: Vec<&str> = SCHEMES.iter().map(|(known, _)| *known).collect();
        let reason = format!("'{scheme}' is not one of {}", choices.join(", "));
        return Err(match default_store {
            Some(found) => invalid(found, reason),
            None => default_store_error(reason),
        });
    };
    if s.glance_store
        .stores
        .iter()
        .any(|entry| store_type_of_entry(entry) == store_type)
    {
        return Ok(());
    }
    let listed = s.glance_store.stores.join(", ");
    match (default_store, stores) {
        (Some(found), _) => Err(invalid(
            found,
            format!("no store for scheme '{scheme}' is enabled (stores = {listed})"),
        )),
        (None, Some(found)) => Err(invalid(
            found,
            format!(
                "'{}' enables no store for the default_store scheme '{scheme}'",
                found.value
            ),
        )),
        (None, None) => Err(default_store_error(format!(
            "no store for scheme '{scheme}' is enabled"
        ))),
    }
}

/// The error for a default_store problem not tied to a value in a file
/// (only reachable if the built-in defaults disagreed with each other).
fn default_store_error(reason: String) -> ConfigError {
    ConfigError::MissingOption {
        group: display_group(GLANCE_STORE),
        option: "default_store".to_string(),
        reason,
    }
}

/// The store type serving a `default_store` scheme (`swift+https` -> `swift`), if
/// the scheme is one glance_store knows.
pub fn store_type_of_scheme(scheme: &str) -> Option<&'static str> {
    SCHEMES
        .iter()
        .find(|(known, _)| *known == scheme)
        .map(|&(_, store_type)| store_type)
}

/// A `stores` entry as a store type: short names as they are, and the
/// pre-Juno class paths (`glance.store.filesystem.Store`, ...) mapped to theirs.
pub fn store_type_of_entry(entry: &str) -> &str {
    match entry {
        "glance.store.filesystem.Store" => "file",
        "glance.store.http.Store" => "http",
        "glance.store.swift.Store" => "swift",
        "glance.store.rbd.Store" => "rbd",
        "glance.store.cinder.Store" => "cinder",
        "glance.store.vmware_datastore.Store" => "vmware",
        "glance.store.s3.Store" => "s3",
        other => other,
    }
}
