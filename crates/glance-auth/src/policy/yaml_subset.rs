//! The part of YAML that policy files use: one top-level mapping of scalar keys to
//! scalar values.
//!
//! Accepted: comments, blank lines, a leading `---`, `key: value` lines with
//! plain, 'single' or "double" quoted keys and values, values continued on
//! more-indented lines (folded as YAML folds them), values on the line after
//! `key:`, `|` and `>` block scalars, a flow sequence value (`[...]`, handed back
//! raw for the legacy list syntax), and a mapping indented as a whole. Anything
//! else a YAML parser would read differently (nested mappings, sequences,
//! anchors, tags, tab indentation, several documents) is an error with its
//! 1-based line, never a silent misreading. Duplicate keys are all returned in
//! order; like PyYAML's `safe_load`, the last one wins.

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum YamlValue {
    Str(String),
    /// `key:` with nothing, `~` or `null`.
    Null,
    /// A plain `true`, `no`, `On`, ... (YAML 1.1 booleans, as PyYAML reads them).
    Bool(bool),
    /// A plain scalar PyYAML reads as an int or a float.
    Number(String),
    /// A `[...]` value, raw.
    FlowSequence(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct YamlEntry {
    pub(crate) key: String,
    pub(crate) value: YamlValue,
    /// 1-based line of the key.
    pub(crate) line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct YamlError {
    pub(crate) line: usize,
    pub(crate) message: String,
}

fn error<T>(line: usize, message: impl Into<String>) -> Result<T, YamlError> {
    Err(YamlError {
        line,
        message: message.into(),
    })
}

/// Parses a policy file's YAML text into its top-level entries.
pub(crate) fn parse_top_level_mapping(text: &str) -> Result<Vec<YamlEntry>, YamlError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines: Vec<&str> = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    let lines = dedent(lines)?;
    let mut entries = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let number = i + 1;
        if is_blank_or_comment(line) {
            i += 1;
            continue;
        }
        if line.starts_with('\t') {
            return error(number, "tabs are not allowed for indentation");
        }
        if line.starts_with(' ') {
            return error(
                number,
                "unexpected indentation: only a top-level mapping of `name: check` is \
                 supported (no nested mappings)",
            );
        }
        if let Some(rest) = marker_rest(line, "---") {
            if !entries.is_empty() {
                return error(number, "a policy file must hold a single YAML document");
            }
            if !is_blank_or_comment(rest) {
                return error(
                    number,
                    "a document must be a mapping of `name: check` lines",
                );
            }
            i += 1;
            continue;
        }
        if marker_rest(line, "...").is_some() || line.starts_with('%') {
            return error(
                number,
                "YAML directives and document end markers are not supported",
            );
        }
        let (key, after_key) = parse_key(line, number)?;
        let (value, next) = parse_value(&lines, i, after_key)?;
        entries.push(YamlEntry {
            key,
            value,
            line: number,
        });
        i = next;
    }
    Ok(entries)
}

/// YAML lets the whole top-level mapping be indented, as long as every key is
/// indented the same; we strip that indentation so columns count from the keys.
fn dedent(lines: Vec<&str>) -> Result<Vec<&str>, YamlError> {
    let first_key = lines.iter().find(|l| {
        !is_blank_or_comment(l) && marker_rest(l, "---").is_none() && !l.starts_with('%')
    });
    let base = first_key.map_or(0, |l| l.len() - l.trim_start_matches(' ').len());
    if base == 0 {
        return Ok(lines);
    }
    lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let indent = line.len() - line.trim_start_matches(' ').len();
            if indent >= base {
                Ok(&line[base..])
            } else if is_blank_or_comment(line) || marker_rest(line, "---").is_some() {
                Ok(*line)
            } else {
                error(i + 1, "this line is less indented than the first key")
            }
        })
        .collect()
}

fn is_blank_or_comment(line: &str) -> bool {
    let trimmed = line.trim_start_matches([' ', '\t']);
    trimmed.is_empty() || trimmed.starts_with('#')
}

/// The text after a document marker (`---`, `...`) that starts the line.
pub(super) fn marker_rest<'a>(line: &'a str, marker: &str) -> Option<&'a str> {
    let rest = line.strip_prefix(marker)?;
    (rest.is_empty() || rest.starts_with([' ', '\t'])).then_some(rest)
}

/// Why a value or key may not start with `c`, if it may not.
fn unsupported_start(text: &str) -> Option<&'static str> {
    let mut chars = text.chars();
    let first = chars.next()?;
    let then_space = chars.next().is_none_or(|c| c == ' ' || c == '\t');
    match first {
        '-' | '?' | ':' if then_space => Some(match first {
            '-' => "sequences are not supported",
            '?' => "complex mapping keys are not supported",
            _ => "a key is missing before ':'",
        }),
        '{' => Some("nested (flow) mappings are not supported"),
        '&' | '*' => Some("anchors and aliases are not supported"),
        '!' => Some("tags are not supported; quote a value that starts with '!'"),
        '@' | '`' | '%' | ',' | ']' | '}' => {
            Some("this character cannot start a plain YAML scalar; quote the value")
        }
        _ => None,
    }
}

/// Reads the key of a mapping line; returns it and the byte offset after the ':'.
fn parse_key(line: &str, number: usize) -> Result<(String, usize), YamlError> {
    if let Some(reason) = unsupported_start(line) {
        return error(number, reason);
    }
    if line.starts_with(['[', '|', '>']) {
        return error(
            number,
            "a policy file must be a mapping of `name: check` lines",
        );
    }
    let (key, after) = if line.starts_with(['"', '\'']) {
        let quote = line.as_bytes()[0] as char;
        let Some((key, consumed)) =
            super::yaml_scalars::scan_quoted_line(&line[1..], quote, number)?
        else {
            return error(number, "a quoted key must end on its own line");
        };
        let rest = &line[1 + consumed..];
        let spaces = rest.len() - rest.trim_start_matches([' ', '\t']).len();
        if !rest[spaces..].starts_with(':') {
            return error(number, "expected ':' after the key");
        }
        (key, 1 + consumed + spaces + 1)
    } else {
        let Some(colon) = find_mapping_colon(line) else {
            return error(number, "expected `name: check` (a key followed by ': ')");
        };
        (
            line[..colon].trim_end_matches([' ', '\t']).to_string(),
            colon + 1,
        )
    };
    let rest = &line[after..];
    if !(rest.is_empty() || rest.starts_with([' ', '\t'])) {
        return error(number, "expected a space after ':'");
    }
    Ok((key, after))
}

/// The ':' that separates a plain key from its value: one followed by a space or
/// the end of the line, before any comment.
fn find_mapping_colon(line: &str) -> Option<usize> {
    let bytes = line.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'#' && i > 0 && matches!(bytes[i - 1], b' ' | b'\t') {
            return None;
        }
        if b == b':' && matches!(bytes.get(i + 1), None | Some(b' ' | b'\t')) {
            return Some(i);
        }
    }
    None
}

/// Reads the value that starts after the key on line `index`; returns it and the
/// index of the first line after it.
fn parse_value(
    lines: &[&str],
    index: usize,
    offset: usize,
) -> Result<(YamlValue, usize), YamlError> {
    let inline = lines[index][offset..].trim_start_matches([' ', '\t']);
    if !inline.is_empty() && !inline.starts_with('#') {
        return parse_value_text(lines, index, inline);
    }
    // Nothing on the key's line: the value may start on a more-indented line.
    let mut next = index + 1;
    while next < lines.len() && is_blank_or_comment(lines[next]) {
        next += 1;
    }
    match lines.get(next) {
        Some(line) if line.starts_with(' ') => {
            let text = line.trim_start_matches(' ');
            if text.starts_with('\t') {
                return error(next + 1, "tabs are not allowed for indentation");
            }
            parse_value_text(lines, next, text)
        }
        _ => Ok((YamlValue::Null, index + 1)),
    }
}

/// Parses a value whose first character is `text` on line `index`.
fn parse_value_text(
    lines: &[&str],
    index: usize,
    text: &str,
) -> Result<(YamlValue, usize), YamlError> {
    let number = index + 1;
    if let Some(reason) = unsupported_start(text) {
        return error(number, reason);
    }
    match text.chars().next() {
        Some(quote @ ('"' | '\'')) => {
            let (value, next) = super::yaml_scalars::scan_quoted(lines, index, text, quote)?;
            Ok((YamlValue::Str(value), next))
        }
        Some('|' | '>') => {
            let (value, next) = super::yaml_scalars::scan_block(lines, index, text)?;
            Ok((YamlValue::Str(value), next))
        }
        Some('[') => {
            let (raw, next) = super::yaml_scalars::scan_flow_sequence(lines, index, text)?;
            Ok((YamlValue::FlowSequence(raw), next))
        }
        _ => {
            let (value, next) = super::yaml_scalars::scan_plain(lines, index, text)?;
            Ok((resolve_plain(value), next))
        }
    }
}

/// Types a plain scalar the way PyYAML's resolver (YAML 1.1) does, for the types
/// a policy value could accidentally be.
fn resolve_plain(value: String) -> YamlValue {
    match value.as_str() {
        "~" | "null" | "Null" | "NULL" => return YamlValue::Null,
        "true" | "True" | "TRUE" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => {
            return YamlValue::Bool(true)
        }
        "false" | "False" | "FALSE" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => {
            return YamlValue::Bool(false)
        }
        _ => {}
    }
    let unsigned = value.strip_prefix(['-', '+']).unwrap_or(&value);
    let is_int = !unsigned.is_empty()
        && (unsigned.chars().all(|c| c.is_ascii_digit() || c == '_')
            || unsigned.strip_prefix("0x").is_some_and(|h| {
                !h.is_empty() && h.chars().all(|c| c.is_ascii_hexdigit() || c == '_')
            }));
    let is_float = unsigned.contains('.')
        && unsigned.chars().any(|c| c.is_ascii_digit())
        && unsigned
            .split_once(['e', 'E'])
            .map_or(unsigned, |(m, _)| m)
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == '_');
    let is_special = matches!(
        unsigned,
        ".inf" | ".Inf" | ".INF" | ".nan" | ".NaN" | ".NAN"
    );
    if is_int || is_float || is_special {
        YamlValue::Number(value)
    } else {
        YamlValue::Str(value)
    }
}
