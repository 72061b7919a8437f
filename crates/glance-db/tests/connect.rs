//! Connecting: start-up retries while the server is unreachable, and no retries
//! for errors that waiting cannot fix.

mod common;

use std::time::{Duration, Instant};

use glance_db::{Db, DbError, Engine, PoolSettings};

fn retrying(retries: i64) -> PoolSettings {
    PoolSettings {
        connect_retries: retries,
        retry_interval: Duration::from_millis(200),
        acquire_timeout: Duration::from_secs(5),
        ..PoolSettings::default()
    }
}

#[tokio::test]
async fn an_unreachable_server_is_tried_again_then_reported() {
    // Nothing listens on the discard port of loopback.
    for url in [
        "postgresql://glance:pw@127.0.0.1:9/glance",
        "mysql+pymysql://glance:pw@127.0.0.1:9/glance",
    ] {
        let started = Instant::now();
        let err = Db::connect(url, &retrying(2))
            .await
            .err()
            .expect("no server");
        let waited = started.elapsed();
        assert!(matches!(err, DbError::Unreachable(_)), "{url}: {err:?}");
        assert!(
            waited >= Duration::from_millis(400),
            "{url}: two pauses, {waited:?}"
        );
        assert!(
            waited < Duration::from_secs(5),
            "{url}: then gives up, {waited:?}"
        );
    }
}

#[tokio::test]
async fn a_missing_database_fails_at_once() {
    for engine in [Engine::Postgres, Engine::MySql] {
        let Some(db) = common::empty(engine).await else {
            continue;
        };
        let url = glance_db::testing::with_database(
            &glance_db::testing::admin_url(engine),
            "glance_no_such_database",
        );
        let started = Instant::now();
        let err = Db::connect(&url, &retrying(5))
            .await
            .err()
            .expect("no such database");
        assert!(matches!(err, DbError::Backend(_)), "{engine:?}: {err:?}");
        assert!(
            started.elapsed() < Duration::from_millis(1000),
            "{engine:?}: not retried"
        );
        db.finish().await;
    }
}
