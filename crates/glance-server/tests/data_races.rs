//! Uploads racing each other and racing a delete: exactly one upload wins, and no
//! data outlives its image.

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, StatusCode};
use bytes::Bytes;
use common::{show, TestResponse, TestServer};
use futures_util::stream;
use md5::{Digest, Md5};
use serde_json::{json, Value};

fn md5_hex(data: &[u8]) -> String {
    format!("{:x}", Md5::digest(data))
}

fn payload(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 % 251) as u8).collect()
}

async fn raw_image(s: &TestServer) -> String {
    let body = json!({"name": "d", "disk_format": "raw", "container_format": "bare"});
    s.create_image(body).await["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn put_sized(s: &TestServer, id: &str, data: Vec<u8>) -> TestResponse {
    let len = data.len().to_string();
    let headers = [
        ("content-type", "application/octet-stream"),
        ("accept", "application/json"),
        ("content-length", len.as_str()),
    ];
    s.request(
        Method::PUT,
        &format!("/v2/images/{id}/file"),
        &headers,
        data,
    )
    .await
}

/// A request body the test feeds chunk by chunk; dropping the sender ends it.
fn fed_body() -> (tokio::sync::mpsc::Sender<Bytes>, Body) {
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(4);
    let chunks = stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|chunk| (Ok::<_, std::io::Error>(chunk), rx))
    });
    (tx, Body::from_stream(chunks))
}

/// Starts an upload on its own task; returns the feeder and the pending response.
fn spawn_upload(
    s: &TestServer,
    id: &str,
) -> (
    tokio::sync::mpsc::Sender<Bytes>,
    tokio::task::JoinHandle<StatusCode>,
) {
    use tower::ServiceExt;
    let (tx, body) = fed_body();
    let request = axum::http::Request::put(format!("/v2/images/{id}/file"))
        .header("host", "127.0.0.1:9292")
        .header("content-type", "application/octet-stream")
        .body(body)
        .unwrap();
    let app = s.app.clone();
    (
        tx,
        tokio::spawn(async move { app.oneshot(request).await.unwrap().status() }),
    )
}

async fn wait_for_status(s: &TestServer, id: &str, status: &str) {
    for _ in 0..200 {
        if show(s, id).await["status"] == status {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("image {id} never reached {status}");
}

#[tokio::test]
async fn concurrent_uploads_one_wins_the_rest_conflict() {
    let s = common::server().await;
    let id = raw_image(&s).await;
    let uploads: Vec<_> = (0..4).map(|_| spawn_upload(&s, &id)).collect();
    wait_for_status(&s, &id, "saving").await;
    let mut statuses = Vec::new();
    let mut winner_data = None;
    for (n, (tx, handle)) in uploads.into_iter().enumerate() {
        let data = vec![n as u8; 50_000];
        // A loser has already answered and dropped its body: sending fails.
        let fed = tx.send(Bytes::from(data.clone())).await.is_ok()
            && tx.send(Bytes::from(data.clone())).await.is_ok();
        drop(tx);
        let status = handle.await.unwrap();
        if status == StatusCode::NO_CONTENT {
            assert!(fed);
            winner_data = Some([data.clone(), data].concat());
        }
        statuses.push(status);
    }
    statuses.sort();
    assert_eq!(
        statuses,
        vec![
            StatusCode::NO_CONTENT,
            StatusCode::CONFLICT,
            StatusCode::CONFLICT,
            StatusCode::CONFLICT
        ]
    );
    let winner_data = winner_data.unwrap();
    let image = show(&s, &id).await;
    assert_eq!(image["checksum"], md5_hex(&winner_data));
    assert_eq!(
        s.get(&format!("/v2/images/{id}/file")).await.body.as_ref(),
        winner_data.as_slice()
    );
    assert_eq!(s.stored_files(), vec![id]);
}

#[tokio::test]
async fn deleting_during_upload_is_410_and_removes_the_data() {
    let s = common::server().await;
    let id = raw_image(&s).await;
    let (tx, handle) = spawn_upload(&s, &id);
    tx.send(Bytes::from(payload(100_000))).await.unwrap();
    wait_for_status(&s, &id, "saving").await;
    assert_eq!(
        s.delete(&format!("/v2/images/{id}")).await.status,
        StatusCode::NO_CONTENT
    );
    let _ = tx.send(Bytes::from(payload(100_000))).await;
    drop(tx);
    let status = handle.await.unwrap();
    assert!(
        status == StatusCode::GONE || status == StatusCode::NOT_FOUND,
        "{status}"
    );
    assert_eq!(s.settled_files().await, Vec::<String>::new());
    assert_eq!(
        s.get(&format!("/v2/images/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn upload_to_deleted_or_unknown_image_is_404() {
    let s = common::server().await;
    let id = raw_image(&s).await;
    assert_eq!(
        s.delete(&format!("/v2/images/{id}")).await.status,
        StatusCode::NO_CONTENT
    );
    let r = put_sized(&s, &id, payload(10)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        r.json()["message"],
        format!("No image found with ID {id}<br /><br />\n\n\n")
    );
    let r = put_sized(&s, "00000000-0000-0000-0000-000000000000", payload(10)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(s.stored_files(), Vec::<String>::new());
}

#[tokio::test]
async fn a_request_dropped_midway_puts_the_image_back_to_queued() {
    let s = common::server().await;
    let id = raw_image(&s).await;
    let (tx, handle) = spawn_upload(&s, &id);
    tx.send(Bytes::from(payload(100_000))).await.unwrap();
    wait_for_status(&s, &id, "saving").await;
    // The client goes away: the server drops the request future.
    handle.abort();
    let _ = handle.await;
    wait_for_status(&s, &id, "queued").await;
    assert_eq!(s.settled_files().await, Vec::<String>::new());
    assert_eq!(show(&s, &id).await["size"], Value::Null);
    assert_eq!(
        put_sized(&s, &id, payload(10)).await.status,
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn storage_quota_holds_across_concurrent_uploads() {
    let s = common::server_with("[DEFAULT]\nuser_storage_quota = 1000\n").await;
    let (a, b) = (raw_image(&s).await, raw_image(&s).await);
    let (tx_a, up_a) = spawn_upload(&s, &a);
    let (tx_b, up_b) = spawn_upload(&s, &b);
    wait_for_status(&s, &a, "saving").await;
    wait_for_status(&s, &b, "saving").await;
    tx_a.send(Bytes::from(payload(600))).await.unwrap();
    drop(tx_a);
    assert_eq!(up_a.await.unwrap(), StatusCode::NO_CONTENT);
    tx_b.send(Bytes::from(payload(600))).await.unwrap();
    drop(tx_b);
    assert_eq!(up_b.await.unwrap(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(show(&s, &b).await["status"], "queued");
    assert_eq!(s.stored_files(), vec![a]);
}
