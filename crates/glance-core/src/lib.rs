//! The use cases of the image service. This is the only crate that combines the
//! database, the stores and the access rules; `glance-api` calls it and turns its
//! results and [`CoreError`]s into HTTP.

pub mod access;
mod create;
mod data;
mod error;
mod images;
mod inspection;
mod list_params;
mod members;
mod stores;
mod tags;
mod update;

use std::sync::Arc;

use glance_config::Settings;
use glance_db::Db;
use glance_domain::schema::Schemas;

pub use data::{Download, RangeSpec, UploadRequest};
pub use error::{CoreError, CoreResult};
pub use list_params::ListPage;
pub use stores::Stores;

/// Everything a use case needs; cheap to clone (shared parts are behind `Arc`s).
#[derive(Clone)]
pub struct Glance {
    pub db: Db,
    pub stores: Stores,
    pub settings: Arc<Settings>,
    pub schemas: Arc<Schemas>,
}

impl Glance {
    pub fn new(db: Db, stores: Stores, settings: Arc<Settings>, schemas: Arc<Schemas>) -> Self {
        Glance {
            db,
            stores,
            settings,
            schemas,
        }
    }
}

/// A configured quota as a maximum count (negative values mean unlimited).
pub(crate) fn quota(limit: i64) -> Option<usize> {
    usize::try_from(limit).ok()
}
