//! A fresh database per test on each engine: a temporary SQLite file, or a database
//! `glance_test_<random>` created on the PostgreSQL / MariaDB server named by
//! `GLANCE_TEST_POSTGRES_URL` / `GLANCE_TEST_MYSQL_URL` (admin URLs) and dropped after.
//! An unreachable server fails the test when `CI` is set and is skipped loudly otherwise.

#![allow(dead_code)]

use std::time::Duration;

use glance_db::testing::ServerDatabase;
use glance_db::{Db, Engine, PoolSettings};

/// A database for one test; dropped with it.
pub struct TestDb {
    pub db: Db,
    pub url: String,
    _cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Server(#[allow(dead_code)] ServerDatabase),
}

pub fn settings() -> PoolSettings {
    PoolSettings {
        pool_size: 4,
        max_overflow: 0,
        connect_retries: 0,
        acquire_timeout: Duration::from_secs(10),
        ..PoolSettings::default()
    }
}

fn unavailable(engine: Engine, url: &str, err: impl std::fmt::Display) -> Option<TestDb> {
    if std::env::var_os("CI").is_some() {
        panic!("{engine:?} server not reachable at {url} (CI is set, so this fails): {err}");
    }
    eprintln!(
        "\n*** SKIPPED: {engine:?} server not reachable at {url}: {err} \
         (set GLANCE_TEST_{}_URL; with CI set this fails) ***\n",
        if engine == Engine::Postgres {
            "POSTGRES"
        } else {
            "MYSQL"
        }
    );
    None
}

/// An empty database (no schema) on `engine`, or None when its server is absent.
pub async fn empty(engine: Engine) -> Option<TestDb> {
    if engine == Engine::Sqlite {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:///{}", dir.path().join("g.sqlite").display());
        let db = Db::connect(&url, &settings()).await.unwrap();
        return Some(TestDb {
            db,
            url,
            _cleanup: Cleanup::Sqlite(dir),
        });
    }
    let server = match ServerDatabase::create(engine, "glance_test").await {
        Ok(server) => server,
        Err(e) => return unavailable(engine, &glance_db::testing::admin_url(engine), e),
    };
    let db = Db::connect(&server.url, &settings()).await.unwrap();
    Some(TestDb {
        db,
        url: server.url.clone(),
        _cleanup: Cleanup::Server(server),
    })
}

impl TestDb {
    /// Closes the pool (ending sessions, so no lock outlives the test) and drops the
    /// database.
    pub async fn finish(self) {
        self.db.close().await;
    }
}

/// A database with our schema, or None when the engine's server is absent.
pub async fn migrated(engine: Engine) -> Option<TestDb> {
    let t = empty(engine).await?;
    t.db.migrate().await.unwrap();
    Some(t)
}

/// Generates `mod <test> { sqlite, postgres, mysql }` for `async fn <test>(db: &Db)`.
#[macro_export]
macro_rules! on_every_engine {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn sqlite() {
                    let t = $crate::common::migrated(glance_db::Engine::Sqlite).await.unwrap();
                    super::$name(&t.db).await;
                    t.finish().await;
                }

                #[tokio::test]
                async fn postgres() {
                    if let Some(t) = $crate::common::migrated(glance_db::Engine::Postgres).await {
                        super::$name(&t.db).await;
                        t.finish().await;
                    }
                }

                #[tokio::test]
                async fn mysql() {
                    if let Some(t) = $crate::common::migrated(glance_db::Engine::MySql).await {
                        super::$name(&t.db).await;
                        t.finish().await;
                    }
                }
            }
        )*
    };
}
