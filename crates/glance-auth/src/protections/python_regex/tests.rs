use super::*;

fn matches(pattern: &str, name: &str) -> bool {
    compile(pattern).unwrap().is_match(name)
}

fn error(pattern: &str) -> String {
    compile(pattern).unwrap_err()
}

#[test]
fn search_is_unanchored() {
    assert!(matches("x_foo", "a_x_foo_b"));
    assert!(matches("^x_.*", "x_owner"));
    assert!(!matches("^x_.*", "a_x_owner"));
    assert!(matches("os_glance.*", "my_os_glance"));
}

#[test]
fn dollar_also_matches_before_a_final_newline() {
    assert!(matches("^a$", "a"));
    assert!(matches("^a$", "a\n"));
    assert!(!matches("^a$", "a\nb"));
    assert!(matches("(?m)^a$", "a\nb"));
    assert!(matches("(?m:a$)", "a\nb"));
    assert!(matches("a\\Z", "xa"));
    assert!(!matches("a\\Z", "a\n"));
}

#[test]
fn braces_follow_python() {
    assert!(matches("^a{2}$", "aa"));
    assert!(matches("^a{,2}$", ""));
    assert!(matches("^a{1,}$", "aaa"));
    assert!(matches("^a{,}$", "aaaa"));
    assert!(matches("^a{x}$", "a{x}"));
    assert!(matches("^{}$", "{}"));
    assert!(matches("^a{1,x$", "a{1,x"));
    assert!(error("a{3,2}").contains("min repeat greater"));
}

#[test]
fn classes_follow_python() {
    assert!(matches("^[]a]+$", "]a]"));
    assert!(matches("^[^]]$", "x"));
    assert!(matches("^[[:a]+$", "[:a"));
    assert!(matches("^[a&&b]+$", "&a"));
    assert!(matches("^[a-]+$", "-a"));
    assert!(matches("^[\\d_]+$", "1_2"));
    assert!(matches("^[\\b]$", "\u{8}"));
    assert!(matches("^[~~]$", "~"));
    assert!(error("^[0-9)").contains("unterminated character set"));
    assert!(error("[z-a]").contains("bad character range"));
    assert!(error("[\\d-z]").contains("bad character range"));
}

#[test]
fn escapes_follow_python() {
    assert!(matches("^\\x41\\u0042\\U00000043\\101\\0$", "ABCA\0"));
    assert!(matches("^a\\<b\\>$", "a<b>"));
    assert!(matches("^a\\.b$", "a.b"));
    assert!(!matches("^a\\.b$", "axb"));
    assert!(error("(a)\\1").contains("backreferences"));
    assert!(error("\\q").contains("bad escape"));
    assert!(error("a\\").contains("bad escape"));
    assert!(error("\\N{LATIN SMALL LETTER A}").contains("\\N"));
}

#[test]
fn groups_and_flags() {
    assert!(matches("(?i)^X_FOO$", "x_foo"));
    assert!(matches("(?iu)^X$", "x"));
    assert!(matches("^(?i:a)b$", "Ab"));
    assert!(!matches("^(?i:a)b$", "aB"));
    assert!(matches("^(?P<n>a|b)c(?#comment)$", "bc"));
    assert!(matches("^a(?#c)*$", "aaa"));
    assert!(error("a(?i)b").contains("global flags"));
    assert!(error("(?=a)").contains("look-ahead"));
    assert!(error("(?<!a)b").contains("look-behind"));
    assert!(error("(?P=n)").contains("backreferences"));
    assert!(error("(?>a)").contains("atomic"));
    assert!(error("(?x)a b").contains("verbose"));
    assert!(error("(?L)a").contains("'L'"));
    assert!(error("(?-i)a").contains("missing :"));
    assert!(error("(a").contains("missing )"));
    assert!(error("a)").contains("unbalanced"));
}

#[test]
fn repeat_rules() {
    assert!(error("*a").contains("nothing to repeat"));
    assert!(error("^*").contains("nothing to repeat"));
    assert!(error("a**").contains("multiple repeat"));
    assert!(error("a++").contains("possessive"));
    assert!(error("(|*)").contains("nothing to repeat"));
    assert!(matches("^a*?b+?c??$", "aabc"));
}
