//! The policy engine through the real router (spec: store-and-config §9 defaults,
//! image-api-v2 §2.5 403 vs 404): upstream's default rules with several projects,
//! operator overrides from `policy.yaml` / `policy.json` / `policy_dirs`, and
//! policy files that must stop the service at startup.
mod common;

use std::path::Path;

use axum::http::{Method, StatusCode};
use common::{assert_error, Caller, TestResponse, TestServer, TRUSTED};
use serde_json::{json, Value};

const PATCH_TYPE: &str = "application/openstack-images-v2.1-json-patch";
/// WebOb's text for a 404 raised without an explanation (upstream's policy hiding).
const HIDDEN: &str = "The resource could not be found.";

const NF: StatusCode = StatusCode::NOT_FOUND;

fn denied(rule: &str) -> String {
    format!("You are not authorized to complete {rule} action.")
}

/// Asserts a 403 from the policy rule `rule`.
fn refused(r: &TestResponse, rule: &str) {
    assert_error(r, StatusCode::FORBIDDEN, &denied(rule));
}

async fn patch(c: &Caller<'_>, id: &str, ops: Value) -> TestResponse {
    let body = Some(ops.to_string().into_bytes());
    c.send(Method::PATCH, &format!("/v2/images/{id}"), body, PATCH_TYPE)
        .await
}

fn rename(name: &str) -> Value {
    json!([{"op": "replace", "path": "/name", "value": name}])
}

fn raw(name: &str, visibility: &str) -> Value {
    json!({"name": name, "disk_format": "raw", "container_format": "bare", "visibility": visibility})
}

/// The image as an admin of another project sees it (what is stored).
async fn stored(s: &TestServer, id: &str) -> Value {
    let r = Caller::new(s, "ops", "admin,member,reader")
        .get(&format!("/v2/images/{id}"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()
}

/// Names of every image in the cloud, as an admin lists them.
async fn all_names(s: &TestServer) -> Vec<String> {
    let r = Caller::new(s, "ops", "admin,member,reader")
        .get("/v2/images?visibility=all")
        .await;
    common::names(&r)
}

/// Writes `text` as `dir/name` and returns its absolute path.
fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// A trusted-auth server whose `[oslo_policy] policy_file` holds `text`.
async fn with_policy_file(name: &str, text: &str) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), name, text);
    common::server_with(&format!("{TRUSTED}[oslo_policy]\npolicy_file = {path}\n")).await
}

/// The startup error (with its whole anyhow chain) for this configuration.
async fn startup_error(ini: &str) -> String {
    let data = tempfile::tempdir().unwrap();
    let mut settings = glance_config::load_from_str(ini).expect("config parses");
    settings.data_dir = data.path().to_path_buf();
    match glance_server::build_state(settings).await {
        Ok(_) => panic!("the server started with:\n{ini}"),
        Err(e) => format!("{e:#}"),
    }
}

#[tokio::test]
async fn a_reader_of_the_owner_sees_but_may_not_change() {
    let s = common::server_with(TRUSTED).await;
    let owner = Caller::new(&s, "p1", "member,reader");
    let reader = Caller::new(&s, "p1", "reader");
    let id = owner.create(raw("img", "private")).await;
    owner.upload(&id, b"data").await;
    let queued = owner.create(raw("q", "private")).await;
    let uri = format!("/v2/images/{id}");

    let r = reader.get(&uri).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["name"], "img");
    assert_eq!(common::names(&reader.get("/v2/images").await).len(), 2);
    let r = patch(&reader, &id, rename("changed")).await;
    refused(&r, "modify_image");
    let r = reader.delete(&uri).await;
    refused(&r, "delete_image");
    let r = reader.post(&format!("{uri}/actions/deactivate")).await;
    refused(&r, "deactivate");
    let (uri_q, data) = (format!("/v2/images/{queued}/file"), Some(b"abc".to_vec()));
    let r = reader
        .send(Method::PUT, &uri_q, data, "application/octet-stream")
        .await;
    refused(&r, "upload_image");
    // download_image needs role:member, even in the owning project.
    let r = reader.get(&format!("{uri}/file")).await;
    refused(&r, "download_image");

    let image = stored(&s, &id).await;
    assert!(
        image["name"] == "img" && image["status"] == "active",
        "{image}"
    );
    assert_eq!(stored(&s, &queued).await["status"], "queued");
}

#[tokio::test]
async fn another_project_gets_404_for_a_private_image() {
    let s = common::server_with(TRUSTED).await;
    let owner = Caller::new(&s, "p1", "member,reader");
    let other = Caller::new(&s, "p2", "member,reader");
    let id = owner.create(raw("img", "private")).await;
    let uri = format!("/v2/images/{id}");

    let r = other.get(&uri).await;
    assert_error(&r, NF, &format!("No image found with ID {id}"));
    let r = patch(&other, &id, rename("changed")).await;
    assert_error(&r, NF, &format!("No image found with ID {id}"));
    let r = other.delete(&uri).await;
    assert_error(&r, NF, &format!("Failed to find image {id} to delete"));
    let r = other.post(&format!("{uri}/actions/deactivate")).await;
    assert_eq!(r.status, NF, "{}", r.text());
    assert!(common::names(&other.get("/v2/images").await).is_empty());
    assert_eq!(stored(&s, &id).await["name"], "img");
}

#[tokio::test]
async fn a_member_of_a_shared_image_reads_accepts_but_does_not_modify() {
    let s = common::server_with(TRUSTED).await;
    let owner = Caller::new(&s, "p1", "member,reader");
    let member = Caller::new(&s, "p2", "member,reader");
    let stranger = Caller::new(&s, "p3", "member,reader");
    let id = owner.create(raw("shr", "shared")).await;
    owner.upload(&id, b"shared-bytes").await;
    let uri = format!("/v2/images/{id}");
    let (members, body) = (format!("{uri}/members"), json!({"member": "p2"}));
    let r = owner.json(Method::POST, &members, body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());

    assert_eq!(member.get(&uri).await.status, StatusCode::OK);
    let r = member.get(&format!("{uri}/file")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(&r.body[..], b"shared-bytes");
    // It can see the image, so a refused action is 403, not 404.
    let r = patch(&member, &id, rename("mine")).await;
    refused(&r, "modify_image");
    let r = member.delete(&uri).await;
    refused(&r, "delete_image");
    // Only the member decides on its membership.
    let member_uri = format!("{uri}/members/p2");
    let r = member
        .json(Method::PUT, &member_uri, json!({"status": "accepted"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["status"], "accepted");
    let r = owner
        .json(Method::PUT, &member_uri, json!({"status": "rejected"}))
        .await;
    refused(&r, "modify_member");
    assert_eq!(owner.get(&member_uri).await.json()["status"], "accepted");
    // A project it is not shared with does not see it at all.
    assert_eq!(stranger.get(&uri).await.status, NF);
    assert_eq!(patch(&stranger, &id, rename("x")).await.status, NF);
    assert_eq!(stored(&s, &id).await["name"], "shr");
}

#[tokio::test]
async fn visibility_changes_need_their_rules() {
    let s = common::server_with(TRUSTED).await;
    let owner = Caller::new(&s, "p1", "member,reader");
    let admin = Caller::new(&s, "ops", "admin");
    let id = owner.create(raw("img", "private")).await;
    let to = |v: &str| json!([{"op": "replace", "path": "/visibility", "value": v}]);

    let r = patch(&owner, &id, to("public")).await;
    refused(&r, "publicize_image");
    assert_eq!(stored(&s, &id).await["visibility"], "private");
    let r = owner
        .json(Method::POST, "/v2/images", raw("pub", "public"))
        .await;
    refused(&r, "publicize_image");
    assert_eq!(all_names(&s).await, ["img"]);

    let r = patch(&owner, &id, to("community")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(stored(&s, &id).await["visibility"], "community");
    let r = patch(&admin, &id, to("public")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(stored(&s, &id).await["visibility"], "public");
}

#[tokio::test]
async fn an_admin_sees_and_changes_every_image() {
    let s = common::server_with(TRUSTED).await;
    let p1 = Caller::new(&s, "p1", "member,reader");
    let p2 = Caller::new(&s, "p2", "member,reader");
    let admin = Caller::new(&s, "ops", "admin,member,reader");
    let a = p1.create(raw("a", "private")).await;
    p1.create(raw("b", "shared")).await;
    p2.create(raw("c", "private")).await;

    let mut names = common::names(&admin.get("/v2/images?visibility=all").await);
    names.sort();
    assert_eq!(names, ["a", "b", "c"]);
    assert_eq!(
        common::names(&p2.get("/v2/images?visibility=all").await),
        ["c"]
    );
    assert_eq!(
        admin.get(&format!("/v2/images/{a}")).await.status,
        StatusCode::OK
    );
    let r = patch(&admin, &a, rename("by-admin")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(stored(&s, &a).await["name"], "by-admin");
    let r = admin.delete(&format!("/v2/images/{a}")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
}

#[tokio::test]
async fn creating_for_another_project_is_refused() {
    let s = common::server_with(TRUSTED).await;
    let owner = Caller::new(&s, "p1", "member,reader");
    let r = owner
        .json(
            Method::POST,
            "/v2/images",
            json!({"name": "theirs", "owner": "p2"}),
        )
        .await;
    assert_error(
        &r,
        StatusCode::FORBIDDEN,
        "You are not permitted to create images owned by 'p2'",
    );
    assert_eq!(all_names(&s).await, Vec::<String>::new());
    owner.create(json!({"name": "mine", "owner": "p1"})).await;
    assert_eq!(all_names(&s).await, ["mine"]);
}

#[tokio::test]
async fn a_caller_without_roles_may_do_nothing() {
    let s = common::server_with(TRUSTED).await;
    let id = Caller::new(&s, "p1", "member,reader")
        .create(raw("img", "private"))
        .await;
    let none = Caller::new(&s, "p1", "");
    let r = none.get("/v2/images").await;
    refused(&r, "get_images");
    // Its own project's image: get_image fails, so the image is hidden.
    let r = none.get(&format!("/v2/images/{id}")).await;
    assert_error(&r, NF, HIDDEN);
    let r = patch(&none, &id, rename("x")).await;
    assert_error(&r, NF, HIDDEN);
    let r = none
        .json(Method::POST, "/v2/images", json!({"name": "n"}))
        .await;
    refused(&r, "add_image");
    assert_eq!(all_names(&s).await, ["img"]);
}

#[tokio::test]
async fn role_names_are_compared_without_case() {
    let s = common::server_with(TRUSTED).await;
    let odd = Caller::new(&s, "p1", "MEMBER,Reader");
    let id = odd.create(raw("img", "private")).await;
    assert_eq!(common::names(&odd.get("/v2/images").await), ["img"]);
    assert_eq!(
        patch(&odd, &id, rename("renamed")).await.status,
        StatusCode::OK
    );
    let admin = Caller::new(&s, "ops", "Admin");
    let r = admin.get(&format!("/v2/images/{id}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["name"], "renamed");
}

#[tokio::test]
async fn a_policy_yaml_overrides_the_defaults() {
    let yaml = "# Operator overrides: comments, a document marker and quoting styles.\n\
                ---\n\
                \"modify_image\": \"role:admin\"   # only admins edit images\n\
                \n\
                'get_image': 'role:admin or project_id:%(project_id)s'\n";
    let s = with_policy_file("policy.yaml", yaml).await;
    let owner = Caller::new(&s, "p1", "member,reader");
    let admin = Caller::new(&s, "ops", "admin,member,reader");
    let id = owner.create(raw("img", "private")).await;

    let r = patch(&owner, &id, rename("changed")).await;
    refused(&r, "modify_image");
    assert_eq!(stored(&s, &id).await["name"], "img");
    let r = patch(&admin, &id, rename("by-admin")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(stored(&s, &id).await["name"], "by-admin");
    // Rules the file does not name keep their defaults.
    let other = owner.create(raw("other", "private")).await;
    assert_eq!(
        owner.delete(&format!("/v2/images/{other}")).await.status,
        StatusCode::NO_CONTENT
    );

    // get_image: the owner without role:reader now sees its image (404 by default)...
    let pub_id = admin.create(raw("pub", "public")).await;
    let plain = common::server_with(TRUSTED).await;
    let plain_id = Caller::new(&plain, "p1", "member,reader")
        .create(raw("img", "private"))
        .await;
    let r = Caller::new(&plain, "p1", "member")
        .get(&format!("/v2/images/{plain_id}"))
        .await;
    assert_error(&r, NF, HIDDEN);
    let r = Caller::new(&s, "p1", "member")
        .get(&format!("/v2/images/{id}"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    // ...and another project no longer sees the admin's public image, in show or list.
    let p2 = Caller::new(&s, "p2", "member,reader");
    let r = p2.get(&format!("/v2/images/{pub_id}")).await;
    assert_error(&r, NF, HIDDEN);
    assert_eq!(
        common::names(&p2.get("/v2/images").await),
        Vec::<String>::new()
    );
    assert_eq!(common::names(&owner.get("/v2/images").await), ["by-admin"]);
}

#[tokio::test]
async fn a_policy_json_file_works_too() {
    // Extra properties are part of the target, as upstream's ImageTarget exposes them.
    let json = "{\n  \"add_image\": \"role:admin\",\n  \"delete_image\": \"role:admin or \
                (role:member and project_id:%(project_id)s and 'yes':%(deletable)s)\"\n}\n";
    let s = with_policy_file("policy.json", json).await;
    let owner = Caller::new(&s, "p1", "member,reader");
    let admin = Caller::new(&s, "ops", "admin,member,reader");
    let r = owner
        .json(Method::POST, "/v2/images", json!({"name": "n"}))
        .await;
    refused(&r, "add_image");
    assert_eq!(all_names(&s).await, Vec::<String>::new());
    let keep = admin
        .create(json!({"name": "keep", "owner": "p1", "deletable": "no"}))
        .await;
    let gone = admin
        .create(json!({"name": "gone", "owner": "p1", "deletable": "yes"}))
        .await;
    let r = owner.delete(&format!("/v2/images/{keep}")).await;
    refused(&r, "delete_image");
    let r = owner.delete(&format!("/v2/images/{gone}")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    assert_eq!(all_names(&s).await, ["keep"]);
    let r = admin.delete(&format!("/v2/images/{keep}")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
}

#[tokio::test]
async fn a_rule_naming_a_missing_rule_denies_everyone() {
    // oslo.policy would fall back to the `default` rule ("" = allow); this server
    // fails closed (documented in glance-auth's policy module). Never a 500.
    let s = with_policy_file("policy.yaml", "\"delete_image\": \"rule:no_such_rule\"\n").await;
    let owner = Caller::new(&s, "p1", "member,reader");
    let id = owner.create(raw("img", "private")).await;
    for who in [owner, Caller::new(&s, "ops", "admin,member,reader")] {
        let r = who.delete(&format!("/v2/images/{id}")).await;
        refused(&r, "delete_image");
    }
    assert_eq!(all_names(&s).await, ["img"]);
}

#[tokio::test]
async fn policy_dirs_apply_after_the_policy_file_in_name_order() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "policy.yaml",
        "modify_image: '!'\ndelete_image: '!'\n",
    );
    let pdir = dir.path().join("policy.d");
    std::fs::create_dir(&pdir).unwrap();
    write(&pdir, "10-first.yaml", "modify_image: 'role:admin'\n");
    write(
        &pdir,
        "20-second.json",
        "{\"modify_image\": \"role:member and project_id:%(project_id)s\"}",
    );
    // Dot-files are skipped (oslo.policy skips them too): delete_image stays '!'.
    write(&pdir, ".editor-swap.yaml", "delete_image: '@'\n");
    let ini = format!(
        "{TRUSTED}[oslo_policy]\npolicy_file = {file}\npolicy_dirs = {}\n",
        pdir.display()
    );
    let s = common::server_with(&ini).await;
    let owner = Caller::new(&s, "p1", "member,reader");
    let id = owner.create(raw("img", "private")).await;
    let r = patch(&owner, &id, rename("changed")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(stored(&s, &id).await["name"], "changed");
    // The policy file's other rule still holds.
    let r = owner.delete(&format!("/v2/images/{id}")).await;
    refused(&r, "delete_image");
}

#[tokio::test]
async fn a_malformed_policy_file_stops_the_service() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "no-colon.yaml",
            "# x\n\"get_image\": \"role:admin\"\nno colon here\n",
            "line 3",
        ),
        (
            "bad-check.yaml",
            "# x\n\n\"get_image\": \"role:admin and or\"\n",
            "line 3: policy rule \"get_image\"",
        ),
        (
            "bad.json",
            "{\n  \"get_image\": \"role:admin\",\n  \"modify_image\": \n}\n",
            "line 4",
        ),
    ];
    for (name, text, at) in cases {
        let path = write(dir.path(), name, text);
        let err = startup_error(&format!("{TRUSTED}[oslo_policy]\npolicy_file = {path}\n")).await;
        assert!(err.contains(&format!("{path}, {at}")), "{name}: {err}");
    }
    let err =
        startup_error("[oslo_policy]\npolicy_file = /nonexistent/glance/my-policy.yaml\n").await;
    assert!(err.contains("/nonexistent/glance/my-policy.yaml"), "{err}");
}
