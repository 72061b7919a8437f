//! The Crowbar Glance barclamp's parameters (the seeds' first document), each set
//! through the upstream option it maps to, and what the server does with it:
//!
//! | barclamp parameter     | option                                   |
//! | ---------------------- | ---------------------------------------- |
//! | Working Directory      | `--data-dir` (no upstream option)        |
//! | PID Directory          | glance-control `--pid-file`              |
//! | Notification Strategy  | `notifier_strategy = noop`               |
//! | Backing Type           | `default_store = file`                   |
//! | Image Store Directory  | `filesystem_store_datadir`               |
//! | Bind to All Addresses  | `bind_host = 0.0.0.0`                    |
//! | Access Port            | `bind_port` (API 9292, registry 9191)    |
//! | Caching                | `image_cache_dir`, `image_cache_stall_time`, `image_cache_invalid_entry_grace_period` |
//! | Database Type          | `sql_connection` (sqlite or mysql)       |
//! | SQL Idle Timeout       | `sql_idle_timeout`                       |
//!
//! The binaries here run on SQLite whatever GLANCE_TEST_ENGINE says; the database
//! test follows the variable.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use glance_db::Engine;
use serde_json::json;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One HTTP/1.1 request over loopback; the raw response.
fn http(port: u16, method: &str, path: &str, body: &[u8]) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\
         Content-Type: {}\r\nContent-Length: {}\r\n\r\n",
        if body.starts_with(b"{") {
            "application/json"
        } else {
            "application/octet-stream"
        },
        body.len()
    );
    stream.write_all(head.as_bytes()).ok()?;
    stream.write_all(body).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    Some(response)
}

/// A server binary with `conf` and `args`, in `dir` (also its HOME), answering on `port`.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(bin: &str, dir: &Path, conf: &str, args: &[&str], port: u16) -> Running {
    let conf_path = dir.join("server.conf");
    std::fs::write(&conf_path, conf).unwrap();
    let mut child = Command::new(bin)
        .arg("--config-file")
        .arg(&conf_path)
        .args(args)
        .current_dir(dir)
        .env("HOME", dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while http(port, "GET", "/versions", b"").is_none() {
        assert!(child.try_wait().unwrap().is_none(), "{bin} exited at start");
        assert!(Instant::now() < deadline, "{bin} did not answer on {port}");
        std::thread::sleep(Duration::from_millis(100));
    }
    Running(child)
}

/// Whether something listens on `0.0.0.0:port` (IPv4 wildcard) per /proc/net/tcp.
fn listens_on_all_addresses(port: u16) -> bool {
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap();
    let wanted = format!("00000000:{port:04X}");
    table.lines().skip(1).any(|line| {
        let cols: Vec<&str> = line.split_whitespace().collect();
        cols.get(1) == Some(&wanted.as_str()) && cols.get(3) == Some(&"0A")
    })
}

fn created_id(response: &str) -> String {
    let body = response.split("\r\n\r\n").nth(1).unwrap();
    let v: serde_json::Value = serde_json::from_str(body).unwrap();
    v["id"].as_str().unwrap().to_string()
}

/// Working directory, backing type, image store directory, bind to all addresses,
/// the API port and the notification strategy, on the real glance-api.
#[test]
fn api_server_parameters() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("var-lib-glance");
    let store = dir.path().join("image-store");
    let port = free_port();
    let conf = format!(
        "[DEFAULT]\nbind_host = 0.0.0.0\nbind_port = {port}\nnotifier_strategy = noop\n\
         default_store = file\nfilesystem_store_datadir = {}\n",
        store.display()
    );
    let _api = start(
        env!("CARGO_BIN_EXE_glance-api"),
        dir.path(),
        &conf,
        &["--data-dir", work.to_str().unwrap()],
        port,
    );
    assert!(listens_on_all_addresses(port), "bind_host 0.0.0.0");
    let created = http(
        port,
        "POST",
        "/v2/images",
        json!({"name": "b", "disk_format": "raw", "container_format": "bare"})
            .to_string()
            .as_bytes(),
    )
    .unwrap();
    assert!(created.starts_with("HTTP/1.1 201"), "{created}");
    let id = created_id(&created);
    let put = http(port, "PUT", &format!("/v2/images/{id}/file"), b"barclamp").unwrap();
    assert!(put.starts_with("HTTP/1.1 204"), "{put}");
    // The data went to the Image Store Directory, the database to the working one.
    assert_eq!(std::fs::read(store.join(&id)).unwrap(), b"barclamp");
    assert!(work.join("glance.sqlite").is_file());
    assert!(!work.join("images").join(&id).exists());
}

/// The registry's own port, and the PID directory of glance-control.
#[test]
fn registry_port_and_pid_directory() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let conf = format!("[DEFAULT]\nbind_port = {port}\n");
    let registry = start(
        env!("CARGO_BIN_EXE_glance-registry"),
        dir.path(),
        &conf,
        &[],
        port,
    );
    let images = http(port, "GET", "/images", b"").unwrap();
    assert!(images.starts_with("HTTP/1.1 200"), "{images}");
    drop(registry);

    let pid_dir = dir.path().join("run-glance");
    let pid_file = pid_dir.join("glance-api.pid");
    let api_port = free_port();
    let conf_path = dir.path().join("api.conf");
    std::fs::write(&conf_path, format!("[DEFAULT]\nbind_port = {api_port}\n")).unwrap();
    let control = |command: &str| {
        Command::new(env!("CARGO_BIN_EXE_glance-control"))
            .arg(format!("--pid-file={}", pid_file.display()))
            .args(["api", command, conf_path.to_str().unwrap()])
            .current_dir(dir.path())
            .env("HOME", dir.path())
            .output()
            .unwrap()
    };
    assert!(control("start").status.success());
    // The pid directory is created and holds the server's pid.
    let pid: u32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(Path::new(&format!("/proc/{pid}")).exists());
    let deadline = Instant::now() + Duration::from_secs(30);
    while http(api_port, "GET", "/versions", b"").is_none() {
        assert!(Instant::now() < deadline, "glance-api did not answer");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(control("stop").status.success());
    assert!(!pid_file.exists());
}

/// Database type and SQL idle timeout (the seeds' `[DEFAULT]` names), on the engine
/// of GLANCE_TEST_ENGINE: sqlite as the barclamp's default, else MySQL/PostgreSQL.
#[tokio::test]
async fn database_type_and_sql_idle_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let (url, database) = match common::engine() {
        Engine::Sqlite => {
            let file = dir.path().join("lib").join("glance.sqlite");
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            (format!("sqlite:///{}", file.display()), None)
        }
        engine => {
            let db = glance_db::testing::ServerDatabase::create(engine, "glance_api")
                .await
                .unwrap();
            (db.url.clone(), Some(db))
        }
    };
    let ini = format!("[DEFAULT]\nsql_connection = {url}\nsql_idle_timeout = 3600\n");
    let settings = glance_config::load_from_str(&ini).unwrap();
    assert_eq!(settings.database.connection.as_deref(), Some(url.as_str()));
    assert_eq!(
        glance_server::pool_settings(&settings.database).recycle_time,
        Some(Duration::from_secs(3600))
    );
    let s = common::server_in(&ini, dir, |_| {}).await;
    let id = common::create(&s, json!({"name": "in the configured database"})).await;
    assert_eq!(
        common::show(&s, &id).await["name"],
        "in the configured database"
    );
    if database.is_none() {
        assert!(s.dir.path().join("lib").join("glance.sqlite").is_file());
        assert!(!s.dir.path().join("glance.sqlite").exists());
    }
    drop(s);
    drop(database);
}

/// The caching parameters: the cache directory switches the cache on (upstream's
/// rule; the versions list then advertises the cache API's versions), the two
/// timeouts are accepted. The cache itself is a later issue (COMPATIBILITY.md).
#[tokio::test]
async fn caching_parameters_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("image-cache");
    let ini = format!(
        "[DEFAULT]\nimage_cache_dir = {}\nimage_cache_stall_time = 86400\n\
         image_cache_invalid_entry_grace_period = 3600\n",
        cache.display()
    );
    let settings = glance_config::load_from_str(&ini).unwrap();
    assert!(settings.cache_enabled());
    assert_eq!(settings.image_cache_dir.as_deref(), Some(cache.as_path()));
    let s = common::server_in(&ini, dir, |_| {}).await;
    assert_eq!(s.get("/versions").await.status, 200);
}
