//! The policy language: parsing (trees compared with what oslo.policy's parser
//! prints for the same strings) and evaluation of every kind of check.

use std::collections::HashMap;

use super::check::{Check, Evaluation};
use super::check_parser::{parse_check_str, parse_legacy_rule};
use super::credentials::Credentials;
use super::target::Target;
use crate::RequestContext;

fn tree(check_str: &str) -> String {
    parse_check_str(check_str)
        .unwrap_or_else(|e| panic!("{check_str:?} should parse: {e}"))
        .to_string()
}

#[test]
fn trees_match_oslo_policy() {
    // Right column: str(oslo_policy._parser.parse_rule(left)) from upstream's code.
    let cases = [
        ("role:admin", "role:admin"),
        ("", "@"),
        ("@", "@"),
        ("!", "!"),
        ("not role:a", "not role:a"),
        ("role:a and role:b", "(role:a and role:b)"),
        ("role:a or role:b", "(role:a or role:b)"),
        (
            "role:a or role:b and role:c",
            "(role:a or (role:b and role:c))",
        ),
        (
            "role:a and role:b or role:c",
            "((role:a and role:b) or role:c)",
        ),
        ("not role:a and role:b", "(not role:a and role:b)"),
        ("not role:a or role:b", "(not role:a or role:b)"),
        (
            "role:a and not role:b or role:c",
            "((role:a and not role:b) or role:c)",
        ),
        (
            "(role:a or role:b) and role:c",
            "((role:a or role:b) and role:c)",
        ),
        (
            "role:a or (role:b or role:c) and role:d",
            "(role:a or ((role:b or role:c) and role:d))",
        ),
        ("((role:a))", "role:a"),
        ("not (role:a and role:b)", "not (role:a and role:b)"),
        ("not not role:a", "not not role:a"),
        (
            "role:a AND role:b Or NOT role:c",
            "((role:a and role:b) or not role:c)",
        ),
        (
            "role:a and role:b and role:c or role:d or role:e",
            "((role:a and role:b and role:c) or role:d or role:e)",
        ),
        (
            "role:a or not role:b and role:c",
            "(role:a or (not role:b and role:c))",
        ),
        ("project_id:%(project_id)s", "project_id:%(project_id)s"),
        ("'public':%(visibility)s", "'public':%(visibility)s"),
        (
            "rule:context_is_admin or role:reader and (project_id:%(project_id)s or \
             project_id:%(member_id)s)",
            "(rule:context_is_admin or (role:reader and (project_id:%(project_id)s or \
             project_id:%(member_id)s)))",
        ),
        ("http://example.com/%(name)s", "http://example.com/%(name)s"),
        ("role:x   and   (  role:y  )", "(role:x and role:y)"),
        ("role:x\n and\trole:y", "(role:x and role:y)"),
    ];
    for (input, expected) in cases {
        assert_eq!(tree(input), expected, "tree of {input:?}");
    }
}

#[test]
fn strings_oslo_cannot_parse_are_errors() {
    // oslo logs each of these and makes the rule deny everything.
    let cases = [
        "role:a or",
        "and role:a",
        "role:a role:b",
        "(role:a",
        "role:a)",
        "()",
        "not",
        "(role:a and(role:b or role:c))",
        "admin",
        "'role:admin'",
        "role:a and 'x'",
        "   ",
        "project_id:%(project_id)",
        "'unterminated:x",
        "role:%(x",
    ];
    for input in cases {
        assert!(
            parse_check_str(input).is_err(),
            "{input:?} should not parse"
        );
    }
}

#[test]
fn kind_names_are_case_sensitive_but_keywords_are_not() {
    // `ROLE:` is a generic check on a credential named "ROLE", as in oslo.
    assert!(matches!(
        parse_check_str("ROLE:admin").unwrap(),
        Check::Generic { .. }
    ));
    assert!(matches!(
        parse_check_str("role:a AnD role:b").unwrap(),
        Check::And(_)
    ));
}

fn context(project: Option<&str>, roles: &[&str]) -> RequestContext {
    RequestContext {
        project_id: project.map(str::to_string),
        user_id: Some("u1".into()),
        roles: roles.iter().map(|r| r.to_string()).collect(),
        ..Default::default()
    }
}

/// Evaluates `check_str` with `rules` defined, the way the enforcer does.
fn evaluate(
    rules: &[(&str, &str)],
    check_str: &str,
    ctx: &RequestContext,
    target: &Target,
) -> bool {
    let rules: HashMap<String, Check> = rules
        .iter()
        .map(|(n, c)| (n.to_string(), parse_check_str(c).unwrap()))
        .collect();
    let creds = Credentials::from_context(ctx);
    let check = parse_check_str(check_str).unwrap();
    Evaluation {
        rules: &rules,
        creds: &creds,
        target,
    }
    .evaluate(&check)
}

fn allows(check_str: &str, ctx: &RequestContext, target: &Target) -> bool {
    evaluate(&[], check_str, ctx, target)
}

#[test]
fn boolean_operators_follow_precedence() {
    let ctx = context(Some("p1"), &["b"]);
    let t = Target::new();
    // not > and > or: `role:a or role:b and role:c` is `a or (b and c)`.
    assert!(!allows("role:a or role:b and role:c", &ctx, &t));
    assert!(allows("(role:a or role:b) and not role:c", &ctx, &t));
    assert!(allows("not role:a and role:b", &ctx, &t));
    assert!(!allows("not (role:a or role:b)", &ctx, &t));
    assert!(allows("role:c or not role:a", &ctx, &t));
    assert!(allows("", &ctx, &t) && allows("@", &ctx, &t) && !allows("!", &ctx, &t));
}

#[test]
fn role_checks_ignore_case_and_interpolate() {
    let ctx = context(Some("p1"), &["member", "reader"]);
    let t = Target::new().set("wanted", "READER");
    assert!(allows("role:Member", &ctx, &t));
    assert!(!allows("role:admin", &ctx, &t));
    assert!(allows("role:%(wanted)s", &ctx, &t));
    // A missing key fails the check instead of erroring.
    assert!(!allows("role:%(missing)s", &ctx, &t));
    assert!(allows("not role:%(missing)s", &ctx, &t));
}

#[test]
fn generic_checks_compare_credentials_with_the_target() {
    let ctx = context(Some("p1"), &["member"]);
    let owned = Target::new().set("project_id", "p1");
    let other = Target::new().set("project_id", "p2");
    assert!(allows("project_id:%(project_id)s", &ctx, &owned));
    assert!(!allows("project_id:%(project_id)s", &ctx, &other));
    assert!(!allows("project_id:%(project_id)s", &ctx, &Target::new()));
    assert!(allows("project_id:p1", &ctx, &Target::new()));
    assert!(allows("user_id:u1", &ctx, &Target::new()));
    // Lists (roles) match by membership, but case-sensitively, unlike role:.
    assert!(allows("roles:member", &ctx, &Target::new()));
    assert!(!allows("roles:Member", &ctx, &Target::new()));
    // Python str(): None and booleans.
    assert!(allows("domain_id:None", &ctx, &Target::new()));
    assert!(allows("is_admin:False", &ctx, &Target::new()));
    assert!(allows("is_admin_project:True", &ctx, &Target::new()));
    // A credential that does not exist, or a path through a string, fails.
    assert!(!allows("nope:x", &ctx, &Target::new()));
    assert!(!allows("project_id.x:p1", &ctx, &Target::new()));
}

#[test]
fn a_caller_without_project_matches_an_image_without_owner() {
    // Python compares str(None) == "None" on both sides, as upstream does.
    let noauth = RequestContext::noauth_admin("r".into());
    let unowned = Target::new().set("project_id", None::<&str>);
    assert!(allows("project_id:%(project_id)s", &noauth, &unowned));
}

#[test]
fn literal_left_sides() {
    let ctx = context(Some("p1"), &[]);
    let public = Target::new()
        .set("visibility", "public")
        .set("protected", true)
        .set("n", 3);
    assert!(allows("'public':%(visibility)s", &ctx, &public));
    assert!(allows("\"public\":%(visibility)s", &ctx, &public));
    assert!(!allows("'shared':%(visibility)s", &ctx, &public));
    assert!(allows("True:%(protected)s", &ctx, &public));
    assert!(!allows("False:%(protected)s", &ctx, &public));
    assert!(allows("3:%(n)s", &ctx, &public));
    assert!(!allows("'public':%(missing)s", &ctx, &public));
}

#[test]
fn rule_references_and_their_failures() {
    let ctx = context(Some("p1"), &["admin"]);
    let t = Target::new();
    let rules = [
        ("admin_required", "role:admin"),
        ("loop_a", "rule:loop_b"),
        ("loop_b", "rule:loop_a"),
    ];
    assert!(evaluate(&rules, "rule:admin_required", &ctx, &t));
    assert!(!evaluate(&rules, "rule:nope", &ctx, &t));
    assert!(evaluate(&rules, "not rule:nope", &ctx, &t));
    // A cycle ends in a denial, not a stack overflow.
    assert!(!evaluate(&rules, "rule:loop_a", &ctx, &t));
}

#[test]
fn remote_checks_always_deny() {
    let ctx = context(Some("p1"), &["admin"]);
    assert!(!allows("http://policy.example/check", &ctx, &Target::new()));
    assert!(!allows(
        "https://policy.example/check",
        &ctx,
        &Target::new()
    ));
    assert!(allows(
        "role:admin or https://policy.example/check",
        &ctx,
        &Target::new()
    ));
}

#[test]
fn legacy_list_syntax() {
    let lists = |v: &[&[&str]]| -> Vec<Vec<String>> {
        v.iter()
            .map(|inner| inner.iter().map(|s| s.to_string()).collect())
            .collect()
    };
    let show = |v: &[&[&str]]| parse_legacy_rule(&lists(v)).unwrap().to_string();
    // Trees as oslo's _parse_list_rule builds them.
    assert_eq!(show(&[]), "@");
    assert_eq!(show(&[&[]]), "!");
    assert_eq!(show(&[&["role:a"]]), "role:a");
    assert_eq!(
        show(&[&["role:a", "role:b"], &["rule:c"]]),
        "((role:a and role:b) or rule:c)"
    );
    // Each string is one check, not an expression.
    assert_eq!(show(&[&["role:a or role:b"]]), "role:a or role:b");
    assert!(parse_legacy_rule(&lists(&[&["admin"]])).is_err());

    let ctx = context(Some("p1"), &["b", "c"]);
    let check = parse_legacy_rule(&lists(&[&["role:a", "role:b"], &["role:c"]])).unwrap();
    let creds = Credentials::from_context(&ctx);
    let rules = HashMap::new();
    let eval = Evaluation {
        rules: &rules,
        creds: &creds,
        target: &Target::new(),
    };
    assert!(eval.evaluate(&check));
}
