//! Property protections (spec: store-and-config §7) through the real router: the
//! `roles` format with a file written here and with upstream's sample, the
//! `policies` format with rules from a policy file, and files that must stop the
//! service at startup. Rules applied: glance-core's protection.rs and update.rs.
mod common;

use std::path::Path;

use axum::http::{Method, StatusCode};
use common::{assert_error, Caller, TestResponse, TestServer, TRUSTED};
use serde_json::{json, Value};

const PATCH_TYPE: &str = "application/openstack-images-v2.1-json-patch";
const ROLES_SAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/upstream-data/property-protections-roles.conf.sample"
);
const POLICIES_SAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/upstream-data/property-protections-policies.conf.sample"
);

/// Roles format. A property matching none of these sections (`foo`) is denied.
const ROLES: &str = "# protections for the tests\n\
[^x_bill_]\ncreate = admin\nread = admin, Billing\nupdate = admin\ndelete = admin\n\n\
[^x_fixed_]\ncreate = admin,member\nread = admin,member\nupdate = admin\ndelete = admin,member\n\n\
[^x_keep_]\ncreate = admin,member\nread = member\nupdate = member\ndelete = admin\n\n\
[^x_wo_]\ncreate = admin,member\nread = admin\nupdate = admin\ndelete = admin\n\n\
[^x_open_]\ncreate = admin,@\nread = @\nupdate = @\ndelete = !\n\n\
[^x_never_]\ncreate = admin,!\nread = admin\nupdate = admin\ndelete = admin\n\n\
[^x_]\ncreate = member\nread = member,admin\nupdate = member\ndelete = member\n";

fn reserved(key: &str) -> String {
    format!("Attribute '{key}' is reserved.")
}

fn missing(key: &str) -> String {
    format!("Property {key} does not exist.")
}

fn op(kind: &str, key: &str, value: Option<&str>) -> Value {
    match value {
        Some(v) => json!({"op": kind, "path": format!("/{key}"), "value": v}),
        None => json!({"op": kind, "path": format!("/{key}")}),
    }
}

async fn patch(c: &Caller<'_>, id: &str, ops: &[Value]) -> TestResponse {
    let body = Some(Value::from(ops.to_vec()).to_string().into_bytes());
    c.send(Method::PATCH, &format!("/v2/images/{id}"), body, PATCH_TYPE)
        .await
}

const F: StatusCode = StatusCode::FORBIDDEN;
const C: StatusCode = StatusCode::CONFLICT;

/// Asserts the PATCH is refused: 403 "reserved" or 409 "does not exist", for `key`.
async fn refused(c: &Caller<'_>, id: &str, ops: &[Value], status: StatusCode, key: &str) {
    let text: fn(&str) -> String = if status == C { missing } else { reserved };
    assert_error(&patch(c, id, ops).await, status, &text(key));
}

/// Asserts the PATCH succeeds.
async fn accepted(c: &Caller<'_>, id: &str, ops: &[Value]) {
    let r = patch(c, id, ops).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}

async fn post(c: &Caller<'_>, body: Value) -> TestResponse {
    c.json(Method::POST, "/v2/images", body).await
}

fn admin(s: &TestServer) -> Caller<'_> {
    Caller::new(s, "ops", "admin,member,reader")
}

/// The image as the caller sees it (asserts 200).
async fn seen(c: &Caller<'_>, id: &str) -> Value {
    let r = c.get(&format!("/v2/images/{id}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()
}

/// Names of every image, as an admin lists them.
async fn all_names(s: &TestServer) -> Vec<String> {
    common::names(&admin(s).get("/v2/images?visibility=all").await)
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// INI text enabling trusted auth and the protection file at `path`, plus `[DEFAULT]`
/// options `more`.
fn ini(path: &str, format: &str, more: &str) -> String {
    format!(
        "[DEFAULT]\nproperty_protection_file = {path}\n\
         property_protection_rule_format = {format}\n{more}{TRUSTED}"
    )
}

/// A trusted-auth server with the roles-format file [`ROLES`].
async fn roles_server() -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "protections.conf", ROLES);
    common::server_with(&ini(&path, "roles", "")).await
}

/// An image of p1 created by the admin (who may create every x_ property here).
async fn p1_image(s: &TestServer, mut props: Value) -> String {
    props["owner"] = json!("p1");
    admin(s).create(props).await
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
async fn create_needs_the_create_rule_for_every_property() {
    let s = roles_server().await;
    let (member, a) = (Caller::new(&s, "p1", "member,reader"), admin(&s));
    let refusals = [
        (&member, "x_bill_id"),
        (&member, "foo"),
        (&a, "foo"),
        (&a, "x_never_a"),
    ];
    for (who, key) in refusals {
        let r = post(who, json!({"name": "n", "x_fixed_a": "1", key: "v"})).await;
        assert_error(&r, F, &reserved(key));
    }
    assert_eq!(all_names(&s).await, Vec::<String>::new());

    // Base attributes are never protected, even though no section matches them.
    let body = json!({"name": "ok", "min_disk": 1, "x_fixed_a": "1", "x_keep_a": "k",
                      "x_open_a": "o", "x_plain": "p", "x_wo_token": "secret"});
    let r = post(&member, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let created = r.json();
    for key in ["x_fixed_a", "x_keep_a", "x_open_a", "x_plain"] {
        assert!(created.get(key).is_some(), "{key} in {created}");
    }
    // The creator may create x_wo_token but not read it: stored, not shown (upstream
    // silently loses it; a documented difference).
    assert!(created.get("x_wo_token").is_none(), "{created}");
    let id = created["id"].as_str().unwrap();
    assert!(seen(&member, id).await.get("x_wo_token").is_none());
    let image = seen(&admin(&s), id).await;
    assert!(
        image["x_wo_token"] == "secret" && image["min_disk"] == 1,
        "{image}"
    );
}

// Upstream's ProtectedImageFactoryProxy checks the properties in body order.
#[tokio::test]
async fn create_names_the_first_refused_property_in_body_order() {
    let s = roles_server().await;
    let member = Caller::new(&s, "p1", "member,reader");
    let body = json!({"name": "n", "x_bill_id": "1", "foo": "v"});
    let r = post(&member, body).await;
    assert_error(&r, StatusCode::FORBIDDEN, &reserved("x_bill_id"));
}

// Upstream's ProtectedImageFactoryProxy is the outermost image factory, so a
// refused property is 403 before the tag quota (quota factory), negative sizes
// (domain Image setters) and the property quota (quota repo add) are looked at.
#[tokio::test]
async fn create_checks_protections_before_quotas_and_sizes() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "protections.conf", ROLES);
    let quotas = "image_property_quota = 1\nimage_tag_quota = 1\n";
    let s = common::server_with(&ini(&path, "roles", quotas)).await;
    let member = Caller::new(&s, "p1", "member,reader");
    let mut answers = Vec::new();
    for body in [
        json!({"foo": "v", "x_plain": "p"}),
        json!({"foo": "v", "tags": ["a", "b"]}),
        json!({"foo": "v", "min_ram": -1}),
    ] {
        let r = post(&member, body).await;
        answers.push((r.status, common::message(&r)));
    }
    let want = (F, format!("{}<br /><br />\n\n\n", reserved("foo")));
    assert_eq!(answers, vec![want; 3]);
    assert_eq!(all_names(&s).await, Vec::<String>::new());
}

#[tokio::test]
async fn show_and_list_hide_what_the_caller_may_not_read() {
    let s = roles_server().await;
    let props = json!({"x_bill_id": "42", "x_fixed_a": "1", "x_open_a": "o"});
    let id = p1_image(&s, props).await;
    let member = Caller::new(&s, "p1", "member,reader");
    let image = seen(&member, &id).await;
    assert!(image.get("x_bill_id").is_none(), "{image}");
    assert_eq!(image["x_fixed_a"], "1");
    let r = member.get("/v2/images").await;
    let listed = &r.json()["images"][0];
    assert!(
        listed.get("x_bill_id").is_none() && listed["x_fixed_a"] == "1",
        "{listed}"
    );
    // A role listed with odd case in the file (and sent with another) still reads it.
    let billing = Caller::new(&s, "p1", "member,reader,BILLING");
    assert_eq!(seen(&billing, &id).await["x_bill_id"], "42");
    // read = @: even a reader with no listed role; x_fixed_a needs member or admin.
    let image = seen(&Caller::new(&s, "p1", "reader"), &id).await;
    assert!(
        image["x_open_a"] == "o" && image.get("x_fixed_a").is_none(),
        "{image}"
    );
    let r = admin(&s).get("/v2/images?visibility=all").await;
    assert_eq!(r.json()["images"][0]["x_bill_id"], "42");
}

#[tokio::test]
async fn patch_checks_each_operation_and_keeps_hidden_properties() {
    let s = roles_server().await;
    let props = json!({"x_bill_id": "42", "x_fixed_a": "1", "x_keep_a": "k",
                       "x_wo_token": "old", "x_plain": "p"});
    let id = p1_image(&s, props.clone()).await;
    let member = Caller::new(&s, "p1", "member,reader");
    for (o, status, key) in [
        // A readable property: replace needs update (even to the same value)...
        (op("replace", "x_fixed_a", Some("2")), F, "x_fixed_a"),
        (op("replace", "x_fixed_a", Some("1")), F, "x_fixed_a"),
        (op("add", "x_fixed_a", Some("2")), F, "x_fixed_a"),
        // ...and remove needs delete.
        (op("remove", "x_keep_a", None), F, "x_keep_a"),
        // A property it cannot read does not exist for it...
        (op("replace", "x_bill_id", Some("0")), C, "x_bill_id"),
        (op("remove", "x_bill_id", None), C, "x_bill_id"),
        // ...so adding it is a creation.
        (op("add", "x_bill_id", Some("0")), F, "x_bill_id"),
        // A property no section matches: nothing is allowed.
        (op("add", "foo", Some("v")), F, "foo"),
    ] {
        refused(&member, &id, &[o], status, key).await;
    }
    // The first refused operation refuses the whole patch: nothing is saved.
    let ops = [
        op("replace", "x_plain", Some("changed")),
        op("remove", "x_keep_a", None),
    ];
    refused(&member, &id, &ops, F, "x_keep_a").await;
    let image = seen(&admin(&s), &id).await;
    for (key, value) in props.as_object().unwrap() {
        assert_eq!(&image[key], value, "{key} in {image}");
    }

    // Allowed: remove with delete, replace with update, add of a hidden one with create.
    let ops = [
        op("remove", "x_fixed_a", None),
        op("replace", "x_plain", Some("p2")),
        op("add", "x_wo_token", Some("new")),
        op("replace", "name", Some("renamed")),
    ];
    let r = patch(&member, &id, &ops).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let shown = r.json();
    assert!(
        shown.get("x_wo_token").or(shown.get("x_bill_id")).is_none(),
        "{shown}"
    );
    let image = seen(&admin(&s), &id).await;
    assert!(image.get("x_fixed_a").is_none(), "{image}");
    let got = ["x_plain", "x_wo_token", "name", "x_keep_a"].map(|k| image[k].clone());
    assert_eq!(got, ["p2", "new", "renamed", "k"]);
    // Unlike upstream (which saves the read-filtered copy and so deletes it), the
    // property the member cannot read survives its PATCH.
    assert_eq!(image["x_bill_id"], "42");
}

#[tokio::test]
async fn at_allows_everyone_and_bang_allows_no_one() {
    let s = roles_server().await;
    let id = p1_image(&s, json!({"x_open_a": "o"})).await;
    let member = Caller::new(&s, "p1", "member,reader");
    // update = @ although no role is listed; delete = ! even for the admin.
    accepted(&member, &id, &[op("replace", "x_open_a", Some("o2"))]).await;
    for who in [&member, &admin(&s)] {
        refused(who, &id, &[op("remove", "x_open_a", None)], F, "x_open_a").await;
    }
    assert_eq!(seen(&admin(&s), &id).await["x_open_a"], "o2");
    // create = admin,! : the `!` wins, the admin is refused too.
    let key = "x_never_a";
    refused(&admin(&s), &id, &[op("add", key, Some("v"))], F, key).await;
}

#[tokio::test]
async fn a_property_matching_no_section_is_denied_everything() {
    // Stored before protections were turned on, then served with them.
    let before = common::server_with(TRUSTED).await;
    let id = p1_image(&before, json!({"foo": "bar", "x_plain": "p"})).await;
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "p.conf", ROLES);
    // The same database (and, on SQLite, the same data directory holding it).
    let more = before.database_ini();
    let data = before.dir.path().to_path_buf();
    let s = common::server_in(&ini(&path, "roles", &more), dir, |settings| {
        settings.data_dir = data
    })
    .await;
    let admin = admin(&s);
    let image = seen(&admin, &id).await;
    assert!(
        image.get("foo").is_none() && image["x_plain"] == "p",
        "{image}"
    );
    refused(&admin, &id, &[op("replace", "foo", Some("v"))], C, "foo").await;
    refused(&admin, &id, &[op("remove", "foo", None)], C, "foo").await;
    refused(&admin, &id, &[op("add", "foo", Some("v"))], F, "foo").await;
    let unprotected = Caller::new(&before, "ops", "admin");
    assert_eq!(seen(&unprotected, &id).await["foo"], "bar");
}

#[tokio::test]
async fn default_section_and_key_case_are_read_as_configparser_does() {
    let dir = tempfile::tempdir().unwrap();
    let text = "[DEFAULT]\ndelete = admin\n\n[^x_]\nCreate = @\nREAD = @\nupdate = @\n";
    let s = common::server_with(&ini(&write(dir.path(), "p.conf", text), "roles", "")).await;
    let member = Caller::new(&s, "p1", "member,reader");
    let id = member.create(json!({"name": "n", "x_a": "1"})).await;
    refused(&member, &id, &[op("remove", "x_a", None)], F, "x_a").await;
    accepted(&admin(&s), &id, &[op("remove", "x_a", None)]).await;
    assert!(seen(&admin(&s), &id).await.get("x_a").is_none());
}

#[tokio::test]
async fn upstream_roles_sample() {
    let s = common::server_with(&ini(ROLES_SAMPLE, "roles", "")).await;
    let member = Caller::new(&s, "p1", "MEMBER,Reader");
    let id = member.create(json!({"name": "m", "x_a": "1"})).await;
    let r = post(&member, json!({"name": "n", "foo": "v"})).await;
    assert_error(&r, F, &reserved("foo"));
    assert_eq!(all_names(&s).await, ["m"]);
    // [.*] is admin only: the admin sets it, the member neither sees nor touches it.
    accepted(&admin(&s), &id, &[op("add", "foo", Some("bar"))]).await;
    let image = seen(&member, &id).await;
    assert!(image.get("foo").is_none() && image["x_a"] == "1", "{image}");
    refused(&member, &id, &[op("replace", "foo", Some("x"))], C, "foo").await;
    refused(&member, &id, &[op("add", "foo", Some("x"))], F, "foo").await;
    accepted(&member, &id, &[op("replace", "x_a", Some("2"))]).await;
    let image = seen(&admin(&s), &id).await;
    assert_eq!([&image["foo"], &image["x_a"]], ["bar", "2"]);
}

#[tokio::test]
async fn upstream_policies_sample() {
    // `default` ("" = everyone) for x_*, `context_is_admin` for the rest.
    let s = common::server_with(&ini(POLICIES_SAMPLE, "policies", "")).await;
    let member = Caller::new(&s, "p1", "member,reader");
    let id = member.create(json!({"name": "m", "x_a": "1"})).await;
    let r = post(&member, json!({"foo": "v"})).await;
    assert_error(&r, F, &reserved("foo"));
    accepted(&admin(&s), &id, &[op("add", "foo", Some("bar"))]).await;
    assert!(seen(&member, &id).await.get("foo").is_none());
    assert_eq!(seen(&admin(&s), &id).await["foo"], "bar");
}

#[tokio::test]
async fn policies_format_uses_rules_of_the_policy_file() {
    let dir = tempfile::tempdir().unwrap();
    let protections = "[^x_bill_]\ncreate = billing_admin\nread = billing_reader\n\
        update = billing_admin\ndelete = !\n\n\
        [^y_]\ncreate = undefined_rule\nread = @\nupdate = @\ndelete = @\n\n\
        [^x_]\ncreate = @\nread = @\nupdate = @\ndelete = @\n";
    let policy = "# rules the protections name\n\
        billing_admin: \"role:admin or role:billing\"\n\
        billing_reader: \"rule:billing_admin or role:auditor\"\n";
    let text = format!(
        "{}[oslo_policy]\npolicy_file = {}\n",
        ini(&write(dir.path(), "p.conf", protections), "policies", ""),
        write(dir.path(), "policy.yaml", policy)
    );
    let s = common::server_with(&text).await;
    let member = Caller::new(&s, "p1", "member,reader");
    let billing = Caller::new(&s, "p1", "member,reader,billing");
    let auditor = Caller::new(&s, "p1", "member,reader,auditor");

    let r = post(&member, json!({"x_bill_id": "1"})).await;
    assert_error(&r, F, &reserved("x_bill_id"));
    // A rule the policy file does not define denies (oslo would fall back to the
    // `default` rule and allow; documented difference, warned about at startup).
    let r = post(&member, json!({"y_a": "1"})).await;
    assert_error(&r, F, &reserved("y_a"));
    assert_eq!(all_names(&s).await, Vec::<String>::new());

    let id = billing.create(json!({"name": "b", "x_bill_id": "1"})).await;
    assert!(seen(&member, &id).await.get("x_bill_id").is_none());
    assert_eq!(seen(&auditor, &id).await["x_bill_id"], "1");
    let key = "x_bill_id";
    refused(&auditor, &id, &[op("replace", key, Some("2"))], F, key).await;
    accepted(&billing, &id, &[op("replace", key, Some("3"))]).await;
    refused(&billing, &id, &[op("remove", key, None)], F, key).await;
    assert_eq!(seen(&admin(&s), &id).await[key], "3");
}

#[tokio::test]
async fn a_broken_protection_file_stops_the_service() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "# x\n[^x_]",
            "",
            "roles",
            "line 2: section [^x_] does not set `delete`",
        ),
        (
            "[^x_(]",
            "delete = @",
            "roles",
            "line 1: section [^x_(] is not a usable",
        ),
        (
            "[^x_]",
            "delete = @,!",
            "roles",
            "line 5: [^x_] delete = @,!",
        ),
        (
            "[^x_]",
            "delete = a,b",
            "policies",
            "line 5: [^x_] delete = a,b",
        ),
    ];
    for (i, (head, delete, format, expected)) in cases.into_iter().enumerate() {
        let text = format!("{head}\ncreate = @\nread = @\nupdate = @\n{delete}\n");
        let path = write(dir.path(), &format!("p{i}.conf"), &text);
        let err = startup_error(&ini(&path, format, "")).await;
        let want = format!(
            "[DEFAULT] property_protection_file: invalid property protection \
                            file {path}, {expected}"
        );
        assert!(err.contains(&want), "{want:?} not in {err:?}");
    }
    let path = dir.path().join("absent.conf").display().to_string();
    let err = startup_error(&ini(&path, "roles", "")).await;
    assert!(err.contains(&path), "{err}");
}
