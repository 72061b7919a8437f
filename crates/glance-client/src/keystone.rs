//! Keystone v3 password authentication: a token and the image endpoint of the catalog.

use hyper::Method;
use serde_json::{json, Value};

use crate::error::{ClientError, ClientResult};
use crate::transport::{RequestBody, Transport};

/// What `POST /v3/auth/tokens` needs for a project-scoped password token.
#[derive(Debug, Clone)]
pub struct PasswordAuth {
    /// Keystone's root or its `/v3` URL.
    pub auth_url: String,
    pub username: String,
    pub password: String,
    pub project_name: String,
    pub user_domain: String,
    pub project_domain: String,
    /// Which catalog endpoint to use (`public` unless said otherwise).
    pub interface: String,
    pub region: Option<String>,
}

impl PasswordAuth {
    /// The token and, when the catalog has one, the image endpoint.
    pub async fn authenticate(&self) -> ClientResult<(String, Option<String>)> {
        let root = self.auth_url.trim_end_matches('/').trim_end_matches("/v3");
        let transport = Transport::new(root)?;
        let body = json!({"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": self.username,
                "domain": {"name": self.user_domain},
                "password": self.password,
            }}},
            "scope": {"project": {"name": self.project_name, "domain": {"name": self.project_domain}}},
        }});
        let answer = transport
            .call(
                Method::POST,
                "/v3/auth/tokens",
                &[("content-type", "application/json".to_string())],
                RequestBody::json(&body),
            )
            .await?;
        let token = answer
            .header("x-subject-token")
            .map(str::to_string)
            .ok_or_else(|| ClientError::Protocol("Keystone sent no X-Subject-Token".into()))?;
        let document = answer.json().await?;
        Ok((token, self.image_endpoint(&document)))
    }

    fn image_endpoint(&self, document: &Value) -> Option<String> {
        let catalog = document["token"]["catalog"].as_array()?;
        let service = catalog.iter().find(|s| s["type"] == "image")?;
        service["endpoints"].as_array()?.iter().find_map(|e| {
            let region_ok = self
                .region
                .as_deref()
                .is_none_or(|r| e["region_id"] == r || e["region"] == r);
            (e["interface"] == self.interface.as_str() && region_ok)
                .then(|| e["url"].as_str().map(str::to_string))
                .flatten()
        })
    }
}
