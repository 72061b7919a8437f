//! The configured stores: one in single-store mode, several with `enabled_backends`.

use std::path::PathBuf;
use std::sync::Arc;

use glance_config::Settings;
use glance_store::{FilesystemStore, Store, StoreInfo};

use crate::{CoreError, CoreResult};

/// Every store this node writes to and reads from.
#[derive(Clone)]
pub struct Stores {
    stores: Vec<Arc<dyn Store>>,
    default_index: usize,
    multi: bool,
}

impl Stores {
    /// Builds the stores of `settings` (filesystem only for now; other types are a
    /// startup error until their drivers exist).
    pub fn from_settings(settings: &Settings) -> CoreResult<Stores> {
        let default_images_dir = settings.data_dir.join("images");
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
                stores.push(build_store(info, dir)?);
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
            });
        }
        let kind = settings.glance_store.default_store.clone();
        let info = StoreInfo {
            id: kind.clone(),
            store_type: kind,
            ..Default::default()
        };
        let dir = settings
            .glance_store
            .filesystem_store_datadir
            .clone()
            .unwrap_or(default_images_dir);
        Ok(Stores {
            stores: vec![build_store(info, dir)?],
            default_index: 0,
            multi: false,
        })
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

    /// The store a location URI belongs to.
    pub fn for_location(&self, url: &str) -> Option<&Arc<dyn Store>> {
        self.stores.iter().find(|s| s.owns(url))
    }
}

fn build_store(info: StoreInfo, dir: PathBuf) -> CoreResult<Arc<dyn Store>> {
    match info.store_type.as_str() {
        "file" => Ok(Arc::new(FilesystemStore::new(info, dir).map_err(|e| {
            CoreError::Internal(format!("filesystem store: {e}"))
        })?)),
        other => Err(CoreError::Internal(format!(
            "store type '{other}' is not supported yet (supported: file)"
        ))),
    }
}
