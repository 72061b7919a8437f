//! The part of Python's `configparser.ConfigParser` (with its default settings)
//! that a property protection file passes through upstream, reproduced so that a
//! file upstream accepts reads the same here and a file it rejects is rejected.
//!
//! What the defaults mean, and what this reader therefore does:
//! - lines end at `\n`, `\r\n` or `\r` (Python opens the file with universal
//!   newlines);
//! - a line whose stripped text starts with `#` or `;` is a comment, wherever it
//!   is indented; there are no inline comments (`a = b # c` has the value `b # c`);
//! - `[name]` starts a section: the name is everything between the first `[` and
//!   the last `]` of the stripped line (text after that `]` is ignored); the name
//!   `DEFAULT` is the defaults section, whose options every section inherits;
//! - an option is `key = value` or `key: value`, split at the first `=` or `:`;
//!   keys are lower-cased, keys and values are stripped;
//! - a line indented deeper than its option's first line continues the value
//!   (blank lines inside a value are kept, trailing ones dropped);
//! - strict mode: a section or an option given twice is an error;
//! - values are read with `%`-interpolation (`%%`, `%(key)s`).
//!
//! Whitespace is Python's (`str.isspace`), which adds the four separator
//! controls U+001C..U+001F to Rust's `char::is_whitespace`.

/// The `[DEFAULT]` section name (case-sensitive, as in Python).
const DEFAULT_SECTION: &str = "DEFAULT";

/// Python refuses `%(key)s` chains deeper than this.
const MAX_INTERPOLATION_DEPTH: usize = 10;

#[derive(Debug)]
pub(super) struct Ini {
    defaults: Vec<Entry>,
    pub sections: Vec<Section>,
}

#[derive(Debug)]
pub(super) struct Section {
    pub name: String,
    /// 1-based line of the `[name]` header.
    pub line: usize,
    pub entries: Vec<Entry>,
}

#[derive(Debug)]
pub(super) struct Entry {
    pub key: String,
    /// Raw (not yet interpolated) value, continuation lines joined with `\n`.
    value: String,
    /// 1-based line of `key = ...`.
    pub line: usize,
}

/// A problem at one line of the file.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct IniError {
    pub line: usize,
    pub problem: String,
}

fn err(line: usize, problem: impl Into<String>) -> IniError {
    IniError {
        line,
        problem: problem.into(),
    }
}

pub(super) fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

pub(super) fn py_strip(s: &str) -> &str {
    s.trim_matches(is_py_space)
}

/// Splits like Python's universal-newline reader: no empty piece after a final
/// line break.
fn lines(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        match rest.find(['\r', '\n']) {
            None => {
                out.push(rest);
                break;
            }
            Some(i) => {
                out.push(&rest[..i]);
                let skip = if rest[i..].starts_with("\r\n") { 2 } else { 1 };
                rest = &rest[i + skip..];
            }
        }
    }
    out
}

/// `[name]` as Python's section pattern matches it: from the leading `[` to the
/// last `]`, at least one character in between.
fn section_header(line: &str) -> Option<&str> {
    let inner = line.strip_prefix('[')?;
    let end = inner.rfind(']')?;
    (end > 0).then(|| &inner[..end])
}

/// `key = value` / `key: value`, split at the first delimiter.
fn option_line(line: &str) -> Option<(&str, &str)> {
    let at = line.find(['=', ':'])?;
    Some((
        line[..at].trim_end_matches(is_py_space),
        py_strip(&line[at + 1..]),
    ))
}

/// Where parsed options go.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    Defaults,
    Section(usize),
}

/// An option whose value lines are still being collected.
struct Pending {
    entry: Entry,
    pieces: Vec<String>,
}

struct Parser {
    defaults: Vec<Pending>,
    sections: Vec<(Section, Vec<Pending>)>,
}

impl Parser {
    fn entries(&mut self, target: Target) -> &mut Vec<Pending> {
        match target {
            Target::Defaults => &mut self.defaults,
            Target::Section(i) => &mut self.sections[i].1,
        }
    }
}

pub(super) fn parse(text: &str) -> Result<Ini, IniError> {
    let mut p = Parser {
        defaults: Vec::new(),
        sections: Vec::new(),
    };
    let mut target: Option<Target> = None;
    // The option that continuation lines extend: (target, index in its entries).
    let mut current: Option<(Target, usize)> = None;
    let mut indent_level = 0usize;

    for (index, raw) in lines(text).into_iter().enumerate() {
        let line_no = index + 1;
        let stripped = py_strip(raw);
        let is_comment = stripped.starts_with('#') || stripped.starts_with(';');
        if stripped.is_empty() || is_comment {
            // A blank line may belong to a multi-line value; a comment never does.
            // Neither ends the value.
            if !is_comment {
                if let Some((t, i)) = current {
                    p.entries(t)[i].pieces.push(String::new());
                }
            }
            continue;
        }
        let indent = raw.chars().take_while(|c| is_py_space(*c)).count();
        if let Some((t, i)) = current {
            if indent > indent_level {
                p.entries(t)[i].pieces.push(stripped.to_string());
                continue;
            }
        }
        indent_level = indent;
        if let Some(name) = section_header(stripped) {
            current = None;
            if name == DEFAULT_SECTION {
                target = Some(Target::Defaults);
            } else if let Some(first) = p.sections.iter().find(|s| s.0.name == name) {
                return Err(err(
                    line_no,
                    format!(
                        "section [{name}] appears a second time (first at line {})",
                        first.0.line
                    ),
                ));
            } else {
                p.sections.push((
                    Section {
                        name: name.to_string(),
                        line: line_no,
                        entries: Vec::new(),
                    },
                    Vec::new(),
                ));
                target = Some(Target::Section(p.sections.len() - 1));
            }
            continue;
        }
        let Some(t) = target else {
            return Err(err(
                line_no,
                "the file must start with a [section] header before any option",
            ));
        };
        let Some((key, value)) = option_line(stripped) else {
            return Err(err(
                line_no,
                format!(
                    "{stripped:?} is neither a [section] header, a `key = value` option, \
                     a comment nor an indented continuation line"
                ),
            ));
        };
        if key.is_empty() {
            return Err(err(line_no, "option without a name before `=` or `:`"));
        }
        let key = key.to_lowercase();
        let entries = p.entries(t);
        if let Some(first) = entries.iter().find(|e| e.entry.key == key) {
            return Err(err(
                line_no,
                format!(
                    "option `{key}` is set a second time in this section (first at line {})",
                    first.entry.line
                ),
            ));
        }
        entries.push(Pending {
            entry: Entry {
                key,
                value: String::new(),
                line: line_no,
            },
            pieces: vec![value.to_string()],
        });
        current = Some((t, entries.len() - 1));
    }

    let join = |entries: Vec<Pending>| -> Vec<Entry> {
        entries
            .into_iter()
            .map(|Pending { mut entry, pieces }| {
                entry.value = pieces.join("\n").trim_end_matches(is_py_space).to_string();
                entry
            })
            .collect()
    };
    Ok(Ini {
        defaults: join(p.defaults),
        sections: p
            .sections
            .into_iter()
            .map(|(mut section, entries)| {
                section.entries = join(entries);
                section
            })
            .collect(),
    })
}

impl Ini {
    /// `ConfigParser.get(section, key)`: the section's own value, else the
    /// `[DEFAULT]` one, interpolated; `None` when neither has the key. The line
    /// returned is that of the option read.
    pub fn get(&self, section: &Section, key: &str) -> Option<Result<(String, usize), IniError>> {
        let entry = self.lookup(section, key)?;
        let mut out = String::new();
        Some(
            self.interpolate(section, entry, &entry.value, 1, &mut out)
                .map(|()| (out, entry.line)),
        )
    }

    fn lookup<'a>(&'a self, section: &'a Section, key: &str) -> Option<&'a Entry> {
        section
            .entries
            .iter()
            .chain(&self.defaults)
            .find(|e| e.key == key)
    }

    fn interpolate(
        &self,
        section: &Section,
        entry: &Entry,
        mut rest: &str,
        depth: usize,
        out: &mut String,
    ) -> Result<(), IniError> {
        let fail = |problem: String| {
            Err(err(
                entry.line,
                format!("option `{}`: {problem}", entry.key),
            ))
        };
        if depth > MAX_INTERPOLATION_DEPTH {
            return fail(format!(
                "`%(...)s` references nest deeper than {MAX_INTERPOLATION_DEPTH} levels"
            ));
        }
        while let Some(at) = rest.find('%') {
            out.push_str(&rest[..at]);
            rest = &rest[at..];
            if let Some(after) = rest.strip_prefix("%%") {
                out.push('%');
                rest = after;
            } else if let Some(after) = rest.strip_prefix("%(") {
                let Some(close) = after.find(')').filter(|&c| c > 0) else {
                    return fail(format!("bad interpolation reference {rest:?}"));
                };
                if !after[close + 1..].starts_with('s') {
                    return fail(format!("bad interpolation reference {rest:?}"));
                }
                let name = after[..close].to_lowercase();
                let Some(referenced) = self.lookup(section, &name) else {
                    return fail(format!(
                        "`%({name})s` refers to an option that neither this section nor [DEFAULT] sets"
                    ));
                };
                if referenced.value.contains('%') {
                    self.interpolate(section, entry, &referenced.value, depth + 1, out)?;
                } else {
                    out.push_str(&referenced.value);
                }
                rest = &after[close + 2..];
            } else {
                return fail(format!(
                    "a `%` must be followed by `%` or `(`, found {rest:?} (write `%%` for a literal %)"
                ));
            }
        }
        out.push_str(rest);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(ini: &Ini, section: usize, key: &str) -> String {
        ini.get(&ini.sections[section], key).unwrap().unwrap().0
    }

    #[test]
    fn sections_keep_file_order_and_keys_are_lower_cased() {
        let ini = parse("[b]\nCreate = x\n[a]\nread: y\n").unwrap();
        let names: Vec<_> = ini.sections.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["b", "a"]);
        assert_eq!(value(&ini, 0, "create"), "x");
        assert_eq!(value(&ini, 1, "read"), "y");
        assert_eq!(ini.sections[1].line, 3);
    }

    #[test]
    fn header_takes_everything_up_to_the_last_bracket() {
        let ini = parse("[^x_[a-z]+$] trailing\nk=v\n[ spaced ]\n").unwrap();
        assert_eq!(ini.sections[0].name, "^x_[a-z]+$");
        assert_eq!(ini.sections[1].name, " spaced ");
        // `[]` is not a header: it is an option line without delimiter.
        assert_eq!(parse("[a]\n[]\n").unwrap_err().line, 2);
    }

    #[test]
    fn option_splits_at_first_delimiter_and_keeps_inline_comments() {
        let ini = parse("[s]\na=b:c = d # not a comment\ne : f=g\n").unwrap();
        assert_eq!(value(&ini, 0, "a"), "b:c = d # not a comment");
        assert_eq!(value(&ini, 0, "e"), "f=g");
    }

    #[test]
    fn comments_blank_lines_and_continuations() {
        let text = "# c\n; c\n[s]\ncreate = admin,\n    member\n  # comment inside\n\n   reader\nread = x\n\n\n";
        let ini = parse(text).unwrap();
        assert_eq!(value(&ini, 0, "create"), "admin,\nmember\n\nreader");
        assert_eq!(value(&ini, 0, "read"), "x");
    }

    #[test]
    fn indented_header_after_an_option_is_a_continuation() {
        let ini = parse("[s]\nk = v\n  [t]\n").unwrap();
        assert_eq!(ini.sections.len(), 1);
        assert_eq!(value(&ini, 0, "k"), "v\n[t]");
    }

    #[test]
    fn universal_newlines() {
        let ini = parse("[s]\r\na = 1\rb = 2\n").unwrap();
        assert_eq!(value(&ini, 0, "a"), "1");
        assert_eq!(value(&ini, 0, "b"), "2");
        assert_eq!(ini.sections[0].entries[1].line, 3);
    }

    #[test]
    fn defaults_are_inherited_and_overridden() {
        let ini = parse("[DEFAULT]\nread = a\ndelete = z\n[s]\ndelete = b\n").unwrap();
        assert_eq!(ini.sections.len(), 1);
        assert_eq!(value(&ini, 0, "read"), "a");
        assert_eq!(value(&ini, 0, "delete"), "b");
        assert!(ini.get(&ini.sections[0], "create").is_none());
    }

    #[test]
    fn strict_mode_errors() {
        let e = parse("[a]\nk=1\n[b]\n[a]\n").unwrap_err();
        assert_eq!(e.line, 4);
        assert!(e.problem.contains("second time"), "{}", e.problem);
        let e = parse("[a]\nk=1\nK=2\n").unwrap_err();
        assert_eq!(e.line, 3);
        let e = parse("k = v\n[a]\n").unwrap_err();
        assert_eq!(e.line, 1);
        let e = parse("[a]\njust words\n").unwrap_err();
        assert_eq!(e.line, 2);
        let e = parse("[a]\n = v\n").unwrap_err();
        assert_eq!(e.line, 2);
    }

    #[test]
    fn interpolation() {
        let ini =
            parse("[DEFAULT]\nadmins = admin,%(ops)s\nops = operator\n[s]\ncreate = %(admins)s,member\nread = 100%%\nupdate = 5%\ndelete = %(nope)s\n")
                .unwrap();
        assert_eq!(value(&ini, 0, "create"), "admin,operator,member");
        assert_eq!(value(&ini, 0, "read"), "100%");
        let e = ini.get(&ini.sections[0], "update").unwrap().unwrap_err();
        assert_eq!(e.line, 7);
        let e = ini.get(&ini.sections[0], "delete").unwrap().unwrap_err();
        assert!(e.problem.contains("nope"), "{}", e.problem);
        let ini = parse("[s]\na = %(a)s\n").unwrap();
        let e = ini.get(&ini.sections[0], "a").unwrap().unwrap_err();
        assert!(e.problem.contains("deeper"), "{}", e.problem);
    }
}
