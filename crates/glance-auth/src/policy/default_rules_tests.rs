//! Upstream's default rules against the callers Glance sees.

use super::glance_defaults::GLANCE_DEFAULT_RULES;
use super::{DenialReason, Enforcer, PolicyOptions, Target, TokenScope};
use crate::RequestContext;

/// The callers, in the column order of the expectation strings below.
const CALLERS: [&str; 8] = [
    "admin",
    "member",
    "reader",
    "other-member",
    "system-admin",
    "domain-admin",
    "noauth",
    "service",
];

fn caller(name: &str) -> RequestContext {
    let roles = |r: &[&str]| r.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let project = |p: &str| RequestContext {
        project_id: Some(p.into()),
        project_domain_id: Some("default".into()),
        user_id: Some(format!("{name}-user")),
        authenticated: true,
        ..Default::default()
    };
    match name {
        "admin" => RequestContext {
            roles: roles(&["admin", "member", "reader"]),
            ..project("p1")
        },
        "member" => RequestContext {
            roles: roles(&["member", "reader"]),
            ..project("p1")
        },
        "reader" => RequestContext {
            roles: roles(&["reader"]),
            ..project("p1")
        },
        "other-member" => RequestContext {
            roles: roles(&["member", "reader"]),
            ..project("p2")
        },
        "system-admin" => RequestContext {
            system_scope: Some("all".into()),
            roles: roles(&["admin", "member", "reader"]),
            authenticated: true,
            ..Default::default()
        },
        "domain-admin" => RequestContext {
            domain_id: Some("d1".into()),
            roles: roles(&["admin", "member", "reader"]),
            authenticated: true,
            ..Default::default()
        },
        "noauth" => RequestContext::noauth_admin("req".into()),
        "service" => RequestContext {
            roles: roles(&["service"]),
            ..project("services")
        },
        other => panic!("no caller {other}"),
    }
}

/// `expected` has one character per caller: `y` allowed, `.` denied.
fn assert_matrix(enforcer: &Enforcer, rule: &str, target: &Target, expected: &str) {
    let actual: String = CALLERS
        .iter()
        .map(|c| {
            if enforcer.check(rule, target, &caller(c)) {
                'y'
            } else {
                '.'
            }
        })
        .collect();
    assert_eq!(actual, expected, "{rule}: columns are {CALLERS:?}");
}

/// An image as upstream's ImageTarget shows it.
fn image(owner: &str, visibility: &str, member: Option<&str>) -> Target {
    let target = Target::new()
        .set("id", "i1")
        .set("project_id", owner)
        .set("owner", owner)
        .set("visibility", visibility)
        .set("protected", false);
    match member {
        Some(m) => target.set("member_id", m),
        None => target,
    }
}

#[test]
fn image_rules() {
    let e = Enforcer::with_defaults();
    let private = image("p1", "private", None);
    //                                    admin,member,reader,other,system,domain,noauth,service
    assert_matrix(&e, "add_image", &private, "yy....y.");
    assert_matrix(&e, "get_images", &private, "yyy...y.");
    assert_matrix(&e, "get_image", &private, "yyy...y.");
    assert_matrix(
        &e,
        "get_image",
        &image("p1", "shared", Some("p2")),
        "yyyy..y.",
    );
    assert_matrix(&e, "get_image", &image("p1", "public", None), "yyyy..y.");
    assert_matrix(&e, "get_image", &image("p1", "community", None), "yyyy..y.");
    for rule in [
        "modify_image",
        "delete_image",
        "upload_image",
        "communitize_image",
        "deactivate",
        "reactivate",
        "set_image_location",
        "add_member",
        "delete_member",
    ] {
        assert_matrix(&e, rule, &private, "yy....y.");
    }
    assert_matrix(&e, "download_image", &private, "yy....y.");
    assert_matrix(
        &e,
        "download_image",
        &image("p1", "shared", Some("p2")),
        "yy.y..y.",
    );
    assert_matrix(
        &e,
        "download_from_store",
        &image("p1", "public", None),
        "yy.y..y.",
    );
    assert_matrix(&e, "get_image_location", &private, "yyy...y.");
    assert_matrix(&e, "add_image_location", &private, "yy....yy");
    assert_matrix(&e, "fetch_image_location", &private, "y.....yy");
    for rule in [
        "publicize_image",
        "copy_image",
        "delete_image_location",
        "list_cached_nodes",
    ] {
        assert_matrix(&e, rule, &private, "y.....y.");
    }
}

#[test]
fn member_rules() {
    let e = Enforcer::with_defaults();
    // The member record of project p2 on an image owned by p1.
    let shared = image("p1", "shared", Some("p2"));
    assert_matrix(&e, "get_member", &shared, "yyyy..y.");
    assert_matrix(&e, "get_members", &shared, "yyyy..y.");
    // Only the member itself (or an admin) accepts or rejects the share.
    assert_matrix(&e, "modify_member", &shared, "y..y..y.");
    assert_matrix(&e, "add_member", &shared, "yy....y.");
    assert_matrix(&e, "delete_member", &shared, "yy....y.");
    // Without a member key a reader of another project sees nothing.
    assert_matrix(&e, "get_member", &image("p1", "shared", None), "yyy...y.");
}

#[test]
fn task_cache_discovery_and_metadef_rules() {
    let e = Enforcer::with_defaults();
    let none = Target::new();
    assert_matrix(&e, "tasks_api_access", &none, "y.....y.");
    // The internal task rules are `rule:default`, i.e. anyone project-scoped.
    for rule in ["get_task", "get_tasks", "add_task", "modify_task"] {
        assert_matrix(&e, rule, &none, "yyyy..yy");
    }
    for rule in [
        "manage_image_cache",
        "cache_image",
        "cache_list",
        "cache_delete",
        "cache_clean",
        "cache_prune",
    ] {
        assert_matrix(&e, rule, &none, "y.....y.");
    }
    assert_matrix(&e, "stores_info_detail", &none, "y.....yy");

    let namespace = Target::new()
        .set("project_id", "p1")
        .set("visibility", "private");
    let public_namespace = Target::new()
        .set("project_id", "p1")
        .set("visibility", "public");
    for rule in [
        "get_metadef_namespace",
        "get_metadef_object",
        "get_metadef_objects",
        "get_metadef_property",
        "get_metadef_properties",
        "get_metadef_tag",
        "get_metadef_tags",
        "list_metadef_resource_types",
        "get_metadef_resource_type",
    ] {
        assert_matrix(&e, rule, &namespace, "yyy...y.");
        assert_matrix(&e, rule, &public_namespace, "yyyy..y.");
    }
    assert_matrix(&e, "get_metadef_namespaces", &namespace, "yyy...y.");
    for rule in [
        "add_metadef_namespace",
        "modify_metadef_namespace",
        "delete_metadef_namespace",
        "add_metadef_object",
        "modify_metadef_object",
        "delete_metadef_object",
        "add_metadef_property",
        "modify_metadef_property",
        "remove_metadef_property",
        "add_metadef_tag",
        "add_metadef_tags",
        "modify_metadef_tag",
        "delete_metadef_tag",
        "delete_metadef_tags",
        "add_metadef_resource_type_association",
        "remove_metadef_resource_type_association",
    ] {
        assert_matrix(&e, rule, &namespace, "y.....y.");
    }
}

#[test]
fn every_registered_rule_is_known_and_scoped_like_upstream() {
    let e = Enforcer::with_defaults();
    assert_eq!(GLANCE_DEFAULT_RULES.len(), 67);
    let unscoped = [
        "default",
        "context_is_admin",
        "service_api",
        "metadef_default",
        "metadef_admin",
    ];
    for rule in GLANCE_DEFAULT_RULES {
        assert!(e.contains_rule(rule.name));
        let expected: &[&str] = if unscoped.contains(&rule.name) {
            &[]
        } else {
            &["project"]
        };
        assert_eq!(rule.scope_types, expected, "{}", rule.name);
    }
}

#[test]
fn scope_mismatch_is_reported_as_such() {
    let e = Enforcer::with_defaults();
    let denied = e
        .enforce("get_images", &Target::new(), &caller("system-admin"))
        .unwrap_err();
    assert_eq!(
        denied.reason,
        DenialReason::ScopeMismatch {
            token_scope: TokenScope::System
        }
    );
    assert_eq!(
        denied.to_string(),
        "You are not authorized to complete get_images action."
    );
    let denied = e
        .enforce("get_images", &Target::new(), &caller("domain-admin"))
        .unwrap_err();
    assert_eq!(
        denied.reason,
        DenialReason::ScopeMismatch {
            token_scope: TokenScope::Domain
        }
    );
    let denied = e
        .enforce(
            "add_image",
            &image("p1", "private", None),
            &caller("reader"),
        )
        .unwrap_err();
    assert_eq!(denied.reason, DenialReason::RuleFailed);
    assert_eq!(
        denied.to_string(),
        "You are not authorized to complete add_image action."
    );
    let denied = e
        .enforce("no_such_rule", &Target::new(), &caller("admin"))
        .unwrap_err();
    assert_eq!(denied.reason, DenialReason::UnknownRule);
}

#[test]
fn scope_can_be_logged_instead_of_enforced() {
    let opts = PolicyOptions {
        enforce_scope: false,
        ..Default::default()
    };
    let e = Enforcer::load(&opts).unwrap();
    assert!(e.check("publicize_image", &Target::new(), &caller("system-admin")));
}

#[test]
fn is_admin_uses_context_is_admin_without_scope() {
    let e = Enforcer::with_defaults();
    let admins: Vec<bool> = CALLERS.iter().map(|c| e.is_admin(&caller(c))).collect();
    assert_eq!(admins, [true, false, false, false, true, true, true, false]);
}

#[test]
fn old_defaults_are_ored_in_when_new_defaults_are_not_enforced() {
    let opts = PolicyOptions {
        enforce_new_defaults: false,
        ..Default::default()
    };
    let e = Enforcer::load(&opts).unwrap();
    let private = image("p1", "private", None);
    // `... or rule:default`, and `default` is "" (or admin): any project caller.
    assert_matrix(&e, "add_image", &private, "yyyy..yy");
    assert_matrix(&e, "modify_member", &private, "yyyy..yy");
    assert_matrix(&e, "get_metadef_namespace", &private, "yyyy..yy");
    // Rules without a deprecated rule, or whose old rule is as strict, stay.
    assert_matrix(&e, "publicize_image", &private, "y.....y.");
    assert_matrix(&e, "cache_image", &private, "y.....y.");
    assert_matrix(&e, "stores_info_detail", &private, "y.....yy");
}

#[test]
fn runtime_rules_are_added_and_unscoped() {
    let mut e = Enforcer::with_defaults();
    e.add_rule("glance_creator", "role:admin or role:glance_create_user")
        .unwrap();
    e.add_rule("x_prop:create", "rule:glance_creator").unwrap();
    let creator = RequestContext {
        roles: vec!["glance_create_user".into()],
        ..caller("system-admin")
    };
    assert!(e.check("x_prop:create", &Target::new(), &creator));
    assert!(!e.check("x_prop:create", &Target::new(), &caller("member")));
    let err = e.add_rule("broken", "role:a or").unwrap_err();
    assert!(err.to_string().contains("\"broken\""), "{err}");
}

#[test]
fn target_keys_follow_rule_references() {
    let enforcer = Enforcer::with_defaults();
    assert_eq!(
        enforcer.target_keys("get_image"),
        ["member_id", "project_id", "visibility"]
    );
    assert!(enforcer.target_keys("context_is_admin").is_empty());
    assert!(enforcer.target_keys("no_such_rule").is_empty());
    let mut custom = Enforcer::with_defaults();
    custom
        .add_rule("get_image", "rule:owner_or_tagged")
        .unwrap();
    custom
        .add_rule("owner_or_tagged", "project_id:%(owner)s or 'x':%(x_label)s")
        .unwrap();
    assert_eq!(custom.target_keys("get_image"), ["owner", "x_label"]);
}
