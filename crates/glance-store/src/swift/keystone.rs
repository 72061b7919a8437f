//! Keystone token requests and service-catalog lookups (what upstream gets from
//! keystoneauth / swiftclient): v3 password or application-credential auth scoped
//! to a project, and the older v2.0 `tenantName` + `passwordCredentials` auth.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use super::settings::{Domain, Identity, Reference};

/// Where in the catalog to find the object store.
#[derive(Debug, Clone)]
pub(crate) struct CatalogQuery {
    pub service_type: String,
    /// `public`, `internal` or `admin` (v3 interface names).
    pub interface: &'static str,
    pub region: Option<String>,
}

/// A token answer: when it expires and the object-store URL found in its catalog.
#[derive(Debug)]
pub(crate) struct TokenFacts {
    pub expires: Option<SystemTime>,
    pub storage_url: Option<String>,
}

/// `POST <auth>/auth/tokens` URL for an auth address (`.../v3` or unversioned).
pub(crate) fn v3_tokens_url(auth_url: &str) -> String {
    let base = auth_url.trim_end_matches('/');
    if base.ends_with("/v3") {
        format!("{base}/auth/tokens")
    } else {
        format!("{base}/v3/auth/tokens")
    }
}

/// `POST <auth>/tokens` URL for a v2.0 auth address.
pub(crate) fn v2_tokens_url(auth_url: &str) -> String {
    let base = auth_url.trim_end_matches('/');
    if base.ends_with("/v2.0") {
        format!("{base}/tokens")
    } else {
        format!("{base}/v2.0/tokens")
    }
}

fn domain_json(domain: &Domain) -> Value {
    match domain {
        Domain::Id(id) => json!({ "id": id }),
        Domain::Name(name) => json!({ "name": name }),
    }
}

/// Splits upstream's `project:user` (exactly one colon, as upstream's
/// `location.user.split(':')` unpacking requires).
pub(crate) fn project_and_user(user: &str) -> Option<(&str, &str)> {
    let (project, name) = user.split_once(':')?;
    (!name.contains(':') && !project.is_empty() && !name.is_empty()).then_some((project, name))
}

/// The v3 auth request body; `Err` is why the reference cannot be used for v3.
pub(crate) fn v3_request(reference: &Reference) -> Result<Value, String> {
    match &reference.identity {
        Identity::AppCredential { id, secret } => Ok(json!({
            "auth": { "identity": {
                "methods": ["application_credential"],
                "application_credential": { "id": id, "secret": secret }
            } }
        })),
        Identity::Password { user, key } => {
            let (project, name) = project_and_user(user)
                .ok_or("the user must be written 'project:user' for Keystone auth")?;
            Ok(json!({
                "auth": {
                    "identity": {
                        "methods": ["password"],
                        "password": { "user": {
                            "name": name,
                            "domain": domain_json(&reference.user_domain),
                            "password": key
                        } }
                    },
                    "scope": { "project": {
                        "name": project,
                        "domain": domain_json(&reference.project_domain)
                    } }
                }
            }))
        }
    }
}

/// The v2.0 auth request body.
pub(crate) fn v2_request(reference: &Reference) -> Result<Value, String> {
    match &reference.identity {
        Identity::AppCredential { .. } => {
            Err("application credentials need Keystone v3 (auth_version = 3)".into())
        }
        Identity::Password { user, key } => {
            let (tenant, name) = project_and_user(user)
                .ok_or("the user must be written 'tenant:user' for Keystone auth")?;
            Ok(json!({ "auth": {
                "tenantName": tenant,
                "passwordCredentials": { "username": name, "password": key }
            } }))
        }
    }
}

/// Reads a v3 token body (`{"token": {"expires_at", "catalog"}}`).
pub(crate) fn v3_facts(body: &Value, query: &CatalogQuery) -> TokenFacts {
    let token = &body["token"];
    let storage_url = token["catalog"].as_array().and_then(|services| {
        services
            .iter()
            .filter(|s| s["type"].as_str() == Some(query.service_type.as_str()))
            .flat_map(|s| s["endpoints"].as_array().into_iter().flatten())
            .find(|e| {
                e["interface"].as_str() == Some(query.interface)
                    && region_matches(query, &[&e["region_id"], &e["region"]])
            })
            .and_then(|e| e["url"].as_str().map(str::to_string))
    });
    TokenFacts {
        expires: token["expires_at"].as_str().and_then(parse_utc),
        storage_url,
    }
}

/// Reads a v2.0 token body (`{"access": {"token": {"expires"}, "serviceCatalog"}}`).
pub(crate) fn v2_facts(body: &Value, query: &CatalogQuery) -> (Option<String>, TokenFacts) {
    let access = &body["access"];
    let key = format!("{}URL", query.interface);
    let storage_url = access["serviceCatalog"].as_array().and_then(|services| {
        services
            .iter()
            .filter(|s| s["type"].as_str() == Some(query.service_type.as_str()))
            .flat_map(|s| s["endpoints"].as_array().into_iter().flatten())
            .find(|e| region_matches(query, &[&e["region"]]))
            .and_then(|e| e[key.as_str()].as_str().map(str::to_string))
    });
    let token = access["token"]["id"].as_str().map(str::to_string);
    let facts = TokenFacts {
        expires: access["token"]["expires"].as_str().and_then(parse_utc),
        storage_url,
    };
    (token, facts)
}

fn region_matches(query: &CatalogQuery, fields: &[&Value]) -> bool {
    match &query.region {
        None => true,
        Some(region) => fields.iter().any(|f| f.as_str() == Some(region.as_str())),
    }
}

/// Keystone's UTC timestamps: `2026-11-23T03:41:02.000000Z` (v3) or
/// `2026-11-23T03:41:02Z` (v2), optionally `+00:00`.
pub(crate) fn parse_utc(text: &str) -> Option<SystemTime> {
    let text = text.trim();
    let text = text
        .strip_suffix('Z')
        .or_else(|| text.strip_suffix("+00:00"))
        .unwrap_or(text);
    let (date, time) = text.split_once('T')?;
    let mut d = date.split('-').map(|p| p.parse::<i64>().ok());
    let (year, month, day) = (d.next()??, d.next()??, d.next()??);
    let time = time.split('.').next()?;
    let mut t = time.split(':').map(|p| p.parse::<i64>().ok());
    let (hour, minute, second) = (t.next()??, t.next()??, t.next()??);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    let seconds = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second;
    u64::try_from(seconds)
        .ok()
        .map(|s| UNIX_EPOCH + Duration::from_secs(s))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::swift::settings::AuthVersion;

    fn reference(user: &str) -> Reference {
        Reference {
            auth_address: "http://127.0.0.1:5000/v3".into(),
            identity: Identity::Password {
                user: user.into(),
                key: "pw".into(),
            },
            auth_version: AuthVersion::V3,
            user_domain: Domain::Id("default".into()),
            project_domain: Domain::Name("Default".into()),
        }
    }

    #[test]
    fn v3_request_scopes_the_project() {
        let body = v3_request(&reference("admin:alice")).unwrap();
        let auth = &body["auth"];
        assert_eq!(auth["identity"]["password"]["user"]["name"], "alice");
        assert_eq!(
            auth["identity"]["password"]["user"]["domain"]["id"],
            "default"
        );
        assert_eq!(auth["scope"]["project"]["name"], "admin");
        assert_eq!(auth["scope"]["project"]["domain"]["name"], "Default");
        assert!(v3_request(&reference("alice")).is_err());
        assert!(v3_request(&reference("a:b:c")).is_err());
    }

    #[test]
    fn catalog_lookup_by_type_interface_and_region() {
        let body = json!({"token": {"expires_at": "2026-11-23T03:41:02.000000Z", "catalog": [
            {"type": "identity", "endpoints": [{"interface": "public", "region_id": "R1", "url": "http://k"}]},
            {"type": "object-store", "endpoints": [
                {"interface": "public", "region_id": "R1", "region": "R1", "url": "http://one/v1/AUTH_p"},
                {"interface": "internal", "region_id": "R2", "region": "R2", "url": "http://two-int/v1/AUTH_p"},
                {"interface": "public", "region_id": "R2", "region": "R2", "url": "http://two/v1/AUTH_p"}
            ]}
        ]}});
        let query = |interface, region: Option<&str>| CatalogQuery {
            service_type: "object-store".into(),
            interface,
            region: region.map(str::to_string),
        };
        let url = |q| v3_facts(&body, &q).storage_url;
        assert_eq!(
            url(query("public", None)).as_deref(),
            Some("http://one/v1/AUTH_p")
        );
        assert_eq!(
            url(query("public", Some("R2"))).as_deref(),
            Some("http://two/v1/AUTH_p")
        );
        assert_eq!(
            url(query("internal", None)).as_deref(),
            Some("http://two-int/v1/AUTH_p")
        );
        assert_eq!(url(query("admin", None)), None);
        let expires = v3_facts(&body, &query("public", None)).expires.unwrap();
        assert_eq!(
            expires.duration_since(UNIX_EPOCH).unwrap().as_secs(),
            1_795_405_262
        );
    }

    #[test]
    fn v2_catalog_and_urls() {
        let body = json!({"access": {"token": {"id": "t", "expires": "2026-11-23T03:41:02Z"},
            "serviceCatalog": [{"type": "object-store", "endpoints": [
                {"region": "R1", "publicURL": "http://pub", "internalURL": "http://int"}]}]}});
        let q = CatalogQuery {
            service_type: "object-store".into(),
            interface: "internal",
            region: Some("R1".into()),
        };
        let (token, facts) = v2_facts(&body, &q);
        assert_eq!(token.as_deref(), Some("t"));
        assert_eq!(facts.storage_url.as_deref(), Some("http://int"));
        assert_eq!(
            v2_tokens_url("http://k:5000/v2.0/"),
            "http://k:5000/v2.0/tokens"
        );
        assert_eq!(
            v3_tokens_url("http://k:5000/v3/"),
            "http://k:5000/v3/auth/tokens"
        );
        assert_eq!(
            v3_tokens_url("http://k:5000"),
            "http://k:5000/v3/auth/tokens"
        );
    }
}
