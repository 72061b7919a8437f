//! Conversions of raw option values to typed ones, as oslo.config's `types`
//! module (and glance's own parsing of `user_storage_quota`). Each returns the
//! reason of a failure; the caller adds file, group and option.

/// BoolOpt: true/false, yes/no, on/off, 1/0, case-insensitive.
pub fn parse_bool(value: &str) -> Result<bool, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Ok(true),
        "false" | "no" | "off" | "0" => Ok(false),
        _ => Err(format!(
            "'{value}' is not a boolean (use true/false, yes/no, on/off or 1/0)"
        )),
    }
}

/// IntOpt with optional bounds. An empty value is "not set" (None), as oslo's
/// Integer type returns None for it.
pub fn parse_int(
    value: &str,
    min: Option<i128>,
    max: Option<i128>,
) -> Result<Option<i128>, String> {
    let text = value.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let number: i128 = text
        .parse()
        .map_err(|_| format!("'{value}' is not an integer"))?;
    if let Some(min) = min {
        if number < min {
            return Err(format!("'{value}' is less than the minimum {min}"));
        }
    }
    if let Some(max) = max {
        if number > max {
            return Err(format!("'{value}' is greater than the maximum {max}"));
        }
    }
    Ok(Some(number))
}

/// ListOpt of strings: comma separated, trailing commas dropped, surrounding
/// `[` `]` optional, items trimmed and unquoted; an empty value is an empty list.
pub fn parse_list(value: &str) -> Result<Vec<String>, String> {
    let mut text = value.trim().trim_end_matches(',').trim_end();
    let bracketed_start = text.starts_with('[');
    let bracketed_end = text.ends_with(']');
    match (bracketed_start, bracketed_end) {
        (true, true) if text.len() >= 2 => text = &text[1..text.len() - 1],
        (true, _) => {
            return Err(format!(
                "'{value}' starts with '[' but does not end with ']'"
            ))
        }
        (false, true) => {
            return Err(format!(
                "'{value}' ends with ']' but does not start with '['"
            ))
        }
        (false, false) => {}
    }
    let text = text.trim();
    if text.is_empty() {
        return Ok(Vec::new());
    }
    text.split(',')
        .map(|item| unquote(item.trim(), value))
        .collect()
}

/// Strips one pair of matching quotes from a list item; an unclosed quote is
/// an error (oslo's `String(quotes=True)`).
fn unquote(item: &str, whole: &str) -> Result<String, String> {
    match item.chars().next() {
        Some(quote @ ('"' | '\'')) => {
            if item.len() >= 2 && item.ends_with(quote) {
                Ok(item[1..item.len() - 1].to_string())
            } else {
                Err(format!("'{whole}' has an unclosed quote in item {item}"))
            }
        }
        _ => Ok(item.to_string()),
    }
}

/// DictOpt of strings: `key:value` pairs separated by commas, in written
/// order; keys and values trimmed; an empty key, a pair without `:` or a
/// repeated key is an error.
pub fn parse_dict(value: &str) -> Result<Vec<(String, String)>, String> {
    let text = value.trim();
    if text.is_empty() {
        return Ok(Vec::new());
    }
    let mut pairs: Vec<(String, String)> = Vec::new();
    for pair in text.split(',') {
        let Some((key, item)) = pair.split_once(':') else {
            return Err(format!(
                "'{value}' is not a list of NAME:VALUE pairs separated by ','"
            ));
        };
        let key = key.trim();
        if key.is_empty() {
            return Err(format!("'{value}' has an empty key name"));
        }
        if pairs.iter().any(|(existing, _)| existing == key) {
            return Err(format!("'{value}' repeats the key {key}"));
        }
        pairs.push((key.to_string(), item.trim().to_string()));
    }
    Ok(pairs)
}

/// `user_storage_quota`: digits with an optional case-sensitive unit `B`,
/// `KB`, `MB`, `GB` or `TB` (base 1024, no space), as glance's
/// `^(\d+)((K|M|G|T)?B)?$`.
pub(crate) fn parse_storage_size(value: &str) -> Result<u64, String> {
    let invalid = || {
        format!("'{value}' is not a size: a non-negative integer with an optional unit B, KB, MB, GB or TB")
    };
    let digits_end = value
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(value.len());
    let (digits, unit) = value.split_at(digits_end);
    if digits.is_empty() {
        return Err(invalid());
    }
    let factor: u64 = match unit {
        "" | "B" => 1,
        "KB" => 1 << 10,
        "MB" => 1 << 20,
        "GB" => 1 << 30,
        "TB" => 1 << 40,
        _ => return Err(invalid()),
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|number| number.checked_mul(factor))
        .ok_or_else(|| format!("'{value}' is too large"))
}

/// A string option with a fixed set of choices.
pub fn check_choice(value: &str, choices: &[&str]) -> Result<(), String> {
    if choices.contains(&value) {
        Ok(())
    } else {
        Err(format!("'{value}' is not one of {}", choices.join(", ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans() {
        for yes in ["true", "TRUE", "Yes", "on", "1"] {
            assert_eq!(parse_bool(yes), Ok(true), "{yes}");
        }
        for no in ["false", "False", "NO", "off", "0"] {
            assert_eq!(parse_bool(no), Ok(false), "{no}");
        }
        for bad in ["", "2", "y", "maybe"] {
            assert!(parse_bool(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn integers() {
        assert_eq!(parse_int(" 42 ", None, None), Ok(Some(42)));
        assert_eq!(parse_int("-1", None, None), Ok(Some(-1)));
        assert_eq!(parse_int("+7", None, None), Ok(Some(7)));
        assert_eq!(parse_int("", None, None), Ok(None));
        assert!(parse_int("abc", None, None)
            .unwrap_err()
            .contains("'abc' is not an integer"));
        assert!(parse_int("1.5", None, None).is_err());
        assert!(parse_int("0", Some(1), None)
            .unwrap_err()
            .contains("minimum 1"));
        assert!(parse_int("70000", Some(0), Some(65535))
            .unwrap_err()
            .contains("maximum 65535"));
    }

    #[test]
    fn lists() {
        assert_eq!(
            parse_list("a, b ,c"),
            Ok(vec!["a".into(), "b".into(), "c".into()])
        );
        assert_eq!(parse_list("[a,b]"), Ok(vec!["a".into(), "b".into()]));
        assert_eq!(
            parse_list("[ 'a' , \"b\" ]"),
            Ok(vec!["a".into(), "b".into()])
        );
        assert_eq!(parse_list("a,b,"), Ok(vec!["a".into(), "b".into()]));
        assert_eq!(parse_list(""), Ok(vec![]));
        assert_eq!(parse_list("[]"), Ok(vec![]));
        assert_eq!(parse_list("a,\nb"), Ok(vec!["a".into(), "b".into()]));
        assert!(parse_list("[a,b").is_err());
        assert!(parse_list("a,b]").is_err());
        assert!(parse_list("'a,b").is_err());
    }

    #[test]
    fn dicts() {
        assert_eq!(
            parse_dict("fast:rbd, cheap : file,web:http"),
            Ok(vec![
                ("fast".into(), "rbd".into()),
                ("cheap".into(), "file".into()),
                ("web".into(), "http".into())
            ])
        );
        assert_eq!(parse_dict(" "), Ok(vec![]));
        assert!(parse_dict("fast").is_err());
        assert!(parse_dict(":file").is_err());
        assert!(parse_dict("a:file,a:rbd").is_err());
    }

    #[test]
    fn storage_sizes() {
        assert_eq!(parse_storage_size("0"), Ok(0));
        assert_eq!(parse_storage_size("100"), Ok(100));
        assert_eq!(parse_storage_size("100B"), Ok(100));
        assert_eq!(parse_storage_size("2KB"), Ok(2048));
        assert_eq!(parse_storage_size("3MB"), Ok(3 << 20));
        assert_eq!(parse_storage_size("5GB"), Ok(5 << 30));
        assert_eq!(parse_storage_size("1TB"), Ok(1 << 40));
        for bad in ["", "GB", "-1", "1 GB", "1gb", "1K", "1PB", "1.5GB"] {
            assert!(parse_storage_size(bad).is_err(), "{bad}");
        }
        assert!(parse_storage_size("99999999999999999999TB").is_err());
    }
}
