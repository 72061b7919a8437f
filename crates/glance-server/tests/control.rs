//! `glance-control` against the real `glance-api` binary: start detached with a pid
//! file, status, refusing a second start, stale pid files, restart, graceful stop.
//! Like binary.rs, it runs the embedded SQLite default whatever GLANCE_TEST_ENGINE says.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const CONTROL: &str = env!("CARGO_BIN_EXE_glance-control");

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

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

fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `glance-control --pid-file <dir>/api.pid args...` run in `dir`: (exit code, stdout+stderr).
fn control(dir: &Path, args: &[&str]) -> (i32, String) {
    let pid_file = dir.join("api.pid");
    let out = Command::new(CONTROL)
        .arg(format!("--pid-file={}", pid_file.display()))
        .args(args)
        .current_dir(dir)
        .env("HOME", dir)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

/// Whether `pid` is a live process (an exited one nobody reaped yet is not).
fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        !stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
    })
}

fn pid_in(dir: &Path) -> u32 {
    std::fs::read_to_string(dir.join("api.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn start_status_stop_and_restart_the_api_server() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let conf = dir.path().join("glance-api.conf");
    std::fs::write(&conf, format!("[DEFAULT]\nbind_port = {port}\n")).unwrap();
    let conf = conf.to_str().unwrap();

    let (code, out) = control(dir.path(), &["api", "start", conf]);
    assert_eq!(
        (code, out.as_str()),
        (0, format!("Starting glance-api with {conf}\n").as_str())
    );
    wait_until("the API to answer", || answers(port));
    let pid = pid_in(dir.path());
    let (code, out) = control(dir.path(), &["api", "status"]);
    assert_eq!(
        (code, out),
        (0, format!("glance-api (pid {pid}) is running...\n"))
    );

    let (code, out) = control(dir.path(), &["api", "start", conf]);
    assert_eq!(code, 1);
    assert!(
        out.starts_with("glance-api appears to already be running: "),
        "{out}"
    );
    assert_eq!(pid_in(dir.path()), pid, "the running server is left alone");

    let (code, out) = control(dir.path(), &["api", "restart", conf]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.starts_with(&format!("Stopping glance-api  pid: {pid}  signal: 15\n")),
        "{out}"
    );
    // glance-control waited for the exit (an exited process nobody has reaped yet
    // stays in /proc as a zombie, which is not running).
    assert!(!running(pid), "the old server is gone");
    wait_until("the restarted API to answer", || answers(port));
    let new_pid = pid_in(dir.path());
    assert_ne!(new_pid, pid);

    let (code, out) = control(dir.path(), &["api", "stop"]);
    assert_eq!(
        (code, out),
        (
            0,
            format!("Stopping glance-api  pid: {new_pid}  signal: 15\n")
        )
    );
    assert!(!dir.path().join("api.pid").exists());
    assert!(!running(new_pid) && !answers(port));
    let (code, out) = control(dir.path(), &["api", "status"]);
    assert_eq!((code, out.as_str()), (3, "glance-api is stopped\n"));
    let (code, out) = control(dir.path(), &["api", "stop"]);
    assert_eq!((code, out.as_str()), (0, "No glance-api running\n"));
}

#[test]
fn a_stale_pid_file_is_replaced_and_a_failed_start_leaves_none() {
    let dir = tempfile::tempdir().unwrap();
    // The pid of a process that has exited.
    let mut gone = Command::new("true").spawn().unwrap();
    gone.wait().unwrap();
    std::fs::write(dir.path().join("api.pid"), format!("{}\n", gone.id())).unwrap();
    let (code, out) = control(dir.path(), &["api", "status"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("is dead"), "{out}");

    let port = free_port();
    let conf = dir.path().join("api.conf");
    std::fs::write(&conf, format!("[DEFAULT]\nbind_port = {port}\n")).unwrap();
    let (code, out) = control(dir.path(), &["api", "start", conf.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.starts_with(&format!(
            "Removing stale pid file {}\n",
            dir.path().join("api.pid").display()
        )),
        "{out}"
    );
    wait_until("the API to answer", || answers(port));
    assert_eq!(control(dir.path(), &["api", "stop"]).0, 0);

    std::fs::write(&conf, "[DEFAULT]\nbind_port = not-a-port\n").unwrap();
    let (code, out) = control(dir.path(), &["api", "start", conf.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("glance-api exited at start"), "{out}");
    assert!(
        !dir.path().join("api.pid").exists(),
        "no pid file for a server that did not start"
    );

    let (code, out) = control(dir.path(), &["cache", "start"]);
    assert_eq!(code, 1);
    assert!(
        out.starts_with("Unknown server 'glance-cache' specified."),
        "{out}"
    );
    let (code, out) = control(dir.path(), &["api", "explode"]);
    assert_eq!(code, 1);
    assert!(
        out.starts_with("Unknown command explode specified."),
        "{out}"
    );
}
