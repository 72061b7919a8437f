use std::cell::RefCell;
use std::path::Path;

use super::*;

const ROLES_SAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/upstream-data/property-protections-roles.conf.sample"
);
const POLICIES_SAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/upstream-data/property-protections-policies.conf.sample"
);

/// The sections upstream's own unit tests run against (their role lists), plus
/// an `os_glance_*` section that must be dropped.
const ROLES_FIXTURE: &str = "\
[^x_owner_.*]
create = admin,member
read = admin,member
update = admin,member
delete = admin,member

[os_glance_store]
create = !
read = !
update = !
delete = !

[spl_read_only_prop]
create = admin
read = admin,spl_role
update = admin
delete = admin

[^x_all_permitted.*]
create = @
read = @
update = @
delete = @

[^x_none_permitted.*]
create = !
read = !
update = !
delete = !

[x_none_read]
create = admin,member
read = !
update = !
delete = !

[x_none_update]
create = admin,member
read = admin,member
update = !
delete = admin,member

[x_none_delete]
create = admin,member
read = admin,member
update = admin,member
delete = !

[x_case_insensitive]
create = admin,Member
read = admin,Member
update = admin,Member
delete = admin,Member

[x_foo_matcher]
create = admin
read = admin
update = admin
delete = admin

[x_foo_*]
create = @
read = @
update = @
delete = @

[.*]
create = admin
read = admin
update = admin
delete = admin
";

fn ctx(roles: &[&str]) -> RequestContext {
    RequestContext {
        roles: roles.iter().map(|r| r.to_string()).collect(),
        ..Default::default()
    }
}

fn no_policy(_: &str) -> bool {
    panic!("the roles format never consults the policy engine")
}

fn roles(text: &str) -> PropertyProtections {
    PropertyProtections::parse(text, "test.conf", RuleFormat::Roles).unwrap()
}

fn error(text: &str, format: RuleFormat) -> (usize, String) {
    match PropertyProtections::parse(text, "bad.conf", format).unwrap_err() {
        ProtectionError::Invalid {
            origin,
            line,
            problem,
        } => {
            assert_eq!(origin, "bad.conf");
            (line, problem)
        }
        other => panic!("unexpected error {other}"),
    }
}

/// Which of create/read/update/delete `roles` may do on `property`, as "crud"
/// with `-` for a denied operation.
fn crud(p: &PropertyProtections, property: &str, roles: &[&str]) -> String {
    let c = ctx(roles);
    PropertyOp::ALL
        .iter()
        .map(|op| {
            if p.allows(property, *op, &c, &no_policy) {
                op.as_str().chars().next().unwrap()
            } else {
                '-'
            }
        })
        .collect()
}

#[test]
fn roles_sample_file() {
    let p = PropertyProtections::load(Path::new(ROLES_SAMPLE), RuleFormat::Roles).unwrap();
    assert_eq!(
        p.sections().collect::<Vec<_>>(),
        ["os_glance.*", "^x_.*", ".*"]
    );
    assert_eq!(crud(&p, "x_billing", &["member"]), "crud");
    assert_eq!(crud(&p, "x_billing", &["_member_"]), "crud");
    assert_eq!(crud(&p, "x_billing", &["reader"]), "----");
    assert_eq!(crud(&p, "os_distro", &["member"]), "----");
    assert_eq!(crud(&p, "os_distro", &["admin"]), "crud");
    // `^x_` is anchored: this one falls through to `.*`.
    assert_eq!(crud(&p, "y_x_billing", &["member"]), "----");
    assert!(p.referenced_policy_rules().is_empty());
}

#[test]
fn policies_sample_file() {
    let p = PropertyProtections::load(Path::new(POLICIES_SAMPLE), RuleFormat::Policies).unwrap();
    assert_eq!(p.format(), RuleFormat::Policies);
    assert_eq!(p.referenced_policy_rules(), ["default", "context_is_admin"]);
    let asked = RefCell::new(Vec::new());
    let admin_only = |name: &str| {
        asked.borrow_mut().push(name.to_string());
        name == "default"
    };
    let c = ctx(&["member"]);
    assert!(p.allows("x_foo", PropertyOp::Update, &c, &admin_only));
    assert!(!p.allows("foo", PropertyOp::Read, &c, &admin_only));
    assert_eq!(*asked.borrow(), ["default", "context_is_admin"]);
}

#[test]
fn upstream_role_expectations() {
    let p = roles(ROLES_FIXTURE);
    // An unknown property falls to `.*` (admin only).
    assert_eq!(crud(&p, "test_prop", &["admin"]), "crud");
    assert_eq!(crud(&p, "test_prop", &["member"]), "----");
    assert_eq!(crud(&p, "x_owner_prop", &["member"]), "crud");
    assert_eq!(crud(&p, "spl_read_only_prop", &["spl_role"]), "-r--");
    assert_eq!(crud(&p, "x_all_permitted", &[""]), "crud");
    assert_eq!(crud(&p, "x_all_permitted_joe", &["joe_soap"]), "crud");
    assert_eq!(crud(&p, "x_none_permitted", &["admin"]), "----");
    assert_eq!(crud(&p, "x_none_read", &["admin", "member"]), "c---");
    assert_eq!(crud(&p, "x_none_update", &["admin", "member"]), "cr-d");
    assert_eq!(crud(&p, "x_none_delete", &["admin", "member"]), "cru-");
    // The file says `Member`.
    assert_eq!(crud(&p, "x_case_insensitive", &["member"]), "crud");
    // `x_foo_matcher` comes before the open `x_foo_*` and wins.
    assert_eq!(crud(&p, "x_foo_matcher", &[""]), "----");
    assert_eq!(crud(&p, "x_foo_other", &[""]), "crud");
}

#[test]
fn os_glance_section_is_injected_first_and_file_ones_dropped() {
    let p = roles(ROLES_FIXTURE);
    let sections: Vec<_> = p.sections().collect();
    assert_eq!(sections[0], "os_glance.*");
    assert_eq!(sections[1], "^x_owner_.*");
    assert!(!sections.contains(&"os_glance_store"));
    assert_eq!(sections.len(), 12);
    assert_eq!(crud(&p, "os_glance_store", &[""]), "crud");
    assert_eq!(crud(&p, "os_glance.*", &[""]), "crud");
    // Unanchored, as upstream: any name containing `os_glance` is open.
    assert_eq!(crud(&p, "x_os_glance", &["nobody"]), "crud");
}

#[test]
fn search_is_unanchored_and_first_match_wins() {
    let p = roles(
        "[foo]\ncreate=a\nread=a\nupdate=a\ndelete=a\n\
         [^xfoo$]\ncreate=b\nread=b\nupdate=b\ndelete=b\n",
    );
    assert_eq!(crud(&p, "xfooy", &["a"]), "crud");
    assert_eq!(crud(&p, "xfoo", &["b"]), "----");
    // No section matches: denied.
    assert_eq!(crud(&p, "bar", &["a", "b"]), "----");
}

#[test]
fn role_lists() {
    let p = roles(
        "[^ws$]\ncreate = member ,fake-role\nread = fake-role, member\n\
         update = fake-role,  member\ndelete = fake-role,   member\n\
         [^at$]\ncreate = admin,@\nread = @\nupdate = ! , admin\ndelete =\n\
         [^multi$]\ncreate = admin,\n  member\nread = ADMIN\nupdate = x\ndelete = x\n",
    );
    assert_eq!(crud(&p, "ws", &["member"]), "crud");
    assert_eq!(crud(&p, "ws", &["fake-role"]), "crud");
    // `@` with other roles still means everyone; `!` with others no one; empty nobody.
    assert_eq!(crud(&p, "at", &["admin"]), "cr--");
    assert_eq!(crud(&p, "multi", &["member"]), "c---");
    assert_eq!(crud(&p, "multi", &["admin"]), "cr--");
}

#[test]
fn service_roles_count() {
    let p = roles("[.*]\ncreate = svc\nread = svc\nupdate = svc\ndelete = svc\n");
    let mut c = ctx(&["member"]);
    assert!(!p.allows("k", PropertyOp::Read, &c, &no_policy));
    c.service_roles = vec!["svc".into()];
    assert!(p.allows("k", PropertyOp::Read, &c, &no_policy));
}

#[test]
fn defaults_section_supplies_operations() {
    let p = roles(
        "[DEFAULT]\ncreate = admin\nread = admin\nupdate = admin\ndelete = admin\n[x]\nread = @\n",
    );
    assert_eq!(p.sections().collect::<Vec<_>>(), ["os_glance.*", "x"]);
    assert_eq!(crud(&p, "x", &["member"]), "-r--");
}

#[test]
fn policies_format() {
    let p = PropertyProtections::parse(
        "[spl_creator_policy]\ncreate = glance_creator\nread = glance_creator\n\
         update = context_is_admin\ndelete = context_is_admin\n\
         [^x_all]\ncreate = @\nread = @\nupdate = !\ndelete =\n",
        "p.conf",
        RuleFormat::Policies,
    )
    .unwrap();
    assert_eq!(
        p.referenced_policy_rules(),
        ["glance_creator", "context_is_admin"]
    );
    // A stand-in for the policy file upstream's tests use.
    let policy_for = |c: &RequestContext| {
        let c = c.clone();
        move |name: &str| match name {
            "glance_creator" => c.has_role("admin") || c.has_role("spl_role"),
            "context_is_admin" => c.has_role("admin"),
            _ => false,
        }
    };
    let spl = ctx(&["spl_role"]);
    let admin = ctx(&["admin"]);
    let fake = ctx(&["fake-role"]);
    let allows = |prop: &str, op, c: &RequestContext| p.allows(prop, op, c, &policy_for(c));
    assert!(allows("spl_creator_policy", PropertyOp::Create, &spl));
    assert!(allows("spl_creator_policy", PropertyOp::Read, &spl));
    assert!(!allows("spl_creator_policy", PropertyOp::Update, &spl));
    assert!(allows("spl_creator_policy", PropertyOp::Delete, &admin));
    assert!(!allows("spl_creator_policy", PropertyOp::Create, &fake));
    assert!(allows("x_all_1", PropertyOp::Create, &fake));
    assert!(!allows("x_all_1", PropertyOp::Update, &admin));
    assert!(!allows("x_all_1", PropertyOp::Delete, &admin));
    // No section matches.
    assert!(!allows("other", PropertyOp::Read, &admin));
}

#[test]
fn invalid_files_name_line_and_problem() {
    let ops = "create = a\nread = a\nupdate = a\ndelete = a\n";
    let (line, problem) = error(&format!("[.*]\n{ops}\n[^[0-9)]\n{ops}"), RuleFormat::Roles);
    assert_eq!(line, 7);
    assert!(problem.contains("[^[0-9)]"), "{problem}");
    assert!(problem.contains("unterminated character set"), "{problem}");

    let (line, problem) = error(
        "[^[0-9]]\ncreate = a\nrade = a\nupdate = a\ndelete = a\n",
        RuleFormat::Roles,
    );
    assert_eq!(line, 1);
    assert!(problem.contains("does not set `read`"), "{problem}");

    let (line, problem) = error(
        "[.*]\ncreate = @,!\nread = a\nupdate = a\ndelete = a\n",
        RuleFormat::Roles,
    );
    assert_eq!(line, 2);
    assert!(problem.contains("mutually exclusive"), "{problem}");

    let (line, problem) = error(
        "[^x_.*]\ncreate = a\nread = a\nupdate = fake-policy, another_pol\ndelete = a\n",
        RuleFormat::Policies,
    );
    assert_eq!(line, 4);
    assert!(problem.contains("one policy"), "{problem}");

    let (line, problem) = error(&format!("[a]\n{ops}[a]\n{ops}"), RuleFormat::Roles);
    assert_eq!(line, 6);
    assert!(problem.contains("second time"), "{problem}");

    let (line, _) = error(&format!("create = a\n[a]\n{ops}"), RuleFormat::Roles);
    assert_eq!(line, 1);

    let (line, problem) = error(
        "[a]\ncreate = 5%\nread = a\nupdate = a\ndelete = a\n",
        RuleFormat::Roles,
    );
    assert_eq!(line, 2);
    assert!(problem.contains("%%"), "{problem}");

    let (line, problem) = error(&format!("[(?<=a)b]\n{ops}"), RuleFormat::Roles);
    assert_eq!(line, 1);
    assert!(problem.contains("look-behind"), "{problem}");

    // In the policies format the comma itself is refused.
    let p = PropertyProtections::parse(
        "[a]\ncreate = @,!\nread = a\nupdate = a\ndelete = a\n",
        "p.conf",
        RuleFormat::Policies,
    );
    assert!(p.is_err(), "a comma is refused in the policies format");
}

#[test]
fn error_messages_name_the_file() {
    let missing = Path::new("/nonexistent/property-protections.conf");
    let e = PropertyProtections::load(missing, RuleFormat::Roles).unwrap_err();
    assert!(matches!(e, ProtectionError::Unreadable { .. }));
    assert!(e
        .to_string()
        .contains("/nonexistent/property-protections.conf"));
    let e =
        PropertyProtections::parse("[a]\n", "/etc/glance/pp.conf", RuleFormat::Roles).unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid property protection file /etc/glance/pp.conf, line 1: section [a] does not set \
         `create`; every section must set create, read, update and delete"
    );
}

#[test]
fn rule_format_from_config() {
    assert_eq!(RuleFormat::from_config("roles").unwrap(), RuleFormat::Roles);
    assert_eq!(
        RuleFormat::from_config("policies").unwrap(),
        RuleFormat::Policies
    );
    assert!(RuleFormat::from_config("Roles").is_err());
    assert!(RuleFormat::from_config("acl").is_err());
}
