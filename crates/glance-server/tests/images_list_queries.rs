//! A list request runs a bounded number of SQL statements, whatever the page size:
//! no query per image. Counted from the per-statement `glance_db::sql` trace events (the
//! only test in this binary, so the global subscriber sees no other test's queries).
mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::http::{Method, StatusCode};
use serde_json::json;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

struct CountStatements(Arc<AtomicUsize>);

impl<S: tracing::Subscriber> Layer<S> for CountStatements {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        if event.metadata().target() == "glance_db::sql" {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
}

#[tokio::test]
async fn list_statements_are_bounded() {
    let count = Arc::new(AtomicUsize::new(0));
    let subscriber = tracing_subscriber::registry().with(CountStatements(count.clone()));
    tracing::subscriber::set_global_default(subscriber).expect("only test of this binary");

    let s = common::server_with("[paste_deploy]\nflavor = trusted-auth\n").await;
    let mut h = common::as_project("p1", "member,reader");
    h.push(("content-type".into(), "application/json".into()));
    let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut ids = Vec::new();
    for i in 0..40 {
        let body = json!({"name": format!("i{i}"), "k1": "v", "k2": "v", "tags": ["a", "b"]});
        let r = s
            .request(Method::POST, "/v2/images", &h, body.to_string())
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
        ids.push(r.json()["id"].as_str().unwrap().to_string());
    }
    // The least over three runs: opening a pool connection runs set-up statements.
    let statements = |uri: String| {
        let (s, h, count) = (&s, &h, count.clone());
        async move {
            let mut least = usize::MAX;
            for _ in 0..3 {
                let before = count.load(Ordering::SeqCst);
                let r = s.request(Method::GET, &uri, h, "").await;
                assert_eq!(r.status, StatusCode::OK, "{}", r.text());
                least = least.min(count.load(Ordering::SeqCst) - before);
            }
            least
        }
    };
    let small = statements("/v2/images?limit=2&tag=a&k1=v".into()).await;
    let large = statements("/v2/images?limit=40&tag=a&k1=v".into()).await;
    let paged = statements(format!("/v2/images?limit=40&marker={}", ids[39])).await;
    assert!(small > 0, "statement events are counted");
    assert_eq!(
        small, large,
        "the number of statements does not grow with the page"
    );
    // Images, then properties, tags and locations of the page; the marker adds its own
    // lookup (and, for a shared image of another project, a membership check).
    assert!(large <= 6, "{large} statements for one page");
    assert!(paged <= 7, "{paged} statements for a page after a marker");
}
