//! The typed settings every other crate receives. Field names follow the
//! upstream option names; the loader (see `load.rs`) maps upstream's option
//! aliases (the seeds' `sql_connection`, `[DEFAULT] default_store`, ...) onto
//! these fields.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::auth::{KeystoneAuthtokenSettings, PolicySettings};

/// Everything `glance-api` needs to start. Built by [`crate::load`]; no global state.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `[DEFAULT] bind_host`; 127.0.0.1 when unset (upstream's 0.0.0.0 is not a safe default for a no-config start).
    pub bind_host: String,
    /// `[DEFAULT] bind_port`, 9292.
    pub bind_port: u16,
    /// `[DEFAULT] workers`: mapped to the number of runtime worker threads (None: one per core).
    pub workers: Option<usize>,
    /// `[DEFAULT] debug`.
    pub debug: bool,
    /// `[DEFAULT] log_file` (joined with `log_dir` when relative and `log_dir` is set).
    pub log_file: Option<PathBuf>,
    /// `[DEFAULT] verbose`: the seeds' switch between INFO (true) and WARNING (false)
    /// logging; unset means INFO, as today's oslo.log.
    pub verbose: Option<bool>,
    /// `[DEFAULT] log_date_format` (strftime, default `%Y-%m-%d %H:%M:%S`).
    pub log_date_format: String,
    /// `[DEFAULT] use_syslog`: log to the local syslog socket instead of a file.
    pub use_syslog: bool,
    /// `[DEFAULT] syslog_log_facility` (`LOG_USER`, `LOG_LOCAL0`..`LOG_LOCAL7`, ...).
    pub syslog_log_facility: String,
    /// `[DEFAULT] log_config_append` (`log_config`, command line `--log-config`): a
    /// Python logging configuration file.
    pub log_config: Option<PathBuf>,
    /// Our own: where the embedded defaults live (SQLite file and filesystem store). `--data-dir`, default `./glance-data`.
    pub data_dir: PathBuf,
    /// `[DEFAULT] image_size_cap` in bytes (default 1 TiB).
    pub image_size_cap: u64,
    /// `[DEFAULT] user_storage_quota` in bytes; 0 means unlimited. Upstream accepts unit suffixes (B, KB, MB, GB, TB).
    pub user_storage_quota: u64,
    /// `[DEFAULT] limit_param_default` (25).
    pub limit_param_default: u64,
    /// `[DEFAULT] api_limit_max` (1000).
    pub api_limit_max: u64,
    /// `[DEFAULT] image_member_quota` (128; negative = unlimited).
    pub image_member_quota: i64,
    /// `[DEFAULT] image_property_quota` (128; negative = unlimited).
    pub image_property_quota: i64,
    /// `[DEFAULT] image_tag_quota` (128; negative = unlimited).
    pub image_tag_quota: i64,
    /// `[DEFAULT] image_location_quota` (10; negative = unlimited).
    pub image_location_quota: i64,
    /// `[DEFAULT] hashing_algorithm` ("sha512").
    pub hashing_algorithm: String,
    /// `[DEFAULT] show_image_direct_url` (false).
    pub show_image_direct_url: bool,
    /// `[DEFAULT] enable_v1_api` (true here, for the seeds' tools; upstream removed v1
    /// in Rocky): serve the legacy v1 API beside v2.
    pub enable_v1_api: bool,
    /// `[DEFAULT] show_multiple_locations` (false).
    pub show_multiple_locations: bool,
    /// `[DEFAULT] do_secure_hash` (true): hash the data of a location added through
    /// the location API before trusting it.
    pub do_secure_hash: bool,
    /// `[DEFAULT] http_retries` (3): attempts at reading a location's data for hashing.
    pub http_retries: u32,
    /// `[task] task_time_to_live` (48): hours a finished task stays listed.
    pub task_time_to_live_hours: u32,
    /// The raw `[import_filtering_opts]` section (which remote URLs may be fetched);
    /// parsed by the store layer.
    pub import_filtering_opts: BTreeMap<String, String>,
    /// `[DEFAULT] enabled_import_methods` (glance-direct, web-download, copy-image).
    pub enabled_import_methods: Vec<String>,
    /// `[DEFAULT] public_endpoint`: base URL for version document links.
    pub public_endpoint: Option<String>,
    /// Where `PUT /stage` and the import methods keep data before it goes to a store:
    /// `[os_glance_staging_store] filesystem_store_datadir` with multi-store, else
    /// `[DEFAULT] node_staging_uri` (`file://` + absolute path). None: `<data_dir>/staging`.
    pub staging_dir: Option<PathBuf>,
    /// `[DEFAULT] image_cache_dir`: the cache is "enabled" when set (affects the versions list).
    pub image_cache_dir: Option<PathBuf>,
    /// `[DEFAULT] enabled_backends` as `(id, type)` pairs in config order; empty = single-store mode.
    pub enabled_backends: Vec<(String, String)>,
    /// `[DEFAULT] max_request_id_length` (64).
    pub max_request_id_length: usize,
    /// `[DEFAULT] property_protection_file`.
    pub property_protection_file: Option<PathBuf>,
    /// `[DEFAULT] property_protection_rule_format` ("roles").
    pub property_protection_rule_format: String,
    /// `[paste_deploy] flavor`: None/empty = noauth; "trusted-auth"; "keystone" (each
    /// optionally with upstream's `+cache`/`+cachemanagement` suffixes).
    pub paste_flavor: Option<String>,
    /// `[DEFAULT] allow_anonymous_access` (false): unauthenticated requests get a
    /// read-only context instead of 401.
    pub allow_anonymous_access: bool,
    pub keystone_authtoken: KeystoneAuthtokenSettings,
    pub oslo_policy: PolicySettings,
    pub database: DatabaseSettings,
    pub glance_store: GlanceStoreSettings,
    /// One entry per `enabled_backends` id: that section's store options.
    pub backends: BTreeMap<String, BackendSettings>,
    pub image_format: ImageFormatSettings,
    /// Delayed delete and the scrubber (`[DEFAULT]` options of glance-api and
    /// glance-scrubber).
    pub scrubber: ScrubberSettings,
    /// Directories of the loaded config files and `--config-dir`s, in load order; where
    /// `schema-image.json`, `policy.yaml` and property-protection files are looked up.
    pub config_dirs: Vec<PathBuf>,
    /// The config files read, in load order (absolute paths).
    pub config_files: Vec<PathBuf>,
    /// Every section and option as read (lower-cased keys), for features that read
    /// their own sections later (`keystone_authtoken`, `oslo_policy`, ...).
    pub raw: RawConfig,
}

/// `[database]`.
#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    /// `[database] connection` (aliases: `[DEFAULT] sql_connection`, `[DATABASE] sql_connection`,
    /// `[sql] connection`). None: SQLite file `glance.sqlite` under the data directory.
    pub connection: Option<String>,
    pub max_pool_size: Option<u32>,
    pub max_overflow: Option<u32>,
    /// Seconds.
    pub pool_timeout: Option<u64>,
    /// Seconds (`connection_recycle_time`, alias `sql_idle_timeout`, `idle_timeout`); default 3600.
    pub connection_recycle_time: u64,
    /// Start-up connection attempts (`max_retries`, alias `sql_max_retries`); -1: for ever.
    pub max_retries: Option<i64>,
    /// Seconds between them (`retry_interval`, alias `sql_retry_interval`, `reconnect_interval`).
    pub retry_interval: Option<u64>,
}

/// `[glance_store]` (its options were once in `[DEFAULT]`, which the loader still reads).
#[derive(Debug, Clone)]
pub struct GlanceStoreSettings {
    /// `stores` (default `file, http`).
    pub stores: Vec<String>,
    /// `default_store` ("file").
    pub default_store: String,
    /// `filesystem_store_datadir`; None: `<data_dir>/images`.
    pub filesystem_store_datadir: Option<PathBuf>,
    /// `default_backend` (multi-store).
    pub default_backend: Option<String>,
    /// Every option of `[glance_store]` over those of `[DEFAULT]` (where the seeds put
    /// driver options such as `swift_store_user`), lower-cased keys: the driver
    /// options of single-store mode, which each driver parses itself.
    pub options: BTreeMap<String, String>,
}

/// One `[<backend id>]` section of a multi-store configuration.
#[derive(Debug, Clone, Default)]
pub struct BackendSettings {
    pub store_type: String,
    pub store_description: Option<String>,
    pub weight: i64,
    pub filesystem_store_datadir: Option<PathBuf>,
    /// All options of the section, lower-cased keys, for drivers of later issues.
    pub options: BTreeMap<String, String>,
}

/// `[DEFAULT] delayed_delete`, `scrub_time`, `scrub_pool_size`, `wakeup_time` and
/// `daemon` (upstream's glance/scrubber.py options).
#[derive(Debug, Clone)]
pub struct ScrubberSettings {
    /// `delayed_delete` (false): a deleted image with data goes to `pending_delete`
    /// and keeps its data until the scrubber removes it.
    pub delayed_delete: bool,
    /// `scrub_time` (0): seconds an image stays in `pending_delete` before it may be
    /// scrubbed.
    pub scrub_time: u64,
    /// `scrub_pool_size` (1): images scrubbed at the same time.
    pub scrub_pool_size: usize,
    /// `wakeup_time` (300): seconds between two runs of the scrubber daemon.
    pub wakeup_time: u64,
    /// `daemon` (false): glance-scrubber keeps running (a CLI option upstream that
    /// oslo.config also reads from the config file).
    pub daemon: bool,
}

impl Default for ScrubberSettings {
    fn default() -> Self {
        ScrubberSettings {
            delayed_delete: false,
            scrub_time: 0,
            scrub_pool_size: 1,
            wakeup_time: 300,
            daemon: false,
        }
    }
}

/// `[image_format]`.
#[derive(Debug, Clone)]
pub struct ImageFormatSettings {
    pub disk_formats: Vec<String>,
    pub container_formats: Vec<String>,
    pub require_image_format_match: bool,
    pub gpt_safety_checks_nonfatal: Vec<String>,
    pub vmdk_allowed_types: Vec<String>,
}

/// Sections -> options -> last value, everything lower-cased except values.
/// Values are as oslo.config returns them: quotes around the whole value
/// stripped, continuation lines joined with `\n`, `$option` references
/// substituted.
#[derive(Debug, Clone, Default)]
pub struct RawConfig {
    pub sections: BTreeMap<String, BTreeMap<String, String>>,
    /// Every value of every option over all files, in load order (for
    /// multi-valued options such as `filesystem_store_datadirs`).
    pub all_values: BTreeMap<String, BTreeMap<String, Vec<String>>>,
}

impl RawConfig {
    pub fn get(&self, section: &str, option: &str) -> Option<&str> {
        self.sections
            .get(&section.to_ascii_lowercase())
            .and_then(|s| s.get(&option.to_ascii_lowercase()))
            .map(String::as_str)
    }

    /// Every value of a multi-valued option (MultiStrOpt), earliest first;
    /// empty when unset.
    pub fn get_all(&self, section: &str, option: &str) -> &[String] {
        self.all_values
            .get(&section.to_ascii_lowercase())
            .and_then(|s| s.get(&option.to_ascii_lowercase()))
            .map(Vec::as_slice)
            .unwrap_or_default()
    }
}

pub const DEFAULT_DISK_FORMATS: &[&str] = &[
    "ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop",
];
pub const DEFAULT_CONTAINER_FORMATS: &[&str] = &[
    "ami",
    "ari",
    "aki",
    "bare",
    "ovf",
    "ova",
    "docker",
    "compressed",
];

impl Default for Settings {
    fn default() -> Self {
        Settings {
            bind_host: "127.0.0.1".into(),
            bind_port: 9292,
            workers: None,
            debug: false,
            log_file: None,
            verbose: None,
            log_date_format: "%Y-%m-%d %H:%M:%S".into(),
            use_syslog: false,
            syslog_log_facility: "LOG_USER".into(),
            log_config: None,
            data_dir: PathBuf::from("glance-data"),
            image_size_cap: 1 << 40,
            user_storage_quota: 0,
            limit_param_default: 25,
            api_limit_max: 1000,
            image_member_quota: 128,
            image_property_quota: 128,
            image_tag_quota: 128,
            image_location_quota: 10,
            hashing_algorithm: "sha512".into(),
            show_image_direct_url: false,
            enable_v1_api: true,
            show_multiple_locations: false,
            do_secure_hash: true,
            http_retries: 3,
            task_time_to_live_hours: 48,
            import_filtering_opts: BTreeMap::new(),
            staging_dir: None,
            enabled_import_methods: vec![
                "glance-direct".into(),
                "web-download".into(),
                "copy-image".into(),
            ],
            public_endpoint: None,
            image_cache_dir: None,
            enabled_backends: Vec::new(),
            max_request_id_length: 64,
            property_protection_file: None,
            property_protection_rule_format: "roles".into(),
            paste_flavor: None,
            allow_anonymous_access: false,
            keystone_authtoken: KeystoneAuthtokenSettings::default(),
            oslo_policy: PolicySettings::default(),
            database: DatabaseSettings {
                connection: None,
                max_pool_size: None,
                max_overflow: None,
                pool_timeout: None,
                max_retries: None,
                retry_interval: None,
                connection_recycle_time: 3600,
            },
            glance_store: GlanceStoreSettings {
                stores: vec!["file".into(), "http".into()],
                default_store: "file".into(),
                filesystem_store_datadir: None,
                default_backend: None,
                options: BTreeMap::new(),
            },
            backends: BTreeMap::new(),
            image_format: ImageFormatSettings {
                disk_formats: DEFAULT_DISK_FORMATS.iter().map(|s| s.to_string()).collect(),
                container_formats: DEFAULT_CONTAINER_FORMATS
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
                require_image_format_match: true,
                gpt_safety_checks_nonfatal: Vec::new(),
                vmdk_allowed_types: vec!["streamOptimized".into(), "monolithicSparse".into()],
            },
            scrubber: ScrubberSettings::default(),
            config_dirs: Vec::new(),
            config_files: Vec::new(),
            raw: RawConfig::default(),
        }
    }
}

impl Settings {
    /// Multi-store mode is on when `enabled_backends` is set (as upstream).
    /// The staging directory `PUT /stage` and the import methods use.
    pub fn staging_dir(&self) -> PathBuf {
        self.staging_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("staging"))
    }

    pub fn multi_store(&self) -> bool {
        !self.enabled_backends.is_empty()
    }

    /// The image cache counts as enabled when `image_cache_dir` is set (as upstream).
    pub fn cache_enabled(&self) -> bool {
        self.image_cache_dir.is_some()
    }
}
