//! The default search path (`~/.glance/`, `~/`, `/etc/glance/`, `/etc/`).
//! One test only: it changes `HOME` for the whole test process.

use std::fs;

use glance_config::{load, load_for_program, LoadOptions};

#[test]
fn default_search_path_uses_home_first() {
    let home = tempfile::tempdir().unwrap();
    std::env::set_var("HOME", home.path());
    std::env::remove_var("SNAP");
    std::env::remove_var("SNAP_COMMON");

    let dot_glance = home.path().join(".glance");
    fs::create_dir(&dot_glance).unwrap();
    // `~/.glance/glance-api.conf` wins over `~/glance-api.conf` (first found).
    fs::write(
        dot_glance.join("glance-api.conf"),
        "[DEFAULT]\nbind_port = 1111\n",
    )
    .unwrap();
    fs::write(
        home.path().join("glance-api.conf"),
        "[DEFAULT]\nbind_port = 2222\n",
    )
    .unwrap();
    // `glance.conf` (the project file) is read before `glance-api.conf`.
    fs::write(
        home.path().join("glance.conf"),
        "[DEFAULT]\nbind_port = 3333\ndebug = true\n",
    )
    .unwrap();
    // The config dir `~/glance-api.conf.d/` is read after the files.
    let conf_d = home.path().join("glance-api.conf.d");
    fs::create_dir(&conf_d).unwrap();
    fs::write(conf_d.join("50-workers.conf"), "[DEFAULT]\nworkers = 6\n").unwrap();

    let opts = LoadOptions {
        use_default_search_path: true,
        ..LoadOptions::default()
    };
    let s = load(&opts).unwrap();
    assert_eq!(s.bind_port, 1111);
    assert!(s.debug);
    assert_eq!(s.workers, Some(6));
    assert_eq!(
        s.config_files,
        [
            home.path().join("glance.conf"),
            dot_glance.join("glance-api.conf"),
            conf_d.join("50-workers.conf"),
        ]
    );
    assert_eq!(
        s.config_dirs,
        [
            home.path().to_path_buf(),
            dot_glance.clone(),
            conf_d.clone()
        ]
    );

    // Another program reads its own file (and the project file).
    fs::write(
        home.path().join("glance-scrubber.conf"),
        "[DEFAULT]\nbind_port = 4444\n",
    )
    .unwrap();
    let scrubber = load_for_program("glance-scrubber", &opts).unwrap();
    assert_eq!(scrubber.bind_port, 4444);

    // An explicit config file replaces the default files, not the default dirs (as oslo).
    let explicit = home.path().join("explicit.conf");
    fs::write(&explicit, "[DEFAULT]\nbind_port = 5555\n").unwrap();
    let s = load(&LoadOptions {
        config_files: vec![explicit.clone()],
        ..opts.clone()
    })
    .unwrap();
    assert_eq!(s.bind_port, 5555);
    assert!(!s.debug);
    assert_eq!(s.config_files, [explicit, conf_d.join("50-workers.conf")]);

    // Without the search path nothing is read.
    assert!(load(&LoadOptions::default())
        .unwrap()
        .config_files
        .is_empty());
}

/// The seeds' strict rule: with `require_config_file`, finding no file at all is the
/// manual's error; one file found anywhere (or given) is enough.
#[test]
fn strict_mode_refuses_to_start_without_a_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let strict = LoadOptions {
        require_config_file: true,
        ..LoadOptions::default()
    };
    let e = load_for_program("glance-registry", &strict).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Unable to locate any configuration file. Cannot load application glance-registry"
    );
    // A config dir holding a *.conf file counts: oslo reads it like a file.
    let conf_d = dir.path().join("conf.d");
    fs::create_dir(&conf_d).unwrap();
    assert!(load(&LoadOptions {
        config_dirs: vec![conf_d.clone()],
        ..strict.clone()
    })
    .is_err());
    fs::write(conf_d.join("a.conf"), "[DEFAULT]\nbind_port = 7777\n").unwrap();
    let s = load(&LoadOptions {
        config_dirs: vec![conf_d],
        ..strict.clone()
    })
    .unwrap();
    assert_eq!(s.bind_port, 7777);
    // Without strict mode the same empty search starts on the built-in defaults.
    assert!(load(&LoadOptions::default()).is_ok());
}
