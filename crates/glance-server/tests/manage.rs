//! `glance-manage` database commands, run as the real binary against the test
//! engine's database (`GLANCE_TEST_ENGINE`), checked through the database and the API.

mod common;

use std::path::Path;
use std::process::Output;

use common::{engine, server, TestServer};
use glance_db::{Db, Engine, PoolSettings, SqlBuf, SCHEMA_VERSION};
use serde_json::json;

/// The URL of `server`'s database.
fn database_url(server: &TestServer) -> String {
    match &server.database {
        Some(d) => d.url.clone(),
        None => format!(
            "sqlite:///{}",
            server.dir.path().join("glance.sqlite").display()
        ),
    }
}

/// Runs glance-manage with a config file naming `url` (retries off, so an
/// unreachable server fails at once). The child is waited for off the test's
/// runtime thread: the in-process server's pool must stay free to finish its own
/// work meanwhile (a dropped transaction's rollback runs on that thread, and the
/// child may wait for that transaction's locks).
async fn manage(dir: &Path, url: &str, args: &[&str]) -> Output {
    let (dir, url) = (dir.to_path_buf(), url.to_string());
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        manage_blocking(&dir, &url, &args)
    })
    .await
    .expect("glance-manage waiter")
}

fn manage_blocking(dir: &Path, url: &str, args: &[&str]) -> Output {
    let conf = dir.join("glance-manage-test.conf");
    std::fs::write(
        &conf,
        format!("[database]\nconnection = {url}\nmax_retries = 0\n"),
    )
    .unwrap();
    std::process::Command::new(env!("CARGO_BIN_EXE_glance-manage"))
        .arg("--config-file")
        .arg(&conf)
        .args(args)
        .env("RUST_LOG", "info")
        .output()
        .expect("glance-manage runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

async fn connect(url: &str) -> Db {
    let settings = PoolSettings {
        connect_retries: 0,
        ..PoolSettings::default()
    };
    Db::connect(url, &settings).await.unwrap()
}

async fn db_count(db: &Db, q: &SqlBuf) -> i64 {
    db.raw_fetch(q).await.unwrap()[0].int("n").unwrap()
}

/// `sql` (ending in `= `) counted for one image id.
async fn count(db: &Db, sql: &str, image_id: &str) -> i64 {
    let mut q = SqlBuf::new(sql);
    q.bind(image_id);
    db_count(db, &q).await
}

/// Moves every soft-deleted row of the image `days` into the past.
async fn age_deleted_rows(db: &Db, image_id: &str, days: i64) {
    let past = glance_db::now() - chrono::Duration::days(days);
    for table in [
        "image_properties",
        "image_tags",
        "image_members",
        "image_locations",
    ] {
        let mut q = SqlBuf::new(&format!("UPDATE {table} SET deleted_at = "));
        q.bind(past)
            .push(" WHERE deleted_at IS NOT NULL AND image_id = ")
            .bind(image_id);
        db.raw_execute(&q).await.unwrap();
    }
    let mut q = SqlBuf::new("UPDATE images SET deleted_at = ");
    q.bind(past).push(" WHERE id = ").bind(image_id);
    db.raw_execute(&q).await.unwrap();
}

#[tokio::test]
async fn sync_version_and_check_on_an_empty_database() {
    // An empty database of the test engine, not yet touched by any server.
    let dir = tempfile::tempdir().unwrap();
    let (url, _database) = match engine() {
        Engine::Sqlite => (
            format!("sqlite:///{}", dir.path().join("m.sqlite").display()),
            None,
        ),
        e => {
            let d = glance_db::testing::ServerDatabase::create(e, "glance_manage")
                .await
                .unwrap();
            (d.url.clone(), Some(d))
        }
    };
    let version = manage(dir.path(), &url, &["db", "version"]).await;
    assert!(version.status.success(), "{}", stderr(&version));
    assert!(
        stdout(&version).contains("not under migration control"),
        "{}",
        stdout(&version)
    );

    let check = manage(dir.path(), &url, &["db", "check"]).await;
    assert_eq!(check.status.code(), Some(3), "{}", stderr(&check));
    assert!(stdout(&check).contains("glance-manage db expand"));

    let sync = manage(dir.path(), &url, &["db", "sync"]).await;
    assert!(sync.status.success(), "{}", stderr(&sync));
    assert_eq!(stdout(&sync), "Database is synced successfully.\n");

    for args in [&["db", "version"][..], &["db_version"][..]] {
        let version = manage(dir.path(), &url, args).await;
        assert_eq!(stdout(&version), format!("{SCHEMA_VERSION}\n"), "{args:?}");
    }
    let check = manage(dir.path(), &url, &["db", "check"]).await;
    assert_eq!(check.status.code(), Some(0));
    assert_eq!(
        stdout(&check),
        "Database is up to date. No upgrades needed.\n"
    );
    for args in [
        &["db", "sync"][..],
        &["db_sync"][..],
        &["db", "upgrade"][..],
    ] {
        let again = manage(dir.path(), &url, args).await;
        assert!(again.status.success(), "{args:?}: {}", stderr(&again));
        assert_eq!(
            stdout(&again),
            "Database is up to date. No migrations needed.\n"
        );
    }

    // The schema it made is the one the API server uses.
    let db = connect(&url).await;
    assert_eq!(
        db.schema_version().await.unwrap().as_deref(),
        Some(SCHEMA_VERSION)
    );
    db.migrate().await.unwrap();
    db.close().await;
}

#[tokio::test]
async fn an_older_revision_is_refused_with_the_way_forward() {
    let s = server().await;
    let url = database_url(&s);
    let bad = manage(
        s.dir.path(),
        &url,
        &["db", "version_control", "--version", "nosuch"],
    )
    .await;
    assert_eq!(bad.status.code(), Some(1));
    assert!(stderr(&bad).contains("Can't locate revision identified by 'nosuch'"));
    assert_eq!(
        stdout(&manage(s.dir.path(), &url, &["db", "version"]).await),
        format!("{SCHEMA_VERSION}\n"),
        "a refused stamp changes nothing"
    );

    let stamp = manage(
        s.dir.path(),
        &url,
        &["db", "version_control", "--version", "zed_contract01"],
    )
    .await;
    assert!(stamp.status.success(), "{}", stderr(&stamp));
    assert_eq!(
        stdout(&stamp),
        "Placed database under migration control at revision: zed_contract01\n"
    );
    let sync = manage(s.dir.path(), &url, &["db", "sync"]).await;
    assert_eq!(sync.status.code(), Some(1));
    assert!(
        stderr(&sync).contains("at revision zed_contract01"),
        "{}",
        stderr(&sync)
    );
    assert_eq!(
        manage(s.dir.path(), &url, &["db", "check"])
            .await
            .status
            .code(),
        Some(3)
    );
    // The API server refuses it too, naming both versions.
    let db = connect(&url).await;
    let err = db.migrate().await.unwrap_err().to_string();
    assert!(
        err.contains("zed_contract01") && err.contains(SCHEMA_VERSION),
        "{err}"
    );
    db.close().await;
}

#[tokio::test]
async fn purge_keeps_image_rows_so_ids_are_never_reused() {
    let s = server().await;
    let url = database_url(&s);
    let mut ids = Vec::new();
    for name in ["old-1", "old-2", "recent"] {
        let image = s
            .create_image(json!({"name": name, "tags": ["a", "b"], "x_prop": "1", "y_prop": "2"}))
            .await;
        let id = image["id"].as_str().unwrap().to_string();
        assert_eq!(s.delete(&format!("/v2/images/{id}")).await.status, 204);
        ids.push(id);
    }
    let live = s
        .create_image(json!({"name": "live", "tags": ["keep"], "z": "3"}))
        .await;
    let live_id = live["id"].as_str().unwrap().to_string();
    let db = connect(&url).await;
    age_deleted_rows(&db, &ids[0], 40).await;
    age_deleted_rows(&db, &ids[1], 40).await;
    age_deleted_rows(&db, &ids[2], 2).await;

    // max_rows bounds each table: one of the four old properties goes.
    let props = "SELECT COUNT(*) AS n FROM image_properties WHERE image_id IN \
                 (SELECT id FROM images WHERE name LIKE ";
    let old_props = |db| async move {
        let mut q = SqlBuf::new(props);
        q.bind("old-%").push(")");
        db_count(db, &q).await
    };
    assert_eq!(old_props(&db).await, 4);
    let one = manage(
        s.dir.path(),
        &url,
        &["db", "purge", "--age_in_days", "30", "--max_rows", "1"],
    )
    .await;
    assert!(one.status.success(), "{}", stderr(&one));
    assert!(
        stderr(&one).contains("Deleted 1 row(s) from table image_properties"),
        "{}",
        stderr(&one)
    );
    assert_eq!(old_props(&db).await, 3);

    let all = manage(
        s.dir.path(),
        &url,
        &["db", "purge", "--age_in_days", "30", "--max_rows", "-1"],
    )
    .await;
    assert!(all.status.success(), "{}", stderr(&all));
    for (id, left) in [(&ids[0], 0), (&ids[1], 0), (&ids[2], 4), (&live_id, 2)] {
        let mut q = SqlBuf::new("SELECT (SELECT COUNT(*) FROM image_properties WHERE image_id = ");
        q.bind(id.as_str())
            .push(") + (SELECT COUNT(*) FROM image_tags WHERE image_id = ")
            .bind(id.as_str())
            .push(") AS n");
        assert_eq!(
            db_count(&db, &q).await,
            left,
            "property and tag rows left of {id}"
        );
    }
    // The image rows stay, so their ids stay taken (OSSN-0075).
    let images = "SELECT COUNT(*) AS n FROM images WHERE id = ";
    assert_eq!(count(&db, images, &ids[0]).await, 1);
    let again = s
        .post_json("/v2/images", json!({"id": ids[0], "name": "reuse"}))
        .await;
    assert_eq!(again.status, 409, "{}", again.text());
    // The live image is untouched.
    let shown = s.get(&format!("/v2/images/{live_id}")).await.json();
    assert_eq!(
        (shown["z"].as_str(), shown["tags"].clone()),
        (Some("3"), json!(["keep"]))
    );

    // purge_images_table removes old image rows only, and only when asked.
    let purge = manage(
        s.dir.path(),
        &url,
        &["db", "purge_images_table", "--age_in_days", "30"],
    )
    .await;
    assert!(purge.status.success(), "{}", stderr(&purge));
    assert_eq!(count(&db, images, &ids[0]).await, 0);
    assert_eq!(count(&db, images, &ids[2]).await, 1);
    assert_eq!(count(&db, images, &live_id).await, 1);
    db.close().await;
}

#[tokio::test]
async fn bad_purge_arguments_are_refused_and_delete_nothing() {
    let s = server().await;
    let url = database_url(&s);
    let image = s.create_image(json!({"name": "gone", "p": "1"})).await;
    let id = image["id"].as_str().unwrap().to_string();
    assert_eq!(s.delete(&format!("/v2/images/{id}")).await.status, 204);
    let db = connect(&url).await;
    age_deleted_rows(&db, &id, 400).await;
    for (args, message) in [
        (
            &["--age_in_days", "-1"][..],
            "Must supply a non-negative value for age.",
        ),
        (
            &["--age_in_days", "many"][..],
            "Invalid int value for age_in_days: many",
        ),
        (&["--max_rows", "-2"][..], "Minimal rows limit is -1."),
        (
            &["--max_rows", "ten"][..],
            "Invalid int value for max_rows: ten",
        ),
        (
            &["--age_in_days", "100000"][..],
            "Maximal age is count of days since epoch.",
        ),
        (
            &["--max_rows", "2147483648"][..],
            "'max_rows' value out of range",
        ),
    ] {
        for command in ["purge", "purge_images_table"] {
            let mut all = vec!["db", command];
            all.extend_from_slice(args);
            let out = manage(s.dir.path(), &url, &all).await;
            assert_eq!(out.status.code(), Some(1), "{all:?}");
            assert!(stderr(&out).contains(message), "{all:?}: {}", stderr(&out));
        }
    }
    let props = "SELECT COUNT(*) AS n FROM image_properties WHERE image_id = ";
    assert_eq!(count(&db, props, &id).await, 1);
    assert_eq!(
        count(&db, "SELECT COUNT(*) AS n FROM images WHERE id = ", &id).await,
        1
    );
    db.close().await;
}

#[tokio::test]
async fn an_unreachable_database_is_a_clear_error_without_the_password() {
    let dir = tempfile::tempdir().unwrap();
    // Port 9 (discard) on loopback: nothing listens there.
    for url in [
        "postgresql://glance:s3cret@127.0.0.1:9/glance",
        "mysql+pymysql://glance:s3cret@127.0.0.1:9/glance",
    ] {
        let out = manage(dir.path(), url, &["db", "version"]).await;
        assert_eq!(out.status.code(), Some(1));
        let err = stderr(&out);
        assert!(err.contains("connecting to the database"), "{err}");
        assert!(err.contains("127.0.0.1:9"), "{err}");
        assert!(!err.contains("s3cret"), "{err}");
    }
}
