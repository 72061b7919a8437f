//! Builds a driver from its type name and options: the one place that knows every
//! driver (upstream's `glance_store.drivers` entry points).

use std::path::PathBuf;
use std::sync::Arc;

use crate::remote::ssrf::UriFilter;
use crate::{FilesystemStore, Store, StoreError, StoreInfo, StoreOptions};

/// What drivers need besides their own section's options.
#[derive(Debug, Clone, Default)]
pub struct StoreEnv {
    /// Where a `file` store keeps images (the config layer resolved
    /// `filesystem_store_datadir` and its default already).
    pub file_datadir: PathBuf,
    /// `[import_filtering_opts]`: the URLs callers may make us fetch.
    pub uri_filter: UriFilter,
}

/// Store types this build can run.
pub fn supported_types() -> Vec<&'static str> {
    let mut types = vec!["file", "http", "s3"];
    types.push("swift");
    if cfg!(feature = "rbd") {
        types.push("rbd");
    }
    types
}

/// Opens the store of `info.store_type` configured by `options`.
pub fn open_store(
    info: StoreInfo,
    options: &StoreOptions,
    env: &StoreEnv,
) -> Result<Arc<dyn Store>, StoreError> {
    match info.store_type.as_str() {
        "file" => Ok(Arc::new(FilesystemStore::new(
            info,
            env.file_datadir.clone(),
        )?)),
        "http" => Ok(Arc::new(crate::http::HttpStore::new(
            info,
            options,
            env.uri_filter.clone(),
        )?)),
        #[cfg(feature = "rbd")]
        "rbd" => Ok(Arc::new(crate::rbd::RbdStore::new(info, options)?)),
        "swift" => Ok(Arc::new(crate::swift::SwiftStore::new(info, options)?)),
        "s3" => Ok(Arc::new(crate::s3::S3Store::new(info, options)?)),
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
