//! The tasks API (`/v2/tasks`): admin-only by default (`tasks_api_access`), the
//! legacy `import` task that makes an image from a web server on loopback, and
//! the list's filters, order and pages.

mod common;

use std::time::Duration;

use axum::http::{Method, StatusCode};
use common::{assert_error, Caller, TRUSTED};
use serde_json::{json, Value};

fn image_bytes() -> Vec<u8> {
    (0..100_000u32).map(|i| (i * 31 % 251) as u8).collect()
}

async fn web_server() -> u16 {
    common::web::serve_image(image_bytes()).await
}

fn config(port: u16) -> String {
    format!("{TRUSTED}[import_filtering_opts]\nallowed_hosts = 127.0.0.1\nallowed_ports = {port}\n")
}

fn import_task(from: &str) -> Value {
    json!({"type": "import", "input": {
        "import_from": from, "import_from_format": "raw",
        "image_properties": {"name": "from-task", "disk_format": "raw",
                             "container_format": "bare"}}})
}

async fn ended(c: &Caller<'_>, id: &str) -> Value {
    for _ in 0..400 {
        let task = c.get(&format!("/v2/tasks/{id}")).await.json();
        if task["status"] == "success" || task["status"] == "failure" {
            return task;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("task {id} never ended");
}

#[tokio::test]
async fn legacy_import_task_makes_an_active_image() {
    let port = web_server().await;
    let s = common::server_with(&config(port)).await;
    let admin = Caller::new(&s, "admins", "admin,member,reader");
    let url = format!("http://127.0.0.1:{port}/image.raw");
    let r = admin
        .json(Method::POST, "/v2/tasks", import_task(&url))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let task = r.json();
    let id = task["id"].as_str().unwrap().to_string();
    assert_eq!(
        r.header("location"),
        Some(format!("/v2/tasks/{id}").as_str())
    );
    assert_eq!(task["type"], "import");
    assert_eq!(task["status"], "pending");
    assert_eq!(task["owner"], "admins");
    assert_eq!(task["input"], import_task(&url)["input"]);
    assert_eq!(task["result"], Value::Null);
    assert_eq!(task["self"], format!("/v2/tasks/{id}"));
    assert_eq!(task["schema"], "/v2/schemas/task");

    let task = ended(&admin, &id).await;
    assert_eq!(task["status"], "success", "{task}");
    assert!(task["expires_at"].is_string());
    let image_id = task["result"]["image_id"].as_str().unwrap();
    let image = admin.get(&format!("/v2/images/{image_id}")).await.json();
    assert_eq!(image["status"], "active");
    assert_eq!(image["name"], "from-task");
    assert_eq!(image["disk_format"], "raw");
    assert_eq!(image["size"], image_bytes().len());
    let data = admin.get(&format!("/v2/images/{image_id}/file")).await;
    assert_eq!(data.body.to_vec(), image_bytes());
}

#[tokio::test]
async fn task_requests_are_checked_and_the_api_is_admin_only() {
    let s = common::server_with(TRUSTED).await;
    let admin = Caller::new(&s, "admins", "admin,member,reader");
    let user = Caller::new(&s, "p1", "member,reader");
    for r in [
        user.get("/v2/tasks").await,
        user.json(
            Method::POST,
            "/v2/tasks",
            import_task("http://example.com/x"),
        )
        .await,
        user.get("/v2/tasks/00000000-0000-0000-0000-000000000000")
            .await,
    ] {
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    }
    let post = |body: Value| admin.json(Method::POST, "/v2/tasks", body);
    assert_error(
        &post(json!({"input": {}})).await,
        StatusCode::BAD_REQUEST,
        "Task 'type' is required",
    );
    assert_error(
        &post(json!({"type": "import"})).await,
        StatusCode::BAD_REQUEST,
        "Task 'input' is required",
    );
    assert_error(
        &post(import_task("file:///etc/passwd")).await,
        StatusCode::BAD_REQUEST,
        "File based imports are not allowed.",
    );
    assert_error(
        &post(import_task("ftp://example.com/x")).await,
        StatusCode::BAD_REQUEST,
        "The given uri is not valid.",
    );
    assert_error(
        &post(import_task("http://127.0.0.1:1/x")).await,
        StatusCode::BAD_REQUEST,
        "URI for legacy import task does not pass filtering: http://127.0.0.1:1/x",
    );
    assert_eq!(admin.get("/v2/tasks").await.json()["tasks"], json!([]));
    assert_error(
        &admin
            .get("/v2/tasks/00000000-0000-0000-0000-000000000000")
            .await,
        StatusCode::NOT_FOUND,
        "Could not find task",
    );
    let r = admin
        .delete("/v2/tasks/00000000-0000-0000-0000-000000000000")
        .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{}", r.text());
    assert_eq!(r.header("allow"), Some("GET"));

    // A name that does not resolve passes the filter; the task fails, as Tempest's
    // test_task_create_fake_image_location expects.
    let r = post(import_task("http://dummy-img-file.invalid/x.qcow2")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let task = ended(&admin, r.json()["id"].as_str().unwrap()).await;
    assert_eq!(task["status"], "failure", "{task}");
    assert!(!task["message"].as_str().unwrap().is_empty());
}

#[tokio::test]
async fn task_lists_filter_sort_and_page() {
    let s = common::server_with(TRUSTED).await;
    let admin = Caller::new(&s, "admins", "admin,member,reader");
    let mut ids = Vec::new();
    for _ in 0..3 {
        let r = admin
            .json(
                Method::POST,
                "/v2/tasks",
                import_task("http://nowhere.invalid/x"),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let id = r.json()["id"].as_str().unwrap().to_string();
        ended(&admin, &id).await;
        ids.push(id);
        common::next_created_at().await;
    }
    let listed = |r: &common::TestResponse| -> Vec<String> {
        r.json()["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap().to_string())
            .collect()
    };
    // Newest first by default; stubs carry no input, result or message.
    let r = admin.get("/v2/tasks").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let newest_first: Vec<String> = ids.iter().rev().cloned().collect();
    assert_eq!(listed(&r), newest_first);
    let stub = &r.json()["tasks"][0];
    assert!(
        stub.get("input").is_none() && stub.get("result").is_none(),
        "{stub}"
    );
    assert_eq!(r.json()["first"], "/v2/tasks");
    assert_eq!(r.json()["schema"], "/v2/schemas/tasks");
    let r = admin.get("/v2/tasks?sort_dir=asc").await;
    assert_eq!(listed(&r), ids);
    // Pages of one, following `next`.
    let mut seen = Vec::new();
    let mut next = "/v2/tasks?limit=1&sort_dir=asc".to_string();
    while seen.len() < 5 {
        let r = admin.get(&next).await;
        seen.extend(listed(&r));
        match r.json()["next"].as_str() {
            Some(n) => next = n.to_string(),
            None => break,
        }
    }
    assert_eq!(seen, ids);
    assert_eq!(
        listed(&admin.get("/v2/tasks?status=failure").await),
        newest_first
    );
    assert!(listed(&admin.get("/v2/tasks?status=success").await).is_empty());
    for (query, message) in [
        ("status=done", "Invalid status value: done"),
        ("type=copy", "Invalid type value: copy"),
        ("sort_dir=up", "Invalid sort direction: up"),
        ("marker=x", "Invalid marker format"),
        ("limit=-1", "limit param must be positive"),
        ("limit=a", "limit param must be an integer"),
    ] {
        assert_error(
            &admin.get(&format!("/v2/tasks?{query}")).await,
            StatusCode::BAD_REQUEST,
            message,
        );
    }
}
