//! oslo.config's template substitution in option values: `$option`,
//! `${option}` and `${group.option}` are replaced with that option's value
//! (an undotted name is looked up in the option's own group, then in
//! `[DEFAULT]`); `$$` and `\$` are a literal `$`. As Python's
//! `Template.safe_substitute`, a reference to an option that is not set is
//! left as written.

/// Looks an option up by (lower-case group, lower-case option) and returns its
/// raw (not yet substituted) value.
pub(crate) type Lookup<'a> = dyn Fn(&str, &str) -> Option<String> + 'a;

/// How deep references may chain (`$a` -> `$b` -> ...) before we stop
/// expanding; deeper (or cyclic) references are left as written.
const MAX_DEPTH: usize = 8;

/// Substitutes the references in `value`, an option of `group`.
pub(crate) fn substitute(value: &str, group: &str, lookup: &Lookup<'_>) -> String {
    substitute_at(value, group, lookup, 0)
}

fn substitute_at(value: &str, group: &str, lookup: &Lookup<'_>, depth: usize) -> String {
    if !value.contains('$') {
        return value.to_string();
    }
    let value = value.replace("\\$", "$$");
    let mut out = String::with_capacity(value.len());
    let mut rest = value.as_str();
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
            continue;
        }
        let (name, written, tail) = if let Some(braced) = after.strip_prefix('{') {
            match braced.find('}') {
                Some(end) if is_identifier(&braced[..end]) => {
                    (&braced[..end], &rest[at..at + end + 3], &braced[end + 1..])
                }
                _ => ("", "$", after),
            }
        } else {
            let len = identifier_len(after);
            (&after[..len], &rest[at..at + 1 + len], &after[len..])
        };
        if name.is_empty() {
            out.push('$');
        } else {
            match resolve(name, group, lookup, depth) {
                Some(found) => out.push_str(&found),
                None => out.push_str(written),
            }
        }
        rest = tail;
    }
    out.push_str(rest);
    out
}

fn resolve(name: &str, group: &str, lookup: &Lookup<'_>, depth: usize) -> Option<String> {
    if depth >= MAX_DEPTH {
        return None;
    }
    let name = name.to_ascii_lowercase();
    let (found_group, raw) = match name.split_once('.') {
        Some((other_group, option)) => (other_group.to_string(), lookup(other_group, option)?),
        None => match lookup(group, &name) {
            Some(raw) => (group.to_string(), raw),
            None => ("default".to_string(), lookup("default", &name)?),
        },
    };
    Some(substitute_at(&raw, &found_group, lookup, depth + 1))
}

/// Python's `[_a-z][\._a-z0-9]*` (case-insensitive), the identifier oslo allows.
fn identifier_len(text: &str) -> usize {
    let mut len = 0;
    for (index, c) in text.char_indices() {
        let ok = if index == 0 {
            c == '_' || c.is_ascii_alphabetic()
        } else {
            c == '_' || c == '.' || c.is_ascii_alphanumeric()
        };
        if !ok {
            break;
        }
        len = index + c.len_utf8();
    }
    len
}

fn is_identifier(text: &str) -> bool {
    !text.is_empty() && identifier_len(text) == text.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(group: &str, option: &str) -> Option<String> {
        match (group, option) {
            ("default", "state_path") => Some("/var/lib/glance".into()),
            ("default", "nested") => Some("$state_path/nested".into()),
            ("default", "cycle") => Some("$cycle".into()),
            ("glance_store", "root") => Some("/srv".into()),
            _ => None,
        }
    }

    fn sub(value: &str, group: &str) -> String {
        substitute(value, group, &table)
    }

    #[test]
    fn plain_braced_and_dotted_references() {
        assert_eq!(
            sub("$state_path/images", "default"),
            "/var/lib/glance/images"
        );
        assert_eq!(sub("${state_path}x", "default"), "/var/lib/glancex");
        assert_eq!(sub("${glance_store.root}/a", "default"), "/srv/a");
        assert_eq!(sub("$root/a", "glance_store"), "/srv/a");
        assert_eq!(sub("$STATE_PATH", "glance_store"), "/var/lib/glance");
    }

    #[test]
    fn references_chain() {
        assert_eq!(sub("$nested/x", "default"), "/var/lib/glance/nested/x");
    }

    #[test]
    fn escapes_and_unknown_names_are_kept() {
        assert_eq!(sub("pa$$word", "default"), "pa$word");
        assert_eq!(sub("pa\\$word", "default"), "pa$word");
        assert_eq!(sub("$unknown/x", "default"), "$unknown/x");
        assert_eq!(sub("${unknown}", "default"), "${unknown}");
        assert_eq!(sub("cost $5", "default"), "cost $5");
        assert_eq!(sub("end$", "default"), "end$");
        assert_eq!(sub("${bad name}", "default"), "${bad name}");
        assert_eq!(sub("$cycle", "default"), "$cycle");
    }
}
