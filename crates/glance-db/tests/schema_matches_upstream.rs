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
