//! Typed settings parsed from upstream-style (oslo.config INI) `glance-api.conf` files.

mod auth;
mod error;
mod ini;
mod interpolate;
mod layers;
mod load;
pub mod option_types;
mod reader;
mod search_path;
mod settings;
mod stores;

pub use auth::{KeystoneAuthtokenSettings, PolicySettings};
pub use error::ConfigError;
pub use load::{load, load_for_program, load_from_str, LoadOptions, API_PROGRAM};
pub use settings::{
    BackendSettings, DatabaseSettings, GlanceStoreSettings, ImageFormatSettings, RawConfig,
    ScrubberSettings, Settings, DEFAULT_CONTAINER_FORMATS, DEFAULT_DISK_FORMATS,
};
pub use stores::{store_type_of_entry, store_type_of_scheme};
