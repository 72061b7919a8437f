//! Deprecated names and legacy spellings (the seeds' `sql_connection`,
//! `[DEFAULT] default_store`, ...) and their precedence.

use std::path::PathBuf;

use glance_config::{load_from_str, Settings};

fn load(text: &str) -> Settings {
    load_from_str(text).unwrap_or_else(|e| panic!("{e}"))
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn sql_connection_aliases() {
    for (text, expected) in [
        ("[DEFAULT]\nsql_connection = mysql://a\n", "mysql://a"),
        ("[DATABASE]\nsql_connection = mysql://b\n", "mysql://b"),
        ("[sql]\nconnection = mysql://c\n", "mysql://c"),
        ("[database]\nconnection = mysql://d\n", "mysql://d"),
    ] {
        assert_eq!(
            load(text).database.connection.as_deref(),
            Some(expected),
            "{text}"
        );
    }
    let both = "[DEFAULT]\nsql_connection = mysql://old\n[database]\nconnection = mysql://new\n";
    assert_eq!(
        load(both).database.connection.as_deref(),
        Some("mysql://new")
    );
    let reversed =
        "[database]\nconnection = mysql://new\n[DEFAULT]\nsql_connection = mysql://old\n";
    assert_eq!(
        load(reversed).database.connection.as_deref(),
        Some("mysql://new")
    );
}

#[test]
fn idle_timeout_aliases() {
    for text in [
        "[DEFAULT]\nsql_idle_timeout = 42\n",
        "[database]\nidle_timeout = 42\n",
        "[DATABASE]\nsql_idle_timeout = 42\n",
    ] {
        assert_eq!(load(text).database.connection_recycle_time, 42, "{text}");
    }
    let both = "[DEFAULT]\nsql_idle_timeout = 1\n[database]\nconnection_recycle_time = 2\n";
    assert_eq!(load(both).database.connection_recycle_time, 2);
}

#[test]
fn legacy_store_options_in_default() {
    let legacy = load(
        "[DEFAULT]\ndefault_store = file\nfilesystem_store_datadir = /srv/images\nknown_stores = glance.store.filesystem.Store\n",
    );
    assert_eq!(legacy.glance_store.default_store, "file");
    assert_eq!(
        legacy.glance_store.filesystem_store_datadir,
        Some(PathBuf::from("/srv/images"))
    );
    assert_eq!(
        legacy.glance_store.stores,
        strings(&["glance.store.filesystem.Store"])
    );

    let both = load(
        "[glance_store]\ndefault_store = http\nfilesystem_store_datadir = /new\n\
         [DEFAULT]\ndefault_store = file\nfilesystem_store_datadir = /old\n",
    );
    assert_eq!(both.glance_store.default_store, "http");
    assert_eq!(
        both.glance_store.filesystem_store_datadir,
        Some(PathBuf::from("/new"))
    );
}

#[test]
fn seed_style_legacy_config() {
    let s = load(
        "[DEFAULT]\ndebug = True\nsql_connection = mysql://root:123work@localhost/glance\n\
         default_store = file\nimage_cache_dir = /var/lib/glance/image-cache/\n\
         log_file = /var/log/glance/api.log\n\n# here I dont use keystone\n\
         [paste_deploy]\nflavor =\n\n[glance_store]\nstores = glance.store.filesystem.Store\n",
    );
    assert!(s.debug);
    assert_eq!(
        s.database.connection.as_deref(),
        Some("mysql://root:123work@localhost/glance")
    );
    assert_eq!(s.paste_flavor, None);
    assert!(s.cache_enabled());
}
