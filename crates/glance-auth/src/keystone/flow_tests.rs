//! The request flow against a scripted Keystone, for what a real Keystone
//! cannot show: how many calls were made, a service token refused mid-life, a
//! Keystone answering 500.

use std::collections::HashSet;
use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

use super::*;

#[derive(Default)]
struct Script {
    logins: AtomicUsize,
    validations: AtomicUsize,
    /// Service tokens the fake no longer accepts.
    refused_service_tokens: Mutex<HashSet<String>>,
    failing: AtomicBool,
}

fn token_body(user: &str, expires_in: i64, roles: &[&str]) -> String {
    let expires = (chrono::Utc::now() + chrono::Duration::seconds(expires_in))
        .format("%Y-%m-%dT%H:%M:%S%.6fZ");
    let roles: Vec<_> = roles
        .iter()
        .map(|r| serde_json::json!({"id": r, "name": r}))
        .collect();
    serde_json::json!({"token": {
        "expires_at": expires.to_string(),
        "user": {"id": user, "domain": {"id": "default"}},
        "project": {"id": format!("{user}-project"), "domain": {"id": "default"}},
        "roles": roles,
    }})
    .to_string()
}

async fn answer(script: Arc<Script>, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let reply = |status: u16, body: String| {
        Response::builder()
            .status(status)
            .body(Full::new(Bytes::from(body)))
            .unwrap()
    };
    if script.failing.load(Ordering::SeqCst) {
        return reply(500, "{}".into());
    }
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    if req.method() == hyper::Method::POST {
        let n = script.logins.fetch_add(1, Ordering::SeqCst) + 1;
        // Slow enough that concurrent callers pile up behind the login.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut response = reply(201, token_body("glance", 3600, &["admin", "service"]));
        let token = format!("svc-{n}");
        response
            .headers_mut()
            .insert("x-subject-token", token.parse().unwrap());
        return response;
    }
    script.validations.fetch_add(1, Ordering::SeqCst);
    let service = header("x-auth-token");
    if !service.starts_with("svc-")
        || script
            .refused_service_tokens
            .lock()
            .unwrap()
            .contains(&service)
    {
        return reply(401, "{}".into());
    }
    let allow_expired = req.uri().query().unwrap_or("").contains("allow_expired=1");
    match header("x-subject-token").as_str() {
        "user-ok" | "user-a" | "user-b" => reply(200, token_body("user", 3600, &["Member"])),
        "user-expired" if allow_expired => reply(200, token_body("old", -60, &["member"])),
        "service-ok" => reply(200, token_body("nova", 3600, &["service"])),
        "not-a-service" => reply(200, token_body("someone", 3600, &["member"])),
        _ => reply(404, "{}".into()),
    }
}

async fn fake_keystone() -> (Arc<Script>, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let script = Arc::new(Script::default());
    let shared = script.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let script = shared.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| {
                    let script = script.clone();
                    async move { Ok::<_, Infallible>(answer(script, req).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (script, url)
}

fn config(url: &str) -> KeystoneConfig {
    KeystoneConfig {
        auth_url: Some(url.into()),
        auth_type: Some("password".into()),
        username: Some("glance".into()),
        password: Some("pw".into()),
        project_name: Some("service".into()),
        project_domain_name: Some("Default".into()),
        user_domain_name: Some("Default".into()),
        http_request_max_retries: 0,
        ..Default::default()
    }
}

async fn setup() -> (Arc<Script>, KeystoneAuth) {
    let (script, url) = fake_keystone().await;
    (script, KeystoneAuth::new(config(&url)).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_share_one_login() {
    let (script, auth) = setup().await;
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let auth = auth.clone();
            let token = if i % 2 == 0 { "user-a" } else { "user-b" };
            tokio::spawn(async move { auth.authenticate(Some(token), None, format!("r{i}")).await })
        })
        .collect();
    for task in tasks {
        let ctx = task.await.unwrap().unwrap();
        assert_eq!(ctx.roles, vec!["member"]);
        assert!(!ctx.is_admin);
    }
    assert_eq!(script.logins.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn cache_spares_keystone() {
    let (script, auth) = setup().await;
    for _ in 0..3 {
        auth.authenticate(Some("user-ok"), None, "r".into())
            .await
            .unwrap();
        let err = auth.authenticate(Some("garbage"), None, "r".into()).await;
        assert!(matches!(err, Err(KeystoneError::Invalid(_))));
    }
    assert_eq!(script.validations.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn refused_service_token_is_replaced() {
    let (script, auth) = setup().await;
    auth.authenticate(Some("user-a"), None, "r".into())
        .await
        .unwrap();
    script
        .refused_service_tokens
        .lock()
        .unwrap()
        .insert("svc-1".into());
    auth.authenticate(Some("user-b"), None, "r".into())
        .await
        .unwrap();
    assert_eq!(script.logins.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn service_token_with_role_vouches_for_expired_user_token() {
    let (_, auth) = setup().await;
    let alone = auth
        .authenticate(Some("user-expired"), None, "r".into())
        .await;
    assert!(matches!(alone, Err(KeystoneError::Invalid(_))), "{alone:?}");
    // The refusal just remembered must not block the vouched-for retry.
    let ctx = auth
        .authenticate(Some("user-expired"), Some("service-ok"), "r".into())
        .await
        .unwrap();
    assert_eq!(ctx.user_id.as_deref(), Some("old"));
    assert_eq!(ctx.service_roles, vec!["service"]);
    assert_eq!(ctx.service_user_id.as_deref(), Some("nova"));
    assert_eq!(ctx.service_project_id.as_deref(), Some("nova-project"));
}

#[tokio::test]
async fn service_token_without_role() {
    let (script, url) = fake_keystone().await;
    let strict = KeystoneAuth::new(config(&url)).unwrap();
    let r = strict
        .authenticate(Some("user-ok"), Some("not-a-service"), "r".into())
        .await;
    assert!(matches!(r, Err(KeystoneError::Invalid(_))), "{r:?}");

    let lenient = KeystoneAuth::new(KeystoneConfig {
        service_token_roles_required: false,
        ..config(&url)
    })
    .unwrap();
    let ctx = lenient
        .authenticate(Some("user-ok"), Some("not-a-service"), "r".into())
        .await
        .unwrap();
    assert_eq!(ctx.service_roles, vec!["member"]);
    // Accepted, but it may not vouch for an expired user token.
    let r = lenient
        .authenticate(Some("user-expired"), Some("not-a-service"), "r".into())
        .await;
    assert!(matches!(r, Err(KeystoneError::Invalid(_))), "{r:?}");

    let delayed = KeystoneAuth::new(KeystoneConfig {
        delay_auth_decision: true,
        ..config(&url)
    })
    .unwrap();
    let ctx = delayed
        .authenticate(Some("user-ok"), Some("not-a-service"), "r".into())
        .await
        .unwrap();
    assert!(ctx.service_roles.is_empty());
    assert_eq!(ctx.service_user_id, None);
    drop(script);
}

#[tokio::test]
async fn keystone_errors_are_unavailable_and_recover() {
    let (script, url) = fake_keystone().await;
    let auth = KeystoneAuth::new(config(&url)).unwrap();
    script.failing.store(true, Ordering::SeqCst);
    let r = auth.authenticate(Some("user-ok"), None, "r".into()).await;
    assert!(matches!(r, Err(KeystoneError::Unavailable(_))), "{r:?}");
    assert_eq!(r.unwrap_err().status(), 503);

    let delayed = KeystoneAuth::new(KeystoneConfig {
        delay_auth_decision: true,
        ..config(&url)
    })
    .unwrap();
    let r = delayed
        .authenticate(Some("user-ok"), None, "r".into())
        .await;
    assert!(matches!(r, Err(KeystoneError::Invalid(_))), "{r:?}");

    script.failing.store(false, Ordering::SeqCst);
    auth.authenticate(Some("user-ok"), None, "r".into())
        .await
        .unwrap();
}
