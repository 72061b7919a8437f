//! Start-up shared by the binaries and the integration tests: settings in, a ready
//! application out.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use glance_api::AppState;
use glance_config::Settings;
use glance_core::{Glance, Stores};
use glance_db::{Db, PoolSettings};
use glance_domain::schema::{ImageSchemaConfig, Schemas};

mod access;

/// The database URL: the configured one, or the embedded SQLite file.
pub fn database_url(settings: &Settings) -> anyhow::Result<String> {
    if let Some(url) = &settings.database.connection {
        return Ok(url.clone());
    }
    let path = absolute(&settings.data_dir.join("glance.sqlite"))?;
    // SQLAlchemy's form for an absolute path: "sqlite:///" followed by "/abs/path".
    Ok(format!("sqlite:///{}", path.display()))
}

fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
    if path.is_absolute() {
        return Ok(path.to_path_buf());
    }
    Ok(std::env::current_dir()?.join(path))
}

/// Finds the operator's `schema-image.json` in the config directories (first wins,
/// as oslo.config's find_file).
fn schema_config(settings: &Settings) -> anyhow::Result<ImageSchemaConfig> {
    let mut extra = None;
    for dir in &settings.config_dirs {
        let candidate = dir.join("schema-image.json");
        if candidate.is_file() {
            let text = std::fs::read_to_string(&candidate)
                .with_context(|| format!("reading {}", candidate.display()))?;
            let value: serde_json::Value = serde_json::from_str(&text)
                .with_context(|| format!("{} is not valid JSON", candidate.display()))?;
            tracing::info!(path = %candidate.display(), "loaded image schema properties");
            extra = Some(value);
            break;
        }
    }
    Ok(ImageSchemaConfig {
        disk_formats: settings.image_format.disk_formats.clone(),
        container_formats: settings.image_format.container_formats.clone(),
        extra_properties: extra,
    })
}

/// Opens (and if needed creates) the database and stores, and builds the app state.
pub async fn build_state(settings: Settings) -> anyhow::Result<AppState> {
    std::fs::create_dir_all(&settings.data_dir)
        .with_context(|| format!("creating data directory {}", settings.data_dir.display()))?;
    let url = database_url(&settings)?;
    let pool = PoolSettings {
        max_connections: settings.database.max_pool_size.unwrap_or(8).max(1),
        ..PoolSettings::default()
    };
    let db = Db::connect(&url, &pool)
        .await
        .with_context(|| format!("connecting to the database {}", glance_db::redact_url(&url)))?;
    db.migrate()
        .await
        .context("preparing the database schema")?;
    let stores = Stores::from_settings(&settings).map_err(|e| anyhow::anyhow!("{e}"))?;
    let schemas = Schemas::build(&schema_config(&settings)?).map_err(|e| anyhow::anyhow!("{e}"))?;
    let policy = Arc::new(access::load_policy(&settings)?);
    let protections = access::load_protections(&settings, &policy)?.map(Arc::new);
    let auth = access::build_authenticator(&settings, policy.clone())?;
    let glance = Glance::new(db, stores, Arc::new(settings), Arc::new(schemas))
        .with_access(policy, protections);
    Ok(AppState::new(glance, auth))
}
