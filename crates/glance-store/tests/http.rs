//! The read-only http store against a real HTTP server on 127.0.0.1, started by
//! each test (tests/http/server.rs: hyper, with and without Range support, HEAD
//! refused, Basic auth, redirects). No environment variable: the server is ours.
//!
//! The stores under test allow 127.0.0.1 and the server's port explicitly; the
//! ones without that prove loopback is refused, by literal and by name.

#[path = "http/server.rs"]
mod http_server;

use futures_util::StreamExt;
use glance_store::http::{HttpStore, MAX_REDIRECTS};
use glance_store::registry::{open_store, StoreEnv};
use glance_store::remote::ssrf::UriFilter;
use glance_store::{ByteRange, ObjectReader, Store, StoreCaller, StoreError, StoreInfo};
use glance_store::{StoreOptions, UploadTarget};
use http_server::{pattern, TestServer, IMAGE_LEN};

const SECRET: &str = "s3cr3t-pw";

fn info() -> StoreInfo {
    StoreInfo {
        id: "http".into(),
        store_type: "http".into(),
        ..StoreInfo::default()
    }
}

/// A store that may reach `hosts` on `ports`.
fn store_allowing(hosts: &[&str], ports: &[u16]) -> HttpStore {
    let filter = UriFilter {
        allowed_hosts: hosts.iter().map(|h| h.to_string()).collect(),
        allowed_ports: ports.to_vec(),
        ..UriFilter::default()
    };
    HttpStore::new(info(), &StoreOptions::default(), filter).expect("store opens")
}

fn caller() -> StoreCaller {
    StoreCaller::service()
}

async fn read_all(reader: ObjectReader) -> Result<Vec<u8>, std::io::Error> {
    let mut out = Vec::new();
    let mut stream = reader.stream;
    while let Some(chunk) = stream.next().await {
        out.extend_from_slice(&chunk?);
    }
    Ok(out)
}

#[tokio::test]
async fn size_comes_from_head() {
    let server = TestServer::start().await;
    let store = store_allowing(&["127.0.0.1"], &[server.port]);
    let size = store
        .size(&server.url("/ranged/image"), &caller())
        .await
        .unwrap();
    assert_eq!(size, IMAGE_LEN as u64);
    assert_eq!(server.requests(), ["HEAD /ranged/image"]);
}

#[tokio::test]
async fn size_falls_back_to_get_when_head_is_refused() {
    let server = TestServer::start().await;
    let store = store_allowing(&["127.0.0.1"], &[server.port]);
    let size = store
        .size(&server.url("/no-head/image"), &caller())
        .await
        .unwrap();
    assert_eq!(size, IMAGE_LEN as u64);
    assert_eq!(
        server.requests(),
        ["HEAD /no-head/image", "GET /no-head/image"]
    );
}

#[tokio::test]
async fn whole_and_ranged_reads_return_the_servers_bytes() {
    let server = TestServer::start().await;
    let store = store_allowing(&["127.0.0.1"], &[server.port]);
    let data = pattern(IMAGE_LEN);
    let last = IMAGE_LEN as u64 - 1;
    // With Range support (206) and without it (200 and the whole image).
    for path in ["/ranged/image", "/plain/image"] {
        let url = server.url(path);
        let reader = store.open(&url, None, &caller()).await.unwrap();
        assert_eq!(reader.total_size, IMAGE_LEN as u64);
        assert!(
            read_all(reader).await.unwrap() == data,
            "{path}: whole read"
        );

        for (start, end) in [
            (0, 0),
            (0, 9),
            (1, 1),
            (70_000, 1_500_000),
            (last, last),
            (5, last),
        ] {
            let range = ByteRange { start, end };
            let reader = store.open(&url, Some(range), &caller()).await.unwrap();
            assert_eq!(reader.total_size, IMAGE_LEN as u64, "{path} {start}-{end}");
            let got = read_all(reader).await.unwrap();
            let expected = &data[start as usize..=end as usize];
            assert!(got == expected, "{path} {start}-{end}: bytes differ");
        }
    }
    let ranged = server.requests_with_range();
    assert!(ranged.contains(&"GET /ranged/image bytes=70000-1500000 -> 206".to_string()));
    assert!(ranged.contains(&"GET /plain/image bytes=70000-1500000 -> 200".to_string()));
}

#[tokio::test]
async fn missing_image_is_not_found() {
    let server = TestServer::start().await;
    let store = store_allowing(&["127.0.0.1"], &[server.port]);
    let url = server.url("/missing");
    assert!(matches!(
        store.size(&url, &caller()).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.open(&url, None, &caller()).await,
        Err(StoreError::NotFound(_))
    ));
}

#[tokio::test]
async fn a_body_without_length_is_refused() {
    let server = TestServer::start().await;
    let store = store_allowing(&["127.0.0.1"], &[server.port]);
    let url = server.url("/chunked/image");
    assert!(matches!(
        store.size(&url, &caller()).await,
        Err(StoreError::Backend(_))
    ));
    assert!(matches!(
        store.open(&url, None, &caller()).await,
        Err(StoreError::Backend(_))
    ));
}

#[tokio::test]
async fn redirects_are_followed_up_to_upstreams_limit() {
    let server = TestServer::start().await;
    let store = store_allowing(&["127.0.0.1"], &[server.port]);
    let data = pattern(IMAGE_LEN);
    // MAX_REDIRECTS requests at most: MAX_REDIRECTS - 1 redirects, each status once.
    let hops = MAX_REDIRECTS - 1;
    let url = server.url(&format!("/redirect/{hops}"));
    assert_eq!(store.size(&url, &caller()).await.unwrap(), IMAGE_LEN as u64);
    let reader = store.open(&url, None, &caller()).await.unwrap();
    assert!(read_all(reader).await.unwrap() == data);
    let range = ByteRange { start: 10, end: 20 };
    let reader = store.open(&url, Some(range), &caller()).await.unwrap();
    assert_eq!(read_all(reader).await.unwrap(), &data[10..=20]);
    // Each read: the hops, then the image.
    assert_eq!(server.count("GET /redirect/"), 2 * (hops + 1));

    let too_many = server.url(&format!("/redirect/{}", hops + 1));
    match store.open(&too_many, None, &caller()).await {
        Err(StoreError::Backend(m)) => assert!(m.contains("redirects"), "{m}"),
        other => panic!("{:?}", other.map(|r| r.total_size)),
    }
    let before = server.count("GET /loop");
    match store.size(&server.url("/loop"), &caller()).await {
        Err(StoreError::Backend(m)) => assert!(m.contains("redirects"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        server.count("HEAD /loop") + server.count("GET /loop") - before,
        MAX_REDIRECTS
    );
}

#[tokio::test]
async fn redirects_to_refused_targets_are_not_followed() {
    let server = TestServer::start().await;
    let other = TestServer::start().await;
    let store = store_allowing(&["127.0.0.1"], &[server.port]);
    for path in [
        "/to/http://169.254.169.254/latest/meta-data/".to_string(),
        format!("/to/http://127.0.0.1:{}/ranged/image", other.port),
        format!("/to/http://localhost:{}/ranged/image", server.port),
        format!("/to/http://2130706433:{}/ranged/image", server.port),
        "/to/file:///etc/passwd".to_string(),
    ] {
        match store.open(&server.url(&path), None, &caller()).await {
            Err(StoreError::LocationRefused(m)) => assert!(m.contains("redirect"), "{m}"),
            other => panic!("{path}: {:?}", other.map(|r| r.total_size)),
        }
    }
    assert!(other.requests().is_empty(), "{:?}", other.requests());
    // A same-origin target given as a path is followed.
    let reader = store
        .open(&server.url("/to//ranged/image"), None, &caller())
        .await
        .unwrap();
    assert_eq!(read_all(reader).await.unwrap(), pattern(IMAGE_LEN));
}

#[tokio::test]
async fn the_store_is_read_only() {
    let server = TestServer::start().await;
    let store = store_allowing(&["127.0.0.1"], &[server.port]);
    assert!(store.info().read_only);
    let target = UploadTarget {
        image_id: "6d1c6bc8-7b36-4b2b-9d3e-2e1b2f6f0a11",
        expected_size: Some(3),
        caller: &caller(),
    };
    assert!(matches!(
        store.begin_upload(&target).await,
        Err(StoreError::AddDisabled(_))
    ));
    // Deleting forgets the location; the web server keeps its data untouched.
    let url = server.url("/ranged/image");
    store.delete(&url, &caller()).await.unwrap();
    assert!(server.requests().is_empty());
    assert_eq!(store.size(&url, &caller()).await.unwrap(), IMAGE_LEN as u64);
    assert!(matches!(
        store.delete("file:///etc/passwd", &caller()).await,
        Err(StoreError::BadLocation(_))
    ));
    assert!(store.owns(&url) && store.owns("HTTPS://example.com/x"));
    assert!(!store.owns("file:///x") && !store.owns("swift://a/b") && !store.owns("http"));
}

#[tokio::test]
async fn loopback_is_refused_unless_listed() {
    let server = TestServer::start().await;
    // Only the port is allowed: 127.0.0.1 is not listed.
    let store = store_allowing(&[], &[server.port]);
    let port = server.port;
    for url in [
        format!("http://127.0.0.1:{port}/ranged/image"),
        format!("HTTP://127.0.0.1:{port}/ranged/image"),
        format!("http://[::ffff:127.0.0.1]:{port}/ranged/image"),
        format!("http://[::1]:{port}/ranged/image"),
        format!("http://2130706433:{port}/ranged/image"),
        format!("http://0x7f.1:{port}/ranged/image"),
        format!("http://017700000001:{port}/ranged/image"),
        format!("http://127.1:{port}/ranged/image"),
        format!("http://127.0.0.1.:{port}/ranged/image"),
        format!("http://allowed@127.0.0.1:{port}/ranged/image"),
        format!("http://example.com\\@127.0.0.1:{port}/ranged/image"),
        format!("http://[fe80::1%25lo]:{port}/ranged/image"),
        format!("http://:{port}/ranged/image"),
        "http://127.0.0.1:99999/ranged/image".to_string(),
        // A name is judged by the addresses it resolves to, at connect time.
        format!("http://localhost:{port}/ranged/image"),
    ] {
        match store.size(&url, &caller()).await {
            Err(StoreError::LocationRefused(_)) => {}
            other => panic!("{url}: {other:?}"),
        }
    }
    match store
        .open(
            &format!("http://localhost:{port}/ranged/image"),
            None,
            &caller(),
        )
        .await
    {
        Err(StoreError::LocationRefused(m)) => assert!(m.contains("loopback"), "{m}"),
        other => panic!("{:?}", other.map(|r| r.total_size)),
    }
    assert!(server.requests().is_empty(), "{:?}", server.requests());

    // Listing the name trusts what it resolves to.
    let by_name = store_allowing(&["localhost"], &[server.port]);
    let url = format!("http://localhost:{port}/ranged/image");
    assert_eq!(
        by_name.size(&url, &caller()).await.unwrap(),
        IMAGE_LEN as u64
    );
}

#[tokio::test]
async fn credentials_are_sent_and_never_shown() {
    let server = TestServer::start().await;
    let store = store_allowing(&["127.0.0.1"], &[server.port]);
    let with_creds = |path: &str| format!("http://glance:{SECRET}@127.0.0.1:{}{path}", server.port);
    let reader = store
        .open(&with_creds("/protected/image"), None, &caller())
        .await
        .unwrap();
    assert_eq!(read_all(reader).await.unwrap(), pattern(IMAGE_LEN));
    // Kept across a same-origin redirect.
    let size = store
        .size(&with_creds("/to//protected/image"), &caller())
        .await
        .unwrap();
    assert_eq!(size, IMAGE_LEN as u64);
    // Without them the server refuses.
    assert!(matches!(
        store.size(&server.url("/protected/image"), &caller()).await,
        Err(StoreError::BadLocation(_))
    ));

    let closed_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let refusing = store_allowing(&[], &[server.port]);
    let mut failures = vec![
        store
            .size(&with_creds("/missing"), &caller())
            .await
            .unwrap_err(),
        store
            .size(&with_creds("/to/http://169.254.169.254/x"), &caller())
            .await
            .unwrap_err(),
        store
            .size(&with_creds("/loop"), &caller())
            .await
            .unwrap_err(),
        store
            .size(&with_creds("/bad path"), &caller())
            .await
            .unwrap_err(),
        refusing
            .size(&with_creds("/ranged/image"), &caller())
            .await
            .unwrap_err(),
    ];
    let unreachable = store_allowing(&["127.0.0.1"], &[closed_port]);
    let url = format!("http://glance:{SECRET}@127.0.0.1:{closed_port}/x?sig={SECRET}");
    failures.push(unreachable.size(&url, &caller()).await.unwrap_err());
    for failure in failures {
        let shown = format!("{failure} {failure:?}");
        assert!(
            !shown.contains(SECRET) && !shown.contains("glance:"),
            "{shown}"
        );
    }
}

#[tokio::test]
async fn options_are_read_as_upstream_names_them() {
    let env = StoreEnv::default();
    let open = |options: StoreOptions| open_store(info(), &options, &env).map(|_| ());
    open(StoreOptions::default()).expect("defaults work");
    open(StoreOptions::default().with("https_insecure", "false")).expect("verifying works");
    for (option, value) in [
        ("https_insecure", "maybe"),
        ("https_ca_certificates_file", "/nonexistent/ca.pem"),
        ("http_proxy_information", "http:10.0.0.1:3128"),
        ("http_proxy_information", "not a dict"),
    ] {
        match open(StoreOptions::new("glance_store", Default::default()).with(option, value)) {
            Err(StoreError::Config { option: named, .. }) => assert_eq!(named, option),
            other => panic!("{option}={value}: {other:?}"),
        }
    }
}
