//! `glance-manage`: the operator's database commands, with upstream's names,
//! arguments, messages and exit codes (`db sync`, `db check`, `db purge`, ...) and
//! the legacy spellings (`db_sync`, `db_version`, ...).
//!
//! Our schema is created whole at upstream's head revision; there is no step-wise
//! migration. A database at an older upstream revision is refused with a message
//! that says how to bring it to the head.

use std::path::PathBuf;

use anyhow::Context;
use chrono::{Duration, Utc};
use clap::{Args, Parser, Subcommand};
use glance_db::{Db, SchemaState, KNOWN_REVISIONS, SCHEMA_VERSION};

pub mod metadefs;

/// upstream's `metadata_source_path` default.
pub const DEFAULT_METADEFS_PATH: &str = "/etc/glance/metadefs/";

#[derive(Parser, Debug)]
#[command(name = "glance-manage", version, about = "Glance database management")]
pub struct Cli {
    /// Path to a config file (oslo INI); may be repeated.
    #[arg(long = "config-file", global = true)]
    pub config_file: Vec<PathBuf>,
    /// Directory of *.conf files loaded after the config files; may be repeated.
    #[arg(long = "config-dir", global = true)]
    pub config_dir: Vec<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Database commands.
    #[command(subcommand)]
    Db(DbCommand),
    #[command(name = "db_sync", hide = true)]
    LegacySync { version: Option<String> },
    #[command(name = "db_upgrade", hide = true)]
    LegacyUpgrade { version: Option<String> },
    #[command(name = "db_version", hide = true)]
    LegacyVersion,
    #[command(name = "db_version_control", hide = true)]
    LegacyVersionControl { version: Option<String> },
    #[command(name = "db_check", hide = true)]
    LegacyCheck,
    #[command(name = "db_load_metadefs", hide = true)]
    LegacyLoadMetadefs {
        path: Option<PathBuf>,
        merge: Option<String>,
        prefer_new: Option<String>,
        overwrite: Option<String>,
    },
    #[command(name = "db_unload_metadefs", hide = true)]
    LegacyUnloadMetadefs,
    #[command(name = "db_export_metadefs", hide = true)]
    LegacyExportMetadefs { path: Option<PathBuf> },
}

#[derive(Subcommand, Debug)]
pub enum DbCommand {
    /// Perform a complete (offline) database migration.
    Sync {
        #[arg(long)]
        version: Option<String>,
        /// Upstream takes the version positionally too.
        #[arg(hide = true)]
        positional: Option<String>,
    },
    /// Upgrade the database's migration level.
    Upgrade {
        #[arg(long)]
        version: Option<String>,
    },
    /// Print database's current migration level.
    Version,
    /// Place a database under migration control.
    #[command(name = "version_control")]
    VersionControl {
        #[arg(long)]
        version: Option<String>,
    },
    /// Report any pending database upgrades.
    Check,
    /// Purge deleted rows older than a given age from glance tables.
    Purge(PurgeArgs),
    /// Purge deleted rows older than a given age from images table.
    #[command(name = "purge_images_table")]
    PurgeImagesTable(PurgeArgs),
    /// Load metadefinition json files to database.
    #[command(name = "load_metadefs")]
    LoadMetadefs(LoadMetadefsArgs),
    /// Unload metadefinitions from database.
    #[command(name = "unload_metadefs")]
    UnloadMetadefs,
    /// Export metadefinitions data from database to files.
    #[command(name = "export_metadefs")]
    ExportMetadefs {
        #[arg(long)]
        path: Option<PathBuf>,
    },
}

#[derive(Args, Debug)]
pub struct PurgeArgs {
    /// Purge deleted rows older than age in days.
    #[arg(long = "age_in_days", allow_hyphen_values = true)]
    pub age_in_days: Option<String>,
    /// Limit number of records to delete; -1 purges all deleted rows.
    #[arg(long = "max_rows", allow_hyphen_values = true)]
    pub max_rows: Option<String>,
}

#[derive(Args, Debug, Default)]
pub struct LoadMetadefsArgs {
    /// Path to the directory or file where json metadata is stored.
    #[arg(long)]
    pub path: Option<PathBuf>,
    /// Merge files with data that is in the database (existing data wins).
    #[arg(long)]
    pub merge: bool,
    /// With --merge: prefer new metadata over existing.
    #[arg(long = "prefer_new")]
    pub prefer_new: bool,
    /// With --merge: drop and rewrite metadata.
    #[arg(long)]
    pub overwrite: bool,
}

/// How a command ended: the process exit code and, for failures, the message
/// upstream's `sys.exit(message)` prints on stderr.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// `db check`'s "upgrade needed" codes (3: expand, 4: migrate, 5: contract).
    Code(u8),
    Failed(String),
}

/// Runs one command against the database of `settings`.
pub async fn run(command: Command, settings: &glance_config::Settings) -> anyhow::Result<Outcome> {
    let url = crate::database_url(settings)?;
    let db = Db::connect(&url, &crate::pool_settings(&settings.database))
        .await
        .with_context(|| format!("connecting to the database {}", glance_db::redact_url(&url)))?;
    let outcome = dispatch(command, &db, settings).await;
    db.close().await;
    outcome
}

async fn dispatch(
    command: Command,
    db: &Db,
    settings: &glance_config::Settings,
) -> anyhow::Result<Outcome> {
    let metadefs_path = |path: Option<PathBuf>| {
        path.or_else(|| {
            settings
                .raw
                .get("default", "metadata_source_path")
                .map(PathBuf::from)
        })
        .unwrap_or_else(|| PathBuf::from(DEFAULT_METADEFS_PATH))
    };
    let command = match command {
        Command::Db(c) => c,
        Command::LegacySync { version } => DbCommand::Sync {
            version,
            positional: None,
        },
        Command::LegacyUpgrade { version } => DbCommand::Upgrade { version },
        Command::LegacyVersion => DbCommand::Version,
        Command::LegacyVersionControl { version } => DbCommand::VersionControl { version },
        Command::LegacyCheck => DbCommand::Check,
        Command::LegacyLoadMetadefs {
            path,
            merge,
            prefer_new,
            overwrite,
        } => DbCommand::LoadMetadefs(LoadMetadefsArgs {
            path,
            // Upstream's legacy form takes them positionally; any value turns them on.
            merge: merge.is_some(),
            prefer_new: prefer_new.is_some(),
            overwrite: overwrite.is_some(),
        }),
        Command::LegacyUnloadMetadefs => DbCommand::UnloadMetadefs,
        Command::LegacyExportMetadefs { path } => DbCommand::ExportMetadefs { path },
    };
    match command {
        DbCommand::Sync {
            version,
            positional,
        } => sync(db, version.or(positional), false).await,
        DbCommand::Upgrade { version } => sync(db, version, true).await,
        DbCommand::Version => version(db).await,
        DbCommand::VersionControl { version } => version_control(db, version).await,
        DbCommand::Check => check(db).await,
        DbCommand::Purge(args) => purge(db, &args, false, 30).await,
        DbCommand::PurgeImagesTable(args) => purge(db, &args, true, 180).await,
        DbCommand::LoadMetadefs(args) => {
            let path = metadefs_path(args.path.clone());
            metadefs::load(db, &path, args.merge, args.prefer_new, args.overwrite).await
        }
        DbCommand::UnloadMetadefs => metadefs::unload(db).await,
        DbCommand::ExportMetadefs { path } => metadefs::export(db, &metadefs_path(path)).await,
    }
}

/// `db sync` and `db upgrade`: an empty database gets the whole schema at the
/// head revision; one at the head is left alone; anything else is refused.
async fn sync(db: &Db, version: Option<String>, upgrade: bool) -> anyhow::Result<Outcome> {
    if let Some(v) = version.as_deref() {
        if v != "heads" && v != "head" && v != SCHEMA_VERSION {
            return Ok(Outcome::Failed(format!(
                "ERROR: only the head revision ({SCHEMA_VERSION}) can be created; \
                 step-wise migration to '{v}' is not supported"
            )));
        }
    }
    match db.schema_state().await? {
        SchemaState::At(heads) if heads.iter().any(|h| h == SCHEMA_VERSION) => {
            println!("Database is up to date. No migrations needed.");
            Ok(Outcome::Done)
        }
        SchemaState::Empty => {
            db.migrate().await?;
            if upgrade {
                println!("Upgraded database, current revision(s): {SCHEMA_VERSION}");
            } else {
                println!("Database is synced successfully.");
            }
            Ok(Outcome::Done)
        }
        SchemaState::At(heads) => Ok(Outcome::Failed(format!(
            "Failed to sync database: ERROR: the database is at revision {}; this \
             release serves revision {SCHEMA_VERSION} only. Upgrade it with upstream \
             Glance's `glance-manage db sync` first.",
            heads.join(", ")
        ))),
        SchemaState::Unversioned => Ok(Outcome::Failed(
            "Failed to sync database: ERROR: the database has Glance tables but is not \
             under migration control; place it there with `glance-manage db \
             version_control` and upgrade it with upstream Glance's `glance-manage db sync`."
                .into(),
        )),
    }
}

async fn version(db: &Db) -> anyhow::Result<Outcome> {
    match db.schema_state().await? {
        SchemaState::At(heads) if !heads.is_empty() => {
            for head in heads {
                println!("{head}");
            }
        }
        _ => println!(
            "Database is either not under migration control or under legacy migration \
             control, please run \"glance-manage db sync\" to place the database under \
             alembic migration control."
        ),
    }
    Ok(Outcome::Done)
}

async fn version_control(db: &Db, version: Option<String>) -> anyhow::Result<Outcome> {
    let version = version.unwrap_or_else(|| KNOWN_REVISIONS[0].to_string());
    if !KNOWN_REVISIONS.contains(&version.as_str()) {
        return Ok(Outcome::Failed(format!(
            "ERROR: Can't locate revision identified by '{version}'"
        )));
    }
    db.stamp_schema_version(&version).await?;
    println!("Placed database under migration control at revision: {version}");
    Ok(Outcome::Done)
}

/// `db check`: 0 when at the head; otherwise upstream's code for the first step
/// needed (3: expand), since we cannot tell expand from contract on an old database.
async fn check(db: &Db) -> anyhow::Result<Outcome> {
    match db.schema_state().await? {
        SchemaState::At(heads) if heads.iter().any(|h| h == SCHEMA_VERSION) => {
            println!("Database is up to date. No upgrades needed.");
            Ok(Outcome::Done)
        }
        _ => {
            println!(
                "Your database is not up to date. Your first step is to run \
                 `glance-manage db expand`."
            );
            Ok(Outcome::Code(3))
        }
    }
}

/// `db purge` / `db purge_images_table`, with upstream's argument checks and messages.
async fn purge(
    db: &Db,
    args: &PurgeArgs,
    images: bool,
    default_age: i64,
) -> anyhow::Result<Outcome> {
    let age_in_days = match int_argument("age_in_days", args.age_in_days.as_deref(), default_age) {
        Ok(n) => n,
        Err(refused) => return Ok(refused),
    };
    let max_rows = match int_argument("max_rows", args.max_rows.as_deref(), 100) {
        Ok(n) => n,
        Err(refused) => return Ok(refused),
    };
    if age_in_days < 0 {
        return Ok(Outcome::Failed(
            "Must supply a non-negative value for age.".into(),
        ));
    }
    let days_since_epoch = Utc::now().timestamp() / 86_400;
    if age_in_days >= days_since_epoch {
        return Ok(Outcome::Failed(
            "Maximal age is count of days since epoch.".into(),
        ));
    }
    if max_rows < -1 {
        return Ok(Outcome::Failed("Minimal rows limit is -1.".into()));
    }
    if max_rows > i64::from(i32::MAX) {
        return Ok(Outcome::Failed(format!(
            "'max_rows' value out of range, must not exceed {}.",
            i32::MAX
        )));
    }
    let cutoff = (Utc::now() - Duration::days(age_in_days)).naive_utc();
    let limit = u64::try_from(max_rows).ok();
    let result = if images {
        db.purge_deleted_images(cutoff, limit)
            .await
            .map(|rows| vec![("images", rows)])
    } else {
        db.purge_deleted_rows(cutoff, limit).await
    };
    match result {
        Ok(report) => {
            for (table, rows) in report {
                tracing::info!("Deleted {rows} row(s) from table {table}");
            }
            Ok(Outcome::Done)
        }
        Err(e) => {
            tracing::error!(error = %e, "purge failed");
            Ok(Outcome::Failed(
                "Purge command failed, check glance-manage logs for more details.".into(),
            ))
        }
    }
}

/// An integer option as upstream parses it, or upstream's refusal naming it.
fn int_argument(name: &str, value: Option<&str>, default: i64) -> Result<i64, Outcome> {
    match value {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse()
            .map_err(|_| Outcome::Failed(format!("Invalid int value for {name}: {v}"))),
    }
}
