//! The RBD store through the API, against the test bed's Ceph cluster: an image whose
//! snapshot has a copy-on-write clone (as Nova and Cinder make) cannot be deleted (409,
//! upstream's `InUseByStore`), and nothing changes until the clone is gone.
//! Built only with the `rbd` feature (scripts/test runs it with the RBD driver tests).
#![cfg(feature = "rbd")]

mod common;

use std::process::Command;

use axum::http::StatusCode;
use serde_json::json;

/// The cluster from the test bed's environment (required under CI).
fn cluster() -> Option<(String, String, String)> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    match (
        var("GLANCE_TEST_RBD_CONF"),
        var("GLANCE_TEST_RBD_USER"),
        var("GLANCE_TEST_RBD_POOL"),
    ) {
        (Some(conf), Some(user), Some(pool)) => Some((conf, user, pool)),
        _ if std::env::var_os("CI").is_some() => {
            panic!("GLANCE_TEST_RBD_CONF, GLANCE_TEST_RBD_USER and GLANCE_TEST_RBD_POOL must be set under CI")
        }
        _ => {
            eprintln!("note: GLANCE_TEST_RBD_* not set; skipping the rbd API test");
            None
        }
    }
}

/// `rbd` as client.admin (clones are made where Nova would make them, outside the
/// store's own user).
fn rbd(conf: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new("rbd")
        .args(["-c", conf])
        .args(args)
        .output()
        .expect("run rbd");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[tokio::test]
async fn an_image_with_a_clone_is_in_use_until_the_clone_goes() {
    let Some((conf, user, pool)) = cluster() else {
        return;
    };
    let s = common::server_with(&format!(
        "[glance_store]\nstores = rbd\ndefault_store = rbd\nrbd_store_ceph_conf = {conf}\n\
         rbd_store_user = {user}\nrbd_store_pool = {pool}\n"
    ))
    .await;
    let image = s
        .create_image(json!({"name": "cow", "disk_format": "raw", "container_format": "bare"}))
        .await;
    let id = image["id"].as_str().unwrap().to_string();
    let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    let r = s
        .put_data(&format!("/v2/images/{id}/file"), data.clone())
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());

    let clone = format!("rbd/glance-api-test-clone-{id}");
    let (ok, out) = rbd(&conf, &["clone", &format!("{pool}/{id}@snap"), &clone]);
    assert!(ok, "rbd clone: {out}");

    let refused = s.delete(&format!("/v2/images/{id}")).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text());
    assert!(
        refused.text().contains(&format!(
            "Image {id} could not be deleted because it is in use"
        )),
        "{}",
        refused.text()
    );
    assert_eq!(common::show(&s, &id).await["status"], "active");
    let got = s.get(&format!("/v2/images/{id}/file")).await;
    assert!(got.body == data, "the data is still served");
    let (ok, _) = rbd(&conf, &["info", &format!("{pool}/{id}")]);
    assert!(ok, "the RBD image is still there");

    let (ok, out) = rbd(&conf, &["rm", "--no-progress", &clone]);
    assert!(ok, "rbd rm: {out}");
    let deleted = s.delete(&format!("/v2/images/{id}")).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text());
    let (exists, _) = rbd(&conf, &["info", &format!("{pool}/{id}")]);
    assert!(!exists, "the RBD image is removed with the Glance image");
}
