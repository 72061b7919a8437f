//! `[paste_deploy] flavor = keystone` through the router, with Keystone down (a
//! closed port): what a client sees before any token can be validated. The real
//! Keystone is exercised by glance-auth's tests/keystone.rs and the e2e and
//! Tempest runs.

mod common;

use axum::body::Body;
use axum::http::{Method, StatusCode};

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn keystone_ini(port: u16, extra: &str) -> String {
    format!(
        "[paste_deploy]\nflavor = keystone\n\
         [keystone_authtoken]\nwww_authenticate_uri = http://keystone.example:5000\n\
         auth_url = http://127.0.0.1:{port}\nauth_type = password\nusername = glance\n\
         password = secret\nproject_name = service\nuser_domain_name = Default\n\
         project_domain_name = Default\nhttp_request_max_retries = 0\n\
         http_connect_timeout = 2\n{extra}"
    )
}

#[tokio::test]
async fn no_token_is_401_with_the_keystone_challenge_and_no_request_id() {
    let s = common::server_with(&keystone_ini(closed_port(), "")).await;
    let r = s
        .request(
            Method::GET,
            "/v2/images",
            &[("accept", "application/json")],
            Body::empty(),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text());
    assert_eq!(
        r.header("www-authenticate"),
        Some("Keystone uri=\"http://keystone.example:5000\"")
    );
    assert!(r.header("x-openstack-request-id").is_none());
    assert!(common::message(&r).starts_with("This server could not verify"));
    // Huge and non-ASCII tokens are refused without asking Keystone.
    let huge = "a".repeat(10_000);
    for token in [huge.as_str(), "tok\u{e9}n"] {
        let r = s
            .request(
                Method::GET,
                "/v2/images",
                &[("x-auth-token", token), ("accept", "application/json")],
                Body::empty(),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text());
        assert!(r.header("www-authenticate").is_some());
    }
    // The versions document needs no token.
    assert_eq!(s.get("/versions").await.status, StatusCode::OK);
}

#[tokio::test]
async fn keystone_down_is_503_and_nothing_changes() {
    let s = common::server_with(&keystone_ini(closed_port(), "")).await;
    let r = s
        .request(
            Method::POST,
            "/v2/images",
            &[
                ("x-auth-token", "gAAAAABtoken"),
                ("content-type", "application/json"),
                ("accept", "application/json"),
            ],
            r#"{"id": "5a7b2c1e-0d3f-4e8a-9b6c-1f2e3d4c5b6a", "name": "x"}"#,
        )
        .await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.text());
    assert!(
        common::message(&r).contains("The Keystone service is temporarily unavailable."),
        "{}",
        r.text()
    );
    let db = &s.state.glance.db;
    let stored = db.image_id_exists("5a7b2c1e-0d3f-4e8a-9b6c-1f2e3d4c5b6a");
    assert!(!stored.await.unwrap());
}

#[tokio::test]
async fn delay_auth_decision_turns_an_outage_into_401_as_upstreams_pipeline() {
    let ini = keystone_ini(closed_port(), "delay_auth_decision = true\n");
    let s = common::server_with(&ini).await;
    let r = s
        .request(
            Method::GET,
            "/v2/images",
            &[
                ("x-auth-token", "gAAAAABtoken"),
                ("accept", "application/json"),
            ],
            Body::empty(),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text());
}

#[tokio::test]
async fn bad_keystone_settings_stop_the_start() {
    for (ini, option) in [
        (
            keystone_ini(1, "certfile = /etc/glance/client.pem\n"),
            "certfile",
        ),
        (
            keystone_ini(1, "").replace("auth_type = password", "auth_type = v3token"),
            "auth_type",
        ),
        (
            "[paste_deploy]\nflavor = keystone+nonsense_filter\n".to_string(),
            "keystone_authtoken",
        ),
    ] {
        let mut settings = glance_config::load_from_str(&ini).unwrap();
        let dir = tempfile::tempdir().unwrap();
        settings.data_dir = dir.path().to_path_buf();
        let err = match glance_server::build_state(settings).await {
            Ok(_) => panic!("started with {ini}"),
            Err(e) => format!("{e:#}"),
        };
        assert!(err.contains(option), "{option}: {err}");
    }
    let mut settings = glance_config::load_from_str("[paste_deploy]\nflavor = none\n").unwrap();
    let dir = tempfile::tempdir().unwrap();
    settings.data_dir = dir.path().to_path_buf();
    let err = glance_server::build_state(settings).await.err().unwrap();
    assert!(format!("{err:#}").contains("unknown [paste_deploy] flavor 'none'"));
}
