//! The `glance-api` binary itself: the no-argument embedded default and start-up errors.
//! These run the binary on its embedded SQLite default whatever `GLANCE_TEST_ENGINE`
//! says (that variable chooses the database of the in-process test servers only), so
//! scripts/test leaves this file out of its PostgreSQL and MySQL passes.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_glance-api");

/// A minimal HTTP GET over loopback (no client library needed).
fn http_get(port: u16, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    Some(response)
}

/// Runs `bin` with no arguments in an empty home directory (which is also its working
/// directory) until `path` answers on `port`; returns the answer (None if none came)
/// and everything the program printed.
fn run_with_no_arguments(
    bin: &str,
    home: &std::path::Path,
    port: u16,
    path: &str,
) -> (Option<String>, String) {
    // The port must be ours: otherwise another server could answer for us.
    drop(
        std::net::TcpListener::bind(("127.0.0.1", port)).unwrap_or_else(|_| {
            panic!("port {port} is free for this test (stop whatever listens there)")
        }),
    );
    let mut child = Command::new(bin)
        .current_dir(home)
        // An empty HOME keeps a developer's own ~/.glance config out of the test.
        .env("HOME", home)
        .env_remove("RUST_LOG")
        .stderr(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut answer = None;
    while Instant::now() < deadline {
        if let Some(r) = http_get(port, path) {
            answer = Some(r);
            break;
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let output = child.wait_with_output().unwrap();
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (answer, log)
}

#[test]
fn no_arguments_serves_the_embedded_default_on_9292() {
    let home = tempfile::tempdir().unwrap();
    let (versions, log) = run_with_no_arguments(BIN, home.path(), 9292, "/versions");
    let versions = versions.unwrap_or_else(|| panic!("no answer on 127.0.0.1:9292; log:\n{log}"));
    assert!(versions.starts_with("HTTP/1.1 200"), "{versions}");
    assert!(versions.contains("\"CURRENT\""), "{versions}");
    let data = home.path().join("glance-data");
    assert!(
        data.join("glance.sqlite").is_file(),
        "database created under ./glance-data"
    );
    assert!(
        data.join("images").is_dir(),
        "image directory created under ./glance-data"
    );
    let serving: Vec<&str> = log.lines().filter(|l| l.contains("serving on")).collect();
    assert_eq!(serving.len(), 1, "one line says where: {log}");
    assert!(serving[0].contains("http://127.0.0.1:9292"), "{log}");
    assert!(serving[0].contains("glance-data"), "{log}");
}

#[test]
fn a_malformed_option_is_a_clear_startup_error() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("glance-api.conf");
    std::fs::write(&conf, "[DEFAULT]\nbind_port = 0\nimage_size_cap = lots\n").unwrap();
    let output = Command::new(BIN)
        .arg("--config-file")
        .arg(&conf)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    let first = BufReader::new(stderr.as_bytes())
        .lines()
        .next()
        .unwrap()
        .unwrap();
    assert!(first.contains("image_size_cap"), "{stderr}");
    assert!(first.contains("lots"), "{stderr}");
    assert!(
        !stderr.contains("backtrace"),
        "no backtrace for operators: {stderr}"
    );
    assert!(
        !dir.path().join("data").exists(),
        "nothing created on a bad config"
    );
}

#[test]
fn log_file_and_bind_port_come_from_the_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let port = {
        let l = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
        l.local_addr().unwrap().port()
    };
    let log = dir.path().join("api.log");
    let conf = dir.path().join("glance-api.conf");
    std::fs::write(
        &conf,
        format!(
            "[DEFAULT]\nbind_host = 127.0.0.1\nbind_port = {port}\nlog_file = {}\nworkers = 2\n\
             some_option_of_a_later_feature = 1\n[keystone_authtoken]\nauth_url = http://x\n",
            log.display()
        ),
    )
    .unwrap();
    let mut child = Command::new(BIN)
        .arg("--config-file")
        .arg(&conf)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut answered = false;
    while Instant::now() < deadline && !answered {
        answered = http_get(port, "/versions").is_some_and(|r| r.starts_with("HTTP/1.1 200"));
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(answered, "served on the configured port {port}");
    let text = std::fs::read_to_string(&log).expect("log_file written");
    assert!(
        text.contains(&format!("serving on http://127.0.0.1:{port}")),
        "{text}"
    );
}

#[test]
fn glance_registry_serves_the_registry_api_on_9191_from_the_same_data_directory() {
    let home = tempfile::tempdir().unwrap();
    let (listing, log) = run_with_no_arguments(
        env!("CARGO_BIN_EXE_glance-registry"),
        home.path(),
        9191,
        "/images",
    );
    let listing = listing.unwrap_or_else(|| panic!("no answer on 127.0.0.1:9191; log:\n{log}"));
    assert!(listing.starts_with("HTTP/1.1 200"), "{listing}");
    assert!(listing.ends_with("{\"images\": []}"), "{listing}");
    assert!(home.path().join("glance-data/glance.sqlite").is_file());
    let serving: Vec<&str> = log.lines().filter(|l| l.contains("serving on")).collect();
    assert_eq!(serving.len(), 1, "{log}");
    assert!(serving[0].contains("glance-registry"), "{log}");
    assert!(serving[0].contains("http://127.0.0.1:9191"), "{log}");
}

/// The seeds' strict rule (`--strict-config`, or GLANCE_STRICT_CONFIG for servers
/// started by glance-control): no configuration file found is the manual's error.
#[test]
fn strict_config_refuses_to_start_without_a_config_file() {
    let system_files = ["/etc/glance", "/etc"].iter().any(|dir| {
        [
            "glance.conf",
            "glance-api.conf",
            "glance-api.conf.d",
            "glance.conf.d",
        ]
        .iter()
        .any(|name| std::path::Path::new(dir).join(name).exists())
    });
    if system_files {
        eprintln!("skipped: this machine has a Glance configuration under /etc");
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let strict = |args: &[&str], env: Option<&str>| {
        let mut command = Command::new(BIN);
        command
            .args(args)
            .current_dir(home.path())
            .env("HOME", home.path());
        match env {
            Some(v) => command.env("GLANCE_STRICT_CONFIG", v),
            None => command.env_remove("GLANCE_STRICT_CONFIG"),
        };
        command.output().unwrap()
    };
    for out in [
        strict(&["--strict-config"], None),
        strict(&[], Some("true")),
    ] {
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(
            String::from_utf8_lossy(&out.stderr).trim_end(),
            "ERROR: Unable to locate any configuration file. Cannot load application glance-api"
        );
    }
    // A file on the search path (here ~/glance-api.conf) is enough; the bad port
    // makes the server stop right after reading it.
    std::fs::write(
        home.path().join("glance-api.conf"),
        "[DEFAULT]\nbind_port = not-a-port\n",
    )
    .unwrap();
    let out = strict(&["--strict-config"], None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bind_port"), "{stderr}");
    assert!(!stderr.contains("Unable to locate"), "{stderr}");
}
