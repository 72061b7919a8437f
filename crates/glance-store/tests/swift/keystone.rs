//! Keystone v3: password auth scoped to a project, the object-store endpoint found in
//! the token's catalog by service type, region and interface, `swift_store_endpoint`
//! overriding the catalog, and multi-tenant storage with a caller's Keystone token.
//! Needs a Swift running with Keystone auth and its endpoint in the catalog:
//!
//! * `GLANCE_TEST_SWIFT_V3_AUTH_URL` (http://127.0.0.1:15000/v3)
//! * `GLANCE_TEST_SWIFT_V3_USER` (`project:user`, e.g. demo:demo), `GLANCE_TEST_SWIFT_V3_KEY`
//! * `GLANCE_TEST_SWIFT_V3_REGION`: the region of the object-store endpoint
//! * `GLANCE_TEST_SWIFT_V3_SWIFT_URL` (http://127.0.0.1:18180): the test's own view of
//!   that Swift (storage URL `<it>/v1/AUTH_<project id>`), independent of the catalog.

use bytes::Bytes;
use glance_store::behaviour::{self, test_id};
use glance_store::remote::{full_body, read_small_body};
use glance_store::{Store, StoreCaller, StoreError};
use hyper::Request;

use super::raw::{client, RawSwift};
use super::{open, options, unique, upload, vars, SwiftBackend};

struct V3 {
    auth_url: String,
    user: String,
    key: String,
    region: String,
    swift_url: String,
}

fn v3_env() -> Option<V3> {
    let [auth_url, user, key, region, swift_url] = vars([
        "GLANCE_TEST_SWIFT_V3_AUTH_URL",
        "GLANCE_TEST_SWIFT_V3_USER",
        "GLANCE_TEST_SWIFT_V3_KEY",
        "GLANCE_TEST_SWIFT_V3_REGION",
        "GLANCE_TEST_SWIFT_V3_SWIFT_URL",
    ])?;
    Some(V3 {
        auth_url,
        user,
        key,
        region,
        swift_url,
    })
}

/// A project-scoped token and the project's id, straight from Keystone.
async fn keystone_token(v3: &V3) -> (String, String) {
    let (project, user) = v3.user.split_once(':').unwrap();
    let body = serde_json::json!({"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": user, "domain": {"id": "default"}, "password": v3.key}}},
        "scope": {"project": {"name": project, "domain": {"id": "default"}}}}});
    let request = Request::post(format!("{}/auth/tokens", v3.auth_url.trim_end_matches('/')))
        .header("Content-Type", "application/json")
        .body(full_body(Bytes::from(body.to_string())))
        .unwrap();
    let response = client().send(request).await.expect("keystone answers");
    assert_eq!(response.status(), 201, "keystone token");
    let token = response.headers()["x-subject-token"]
        .to_str()
        .unwrap()
        .to_string();
    let body = read_small_body(response, 1 << 20).await.unwrap();
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
    (
        token,
        body["token"]["project"]["id"].as_str().unwrap().to_string(),
    )
}

fn config_store(
    v3: &V3,
    dir: &std::path::Path,
    container: &str,
    key: &str,
) -> glance_store::StoreOptions {
    let conf = dir.join(format!("glance-swift-{key}.conf"));
    std::fs::write(
        &conf,
        format!(
            "[DEFAULT]\nuser_domain_id = default\n\n[ref1]\nuser = {}\nkey = {key}\n\
             auth_version = 3\nproject_domain_name = Default\nauth_address = {}\n",
            v3.user, v3.auth_url
        ),
    )
    .unwrap();
    options()
        .with("swift_store_config_file", conf.display().to_string())
        .with("swift_store_container", container)
        .with("swift_store_create_container_on_put", "true")
        .with("swift_store_region", &v3.region)
        .with("swift_store_endpoint_type", "internalURL")
}

#[tokio::test]
async fn keystone_v3_behaviour_suite_and_catalog_lookup() {
    let Some(v3) = v3_env() else { return };
    let (token, project_id) = keystone_token(&v3).await;
    let storage_url = format!(
        "{}/v1/AUTH_{project_id}",
        v3.swift_url.trim_end_matches('/')
    );
    let raw = RawSwift::with(&storage_url, &token);
    let dir = tempfile::tempdir().unwrap();
    let container = unique("gt-v3");
    let b = SwiftBackend {
        store: open(config_store(&v3, dir.path(), &container, &v3.key)),
        raw: raw.clone(),
        container: container.clone(),
        multi_tenant: false,
        caller: StoreCaller::service(),
    };
    behaviour::run_all(&b).await;
    let id = test_id(1000);
    let location = upload(&b.store, &b.caller, &id, b"v3", None).await;
    assert_eq!(location, format!("swift+config://ref1/{container}/{id}"));
    assert_eq!(
        raw.list(&container).await,
        vec![id.clone()],
        "in the project's account"
    );

    // No endpoint in the catalog for that region: a clear error...
    let nowhere = open(
        config_store(&v3, dir.path(), &container, &v3.key)
            .with("swift_store_region", "NoSuchRegion"),
    );
    let err = nowhere
        .size(&location, &b.caller)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("object-store") && err.contains("NoSuchRegion"),
        "{err}"
    );
    // ...unless swift_store_endpoint says where Swift is.
    let pinned = open(
        config_store(&v3, dir.path(), &container, &v3.key)
            .with("swift_store_region", "NoSuchRegion")
            .with("swift_store_endpoint", &storage_url),
    );
    assert_eq!(pinned.size(&location, &b.caller).await.unwrap(), 2);

    // A wrong password is refused without being shown.
    let secret = "wrong-Pa55word-v3";
    let refused = open(config_store(&v3, dir.path(), &container, secret));
    let err = refused.size(&location, &b.caller).await.unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(text.contains("401") && !text.contains(secret), "{text}");

    b.store.delete(&location, &b.caller).await.unwrap();
    raw.remove_container(&container).await;
}

#[tokio::test]
async fn keystone_v3_multi_tenant_with_the_callers_token() {
    let Some(v3) = v3_env() else { return };
    let (token, project_id) = keystone_token(&v3).await;
    let storage_url = format!(
        "{}/v1/AUTH_{project_id}",
        v3.swift_url.trim_end_matches('/')
    );
    let raw = RawSwift::with(&storage_url, &token);
    let prefix = unique("gt-v3mt");
    let store = open(
        options()
            .with("swift_store_multi_tenant", "true")
            .with("swift_store_container", &prefix)
            .with("swift_store_create_container_on_put", "true")
            .with("swift_store_admin_tenants", "f0e1d2c3b4a5"),
    );
    let caller = StoreCaller {
        auth_token: Some(token.clone()),
        project_id: Some(project_id.clone()),
        object_store_url: Some(storage_url.clone()),
    };
    let id = test_id(1100);
    let location = upload(&store, &caller, &id, b"in my own account", Some(17)).await;
    let bare = storage_url.trim_start_matches("http://");
    assert_eq!(location, format!("swift+http://{bare}/{prefix}_{id}/{id}"));
    assert_eq!(raw.list(&format!("{prefix}_{id}")).await, vec![id.clone()]);
    let head = raw.head(&format!("/{prefix}_{id}")).await;
    assert_eq!(
        head.header("x-container-write").as_deref(),
        Some("f0e1d2c3b4a5:*")
    );
    let reader = store.open(&location, None, &caller).await.unwrap();
    assert_eq!(behaviour::read_all(reader).await, b"in my own account");
    store.delete(&location, &caller).await.unwrap();
    assert_eq!(raw.head(&format!("/{prefix}_{id}")).await.status, 404);
    assert!(matches!(
        store.delete(&location, &caller).await,
        Err(StoreError::NotFound(_))
    ));
}
