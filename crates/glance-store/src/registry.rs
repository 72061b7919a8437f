//! Builds a driver from its type name and options: the one place that knows every
//! driver (upstream's `glance_store.drivers` entry points).

use std::path::Path;
use std::sync::Arc;

use crate::{FilesystemStore, Store, StoreError, StoreInfo, StoreOptions};

/// Store types this build can run.
pub fn supported_types() -> Vec<&'static str> {
    let types = vec!["file"];
    types
}

/// Opens the store of `info.store_type` configured by `options`. `file_datadir` is
/// where a `file` store keeps images (the config layer resolved
/// `filesystem_store_datadir` and its default already).
pub fn open_store(
    info: StoreInfo,
    options: &StoreOptions,
    file_datadir: &Path,
) -> Result<Arc<dyn Store>, StoreError> {
    match info.store_type.as_str() {
        "file" => Ok(Arc::new(FilesystemStore::new(
            info,
            file_datadir.to_path_buf(),
        )?)),
        other => Err(StoreError::Config {
            group: options.group().to_string(),
            option: "store type".into(),
            reason: format!(
                "'{other}' is not supported by this build (supported: {})",
                supported_types().join(", ")
            ),
        }),
    }
}
