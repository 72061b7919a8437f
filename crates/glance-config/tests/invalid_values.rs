//! Malformed values of typed options and broken syntax are errors that
//! name the option and its group.

use glance_config::{load_from_str, ConfigError, Settings};

fn load(text: &str) -> Settings {
    load_from_str(text).unwrap_or_else(|e| panic!("{e}"))
}

fn error(text: &str) -> String {
    load_from_str(text).unwrap_err().to_string()
}

#[test]
fn user_storage_quota_units() {
    for (value, bytes) in [
        ("0", 0u64),
        ("1024", 1024),
        ("512B", 512),
        ("4KB", 4 << 10),
        ("2MB", 2 << 20),
        ("10GB", 10 << 30),
        ("3TB", 3 << 40),
    ] {
        let s = load(&format!("[DEFAULT]\nuser_storage_quota = {value}\n"));
        assert_eq!(s.user_storage_quota, bytes, "{value}");
    }
    for bad in ["10 GB", "10gb", "-5", "1.5GB", "GB", "10PB"] {
        let message = error(&format!("[DEFAULT]\nuser_storage_quota = {bad}\n"));
        assert!(
            message.contains("invalid value for option user_storage_quota in group [DEFAULT]"),
            "{message}"
        );
    }
}

#[test]
fn malformed_values_name_option_and_group() {
    let cases = [
        (
            "[DEFAULT]\nimage_size_cap = abc\n",
            "invalid value for option image_size_cap in group [DEFAULT]: 'abc' is not an integer",
        ),
        (
            "[DEFAULT]\ndebug = maybe\n",
            "option debug in group [DEFAULT]: 'maybe' is not a boolean",
        ),
        (
            "[image_format]\nrequire_image_format_match = 2\n",
            "option require_image_format_match in group [image_format]",
        ),
        (
            "[DEFAULT]\nbind_port = 70000\n",
            "option bind_port in group [DEFAULT]: '70000' is greater than the maximum 65535",
        ),
        (
            "[DEFAULT]\nbind_port = -1\n",
            "option bind_port in group [DEFAULT]",
        ),
        (
            "[task]\ntask_time_to_live = forever\n",
            "invalid value for option task_time_to_live in group [task]: 'forever' is not an integer",
        ),
        (
            "[DEFAULT]\nlimit_param_default = 0\n",
            "option limit_param_default in group [DEFAULT]: '0' is less than the minimum 1",
        ),
        (
            "[DEFAULT]\nworkers = many\n",
            "option workers in group [DEFAULT]",
        ),
        (
            "[database]\nmax_pool_size = 1.5\n",
            "option max_pool_size in group [database]",
        ),
        (
            "[DEFAULT]\nsql_idle_timeout = soon\n",
            "option sql_idle_timeout in group [DEFAULT]",
        ),
        (
            "[DEFAULT]\nhashing_algorithm = sha1\n",
            "option hashing_algorithm in group [DEFAULT]: 'sha1' is not one of sha224",
        ),
        (
            "[DEFAULT]\nproperty_protection_rule_format = acl\n",
            "option property_protection_rule_format in group [DEFAULT]",
        ),
        (
            "[DEFAULT]\nenabled_import_methods = [glance-direct, ftp]\n",
            "option enabled_import_methods in group [DEFAULT]: 'ftp' is not one of",
        ),
        (
            "[DEFAULT]\nenabled_import_methods = [glance-direct\n",
            "option enabled_import_methods in group [DEFAULT]",
        ),
        (
            "[image_format]\ndisk_formats = raw,qcow2]\n",
            "option disk_formats in group [image_format]",
        ),
        (
            "[DEFAULT]\nenabled_backends = fast\n",
            "option enabled_backends in group [DEFAULT]",
        ),
        (
            "[glance_store]\ndefault_store = sheepdog\n",
            "option default_store in group [glance_store]: 'sheepdog' is not one of",
        ),
    ];
    for (text, expected) in cases {
        let message = error(text);
        assert!(message.contains(expected), "{text:?} gave {message:?}");
    }
}

#[test]
fn invalid_value_error_carries_the_details() {
    match load_from_str("[DEFAULT]\nimage_member_quota = lots\n").unwrap_err() {
        ConfigError::InvalidValue {
            file,
            group,
            option,
            value,
            ..
        } => {
            assert_eq!(file, None);
            assert_eq!(group, "DEFAULT");
            assert_eq!(option, "image_member_quota");
            assert_eq!(value, "lots");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn syntax_errors_are_reported_with_the_line() {
    let message = error("[DEFAULT]\ndebug = true\nthis line is broken\n");
    assert!(message.contains("at line 3"), "{message}");
    assert!(error("debug = true\n").contains("Section must be started before assignment"));
}
