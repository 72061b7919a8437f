//! Several `glance-api` processes sharing one database and one image directory, as
//! operators run them behind a load balancer: racing writes from different nodes
//! must never lose an update or leave a status or the store inconsistent.
//!
//! The database is PostgreSQL, or MariaDB when `GLANCE_TEST_ENGINE=mysql` (SQLite is
//! one machine's file; sharing it between nodes is not a deployment).

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::nodes::{Node, Reply};
use glance_db::testing::ServerDatabase;
use glance_db::{Db, Engine, PoolSettings, SqlBuf, SCHEMA_VERSION};
use md5::{Digest, Md5};
use serde_json::json;

/// Rounds of the racing scenario; each round runs every race once.
const ROUNDS: usize = 25;
/// The scenario stops after this long even if rounds remain (a slow machine).
const TIME_LIMIT: Duration = Duration::from_secs(120);

fn shared_engine() -> Engine {
    match common::engine() {
        Engine::MySql => Engine::MySql,
        _ => Engine::Postgres,
    }
}

struct Cluster {
    nodes: Vec<Node>,
    images: std::path::PathBuf,
    url: String,
    _home: tempfile::TempDir,
    // Dropped last: the nodes' connections close first.
    _database: ServerDatabase,
}

/// `n` nodes started at the same moment on one empty database.
fn cluster(n: usize) -> Cluster {
    let engine = shared_engine();
    let database = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(ServerDatabase::create(engine, "glance_nodes"))
        .unwrap_or_else(|e| panic!("a {engine:?} database for the node tests: {e}"));
    let home = tempfile::tempdir().unwrap();
    let images = home.path().join("images");
    let mut nodes: Vec<Node> = (0..n)
        .map(|_| Node::start(&database.url, &images, home.path()))
        .collect();
    for node in &mut nodes {
        node.wait_ready();
    }
    Cluster {
        nodes,
        images,
        url: database.url.clone(),
        _home: home,
        _database: database,
    }
}

/// Runs `f(node_index)` on every node at once (one thread each) and returns the
/// replies in node order.
fn race(c: &Cluster, f: impl Fn(usize, &Node) -> Reply + Sync) -> Vec<Reply> {
    std::thread::scope(|s| {
        let handles: Vec<_> = c
            .nodes
            .iter()
            .enumerate()
            .map(|(i, node)| {
                let f = &f;
                s.spawn(move || f(i, node))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

/// `winner` once, then `loser` for every other node (sorted, as [`statuses`]).
fn one_then(c: &Cluster, winner: u16, loser: u16) -> Vec<u16> {
    let mut s = vec![loser; c.nodes.len() - 1];
    s.push(winner);
    s.sort();
    s
}

/// `status` from every node.
fn all(c: &Cluster, status: u16) -> Vec<u16> {
    vec![status; c.nodes.len()]
}

fn statuses(replies: &[Reply]) -> Vec<u16> {
    let mut s: Vec<u16> = replies.iter().map(|r| r.status).collect();
    s.sort();
    s
}

fn files_of(c: &Cluster, id: &str) -> Vec<String> {
    std::fs::read_dir(&c.images)
        .map(|dir| {
            dir.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|name| name.starts_with(id))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn three_nodes_started_together_create_the_schema_once() {
    let c = cluster(3);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let settings = PoolSettings {
            connect_retries: 0,
            ..PoolSettings::default()
        };
        let db = Db::connect(&c.url, &settings).await.unwrap();
        let rows = db
            .raw_fetch(&SqlBuf::new("SELECT version_num FROM alembic_version"))
            .await
            .unwrap();
        let versions: Vec<_> = rows.iter().filter_map(|r| r.text("version_num")).collect();
        assert_eq!(versions, vec![SCHEMA_VERSION.to_string()]);
        db.close().await;
    });
    // Each node serves what another wrote.
    let created = c.nodes[0].json("POST", "/v2/images", &json!({"name": "seen-by-all"}));
    assert_eq!(created.status, 201, "{}", created.text());
    let id = created.json()["id"].as_str().unwrap().to_string();
    for node in &c.nodes {
        let shown = node.get(&format!("/v2/images/{id}"));
        assert_eq!(shown.status, 200);
        assert_eq!(shown.json()["name"], "seen-by-all");
    }
}

#[test]
fn racing_writes_from_two_nodes_keep_every_update_and_one_winner() {
    racing_writes(2);
}

#[test]
fn racing_writes_from_three_nodes_keep_every_update_and_one_winner() {
    racing_writes(3);
}

fn racing_writes(n: usize) {
    let c = cluster(n);
    let started = Instant::now();
    let mut rounds = 0;
    while rounds < ROUNDS && started.elapsed() < TIME_LIMIT {
        rounds += 1;
        one_round(&c, rounds);
    }
    assert!(rounds >= 2, "at least two full rounds ran ({rounds})");
    for node in &c.nodes {
        let log = node.log();
        assert!(
            !log.contains("panicked"),
            "node {} panicked: {log}",
            node.port
        );
    }
}

fn one_round(c: &Cluster, round: usize) {
    let id = format!("{:08x}-0000-4000-8000-{:012x}", std::process::id(), round);
    let image = format!("/v2/images/{id}");

    // The same explicit id from every node: one creates it, the others conflict.
    let created = race(c, |i, n| {
        n.json(
            "POST",
            "/v2/images",
            &json!({"id": id, "name": format!("from-{i}"), "visibility": "shared",
                    "disk_format": "raw", "container_format": "bare"}),
        )
    });
    assert_eq!(
        statuses(&created),
        one_then(c, 201, 409),
        "round {round}: create"
    );

    // Different properties and tags from every node: all of them stay.
    let patched = race(c, |i, n| {
        n.patch(
            &image,
            &json!([{"op": "add", "path": format!("/prop_{i}"), "value": format!("{round}")}]),
        )
    });
    assert_eq!(statuses(&patched), all(c, 200), "round {round}: patch");
    let tagged = race(c, |i, n| {
        n.call(
            "PUT",
            &format!("{image}/tags/tag-{i}"),
            &[],
            "application/json",
        )
    });
    assert_eq!(statuses(&tagged), all(c, 204), "round {round}: tags");
    for node in &c.nodes {
        let shown = node.get(&image).json();
        for i in 0..c.nodes.len() {
            assert_eq!(
                shown[format!("prop_{i}")],
                format!("{round}"),
                "round {round}: {shown}"
            );
        }
        let tags: BTreeSet<&str> = shown["tags"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|t| t.as_str())
            .collect();
        let expected: BTreeSet<String> = (0..c.nodes.len()).map(|i| format!("tag-{i}")).collect();
        let tags: BTreeSet<String> = tags.into_iter().map(str::to_string).collect();
        assert_eq!(tags, expected, "round {round}");
    }

    // The same member from every node: one adds it.
    let members = race(c, |_, n| {
        n.json(
            "POST",
            &format!("{image}/members"),
            &json!({"member": "p-other"}),
        )
    });
    assert_eq!(
        statuses(&members),
        one_then(c, 200, 409),
        "round {round}: members"
    );

    // Different data from every node: one upload wins, the others conflict, and the
    // store holds the winner's bytes only.
    let datas: Vec<Vec<u8>> = (0..c.nodes.len())
        .map(|i| vec![b'a' + i as u8; 256 * 1024 + round])
        .collect();
    let uploads = race(c, |i, n| {
        n.call(
            "PUT",
            &format!("{image}/file"),
            &datas[i],
            "application/octet-stream",
        )
    });
    let winners: Vec<usize> = (0..uploads.len())
        .filter(|&i| uploads[i].status == 204)
        .collect();
    assert_eq!(
        winners.len(),
        1,
        "round {round}: uploads {:?}",
        statuses(&uploads)
    );
    for (i, u) in uploads.iter().enumerate() {
        assert!(
            u.status == 204 || u.status == 409,
            "round {round}: node {i} upload {}: {}",
            u.status,
            u.text()
        );
    }
    let won = &datas[winners[0]];
    let shown = c.nodes[(winners[0] + 1) % c.nodes.len()].get(&image).json();
    assert_eq!(shown["status"], "active");
    assert_eq!(shown["checksum"], format!("{:x}", Md5::digest(won)));
    for node in &c.nodes {
        let data = node.get(&format!("{image}/file"));
        assert_eq!(data.status, 200);
        assert!(
            data.body == *won,
            "round {round}: node {} serves the winner's bytes",
            node.port
        );
    }
    assert_eq!(
        files_of(c, &id),
        vec![id.clone()],
        "round {round}: one file in the store"
    );

    // Deactivate and reactivate racing: the status ends as one of the two, the same
    // on every node.
    let flips = race(c, |i, n| {
        let action = if i % 2 == 0 {
            "deactivate"
        } else {
            "reactivate"
        };
        n.call(
            "POST",
            &format!("{image}/actions/{action}"),
            &[],
            "application/json",
        )
    });
    // A node that loses the compare-and-swap may answer 409; nothing else.
    assert!(
        flips.iter().all(|r| r.status == 204 || r.status == 409),
        "round {round}: {:?}",
        statuses(&flips)
    );
    let seen: BTreeSet<String> = c
        .nodes
        .iter()
        .map(|n| n.get(&image).json()["status"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(seen.len(), 1, "round {round}: {seen:?}");
    assert!(seen.contains("active") || seen.contains("deactivated"));
    c.nodes[0].call(
        "POST",
        &format!("{image}/actions/reactivate"),
        &[],
        "application/json",
    );

    // Everyone deletes: one succeeds, the others find it gone, and the data goes.
    let deleted = race(c, |_, n| n.call("DELETE", &image, &[], "application/json"));
    assert_eq!(
        statuses(&deleted),
        one_then(c, 204, 404),
        "round {round}: delete"
    );
    for node in &c.nodes {
        assert_eq!(node.get(&image).status, 404);
    }
    assert!(
        files_of(c, &id).is_empty(),
        "round {round}: the data is gone"
    );
    // And the id stays taken.
    let again = c.nodes[1].json("POST", "/v2/images", &json!({"id": id}));
    assert_eq!(again.status, 409, "round {round}: {}", again.text());
}

#[test]
fn connections_the_database_drops_are_replaced() {
    let c = cluster(1);
    let node = &c.nodes[0];
    let created = node.json("POST", "/v2/images", &json!({"name": "before"}));
    assert_eq!(created.status, 201, "{}", created.text());
    let rt = tokio::runtime::Runtime::new().unwrap();
    for round in 0..3 {
        // Open a few pooled connections, then have the server end them all.
        let _ = race(&c, |_, n| n.get("/v2/images"));
        // As a server restart or failover would.
        let ended = rt.block_on(c._database.end_sessions()).unwrap();
        assert!(ended >= 1, "round {round}: the node held connections");
        let listed = node.get("/v2/images");
        assert_eq!(listed.status, 200, "round {round}: {}", listed.text());
        let names: Vec<String> = listed.json()["images"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|i| i["name"].as_str().map(str::to_string))
            .collect();
        assert_eq!(names.len(), round + 1, "round {round}: {names:?}");
        assert!(
            names.contains(&"before".to_string()),
            "round {round}: {names:?}"
        );
        let written = node.json(
            "POST",
            "/v2/images",
            &json!({"name": format!("after-{round}")}),
        );
        assert_eq!(written.status, 201, "round {round}: {}", written.text());
    }
}
