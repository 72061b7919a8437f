//! v1 sharing: `/v1/images/{id}/members[/{member}]` and `/v1/shared-images/{member}`,
//! with `can_share` and v1's rule that any membership makes an image visible.

mod common;

use axum::body::Body;
use axum::http::{Method, StatusCode};
use common::{TestResponse, TestServer, TRUSTED};
use serde_json::{json, Value};

const OWNER: (&str, &str) = ("p1", "member,reader");
const FRIEND: (&str, &str) = ("p2", "member,reader");
const THIRD: (&str, &str) = ("p3", "member,reader");

async fn v1(
    s: &TestServer,
    who: (&str, &str),
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

async fn reserved_image(s: &TestServer) -> String {
    let r = v1(s, OWNER, Method::POST, "/v1/images", None).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()["image"]["id"].as_str().unwrap().to_string()
}

async fn members(s: &TestServer, who: (&str, &str), id: &str) -> Value {
    let r = v1(
        s,
        who,
        Method::GET,
        &format!("/v1/images/{id}/members"),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()["members"].clone()
}

async fn sees(s: &TestServer, who: (&str, &str), id: &str) -> bool {
    let r = v1(s, who, Method::GET, "/v1/images/detail", None).await;
    r.json()["images"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["id"] == id)
}

#[tokio::test]
async fn members_are_added_listed_replaced_and_removed() {
    let s = common::server_with(TRUSTED).await;
    let id = reserved_image(&s).await;
    assert!(!sees(&s, FRIEND, &id).await);
    let add = v1(
        &s,
        OWNER,
        Method::PUT,
        &format!("/v1/images/{id}/members/p2"),
        Some(json!({"member": {"can_share": true}})),
    )
    .await;
    assert_eq!(add.status, StatusCode::NO_CONTENT, "{}", add.text());
    assert_eq!(
        members(&s, OWNER, &id).await,
        json!([{"member_id": "p2", "can_share": true}])
    );
    // A pending membership is enough for v1: the member sees the image at once.
    assert!(sees(&s, FRIEND, &id).await);
    let head = v1(&s, FRIEND, Method::HEAD, &format!("/v1/images/{id}"), None).await;
    assert_eq!(head.status, StatusCode::OK);
    let shared = v1(&s, FRIEND, Method::GET, "/v1/shared-images/p2", None).await;
    assert_eq!(
        shared.json(),
        json!({"shared_images": [{"image_id": id, "can_share": true}]})
    );

    // Re-adding without a body leaves can_share as it was.
    v1(
        &s,
        OWNER,
        Method::PUT,
        &format!("/v1/images/{id}/members/p2"),
        None,
    )
    .await;
    assert_eq!(members(&s, OWNER, &id).await[0]["can_share"], true);

    // Replace: p2 keeps its can_share (not given), p3 is new (false).
    let replace = v1(
        &s,
        OWNER,
        Method::PUT,
        &format!("/v1/images/{id}/members"),
        Some(json!({"memberships": [{"member_id": "p3"}, {"member_id": "p2"}]})),
    )
    .await;
    assert_eq!(replace.status, StatusCode::NO_CONTENT, "{}", replace.text());
    assert_eq!(
        members(&s, OWNER, &id).await,
        json!([{"member_id": "p2", "can_share": true}, {"member_id": "p3", "can_share": false}])
    );
    // A member sees only its own membership.
    assert_eq!(
        members(&s, THIRD, &id).await,
        json!([{"member_id": "p3", "can_share": false}])
    );

    let replace = v1(
        &s,
        OWNER,
        Method::PUT,
        &format!("/v1/images/{id}/members"),
        Some(json!({"memberships": [{"member_id": "p3", "can_share": true}]})),
    )
    .await;
    assert_eq!(replace.status, StatusCode::NO_CONTENT);
    assert_eq!(
        members(&s, OWNER, &id).await,
        json!([{"member_id": "p3", "can_share": true}])
    );
    assert!(!sees(&s, FRIEND, &id).await, "p2 was removed");
    // The seeds' client sends the list bare.
    let bare = v1(
        &s,
        OWNER,
        Method::PUT,
        &format!("/v1/images/{id}/members"),
        Some(json!([{"member_id": "p3", "can_share": false}])),
    )
    .await;
    assert_eq!(bare.status, StatusCode::NO_CONTENT, "{}", bare.text());
    assert_eq!(
        members(&s, OWNER, &id).await,
        json!([{"member_id": "p3", "can_share": false}])
    );

    let delete = v1(
        &s,
        OWNER,
        Method::DELETE,
        &format!("/v1/images/{id}/members/p3"),
        None,
    )
    .await;
    assert_eq!(delete.status, StatusCode::NO_CONTENT);
    assert_eq!(members(&s, OWNER, &id).await, json!([]));
    let again = v1(
        &s,
        OWNER,
        Method::DELETE,
        &format!("/v1/images/{id}/members/p3"),
        None,
    )
    .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn only_the_owner_and_members_who_can_share_manage_members() {
    let s = common::server_with(TRUSTED).await;
    let id = reserved_image(&s).await;
    v1(
        &s,
        OWNER,
        Method::PUT,
        &format!("/v1/images/{id}/members/p2"),
        Some(json!({"member": {"can_share": false}})),
    )
    .await;
    let refused = v1(
        &s,
        FRIEND,
        Method::PUT,
        &format!("/v1/images/{id}/members/p3"),
        None,
    )
    .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "{}", refused.text());
    assert_eq!(
        members(&s, OWNER, &id).await.as_array().unwrap().len(),
        1,
        "nothing added"
    );
    let stranger = v1(
        &s,
        THIRD,
        Method::PUT,
        &format!("/v1/images/{id}/members/p3"),
        None,
    )
    .await;
    assert_eq!(stranger.status, StatusCode::NOT_FOUND);
    v1(
        &s,
        OWNER,
        Method::PUT,
        &format!("/v1/images/{id}/members/p2"),
        Some(json!({"member": {"can_share": true}})),
    )
    .await;
    let allowed = v1(
        &s,
        FRIEND,
        Method::PUT,
        &format!("/v1/images/{id}/members/p3"),
        None,
    )
    .await;
    assert_eq!(allowed.status, StatusCode::NO_CONTENT, "{}", allowed.text());
    assert_eq!(members(&s, OWNER, &id).await.as_array().unwrap().len(), 2);
    let show = v1(
        &s,
        OWNER,
        Method::GET,
        &format!("/v1/images/{id}/members/p2"),
        None,
    )
    .await;
    assert_eq!(show.status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn bad_member_requests_change_nothing() {
    let s = common::server_with(&format!("{TRUSTED}[DEFAULT]\nimage_member_quota = 2\n")).await;
    let id = reserved_image(&s).await;
    let uri = format!("/v1/images/{id}/members");
    let r = v1(
        &s,
        OWNER,
        Method::PUT,
        &uri,
        Some(json!({"memberships": [{"member": "p2"}]})),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert!(
        r.text()
            .contains("Invalid membership association: 'member_id'"),
        "{}",
        r.text()
    );
    let three =
        json!({"memberships": [{"member_id": "a"}, {"member_id": "b"}, {"member_id": "c"}]});
    let r = v1(&s, OWNER, Method::PUT, &uri, Some(three)).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text());
    assert!(
        r.text().contains("Attempted: 3, Maximum: 2"),
        "{}",
        r.text()
    );
    let r = s
        .request(
            Method::PUT,
            &uri,
            &[
                ("content-type", "application/json"),
                ("x-identity-status", "Confirmed"),
                ("x-project-id", "p1"),
                ("x-roles", "member"),
            ],
            "{not json",
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(members(&s, OWNER, &id).await, json!([]));
    let missing = v1(
        &s,
        OWNER,
        Method::GET,
        "/v1/images/0b2b7dc5-3a68-4d43-9e2a-b2f3b0a4f6a1/members",
        None,
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}
