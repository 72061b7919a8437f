//! The client against a real server on a loopback port (embedded default), for the v2
//! routes it wraps; the v1 operations are exercised by the `glance` CLI's tests.

use bytes::Bytes;
use futures_util::{stream, StreamExt};
use glance_client::{ClientError, GlanceClient, ImageData, ImageMeta, ListOptions, Membership};
use serde_json::json;

async fn server() -> (GlanceClient, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = glance_config::load_from_str("").unwrap();
    settings.data_dir = dir.path().to_path_buf();
    let state = glance_server::build_state(settings).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        axum::serve(listener, glance_api::build_app(state))
            .await
            .unwrap();
    });
    let client = GlanceClient::new(&format!("http://127.0.0.1:{port}/"))
        .unwrap()
        .with_token("any");
    (client, dir)
}

/// `n` bytes in 64 KiB chunks of unknown total size (sent chunked).
fn chunked(n: usize) -> (Vec<u8>, ImageData) {
    let data: Vec<u8> = (0..n).map(|i| (i % 241) as u8).collect();
    let chunks: Vec<std::io::Result<Bytes>> = data
        .chunks(65536)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    (
        data,
        ImageData {
            stream: Box::pin(stream::iter(chunks)),
            size: None,
        },
    )
}

async fn collect(
    mut s: std::pin::Pin<Box<dyn futures_util::Stream<Item = std::io::Result<Bytes>> + Send>>,
) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(chunk) = s.next().await {
        out.extend_from_slice(&chunk.unwrap());
    }
    out
}

#[tokio::test]
async fn v2_images_round_trip_through_the_client() {
    let (client, _dir) = server().await;
    let image = client
        .create_image(&json!({"name": "c", "disk_format": "raw", "container_format": "bare", "os_distro": "debian"}))
        .await
        .unwrap();
    let id = image["id"].as_str().unwrap().to_string();
    assert_eq!(image["status"], "queued");
    let (data, body) = chunked(300_000);
    client.upload_image(&id, body, None).await.unwrap();
    let shown = client.show_image(&id).await.unwrap();
    assert_eq!(
        (shown["status"].as_str(), shown["size"].as_u64()),
        (Some("active"), Some(300_000))
    );
    let download = client.download_image(&id).await.unwrap().expect("data");
    assert_eq!(download.size, Some(300_000));
    assert_eq!(download.checksum.as_deref(), shown["checksum"].as_str());
    assert!(collect(download.stream).await == data);

    let patched = client
        .patch_image(
            &id,
            &[json!({"op": "replace", "path": "/name", "value": "renamed"})],
        )
        .await
        .unwrap();
    assert_eq!(patched["name"], "renamed");
    client.add_tag(&id, "blue").await.unwrap();
    assert_eq!(
        client.show_image(&id).await.unwrap()["tags"],
        json!(["blue"])
    );
    client.delete_tag(&id, "blue").await.unwrap();
    client.deactivate_image(&id).await.unwrap();
    assert_eq!(
        client.show_image(&id).await.unwrap()["status"],
        "deactivated"
    );
    client.reactivate_image(&id).await.unwrap();

    // Paging follows `next` links.
    for n in 0..4 {
        client
            .create_image(&json!({"name": format!("p{n}")}))
            .await
            .unwrap();
    }
    let page_size = vec![("limit".to_string(), "2".to_string())];
    assert_eq!(client.list_images(&page_size, None).await.unwrap().len(), 5);
    assert_eq!(
        client.list_images(&page_size, Some(3)).await.unwrap().len(),
        3
    );

    // Single store: upstream's 404, with its words.
    let stores = client.stores_info(false).await.unwrap_err();
    assert_eq!(stores.status(), Some(404));
    assert!(
        stores
            .to_string()
            .contains("Multi backend is not supported"),
        "{stores}"
    );
    assert!(client.import_info().await.unwrap()["import-methods"].is_object());

    client.remove_image(&id).await.unwrap();
    let gone = client.show_image(&id).await.unwrap_err();
    assert!(gone.is_not_found(), "{gone}");
}

#[tokio::test]
async fn members_and_errors_carry_the_servers_words() {
    let (client, _dir) = server().await;
    let image = client
        .create_image(&json!({"visibility": "shared"}))
        .await
        .unwrap();
    let id = image["id"].as_str().unwrap();
    let member = client.create_member(id, "p2").await.unwrap();
    assert_eq!(
        (member["member_id"].as_str(), member["status"].as_str()),
        (Some("p2"), Some("pending"))
    );
    assert_eq!(client.list_members(id).await.unwrap().len(), 1);
    let accepted = client.update_member(id, "p2", "accepted").await.unwrap();
    assert_eq!(accepted["status"], "accepted");
    client.delete_member_v2(id, "p2").await.unwrap();
    let refused = client
        .create_image(&json!({"disk_format": "floppy"}))
        .await
        .unwrap_err();
    match refused {
        ClientError::Http { status, message } => {
            assert_eq!(status, 400);
            assert!(message.contains("floppy"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn the_seeds_operations_by_name() {
    let (client, _dir) = server().await;
    let mut meta = ImageMeta::default();
    meta.set("name", "seeds")
        .set("disk_format", "raw")
        .set("container_format", "bare")
        .set("is_public", true);
    meta.properties.insert("distro".into(), "Ubuntu".into());
    let (data, body) = chunked(70_000);
    let added = client.add_image(&meta, Some(body)).await.unwrap();
    let id = added.id().unwrap();
    assert_eq!(added.text("status").as_deref(), Some("active"));
    let head = client.get_image_meta(&id).await.unwrap();
    assert_eq!(head.fields["size"], 70_000);
    assert_eq!(head.fields["is_public"], true);
    assert_eq!(head.properties["distro"], "Ubuntu");
    let got = client.get_image(&id).await.unwrap();
    assert_eq!(got.size, Some(70_000));
    assert!(collect(got.stream).await == data);
    let listed = client.get_images(&ListOptions::default()).await.unwrap();
    assert_eq!(listed.len(), 1);
    let mut change = ImageMeta::default();
    change.set("name", "renamed");
    let updated = client
        .update_image(&id, &change, None, false)
        .await
        .unwrap();
    assert_eq!(updated.properties["distro"], "Ubuntu", "merged, not purged");
    client.add_member(&id, "t1", Some(true)).await.unwrap();
    assert_eq!(
        client.get_image_members(&id).await.unwrap(),
        [Membership {
            member_id: "t1".into(),
            can_share: true
        }]
    );
    assert_eq!(
        client.get_member_images("t1").await.unwrap()[0].image_id,
        id
    );
    client.replace_members(&id, &[]).await.unwrap();
    assert!(client.get_image_members(&id).await.unwrap().is_empty());
    client.delete_image(&id).await.unwrap();
    assert!(client.get_image_meta(&id).await.unwrap_err().is_not_found());
}

#[tokio::test]
async fn a_server_that_is_down_is_a_connection_error_after_the_retries() {
    // Bind then drop a listener to find a port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = GlanceClient::new(&format!("http://127.0.0.1:{port}"))
        .unwrap()
        .with_retries(2);
    let started = std::time::Instant::now();
    let err = client.show_image("x").await.unwrap_err();
    assert!(matches!(err, ClientError::Connection { .. }), "{err:?}");
    // Two retries wait 200 ms and 400 ms before giving up.
    assert!(started.elapsed() >= std::time::Duration::from_millis(600));
    // A POST is not repeated: it fails at once.
    let started = std::time::Instant::now();
    assert!(client.create_image(&json!({})).await.is_err());
    assert!(started.elapsed() < std::time::Duration::from_millis(600));
}
