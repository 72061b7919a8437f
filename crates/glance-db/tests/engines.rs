//! The same persistence calls on SQLite, PostgreSQL and MariaDB: images with their
//! properties, tags, members and locations, compare-and-swap, listing, metadefs.

mod common;

use chrono::{NaiveDateTime, Timelike};
use glance_db::{
    Column, Condition, ContentKind, ContentPage, ContentValues, Db, Engine, ImageChanges,
    ImageListQuery, ListResult, ListVisibility, MemberAdded, NamespaceContent, NamespaceListQuery,
    NamespaceScope, NamespaceValues, SortDir, SqlBuf, SqlValue, StatusChange, TagAdded,
    VisibilityScope,
};
use glance_domain::{Image, ImageStatus, MemberStatus, Visibility};

/// A time every engine stores exactly (MySQL's DATETIME keeps whole seconds).
fn at(secs: u32) -> NaiveDateTime {
    chrono::NaiveDate::from_ymd_opt(2024, 5, 1)
        .unwrap()
        .and_hms_opt(10, 0, 0)
        .unwrap()
        .with_second(secs % 60)
        .unwrap()
}

fn image(id: &str, owner: &str, created: u32) -> Image {
    Image {
        id: id.to_string(),
        name: Some(format!("image {id}")),
        status: ImageStatus::Queued,
        visibility: Visibility::Shared,
        protected: false,
        os_hidden: false,
        checksum: None,
        os_hash_algo: None,
        os_hash_value: None,
        owner: Some(owner.to_string()),
        size: None,
        virtual_size: None,
        min_ram: 0,
        min_disk: 0,
        disk_format: Some("raw".into()),
        container_format: Some("bare".into()),
        created_at: at(created),
        updated_at: at(created),
        properties: [("os_distro".to_string(), "debian".to_string())]
            .into_iter()
            .collect(),
        tags: vec!["a".into(), "b".into()],
        locations: Vec::new(),
    }
}

fn admin_list() -> ImageListQuery {
    ImageListQuery {
        scope: VisibilityScope {
            is_admin: true,
            project: None,
            visibility: None,
            member_status: None,
        },
        conditions: Vec::new(),
        sort: vec![
            (Column::CreatedAt, SortDir::Desc),
            (Column::Id, SortDir::Desc),
        ],
        marker: None,
        limit: 100,
    }
}

async fn page(db: &Db, q: &ImageListQuery) -> Vec<String> {
    match db.list_images(q).await.unwrap() {
        ListResult::Page(images) => images.into_iter().map(|i| i.id).collect(),
        other => panic!("not a page: {other:?}"),
    }
}

async fn image_round_trip(db: &Db) {
    let img = image("11111111-1111-1111-1111-111111111111", "p1", 1);
    db.create_image(&img).await.unwrap();
    assert!(matches!(
        db.create_image(&img).await,
        Err(glance_db::DbError::Duplicate)
    ));
    let got = db.get_image(&img.id).await.unwrap().unwrap();
    assert_eq!(got.name, img.name);
    assert_eq!(got.status, ImageStatus::Queued);
    assert_eq!(got.visibility, Visibility::Shared);
    assert_eq!(got.created_at, img.created_at);
    assert_eq!(got.properties, img.properties);
    assert_eq!(got.tags, img.tags);
    assert!(!got.protected && !got.os_hidden);
    assert_eq!((got.min_ram, got.size), (0, None));

    // Attributes and properties change; an unchanged value still counts as a match.
    let changes = ImageChanges {
        columns: vec![
            ("name", SqlValue::from("renamed")),
            ("visibility", SqlValue::from("public")),
            ("protected", SqlValue::Bool(true)),
            ("min_ram", SqlValue::Int(512)),
            ("virtual_size", SqlValue::Null),
        ],
        set_properties: vec![
            ("os_distro".into(), "debian".into()),
            ("hw_cpu".into(), "4".into()),
        ],
        remove_properties: Vec::new(),
        tags: Some(vec!["b".into(), "c".into()]),
    };
    assert!(db.update_image(&img.id, &changes, None).await.unwrap());
    assert!(db.update_image(&img.id, &changes, None).await.unwrap());
    let got = db.get_image(&img.id).await.unwrap().unwrap();
    assert_eq!(got.name.as_deref(), Some("renamed"));
    assert_eq!(got.visibility, Visibility::Public);
    assert!(got.protected);
    assert_eq!(got.min_ram, 512);
    assert_eq!(got.properties.len(), 2);
    assert_eq!(got.tags, vec!["b".to_string(), "c".to_string()]);

    // A removed property comes back when set again (same unique row revived).
    let remove = ImageChanges {
        remove_properties: vec!["hw_cpu".into()],
        ..Default::default()
    };
    assert!(db.update_image(&img.id, &remove, None).await.unwrap());
    let set_again = ImageChanges {
        set_properties: vec![("hw_cpu".into(), "8".into())],
        ..Default::default()
    };
    assert!(db.update_image(&img.id, &set_again, None).await.unwrap());
    let got = db.get_image(&img.id).await.unwrap().unwrap();
    assert_eq!(got.properties.get("hw_cpu").map(String::as_str), Some("8"));

    // Compare-and-swap: only the first of two identical status changes wins.
    let to_saving = StatusChange {
        from: ImageStatus::Queued,
        to: ImageStatus::Saving,
        columns: Vec::new(),
    };
    assert!(db.change_status(&img.id, &to_saving).await.unwrap());
    assert!(!db.change_status(&img.id, &to_saving).await.unwrap());
    assert!(!db
        .update_image(&img.id, &changes, Some(ImageStatus::Queued))
        .await
        .unwrap());
    let activate = StatusChange {
        from: ImageStatus::Saving,
        to: ImageStatus::Active,
        columns: vec![
            ("size", SqlValue::Int(5_000_000_000)),
            (
                "checksum",
                SqlValue::from("0123456789abcdef0123456789abcdef"),
            ),
        ],
    };
    let meta: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(r#"{"store": "file"}"#).unwrap();
    assert!(db
        .activate_with_location(&img.id, &activate, "file:///data/x", &meta)
        .await
        .unwrap());
    let got = db.get_image(&img.id).await.unwrap().unwrap();
    assert_eq!(got.status, ImageStatus::Active);
    assert_eq!(got.size, Some(5_000_000_000));
    assert_eq!(got.locations.len(), 1);
    assert_eq!(got.locations[0].url, "file:///data/x");
    assert_eq!(got.locations[0].store_id(), Some("file"));
    assert_eq!(got.locations[0].status, "active");
    assert_eq!(db.storage_used_by(Some("p1")).await.unwrap(), 5_000_000_000);
    assert_eq!(db.storage_used_by(None).await.unwrap(), 0);

    // Delete is a CAS too, and the id is never reused.
    assert!(!db
        .delete_image(&img.id, ImageStatus::Queued, ImageStatus::Deleted)
        .await
        .unwrap());
    assert!(db
        .delete_image(&img.id, ImageStatus::Active, ImageStatus::Deleted)
        .await
        .unwrap());
    assert!(db.get_image(&img.id).await.unwrap().is_none());
    assert!(db.image_id_exists(&img.id).await.unwrap());
    assert!(matches!(
        db.create_image(&img).await,
        Err(glance_db::DbError::Duplicate)
    ));
}

async fn members_and_tags(db: &Db) {
    let img = image("22222222-2222-2222-2222-222222222222", "p1", 2);
    db.create_image(&img).await.unwrap();
    assert!(matches!(
        db.add_member(&img.id, "p2", Some(2)).await.unwrap(),
        MemberAdded::Added(_)
    ));
    assert_eq!(
        db.add_member(&img.id, "p2", Some(2)).await.unwrap(),
        MemberAdded::AlreadyMember
    );
    assert!(matches!(
        db.add_member(&img.id, "p3", None).await.unwrap(),
        MemberAdded::Added(_)
    ));
    assert_eq!(
        db.add_member(&img.id, "p4", Some(2)).await.unwrap(),
        MemberAdded::QuotaExceeded { current: 2 }
    );
    let m = db
        .update_member_status(&img.id, "p2", MemberStatus::Accepted)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.status, MemberStatus::Accepted);
    // Setting the same status again still finds the membership.
    assert!(db
        .update_member_status(&img.id, "p2", MemberStatus::Accepted)
        .await
        .unwrap()
        .is_some());
    let members = db.list_members(&img.id).await.unwrap();
    assert_eq!(
        members
            .iter()
            .map(|m| m.member_id.as_str())
            .collect::<Vec<_>>(),
        ["p2", "p3"]
    );
    assert!(db.delete_member(&img.id, "p3").await.unwrap());
    assert!(!db.delete_member(&img.id, "p3").await.unwrap());
    assert!(db.get_member(&img.id, "p3").await.unwrap().is_none());
    // A deleted membership is revived as pending.
    assert!(matches!(
        db.add_member(&img.id, "p3", None).await.unwrap(),
        MemberAdded::Added(_)
    ));
    assert_eq!(
        db.get_member(&img.id, "p3").await.unwrap().unwrap().status,
        MemberStatus::Pending
    );

    assert_eq!(
        db.add_tag(&img.id, "c", Some(3)).await.unwrap(),
        TagAdded::Added
    );
    assert_eq!(
        db.add_tag(&img.id, "c", Some(3)).await.unwrap(),
        TagAdded::AlreadyPresent
    );
    assert_eq!(
        db.add_tag(&img.id, "d", Some(3)).await.unwrap(),
        TagAdded::QuotaExceeded
    );
    assert!(db.delete_tag(&img.id, "a").await.unwrap());
    assert!(!db.delete_tag(&img.id, "a").await.unwrap());
    let got = db.get_image(&img.id).await.unwrap().unwrap();
    assert_eq!(got.tags, vec!["b".to_string(), "c".to_string()]);
}

/// Tags differ by case on every engine, also where the collation (MySQL's default)
/// compares text case-insensitively.
async fn tags_are_case_sensitive(db: &Db) {
    let img = image("22222222-2222-2222-2222-2222222222c5", "p1", 3);
    db.create_image(&img).await.unwrap();
    assert_eq!(
        db.add_tag(&img.id, "A", None).await.unwrap(),
        TagAdded::Added
    );
    let changes = ImageChanges {
        tags: Some(vec!["a".into(), "A".into(), "x".into()]),
        ..Default::default()
    };
    assert!(db.update_image(&img.id, &changes, None).await.unwrap());
    assert!(db
        .delete_tag(&img.id, "X")
        .await
        .is_ok_and(|removed| !removed));
    assert!(db.delete_tag(&img.id, "A").await.unwrap());
    let got = db.get_image(&img.id).await.unwrap().unwrap();
    assert_eq!(got.tags, vec!["a".to_string(), "x".to_string()]);
}

async fn listing(db: &Db) {
    let ids: Vec<String> = (0..5)
        .map(|i| format!("3333333{i}-3333-3333-3333-333333333333"))
        .collect();
    for (i, id) in ids.iter().enumerate() {
        let mut img = image(id, if i % 2 == 0 { "p1" } else { "p2" }, 10 + i as u32);
        img.visibility = if i == 4 {
            Visibility::Public
        } else {
            Visibility::Private
        };
        if i == 1 {
            img.name = None;
        }
        db.create_image(&img).await.unwrap();
    }
    db.add_member(&ids[1], "p1", None).await.unwrap();
    // Newest first, with keyset paging through a marker.
    let mut q = admin_list();
    assert_eq!(
        page(db, &q).await,
        ids.iter().rev().cloned().collect::<Vec<_>>()
    );
    q.limit = 2;
    q.marker = Some(ids[3].clone());
    assert_eq!(page(db, &q).await, vec![ids[2].clone(), ids[1].clone()]);
    // Sorting on a nullable column: NULL goes where the engine's plain ORDER BY puts
    // it, as upstream's (largest on PostgreSQL, smallest elsewhere), and paging one
    // image at a time through markers walks the same order, across the NULL too.
    let null_is_largest = db.engine() == Engine::Postgres;
    for dir in [SortDir::Asc, SortDir::Desc] {
        let mut q = admin_list();
        q.sort = vec![(Column::Name, dir), (Column::Id, dir)];
        let whole = page(db, &q).await;
        let null_last = (dir == SortDir::Asc) == null_is_largest;
        let expected_at = if null_last { 4 } else { 0 };
        assert_eq!(
            whole[expected_at],
            ids[1],
            "{dir:?} on {:?}: {whole:?}",
            db.engine()
        );
        q.limit = 1;
        let mut walked = Vec::new();
        loop {
            let next = page(db, &q).await;
            let Some(id) = next.first() else { break };
            walked.push(id.clone());
            q.marker = Some(id.clone());
        }
        assert_eq!(walked, whole, "{dir:?} paged on {:?}", db.engine());
    }
    // Filters: visibility enum, property, tag, ranges, times.
    let mut q = admin_list();
    q.conditions = vec![Condition::In(
        Column::Visibility,
        vec![SqlValue::from("public")],
    )];
    assert_eq!(page(db, &q).await, vec![ids[4].clone()]);
    q.conditions = vec![
        Condition::Property {
            name: "os_distro".into(),
            values: vec!["debian".into()],
        },
        Condition::Tag("a".into()),
        Condition::Cmp(Column::CreatedAt, glance_db::CmpOp::Gte, at(13).into()),
        Condition::In(Column::MinRam, vec![SqlValue::Int(0)]),
        Condition::In(Column::Protected, vec![SqlValue::Bool(false)]),
    ];
    assert_eq!(page(db, &q).await, vec![ids[4].clone(), ids[3].clone()]);
    // A project sees its own, the public one, and what is shared with it.
    let q = ImageListQuery {
        scope: VisibilityScope {
            is_admin: false,
            project: Some("p1".into()),
            visibility: Some(ListVisibility::All),
            member_status: None,
        },
        ..admin_list()
    };
    let mut seen = page(db, &q).await;
    seen.sort();
    assert_eq!(
        seen,
        vec![ids[0].clone(), ids[2].clone(), ids[4].clone()],
        "private images of p2 are hidden even from a member"
    );
}

async fn metadefs(db: &Db) {
    let types = db.list_metadef_resource_types().await.unwrap();
    assert!(types
        .iter()
        .any(|t| t.name == "OS::Glance::Image" && t.protected));
    let values = NamespaceValues {
        namespace: "OS::Compute::Test".into(),
        display_name: Some("Test".into()),
        description: None,
        visibility: "public".into(),
        protected: true,
        owner: "admin".into(),
    };
    let content = NamespaceContent {
        associations: vec![glance_db::AssociationValues {
            name: "OS::Glance::Image".into(),
            prefix: Some("hw_".into()),
            properties_target: None,
        }],
        properties: vec![ContentValues {
            name: "cpu".into(),
            json_schema: Some(r#"{"type": "integer"}"#.into()),
            ..Default::default()
        }],
        tags: vec![ContentValues::tag("t1")],
        ..Default::default()
    };
    let ns = db
        .create_metadef_namespace(&values, &content)
        .await
        .unwrap();
    assert!(ns.protected);
    assert!(matches!(
        db.create_metadef_namespace(&values, &NamespaceContent::default())
            .await,
        Err(glance_db::DbError::Duplicate)
    ));
    let listed = db
        .list_metadef_namespaces(&NamespaceListQuery {
            scope: NamespaceScope::PublicOr(Some("p1".into())),
            visibility: None,
            resource_types: Some(vec!["OS::Glance::Image".into()]),
            marker: None,
            limit: Some(10),
            sort_key: "created_at".into(),
            sort_dir: SortDir::Asc,
        })
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        db.list_metadef_associations(ns.id).await.unwrap()[0]
            .prefix
            .as_deref(),
        Some("hw_")
    );
    let tags = db
        .create_metadef_tags(ns.id, &["t2".into(), "t3".into()], true)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(tags.len(), 2);
    let all = db
        .list_metadef_content(ContentKind::Tag, ns.id, &ContentPage::default())
        .await
        .unwrap();
    assert_eq!(all.len(), 3);
    let page = ContentPage {
        sort_key: "name".into(),
        sort_dir: SortDir::Desc,
        marker: Some(all.iter().find(|t| t.name == "t3").unwrap().clone()),
        limit: Some(1),
    };
    let next = db
        .list_metadef_content(ContentKind::Tag, ns.id, &page)
        .await
        .unwrap();
    assert_eq!(next[0].name, "t2");
    db.delete_metadef_namespace(ns.id).await.unwrap();
    assert!(db
        .get_metadef_namespace("OS::Compute::Test")
        .await
        .unwrap()
        .is_none());
}

/// Raw values come back as the same engine-neutral types.
async fn row_values(db: &Db) {
    let rows = db
        .raw_fetch(&{
            let mut q = SqlBuf::new("SELECT version_num, ");
            q.bind(7i64).push(" AS n FROM alembic_version");
            q
        })
        .await
        .unwrap();
    assert_eq!(
        rows[0].text("version_num").as_deref(),
        Some(glance_db::SCHEMA_VERSION)
    );
    assert_eq!(rows[0].int("n"), Some(7));
}

/// Concurrent compare-and-swaps of one image from separate connections: one wins.
async fn concurrent_status_changes_have_one_winner(db: &Db) {
    let img = image("44444444-4444-4444-4444-444444444444", "p1", 4);
    db.create_image(&img).await.unwrap();
    let change = StatusChange {
        from: ImageStatus::Queued,
        to: ImageStatus::Saving,
        columns: Vec::new(),
    };
    let tries = (0..6).map(|_| {
        let (db, id, change) = (db.clone(), img.id.clone(), change.clone());
        tokio::spawn(async move { db.change_status(&id, &change).await.unwrap() })
    });
    let mut winners = 0;
    for t in tries.collect::<Vec<_>>() {
        winners += t.await.unwrap() as usize;
    }
    assert_eq!(winners, 1);
}

/// An UPDATE that matches a row without changing it still counts it (MySQL's
/// CLIENT_FOUND_ROWS), and text outside ASCII survives.
async fn matched_rows_and_text(db: &Db) {
    let mut img = image("55555555-5555-5555-5555-555555555555", "p1", 5);
    img.properties
        .insert("description".into(), "Debian é 中文 — «x»".into());
    db.create_image(&img).await.unwrap();
    let mut q = SqlBuf::new("UPDATE images SET name = name WHERE id = ");
    q.bind(img.id.as_str());
    assert_eq!(db.raw_execute(&q).await.unwrap(), 1);
    let got = db.get_image(&img.id).await.unwrap().unwrap();
    assert_eq!(got.properties, img.properties);
}

/// Every engine explains the list query (operators read it in docs/BENCHMARKS.md).
async fn list_plans_are_explained(db: &Db) {
    let plan = db.explain_list(&admin_list()).await.unwrap().join("\n");
    assert!(plan.contains("images"), "{plan}");
}

async fn a_foreign_schema_version_is_refused(db: &Db) {
    db.migrate().await.unwrap();
    db.raw_execute(&SqlBuf::new(
        "UPDATE alembic_version SET version_num = 'zed_contract01'",
    ))
    .await
    .unwrap();
    let err = db.migrate().await.unwrap_err();
    assert!(err.to_string().contains("zed_contract01"), "{err}");
}

on_every_engine!(
    image_round_trip,
    members_and_tags,
    tags_are_case_sensitive,
    listing,
    metadefs,
    row_values,
    list_plans_are_explained,
    concurrent_status_changes_have_one_winner,
    matched_rows_and_text,
    a_foreign_schema_version_is_refused,
);

/// A write that ends without committing (a tag that is already there, after the
/// image row was touched; an insert that hits a duplicate key) must release its row locks at once, not when its
/// pooled connection is next used: another node's write of the image goes through.
async fn abandoned_writes_release_their_locks(engine: Engine) {
    let Some(t) = common::migrated(engine).await else {
        return;
    };
    let id = "55555555-5555-5555-5555-555555555555";
    t.db.create_image(&image(id, "p1", 5)).await.unwrap();
    assert!(matches!(
        t.db.add_tag(id, "a", None).await.unwrap(),
        TagAdded::AlreadyPresent
    ));
    // A second create with an id in use fails on the key, inside its transaction.
    let bare_id = "66666666-6666-6666-6666-666666666666";
    let mut bare = image(bare_id, "p1", 6);
    bare.properties.clear();
    bare.tags.clear();
    t.db.create_image(&bare).await.unwrap();
    assert!(matches!(
        t.db.create_image(&bare).await,
        Err(glance_db::DbError::Duplicate)
    ));
    // Another pool, as another API node, with a short lock wait.
    let settings = glance_db::PoolSettings {
        pool_size: 1,
        max_overflow: 0,
        connect_retries: 0,
        ..glance_db::PoolSettings::default()
    };
    let other = Db::connect(&t.url, &settings).await.unwrap();
    let wait = match engine {
        Engine::Postgres => "SET lock_timeout = '5s'",
        _ => "SET SESSION innodb_lock_wait_timeout = 5",
    };
    other.raw_execute(&SqlBuf::new(wait)).await.unwrap();
    let mut q = SqlBuf::new("UPDATE images SET name = 'renamed' WHERE id = ");
    q.bind(id);
    let updated = other.raw_execute(&q).await;
    assert_eq!(updated.unwrap(), 1, "the row locks were released");
    let mut q = SqlBuf::new("DELETE FROM images WHERE id = ");
    q.bind(bare_id);
    let deleted = other.raw_execute(&q).await;
    assert_eq!(deleted.unwrap(), 1, "the key lock was released");
    other.close().await;
    t.finish().await;
}

#[tokio::test]
async fn abandoned_writes_release_their_locks_postgres() {
    abandoned_writes_release_their_locks(Engine::Postgres).await;
}

#[tokio::test]
async fn abandoned_writes_release_their_locks_mysql() {
    abandoned_writes_release_their_locks(Engine::MySql).await;
}
