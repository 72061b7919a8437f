//! The seeds' logging options on the real `glance-api` binary: `verbose`, `--verbose`,
//! `log_date_format`, `use_syslog` with `syslog_log_facility`, and `--log-config`.
//! Like binary.rs, these run the embedded SQLite default whatever GLANCE_TEST_ENGINE says.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn answers(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = write!(
        stream,
        "GET /versions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    );
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response.starts_with("HTTP/1.1 200")
}

/// Starts glance-api in `dir` with `[DEFAULT] bind_port` plus `ini`, waits until it
/// answers, then stops it.
fn serve_once(dir: &Path, ini: &str, args: &[&str], env: &[(&str, &Path)]) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let conf = dir.join("glance-api.conf");
    std::fs::write(&conf, format!("[DEFAULT]\nbind_port = {port}\n{ini}")).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_glance-api"));
    command
        .arg("--config-file")
        .arg(&conf)
        .args(args)
        .current_dir(dir)
        .env("HOME", dir)
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !answers(port) {
        assert!(child.try_wait().unwrap().is_none(), "glance-api exited");
        assert!(Instant::now() < deadline, "glance-api did not answer");
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn verbose_false_logs_warnings_only_unless_the_command_line_says_verbose() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("api.log");
    let ini = format!("verbose = false\nlog_file = {}\n", log.display());
    serve_once(dir.path(), &ini, &[], &[]);
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(!text.contains("serving on"), "no INFO line: {text}");
    serve_once(dir.path(), &ini, &["--verbose"], &[]);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("serving on"), "{text}");
}

#[test]
fn log_date_format_shapes_the_timestamps() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("api.log");
    let ini = format!(
        "log_date_format = %d/%m/%Y at %H\nlog_file = {}\n",
        log.display()
    );
    serve_once(dir.path(), &ini, &[], &[]);
    let text = std::fs::read_to_string(&log).unwrap();
    let first = text.lines().next().unwrap();
    let today = chrono::Local::now().format("%d/%m/%Y at ").to_string();
    assert!(first.starts_with(&today), "{first}");
}

#[test]
fn use_syslog_sends_each_line_to_the_syslog_socket_with_its_facility() {
    let dir = tempfile::tempdir().unwrap();
    let socket_path = dir.path().join("log.sock");
    let syslog = UnixDatagram::bind(&socket_path).unwrap();
    syslog
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    serve_once(
        dir.path(),
        "use_syslog = true\nsyslog_log_facility = LOG_LOCAL0\n",
        &[],
        &[("GLANCE_SYSLOG_SOCKET", &socket_path)],
    );
    let mut buf = vec![0u8; 65536];
    let mut lines = Vec::new();
    while let Ok(n) = syslog.recv(&mut buf) {
        lines.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        syslog
            .set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
    }
    // local0 (16) * 8 + informational (6)
    let serving = lines
        .iter()
        .find(|l| l.contains("serving on"))
        .unwrap_or_else(|| panic!("{lines:?}"));
    assert!(serving.starts_with("<134>glance-api: "), "{serving}");
    assert!(!serving.ends_with('\n'));
}

#[test]
fn log_config_names_the_log_file_and_bad_logging_options_stop_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("from-log-config.log");
    let log_config = dir.path().join("logging.conf");
    std::fs::write(
        &log_config,
        format!(
            "[loggers]\nkeys=root\n[handlers]\nkeys=f\n[formatters]\nkeys=\n[logger_root]\nlevel=INFO\nhandlers=f\n\
             [handler_f]\nclass=FileHandler\nargs=('{}', 'a')\n",
            log.display()
        ),
    )
    .unwrap();
    serve_once(
        dir.path(),
        "",
        &["--log-config", log_config.to_str().unwrap()],
        &[],
    );
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("serving on"), "{text}");

    for (ini, words) in [
        (
            "syslog_log_facility = LOG_NOWHERE\nuse_syslog = true\n",
            "syslog_log_facility",
        ),
        ("log_date_format = %Q\n", "log_date_format"),
    ] {
        let conf = dir.path().join("bad.conf");
        std::fs::write(&conf, format!("[DEFAULT]\n{ini}")).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_glance-api"))
            .arg("--config-file")
            .arg(&conf)
            .current_dir(dir.path())
            .env("HOME", dir.path())
            .output()
            .unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(words), "{err}");
    }
}
