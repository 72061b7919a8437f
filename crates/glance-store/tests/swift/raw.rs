//! Swift seen directly, not through the driver: v1 login, plain requests, listings.

use bytes::Bytes;
use glance_store::remote::{full_body, read_small_body, HttpClient, TlsOptions};
use hyper::header::HeaderMap;
use hyper::{Method, Request, StatusCode};

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
}

#[derive(Clone)]
pub struct RawSwift {
    http: HttpClient,
    pub storage_url: String,
    pub token: String,
}

pub fn client() -> HttpClient {
    HttpClient::new(
        &TlsOptions::default(),
        None,
        std::time::Duration::from_secs(120),
    )
    .expect("http client")
}

impl RawSwift {
    /// tempauth / v1 login.
    pub async fn login(auth_url: &str, user: &str, key: &str) -> RawSwift {
        let http = client();
        let request = Request::builder()
            .uri(auth_url)
            .header("X-Auth-User", user)
            .header("X-Auth-Key", key)
            .body(full_body(Bytes::new()))
            .unwrap();
        let response = http.send(request).await.expect("swift auth answers");
        assert!(
            response.status().is_success(),
            "swift login: {}",
            response.status()
        );
        let get = |n: &str| response.headers()[n].to_str().unwrap().to_string();
        let (storage_url, token) = (get("x-storage-url"), get("x-auth-token"));
        RawSwift {
            http,
            storage_url,
            token,
        }
    }

    pub fn with(storage_url: &str, token: &str) -> RawSwift {
        RawSwift {
            http: client(),
            storage_url: storage_url.to_string(),
            token: token.to_string(),
        }
    }

    /// `path` follows the storage URL (`/container/object?query`).
    pub async fn req(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Bytes,
    ) -> Answer {
        let mut builder = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.storage_url))
            .header("X-Auth-Token", &self.token)
            .header("Content-Length", body.len().to_string());
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let response = self
            .http
            .send(builder.body(full_body(body)).unwrap())
            .await
            .expect("swift answers");
        let (status, headers) = (response.status(), response.headers().clone());
        let body = read_small_body(response, 64 << 20).await.expect("body");
        Answer {
            status,
            headers,
            body,
        }
    }

    pub async fn put(&self, path: &str, headers: &[(&str, &str)], body: Bytes) {
        let answer = self.req(Method::PUT, path, headers, body).await;
        assert!(answer.status.is_success(), "PUT {path}: {}", answer.status);
    }

    pub async fn head(&self, path: &str) -> Answer {
        self.req(Method::HEAD, path, &[], Bytes::new()).await
    }

    /// Every object name in `container` (empty when it does not exist), sorted.
    pub async fn list(&self, container: &str) -> Vec<String> {
        self.names(&format!("/{container}"), "").await
    }

    /// The containers of the account whose names start with `prefix`.
    pub async fn containers(&self, prefix: &str) -> Vec<String> {
        self.names("", prefix).await
    }

    async fn names(&self, path: &str, prefix: &str) -> Vec<String> {
        let mut names = Vec::new();
        loop {
            let marker = names.last().cloned().unwrap_or_default();
            let query = format!("{path}?format=json&prefix={prefix}&marker={marker}");
            let answer = self.req(Method::GET, &query, &[], Bytes::new()).await;
            if answer.status == StatusCode::NOT_FOUND {
                return names;
            }
            assert!(
                answer.status.is_success(),
                "listing {path}: {}",
                answer.status
            );
            let page: Vec<serde_json::Value> = if answer.body.is_empty() {
                Vec::new()
            } else {
                serde_json::from_slice(&answer.body).unwrap()
            };
            if page.is_empty() {
                names.sort();
                return names;
            }
            names.extend(page.iter().map(|e| e["name"].as_str().unwrap().to_string()));
        }
    }

    /// Removes a container with everything in it.
    pub async fn remove_container(&self, container: &str) {
        for name in self.list(container).await {
            self.req(
                Method::DELETE,
                &format!("/{container}/{name}"),
                &[],
                Bytes::new(),
            )
            .await;
        }
        self.req(Method::DELETE, &format!("/{container}"), &[], Bytes::new())
            .await;
    }
}
