//! The right side of a check: a Python %-format string applied to the target
//! (`match % target` in oslo.policy), such as `%(project_id)s`.
//!
//! Python only finds a broken format string when it formats it, and then fails the
//! whole request; we parse templates with the rule so a typo such as
//! `%(project_id)` is reported when the policy is loaded.

use super::python_literal::python_str_repr;
use super::target::{Target, TargetValue};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Field { key: String, conversion: Conversion },
}

/// The conversions of `%(key)X` we accept; Python has more (`%(key)x`, widths,
/// flags) that no policy uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Conversion {
    /// `s`: `str(value)`.
    Str,
    /// `r` / `a`: `repr(value)`.
    Repr,
    /// `d` / `i` / `u`: an integer; a bool formats as 0/1, anything else fails.
    Integer,
}

/// A parsed match template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MatchTemplate {
    pieces: Vec<Piece>,
    source: String,
}

impl MatchTemplate {
    pub(crate) fn parse(source: &str) -> Result<Self, String> {
        let mut pieces = Vec::new();
        let mut text = String::new();
        let mut chars = source.chars();
        while let Some(c) = chars.next() {
            if c != '%' {
                text.push(c);
                continue;
            }
            match chars.next() {
                Some('%') => text.push('%'),
                Some('(') => {
                    // Python allows balanced parentheses inside the key.
                    let mut key = String::new();
                    let mut depth = 1;
                    loop {
                        let c = chars
                            .next()
                            .ok_or_else(|| format!("incomplete format key in {source:?}"))?;
                        match c {
                            '(' => depth += 1,
                            ')' => {
                                depth -= 1;
                                if depth == 0 {
                                    break;
                                }
                            }
                            _ => {}
                        }
                        key.push(c);
                    }
                    let conversion = match chars.next() {
                        Some('s') => Conversion::Str,
                        Some('r' | 'a') => Conversion::Repr,
                        Some('d' | 'i' | 'u') => Conversion::Integer,
                        Some(other) => {
                            return Err(format!(
                            "unsupported format character {other:?} after %({key}) in {source:?}; \
                                 use %({key})s"
                        ))
                        }
                        None => {
                            return Err(format!(
                                "incomplete format %({key}) in {source:?}; use %({key})s"
                            ))
                        }
                    };
                    if !text.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut text)));
                    }
                    pieces.push(Piece::Field { key, conversion });
                }
                _ => {
                    return Err(format!(
                        "a '%' must start %(name)s or be doubled as %% in {source:?}"
                    ))
                }
            }
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        Ok(MatchTemplate {
            pieces,
            source: source.to_string(),
        })
    }

    /// The template with the target's values substituted; None when a named key is
    /// missing from the target (oslo's KeyError: the check fails) or a value does
    /// not fit its conversion.
    pub(crate) fn render(&self, target: &Target) -> Option<String> {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Field { key, conversion } => {
                    let value = target.get(key)?;
                    match conversion {
                        Conversion::Str => out.push_str(&value.python_str()),
                        Conversion::Repr => match value {
                            TargetValue::Str(s) => out.push_str(&python_str_repr(s)),
                            other => out.push_str(&other.python_str()),
                        },
                        Conversion::Integer => match value {
                            TargetValue::Int(n) => out.push_str(&n.to_string()),
                            TargetValue::Bool(b) => out.push(if *b { '1' } else { '0' }),
                            _ => return None,
                        },
                    }
                }
            }
        }
        Some(out)
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.source
    }

    /// The target keys the template reads.
    pub(crate) fn keys(&self) -> impl Iterator<Item = &str> {
        self.pieces.iter().filter_map(|p| match p {
            Piece::Field { key, .. } => Some(key.as_str()),
            Piece::Text(_) => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(template: &str, target: &Target) -> Option<String> {
        MatchTemplate::parse(template).unwrap().render(target)
    }

    #[test]
    fn substitutes_like_python_percent_formatting() {
        let target = Target::new()
            .set("project_id", "p1")
            .set("owner", None::<&str>)
            .set("protected", true)
            .set("size", 42)
            .set("f(x)", "paren");
        assert_eq!(render("%(project_id)s", &target).as_deref(), Some("p1"));
        assert_eq!(
            render("a-%(project_id)s-b", &target).as_deref(),
            Some("a-p1-b")
        );
        assert_eq!(render("%(owner)s", &target).as_deref(), Some("None"));
        assert_eq!(render("%(protected)s", &target).as_deref(), Some("True"));
        assert_eq!(render("%(protected)d", &target).as_deref(), Some("1"));
        assert_eq!(
            render("%(size)s/%(size)d", &target).as_deref(),
            Some("42/42")
        );
        assert_eq!(render("%(project_id)r", &target).as_deref(), Some("'p1'"));
        assert_eq!(render("%(f(x))s", &target).as_deref(), Some("paren"));
        assert_eq!(render("100%%", &target).as_deref(), Some("100%"));
        assert_eq!(render("plain", &target).as_deref(), Some("plain"));
    }

    #[test]
    fn a_missing_key_or_wrong_type_gives_no_match() {
        let target = Target::new().set("name", "x");
        assert_eq!(render("%(project_id)s", &target), None);
        assert_eq!(render("%(name)d", &target), None);
    }

    #[test]
    fn broken_templates_are_errors() {
        for bad in ["%(project_id)", "%(project_id", "%s", "50%", "%(a)x", "%"] {
            assert!(MatchTemplate::parse(bad).is_err(), "{bad} should not parse");
        }
    }
}
