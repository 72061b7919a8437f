//! The list query stays on the indexes it was written for (decision 5): the default
//! listing walks `created_at_image_idx` and stops at the limit instead of reading every
//! live image through the `deleted` index and sorting them.

use glance_db::{
    Column, Condition, Db, ImageListQuery, PoolSettings, SortDir, SqlValue, VisibilityScope,
};
use glance_domain::MemberStatus;

async fn db() -> (Db, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:///{}", dir.path().join("g.sqlite").display());
    let db = Db::connect(&url, &PoolSettings::default()).await.unwrap();
    db.migrate().await.unwrap();
    (db, dir)
}

fn default_list(is_admin: bool) -> ImageListQuery {
    ImageListQuery {
        scope: VisibilityScope {
            is_admin,
            project: (!is_admin).then(|| "p1".to_string()),
            visibility: None,
            member_status: Some(MemberStatus::Accepted),
        },
        conditions: vec![Condition::In(Column::OsHidden, vec![SqlValue::Bool(false)])],
        sort: vec![
            (Column::CreatedAt, SortDir::Desc),
            (Column::Id, SortDir::Desc),
        ],
        marker: None,
        limit: 1000,
    }
}

#[tokio::test]
async fn default_listing_walks_the_created_at_index() {
    let (db, _dir) = db().await;
    let plan = db
        .explain_list(&default_list(true))
        .await
        .unwrap()
        .join("\n");
    assert!(plan.contains("created_at_image_idx"), "{plan}");
    assert!(!plan.contains("ix_images_deleted"), "{plan}");
    assert!(
        !plan.contains("USE TEMP B-TREE FOR ORDER BY"),
        "no full sort:\n{plan}"
    );
    // A project's listing may instead gather its candidates through the visibility and
    // owner indexes (a union smaller than the table) and sort those; it never goes
    // through the index every live row matches.
    let plan = db
        .explain_list(&default_list(false))
        .await
        .unwrap()
        .join("\n");
    assert!(!plan.contains("ix_images_deleted"), "{plan}");
    // Memberships are looked up per image, never by scanning the whole table.
    assert!(!plan.contains("SCAN image_members"), "{plan}");
    assert!(
        plan.contains("created_at_image_idx") || plan.contains("visibility_image_idx"),
        "{plan}"
    );
}

#[tokio::test]
async fn statistics_are_rewritten_at_every_start() {
    let (db, dir) = db().await;
    db.raw_execute(&glance_db::SqlBuf::new("DELETE FROM sqlite_stat1"))
        .await
        .unwrap();
    drop(db);
    let url = format!("sqlite:///{}", dir.path().join("g.sqlite").display());
    let again = Db::connect(&url, &PoolSettings::default()).await.unwrap();
    again.migrate().await.unwrap();
    let plan = again
        .explain_list(&default_list(true))
        .await
        .unwrap()
        .join("\n");
    assert!(plan.contains("created_at_image_idx"), "{plan}");
}
