//! Shared by the Keystone test files: where the test-bed Keystone is, the glance
//! service user's settings, and logging users in with plain HTTP.
#![allow(dead_code)]

use bytes::Bytes;
use glance_auth::keystone::{KeystoneAuth, KeystoneConfig, KeystoneError};
use glance_auth::RequestContext;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};

pub const PASSWORD: &str = "password";

pub fn keystone_url() -> Option<String> {
    match std::env::var("GLANCE_TEST_KEYSTONE_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url.trim().trim_end_matches('/').to_string()),
        _ if std::env::var_os("CI").is_some() => {
            panic!("GLANCE_TEST_KEYSTONE_URL is not set, and CI requires the Keystone tests")
        }
        _ => {
            // Written past libtest's capture so it shows without --nocapture.
            use std::io::Write as _;
            let _ = writeln!(
                std::io::stderr(),
                "\n***** SKIPPED: no Keystone (set GLANCE_TEST_KEYSTONE_URL, e.g. \
                 http://127.0.0.1:15000) *****"
            );
            None
        }
    }
}

#[macro_export]
macro_rules! keystone_or_skip {
    () => {
        match keystone_url() {
            Some(url) => url,
            None => return,
        }
    };
}

/// `[keystone_authtoken]` of the test bed: the glance service user.
pub fn config(auth_url: &str, www: &str) -> KeystoneConfig {
    KeystoneConfig {
        www_authenticate_uri: Some(www.to_string()),
        auth_url: Some(auth_url.to_string()),
        auth_type: Some("password".into()),
        username: Some("glance".into()),
        password: Some(PASSWORD.into()),
        project_name: Some("service".into()),
        project_domain_name: Some("Default".into()),
        user_domain_name: Some("Default".into()),
        http_connect_timeout: Some(10),
        http_request_max_retries: 0,
        ..Default::default()
    }
}

pub fn auth(url: &str) -> KeystoneAuth {
    KeystoneAuth::new(config(url, url)).unwrap()
}

/// A validator on `auth_url` with one setting changed.
pub fn auth_with(
    auth_url: &str,
    www: &str,
    change: impl FnOnce(&mut KeystoneConfig),
) -> KeystoneAuth {
    let mut config = config(auth_url, www);
    change(&mut config);
    KeystoneAuth::new(config).unwrap()
}

pub async fn accept(auth: &KeystoneAuth, token: &str, service: Option<&str>) -> RequestContext {
    let result = auth
        .authenticate(Some(token), service, "req-1".into())
        .await;
    result.unwrap_or_else(|e| panic!("refused: {e}"))
}

pub async fn refuse(auth: &KeystoneAuth, token: &str, service: Option<&str>) -> KeystoneError {
    let result = auth
        .authenticate(Some(token), service, "req-1".into())
        .await;
    result.expect_err("accepted")
}

pub fn assert_roles(roles: &[String], wanted: &[&str]) {
    for role in wanted {
        assert!(roles.iter().any(|r| r == role), "{role} not in {roles:?}");
    }
}

pub struct Answer {
    pub status: u16,
    pub subject_token: Option<String>,
    pub body: Value,
}

pub async fn call(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> Answer {
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let mut req = Request::builder().method(method).uri(url);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let body = match body {
        Some(v) => {
            req = req.header("content-type", "application/json");
            Bytes::from(v.to_string())
        }
        None => Bytes::new(),
    };
    let response = client
        .request(req.body(Full::new(body)).unwrap())
        .await
        .unwrap();
    let status = response.status().as_u16();
    let subject_token = response
        .headers()
        .get("x-subject-token")
        .map(|v| v.to_str().unwrap().to_string());
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        subject_token,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    }
}

pub enum Scope<'a> {
    Project(&'a str),
    Domain(&'a str),
    System,
    Unscoped,
}

pub struct Issued {
    pub token: String,
    pub user_id: String,
    pub project_id: Option<String>,
}

/// Logs `user` in with a plain `POST /v3/auth/tokens`.
pub async fn issue(url: &str, user: &str, scope: Scope<'_>) -> Issued {
    let mut auth = json!({"identity": {"methods": ["password"], "password": {"user": {
        "name": user, "password": PASSWORD, "domain": {"name": "Default"}}}}});
    let scope = match scope {
        Scope::Project(p) => Some(json!({"project": {"name": p, "domain": {"name": "Default"}}})),
        Scope::Domain(d) => Some(json!({"domain": {"id": d}})),
        Scope::System => Some(json!({"system": {"all": true}})),
        Scope::Unscoped => None,
    };
    if let Some(scope) = scope {
        auth["scope"] = scope;
    }
    let answer = call(
        "POST",
        &format!("{url}/v3/auth/tokens?nocatalog"),
        &[],
        Some(json!({ "auth": auth })),
    )
    .await;
    assert_eq!(answer.status, 201, "login of {user}: {}", answer.body);
    let token = &answer.body["token"];
    Issued {
        token: answer.subject_token.unwrap(),
        user_id: token["user"]["id"].as_str().unwrap().to_string(),
        project_id: token["project"]["id"].as_str().map(str::to_string),
    }
}

pub async fn revoke(url: &str, token: &str) {
    let headers = [("x-auth-token", token), ("x-subject-token", token)];
    let answer = call("DELETE", &format!("{url}/v3/auth/tokens"), &headers, None).await;
    assert_eq!(answer.status, 204, "{}", answer.body);
}

pub fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}
