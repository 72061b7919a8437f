//! `glance-control scrubber start|status|stop`: the real glance-scrubber runs as a
//! daemon under a pid file and scrubs, pass after pass, what a delayed-delete server
//! leaves pending, until it is stopped.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::TestServer;
use glance_db::SqlBuf;
use serde_json::json;

const CONTROL: &str = env!("CARGO_BIN_EXE_glance-control");

/// `glance-control --pid-file <dir>/scrubber.pid args...`: (exit code, output).
fn control(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(CONTROL)
        .arg(format!("--pid-file={}", dir.join("scrubber.pid").display()))
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

async fn status_of(s: &TestServer, id: &str) -> String {
    let mut q = SqlBuf::new("SELECT status FROM images WHERE id = ");
    q.bind(id);
    s.state.glance.db.raw_fetch(&q).await.unwrap()[0]
        .text("status")
        .unwrap()
}

/// Creates, uploads and deletes (delayed) an image; its id.
async fn pending_image(s: &TestServer) -> String {
    let id = common::create(
        s,
        json!({"name": "x", "disk_format": "raw", "container_format": "bare"}),
    )
    .await;
    let r = s
        .put_data(&format!("/v2/images/{id}/file"), b"data".to_vec())
        .await;
    assert_eq!(r.status, 204, "{}", r.text());
    assert_eq!(s.delete(&format!("/v2/images/{id}")).await.status, 204);
    assert_eq!(status_of(s, &id).await, "pending_delete");
    id
}

async fn wait_scrubbed(s: &TestServer, id: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while status_of(s, id).await != "deleted" {
        assert!(Instant::now() < deadline, "{id} was not scrubbed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!s.dir.path().join("images").join(id).exists());
}

#[tokio::test]
async fn glance_control_runs_the_scrubber_as_a_daemon() {
    let s = common::server_with("[DEFAULT]\ndelayed_delete = true\n").await;
    let first = pending_image(&s).await;

    // The daemon finds the server's database and store through its config file.
    let run = tempfile::tempdir().unwrap();
    let database = match &s.database {
        Some(_) => s.database_ini(),
        None => format!(
            "[database]\nconnection = sqlite:///{}\n",
            s.dir.path().join("glance.sqlite").display()
        ),
    };
    let conf = run.path().join("glance-scrubber.conf");
    std::fs::write(
        &conf,
        format!(
            "[DEFAULT]\nwakeup_time = 1\nfilesystem_store_datadir = {}\n{database}",
            s.dir.path().join("images").display()
        ),
    )
    .unwrap();
    let conf = conf.to_str().unwrap();

    let (code, out) = control(run.path(), &["scrubber", "start", conf]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Starting glance-scrubber with"), "{out}");
    let (code, out) = control(run.path(), &["scrubber", "status"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("glance-scrubber (pid"), "{out}");

    wait_scrubbed(&s, &first).await;
    // Still running: a later delete is scrubbed by a later pass.
    let second = pending_image(&s).await;
    wait_scrubbed(&s, &second).await;

    let (code, out) = control(run.path(), &["scrubber", "stop"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Stopping glance-scrubber"), "{out}");
    let (code, out) = control(run.path(), &["scrubber", "status"]);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("glance-scrubber is stopped"), "{out}");
}
