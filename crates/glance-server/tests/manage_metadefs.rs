//! `glance-manage db load_metadefs / unload_metadefs / export_metadefs`: the real
//! binary against the database of a test server (SQLite, or the engine of
//! `GLANCE_TEST_ENGINE`), with upstream's own metadefs files. Those are read at run
//! time from the shared upstream data directory (`GLANCE_UPSTREAM_DATA`, default
//! `../shared/upstream-data` next to the checkout) and never copied into this
//! repository; what the tests expect is computed from them.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use axum::http::StatusCode;
use common::metadefs::{count, NS};
use common::TestServer;
use glance_db::SqlBuf;
use serde_json::Value;

/// The namespace attributes a file and the API (and an export) share.
const ATTRIBUTES: [&str; 5] = [
    "namespace",
    "display_name",
    "description",
    "visibility",
    "protected",
];

const MANAGE: &str = env!("CARGO_BIN_EXE_glance-manage");

const TABLES: [&str; 6] = [
    "metadef_namespaces",
    "metadef_resource_types",
    "metadef_namespace_resource_types",
    "metadef_properties",
    "metadef_objects",
    "metadef_tags",
];

fn upstream_metadefs() -> PathBuf {
    let data = match std::env::var("GLANCE_UPSTREAM_DATA") {
        Ok(dir) => PathBuf::from(dir),
        Err(_) => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/upstream-data"),
    };
    data.join("metadefs")
}

/// Upstream's files, parsed, by file name.
fn upstream_files() -> Vec<(String, Value)> {
    let dir = upstream_metadefs();
    let mut files: Vec<(String, Value)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("upstream metadefs at {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, serde_json::from_str(&text).unwrap())
        })
        .collect();
    files.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(
        files.len() > 10,
        "upstream metadefs found in {}",
        dir.display()
    );
    files
}

/// A test server and a config file that points `glance-manage` at its database.
struct Bed {
    server: TestServer,
    config: PathBuf,
}

struct Run {
    code: Option<i32>,
    stderr: String,
}

impl Run {
    /// Asserts that the command's log says `text`.
    fn says(&self, text: &str) {
        assert!(
            self.stderr.contains(text),
            "{text:?} not in:\n{}",
            self.stderr
        );
    }
}

impl Bed {
    async fn new() -> Bed {
        let server = common::server().await;
        let url = match &server.database {
            Some(d) => d.url.clone(),
            None => format!(
                "sqlite:///{}",
                server.dir.path().join("glance.sqlite").display()
            ),
        };
        let config = server.dir.path().join("glance-manage.conf");
        std::fs::write(&config, format!("[database]\nconnection = {url}\n")).unwrap();
        Bed { server, config }
    }

    /// Runs glance-manage and waits for it. `block_in_place` hands this worker's
    /// other tasks to the second one meanwhile: the in-process server's pool must
    /// stay able to finish its own work (a rollback, say) while the child waits.
    fn manage(&self, args: &[&str]) -> Run {
        let output = tokio::task::block_in_place(|| {
            Command::new(MANAGE)
                .arg("--config-file")
                .arg(&self.config)
                .args(args)
                .env_remove("RUST_LOG")
                .output()
        })
        .unwrap();
        Run {
            code: output.status.code(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Runs the command and asserts it exits 0.
    fn ok(&self, args: &[&str]) -> Run {
        let run = self.manage(args);
        assert_eq!(run.code, Some(0), "glance-manage {args:?}:\n{}", run.stderr);
        run
    }

    fn load(&self, path: &Path, flags: &[&str]) -> Run {
        let path = path.to_str().unwrap();
        let mut args = vec!["db", "load_metadefs", "--path", path];
        args.extend(flags);
        self.ok(&args)
    }

    async fn rows(&self, sql: &str) -> Vec<glance_db::DbRow> {
        self.server
            .state
            .glance
            .db
            .raw_fetch(&SqlBuf::new(sql))
            .await
            .unwrap()
    }

    /// Every column of every metadef row (ids and timestamps included), in key order.
    async fn snapshot(&self) -> Vec<String> {
        let mut out = Vec::new();
        for table in TABLES {
            let order = if table == "metadef_namespace_resource_types" {
                "namespace_id, resource_type_id"
            } else {
                "id"
            };
            for row in self
                .rows(&format!("SELECT * FROM {table} ORDER BY {order}"))
                .await
            {
                let values: Vec<String> = row
                    .columns()
                    .iter()
                    .map(|c| format!("{c}={:?}", row.value(c)))
                    .collect();
                out.push(format!("{table}: {}", values.join(" ")));
            }
        }
        out
    }

    /// A namespace as the API shows it, without its timestamps.
    async fn namespace(&self, name: &str) -> Value {
        let r = self.server.get(&format!("{NS}/{name}")).await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.text());
        without_timestamps(r.json())
    }

    async fn namespace_names(&self) -> Vec<String> {
        self.rows("SELECT namespace FROM metadef_namespaces ORDER BY namespace")
            .await
            .iter()
            .map(|r| r.text("namespace").unwrap())
            .collect()
    }
}

fn without_timestamps(mut v: Value) -> Value {
    match &mut v {
        Value::Object(m) => {
            m.remove("created_at");
            m.remove("updated_at");
            for item in m.values_mut() {
                *item = without_timestamps(item.take());
            }
        }
        Value::Array(items) => {
            for item in items.iter_mut() {
                *item = without_timestamps(item.take());
            }
        }
        _ => {}
    }
    v
}

fn len_of(v: &Value) -> i64 {
    match v {
        Value::Array(a) => a.len() as i64,
        Value::Object(m) => m.len() as i64,
        _ => 0,
    }
}

/// A directory with copies of the named upstream files.
fn copies(names: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for name in names {
        std::fs::copy(upstream_metadefs().join(name), dir.path().join(name)).unwrap();
    }
    dir
}

fn edit(dir: &Path, name: &str, change: impl FnOnce(&mut Value)) {
    let file = dir.join(name);
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    change(&mut v);
    std::fs::write(&file, serde_json::to_string_pretty(&v).unwrap()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loads_every_upstream_file_and_the_api_serves_them() {
    let bed = Bed::new().await;
    let files = upstream_files();
    let dir = upstream_metadefs();
    bed.load(&dir, &[]);

    let sum = |key: &str| files.iter().map(|(_, f)| len_of(&f[key])).sum::<i64>();
    let s = &bed.server;
    assert_eq!(count(s, "metadef_namespaces").await, files.len() as i64);
    assert_eq!(count(s, "metadef_properties").await, sum("properties"));
    assert_eq!(count(s, "metadef_objects").await, sum("objects"));
    assert_eq!(count(s, "metadef_tags").await, sum("tags"));
    assert_eq!(
        count(s, "metadef_namespace_resource_types").await,
        sum("resource_type_associations")
    );
    // Resource types the files name are there; those the load created are protected.
    let types = bed
        .rows("SELECT name, protected FROM metadef_resource_types")
        .await;
    let associations = files.iter().flat_map(|(_, f)| {
        f["resource_type_associations"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    });
    for a in associations {
        let known = |t: &&glance_db::DbRow| t.text("name").as_deref() == a["name"].as_str();
        assert!(
            types.iter().find(known).unwrap().boolean("protected"),
            "{a}"
        );
    }

    let (_, hypervisor) = files
        .iter()
        .find(|(_, f)| f["namespace"] == "OS::Compute::Hypervisor")
        .expect("upstream ships OS::Compute::Hypervisor");
    let shown = bed.namespace("OS::Compute::Hypervisor").await;
    assert_eq!(shown["properties"], hypervisor["properties"]);
    for key in ATTRIBUTES {
        assert_eq!(shown[key], hypervisor[key], "{key}");
    }
    assert_eq!(shown["owner"], "admin");

    // Stored as upstream stores it: Python's json.dumps layout, ASCII only, and
    // `updated_at` left empty until something updates the row.
    let rows = bed
        .rows(
            "SELECT p.json_schema AS s, p.updated_at AS u FROM metadef_properties p \
             JOIN metadef_namespaces n ON n.id = p.namespace_id \
             WHERE n.namespace = 'OS::Compute::Hypervisor' AND p.name = 'hypervisor_type'",
        )
        .await;
    let stored = rows[0].text("s").unwrap();
    assert!(
        stored.starts_with(r#"{"title": "Hypervisor Type", "description": ""#),
        "{stored}"
    );
    assert!(stored.contains(r"\u00ae") && stored.is_ascii(), "{stored}");
    assert_eq!(rows[0].text("u"), None);
    let reparsed: Value = serde_json::from_str(&stored).unwrap();
    assert_eq!(reparsed, hypervisor["properties"]["hypervisor_type"]);

    // Loaded again without --merge: every namespace exists, nothing changes.
    let before = bed.snapshot().await;
    let again = bed.load(&dir, &[]);
    again.says("Skipping namespace OS::Compute::Hypervisor. It already exists in the database.");
    assert_eq!(bed.snapshot().await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merge_prefer_new_and_overwrite() {
    let bed = Bed::new().await;
    let file = "compute-hypervisor.json";
    let dir = copies(&[file, "compute-cpu-mode.json"]);
    bed.load(dir.path(), &[]);
    let original = bed.namespace("OS::Compute::Hypervisor").await;
    let old_vm_mode = original["properties"]["vm_mode"]["description"].clone();

    edit(dir.path(), file, |v| {
        v["description"] = "A new description".into();
        v["properties"]["vm_mode"]["description"] = "Changed".into();
        v["properties"]["x_added"] = serde_json::json!({"title": "Added", "type": "string"});
    });
    // Plain load: the namespace exists, so nothing is added.
    bed.load(dir.path(), &[]);
    let shown = bed.namespace("OS::Compute::Hypervisor").await;
    assert!(shown["properties"].get("x_added").is_none(), "{shown}");

    // --merge adds what is missing; what exists wins.
    bed.load(dir.path(), &["--merge"]);
    let shown = bed.namespace("OS::Compute::Hypervisor").await;
    assert_eq!(shown["properties"]["x_added"]["title"], "Added");
    assert_eq!(shown["properties"]["vm_mode"]["description"], old_vm_mode);
    assert_eq!(shown["description"], original["description"]);

    // --merge --prefer_new: the file wins.
    bed.load(dir.path(), &["--merge", "--prefer_new"]);
    let shown = bed.namespace("OS::Compute::Hypervisor").await;
    assert_eq!(shown["properties"]["vm_mode"]["description"], "Changed");
    assert_eq!(shown["description"], "A new description");
    let other = bed.namespace("OS::Compute::CPUMode").await;

    // A property dropped from the file stays under --merge, goes under --overwrite.
    edit(dir.path(), file, |v| {
        v["properties"]
            .as_object_mut()
            .unwrap()
            .remove("hypervisor_type");
    });
    bed.load(dir.path(), &["--merge"]);
    let shown = bed.namespace("OS::Compute::Hypervisor").await;
    assert!(shown["properties"].get("hypervisor_type").is_some());
    let run = bed.load(dir.path(), &["--merge", "--overwrite"]);
    run.says("Overwriting namespace OS::Compute::Hypervisor");
    let shown = bed.namespace("OS::Compute::Hypervisor").await;
    assert!(
        shown["properties"].get("hypervisor_type").is_none(),
        "{shown}"
    );
    assert_eq!(shown["properties"]["x_added"]["title"], "Added");
    assert_eq!(bed.namespace("OS::Compute::CPUMode").await, other);
    assert_eq!(bed.namespace_names().await.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_options_and_bad_paths_load_nothing() {
    let bed = Bed::new().await;
    let dir = upstream_metadefs();
    let path = dir.to_str().unwrap();
    let needs_merge = "To use --prefer_new or --overwrite you need to combine of these \
                       options with --merge option.";
    let one_of = "Please provide no more than one option from this list: --prefer_new, \
                  --overwrite";
    for (flags, message) in [
        (vec!["--prefer_new"], needs_merge),
        (vec!["--overwrite"], needs_merge),
        (vec!["--prefer_new", "--overwrite"], needs_merge),
        (vec!["--merge", "--prefer_new", "--overwrite"], one_of),
    ] {
        let mut args = vec!["db", "load_metadefs", "--path", path];
        args.extend(&flags);
        let run = bed.manage(&args);
        assert_eq!(run.code, Some(1), "{flags:?}: {}", run.stderr);
        run.says(message);
        assert_eq!(count(&bed.server, "metadef_namespaces").await, 0);
    }

    let empty = tempfile::tempdir().unwrap();
    let missing = empty.path().join("missing");
    let run = bed.manage(&["db", "load_metadefs", "--path", missing.to_str().unwrap()]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let run = bed.manage(&[
        "db",
        "load_metadefs",
        "--path",
        empty.path().to_str().unwrap(),
    ]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    run.says("Json schema files not found in");
    assert_eq!(count(&bed.server, "metadef_namespaces").await, 0);

    // A broken file is reported and skipped; the others load.
    let some = copies(&["compute-hypervisor.json"]);
    std::fs::write(some.path().join("broken.json"), "{\"namespace\": ").unwrap();
    let run = bed.load(some.path(), &[]);
    run.says("Failed to parse json file");
    run.says("broken.json");
    assert_eq!(bed.namespace_names().await, ["OS::Compute::Hypervisor"]);

    // One file, in the legacy spelling (path positional).
    let one = dir.join("compute-cpu-mode.json");
    bed.ok(&["db_load_metadefs", one.to_str().unwrap()]);
    assert_eq!(
        bed.namespace_names().await,
        ["OS::Compute::CPUMode", "OS::Compute::Hypervisor"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unload_empties_the_metadef_tables() {
    let bed = Bed::new().await;
    bed.load(&upstream_metadefs(), &[]);
    assert!(count(&bed.server, "metadef_properties").await > 0);
    bed.ok(&["db", "unload_metadefs"]);
    for table in TABLES {
        assert_eq!(count(&bed.server, table).await, 0, "{table}");
    }
    let r = bed.server.get(NS).await;
    assert_eq!(r.json()["namespaces"], serde_json::json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_then_load_gives_the_same_namespaces() {
    let first = Bed::new().await;
    let files = upstream_files();
    first.load(&upstream_metadefs(), &[]);
    let out = tempfile::tempdir().unwrap();
    // No trailing slash: the files go into the directory all the same.
    let out_path = out.path().to_str().unwrap().trim_end_matches('/');
    first.ok(&["db", "export_metadefs", "--path", out_path]);
    let exported: Vec<String> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(exported.len(), files.len(), "{exported:?}");
    let hypervisor = std::fs::read_to_string(out.path().join("HypervisorSelection.json")).unwrap();
    assert!(
        hypervisor.starts_with(r#"{"namespace": "OS::Compute::Hypervisor", "display_name": ""#),
        "{hypervisor}"
    );

    // Each file says what upstream's file says, properties in the same key order.
    for (name, f) in &files {
        let stem = f["display_name"]
            .as_str()
            .unwrap()
            .replace(|c: char| !c.is_alphanumeric(), "");
        let text = std::fs::read_to_string(out.path().join(format!("{stem}.json"))).unwrap();
        let e: Value = serde_json::from_str(&text).unwrap();
        for key in ATTRIBUTES {
            assert_eq!(e[key], f[key], "{name}: {key}");
        }
        // A file without properties (upstream has some) exports `{}`.
        let none = serde_json::json!({});
        let properties = f.get("properties").unwrap_or(&none).to_string();
        assert_eq!(e["properties"].to_string(), properties, "{name}");
        let objects = |v: &Value| -> Vec<String> {
            let list = v["objects"].as_array().cloned().unwrap_or_default();
            list.iter()
                .map(|o| format!("{} {} {}", o["name"], o["description"], o["properties"]))
                .collect()
        };
        assert_eq!(objects(&e), objects(f), "{name}");
    }

    let second = Bed::new().await;
    second.load(out.path(), &[]);
    // A file without "protected" loads as NULL, exports as null, and loads as NULL.
    let rows = second
        .rows("SELECT protected FROM metadef_namespaces WHERE namespace = 'OS::Compute::CPUMode'")
        .await;
    assert_eq!(rows[0].value("protected"), glance_db::SqlValue::Null);
    let names = first.namespace_names().await;
    assert_eq!(second.namespace_names().await, names);
    for name in &names {
        assert_eq!(
            second.namespace(name).await,
            first.namespace(name).await,
            "{name}"
        );
    }
    let schemas = "SELECT p.json_schema AS s FROM metadef_properties p \
                   JOIN metadef_namespaces n ON n.id = p.namespace_id ORDER BY n.namespace, p.name";
    let (a, b) = (first.rows(schemas).await, second.rows(schemas).await);
    let texts = |rows: &[glance_db::DbRow]| rows.iter().map(|r| r.text("s")).collect::<Vec<_>>();
    assert_eq!(texts(&b), texts(&a));

    // Exporting the reloaded database writes the very same bytes.
    let again = tempfile::tempdir().unwrap();
    second.ok(&[
        "db",
        "export_metadefs",
        "--path",
        again.path().to_str().unwrap(),
    ]);
    for name in &exported {
        let a = std::fs::read(out.path().join(name)).unwrap();
        let b = std::fs::read(again.path().join(name)).unwrap();
        assert!(a == b, "{name} differs after a round trip");
    }
}
