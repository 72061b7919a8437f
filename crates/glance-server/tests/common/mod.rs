//! Test harness: the real router on a fresh database and store per test, driven
//! in-process with `tower::ServiceExt::oneshot`.
//!
//! The engine is chosen by `GLANCE_TEST_ENGINE` = `sqlite` (default: a file in the
//! test's data directory) | `postgres` | `mysql` (a database `glance_api_<unique>`
//! created on the machine's server, see `glance_db::testing`, and dropped with the
//! [`TestServer`]).
#![allow(dead_code)]

pub mod metadefs;
pub mod nodes;
pub mod v1;
pub mod web;

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::Router;
use glance_db::testing::ServerDatabase;
use glance_db::Engine;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

pub struct TestServer {
    pub app: Router,
    pub state: glance_api::AppState,
    /// Keeps the data directory alive for the test's duration.
    pub dir: tempfile::TempDir,
    /// The PostgreSQL / MySQL database of this server, dropped last (after the pool
    /// in `state`).
    pub database: Option<ServerDatabase>,
}

pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: bytes::Bytes,
}

impl TestResponse {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// The engine the API tests run on (`GLANCE_TEST_ENGINE`, default `sqlite`).
pub fn engine() -> Engine {
    match std::env::var("GLANCE_TEST_ENGINE").as_deref() {
        Err(_) | Ok("") | Ok("sqlite") => Engine::Sqlite,
        Ok("postgres") | Ok("postgresql") => Engine::Postgres,
        Ok("mysql") | Ok("mariadb") => Engine::MySql,
        Ok(other) => panic!("GLANCE_TEST_ENGINE={other:?}: expected sqlite, postgres or mysql"),
    }
}

/// Before creating the next image of a test that relies on creation order: on MySQL,
/// waits a second. Its DATETIME columns keep whole seconds (upstream's schema), so
/// images created within one second tie on `created_at` and are ordered by id, as
/// upstream's are; elsewhere timestamps keep microseconds and this returns at once.
pub async fn next_created_at() {
    if engine() == Engine::MySql {
        tokio::time::sleep(std::time::Duration::from_millis(1001)).await;
    }
}

/// Whether the INI text names a database itself.
fn names_database(ini: &str) -> bool {
    ini.lines().any(|l| {
        let key = l.split('=').next().unwrap_or_default().trim();
        key == "connection" || key == "sql_connection"
    })
}

/// The INI text with `[database] connection = <url>` added.
fn with_connection(ini: &str, url: &str) -> String {
    let line = format!("connection = {url}\n");
    if let Some(at) = ini.find("[database]\n") {
        let at = at + "[database]\n".len();
        return format!("{}{line}{}", &ini[..at], &ini[at..]);
    }
    format!("{ini}\n[database]\n{line}")
}

/// A server with default settings plus the given INI text (may be empty).
pub async fn server_with(ini: &str) -> TestServer {
    server_in(ini, tempfile::tempdir().unwrap(), |_| {}).await
}

/// A server on the data directory `dir`, with default settings plus the INI text,
/// then `adjust`ed.
pub async fn server_in(
    ini: &str,
    dir: tempfile::TempDir,
    adjust: impl FnOnce(&mut glance_config::Settings),
) -> TestServer {
    let (ini, database) = match engine() {
        _ if names_database(ini) => (ini.to_string(), None),
        Engine::Sqlite => (ini.to_string(), None),
        engine => {
            let database = ServerDatabase::create(engine, "glance_api")
                .await
                .unwrap_or_else(|e| {
                    panic!(
                        "GLANCE_TEST_ENGINE asks for {engine:?}, but no database could be \
                         created at {}: {e}",
                        glance_db::testing::admin_url(engine)
                    )
                });
            (with_connection(ini, &database.url), Some(database))
        }
    };
    let mut settings = glance_config::load_from_str(&ini).expect("test config parses");
    settings.data_dir = dir.path().to_path_buf();
    adjust(&mut settings);
    let state = glance_server::build_state(settings)
        .await
        .expect("server state");
    TestServer {
        app: glance_api::build_app(state.clone()),
        state,
        dir,
        database,
    }
}

pub async fn server() -> TestServer {
    server_with("").await
}

/// Identity headers for `[paste_deploy] flavor = trusted-auth` servers.
pub fn as_project(project: &str, roles: &str) -> Vec<(String, String)> {
    vec![
        ("X-Identity-Status".into(), "Confirmed".into()),
        ("X-Project-Id".into(), project.into()),
        ("X-User-Id".into(), format!("user-of-{project}")),
        ("X-Roles".into(), roles.into()),
    ]
}

impl TestServer {
    /// INI text naming this server's database (empty on SQLite, whose file lives in
    /// the data directory), for a second server on the same database.
    pub fn database_ini(&self) -> String {
        match &self.database {
            Some(d) => format!("[database]\nconnection = {}\n", d.url),
            None => String::new(),
        }
    }

    pub async fn request(
        &self,
        method: Method,
        uri: &str,
        headers: &[(&str, &str)],
        body: impl Into<Body>,
    ) -> TestResponse {
        let mut builder = Request::builder()
            .method(method)
            .uri(uri)
            .header("host", "127.0.0.1:9292");
        for (k, v) in headers {
            builder = builder.header(*k, *v);
        }
        let response = self
            .app
            .clone()
            .oneshot(builder.body(body.into()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        TestResponse {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, uri: &str) -> TestResponse {
        self.request(
            Method::GET,
            uri,
            &[("accept", "application/json")],
            Body::empty(),
        )
        .await
    }

    pub async fn post_json(&self, uri: &str, body: Value) -> TestResponse {
        self.request(
            Method::POST,
            uri,
            &[
                ("content-type", "application/json"),
                ("accept", "application/json"),
            ],
            body.to_string(),
        )
        .await
    }

    pub async fn patch(&self, uri: &str, ops: Value) -> TestResponse {
        self.request(
            Method::PATCH,
            uri,
            &[
                (
                    "content-type",
                    "application/openstack-images-v2.1-json-patch",
                ),
                ("accept", "application/json"),
            ],
            ops.to_string(),
        )
        .await
    }

    pub async fn put_data(&self, uri: &str, data: Vec<u8>) -> TestResponse {
        self.request(
            Method::PUT,
            uri,
            &[
                ("content-type", "application/octet-stream"),
                ("accept", "application/json"),
            ],
            data,
        )
        .await
    }

    pub async fn delete(&self, uri: &str) -> TestResponse {
        self.request(
            Method::DELETE,
            uri,
            &[("accept", "application/json")],
            Body::empty(),
        )
        .await
    }

    /// Creates an image and returns its JSON (asserts 201).
    pub async fn create_image(&self, body: Value) -> Value {
        let r = self.post_json("/v2/images", body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        r.json()
    }

    /// Waits (briefly) for asynchronous clean-up, then returns the store's files.
    pub async fn settled_files(&self) -> Vec<String> {
        for _ in 0..50 {
            if self.stored_files().is_empty() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        self.stored_files()
    }

    /// Files currently in the filesystem store directory (names only).
    pub fn stored_files(&self) -> Vec<String> {
        let dir = self.dir.path().join("images");
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }
}

/// Config text that turns on trusted identity headers (non-admin callers).
pub const TRUSTED: &str = "[paste_deploy]\nflavor = trusted-auth\n";

/// Requests as one project with given roles.
pub struct Caller<'a> {
    s: &'a TestServer,
    headers: Vec<(String, String)>,
}

impl<'a> Caller<'a> {
    pub fn new(s: &'a TestServer, project: &str, roles: &str) -> Self {
        let mut headers = as_project(project, roles);
        headers.push(("accept".into(), "application/json".into()));
        Caller { s, headers }
    }

    pub async fn send(
        &self,
        method: Method,
        uri: &str,
        body: Option<Vec<u8>>,
        content_type: &str,
    ) -> TestResponse {
        let mut h: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        if body.is_some() {
            h.push(("content-type", content_type));
        }
        self.s
            .request(
                method,
                uri,
                &h,
                body.map(Body::from).unwrap_or_else(Body::empty),
            )
            .await
    }

    pub async fn json(&self, method: Method, uri: &str, body: Value) -> TestResponse {
        self.send(
            method,
            uri,
            Some(body.to_string().into_bytes()),
            "application/json",
        )
        .await
    }

    pub async fn get(&self, uri: &str) -> TestResponse {
        self.send(Method::GET, uri, None, "").await
    }

    pub async fn post(&self, uri: &str) -> TestResponse {
        self.send(Method::POST, uri, None, "").await
    }

    pub async fn delete(&self, uri: &str) -> TestResponse {
        self.send(Method::DELETE, uri, None, "").await
    }

    pub async fn create(&self, body: Value) -> String {
        let r = self.json(Method::POST, "/v2/images", body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        r.json()["id"].as_str().unwrap().to_string()
    }

    pub async fn upload(&self, id: &str, data: &[u8]) {
        let r = self
            .send(
                Method::PUT,
                &format!("/v2/images/{id}/file"),
                Some(data.to_vec()),
                "application/octet-stream",
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    }
}

/// The `message` of a JSON error body ("" when absent).
pub fn message(r: &TestResponse) -> String {
    r.json()["message"].as_str().unwrap_or_default().to_string()
}

/// Asserts the status and that upstream's message appears in the JSON error body.
pub fn assert_error(r: &TestResponse, status: StatusCode, msg: &str) {
    assert_eq!(r.status, status, "{}", r.text());
    let m = message(r);
    assert!(m.contains(msg), "expected {msg:?} in {m:?}");
}

pub fn assert_400(r: &TestResponse, msg: &str) {
    assert_error(r, StatusCode::BAD_REQUEST, msg);
}

/// Names of the images of a 200 list response, in order.
pub fn names(r: &TestResponse) -> Vec<String> {
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap_or("").to_string())
        .collect()
}

/// Creates an image and returns its id (asserts 201).
pub async fn create(s: &TestServer, body: Value) -> String {
    s.create_image(body).await["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The image as a 200 show returns it.
pub async fn show(s: &TestServer, id: &str) -> Value {
    let r = s.get(&format!("/v2/images/{id}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()
}

/// A queued raw/bare image with one extra property (`foo`); returns its id.
pub async fn queued(s: &TestServer) -> String {
    create(
        s,
        serde_json::json!({"name": "p", "disk_format": "raw", "container_format": "bare", "foo": "bar"}),
    )
    .await
}

/// The image is back to queued with no data fields, and the store holds nothing of it.
pub async fn assert_pristine(s: &TestServer, id: &str) {
    let image = show(s, id).await;
    assert_eq!(image["status"], "queued", "{image}");
    for field in [
        "size",
        "virtual_size",
        "checksum",
        "os_hash_algo",
        "os_hash_value",
    ] {
        assert_eq!(image[field], Value::Null, "{field} in {image}");
    }
    let mut left = s.stored_files();
    for _ in 0..50 {
        left.retain(|name| name.contains(id));
        if left.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        left = s.stored_files();
    }
    assert_eq!(
        left,
        Vec::<String>::new(),
        "files of {id} left in the store"
    );
}
