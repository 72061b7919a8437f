//! The scalar styles of the policy-file YAML subset: quoted, plain and block
//! values that may span lines, folded the way YAML folds them. Each scanner gets
//! the lines of the file, the index of the line the value starts on and the text
//! from the value's first character; it returns the value and the index of the
//! first line after it.

use super::yaml_subset::{marker_rest, YamlError};

fn error<T>(line: usize, message: impl Into<String>) -> Result<T, YamlError> {
    Err(YamlError {
        line,
        message: message.into(),
    })
}

/// How scanning one line of a quoted scalar ended.
enum QuotedLine {
    /// At the closing quote; bytes consumed including it.
    Closed(usize),
    /// At the end of the line; `escaped_break` if it ended with `\`.
    Open { escaped_break: bool },
}

/// Scans one line of a quoted scalar body into `out`. `trailing_spaces` counts the
/// literal blanks at the end of `out`, which folding drops.
fn scan_quoted_segment(
    segment: &str,
    quote: char,
    out: &mut String,
    trailing_spaces: &mut usize,
    number: usize,
) -> Result<QuotedLine, YamlError> {
    let mut chars = segment.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == quote {
            if quote == '\'' && matches!(chars.peek(), Some((_, '\''))) {
                chars.next();
                out.push('\'');
                *trailing_spaces = 0;
                continue;
            }
            return Ok(QuotedLine::Closed(i + 1));
        }
        if c == '\\' && quote == '"' {
            let Some((_, escaped)) = chars.next() else {
                return Ok(QuotedLine::Open {
                    escaped_break: true,
                });
            };
            let simple = match escaped {
                '0' => Some('\0'),
                'a' => Some('\x07'),
                'b' => Some('\x08'),
                't' | '\t' => Some('\t'),
                'n' => Some('\n'),
                'v' => Some('\x0b'),
                'f' => Some('\x0c'),
                'r' => Some('\r'),
                'e' => Some('\x1b'),
                ' ' => Some(' '),
                '"' => Some('"'),
                '/' => Some('/'),
                '\\' => Some('\\'),
                'N' => Some('\u{85}'),
                '_' => Some('\u{a0}'),
                'L' => Some('\u{2028}'),
                'P' => Some('\u{2029}'),
                _ => None,
            };
            let decoded = match (simple, escaped) {
                (Some(c), _) => c,
                (None, 'x' | 'u' | 'U') => {
                    let len = match escaped {
                        'x' => 2,
                        'u' => 4,
                        _ => 8,
                    };
                    let mut code = 0u32;
                    for _ in 0..len {
                        let digit = chars.next().and_then(|(_, d)| d.to_digit(16));
                        let Some(digit) = digit else {
                            return error(
                                number,
                                format!("bad \\{escaped} escape in a double-quoted value"),
                            );
                        };
                        code = code * 16 + digit;
                    }
                    match char::from_u32(code) {
                        Some(c) => c,
                        None => return error(number, "escape names an invalid character"),
                    }
                }
                (None, other) => {
                    return error(
                        number,
                        format!("unknown escape \\{other} in a double-quoted value"),
                    )
                }
            };
            out.push(decoded);
            *trailing_spaces = 0;
            continue;
        }
        out.push(c);
        if c == ' ' || c == '\t' {
            *trailing_spaces += 1;
        } else {
            *trailing_spaces = 0;
        }
    }
    Ok(QuotedLine::Open {
        escaped_break: false,
    })
}

/// A quoted scalar that must close on its line (a key). The body starts after the
/// opening quote; returns the value and the bytes consumed, or None if unclosed.
pub(super) fn scan_quoted_line(
    body: &str,
    quote: char,
    number: usize,
) -> Result<Option<(String, usize)>, YamlError> {
    let mut out = String::new();
    match scan_quoted_segment(body, quote, &mut out, &mut 0, number)? {
        QuotedLine::Closed(consumed) => Ok(Some((out, consumed))),
        QuotedLine::Open { .. } => Ok(None),
    }
}

/// After a closing quote or bracket only blanks and a comment may follow.
fn check_line_rest(rest: &str, number: usize, what: &str) -> Result<(), YamlError> {
    let trimmed = rest.trim_start_matches([' ', '\t']);
    if trimmed.is_empty() || (trimmed.starts_with('#') && trimmed.len() < rest.len()) {
        Ok(())
    } else {
        error(
            number,
            format!("unexpected text {trimmed:?} after the {what}"),
        )
    }
}

/// A 'single' or "double" quoted value, possibly over several lines.
pub(super) fn scan_quoted(
    lines: &[&str],
    index: usize,
    text: &str,
    quote: char,
) -> Result<(String, usize), YamlError> {
    let start_number = index + 1;
    let mut out = String::new();
    let mut line_index = index;
    let mut segment = &text[1..];
    loop {
        let number = line_index + 1;
        let mut trailing_spaces = 0;
        let escaped_break =
            match scan_quoted_segment(segment, quote, &mut out, &mut trailing_spaces, number)? {
                QuotedLine::Closed(consumed) => {
                    check_line_rest(&segment[consumed..], number, "closing quote")?;
                    return Ok((out, line_index + 1));
                }
                QuotedLine::Open { escaped_break } => escaped_break,
            };
        if !escaped_break {
            out.truncate(out.len() - trailing_spaces);
        }
        // Fold the line break: one break becomes a space, each empty line a newline.
        let mut empty_lines = 0;
        loop {
            line_index += 1;
            let Some(line) = lines.get(line_index) else {
                return error(start_number, "the quoted value is never closed");
            };
            if marker_rest(line, "---").is_some() || marker_rest(line, "...").is_some() {
                return error(line_index + 1, "a document marker inside a quoted value");
            }
            let content = line.trim_start_matches([' ', '\t']);
            if content.is_empty() {
                empty_lines += 1;
                continue;
            }
            segment = content;
            break;
        }
        if empty_lines > 0 {
            out.push_str(&"\n".repeat(empty_lines));
        } else if !escaped_break {
            out.push(' ');
        }
    }
}

/// Leading blanks of a continuation line, refusing tabs there.
fn indentation(line: &str, number: usize) -> Result<usize, YamlError> {
    let content = line.trim_start_matches([' ', '\t']);
    let leading = &line[..line.len() - content.len()];
    if leading.contains('\t') && !content.is_empty() {
        return error(number, "tabs are not allowed for indentation");
    }
    Ok(leading.len())
}

/// One line of a plain scalar: its content before any comment, and whether a
/// comment ended it.
fn plain_line_content(text: &str, number: usize) -> Result<(&str, bool), YamlError> {
    let bytes = text.as_bytes();
    let mut end = text.len();
    let mut commented = false;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'#' && i > 0 && matches!(bytes[i - 1], b' ' | b'\t') {
            end = i;
            commented = true;
            break;
        }
        if b == b':' && matches!(bytes.get(i + 1), None | Some(b' ' | b'\t')) {
            return error(
                number,
                "nested mappings are not supported (': ' in an unquoted value; quote the \
                 value if it is one check string)",
            );
        }
    }
    Ok((text[..end].trim_end_matches([' ', '\t']), commented))
}

/// A plain (unquoted) value, continued on more-indented lines.
pub(super) fn scan_plain(
    lines: &[&str],
    index: usize,
    text: &str,
) -> Result<(String, usize), YamlError> {
    let (first, mut ended) = plain_line_content(text, index + 1)?;
    let mut out = first.to_string();
    let mut next = index + 1;
    let mut empty_lines = 0;
    let mut line_index = index + 1;
    while !ended && line_index < lines.len() {
        let line = lines[line_index];
        let number = line_index + 1;
        let content = line.trim_start_matches([' ', '\t']);
        if content.is_empty() {
            empty_lines += 1;
            line_index += 1;
            continue;
        }
        if indentation(line, number)? == 0 || content.starts_with('#') {
            break;
        }
        let (more, commented) = plain_line_content(content, number)?;
        out.push_str(&if empty_lines == 0 {
            " ".to_string()
        } else {
            "\n".repeat(empty_lines)
        });
        out.push_str(more);
        empty_lines = 0;
        ended = commented;
        line_index += 1;
        next = line_index;
    }
    Ok((out, next))
}

/// A `|` (literal) or `>` (folded) block scalar.
pub(super) fn scan_block(
    lines: &[&str],
    index: usize,
    header: &str,
) -> Result<(String, usize), YamlError> {
    let number = index + 1;
    let folded = header.starts_with('>');
    let indicators: String = header[1..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    if indicators.chars().any(|c| c.is_ascii_digit()) {
        return error(
            number,
            "block scalar indentation indicators are not supported",
        );
    }
    let chomp = match indicators.as_str() {
        "" => None,
        "-" => Some(false),
        "+" => Some(true),
        _ => return error(number, format!("bad block scalar header {header:?}")),
    };
    check_line_rest(
        &header[1 + indicators.len()..],
        number,
        "block scalar header",
    )?;

    // The block runs while lines are blank or indented at least as far as its
    // first non-blank line.
    let mut block_indent = None;
    let mut content: Vec<&str> = Vec::new();
    let mut line_index = index + 1;
    while let Some(line) = lines.get(line_index) {
        let blank = line.trim_start_matches([' ', '\t']).is_empty();
        if !blank {
            let indent = indentation(line, line_index + 1)?;
            let required = *block_indent.get_or_insert(indent);
            if indent == 0 || indent < required {
                break;
            }
            content.push(&line[required..]);
        } else {
            content.push("");
        }
        line_index += 1;
    }
    let trailing_empty = content
        .iter()
        .rev()
        .take_while(|l| l.trim().is_empty())
        .count();
    content.truncate(content.len() - trailing_empty);
    let next = index + 1 + content.len();
    if content.is_empty() {
        return Ok((String::new(), next));
    }
    let mut out = if folded {
        fold_block(&content)
    } else {
        content.join("\n")
    };
    match chomp {
        Some(false) => {}
        None => out.push('\n'),
        Some(true) => out.push_str(&"\n".repeat(1 + trailing_empty)),
    }
    Ok((out, next))
}

/// Folds the lines of a `>` block: adjacent text lines join with a space; empty
/// lines and more-indented lines keep their line breaks.
fn fold_block(content: &[&str]) -> String {
    let mut out = String::new();
    let mut previous_more_indented: Option<bool> = None;
    let mut empty_lines = 0;
    for line in content {
        if line.trim().is_empty() {
            empty_lines += 1;
            continue;
        }
        let more_indented = line.starts_with([' ', '\t']);
        match previous_more_indented {
            None => out.push_str(&"\n".repeat(empty_lines)),
            Some(prev) => {
                let keeps_break = prev || more_indented;
                if empty_lines > 0 {
                    out.push_str(&"\n".repeat(empty_lines + usize::from(keeps_break)));
                } else {
                    out.push(if keeps_break { '\n' } else { ' ' });
                }
            }
        }
        out.push_str(line);
        empty_lines = 0;
        previous_more_indented = Some(more_indented);
    }
    out
}

/// A `[...]` value, possibly over several lines, returned raw.
pub(super) fn scan_flow_sequence(
    lines: &[&str],
    index: usize,
    text: &str,
) -> Result<(String, usize), YamlError> {
    let mut raw = String::new();
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    let mut line_index = index;
    let mut segment = text;
    loop {
        for (i, c) in segment.char_indices() {
            let starts_comment = c == '#' && (i == 0 || segment[..i].ends_with([' ', '\t']));
            if quote.is_none() && starts_comment {
                break;
            }
            raw.push(c);
            match quote {
                Some(_) if escaped => escaped = false,
                Some('"') if c == '\\' => escaped = true,
                // A doubled '' inside single quotes closes and reopens, which
                // tracks the same.
                Some(q) if c == q => quote = None,
                Some(_) => {}
                None => match c {
                    '"' | '\'' => quote = Some(c),
                    '[' | '{' => depth += 1,
                    ']' | '}' => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            check_line_rest(&segment[i + 1..], line_index + 1, "closing ']'")?;
                            return Ok((raw, line_index + 1));
                        }
                    }
                    _ => {}
                },
            }
        }
        line_index += 1;
        let Some(line) = lines.get(line_index) else {
            return error(index + 1, "the '[' is never closed");
        };
        raw.push('\n');
        segment = line;
    }
}
