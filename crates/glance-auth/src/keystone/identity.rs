//! The calls made to Keystone: log the service user in, validate a token.

use std::time::{Duration, Instant};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use http_body_util::{BodyExt, Full, Limited};
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Method, Request};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use super::config::{KeystoneConfig, KeystoneConfigError};
use super::token::{parse_token_body, TokenInfo};
use super::KeystoneError;

/// Token bodies without the catalog are a few KiB; anything far larger is not
/// a Keystone answer we want in memory.
const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// The first pause before retrying a failed connection; it doubles each time
/// (as keystoneauth does), capped so a retry never waits long.
const FIRST_RETRY_DELAY: Duration = Duration::from_millis(500);
const MAX_RETRY_DELAY: Duration = Duration::from_secs(4);

pub(crate) struct Response {
    pub status: u16,
    pub subject_token: Option<String>,
    pub body: Bytes,
}

/// One Keystone endpoint (http or https), with pooled connections.
pub(crate) struct IdentityClient {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    v3_url: String,
    timeout: Duration,
    max_retries: u32,
}

impl IdentityClient {
    pub fn new(config: &KeystoneConfig) -> Result<Self, KeystoneConfigError> {
        let timeout = config.http_timeout();
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(timeout));
        connector.set_nodelay(true);
        // Let the TLS layer see https:// URLs (the plain connector refuses them).
        connector.enforce_http(false);
        if config.insecure {
            tracing::warn!(
                "[keystone_authtoken] insecure = true: Keystone's certificate is not verified"
            );
        }
        let tls =
            glance_store::remote::tls_client_config(config.cafile.as_deref(), config.insecure)
                .map_err(|message| KeystoneConfigError {
                    option: "cafile",
                    message,
                })?;
        let connector = HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(connector);
        let client = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(connector);
        Ok(IdentityClient {
            client,
            v3_url: config.identity_v3_url(),
            timeout,
            max_retries: config.http_request_max_retries,
        })
    }

    /// Sends one request, retrying connection failures and timeouts. An `Err`
    /// means no HTTP answer was obtained; its text names the cause.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&'static str, &str)],
        body: Option<Bytes>,
    ) -> Result<Response, String> {
        let url = format!("{}{}", self.v3_url, path);
        let mut delay = FIRST_RETRY_DELAY;
        let mut attempt = 0;
        loop {
            let request = build_request(&method, &url, headers, body.clone())?;
            let result = tokio::time::timeout(self.timeout, self.exchange(request)).await;
            let failure = match result {
                Ok(Ok(response)) => return Ok(response),
                Ok(Err(e)) => e,
                Err(_) => format!("no answer from {url} within {:?}", self.timeout),
            };
            if attempt >= self.max_retries {
                return Err(failure);
            }
            attempt += 1;
            tracing::info!(%failure, attempt, "retrying the Keystone request in {delay:?}");
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(MAX_RETRY_DELAY);
        }
    }

    async fn exchange(&self, request: Request<Full<Bytes>>) -> Result<Response, String> {
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| describe_client_error(&e))?;
        let status = response.status().as_u16();
        let subject_token = response
            .headers()
            .get("x-subject-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = Limited::new(response.into_body(), MAX_RESPONSE_BYTES)
            .collect()
            .await
            .map_err(|e| format!("reading Keystone's answer failed: {e}"))?
            .to_bytes();
        Ok(Response {
            status,
            subject_token,
            body,
        })
    }
}

fn build_request(
    method: &Method,
    url: &str,
    headers: &[(&'static str, &str)],
    body: Option<Bytes>,
) -> Result<Request<Full<Bytes>>, String> {
    let mut builder = Request::builder()
        .method(method.clone())
        .uri(url)
        .header("accept", "application/json")
        .header("user-agent", "glance-rs-keystone-auth");
    for (name, value) in headers {
        // Values were checked to be visible ASCII before; this guards the rest.
        let value = HeaderValue::from_str(value).map_err(|_| format!("bad {name} value"))?;
        builder = builder.header(*name, value);
    }
    if body.is_some() {
        builder = builder.header(CONTENT_TYPE, "application/json");
    }
    builder
        .body(Full::new(body.unwrap_or_default()))
        .map_err(|e| format!("cannot build a request to {url}: {e}"))
}

fn describe_client_error(e: &hyper_util::client::legacy::Error) -> String {
    use std::error::Error as _;
    let mut text = if e.is_connect() {
        "cannot connect to Keystone".to_string()
    } else {
        "request to Keystone failed".to_string()
    };
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// What asking Keystone about one token gave.
pub(crate) enum Validation {
    Valid(TokenInfo),
    /// Keystone says no (or its answer is unusable as a token).
    Invalid(String),
    /// Our own service token was refused: get a new one and ask again.
    ServiceTokenRefused,
}

impl IdentityClient {
    /// `GET /v3/auth/tokens` for `subject`, authenticated with `service_token`.
    /// The catalog is not requested: nothing here uses it and it is most of the
    /// body. Errors are `Unavailable`.
    pub async fn validate(
        &self,
        service_token: &str,
        subject: &str,
        allow_expired: bool,
    ) -> Result<Validation, KeystoneError> {
        let path = if allow_expired {
            "/auth/tokens?nocatalog&allow_expired=1"
        } else {
            "/auth/tokens?nocatalog"
        };
        let headers = [
            ("x-auth-token", service_token),
            ("x-subject-token", subject),
        ];
        let response = self
            .send(Method::GET, path, &headers, None)
            .await
            .map_err(KeystoneError::Unavailable)?;
        match response.status {
            200 => Ok(match parse_token_body(&response.body) {
                Ok(info) => Validation::Valid(info),
                Err(why) => Validation::Invalid(why),
            }),
            404 => Ok(Validation::Invalid(
                "Keystone does not know the token".into(),
            )),
            // A token Keystone cannot even parse as a request.
            400 => Ok(Validation::Invalid(
                "Keystone refused to read the token".into(),
            )),
            401 => Ok(Validation::ServiceTokenRefused),
            other => Err(KeystoneError::Unavailable(format!(
                "Keystone answered {other} to a token validation"
            ))),
        }
    }

    /// `POST /v3/auth/tokens` with the service user's password, scoped to its project.
    pub async fn issue_service_token(&self, body: &Bytes) -> Result<ServiceToken, KeystoneError> {
        let asked_at = Utc::now();
        let response = self
            .send(
                Method::POST,
                "/auth/tokens?nocatalog",
                &[],
                Some(body.clone()),
            )
            .await
            .map_err(KeystoneError::Unavailable)?;
        if response.status != 201 && response.status != 200 {
            return Err(KeystoneError::Unavailable(format!(
                "Keystone answered {} when the service user logged in{}",
                response.status,
                if response.status == 401 {
                    " (check [keystone_authtoken] username, password and project)"
                } else {
                    ""
                }
            )));
        }
        let token = response.subject_token.ok_or_else(|| {
            KeystoneError::Unavailable("Keystone issued no X-Subject-Token".into())
        })?;
        let info = parse_token_body(&response.body).map_err(KeystoneError::Unavailable)?;
        Ok(ServiceToken::new(token, info.expires_at, asked_at))
    }
}

/// The token this service presents when it asks Keystone about other tokens.
#[derive(Clone)]
pub(crate) struct ServiceToken {
    pub token: String,
    /// When to get a new one: shortly before it expires.
    refresh_at: DateTime<Utc>,
}

impl ServiceToken {
    /// Refreshes two minutes before expiry, or halfway through a lifetime
    /// shorter than four minutes, so a validation never carries a token that
    /// expires on the way.
    fn new(token: String, expires_at: DateTime<Utc>, issued_at: DateTime<Utc>) -> Self {
        let lifetime = expires_at - issued_at;
        let margin = chrono::Duration::seconds(120).min(lifetime / 2);
        ServiceToken {
            token,
            refresh_at: expires_at - margin,
        }
    }

    fn fresh(&self, now: DateTime<Utc>) -> bool {
        now < self.refresh_at
    }
}

/// The service token, fetched by one request at a time: callers that arrive
/// while a login is under way wait for it and share its outcome.
pub(crate) struct ServiceAuth {
    login_body: Bytes,
    state: tokio::sync::Mutex<ServiceState>,
}

#[derive(Default)]
struct ServiceState {
    current: Option<ServiceToken>,
    last_failure: Option<(Instant, KeystoneError)>,
}

impl ServiceAuth {
    pub fn new(config: &KeystoneConfig) -> Self {
        ServiceAuth {
            login_body: Bytes::from(login_body(config).to_string()),
            state: tokio::sync::Mutex::new(ServiceState::default()),
        }
    }

    pub async fn token(&self, client: &IdentityClient) -> Result<String, KeystoneError> {
        let arrived = Instant::now();
        let mut state = self.state.lock().await;
        if let Some(current) = &state.current {
            if current.fresh(Utc::now()) {
                return Ok(current.token.clone());
            }
        }
        // A login that failed while we queued answers us too: otherwise, with
        // Keystone down, each queued request would wait out its own timeout in
        // turn. Later requests try again, so recovery needs no restart.
        if let Some((when, error)) = &state.last_failure {
            if *when >= arrived {
                return Err(error.clone());
            }
        }
        match client.issue_service_token(&self.login_body).await {
            Ok(token) => {
                tracing::debug!("obtained a new Keystone service token");
                let value = token.token.clone();
                state.current = Some(token);
                state.last_failure = None;
                Ok(value)
            }
            Err(error) => {
                tracing::error!(%error, "cannot obtain a Keystone service token");
                state.current = None;
                state.last_failure = Some((Instant::now(), error.clone()));
                Err(error)
            }
        }
    }

    /// Drops `refused` so the next caller logs in again; a newer token that a
    /// concurrent caller already obtained is kept.
    pub async fn forget(&self, refused: &str) {
        let mut state = self.state.lock().await;
        if state.current.as_ref().is_some_and(|t| t.token == refused) {
            state.current = None;
        }
    }
}

/// The password-method login scoped to the service project.
fn login_body(config: &KeystoneConfig) -> serde_json::Value {
    use serde_json::{json, Map, Value};
    // An id wins over a name, as in keystoneauth.
    fn reference(id: &Option<String>, name: &Option<String>) -> Value {
        match (id.as_deref().filter(|v| !v.is_empty()), name) {
            (Some(id), _) => json!({ "id": id }),
            (None, Some(name)) => json!({ "name": name }),
            (None, None) => json!({}),
        }
    }
    let mut user = Map::new();
    user.insert(
        "name".into(),
        json!(config.username.clone().unwrap_or_default()),
    );
    user.insert(
        "password".into(),
        json!(config.password.clone().unwrap_or_default()),
    );
    user.insert(
        "domain".into(),
        reference(&config.user_domain_id, &config.user_domain_name),
    );
    let project = match config.project_id.as_deref().filter(|v| !v.is_empty()) {
        Some(id) => json!({ "id": id }),
        None => json!({
            "name": config.project_name.clone().unwrap_or_default(),
            "domain": reference(&config.project_domain_id, &config.project_domain_name),
        }),
    };
    json!({"auth": {
        "identity": {"methods": ["password"], "password": {"user": user}},
        "scope": {"project": project},
    }})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_body_uses_names_or_ids() {
        let config = KeystoneConfig {
            username: Some("glance".into()),
            password: Some("pw".into()),
            user_domain_name: Some("Default".into()),
            project_name: Some("service".into()),
            project_domain_id: Some("default".into()),
            project_domain_name: Some("ignored when an id is set".into()),
            ..Default::default()
        };
        let body = login_body(&config);
        let user = &body["auth"]["identity"]["password"]["user"];
        assert_eq!(user["name"], "glance");
        assert_eq!(user["password"], "pw");
        assert_eq!(user["domain"], serde_json::json!({"name": "Default"}));
        assert_eq!(
            body["auth"]["identity"]["methods"],
            serde_json::json!(["password"])
        );
        let project = &body["auth"]["scope"]["project"];
        assert_eq!(project["name"], "service");
        assert_eq!(project["domain"], serde_json::json!({"id": "default"}));

        let by_id = KeystoneConfig {
            project_id: Some("p-id".into()),
            ..config
        };
        let body = login_body(&by_id);
        assert_eq!(
            body["auth"]["scope"]["project"],
            serde_json::json!({"id": "p-id"})
        );
    }

    #[test]
    fn service_token_refreshes_before_expiry() {
        let issued = Utc::now();
        let long = ServiceToken::new("t".into(), issued + chrono::Duration::hours(1), issued);
        assert!(long.fresh(issued + chrono::Duration::minutes(57)));
        assert!(!long.fresh(issued + chrono::Duration::minutes(58)));
        // A 60 s token is renewed after 30 s, not immediately.
        let short = ServiceToken::new("t".into(), issued + chrono::Duration::seconds(60), issued);
        assert!(short.fresh(issued + chrono::Duration::seconds(29)));
        assert!(!short.fresh(issued + chrono::Duration::seconds(30)));
    }
}
