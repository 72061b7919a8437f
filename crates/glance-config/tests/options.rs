//! Mapping of single INI documents onto `Settings` (`load_from_str`).

use std::path::PathBuf;

use glance_config::{load_from_str, Settings};

fn load(text: &str) -> Settings {
    load_from_str(text).unwrap_or_else(|e| panic!("{e}"))
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn defaults_with_an_empty_document() {
    let s = load("");
    assert_eq!(s.bind_host, "127.0.0.1");
    assert_eq!(s.bind_port, 9292);
    assert_eq!(s.workers, None);
    assert!(!s.debug);
    assert_eq!(s.log_file, None);
    assert_eq!(s.data_dir, PathBuf::from("glance-data"));
    assert_eq!(s.image_size_cap, 1 << 40);
    assert_eq!(s.user_storage_quota, 0);
    assert_eq!((s.limit_param_default, s.api_limit_max), (25, 1000));
    assert_eq!(
        (
            s.image_member_quota,
            s.image_property_quota,
            s.image_tag_quota,
            s.image_location_quota
        ),
        (128, 128, 128, 10)
    );
    assert_eq!(s.hashing_algorithm, "sha512");
    assert!(!s.show_image_direct_url && !s.show_multiple_locations);
    assert_eq!(
        s.enabled_import_methods,
        strings(&["glance-direct", "web-download", "copy-image"])
    );
    assert_eq!(s.public_endpoint, None);
    assert!(!s.cache_enabled());
    assert!(!s.multi_store());
    assert_eq!(s.max_request_id_length, 64);
    assert_eq!(s.property_protection_file, None);
    assert_eq!(s.property_protection_rule_format, "roles");
    assert_eq!(s.paste_flavor, None);
    assert_eq!(s.database.connection, None);
    assert_eq!(s.database.connection_recycle_time, 3600);
    assert_eq!(s.glance_store.stores, strings(&["file", "http"]));
    assert_eq!(s.glance_store.default_store, "file");
    assert_eq!(s.glance_store.filesystem_store_datadir, None);
    assert_eq!(s.glance_store.default_backend, None);
    assert!(s.backends.is_empty());
    assert!(s.image_format.disk_formats.contains(&"qcow2".to_string()));
    assert!(s.image_format.require_image_format_match);
    assert!(s.config_dirs.is_empty() && s.config_files.is_empty());
    assert!(s.raw.sections.is_empty());
}

const EVERY_OPTION: &str = r#"
[DEFAULT]
bind_host = 0.0.0.0
bind_port = 9393
workers = 4
debug = True
log_file = api.log
log_dir = /var/log/glance
image_size_cap = 2048
user_storage_quota = 10GB
limit_param_default = 50
api_limit_max = 500
image_member_quota = -1
image_property_quota = 64
image_tag_quota = 32
image_location_quota = 5
hashing_algorithm = sha256
show_image_direct_url = yes
show_multiple_locations = on
enabled_import_methods = [glance-direct,web-download,copy-image,glance-download]
public_endpoint = https://images.example.com
image_cache_dir = /var/lib/glance/image-cache/
max_request_id_length = 128
property_protection_file = /etc/glance/property-protections.conf
property_protection_rule_format = policies

[paste_deploy]
flavor = keystone

[database]
connection = postgresql://glance:secret@db/glance
max_pool_size = 10
max_overflow = 20
pool_timeout = 30
connection_recycle_time = 600

[glance_store]
stores = file, http, swift
default_store = swift+https
filesystem_store_datadir = /var/lib/glance/images/

[image_format]
disk_formats = raw,qcow2
container_formats = bare
require_image_format_match = false
gpt_safety_checks_nonfatal = mbr,gptmbr
vmdk_allowed_types = streamOptimized
"#;

#[test]
fn every_mapped_option() {
    let s = load(EVERY_OPTION);
    assert_eq!(s.bind_host, "0.0.0.0");
    assert_eq!(s.bind_port, 9393);
    assert_eq!(s.workers, Some(4));
    assert!(s.debug);
    assert_eq!(s.log_file, Some(PathBuf::from("/var/log/glance/api.log")));
    assert_eq!(s.image_size_cap, 2048);
    assert_eq!(s.user_storage_quota, 10 << 30);
    assert_eq!((s.limit_param_default, s.api_limit_max), (50, 500));
    assert_eq!(
        (
            s.image_member_quota,
            s.image_property_quota,
            s.image_tag_quota,
            s.image_location_quota
        ),
        (-1, 64, 32, 5)
    );
    assert_eq!(s.hashing_algorithm, "sha256");
    assert!(s.show_image_direct_url && s.show_multiple_locations);
    assert_eq!(
        s.enabled_import_methods,
        strings(&[
            "glance-direct",
            "web-download",
            "copy-image",
            "glance-download"
        ])
    );
    assert_eq!(
        s.public_endpoint.as_deref(),
        Some("https://images.example.com")
    );
    assert_eq!(
        s.image_cache_dir,
        Some(PathBuf::from("/var/lib/glance/image-cache/"))
    );
    assert!(s.cache_enabled());
    assert_eq!(s.max_request_id_length, 128);
    assert_eq!(
        s.property_protection_file,
        Some(PathBuf::from("/etc/glance/property-protections.conf"))
    );
    assert_eq!(s.property_protection_rule_format, "policies");
    assert_eq!(s.paste_flavor.as_deref(), Some("keystone"));
    assert_eq!(
        s.database.connection.as_deref(),
        Some("postgresql://glance:secret@db/glance")
    );
    assert_eq!(s.database.max_pool_size, Some(10));
    assert_eq!(s.database.max_overflow, Some(20));
    assert_eq!(s.database.pool_timeout, Some(30));
    assert_eq!(s.database.connection_recycle_time, 600);
    assert_eq!(s.glance_store.stores, strings(&["file", "http", "swift"]));
    assert_eq!(s.glance_store.default_store, "swift+https");
    assert_eq!(
        s.glance_store.filesystem_store_datadir,
        Some(PathBuf::from("/var/lib/glance/images/"))
    );
    assert_eq!(s.image_format.disk_formats, strings(&["raw", "qcow2"]));
    assert_eq!(s.image_format.container_formats, strings(&["bare"]));
    assert!(!s.image_format.require_image_format_match);
    assert_eq!(
        s.image_format.gpt_safety_checks_nonfatal,
        strings(&["mbr", "gptmbr"])
    );
    assert_eq!(
        s.image_format.vmdk_allowed_types,
        strings(&["streamOptimized"])
    );
    assert_eq!(s.raw.get("DEFAULT", "bind_port"), Some("9393"));
    assert_eq!(s.raw.get("Database", "MAX_POOL_SIZE"), Some("10"));
}

#[test]
fn log_file_and_log_dir() {
    let only_file = load("[DEFAULT]\nlog_file = /tmp/api.log\n");
    assert_eq!(only_file.log_file, Some(PathBuf::from("/tmp/api.log")));
    let absolute_file = load("[DEFAULT]\nlog_file = /tmp/api.log\nlog_dir = /var/log\n");
    assert_eq!(absolute_file.log_file, Some(PathBuf::from("/tmp/api.log")));
    let only_dir = load("[DEFAULT]\nlog_dir = /var/log/glance\n");
    assert_eq!(
        only_dir.log_file,
        Some(PathBuf::from("/var/log/glance/glance-api.log"))
    );
    let legacy = load("[DEFAULT]\nlogfile = api.log\nlogdir = /var/log\n");
    assert_eq!(legacy.log_file, Some(PathBuf::from("/var/log/api.log")));
}

#[test]
fn lists_with_and_without_brackets() {
    for value in [
        "glance-direct,web-download",
        "[glance-direct,web-download]",
        " [ glance-direct , web-download ] ",
        "glance-direct, web-download,",
        "['glance-direct', \"web-download\"]",
    ] {
        let s = load(&format!("[DEFAULT]\nenabled_import_methods = {value}\n"));
        assert_eq!(
            s.enabled_import_methods,
            strings(&["glance-direct", "web-download"]),
            "{value}"
        );
    }
    assert!(load("[DEFAULT]\nenabled_import_methods =\n")
        .enabled_import_methods
        .is_empty());
    assert!(load("[DEFAULT]\nenabled_import_methods = []\n")
        .enabled_import_methods
        .is_empty());
    assert!(load("[image_format]\ngpt_safety_checks_nonfatal =\n")
        .image_format
        .gpt_safety_checks_nonfatal
        .is_empty());
    let legacy = load("[DEFAULT]\ndisk_formats = raw\ncontainer_formats = bare,ovf\n");
    assert_eq!(legacy.image_format.disk_formats, strings(&["raw"]));
    assert_eq!(
        legacy.image_format.container_formats,
        strings(&["bare", "ovf"])
    );
}

#[test]
fn empty_integer_keeps_the_default() {
    let s = load("[DEFAULT]\nimage_size_cap =\nworkers =\n");
    assert_eq!(s.image_size_cap, 1 << 40);
    assert_eq!(s.workers, None);
    assert_eq!(load("[DEFAULT]\nworkers = 0\n").workers, Some(1));
}

#[test]
fn unknown_options_and_sections_are_ignored_and_kept() {
    let s = load(
        "[DEFAULT]\nno_such_option = 1\nimage_cache_max_size = 1024\n\
         [keystone_authtoken]\nauth_url = http://keystone:5000\npassword = \"se cret\"\n\
         [made_up]\nx = y\n",
    );
    assert_eq!(s.raw.get("DEFAULT", "no_such_option"), Some("1"));
    assert_eq!(s.raw.get("default", "image_cache_max_size"), Some("1024"));
    assert_eq!(
        s.raw.get("keystone_authtoken", "auth_url"),
        Some("http://keystone:5000")
    );
    assert_eq!(s.raw.get("keystone_authtoken", "password"), Some("se cret"));
    assert_eq!(s.raw.get("made_up", "x"), Some("y"));
}

#[test]
fn unknown_options_with_malformed_looking_values_are_not_errors() {
    let s =
        load("[DEFAULT]\nuse_keystone_limits = perhaps\n[taskflow_executor]\nmax_workers = many\n");
    assert_eq!(s.raw.get("taskflow_executor", "max_workers"), Some("many"));
}

#[test]
fn continuation_lines_comments_and_case() {
    let s = load(
        "# a comment\n; another\n[Default]\nenabled_import_methods = glance-direct,\n    web-download,\n\tcopy-image\n\
         # bind_port = 1\nDEBUG: true\n[IMAGE_FORMAT]\ndisk_formats = raw\n",
    );
    assert_eq!(
        s.enabled_import_methods,
        strings(&["glance-direct", "web-download", "copy-image"])
    );
    assert_eq!(s.bind_port, 9292);
    assert!(s.debug);
    assert_eq!(s.image_format.disk_formats, strings(&["raw"]));
}

#[test]
fn later_occurrence_in_a_file_wins_and_all_values_are_kept() {
    let s = load(
        "[DEFAULT]\nbind_port = 1111\nbind_port = 2222\n\
         [glance_store]\nfilesystem_store_datadirs = /a:100\nfilesystem_store_datadirs = /b:200\n",
    );
    assert_eq!(s.bind_port, 2222);
    assert_eq!(
        s.raw.get("glance_store", "filesystem_store_datadirs"),
        Some("/b:200")
    );
    assert_eq!(
        s.raw.get_all("glance_store", "filesystem_store_datadirs"),
        strings(&["/a:100", "/b:200"]).as_slice()
    );
}

#[test]
fn dollar_references_are_substituted() {
    let s = load(
        "[DEFAULT]\nstate_path = /var/lib/glance\nimage_cache_dir = $state_path/cache\n\
         [glance_store]\nfilesystem_store_datadir = ${state_path}/images\n\
         [keystone_authtoken]\npassword = pa$$word\n",
    );
    assert_eq!(
        s.image_cache_dir,
        Some(PathBuf::from("/var/lib/glance/cache"))
    );
    assert_eq!(
        s.glance_store.filesystem_store_datadir,
        Some(PathBuf::from("/var/lib/glance/images"))
    );
    assert_eq!(s.raw.get("keystone_authtoken", "password"), Some("pa$word"));
}

#[test]
fn task_time_to_live_is_read_in_hours() {
    assert_eq!(load("").task_time_to_live_hours, 48);
    assert_eq!(
        load("[task]\ntask_time_to_live = 2\n").task_time_to_live_hours,
        2
    );
}

#[test]
fn delayed_delete_and_scrubber_options() {
    let d = load("").scrubber;
    assert_eq!(
        (
            d.delayed_delete,
            d.scrub_time,
            d.scrub_pool_size,
            d.wakeup_time,
            d.daemon
        ),
        (false, 0, 1, 300, false)
    );
    let s = load(
        "[DEFAULT]\ndelayed_delete = true\nscrub_time = 43200\nscrub_pool_size = 4\n\
         wakeup_time = 60\ndaemon = True\n",
    )
    .scrubber;
    assert_eq!(
        (
            s.delayed_delete,
            s.scrub_time,
            s.scrub_pool_size,
            s.wakeup_time,
            s.daemon
        ),
        (true, 43200, 4, 60, true)
    );
    // Upstream's minimums: a pool of at least one, no negative times.
    for bad in ["scrub_pool_size = 0", "scrub_time = -1", "wakeup_time = -5"] {
        assert!(
            glance_config::load_from_str(&format!("[DEFAULT]\n{bad}\n")).is_err(),
            "{bad}"
        );
    }
}
