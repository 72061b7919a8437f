//! The configured stores: those of `[glance_store] stores` in single-store mode, or
//! one per `enabled_backends` entry.

use std::sync::Arc;

use glance_auth::RequestContext;
use glance_config::Settings;
use glance_store::registry::{open_store, StoreEnv};
use glance_store::remote::ssrf::UriFilter;
use glance_store::{FilesystemStore, Store, StoreCaller, StoreInfo, StoreOptions};

use crate::{CoreError, CoreResult};

/// Every store this node writes to and reads from.
#[derive(Clone)]
pub struct Stores {
    stores: Vec<Arc<dyn Store>>,
    default_index: usize,
    multi: bool,
    /// `[import_filtering_opts]`: the URLs callers may make us fetch.
    uri_filter: UriFilter,
    /// Where staged and downloaded data waits for an import (upstream's
    /// `os_glance_staging_store`); never listed among the stores.
    staging: Arc<FilesystemStore>,
    /// Fetches web-download URLs, under the same filter as http locations.
    web: Arc<dyn Store>,
}

impl Stores {
    pub fn from_settings(settings: &Settings) -> CoreResult<Stores> {
        let default_images_dir = settings.data_dir.join("images");
        let filtering = StoreOptions::new(
            "import_filtering_opts",
            settings.import_filtering_opts.clone(),
        );
        let uri_filter = UriFilter::from_options(&filtering).map_err(startup_error)?;
        let (staging, web) = import_stores(settings, &uri_filter)?;
        if settings.multi_store() {
            let mut stores: Vec<Arc<dyn Store>> = Vec::new();
            for (id, kind) in &settings.enabled_backends {
                let section = settings.backends.get(id);
                let info = StoreInfo {
                    id: id.clone(),
                    store_type: kind.clone(),
                    description: section.and_then(|s| s.store_description.clone()),
                    weight: section.map(|s| s.weight).unwrap_or(0),
                    read_only: kind == "http",
                };
                let dir = section
                    .and_then(|s| s.filesystem_store_datadir.clone())
                    .unwrap_or_else(|| default_images_dir.join(id));
                let options = StoreOptions::new(
                    id.clone(),
                    section.map(|s| s.options.clone()).unwrap_or_default(),
                );
                let env = StoreEnv {
                    file_datadir: dir,
                    uri_filter: uri_filter.clone(),
                };
                stores.push(open_store(info, &options, &env).map_err(startup_error)?);
            }
            let default_id = settings
                .glance_store
                .default_backend
                .clone()
                .unwrap_or_default();
            let default_index = stores
                .iter()
                .position(|s| s.info().id == default_id)
                .ok_or_else(|| {
                    CoreError::Internal(format!("default_backend '{default_id}' is not enabled"))
                })?;
            return Ok(Stores {
                stores,
                default_index,
                multi: true,
                uri_filter,
                staging,
                web,
            });
        }
        // Single-store mode: every listed driver is loaded (reads of `http` locations
        // need the http store even when images are written to files), all configured
        // from `[glance_store]`.
        let options = StoreOptions::new("glance_store", settings.glance_store.options.clone());
        let dir = settings
            .glance_store
            .filesystem_store_datadir
            .clone()
            .unwrap_or(default_images_dir);
        let scheme = settings.glance_store.default_store.as_str();
        let default_type = glance_config::store_type_of_scheme(scheme).unwrap_or(scheme);
        let mut types: Vec<&str> = settings
            .glance_store
            .stores
            .iter()
            .map(|entry| glance_config::store_type_of_entry(entry))
            .collect();
        if !types.contains(&default_type) {
            types.push(default_type);
        }
        let mut stores: Vec<Arc<dyn Store>> = Vec::new();
        for kind in types {
            if stores.iter().any(|s| s.info().store_type == kind) {
                continue;
            }
            let info = StoreInfo {
                id: kind.to_string(),
                store_type: kind.to_string(),
                read_only: kind == "http",
                ..Default::default()
            };
            let env = StoreEnv {
                file_datadir: dir.clone(),
                uri_filter: uri_filter.clone(),
            };
            match open_store(info, &options, &env) {
                Ok(store) => stores.push(store),
                // As glance_store: a listed driver that cannot start is left out,
                // unless it is the one new images go to.
                Err(e) if kind != default_type => {
                    tracing::warn!(store = kind, error = %e, "store disabled")
                }
                Err(e) => return Err(startup_error(e)),
            }
        }
        let default_index = stores
            .iter()
            .position(|s| s.info().store_type == default_type)
            .ok_or_else(|| CoreError::Internal("no default store".into()))?;
        Ok(Stores {
            stores,
            default_index,
            multi: false,
            uri_filter,
            staging,
            web,
        })
    }

    /// The filter remote URLs from callers must pass (schemes, hosts, ports and
    /// the private-address rule); names are checked again when they resolve.
    pub fn uri_filter(&self) -> &UriFilter {
        &self.uri_filter
    }

    /// The staging area of the import methods.
    pub fn staging(&self) -> &Arc<FilesystemStore> {
        &self.staging
    }

    /// The reader of web-download URLs.
    pub fn web(&self) -> &Arc<dyn Store> {
        &self.web
    }

    pub fn multi_store(&self) -> bool {
        self.multi
    }

    pub fn default_store(&self) -> &Arc<dyn Store> {
        &self.stores[self.default_index]
    }

    pub fn all(&self) -> &[Arc<dyn Store>] {
        &self.stores
    }

    pub fn by_id(&self, id: &str) -> Option<&Arc<dyn Store>> {
        self.stores.iter().find(|s| s.info().id == id)
    }

    /// The store a location belongs to: the one its `store` metadata names (multi-
    /// store), else the first that recognises the URI.
    pub fn for_location(&self, url: &str) -> Option<&Arc<dyn Store>> {
        self.stores.iter().find(|s| s.owns(url))
    }
}

/// The reserved staging store (a directory) and the web-download reader.
fn import_stores(
    settings: &Settings,
    uri_filter: &UriFilter,
) -> CoreResult<(Arc<FilesystemStore>, Arc<dyn Store>)> {
    let env = StoreEnv {
        file_datadir: settings.staging_dir(),
        uri_filter: uri_filter.clone(),
    };
    let staging_info = StoreInfo {
        id: STAGING_STORE_ID.into(),
        store_type: "file".into(),
        ..Default::default()
    };
    let staging = Arc::new(
        FilesystemStore::new(staging_info, settings.staging_dir()).map_err(startup_error)?,
    );
    let web_info = StoreInfo {
        id: "web-download".into(),
        store_type: "http".into(),
        read_only: true,
        ..Default::default()
    };
    let web_options = StoreOptions::new("web-download", Default::default());
    let web = open_store(web_info, &web_options, &env).map_err(startup_error)?;
    Ok((staging, web))
}

/// Upstream's name for the reserved staging store.
pub const STAGING_STORE_ID: &str = "os_glance_staging_store";

fn startup_error(e: glance_store::StoreError) -> CoreError {
    CoreError::Internal(format!("store configuration: {e}"))
}

/// The caller as stores see it (multi-tenant Swift acts with the caller's token).
pub fn store_caller(ctx: &RequestContext) -> StoreCaller {
    StoreCaller {
        auth_token: ctx.auth_token.clone(),
        project_id: ctx.project_id.clone(),
        object_store_url: None,
    }
}
