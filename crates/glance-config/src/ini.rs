//! The oslo.config INI dialect (`oslo_config/iniparser.py`):
//!
//! * `[section]` headers; the name is everything between the brackets (not trimmed).
//! * `key = value` or `key: value`, split at whichever of `=` / `:` comes first;
//!   key and value are trimmed; a value wrapped in matching `"` or `'` loses them.
//! * Lines starting with `#` or `;` are comments.
//! * A line starting with a space or tab continues the previous value (joined
//!   with `\n`); a blank line or any other line ends it.
//! * An assignment before the first section, a continuation line with nothing
//!   to continue, a section header without `]`, `[]`, an empty key and a line
//!   without `=` or `:` are errors.
//!
//! Section and option names are lower-cased here (oslo lower-cases groups but
//! `DEFAULT`; we treat both case-insensitively, `default` included).

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::error::ConfigError;

/// One parsed file: section -> option -> every value in file order.
#[derive(Debug, Clone, Default)]
pub(crate) struct IniFile {
    /// The file it came from; None for a string document.
    pub path: Option<PathBuf>,
    pub sections: BTreeMap<String, BTreeMap<String, Vec<String>>>,
}

impl IniFile {
    /// Every value of `option` in `section` (both lower-case), in file order.
    pub fn values(&self, section: &str, option: &str) -> Option<&[String]> {
        self.sections
            .get(section)
            .and_then(|options| options.get(option))
            .map(Vec::as_slice)
    }
}

/// Parses one INI document.
pub(crate) fn parse(text: &str, path: Option<PathBuf>) -> Result<IniFile, ConfigError> {
    let mut parser = Parser {
        file: IniFile {
            path,
            sections: BTreeMap::new(),
        },
        section: None,
        pending: None,
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for (index, line) in text.lines().enumerate() {
        parser.line(index + 1, line)?;
    }
    parser.flush()?;
    Ok(parser.file)
}

struct Pending {
    key: String,
    value: Vec<String>,
    line: usize,
    text: String,
}

struct Parser {
    file: IniFile,
    section: Option<String>,
    pending: Option<Pending>,
}

impl Parser {
    fn line(&mut self, number: usize, raw: &str) -> Result<(), ConfigError> {
        let line = raw.trim_end();
        if line.is_empty() {
            return self.flush();
        }
        if line.starts_with([' ', '\t']) {
            return match self.pending.as_mut() {
                Some(pending) => {
                    pending.value.push(line.trim_start().to_string());
                    Ok(())
                }
                None => Err(self.error(number, "Unexpected continuation line", line)),
            };
        }
        self.flush()?;
        if line.starts_with('[') {
            if !line.ends_with(']') {
                return Err(self.error(number, "Invalid section (must end with ])", line));
            }
            if line.len() <= 2 {
                return Err(self.error(number, "Empty section name", line));
            }
            let name = line[1..line.len() - 1].to_ascii_lowercase();
            self.file.sections.entry(name.clone()).or_default();
            self.section = Some(name);
            return Ok(());
        }
        if line.starts_with(['#', ';']) {
            return Ok(());
        }
        let (key, value) = split_key_value(line)
            .ok_or_else(|| self.error(number, "No ':' or '=' found in assignment", line))?;
        if key.is_empty() {
            return Err(self.error(number, "Key cannot be empty", line));
        }
        self.pending = Some(Pending {
            key: key.to_ascii_lowercase(),
            value: vec![value],
            line: number,
            text: line.to_string(),
        });
        Ok(())
    }

    /// Stores the assignment being built, if any.
    fn flush(&mut self) -> Result<(), ConfigError> {
        let Some(pending) = self.pending.take() else {
            return Ok(());
        };
        let Some(section) = self.section.as_ref() else {
            return Err(self.error(
                pending.line,
                "Section must be started before assignment",
                &pending.text,
            ));
        };
        self.file
            .sections
            .entry(section.clone())
            .or_default()
            .entry(pending.key)
            .or_default()
            .push(pending.value.join("\n"));
        Ok(())
    }

    fn error(&self, line: usize, message: &str, text: &str) -> ConfigError {
        ConfigError::Parse {
            file: self.file.path.clone(),
            line,
            message: message.to_string(),
            text: text.to_string(),
        }
    }
}

/// Splits `key = value` / `key: value` at the first of `=` and `:`; trims both
/// and strips one pair of matching quotes around the value (as oslo does).
fn split_key_value(line: &str) -> Option<(&str, String)> {
    let at = match (line.find('='), line.find(':')) {
        (Some(equal), Some(colon)) => equal.min(colon),
        (Some(equal), None) => equal,
        (None, Some(colon)) => colon,
        (None, None) => return None,
    };
    let key = line[..at].trim();
    let mut value = line[at + 1..].trim();
    if let Some(first) = value.chars().next() {
        if (first == '"' || first == '\'') && value.ends_with(first) {
            // A lone quote character becomes the empty string, as in oslo.
            value = if value.len() == 1 {
                ""
            } else {
                &value[1..value.len() - 1]
            };
        }
    }
    Some((key, value.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str, section: &str, key: &str) -> Vec<String> {
        parse(text, None)
            .unwrap()
            .values(section, key)
            .unwrap_or_default()
            .to_vec()
    }

    #[test]
    fn equal_and_colon_assignments() {
        let text = "[DEFAULT]\na = 1\nb: 2\nc = x:y\nd: u=v\ne=\n";
        assert_eq!(one(text, "default", "a"), ["1"]);
        assert_eq!(one(text, "default", "b"), ["2"]);
        assert_eq!(one(text, "default", "c"), ["x:y"]);
        assert_eq!(one(text, "default", "d"), ["u=v"]);
        assert_eq!(one(text, "default", "e"), [""]);
    }

    #[test]
    fn quotes_are_stripped_when_matching() {
        let text = "[s]\na = \"Fast pool\"\nb = 'x'\nc = \"open\nd = \"\ne = \"a\" b\n";
        assert_eq!(one(text, "s", "a"), ["Fast pool"]);
        assert_eq!(one(text, "s", "b"), ["x"]);
        assert_eq!(one(text, "s", "c"), ["\"open"]);
        assert_eq!(one(text, "s", "d"), [""]);
        assert_eq!(one(text, "s", "e"), ["\"a\" b"]);
    }

    #[test]
    fn continuation_lines_and_blank_lines() {
        let text = "[s]\nlist = a,\n  b,\n\tc\n\nnext = 1\n";
        assert_eq!(one(text, "s", "list"), ["a,\nb,\nc"]);
        assert_eq!(one(text, "s", "next"), ["1"]);
    }

    #[test]
    fn repeated_keys_keep_every_value_and_sections_lower_case() {
        let text = "[Glance_Store]\nA = 1\n[glance_store]\na = 2\n";
        assert_eq!(one(text, "glance_store", "a"), ["1", "2"]);
    }

    #[test]
    fn comments_are_skipped() {
        let text = "# top\n[s]\n; semi\n#a = 1\nb = 2 # not a comment\n";
        assert_eq!(one(text, "s", "a"), Vec::<String>::new());
        assert_eq!(one(text, "s", "b"), ["2 # not a comment"]);
    }

    #[test]
    fn crlf_and_bom() {
        let text = "\u{feff}[s]\r\na = 1\r\n";
        assert_eq!(one(text, "s", "a"), ["1"]);
    }

    fn error_of(text: &str) -> String {
        parse(text, None).unwrap_err().to_string()
    }

    #[test]
    fn syntax_errors() {
        assert!(error_of("a = 1\n").contains("Section must be started before assignment"));
        assert!(error_of("[s\n").contains("must end with ]"));
        assert!(error_of("[]\n").contains("Empty section name"));
        assert!(error_of("[s]\n  x\n").contains("Unexpected continuation line"));
        assert!(error_of("[s]\n= 1\n").contains("Key cannot be empty"));
        let message = error_of("[s]\nnovalue\n");
        assert!(message.contains("No ':' or '=' found"), "{message}");
        assert!(message.contains("line 2"), "{message}");
    }
}
