//! Test support (cargo feature `testing`): a freshly created database on the
//! PostgreSQL or MariaDB server of the test machine, dropped again when its guard is
//! dropped. Used by this crate's engine tests and by the API test suite
//! (`GLANCE_TEST_ENGINE`). The admin URLs come from `GLANCE_TEST_POSTGRES_URL` /
//! `GLANCE_TEST_MYSQL_URL` (printed by `scripts/testbed/databases-check.sh`).

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use crate::{Db, DbError, Engine, PoolSettings, SqlBuf};

const POSTGRES_ADMIN: &str = "postgresql://postgres@127.0.0.1:5432/postgres";
const MYSQL_ADMIN: &str = "mysql://root@127.0.0.1:3306/mysql";

/// The admin URL of the engine's test server (env, or the machine's default).
pub fn admin_url(engine: Engine) -> String {
    match engine {
        Engine::Postgres => {
            std::env::var("GLANCE_TEST_POSTGRES_URL").unwrap_or_else(|_| POSTGRES_ADMIN.into())
        }
        Engine::MySql => {
            std::env::var("GLANCE_TEST_MYSQL_URL").unwrap_or_else(|_| MYSQL_ADMIN.into())
        }
        Engine::Sqlite => unreachable!("SQLite needs no server"),
    }
}

/// The admin URL with its database replaced by `name`.
pub fn with_database(admin: &str, name: &str) -> String {
    let (base, query) = match admin.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (admin, String::new()),
    };
    let (scheme, rest) = base.split_once("://").expect("a URL");
    let authority = rest.split('/').next().unwrap_or_default();
    format!("{scheme}://{authority}/{name}{query}")
}

/// `<prefix>_<pid>_<nanos>_<counter>`: unique across the parallel test processes.
fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{prefix}_{}_{}_{}",
        std::process::id(),
        nanos,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// One connection to a test server as its admin: no start-up retries, so an absent
/// server fails the test at once.
async fn connect_admin(url: &str, acquire_timeout: Duration) -> Result<Db, DbError> {
    let settings = PoolSettings {
        pool_size: 1,
        max_overflow: 0,
        acquire_timeout,
        connect_retries: 0,
        ..PoolSettings::default()
    };
    Db::connect(url, &settings).await
}

/// Ends every session the server holds on database `name` but the admin's own, as
/// a server restart or a failover would; returns how many there were.
async fn end_sessions_on(admin: &Db, engine: Engine, name: &str) -> Result<usize, DbError> {
    if engine == Engine::Postgres {
        let mut q = SqlBuf::new(
            "SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity \
             WHERE pid <> pg_backend_pid() AND datname = ",
        );
        q.bind(name);
        return Ok(admin.raw_fetch(&q).await?.len());
    }
    let mut q = SqlBuf::new("SELECT id FROM information_schema.processlist WHERE db = ");
    q.bind(name);
    let sessions = admin.raw_fetch(&q).await?;
    for row in &sessions {
        // A session may end by itself meanwhile; that is fine.
        let kill = format!("KILL {}", row.int("id").unwrap_or_default());
        let _ = admin.raw_execute(&SqlBuf::new(&kill)).await;
    }
    Ok(sessions.len())
}

/// A database created on a server for one test; dropping this drops the database
/// (from a thread and runtime of its own, so it works while the test's runtime shuts
/// down, and ends the sessions still open on it first).
pub struct ServerDatabase {
    pub engine: Engine,
    /// URL of the new database (same credentials as the admin URL).
    pub url: String,
    pub name: String,
    admin_url: String,
}

impl ServerDatabase {
    /// Creates an empty database named `<prefix>_<unique>` on the engine's test
    /// server. Errs when the server is not reachable.
    pub async fn create(engine: Engine, prefix: &str) -> Result<ServerDatabase, DbError> {
        assert!(engine != Engine::Sqlite, "SQLite needs no server");
        let admin_url = admin_url(engine);
        let admin = connect_admin(&admin_url, Duration::from_secs(5)).await?;
        let name = unique_name(prefix);
        let create = match engine {
            Engine::Postgres => format!("CREATE DATABASE {name}"),
            _ => format!("CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"),
        };
        let created = admin.raw_execute(&SqlBuf::new(&create)).await;
        admin.close().await;
        created?;
        Ok(ServerDatabase {
            engine,
            url: with_database(&admin_url, &name),
            name,
            admin_url,
        })
    }

    /// Ends every session open on this database (see [`end_sessions_on`]).
    pub async fn end_sessions(&self) -> Result<usize, DbError> {
        let admin = connect_admin(&self.admin_url, Duration::from_secs(10)).await?;
        let ended = end_sessions_on(&admin, self.engine, &self.name).await;
        admin.close().await;
        ended
    }
}

impl Drop for ServerDatabase {
    fn drop(&mut self) {
        let drop_sql = match self.engine {
            Engine::Postgres => format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
            _ => format!("DROP DATABASE IF EXISTS {}", self.name),
        };
        let (engine, admin_url, name) = (self.engine, self.admin_url.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let admin = connect_admin(&admin_url, Duration::from_secs(10)).await?;
                if engine == Engine::MySql {
                    // Sessions still open (a pool not yet closed, a failed test) would
                    // hold the drop on their metadata locks. (PostgreSQL's drop
                    // ends them itself: WITH (FORCE).)
                    end_sessions_on(&admin, engine, &name).await?;
                }
                let result = tokio::time::timeout(
                    Duration::from_secs(60),
                    admin.raw_execute(&SqlBuf::new(&drop_sql)),
                )
                .await;
                admin.close().await;
                match result {
                    Ok(r) => r.map(|_| ()),
                    Err(_) => Err(DbError::Backend(format!("DROP DATABASE {name} timed out"))),
                }
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!(
                "could not drop the test database {}: {dropped:?}",
                self.name
            );
        }
    }
}
