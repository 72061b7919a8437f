//! The use cases of the image service. This is the only crate that combines the
//! database, the stores and the access rules; `glance-api` calls it and turns its
//! results and [`CoreError`]s into HTTP.

pub mod access;
mod create;
mod data;
mod error;
mod guard;
mod images;
mod import;
mod inspection;
mod list_params;
mod location_import;
mod location_patch;
mod locations;
mod members;
pub mod metadefs;
mod protection;
mod registry;
mod scrubber;
mod stores;
mod tags;
mod tasks;
mod tasks_api;
mod update;
pub mod v1;

use std::sync::Arc;

use glance_auth::policy::Enforcer;
use glance_auth::protections::PropertyProtections;
use glance_config::Settings;
use glance_db::Db;
use glance_domain::schema::Schemas;

pub use data::{Download, RangeSpec, UploadRequest};
pub use error::{CoreError, CoreResult};
pub use import::{ImportMethod, ImportRequest};
pub use list_params::ListPage;
pub use locations::ValidationData;
pub use scrubber::ScrubReport;
pub use stores::Stores;
pub use tasks_api::{TaskListParams, TaskPage};

/// Everything a use case needs; cheap to clone (shared parts are behind `Arc`s).
#[derive(Clone)]
pub struct Glance {
    pub db: Db,
    pub stores: Stores,
    pub settings: Arc<Settings>,
    pub schemas: Arc<Schemas>,
    /// The policy rules (upstream's defaults unless a policy file overrides them).
    pub policy: Arc<Enforcer>,
    /// `property_protection_file`, when configured.
    pub protections: Option<Arc<PropertyProtections>>,
}

impl Glance {
    /// With upstream's default policy and no property protections.
    pub fn new(db: Db, stores: Stores, settings: Arc<Settings>, schemas: Arc<Schemas>) -> Self {
        Glance {
            db,
            stores,
            settings,
            schemas,
            policy: Arc::new(Enforcer::with_defaults()),
            protections: None,
        }
    }

    pub fn with_access(
        mut self,
        policy: Arc<Enforcer>,
        protections: Option<Arc<PropertyProtections>>,
    ) -> Self {
        self.policy = policy;
        self.protections = protections;
        self
    }
}

/// A configured quota as a maximum count (negative values mean unlimited).
pub(crate) fn quota(limit: i64) -> Option<usize> {
    usize::try_from(limit).ok()
}
