//! Helpers of the metadata definitions tests.

use axum::http::{Method, StatusCode};
use glance_db::SqlBuf;
use serde_json::Value;

use super::{TestResponse, TestServer};

pub const NS: &str = "/v2/metadefs/namespaces";

/// How many rows the table holds.
pub async fn count(s: &TestServer, table: &str) -> i64 {
    let rows = s
        .state
        .glance
        .db
        .raw_fetch(&SqlBuf::new(&format!("SELECT COUNT(*) AS n FROM {table}")))
        .await
        .unwrap();
    rows[0].int("n").unwrap()
}

/// Empties `updated_at` in every metadef table, as `glance-manage db load_metadefs`
/// leaves the rows it writes (upstream's and ours).
pub async fn as_loaded(s: &TestServer) {
    for table in [
        "metadef_namespaces",
        "metadef_objects",
        "metadef_properties",
        "metadef_tags",
        "metadef_resource_types",
        "metadef_namespace_resource_types",
    ] {
        let q = SqlBuf::new(&format!("UPDATE {table} SET updated_at = NULL"));
        s.state.glance.db.raw_execute(&q).await.unwrap();
    }
}

pub async fn put_json(s: &TestServer, uri: &str, body: Value) -> TestResponse {
    s.request(
        Method::PUT,
        uri,
        &[
            ("content-type", "application/json"),
            ("accept", "application/json"),
        ],
        body.to_string(),
    )
    .await
}

/// Creates a namespace and returns its JSON (asserts 201).
pub async fn create_ns(s: &TestServer, body: Value) -> Value {
    let r = s.post_json(NS, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()
}

/// The names of the namespaces of a list body, in order.
pub fn namespace_names(list: &Value) -> Vec<String> {
    list["namespaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["namespace"].as_str().unwrap().to_string())
        .collect()
}
