//! Loading from files: order, overrides, config dirs, missing files.

use std::fs;
use std::path::{Path, PathBuf};

use glance_config::{load, ConfigError, LoadOptions};

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, text).unwrap();
    path
}

fn files(config_files: Vec<PathBuf>, config_dirs: Vec<PathBuf>) -> LoadOptions {
    LoadOptions {
        config_files,
        config_dirs,
        data_dir: None,
        use_default_search_path: false,
        require_config_file: false,
    }
}

#[test]
fn no_files_without_search_path_gives_defaults() {
    let s = load(&LoadOptions::default()).unwrap();
    assert_eq!(s.bind_port, 9292);
    assert!(s.config_files.is_empty() && s.config_dirs.is_empty());
}

#[test]
fn later_files_override_earlier_ones() {
    let dir = tempfile::tempdir().unwrap();
    let first = write(
        dir.path(),
        "a.conf",
        "[DEFAULT]\nbind_port = 1111\ndebug = true\n",
    );
    let second = write(dir.path(), "b.conf", "[DEFAULT]\nbind_port = 2222\n");
    let s = load(&files(vec![first.clone(), second.clone()], vec![])).unwrap();
    assert_eq!(s.bind_port, 2222);
    assert!(s.debug);
    assert_eq!(s.config_files, [first, second]);
    assert_eq!(s.config_dirs, [dir.path().to_path_buf()]);
}

#[test]
fn an_alias_in_a_later_file_overrides_the_current_name_in_an_earlier_one() {
    let dir = tempfile::tempdir().unwrap();
    let first = write(
        dir.path(),
        "a.conf",
        "[database]\nconnection = sqlite:///first\n",
    );
    let second = write(
        dir.path(),
        "b.conf",
        "[DEFAULT]\nsql_connection = sqlite:///second\n",
    );
    let s = load(&files(vec![first, second], vec![])).unwrap();
    assert_eq!(s.database.connection.as_deref(), Some("sqlite:///second"));
}

#[test]
fn config_dir_files_load_sorted_after_config_files() {
    let root = tempfile::tempdir().unwrap();
    let main = write(
        root.path(),
        "glance-api.conf",
        "[DEFAULT]\nbind_port = 1000\nworkers = 2\ndebug = true\n",
    );
    let conf_d = root.path().join("glance-api.conf.d");
    fs::create_dir(&conf_d).unwrap();
    write(&conf_d, "20-port.conf", "[DEFAULT]\nbind_port = 2000\n");
    write(
        &conf_d,
        "10-port.conf",
        "[DEFAULT]\nbind_port = 1500\nworkers = 3\n",
    );
    write(
        &conf_d,
        "30-ignored.conf.disabled",
        "[DEFAULT]\nbind_port = 9999\n",
    );
    let s = load(&files(vec![main.clone()], vec![conf_d.clone()])).unwrap();
    assert_eq!(s.bind_port, 2000);
    assert_eq!(s.workers, Some(3));
    assert!(s.debug);
    assert_eq!(
        s.config_files,
        [
            main,
            conf_d.join("10-port.conf"),
            conf_d.join("20-port.conf")
        ]
    );
    assert_eq!(s.config_dirs, [root.path().to_path_buf(), conf_d]);
}

#[test]
fn several_config_dirs_in_order() {
    let root = tempfile::tempdir().unwrap();
    let one = root.path().join("one");
    let two = root.path().join("two");
    fs::create_dir_all(&one).unwrap();
    fs::create_dir_all(&two).unwrap();
    write(&one, "z.conf", "[DEFAULT]\nbind_host = 10.0.0.1\n");
    write(&two, "a.conf", "[DEFAULT]\nbind_host = 10.0.0.2\n");
    let s = load(&files(vec![], vec![one.clone(), two.clone()])).unwrap();
    assert_eq!(s.bind_host, "10.0.0.2");
    assert_eq!(s.config_dirs, [one, two]);
}

#[test]
fn missing_config_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.conf");
    let error = load(&files(vec![missing.clone()], vec![])).unwrap_err();
    assert!(matches!(error, ConfigError::FileNotFound { ref path } if *path == missing));
    assert!(error.to_string().contains("nope.conf"), "{error}");
}

#[test]
fn missing_config_dir_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let error = load(&files(vec![], vec![dir.path().join("absent.d")])).unwrap_err();
    assert!(matches!(error, ConfigError::DirNotFound { .. }), "{error}");
}

#[test]
fn errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write(
        dir.path(),
        "glance-api.conf",
        "[DEFAULT]\nimage_size_cap = abc\n",
    );
    let message = load(&files(vec![bad.clone()], vec![]))
        .unwrap_err()
        .to_string();
    assert_eq!(
        message,
        format!(
            "invalid value for option image_size_cap in group [DEFAULT] in file {}: 'abc' is not an integer",
            bad.display()
        )
    );

    let broken = write(dir.path(), "broken.conf", "[DEFAULT\n");
    let message = load(&files(vec![broken.clone()], vec![]))
        .unwrap_err()
        .to_string();
    assert!(message.contains(&broken.display().to_string()), "{message}");
    assert!(message.contains("line 1"), "{message}");
}

#[test]
fn the_error_names_the_file_the_bad_value_came_from() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(dir.path(), "a.conf", "[DEFAULT]\ndebug = true\n");
    let bad = write(dir.path(), "b.conf", "[DEFAULT]\ndebug = sometimes\n");
    match load(&files(vec![good, bad.clone()], vec![])).unwrap_err() {
        ConfigError::InvalidValue { file, option, .. } => {
            assert_eq!(file, Some(bad));
            assert_eq!(option, "debug");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn data_dir_overrides_the_default() {
    let opts = LoadOptions {
        data_dir: Some(PathBuf::from("/srv/glance")),
        ..LoadOptions::default()
    };
    assert_eq!(load(&opts).unwrap().data_dir, PathBuf::from("/srv/glance"));
}

#[test]
fn sections_merge_across_files() {
    let dir = tempfile::tempdir().unwrap();
    let first = write(
        dir.path(),
        "a.conf",
        "[DEFAULT]\nenabled_backends = fast:rbd\n[glance_store]\ndefault_backend = fast\n[fast]\nrbd_store_pool = images\nweight = 5\n",
    );
    let second = write(dir.path(), "b.conf", "[FAST]\nweight = 7\n");
    let s = load(&files(vec![first, second], vec![])).unwrap();
    let fast = &s.backends["fast"];
    assert_eq!(fast.weight, 7);
    assert_eq!(fast.options["rbd_store_pool"], "images");
}
