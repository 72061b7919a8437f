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
pub mod control;
pub mod logging;
pub mod manage;
pub mod scrubber;
pub mod serving;

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

/// `[database]` as the pool understands it; unset options keep oslo.db's defaults.
pub fn pool_settings(db: &glance_config::DatabaseSettings) -> PoolSettings {
    let defaults = PoolSettings::default();
    let secs = std::time::Duration::from_secs;
    PoolSettings {
        pool_size: db.max_pool_size.unwrap_or(defaults.pool_size),
        max_overflow: db.max_overflow.unwrap_or(defaults.max_overflow),
        acquire_timeout: db
            .pool_timeout
            .map(secs)
            .unwrap_or(defaults.acquire_timeout),
        // oslo.db: a recycle time of 0 or less means connections are never recycled.
        recycle_time: (db.connection_recycle_time > 0).then(|| secs(db.connection_recycle_time)),
        connect_retries: db.max_retries.unwrap_or(defaults.connect_retries),
        retry_interval: db
            .retry_interval
            .map(secs)
            .unwrap_or(defaults.retry_interval),
        ..defaults
    }
}

/// Opens (and if needed creates) the database and stores, and builds the app state.
pub async fn build_state(settings: Settings) -> anyhow::Result<AppState> {
    std::fs::create_dir_all(&settings.data_dir)
        .with_context(|| format!("creating data directory {}", settings.data_dir.display()))?;
    let url = database_url(&settings)?;
    let pool = pool_settings(&settings.database);
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::pool_settings;

    fn pool(ini: &str) -> glance_db::PoolSettings {
        pool_settings(&glance_config::load_from_str(ini).unwrap().database)
    }

    #[test]
    fn oslo_db_defaults_when_unset() {
        let p = pool("");
        assert_eq!(
            (p.pool_size, p.max_overflow, p.max_connections()),
            (5, 50, 55)
        );
        assert_eq!(p.acquire_timeout, Duration::from_secs(30));
        assert_eq!(p.recycle_time, Some(Duration::from_secs(3600)));
        assert_eq!(
            (p.connect_retries, p.retry_interval),
            (10, Duration::from_secs(10))
        );
    }

    #[test]
    fn database_options_and_their_old_names() {
        let p = pool(
            "[database]\nmax_pool_size = 3\nmax_overflow = 2\npool_timeout = 7\n\
             connection_recycle_time = 120\nmax_retries = -1\nretry_interval = 1\n",
        );
        assert_eq!(
            (p.pool_size, p.max_overflow, p.max_connections()),
            (3, 2, 5)
        );
        assert_eq!(p.acquire_timeout, Duration::from_secs(7));
        assert_eq!(p.recycle_time, Some(Duration::from_secs(120)));
        assert_eq!(
            (p.connect_retries, p.retry_interval),
            (-1, Duration::from_secs(1))
        );
        // The seeds' [DEFAULT] sql_idle_timeout is the recycle time; 0 turns it off.
        let seeds = pool("[DEFAULT]\nsql_idle_timeout = 0\nsql_max_retries = 2\n");
        assert_eq!((seeds.recycle_time, seeds.connect_retries), (None, 2));
        assert_eq!(
            pool("[DEFAULT]\nsql_idle_timeout = 30\n").recycle_time,
            Some(Duration::from_secs(30))
        );
    }
}
