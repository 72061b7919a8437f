//! Builds [`Settings`] from oslo.config-style INI files: which files (see
//! `search_path.rs`), how they layer (`layers.rs`), and the mapping of the
//! options we type onto `Settings`. Every other option is kept in
//! [`Settings::raw`] and reported at debug level, as oslo ignores options
//! nobody registered.

use std::path::PathBuf;

use crate::error::{display_group, ConfigError};
use crate::ini;
use crate::layers::ConfigLayers;
use crate::option_types;
use crate::reader::{invalid, OptionReader};
use crate::search_path;
use crate::settings::{DatabaseSettings, ImageFormatSettings, ScrubberSettings, Settings};
use crate::stores;

/// The program whose `<program>.conf` [`load`] looks for.
pub const API_PROGRAM: &str = "glance-api";

/// What to read (the `--config-file`, `--config-dir` and `--data-dir` options).
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// `--config-file`s, read in order; each must exist.
    pub config_files: Vec<PathBuf>,
    /// `--config-dir`s: every `*.conf` in each, sorted by name, read after the
    /// config files; each must exist.
    pub config_dirs: Vec<PathBuf>,
    /// `--data-dir`: overrides the default `glance-data`.
    pub data_dir: Option<PathBuf>,
    /// Look for `glance.conf`/`glance-api.conf` (when no config file is
    /// given) and `glance.conf.d/`/`glance-api.conf.d/` (when no config dir
    /// is given) in `~/.glance/`, `~/`, `/etc/glance/`, `/etc/`, as oslo.config.
    /// Off in `LoadOptions::default()`, which reads nothing but the files given.
    pub use_default_search_path: bool,
    /// The seeds' strict rule: a program that finds no configuration file at all
    /// refuses to start ("Unable to locate any configuration file"). Off by
    /// default, where the built-in defaults serve without any file.
    pub require_config_file: bool,
}

const DEFAULT: &str = "default";

const HASHING_ALGORITHMS: &[&str] = &[
    "sha224",
    "sha256",
    "sha384",
    "sha512",
    "sha512_224",
    "sha512_256",
    "md5",
];
const IMPORT_METHODS: &[&str] = &[
    "glance-direct",
    "web-download",
    "copy-image",
    "glance-download",
];
const RULE_FORMATS: &[&str] = &["roles", "policies"];

/// Loads the settings of `glance-api`.
pub fn load(opts: &LoadOptions) -> Result<Settings, ConfigError> {
    load_for_program(API_PROGRAM, opts)
}

/// Loads the settings of another Glance program (`glance-manage`,
/// `glance-scrubber`, ...): its default config file is `<program>.conf`.
pub fn load_for_program(program: &str, opts: &LoadOptions) -> Result<Settings, ConfigError> {
    let sources = search_path::collect(program, opts)?;
    if opts.require_config_file && sources.files.is_empty() {
        return Err(ConfigError::NoConfigFile {
            program: program.to_string(),
        });
    }
    let mut files = Vec::with_capacity(sources.files.len());
    for path in &sources.files {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::io(path, source))?;
        files.push(ini::parse(&text, Some(path.clone()))?);
    }
    tracing::debug!(files = ?sources.files, "reading configuration files");
    let mut settings = build(&ConfigLayers::new(files), program)?;
    settings.config_files = sources.files;
    settings.config_dirs = sources.config_dirs;
    if let Some(data_dir) = &opts.data_dir {
        settings.data_dir = data_dir.clone();
    }
    Ok(settings)
}

/// Loads settings from one INI document (for tests and embedding).
pub fn load_from_str(text: &str) -> Result<Settings, ConfigError> {
    let file = ini::parse(text, None)?;
    build(&ConfigLayers::new(vec![file]), API_PROGRAM)
}

fn build(layers: &ConfigLayers, program: &str) -> Result<Settings, ConfigError> {
    let reader = OptionReader::new(layers);
    let mut settings = Settings::default();
    read_default_group(&reader, &mut settings, program)?;
    settings.paste_flavor = reader.string(&[("paste_deploy", "flavor")]);
    crate::auth::read_auth(&reader, &mut settings)?;
    settings.database = read_database(&reader)?;
    settings.image_format = read_image_format(&reader)?;
    stores::read_stores(&reader, &mut settings)?;
    settings.scrubber = read_scrubber(&reader)?;
    report_unread(&reader);
    settings.raw = layers.raw_config();
    Ok(settings)
}

fn read_default_group(
    reader: &OptionReader<'_>,
    s: &mut Settings,
    program: &str,
) -> Result<(), ConfigError> {
    if let Some(host) = reader.string(&[(DEFAULT, "bind_host")]) {
        s.bind_host = host;
    }
    // The registry listens on 9191 unless told otherwise (the seeds' default).
    if program == "glance-registry" {
        s.bind_port = 9191;
    }
    if let Some(port) = reader.int(&[(DEFAULT, "bind_port")], 0u16, u16::MAX)? {
        s.bind_port = port;
    }
    // Upstream's `workers = 0` serves from the parent process: one worker.
    s.workers = reader
        .int(&[(DEFAULT, "workers")], 0u32, u32::MAX)?
        .map(|workers| workers.max(1) as usize);
    s.debug = reader.bool(&[(DEFAULT, "debug")], s.debug)?;
    s.log_file = log_file_path(reader, program);
    if reader.string(&[(DEFAULT, "verbose")]).is_some() {
        s.verbose = Some(reader.bool(&[(DEFAULT, "verbose")], true)?);
    }
    if let Some(format) = reader.string(&[(DEFAULT, "log_date_format")]) {
        s.log_date_format = format;
    }
    s.use_syslog = reader.bool(&[(DEFAULT, "use_syslog")], s.use_syslog)?;
    if let Some(facility) = reader.string(&[(DEFAULT, "syslog_log_facility")]) {
        s.syslog_log_facility = facility;
    }
    s.log_config = reader.path(&[
        (DEFAULT, "log_config_append"),
        (DEFAULT, "log_config"),
        (DEFAULT, "log-config"),
    ]);

    if let Some(cap) = reader.int(&[(DEFAULT, "image_size_cap")], 1u64, 1 << 63)? {
        s.image_size_cap = cap;
    }
    if let Some(found) = reader.find(&[(DEFAULT, "user_storage_quota")]) {
        s.user_storage_quota = option_types::parse_storage_size(&found.value)
            .map_err(|reason| invalid(&found, reason))?;
    }
    if let Some(limit) = reader.int(&[(DEFAULT, "limit_param_default")], 1u64, u64::MAX)? {
        s.limit_param_default = limit;
    }
    if let Some(limit) = reader.int(&[(DEFAULT, "api_limit_max")], 1u64, u64::MAX)? {
        s.api_limit_max = limit;
    }
    for (option, field) in [
        ("image_member_quota", &mut s.image_member_quota),
        ("image_property_quota", &mut s.image_property_quota),
        ("image_tag_quota", &mut s.image_tag_quota),
        ("image_location_quota", &mut s.image_location_quota),
    ] {
        if let Some(quota) = reader.int(&[(DEFAULT, option)], i64::MIN, i64::MAX)? {
            *field = quota;
        }
    }
    if let Some(algorithm) = reader.choice(&[(DEFAULT, "hashing_algorithm")], HASHING_ALGORITHMS)? {
        s.hashing_algorithm = algorithm;
    }
    s.enable_v1_api = reader.bool(&[(DEFAULT, "enable_v1_api")], s.enable_v1_api)?;
    s.show_image_direct_url = reader.bool(
        &[(DEFAULT, "show_image_direct_url")],
        s.show_image_direct_url,
    )?;
    s.show_multiple_locations = reader.bool(
        &[(DEFAULT, "show_multiple_locations")],
        s.show_multiple_locations,
    )?;
    s.do_secure_hash = reader.bool(&[(DEFAULT, "do_secure_hash")], s.do_secure_hash)?;
    if let Some(retries) = reader.int(&[(DEFAULT, "http_retries")], 0u32, u32::MAX)? {
        s.http_retries = retries;
    }
    if let Some(hours) = reader.int(&[("task", "task_time_to_live")], 0u32, u32::MAX)? {
        s.task_time_to_live_hours = hours;
    }
    s.import_filtering_opts = reader.layers().section("import_filtering_opts");
    reader.mark_section_read("import_filtering_opts");
    if let Some(methods) =
        reader.list_of_choices(&[(DEFAULT, "enabled_import_methods")], IMPORT_METHODS)?
    {
        s.enabled_import_methods = methods;
    }
    s.public_endpoint = reader.string(&[(DEFAULT, "public_endpoint")]);
    s.image_cache_dir = reader.path(&[(DEFAULT, "image_cache_dir")]);
    s.staging_dir = staging_dir(reader)?;
    if let Some(length) = reader.int(&[(DEFAULT, "max_request_id_length")], 0u32, u32::MAX)? {
        s.max_request_id_length = length as usize;
    }
    s.property_protection_file = reader.path(&[(DEFAULT, "property_protection_file")]);
    if let Some(format) = reader.choice(
        &[(DEFAULT, "property_protection_rule_format")],
        RULE_FORMATS,
    )? {
        s.property_protection_rule_format = format;
    }
    Ok(())
}

/// The delayed-delete and scrubber options, with upstream's lower bounds
/// (`scrub_time` and `wakeup_time` >= 0, `scrub_pool_size` >= 1).
fn read_scrubber(reader: &OptionReader<'_>) -> Result<ScrubberSettings, ConfigError> {
    let mut s = ScrubberSettings::default();
    s.delayed_delete = reader.bool(&[(DEFAULT, "delayed_delete")], s.delayed_delete)?;
    s.daemon = reader.bool(&[(DEFAULT, "daemon")], s.daemon)?;
    if let Some(secs) = reader.int(&[(DEFAULT, "scrub_time")], 0u64, u64::MAX)? {
        s.scrub_time = secs;
    }
    if let Some(size) = reader.int(&[(DEFAULT, "scrub_pool_size")], 1u32, u32::MAX)? {
        s.scrub_pool_size = size as usize;
    }
    if let Some(secs) = reader.int(&[(DEFAULT, "wakeup_time")], 0u64, u64::MAX)? {
        s.wakeup_time = secs;
    }
    Ok(s)
}

/// oslo.log: `log_file` under `log_dir` when both are set (an absolute
/// `log_file` stays as is), `<log_dir>/<program>.log` when only `log_dir` is.
fn log_file_path(reader: &OptionReader<'_>, program: &str) -> Option<PathBuf> {
    let file = reader.path(&[(DEFAULT, "log_file"), (DEFAULT, "logfile")]);
    let dir = reader.path(&[(DEFAULT, "log_dir"), (DEFAULT, "logdir")]);
    match (file, dir) {
        (Some(file), Some(dir)) => Some(dir.join(file)),
        (Some(file), None) => Some(file),
        (None, Some(dir)) => Some(dir.join(format!("{program}.log"))),
        (None, None) => None,
    }
}

/// `[database]` (oslo.db), with the deprecated names oslo.db honoured until
/// 2023 and the seeds use (`[DEFAULT] sql_connection`, ...).
fn read_database(reader: &OptionReader<'_>) -> Result<DatabaseSettings, ConfigError> {
    const DB: &str = "database";
    let mut database = Settings::default().database;
    database.connection = reader.string(&[
        (DB, "connection"),
        (DEFAULT, "sql_connection"),
        (DB, "sql_connection"),
        ("sql", "connection"),
    ]);
    database.max_pool_size = reader.int(
        &[
            (DB, "max_pool_size"),
            (DEFAULT, "sql_max_pool_size"),
            (DB, "sql_max_pool_size"),
        ],
        0u32,
        u32::MAX,
    )?;
    database.max_overflow = reader.int(
        &[
            (DB, "max_overflow"),
            (DEFAULT, "sql_max_overflow"),
            (DB, "sqlalchemy_max_overflow"),
        ],
        0u32,
        u32::MAX,
    )?;
    database.pool_timeout = reader.int(
        &[(DB, "pool_timeout"), (DB, "sqlalchemy_pool_timeout")],
        0u64,
        u64::MAX,
    )?;
    let recycle = reader.int(
        &[
            (DB, "connection_recycle_time"),
            (DB, "idle_timeout"),
            (DEFAULT, "sql_idle_timeout"),
            (DB, "sql_idle_timeout"),
            // The Diablo manual (seeds) calls it `sql_timeout`.
            (DEFAULT, "sql_timeout"),
        ],
        0u64,
        u64::MAX,
    )?;
    if let Some(recycle) = recycle {
        database.connection_recycle_time = recycle;
    }
    database.max_retries = reader.int(
        &[
            (DB, "max_retries"),
            (DEFAULT, "sql_max_retries"),
            (DB, "sql_max_retries"),
        ],
        -1i64,
        i64::MAX,
    )?;
    database.retry_interval = reader.int(
        &[
            (DB, "retry_interval"),
            (DEFAULT, "sql_retry_interval"),
            (DB, "reconnect_interval"),
        ],
        0u64,
        u64::MAX,
    )?;
    Ok(database)
}

/// `[image_format]`; the format lists were once in `[DEFAULT]`.
fn read_image_format(reader: &OptionReader<'_>) -> Result<ImageFormatSettings, ConfigError> {
    const IF: &str = "image_format";
    let mut formats = Settings::default().image_format;
    if let Some(list) = reader.list(&[(IF, "disk_formats"), (DEFAULT, "disk_formats")])? {
        formats.disk_formats = list;
    }
    if let Some(list) = reader.list(&[(IF, "container_formats"), (DEFAULT, "container_formats")])? {
        formats.container_formats = list;
    }
    formats.require_image_format_match = reader.bool(
        &[(IF, "require_image_format_match")],
        formats.require_image_format_match,
    )?;
    if let Some(list) = reader.list(&[(IF, "gpt_safety_checks_nonfatal")])? {
        formats.gpt_safety_checks_nonfatal = list;
    }
    if let Some(list) = reader.list(&[(IF, "vmdk_allowed_types")])? {
        formats.vmdk_allowed_types = list;
    }
    Ok(formats)
}

/// Options nobody typed stay in `raw` for later features; say so at debug
/// level, as oslo silently ignores unregistered options.
fn report_unread(reader: &OptionReader<'_>) {
    for (group, option) in reader.layers().all_options() {
        if !reader.was_read(group, option) {
            tracing::debug!(
                "option {option} in group [{}] is not interpreted by glance-config (kept in Settings::raw)",
                display_group(group)
            );
        }
    }
}

/// `[os_glance_staging_store] filesystem_store_datadir` (multi-store's reserved
/// staging store), else `[DEFAULT] node_staging_uri`, which upstream accepts only
/// as `file://` followed by an absolute path.
fn staging_dir(reader: &OptionReader<'_>) -> Result<Option<PathBuf>, ConfigError> {
    let reserved = reader.path(&[("os_glance_staging_store", "filesystem_store_datadir")]);
    let node_uri = reader.find(&[(DEFAULT, "node_staging_uri")]);
    if reserved.is_some() {
        return Ok(reserved);
    }
    let Some(found) = node_uri else {
        return Ok(None);
    };
    match found.value.strip_prefix("file://") {
        Some(path) if path.starts_with('/') => Ok(Some(PathBuf::from(path))),
        _ => Err(crate::reader::invalid(
            &found,
            "must be 'file://' followed by an absolute path".into(),
        )),
    }
}
