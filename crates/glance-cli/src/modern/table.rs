//! python-glanceclient's tables (PrettyTable, left aligned): `print_dict` (a sorted
//! Property/Value table whose values wrap at 80 columns) and `print_list`.

use serde_json::Value;

/// Python's `str()` of a value as glanceclient prints it: lists and objects as JSON
/// (`json.dumps`, with its `", "` and `": "` separators), null as `None`.
pub fn python_cell(value: &Value) -> String {
    match value {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Array(_) | Value::Object(_) => json_dumps(value),
    }
}

fn json_dumps(value: &Value) -> String {
    match value {
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(json_dumps).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!("{}: {}", Value::String(k.clone()), json_dumps(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}

/// Python's `str()` of a value decoded from JSON, as PrettyTable prints an unconverted
/// cell (glanceclient's `print_dict_list`): dicts and lists in Python's repr.
pub fn python_str(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => python_repr(other),
    }
}

fn python_repr(value: &Value) -> String {
    match value {
        Value::String(s) => {
            let quote = if s.contains('\'') && !s.contains('"') {
                '"'
            } else {
                '\''
            };
            let mut out = String::from(quote);
            for c in s.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    c if c == quote => {
                        out.push('\\');
                        out.push(c);
                    }
                    c => out.push(c),
                }
            }
            out.push(quote);
            out
        }
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(python_repr).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!(
                    "{}: {}",
                    python_repr(&Value::String(k.clone())),
                    python_repr(v)
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => python_cell(other),
    }
}

/// textwrap.wrap as PrettyTable applies it to a cell wider than `max`: break at
/// spaces, and words longer than a line are cut.
fn wrap(text: &str, max: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        if paragraph.chars().count() <= max {
            lines.push(paragraph.to_string());
            continue;
        }
        let mut line = String::new();
        for (joined, chunk) in chunks(paragraph) {
            let mut chunk = chunk;
            loop {
                let used = line.chars().count();
                let space = usize::from(used > 0 && !joined);
                if used + space + chunk.chars().count() <= max {
                    if space == 1 {
                        line.push(' ');
                    }
                    line.push_str(&chunk);
                    break;
                }
                if used > 0 {
                    lines.push(std::mem::take(&mut line));
                    continue;
                }
                let head: String = chunk.chars().take(max).collect();
                chunk = chunk.chars().skip(max).collect();
                lines.push(head);
                if chunk.is_empty() {
                    break;
                }
            }
        }
        if !line.is_empty() {
            lines.push(line);
        }
    }
    lines
}

/// The pieces Python's `textwrap` may break a paragraph into: words, and the
/// parts of hyphenated words (after a hyphen with two letters before it and a
/// letter after it, as its `break_on_hyphens`). `true` marks a piece that
/// continues the previous one without a space.
fn chunks(paragraph: &str) -> Vec<(bool, String)> {
    let mut out = Vec::new();
    for word in paragraph.split(' ') {
        let chars: Vec<char> = word.chars().collect();
        let letter = |i: usize| chars.get(i).is_some_and(|c| c.is_alphabetic());
        let mut start = 0;
        for i in 0..chars.len() {
            let breaks = chars[i] == '-'
                && i >= 2
                && letter(i - 1)
                && letter(i - 2)
                && (letter(i + 1) && (letter(i + 2) || chars.get(i + 2) == Some(&'-')));
            if breaks {
                out.push((start > 0, chars[start..=i].iter().collect()));
                start = i + 1;
            }
        }
        out.push((start > 0, chars[start..].iter().collect()));
    }
    out
}

/// Renders rows of cells under `headers`; each cell may hold several lines.
/// `widths` are the columns' least widths.
fn render(headers: &[String], rows: &[Vec<Vec<String>>], widths: &[usize]) -> String {
    let mut widths: Vec<usize> = headers
        .iter()
        .enumerate()
        .map(|(i, h)| h.chars().count().max(widths.get(i).copied().unwrap_or(0)))
        .collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            for line in cell {
                widths[i] = widths[i].max(line.chars().count());
            }
        }
    }
    let rule = format!(
        "+{}+",
        widths
            .iter()
            .map(|w| "-".repeat(w + 2))
            .collect::<Vec<_>>()
            .join("+")
    );
    let line = |cells: &[&str]| {
        let parts: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!(" {c:<w$} "))
            .collect();
        format!("|{}|", parts.join("|"))
    };
    let mut out = vec![rule.clone()];
    out.push(line(
        &headers.iter().map(String::as_str).collect::<Vec<_>>(),
    ));
    out.push(rule.clone());
    for row in rows {
        let height = row.iter().map(Vec::len).max().unwrap_or(1).max(1);
        for n in 0..height {
            let cells: Vec<&str> = row
                .iter()
                .map(|cell| cell.get(n).map(String::as_str).unwrap_or(""))
                .collect();
            out.push(line(&cells));
        }
    }
    out.push(rule);
    out.join("\n") + "\n"
}

/// `print_dict`: one row per key, sorted, values wrapped at `max_width`.
pub fn dict_table(entries: &[(String, Value)], max_width: usize) -> String {
    let mut entries: Vec<&(String, Value)> = entries.iter().collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let texts: Vec<[String; 2]> = entries
        .iter()
        .map(|(k, v)| [k.clone(), python_cell(v)])
        .collect();
    // PrettyTable sizes a column by its cells' unwrapped width capped at max_width,
    // so a wrapped value makes the column max_width wide even when no wrapped
    // line is that long.
    let mut widths = [0usize; 2];
    for text in &texts {
        for (width, cell) in widths.iter_mut().zip(text) {
            let longest = cell.split('\n').map(|l| l.chars().count()).max();
            *width = (*width).max(longest.unwrap_or(0).min(max_width));
        }
    }
    let rows: Vec<Vec<Vec<String>>> = texts
        .iter()
        .map(|text| text.iter().map(|cell| wrap(cell, max_width)).collect())
        .collect();
    render(
        &["Property".to_string(), "Value".to_string()],
        &rows,
        &widths,
    )
}

/// A cell of `print_list`: a falsy value (None, 0, "", false, empty) is empty.
pub fn list_cell(value: &Value) -> String {
    let falsy = match value {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
    };
    if falsy {
        String::new()
    } else {
        python_cell(value)
    }
}

/// A table of `headers` over rows of cells already turned into text; a cell's
/// lines break as PrettyTable breaks them.
pub fn rows_table(headers: &[String], rows: &[Vec<String>]) -> String {
    let rows: Vec<Vec<Vec<String>>> = rows
        .iter()
        .map(|row| {
            row.iter()
                .map(|cell| cell.split('\n').map(str::to_string).collect())
                .collect()
        })
        .collect();
    render(headers, &rows, &[])
}

/// `print_list`: one row per object, cells as `list_cell` writes them.
#[cfg(test)]
pub fn list_table(headers: &[&str], rows: &[Vec<Value>]) -> String {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|row| row.iter().map(list_cell).collect())
        .collect();
    let headers: Vec<String> = headers.iter().map(|h| h.to_string()).collect();
    rows_table(&headers, &rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn hyphenated_words_break_as_python_textwrap_does() {
        // textwrap.wrap(..., 29) in Python 3.11.
        assert_eq!(
            wrap("cannot connect to missing-image.invalid: dns error", 29),
            vec!["cannot connect to missing-", "image.invalid: dns error"]
        );
        // No break after one letter, or before a digit.
        assert_eq!(wrap("aaaa x-ray", 7), vec!["aaaa", "x-ray"]);
        assert_eq!(wrap("aaaa ab-12cd", 8), vec!["aaaa", "ab-12cd"]);
    }

    #[test]
    fn dict_tables_sort_wrap_and_dump_like_glanceclient() {
        let entries = vec![
            ("tags".to_string(), json!(["a", "b"])),
            ("name".to_string(), json!("x")),
            ("os_hash_value".to_string(), json!("f".repeat(100))),
            ("checksum".to_string(), Value::Null),
        ];
        let table = dict_table(&entries, 80);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(
            lines[1],
            format!("| Property      | Value{} |", " ".repeat(75))
        );
        assert_eq!(
            lines[3],
            format!("| checksum      | None{} |", " ".repeat(76))
        );
        assert_eq!(lines[5], format!("| os_hash_value | {} |", "f".repeat(80)));
        assert_eq!(
            lines[6],
            format!("|               | {}{} |", "f".repeat(20), " ".repeat(60))
        );
        let wrapped = dict_table(
            &[(
                "input".to_string(),
                json!(format!("{} {}", "a".repeat(70), "b".repeat(20))),
            )],
            80,
        );
        assert_eq!(
            wrapped.lines().nth(3).unwrap(),
            format!("| input    | {}{} |", "a".repeat(70), " ".repeat(10))
        );
        assert_eq!(
            lines[7],
            format!("| tags          | [\"a\", \"b\"]{} |", " ".repeat(70))
        );
        let list = list_table(&["ID", "Name"], &[vec![json!("1"), Value::Null]]);
        assert_eq!(
            list,
            "+----+------+\n| ID | Name |\n+----+------+\n| 1  |      |\n+----+------+\n"
        );
    }

    #[test]
    fn print_dict_list_cells_are_python_str() {
        let input = json!({"image_id": "abc", "n": 1, "ok": true, "none": null, "q": "it's"});
        assert_eq!(
            python_str(&input),
            r#"{'image_id': 'abc', 'n': 1, 'ok': True, 'none': None, 'q': "it's"}"#
        );
        assert_eq!(python_str(&json!("plain")), "plain");
        assert_eq!(python_str(&Value::Null), "None");
        assert_eq!(python_str(&json!(["a\\b"])), r"['a\\b']");
    }
}
