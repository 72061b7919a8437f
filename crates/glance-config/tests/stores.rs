//! Store configuration: multi-store sections and the start-up checks.

use std::path::PathBuf;

use glance_config::{load_from_str, ConfigError};

const MULTI_STORE: &str = r#"
[DEFAULT]
enabled_backends = fast:rbd, cheap:file, web:http

[glance_store]
default_backend = fast

[fast]
rbd_store_pool = images
rbd_store_user = glance
rbd_store_ceph_conf = /etc/ceph/ceph.conf
store_description = "Fast Ceph pool"
weight = 100

[cheap]
filesystem_store_datadir = /var/lib/glance/images/
store_description = "Local disk"
weight = 10

[web]
https_insecure = false

[os_glance_staging_store]
filesystem_store_datadir = /var/lib/glance/staging/
"#;

#[test]
fn multi_store_sections() {
    let s = load_from_str(MULTI_STORE).unwrap();
    assert!(s.multi_store());
    let ids: Vec<(&str, &str)> = s
        .enabled_backends
        .iter()
        .map(|(id, kind)| (id.as_str(), kind.as_str()))
        .collect();
    assert_eq!(ids, [("fast", "rbd"), ("cheap", "file"), ("web", "http")]);
    assert_eq!(s.glance_store.default_backend.as_deref(), Some("fast"));

    let fast = &s.backends["fast"];
    assert_eq!(fast.store_type, "rbd");
    assert_eq!(fast.store_description.as_deref(), Some("Fast Ceph pool"));
    assert_eq!(fast.weight, 100);
    assert_eq!(fast.filesystem_store_datadir, None);
    assert_eq!(fast.options["rbd_store_pool"], "images");
    assert_eq!(fast.options["rbd_store_ceph_conf"], "/etc/ceph/ceph.conf");

    let cheap = &s.backends["cheap"];
    assert_eq!(cheap.store_type, "file");
    assert_eq!(cheap.weight, 10);
    assert_eq!(
        cheap.filesystem_store_datadir,
        Some(PathBuf::from("/var/lib/glance/images/"))
    );

    let web = &s.backends["web"];
    assert_eq!(web.store_type, "http");
    assert_eq!(web.weight, 0);
    assert_eq!(web.store_description, None);
    assert_eq!(web.options["https_insecure"], "false");

    assert_eq!(s.backends.len(), 3);
    assert_eq!(
        s.raw
            .get("os_glance_staging_store", "filesystem_store_datadir"),
        Some("/var/lib/glance/staging/")
    );
}

#[test]
fn backend_without_a_section_gets_defaults() {
    let s = load_from_str(
        "[DEFAULT]\nenabled_backends = local:file\n[glance_store]\ndefault_backend = local\n",
    )
    .unwrap();
    let local = &s.backends["local"];
    assert_eq!((local.store_type.as_str(), local.weight), ("file", 0));
    assert!(local.options.is_empty());
}

#[test]
fn backend_weight_must_be_an_integer() {
    let text = MULTI_STORE.replace("weight = 100", "weight = heavy");
    let message = load_from_str(&text).unwrap_err().to_string();
    assert!(
        message.contains("invalid value for option weight in group [fast]"),
        "{message}"
    );
}

#[test]
fn default_backend_must_be_enabled() {
    let text = MULTI_STORE.replace("default_backend = fast", "default_backend = slow");
    let message = load_from_str(&text).unwrap_err().to_string();
    assert!(
        message.contains("option default_backend in group [glance_store]: 'slow' is not one of the enabled backends (fast, cheap, web)"),
        "{message}"
    );
}

#[test]
fn default_backend_is_required_with_multi_store() {
    let text = MULTI_STORE.replace("default_backend = fast", "");
    let error = load_from_str(&text).unwrap_err();
    assert!(
        matches!(error, ConfigError::MissingOption { ref option, .. } if option == "default_backend")
    );
    assert!(error.to_string().contains("[glance_store]"), "{error}");
}

#[test]
fn reserved_store_ids_are_refused() {
    let message =
        load_from_str("[DEFAULT]\nenabled_backends = os_glance_mine:file\n[glance_store]\ndefault_backend = os_glance_mine\n")
            .unwrap_err()
            .to_string();
    assert!(
        message.contains("option enabled_backends in group [DEFAULT]"),
        "{message}"
    );
    assert!(message.contains("os_glance_"), "{message}");
}

#[test]
fn duplicate_backend_ids_are_refused() {
    let message = load_from_str("[DEFAULT]\nenabled_backends = a:file, a:rbd\n")
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("option enabled_backends in group [DEFAULT]"),
        "{message}"
    );
}

#[test]
fn single_store_default_store_must_be_in_stores() {
    let message = load_from_str("[glance_store]\nstores = file,http\ndefault_store = rbd\n")
        .unwrap_err()
        .to_string();
    assert!(
        message.contains(
            "option default_store in group [glance_store]: no store for scheme 'rbd' is enabled"
        ),
        "{message}"
    );

    let message = load_from_str("[glance_store]\nstores = swift\n")
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("option stores in group [glance_store]"),
        "{message}"
    );

    let legacy = load_from_str("[DEFAULT]\ndefault_store = swift\n")
        .unwrap_err()
        .to_string();
    assert!(
        legacy.contains("option default_store in group [DEFAULT]"),
        "{legacy}"
    );
}

#[test]
fn schemes_map_to_their_store() {
    for (stores, scheme) in [
        ("file", "filesystem"),
        ("http", "https"),
        ("swift", "swift+config"),
        ("vmware", "vsphere"),
        ("glance.store.rbd.Store", "rbd"),
        ("s3, cinder", "cinder"),
    ] {
        let text = format!("[glance_store]\nstores = {stores}\ndefault_store = {scheme}\n");
        let s = load_from_str(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(s.glance_store.default_store, scheme);
    }
}

#[test]
fn single_store_options_are_not_checked_in_multi_store_mode() {
    let text = format!("{MULTI_STORE}\n[glance_store]\nstores = rbd\ndefault_store = file\n");
    assert!(load_from_str(&text).is_ok());
}
