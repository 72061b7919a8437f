//! The schema we create must be the one upstream's `glance-manage db sync` creates.
//! Upstream's own dump is read at run time from the shared upstream data directory
//! (`GLANCE_UPSTREAM_DATA`, default `../shared/upstream-data` next to the checkout)
//! and never copied into this repository.

use std::collections::BTreeMap;
use std::path::PathBuf;

use glance_db::{Db, PoolSettings, SqlBuf};

fn upstream_data() -> PathBuf {
    if let Ok(dir) = std::env::var("GLANCE_UPSTREAM_DATA") {
        return PathBuf::from(dir);
    }
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    workspace.join("../shared/upstream-data")
}

/// Everything SQLite knows about a schema, normalised for comparison.
async fn describe(db: &Db) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    let tables = db
        .raw_fetch(&SqlBuf::new(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        ))
        .await
        .unwrap();
    for t in tables {
        let table = t.text("name").unwrap();
        let mut facts = Vec::new();
        for c in db
            .raw_fetch(&SqlBuf::new(&format!("PRAGMA table_info('{table}')")))
            .await
            .unwrap()
        {
            facts.push(format!(
                "column {} {} notnull={} default={:?} pk={}",
                c.text("name").unwrap(),
                c.text("type").unwrap(),
                c.int("notnull").unwrap(),
                c.text("dflt_value"),
                c.int("pk").unwrap()
            ));
        }
        for i in db
            .raw_fetch(&SqlBuf::new(&format!("PRAGMA index_list('{table}')")))
            .await
            .unwrap()
        {
            let name = i.text("name").unwrap();
            let cols: Vec<String> = db
                .raw_fetch(&SqlBuf::new(&format!("PRAGMA index_info('{name}')")))
                .await
                .unwrap()
                .iter()
                .map(|c| c.text("name").unwrap_or_default())
                .collect();
            // Auto-indexes of UNIQUE/PRIMARY KEY constraints are named by SQLite itself.
            let label = if name.starts_with("sqlite_autoindex") {
                "auto".to_string()
            } else {
                name
            };
            facts.push(format!(
                "index {label} unique={} ({})",
                i.int("unique").unwrap(),
                cols.join(",")
            ));
        }
        for f in db
            .raw_fetch(&SqlBuf::new(&format!("PRAGMA foreign_key_list('{table}')")))
            .await
            .unwrap()
        {
            facts.push(format!(
                "fk {} -> {}.{}",
                f.text("from").unwrap(),
                f.text("table").unwrap(),
                f.text("to").unwrap()
            ));
        }
        let sql = db
            .raw_fetch(&{
                let mut q =
                    SqlBuf::new("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ");
                q.bind(table.as_str());
                q
            })
            .await
            .unwrap();
        let checks = sql[0].text("sql").unwrap().matches("CHECK").count();
        facts.push(format!("checks {checks}"));
        facts.sort();
        out.insert(table, facts);
    }
    out
}

#[tokio::test]
async fn sqlite_schema_is_upstreams() {
    let dump = upstream_data().join("schema/sqlite.sql");
    let upstream_sql = std::fs::read_to_string(&dump)
        .unwrap_or_else(|e| panic!("upstream schema dump {} not readable: {e}", dump.display()));

    let dir = tempfile::tempdir().unwrap();
    let ours = Db::connect(
        &format!("sqlite:///{}", dir.path().join("ours.sqlite").display()),
        &PoolSettings::default(),
    )
    .await
    .unwrap();
    ours.migrate().await.unwrap();

    let theirs = Db::connect(
        &format!("sqlite:///{}", dir.path().join("theirs.sqlite").display()),
        &PoolSettings::default(),
    )
    .await
    .unwrap();
    for statement in upstream_sql
        .split(";\n")
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        theirs.raw_execute(&SqlBuf::new(statement)).await.unwrap();
    }

    let (a, b) = (describe(&ours).await, describe(&theirs).await);
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        b.keys().collect::<Vec<_>>(),
        "table sets differ"
    );
    for (table, facts) in &b {
        assert_eq!(&a[table], facts, "table {table} differs from upstream");
    }
    assert_eq!(
        ours.schema_version().await.unwrap().as_deref(),
        Some(glance_db::SCHEMA_VERSION)
    );
}

#[tokio::test]
async fn a_second_start_keeps_the_schema_and_a_foreign_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:///{}", dir.path().join("g.sqlite").display());
    let db = Db::connect(&url, &PoolSettings::default()).await.unwrap();
    db.migrate().await.unwrap();
    db.migrate().await.unwrap();
    db.raw_execute(&SqlBuf::new(
        "UPDATE alembic_version SET version_num = 'zed_contract01'",
    ))
    .await
    .unwrap();
    let err = db.migrate().await.unwrap_err();
    assert!(err.to_string().contains("zed_contract01"), "{err}");
}

mod common;

use glance_db::{DbRow, Engine};

/// Each row as `column=value` pairs.
fn line(row: &DbRow) -> String {
    row.columns()
        .iter()
        .map(|c| format!("{c}={}", row.text(c).unwrap_or_else(|| "NULL".into())))
        .collect::<Vec<_>>()
        .join(" ")
}

async fn facts(db: &Db, queries: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for q in queries {
        for row in db.raw_fetch(&SqlBuf::new(q)).await.unwrap() {
            out.push(line(&row));
        }
    }
    out.sort();
    out
}

/// Runs a dump's statements (`;` at a line end) on one connection, skipping what
/// `keep` refuses.
async fn load_dump(db: &Db, file: &str, keep: impl Fn(&str) -> bool) {
    let path = upstream_data().join("schema").join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("upstream schema dump {} not readable: {e}", path.display()));
    let body: String = text
        .lines()
        .filter(|l| !l.starts_with("--") && !l.starts_with('\\') && !l.starts_with("/*M!"))
        .map(|l| format!("{l}\n"))
        .collect();
    for statement in body.split(";\n").map(str::trim).filter(|s| !s.is_empty()) {
        if keep(statement) {
            db.raw_execute(&SqlBuf::new(statement))
                .await
                .unwrap_or_else(|e| panic!("{statement}: {e}"));
        }
    }
}

/// What PostgreSQL's catalogue says about the current schema, one line per fact.
const PG_FACTS: &[&str] = &[
    "SELECT tablename::text AS t FROM pg_tables WHERE schemaname = current_schema()",
    "SELECT table_name::text AS t, ordinal_position::int AS pos, column_name::text AS c, \
     data_type::text AS type, udt_name::text AS udt, character_maximum_length::int AS len, \
     numeric_precision::int AS prec, is_nullable::text AS nullable, column_default::text AS dflt \
     FROM information_schema.columns WHERE table_schema = current_schema()",
    "SELECT conrelid::regclass::text AS t, conname::text AS name, contype::text AS kind, \
     pg_get_constraintdef(oid) AS def FROM pg_constraint \
     WHERE connamespace = current_schema()::regnamespace",
    "SELECT tablename::text AS t, indexname::text AS name, indexdef AS def FROM pg_indexes \
     WHERE schemaname = current_schema()",
    "SELECT sequence_name::text AS s, data_type::text AS type, start_value::text AS start, \
     minimum_value::text AS min, maximum_value::text AS max, increment::text AS inc, \
     cycle_option::text AS cycle FROM information_schema.sequences \
     WHERE sequence_schema = current_schema()",
    "SELECT s.relname::text AS s, t.relname::text AS owned_by_t, a.attname::text AS owned_by_c \
     FROM pg_class s JOIN pg_depend d ON d.objid = s.oid AND d.deptype = 'a' \
     JOIN pg_class t ON t.oid = d.refobjid \
     JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid \
     WHERE s.relkind = 'S' AND s.relnamespace = current_schema()::regnamespace",
    "SELECT t.typname::text AS type, string_agg(e.enumlabel::text, ',' ORDER BY e.enumsortorder) \
     AS labels FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid \
     WHERE t.typnamespace = current_schema()::regnamespace GROUP BY t.typname",
];

fn assert_same(ours: &[String], theirs: &[String]) {
    let missing: Vec<_> = theirs.iter().filter(|f| !ours.contains(f)).collect();
    let extra: Vec<_> = ours.iter().filter(|f| !theirs.contains(f)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "schema differs from upstream's\nmissing (upstream has, we lack):\n{}\nextra (we have, upstream lacks):\n{}",
        missing.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("\n"),
        extra.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("\n"),
    );
}

#[tokio::test]
async fn postgresql_schema_is_upstreams() {
    let Some(ours) = common::migrated(Engine::Postgres).await else {
        return;
    };
    let theirs = common::empty(Engine::Postgres).await.unwrap();
    // The dump empties search_path for its session; its names are all qualified.
    load_dump(&theirs.db, "postgresql.sql", |s| {
        !s.contains("set_config('search_path'")
    })
    .await;
    let (a, b) = (
        facts(&ours.db, PG_FACTS).await,
        facts(&theirs.db, PG_FACTS).await,
    );
    assert!(b.len() > 150, "upstream's dump loaded: {} facts", b.len());
    assert_same(&a, &b);
    assert_eq!(
        ours.db.schema_version().await.unwrap().as_deref(),
        Some(glance_db::SCHEMA_VERSION)
    );
    ours.finish().await;
    theirs.finish().await;
}

/// MariaDB's own rendering of every table (columns, types, charsets, indexes in
/// order, constraint names), without the AUTO_INCREMENT counter.
async fn mysql_tables(db: &Db) -> Vec<String> {
    let tables = db
        .raw_fetch(&SqlBuf::new(
            "SELECT table_name AS name FROM information_schema.tables \
             WHERE table_schema = DATABASE() ORDER BY table_name",
        ))
        .await
        .unwrap();
    let mut out = Vec::new();
    for t in tables {
        let name = t.text("name").unwrap();
        let rows = db
            .raw_fetch(&SqlBuf::new(&format!("SHOW CREATE TABLE `{name}`")))
            .await
            .unwrap();
        let ddl = rows[0].text("Create Table").unwrap();
        let ddl: String = ddl
            .split(' ')
            .filter(|w| !w.starts_with("AUTO_INCREMENT="))
            .collect::<Vec<_>>()
            .join(" ");
        out.push(ddl);
    }
    out
}

#[tokio::test]
async fn mysql_schema_is_upstreams() {
    let Some(ours) = common::migrated(Engine::MySql).await else {
        return;
    };
    let theirs = common::empty(Engine::MySql).await.unwrap();
    // One connection: the dump's session settings (foreign key checks off) must hold
    // for the statements after them.
    let one = Db::connect(
        &theirs.url,
        &PoolSettings {
            pool_size: 1,
            max_overflow: 0,
            ..common::settings()
        },
    )
    .await
    .unwrap();
    load_dump(&one, "mysql.sql", |_| true).await;
    one.close().await;
    let (a, b) = (mysql_tables(&ours.db).await, mysql_tables(&theirs.db).await);
    assert_eq!(b.len(), 16, "upstream's dump loaded");
    for (ours, theirs) in a.iter().zip(&b) {
        assert_eq!(ours, theirs, "table differs from upstream's");
    }
    assert_eq!(a.len(), b.len());
    assert_eq!(
        ours.db.schema_version().await.unwrap().as_deref(),
        Some(glance_db::SCHEMA_VERSION)
    );
    ours.finish().await;
    theirs.finish().await;
}
