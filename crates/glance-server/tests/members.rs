//! Image sharing (spec §10): `/v2/images/{id}/members[/{member_id}]`, with upstream's
//! statuses and texts (checked against upstream Glance 33.0.0).

mod common;

use axum::body::Body;
use axum::http::{Method, StatusCode};
use common::{TestResponse, TestServer, TRUSTED};
use serde_json::{json, Value};

/// A caller: project and roles.
#[derive(Clone, Copy)]
struct Who(&'static str, &'static str);

const OWNER: Who = Who("p1", "member,reader");
const MEMBER: Who = Who("p2", "member,reader");
const STRANGER: Who = Who("p3", "member,reader");
const ADMIN: Who = Who("ops", "admin,member,reader");

async fn call(
    s: &TestServer,
    who: Who,
    method: Method,
    uri: &str,
    body: Option<Value>,
) -> TestResponse {
    let mut headers = common::as_project(who.0, who.1);
    headers.push(("accept".into(), "application/json".into()));
    headers.push(("content-type".into(), "application/json".into()));
    let refs: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let body = body
        .map(|b| Body::from(b.to_string()))
        .unwrap_or_else(Body::empty);
    s.request(method, uri, &refs, body).await
}

/// `message` of a JSON error body without WebOb's trailer.
/// Asserts an error's status and its text.
fn check(r: &TestResponse, status: StatusCode, text: &str) {
    assert_eq!(
        (r.status, message(r).as_str()),
        (status, text),
        "{}",
        r.text()
    );
}

fn message(r: &TestResponse) -> String {
    let m = r.json()["message"].as_str().unwrap_or_default().to_string();
    m.strip_suffix("<br /><br />\n\n\n")
        .map(str::to_string)
        .unwrap_or(m)
}

async fn image(s: &TestServer, visibility: &str) -> String {
    let r = call(
        s,
        OWNER,
        Method::POST,
        "/v2/images",
        Some(json!({"name": "i", "visibility": visibility})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()["id"].as_str().unwrap().to_string()
}

fn members_uri(id: &str) -> String {
    format!("/v2/images/{id}/members")
}

fn member_uri(id: &str, member: &str) -> String {
    format!("/v2/images/{id}/members/{member}")
}

async fn get(s: &TestServer, who: Who, uri: &str) -> TestResponse {
    call(s, who, Method::GET, uri, None).await
}

async fn del(s: &TestServer, who: Who, uri: &str) -> TestResponse {
    call(s, who, Method::DELETE, uri, None).await
}

async fn add(s: &TestServer, id: &str, member: &str) -> TestResponse {
    call(
        s,
        OWNER,
        Method::POST,
        &members_uri(id),
        Some(json!({"member": member})),
    )
    .await
}

async fn set_status(
    s: &TestServer,
    who: Who,
    id: &str,
    member: &str,
    status: &str,
) -> TestResponse {
    call(
        s,
        who,
        Method::PUT,
        &member_uri(id, member),
        Some(json!({"status": status})),
    )
    .await
}

#[tokio::test]
async fn only_shared_images_have_members() {
    let s = common::server_with(TRUSTED).await;
    let id = image(&s, "private").await;
    let r = get(&s, OWNER, &members_uri(&id)).await;
    check(
        &r,
        StatusCode::FORBIDDEN,
        &format!("Not allowed to list members for image {id}: Only shared images have members."),
    );
    let r = add(&s, &id, "p2").await;
    check(
        &r,
        StatusCode::FORBIDDEN,
        &format!("Not allowed to create members for image {id}."),
    );
    let r = get(&s, OWNER, &member_uri(&id, "p2")).await;
    check(
        &r,
        StatusCode::NOT_FOUND,
        "Only shared images have members.",
    );
    let r = set_status(&s, OWNER, &id, "p2", "accepted").await;
    check(
        &r,
        StatusCode::FORBIDDEN,
        &format!("Not allowed to update members for image {id}."),
    );
    let r = del(&s, OWNER, &member_uri(&id, "p2")).await;
    check(
        &r,
        StatusCode::FORBIDDEN,
        &format!("Not allowed to delete members for image {id}."),
    );
}

#[tokio::test]
async fn add_show_list_and_duplicate() {
    let s = common::server_with(TRUSTED).await;
    let id = image(&s, "shared").await;
    let r = add(&s, &id, "p2").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let m = r.json();
    assert_eq!(m["member_id"], "p2");
    assert_eq!(m["image_id"], id.as_str());
    assert_eq!(m["status"], "pending");
    assert_eq!(m["schema"], "/v2/schemas/member");
    assert_eq!(m["created_at"], m["updated_at"]);
    let keys: Vec<&str> = m.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "member_id",
            "image_id",
            "status",
            "created_at",
            "updated_at",
            "schema"
        ]
    );

    let r = add(&s, &id, "p2").await;
    check(
        &r,
        StatusCode::CONFLICT,
        &format!("Member p2 is duplicated for image {id}"),
    );
    // Member ids are taken as given.
    assert_eq!(add(&s, &id, " p4 ").await.json()["member_id"], " p4 ");

    let r = get(&s, OWNER, &members_uri(&id)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["schema"], "/v2/schemas/members");
    let ids: Vec<String> = r.json()["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["member_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, ["p2", " p4 "]);
    let r = get(&s, OWNER, &member_uri(&id, "p2")).await;
    assert_eq!((r.status, r.json()), (StatusCode::OK, m));
    let r = get(&s, OWNER, &member_uri(&id, "nobody")).await;
    check(
        &r,
        StatusCode::NOT_FOUND,
        &format!("nobody not found in the member list of the image {id}."),
    );
}

#[tokio::test]
async fn add_member_body_errors_are_400() {
    let s = common::server_with(TRUSTED).await;
    let id = image(&s, "shared").await;
    let cases = [
        (json!({}), "Member to be added not specified"),
        (json!({"member": ""}), "Member can't be empty"),
        (
            json!(["p2"]),
            r#"Expected a member in the form: {"member": "image_id"}"#,
        ),
    ];
    for (body, text) in cases {
        let r = call(
            &s,
            OWNER,
            Method::POST,
            &members_uri(&id),
            Some(body.clone()),
        )
        .await;
        check(&r, StatusCode::BAD_REQUEST, text);
    }
    let r = call(&s, OWNER, Method::POST, &members_uri(&id), None).await;
    check(&r, StatusCode::BAD_REQUEST, "Body expected in request.");
    // The body is checked before the image is looked up.
    let r = call(
        &s,
        OWNER,
        Method::POST,
        &members_uri("00000000-0000-0000-0000-000000000000"),
        Some(json!({})),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn member_quota_is_413() {
    let s = common::server_with(&format!("{TRUSTED}[DEFAULT]\nimage_member_quota = 2\n")).await;
    let id = image(&s, "shared").await;
    assert_eq!(add(&s, &id, "a").await.status, StatusCode::OK);
    assert_eq!(add(&s, &id, "b").await.status, StatusCode::OK);
    let r = add(&s, &id, "c").await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        message(&r),
        format!(
            "Image member limit exceeded for image {id}: The limit has been exceeded on the number of allowed \
             image members for this image. Attempted: 3, Maximum: 2:"
        )
    );
    // Deleting one makes room again.
    assert_eq!(
        del(&s, OWNER, &member_uri(&id, "a")).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(add(&s, &id, "c").await.status, StatusCode::OK);
}

#[tokio::test]
async fn members_see_their_own_entry_and_set_their_own_status() {
    let s = common::server_with(TRUSTED).await;
    let id = image(&s, "shared").await;
    add(&s, &id, "p2").await;
    add(&s, &id, "p5").await;
    let r = get(&s, MEMBER, &members_uri(&id)).await;
    let listed: Vec<Value> = r.json()["members"].as_array().unwrap().clone();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["member_id"], "p2");
    let r = get(&s, MEMBER, &member_uri(&id, "p5")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    for status in ["accepted", "rejected", "pending"] {
        let r = set_status(&s, MEMBER, &id, "p2", status).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.json()["status"], status);
    }
    let r = set_status(&s, MEMBER, &id, "p2", "bogus").await;
    check(
        &r,
        StatusCode::BAD_REQUEST,
        r#"Incorrect request: Status must be "pending", "accepted" or "rejected"."#,
    );
    let uri = member_uri(&id, "p2");
    let r = call(&s, MEMBER, Method::PUT, &uri, Some(json!({"x": 1}))).await;
    check(&r, StatusCode::BAD_REQUEST, "Status not specified");
    let r = call(&s, MEMBER, Method::PUT, &uri, Some(json!([1]))).await;
    check(
        &r,
        StatusCode::BAD_REQUEST,
        r#"Expected a status in the form: {"status": "status"}"#,
    );

    // The owner may not accept on the member's behalf (whatever the value), nor may
    // the member add or remove members; an admin may set the status.
    for status in ["accepted", "bogus"] {
        let r = set_status(&s, OWNER, &id, "p2", status).await;
        check(
            &r,
            StatusCode::FORBIDDEN,
            "You are not authorized to complete modify_member action.",
        );
    }
    let r = set_status(&s, OWNER, &id, "nobody", "accepted").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = call(
        &s,
        MEMBER,
        Method::POST,
        &members_uri(&id),
        Some(json!({"member": "p9"})),
    )
    .await;
    check(
        &r,
        StatusCode::FORBIDDEN,
        "You are not authorized to complete add_member action.",
    );
    let r = del(&s, MEMBER, &uri).await;
    check(
        &r,
        StatusCode::FORBIDDEN,
        "You are not authorized to complete delete_member action.",
    );
    assert_eq!(
        set_status(&s, ADMIN, &id, "p2", "rejected").await.json()["status"],
        "rejected"
    );
}

#[tokio::test]
async fn strangers_get_404_for_everything() {
    let s = common::server_with(TRUSTED).await;
    let id = image(&s, "shared").await;
    add(&s, &id, "p2").await;
    let expected = format!("Image {id} not found.");
    let r = get(&s, STRANGER, &members_uri(&id)).await;
    check(&r, StatusCode::NOT_FOUND, &expected.clone());
    let r = get(&s, STRANGER, &member_uri(&id, "p2")).await;
    check(&r, StatusCode::NOT_FOUND, &expected.clone());
    let r = call(
        &s,
        STRANGER,
        Method::POST,
        &members_uri(&id),
        Some(json!({"member": "p3"})),
    )
    .await;
    check(&r, StatusCode::NOT_FOUND, &expected);
    let missing = "00000000-0000-0000-0000-000000000000";
    let r = get(&s, OWNER, &members_uri(missing)).await;
    check(
        &r,
        StatusCode::NOT_FOUND,
        &format!("Image {missing} not found."),
    );
}

#[tokio::test]
async fn delete_then_readd_starts_pending_again() {
    let s = common::server_with(TRUSTED).await;
    let id = image(&s, "shared").await;
    let first = add(&s, &id, "p2").await.json();
    let accepted = set_status(&s, MEMBER, &id, "p2", "accepted").await;
    assert_eq!(accepted.status, StatusCode::OK);
    let uri = member_uri(&id, "p2");
    // Timestamps have one-second resolution.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let r = del(&s, OWNER, &uri).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert!(r.body.is_empty());
    let r = del(&s, OWNER, &uri).await;
    check(
        &r,
        StatusCode::NOT_FOUND,
        &format!("p2 not found in the member list of the image {id}."),
    );
    assert_eq!(get(&s, OWNER, &uri).await.status, StatusCode::NOT_FOUND);
    // The former member lost access.
    assert_eq!(
        get(&s, MEMBER, &format!("/v2/images/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    let r = add(&s, &id, "p2").await;
    assert_eq!(
        (r.status, r.json()["status"].as_str()),
        (StatusCode::OK, Some("pending"))
    );
    // Upstream revives the old row: created_at kept, updated_at refreshed.
    assert_eq!(r.json()["created_at"], first["created_at"]);
    assert_ne!(r.json()["updated_at"], first["updated_at"]);
    assert_eq!(get(&s, OWNER, &uri).await.json(), r.json());
    assert_eq!(
        get(&s, OWNER, &members_uri(&id)).await.json()["members"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn membership_gives_read_access_and_accepted_lists_it() {
    let s = common::server_with(TRUSTED).await;
    let id = image(&s, "shared").await;
    let listed = |r: TestResponse| -> bool {
        r.json()["images"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["id"] == id.as_str())
    };
    assert_eq!(
        get(&s, MEMBER, &format!("/v2/images/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    add(&s, &id, "p2").await;
    // Pending: readable, but not in the default list.
    assert_eq!(
        get(&s, MEMBER, &format!("/v2/images/{id}")).await.status,
        StatusCode::OK
    );
    assert!(!listed(get(&s, MEMBER, "/v2/images").await));
    set_status(&s, MEMBER, &id, "p2", "accepted").await;
    assert!(listed(get(&s, MEMBER, "/v2/images").await));
    set_status(&s, MEMBER, &id, "p2", "rejected").await;
    assert!(!listed(get(&s, MEMBER, "/v2/images").await));
    assert_eq!(
        get(&s, MEMBER, &format!("/v2/images/{id}")).await.status,
        StatusCode::OK
    );
    // Leaving "shared" hides the image from members (their rows stay, ignored).
    let patch = json!([{"op": "replace", "path": "/visibility", "value": "private"}]);
    let mut headers = common::as_project(OWNER.0, OWNER.1);
    headers.push((
        "content-type".into(),
        "application/openstack-images-v2.1-json-patch".into(),
    ));
    let refs: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let r = s
        .request(
            Method::PATCH,
            &format!("/v2/images/{id}"),
            &refs,
            patch.to_string(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        get(&s, MEMBER, &format!("/v2/images/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
}
