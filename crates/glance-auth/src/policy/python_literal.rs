//! The Python value semantics oslo.policy's checks rely on.
//!
//! The left side of a generic check (`'public':%(visibility)s`, `True:%(x)s`) is
//! first tried as a Python literal (`ast.literal_eval`) and, when it is one, its
//! `str()` is compared with the right side. Values are compared as the strings
//! Python's `str()` gives, so `None`, `True` and numbers need Python's spelling.

/// What the left side of a generic check is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LeftSide {
    /// A literal; holds the `str()` of its value.
    Literal(String),
    /// Not a literal: a dotted path into the credentials.
    CredentialPath(Vec<String>),
}

/// Classifies the left side like `ast.literal_eval` followed by oslo's fallback to
/// a credentials path. An `Err` is what Python reports as a `SyntaxError` (for
/// example `'unterminated` or `2fa`), which oslo would raise at enforcement time.
pub(crate) fn classify_left_side(kind: &str) -> Result<LeftSide, String> {
    match kind {
        "True" | "False" | "None" => return Ok(LeftSide::Literal(kind.to_string())),
        _ => {}
    }
    let first = kind.chars().next();
    let starts_string = matches!(first, Some('\'' | '"'))
        || (matches!(first, Some('u' | 'U' | 'r' | 'R' | 'b' | 'B'))
            && matches!(kind.chars().nth(1), Some('\'' | '"')));
    if starts_string {
        return parse_string_literals(kind).map(LeftSide::Literal);
    }
    let unsigned = kind.strip_prefix(['-', '+']).unwrap_or(kind);
    let starts_number = unsigned.starts_with(|c: char| c.is_ascii_digit())
        || (unsigned.starts_with('.') && unsigned[1..].starts_with(|c: char| c.is_ascii_digit()));
    if starts_number {
        let negative = kind.starts_with('-');
        return parse_number(unsigned, negative)
            .map(LeftSide::Literal)
            .ok_or_else(|| format!("{kind:?} is not a valid Python number"));
    }
    // Anything else (a name, a dotted name, `a-b`, `[1]`) is not a literal that
    // oslo's policies use: literal_eval rejects names, so oslo looks it up in the
    // credentials.
    Ok(LeftSide::CredentialPath(
        kind.split('.').map(str::to_string).collect(),
    ))
}

/// One or more adjacent string literals (Python concatenates `'a''b'`).
fn parse_string_literals(text: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while !rest.is_empty() {
        let prefix_len = rest.find(['\'', '"']).unwrap_or(rest.len());
        let prefix = rest[..prefix_len].to_ascii_lowercase();
        let raw = match prefix.as_str() {
            "" | "u" => false,
            "r" => true,
            "b" | "br" | "rb" => return Err("bytes literals are not supported".into()),
            _ => return Err(format!("{text:?} is not a valid Python string literal")),
        };
        let quote = rest[prefix_len..]
            .chars()
            .next()
            .ok_or_else(|| format!("{text:?} is not a valid Python string literal"))?;
        let body_start = prefix_len + 1;
        let (value, consumed) = scan_string_body(&rest[body_start..], quote, raw)
            .ok_or_else(|| format!("unterminated string literal in {text:?}"))?;
        out.push_str(&value);
        rest = &rest[body_start + consumed..];
    }
    Ok(out)
}

/// Reads a string body up to its closing quote; returns the value and the bytes
/// consumed including the quote.
fn scan_string_body(body: &str, quote: char, raw: bool) -> Option<(String, usize)> {
    let mut value = String::new();
    let mut chars = body.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == quote {
            return Some((value, i + c.len_utf8()));
        }
        if c != '\\' {
            value.push(c);
            continue;
        }
        let (_, escaped) = chars.next()?;
        if raw {
            // A raw string keeps the backslash; it only stops the quote ending it.
            value.push('\\');
            value.push(escaped);
            continue;
        }
        match escaped {
            '\\' | '\'' | '"' => value.push(escaped),
            'n' => value.push('\n'),
            't' => value.push('\t'),
            'r' => value.push('\r'),
            'a' => value.push('\x07'),
            'b' => value.push('\x08'),
            'f' => value.push('\x0c'),
            'v' => value.push('\x0b'),
            'x' | 'u' | 'U' => {
                let len = match escaped {
                    'x' => 2,
                    'u' => 4,
                    _ => 8,
                };
                let mut code = 0u32;
                for _ in 0..len {
                    let (_, d) = chars.next()?;
                    code = code * 16 + d.to_digit(16)?;
                }
                value.push(char::from_u32(code)?);
            }
            '0'..='7' => {
                let mut code = escaped.to_digit(8)?;
                for _ in 0..2 {
                    match chars.peek() {
                        Some(&(_, d @ '0'..='7')) => {
                            code = code * 8 + d.to_digit(8)?;
                            chars.next();
                        }
                        _ => break,
                    }
                }
                value.push(char::from_u32(code)?);
            }
            // Python keeps unknown escapes as written.
            other => {
                value.push('\\');
                value.push(other);
            }
        }
    }
    None
}

/// `str()` of an int or float literal, or None when Python would not accept it.
fn parse_number(text: &str, negative: bool) -> Option<String> {
    let sign = if negative { "-" } else { "" };
    let lower = text.to_ascii_lowercase();
    let radix = match lower.get(..2) {
        Some("0x") => Some(16),
        Some("0o") => Some(8),
        Some("0b") => Some(2),
        _ => None,
    };
    if let Some(radix) = radix {
        let digits = lower[2..].trim_start_matches('_');
        let value = parse_digits(digits, radix)?;
        return Some(if value == 0 {
            "0".into()
        } else {
            format!("{sign}{value}")
        });
    }
    if lower.chars().all(|c| c.is_ascii_digit() || c == '_') {
        let value = parse_digits(&lower, 10)?;
        // Python forbids leading zeros in a non-zero decimal literal.
        if value != 0 && lower.starts_with('0') {
            return None;
        }
        return Some(if value == 0 {
            "0".into()
        } else {
            format!("{sign}{value}")
        });
    }
    let cleaned: String = lower.chars().filter(|&c| c != '_').collect();
    if cleaned.contains(|c: char| !matches!(c, '0'..='9' | '.' | 'e' | '+' | '-')) {
        return None;
    }
    let value: f64 = cleaned.parse().ok()?;
    Some(python_float_str(if negative { -value } else { value }))
}

fn parse_digits(digits: &str, radix: u32) -> Option<u128> {
    if digits.is_empty() || digits.ends_with('_') || digits.contains("__") {
        return None;
    }
    u128::from_str_radix(&digits.replace('_', ""), radix).ok()
}

/// Python's `repr`/`str` of a float: shortest round-trip digits, positional for
/// decimal exponents in [-4, 16), scientific with a signed two-digit exponent
/// otherwise.
pub(crate) fn python_float_str(value: f64) -> String {
    if value.is_infinite() {
        return if value < 0.0 {
            "-inf".into()
        } else {
            "inf".into()
        };
    }
    if value.is_nan() {
        return "nan".into();
    }
    let scientific = format!("{value:e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    if (-4..16).contains(&exponent) {
        let point = exponent + 1;
        let text = if point <= 0 {
            format!("0.{}{}", "0".repeat(point.unsigned_abs() as usize), digits)
        } else if point as usize >= digits.len() {
            format!("{}{}.0", digits, "0".repeat(point as usize - digits.len()))
        } else {
            let (int, frac) = digits.split_at(point as usize);
            format!("{int}.{frac}")
        };
        format!("{sign}{text}")
    } else {
        let exp_sign = if exponent < 0 { '-' } else { '+' };
        format!("{sign}{mantissa}e{exp_sign}{:02}", exponent.unsigned_abs())
    }
}

/// Python's `repr()` of a string, as a `%(key)r` conversion gives it.
pub(crate) fn python_str_repr(value: &str) -> String {
    let quote = if value.contains('\'') && !value.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(value.len() + 2);
    out.push(quote);
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn literal(kind: &str) -> String {
        match classify_left_side(kind).unwrap() {
            LeftSide::Literal(s) => s,
            other => panic!("{kind} is not a literal: {other:?}"),
        }
    }

    #[test]
    fn string_literals_like_python() {
        assert_eq!(literal("'public'"), "public");
        assert_eq!(literal("\"public\""), "public");
        assert_eq!(literal("u'x'"), "x");
        assert_eq!(literal("'a''b'"), "ab");
        assert_eq!(literal(r"'it\'s'"), "it's");
        assert_eq!(literal(r"'\x41\101'"), "AA");
        assert_eq!(literal(r"r'a\d'"), r"a\d");
        assert_eq!(literal(r"'a\d'"), r"a\d");
        assert!(classify_left_side("'open").is_err());
        assert!(classify_left_side("b'x'").is_err());
    }

    #[test]
    fn constants_and_numbers_like_python() {
        assert_eq!(literal("True"), "True");
        assert_eq!(literal("None"), "None");
        assert_eq!(literal("42"), "42");
        assert_eq!(literal("-7"), "-7");
        assert_eq!(literal("+7"), "7");
        assert_eq!(literal("-0"), "0");
        assert_eq!(literal("1_000"), "1000");
        assert_eq!(literal("0x1F"), "31");
        assert_eq!(literal("0o17"), "15");
        assert_eq!(literal("0b101"), "5");
        assert_eq!(literal("1.5"), "1.5");
        assert_eq!(literal("1e3"), "1000.0");
        assert_eq!(literal("1e16"), "1e+16");
        assert_eq!(literal("1e-5"), "1e-05");
        assert_eq!(literal(".25"), "0.25");
        assert_eq!(literal("0.0001"), "0.0001");
        assert!(classify_left_side("2fa").is_err());
        assert!(classify_left_side("012").is_err());
    }

    #[test]
    fn names_are_credential_paths() {
        assert_eq!(
            classify_left_side("target.role.domain_id").unwrap(),
            LeftSide::CredentialPath(vec!["target".into(), "role".into(), "domain_id".into()])
        );
        assert_eq!(
            classify_left_side("true").unwrap(),
            LeftSide::CredentialPath(vec!["true".into()])
        );
    }

    #[test]
    fn repr_of_strings() {
        assert_eq!(python_str_repr("abc"), "'abc'");
        assert_eq!(python_str_repr("it's"), "\"it's\"");
        assert_eq!(python_str_repr("a'\"b"), "'a\\'\"b'");
        assert_eq!(python_str_repr("a\nb"), "'a\\nb'");
    }
}
