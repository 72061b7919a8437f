mod common;

use axum::http::StatusCode;
use serde_json::json;

#[tokio::test]
async fn create_upload_download_round_trip() {
    let s = common::server().await;
    let image = s
        .create_image(json!({"name": "a", "disk_format": "raw", "container_format": "bare"}))
        .await;
    let id = image["id"].as_str().unwrap();
    let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let r = s
        .put_data(&format!("/v2/images/{id}/file"), data.clone())
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    let r = s.get(&format!("/v2/images/{id}/file")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body.as_ref(), data.as_slice());
    assert_eq!(s.stored_files(), vec![id.to_string()]);
}
