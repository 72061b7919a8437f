//! Filter values of `GET /v2/images`: upstream's `op:value` split, quoted `in:` lists
//! and ISO 8601 times.

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use glance_db::CmpOp;

use super::bad;
use crate::CoreResult;

/// Upstream's `split_filter_op`: `op:value`, except that a whole value which is an
/// ISO 8601 time (it has colons) is an `eq` comparison.
fn split_filter_op(value: &str) -> (&str, &str) {
    match value.split_once(':') {
        None => ("eq", value),
        Some(_) if parse_iso_time(value).is_ok() => ("eq", value),
        Some((op, rest)) => (op, rest),
    }
}

/// `in:a,b` / `eq:a` / `a`; any other `op:` prefix is an error.
pub(super) fn operator_values(value: &str) -> CoreResult<Vec<String>> {
    match split_filter_op(value) {
        ("in", rest) => split_in_list(rest),
        ("eq", rest) => Ok(vec![rest.to_string()]),
        (op, _) => Err(bad(format!("Unable to filter by unknown operator '{op}'."))),
    }
}

/// Upstream's `validate_quotes`: quotes (not escaped by a backslash) open right after
/// a comma or at the start, close right before a comma or at the end, and pair up.
fn validate_quotes(list: &str) -> CoreResult<()> {
    let b = list.as_bytes();
    let mut open = true;
    for i in 0..b.len() {
        if b[i] != b'"' || (i > 0 && b[i - 1] == b'\\') {
            continue;
        }
        if open && i > 0 && b[i - 1] != b',' {
            return Err(bad(format!(
                "Invalid filter value {list}. There is no comma before opening quotation mark."
            )));
        }
        if !open && i + 1 != b.len() && b[i + 1] != b',' {
            return Err(bad(format!(
                "Invalid filter value {list}. There is no comma after closing quotation mark."
            )));
        }
        open = !open;
    }
    if !open {
        return Err(bad(format!(
            "Invalid filter value {list}. The quote is not closed."
        )));
    }
    Ok(())
}

/// Splits an `in:` list on commas; items holding commas are double-quoted (upstream's
/// `split_filter_value_for_quotes`, whose regex this walks by hand).
fn split_in_list(list: &str) -> CoreResult<Vec<String>> {
    validate_quotes(list)?;
    let chars: Vec<char> = list.chars().collect();
    let mut items = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '"' {
            // A quoted item, backslash escapes kept verbatim, then an optional comma.
            let mut j = i + 1;
            while j < chars.len() && chars[j] != '"' {
                j += if chars[j] == '\\' { 2 } else { 1 };
            }
            if j < chars.len() {
                items.push(chars[i + 1..j].iter().collect());
                i = j + 1;
                if chars.get(i) == Some(&',') {
                    i += 1;
                }
                continue;
            }
        }
        if chars[i] == ',' {
            items.push(String::new());
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && chars[i] != ',' {
            i += 1;
        }
        items.push(chars[start..i].iter().collect());
        if i < chars.len() {
            i += 1;
        }
    }
    Ok(items)
}

pub(super) fn parse_time_filter(key: &str, value: &str) -> CoreResult<(CmpOp, NaiveDateTime)> {
    let (op, time) = split_filter_op(value);
    let time = parse_iso_time(time).map_err(|_| {
        bad(format!(
            "Bad \"{key}\" query filter format. Use ISO 8601 DateTime notation."
        ))
    })?;
    let op = match op {
        "gt" => CmpOp::Gt,
        "gte" => CmpOp::Gte,
        "lt" => CmpOp::Lt,
        "lte" => CmpOp::Lte,
        "eq" => CmpOp::Eq,
        "neq" => CmpOp::Neq,
        _ => return Err(bad("Unable to filter on a unknown operator.")),
    };
    Ok((op, time))
}

/// ISO 8601 in the forms clients send; values without a zone are UTC.
pub(crate) fn parse_iso_time(s: &str) -> CoreResult<NaiveDateTime> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.naive_utc());
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f%#z", "%Y-%m-%dT%H:%M%#z"] {
        if let Ok(t) = DateTime::parse_from_str(s, fmt) {
            return Ok(t.naive_utc());
        }
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Ok(t);
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).expect("midnight exists"));
    }
    Err(bad(format!("Invalid time format for {s}.")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_lists() {
        assert_eq!(split_in_list("a,b").unwrap(), vec!["a", "b"]);
        assert_eq!(
            split_in_list("\"glass, darkly\",share me").unwrap(),
            vec!["glass, darkly", "share me"]
        );
        assert!(split_in_list("\"open,b").is_err());
        assert!(split_in_list("a\"b\",c").is_err());
        assert!(split_in_list("\"a\"b,c").is_err());
        assert_eq!(split_in_list("a,,b").unwrap(), vec!["a", "", "b"]);
        assert_eq!(split_in_list("a,").unwrap(), vec!["a"]);
    }

    #[test]
    fn times() {
        assert_eq!(
            parse_time_filter("created_at", "gt:2026-01-02T03:04:05Z")
                .unwrap()
                .0,
            CmpOp::Gt
        );
        assert_eq!(
            parse_time_filter("created_at", "2026-01-02T03:04:05Z")
                .unwrap()
                .0,
            CmpOp::Eq
        );
        assert_eq!(
            parse_time_filter("created_at", "lte:2026-01-02T03:04:05+01:00")
                .unwrap()
                .1
                .to_string(),
            "2026-01-02 02:04:05"
        );
        assert!(parse_time_filter("created_at", "xx:2026-01-02").is_err());
        assert!(parse_time_filter("created_at", "gt:notatime").is_err());
    }

    #[test]
    fn operators() {
        // A bare ISO time has colons but no operator.
        assert_eq!(
            operator_values("2020-01-01T00:00:00Z").unwrap(),
            vec!["2020-01-01T00:00:00Z"]
        );
        assert_eq!(operator_values("eq:a:b").unwrap(), vec!["a:b"]);
        assert_eq!(operator_values("in:a").unwrap(), vec!["a"]);
        assert!(operator_values("gt:a").is_err());
    }
}
