//! Credentials and tokens: a wrong key is an error that does not show the key; the
//! token is reused, renewed after Swift refuses it (401), and renewed ahead of its
//! expiry when it would expire within `swift_store_expire_soon_interval`.

use glance_store::behaviour::{read_all, test_id};
use glance_store::{Store, StoreCaller};
use md5::Digest;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::proxy::Relay;
use super::raw::RawSwift;
use super::{env, in_section_store, open, unique, upload, vars, Env};

#[tokio::test]
async fn a_wrong_key_is_an_error_that_never_shows_the_key() {
    let Some(env) = env() else { return };
    let secret = "not-the-key-Q7xZ";
    let wrong = Env {
        key: secret.into(),
        ..env.clone()
    };
    let container = unique("gt-wrongkey");
    let store = open(in_section_store(&wrong, &container));
    let c = StoreCaller::service();
    let err = glance_store::behaviour::begin(&store, &test_id(800), &c)
        .await
        .err()
        .expect("a wrong key is refused");
    let text = format!("{err} {err:?}");
    assert!(!text.contains(secret), "{text}");
    assert!(text.contains("401"), "{text}");

    // The same through a location that carries the wrong key.
    let location = format!(
        "swift+http://{}:{secret}@{}/{container}/x",
        env.user.replace(':', "%3A"),
        env.auth_url.trim_start_matches("http://")
    );
    for err in [
        store.size(&location, &c).await.err(),
        store.delete(&location, &c).await.err(),
        store.open(&location, None, &c).await.err(),
    ] {
        let err = err.expect("refused");
        let text = format!("{err} {err:?}");
        assert!(!text.contains(secret), "{text}");
    }
}

/// tempauth keeps tokens in memcached under md5("AUTH_/token/<token>"); deleting the
/// entry revokes the token, as an expiry or a revocation on the server would.
async fn revoke(memcached: &str, token: &str) {
    let key = hex(&md5::Md5::digest(format!("AUTH_/token/{token}").as_bytes()));
    let mut conn = tokio::net::TcpStream::connect(memcached)
        .await
        .expect("memcached");
    conn.write_all(format!("delete {key}\r\n").as_bytes())
        .await
        .unwrap();
    let mut answer = [0u8; 64];
    let n = conn.read(&mut answer).await.unwrap();
    assert!(
        answer[..n].starts_with(b"DELETED"),
        "memcached: {:?}",
        &answer[..n]
    );
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Uses its own tempauth account (`GLANCE_TEST_SWIFT_USER2`), so revoking its token
/// cannot disturb the other tests running at the same time. Auth requests go through
/// a relay that counts them.
#[tokio::test]
async fn token_is_reused_and_renewed_after_a_401_or_before_expiry() {
    let Some(base) = env() else { return };
    let Some([user, key]) = vars(["GLANCE_TEST_SWIFT_USER2", "GLANCE_TEST_SWIFT_KEY2"]) else {
        return;
    };
    let memcached =
        std::env::var("GLANCE_TEST_SWIFT_MEMCACHED").unwrap_or_else(|_| "127.0.0.1:21211".into());
    let swift = base.auth_url.split('/').nth(2).unwrap().to_string();
    let relay = Relay::start(&swift).await;
    let env = Env {
        auth_url: base
            .auth_url
            .replace(&swift, &format!("127.0.0.1:{}", relay.port)),
        user,
        key,
    };
    let auth_path = format!("GET /{}", base.auth_url.splitn(4, '/').nth(3).unwrap());
    let container = unique("gt-token");
    let store = open(in_section_store(&env, &container));
    let c = StoreCaller::service();

    let location = upload(&store, &c, &test_id(900), b"token test", None).await;
    store.size(&location, &c).await.unwrap();
    assert_eq!(relay.count(&auth_path), 1, "one login for several calls");

    // tempauth hands the same user the same token, so this is the store's token.
    let raw = RawSwift::login(&base.auth_url, &env.user, &env.key).await;
    revoke(&memcached, &raw.token).await;
    let reader = store
        .open(&location, None, &c)
        .await
        .expect("renewed after 401");
    assert_eq!(read_all(reader).await, b"token test");
    assert_eq!(relay.count(&auth_path), 2, "one new login after the 401");

    // A window longer than the token's life: every call renews it first.
    let eager = open(
        in_section_store(&env, &container).with("swift_store_expire_soon_interval", "1000000"),
    );
    let before = relay.count(&auth_path);
    eager.size(&location, &c).await.unwrap();
    eager.size(&location, &c).await.unwrap();
    assert_eq!(
        relay.count(&auth_path),
        before + 2,
        "renewed before each call"
    );

    store.delete(&location, &c).await.unwrap();
    let raw = RawSwift::login(&base.auth_url, &env.user, &env.key).await;
    raw.remove_container(&container).await;
}
