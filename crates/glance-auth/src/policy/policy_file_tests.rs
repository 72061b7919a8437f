//! Policy files: the YAML subset, JSON, and how files override the defaults.

use std::fs;
use std::path::{Path, PathBuf};

use super::policy_file::parse_policy_text;
use super::yaml_subset::{parse_top_level_mapping, YamlValue};
use super::{Enforcer, PolicyError, PolicyOptions, Target};
use crate::RequestContext;

fn yaml(text: &str) -> Vec<(String, YamlValue)> {
    parse_top_level_mapping(text)
        .unwrap_or_else(|e| panic!("line {}: {}", e.line, e.message))
        .into_iter()
        .map(|e| (e.key, e.value))
        .collect()
}

fn s(v: &str) -> YamlValue {
    YamlValue::Str(v.into())
}

fn yaml_error(text: &str) -> (usize, String) {
    match parse_top_level_mapping(text) {
        Ok(entries) => panic!("{text:?} should not parse, got {entries:?}"),
        Err(e) => (e.line, e.message),
    }
}

#[test]
fn reads_a_generated_sample_file() {
    let text = "\
# Defines the rule for the is_admin:True check.
#\"context_is_admin\": \"role:admin\"

# Create new image
# POST  /v2/images
# Intended scope(s): project
\"add_image\": \"rule:context_is_admin or (role:member and project_id:%(project_id)s and project_id:%(owner)s)\"

\"default\": \"\"
";
    assert_eq!(
        yaml(text),
        [
            (
                "add_image".to_string(),
                s("rule:context_is_admin or (role:member and project_id:%(project_id)s and project_id:%(owner)s)")
            ),
            ("default".to_string(), s("")),
        ]
    );
}

#[test]
fn quoting_styles_and_escapes() {
    // Each expectation is what PyYAML's safe_load gives for the same text.
    let text = "---
plain: role:admin or role:member   # trailing comment
'single': 'it''s # not a comment'
\"double\": \"tab\\there \\\"q\\\" \\u00e9 \\\\\"
visibility: \"'public':%(visibility)s\"
empty:
empty_quoted: ''
tilde: ~
url: http://example.com:8080/x
hash#in: a#b
\r
";
    assert_eq!(
        yaml(text),
        [
            ("plain".to_string(), s("role:admin or role:member")),
            ("single".to_string(), s("it's # not a comment")),
            ("double".to_string(), s("tab\there \"q\" é \\")),
            ("visibility".to_string(), s("'public':%(visibility)s")),
            ("empty".to_string(), YamlValue::Null),
            ("empty_quoted".to_string(), s("")),
            ("tilde".to_string(), YamlValue::Null),
            ("url".to_string(), s("http://example.com:8080/x")),
            ("hash#in".to_string(), s("a#b")),
        ]
    );
}

#[test]
fn values_continue_on_indented_lines() {
    let text = "\
plain: rule:context_is_admin or
    (role:member and
      project_id:%(project_id)s)
next_line:
  role:admin
double: \"role:a or
  role:b\\
  _c\"
single: 'a

  b'
literal: |
  role:a or
  role:b
folded: >-
  role:a
  or role:b
after: '@'
";
    assert_eq!(
        yaml(text),
        [
            (
                "plain".to_string(),
                s("rule:context_is_admin or (role:member and project_id:%(project_id)s)")
            ),
            ("next_line".to_string(), s("role:admin")),
            ("double".to_string(), s("role:a or role:b_c")),
            ("single".to_string(), s("a\nb")),
            ("literal".to_string(), s("role:a or\nrole:b\n")),
            ("folded".to_string(), s("role:a or role:b")),
            ("after".to_string(), s("@")),
        ]
    );
}

#[test]
fn scalar_types_and_flow_lists() {
    let text =
        "a: true\nb: No\nc: 12\nd: 1.5\ne: 'true'\nf: [[\"role:a\"], [\"role:b\", \"role:c\"]]\n";
    assert_eq!(
        yaml(text),
        [
            ("a".to_string(), YamlValue::Bool(true)),
            ("b".to_string(), YamlValue::Bool(false)),
            ("c".to_string(), YamlValue::Number("12".into())),
            ("d".to_string(), YamlValue::Number("1.5".into())),
            ("e".to_string(), s("true")),
            (
                "f".to_string(),
                YamlValue::FlowSequence("[[\"role:a\"], [\"role:b\", \"role:c\"]]".into())
            ),
        ]
    );
}

#[test]
fn unsupported_yaml_is_an_error_with_its_line() {
    let cases: &[(&str, usize, &str)] = &[
        ("a: x\nb:\n  c: d\n", 3, "nested mappings"),
        ("a: x\n  b: c\n", 2, "nested mapping"),
        ("a:\n  - role:x\n", 2, "sequences"),
        ("- a\n", 1, "sequences"),
        ("a: x\n\tb: y\n", 2, "tabs"),
        ("a: x\njust words\n", 2, "expected `name: check`"),
        ("a: 'open\nb: c\n", 1, "never closed"),
        ("a: x\n---\nb: y\n", 2, "single YAML document"),
        ("a: &anchor x\n", 1, "anchors"),
        ("a: !!str x\n", 1, "tags"),
        ("a: 'x' y\n", 1, "after the closing quote"),
        ("a: {b: c}\n", 1, "flow) mappings"),
        ("a: |2\n  x\n", 1, "indentation indicators"),
        ("a: @x\n", 1, "quote the value"),
        ("\"a\" b: c\n", 1, "expected ':'"),
        ("a:b\n", 1, "expected `name: check`"),
        ("a: \"bad \\q escape\"\n", 1, "unknown escape"),
    ];
    for (text, line, message) in cases {
        let (actual_line, actual_message) = yaml_error(text);
        assert_eq!(actual_line, *line, "{text:?}: {actual_message}");
        assert!(
            actual_message.contains(message),
            "{text:?}: {actual_message}"
        );
    }
}

#[test]
fn reads_the_oslo_documentation_examples() {
    let text = r#"
    "compute:get_all" : ""
"compute:shelve": "!"
"copy_image": "'shared':%(visibility)s"
"stacks:create": "not role:heat_stack_user"
"admin_required": "role:admin or is_admin:1"
"owner" : "user_id:%(user_id)s"
"identity:ec2_delete_credential": "rule:admin_required or
             (rule:owner and user_id:%(target.credential.user_id)s)"
"always": []
"#;
    // Like PyYAML, a uniformly indented mapping is fine; a ragged one is not.
    let err = parse_policy_text(text, Path::new("policy.yaml")).unwrap_err();
    assert!(
        matches!(err, PolicyError::InvalidFile { line: 3, .. }),
        "{err:?}"
    );
    let text = text.replacen("    \"compute", "\"compute", 1);
    let rules = parse_policy_text(&text, Path::new("p")).unwrap();
    let indented: String = text.lines().map(|l| format!("  {l}\n")).collect();
    assert_eq!(
        parse_policy_text(&indented, Path::new("p")).unwrap().len(),
        rules.len()
    );
    let shown: Vec<String> = rules
        .iter()
        .map(|r| format!("{}={}", r.name, r.check))
        .collect();
    assert_eq!(
        shown,
        [
            "compute:get_all=@",
            "compute:shelve=!",
            "copy_image='shared':%(visibility)s",
            "stacks:create=not role:heat_stack_user",
            "admin_required=(role:admin or is_admin:1)",
            "owner=user_id:%(user_id)s",
            "identity:ec2_delete_credential=(rule:admin_required or (rule:owner and \
             user_id:%(target.credential.user_id)s))",
            "always=@",
        ]
    );
}

#[test]
fn duplicate_keys_keep_the_last_like_safe_load() {
    let rules = parse_policy_text("a: role:x\na: role:y\n", Path::new("p.yaml")).unwrap();
    assert_eq!(rules.len(), 2);
    assert_eq!(rules[1].check.to_string(), "role:y");
}

#[test]
fn json_files_and_legacy_lists() {
    let text = "# exported\n{\n  \"a\": \"role:x or role:y\",\n  \"b\": [[\"role:x\", \"role:y\"], [\"role:z\"]],\n  \"c\": \"\",\n  \"d\": null\n}\n";
    let rules = parse_policy_text(text, Path::new("policy.json")).unwrap();
    let shown: Vec<(String, String)> = rules
        .iter()
        .map(|r| (r.name.clone(), r.check.to_string()))
        .collect();
    assert!(shown.contains(&("a".into(), "(role:x or role:y)".into())));
    assert!(shown.contains(&("b".into(), "((role:x and role:y) or role:z)".into())));
    assert!(shown.contains(&("c".into(), "@".into())));
    assert!(shown.contains(&("d".into(), "@".into())));
}

#[test]
fn file_errors_name_the_file_the_line_and_the_rule() {
    let path = Path::new("/etc/glance/policy.yaml");
    let err = parse_policy_text("a: role:x\nb:\n  c: d\n", path).unwrap_err();
    assert!(
        matches!(err, PolicyError::InvalidFile { line: 3, .. }),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("/etc/glance/policy.yaml, line 3: "),
        "{err}"
    );

    let err = parse_policy_text("# c\n\n\"add_image\": \"role:a or\"\n", path).unwrap_err();
    assert!(
        matches!(&err, PolicyError::InvalidRule { rule, origin: Some(o), .. }
        if rule == "add_image" && o.line == 3),
        "{err:?}"
    );
    assert!(err.to_string().contains("line 3"), "{err}");

    let err = parse_policy_text("a: yes\n", path).unwrap_err();
    assert!(err.to_string().contains("quote it"), "{err}");

    let err = parse_policy_text("{\n  \"a\": \"role:x\",\n  \"b\": \"nope\"\n}", path).unwrap_err();
    assert!(
        matches!(&err, PolicyError::InvalidRule { origin: Some(o), .. } if o.line == 3),
        "{err:?}"
    );
    let err = parse_policy_text("{\n  \"a\": \"role:x\",\n}", path).unwrap_err();
    assert!(
        matches!(err, PolicyError::InvalidFile { line: 3, .. }),
        "{err:?}"
    );
    let err = parse_policy_text("{\"a\": 1}", path).unwrap_err();
    assert!(err.to_string().contains("not a check string"), "{err}");
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, text).unwrap();
    path
}

fn member() -> RequestContext {
    RequestContext {
        project_id: Some("p1".into()),
        roles: vec!["member".into(), "reader".into()],
        ..Default::default()
    }
}

fn custom(role: &str) -> RequestContext {
    RequestContext {
        roles: vec![role.into()],
        ..member()
    }
}

#[test]
fn files_override_defaults_then_directories_in_name_order() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(
        tmp.path(),
        "policy.yaml",
        "get_images: role:admin\nmine: role:a\ndecided: role:a\n",
    );
    let d1 = tmp.path().join("policy.d");
    fs::create_dir(&d1).unwrap();
    write(&d1, "20-later.yaml", "decided: role:c\n");
    write(
        &d1,
        "10-first.json",
        "{\"decided\": \"role:b\", \"from_dir\": \"role:b\"}",
    );
    write(&d1, ".hidden.yaml", "decided: role:hidden\n");
    fs::create_dir(d1.join("sub")).unwrap();
    write(&d1.join("sub"), "z.yaml", "decided: role:sub\n");
    let d2 = tmp.path().join("second.d");
    fs::create_dir(&d2).unwrap();
    write(&d2, "a.yaml", "from_dir: role:d\n");

    let opts = PolicyOptions {
        policy_file: Some(file),
        policy_dirs: vec![d1, tmp.path().join("missing.d"), d2],
        ..Default::default()
    };
    let e = Enforcer::load(&opts).unwrap();
    let t = Target::new();
    // The file replaced a default and added rules.
    assert!(!e.check("get_images", &t, &member()));
    assert!(e.check("mine", &t, &custom("a")));
    // Directory files apply after the file, in name order; the last wins.
    assert!(e.check("decided", &t, &custom("c")));
    assert!(!e.check("decided", &t, &custom("b")));
    assert!(!e.check("decided", &t, &custom("hidden")) && !e.check("decided", &t, &custom("sub")));
    assert!(e.check("from_dir", &t, &custom("d")));
    // Untouched defaults remain.
    assert!(e.check(
        "modify_image",
        &Target::new().set("project_id", "p1"),
        &member()
    ));
}

#[test]
fn an_override_replaces_the_deprecated_fallback_too() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path(), "policy.yaml", "add_image: \"role:admin\"\n");
    let opts = PolicyOptions {
        policy_file: Some(file),
        enforce_new_defaults: false,
        ..Default::default()
    };
    let e = Enforcer::load(&opts).unwrap();
    let target = Target::new().set("project_id", "p1").set("owner", "p1");
    assert!(!e.check("add_image", &target, &member()));
    // An untouched rule still gets its old default OR-ed in.
    assert!(e.check("delete_image", &target, &custom("reader")));
}

#[test]
fn missing_and_misplaced_paths() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("policy.yaml");
    let lenient = PolicyOptions {
        policy_file: Some(missing.clone()),
        ..Default::default()
    };
    assert!(Enforcer::load(&lenient).is_ok());
    let strict = PolicyOptions {
        policy_file_required: true,
        ..lenient
    };
    assert!(matches!(Enforcer::load(&strict), Err(PolicyError::MissingFile(p)) if p == missing));

    let not_dir = write(tmp.path(), "file", "a: b\n");
    let opts = PolicyOptions {
        policy_dirs: vec![not_dir],
        ..Default::default()
    };
    assert!(matches!(
        Enforcer::load(&opts),
        Err(PolicyError::NotADirectory(_))
    ));

    let bad = write(tmp.path(), "bad.yaml", "ok: role:a\nbroken: role:a or\n");
    let opts = PolicyOptions {
        policy_file: Some(bad),
        ..Default::default()
    };
    let err = Enforcer::load(&opts).unwrap_err().to_string();
    assert!(
        err.contains("bad.yaml, line 2") && err.contains("\"broken\""),
        "{err}"
    );
}
