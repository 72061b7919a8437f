//! The Swift credentials file (`swift_store_config_file`, usually
//! `/etc/glance/glance-swift.conf`): one section per account reference.
//!
//! Upstream reads it with Python's `configparser` (not oslo.config), so this follows
//! that dialect: `[DEFAULT]` values are inherited by every section, keys are
//! case-insensitive, a key ends at the first `=` or `:`, `#`/`;` start whole-line
//! comments, an indented line continues the previous value, duplicates are errors,
//! and values go through basic interpolation (`%%` is `%`, `%(key)s` is another
//! value of the section) before upstream's quote stripping (`"x"` or `'x'` -> `x`).

use std::collections::BTreeMap;

/// Section name -> key (lower-case) -> raw value (before interpolation).
#[derive(Debug, Clone, Default)]
pub(crate) struct SwiftConfigFile {
    defaults: BTreeMap<String, String>,
    sections: BTreeMap<String, BTreeMap<String, String>>,
}

const DEFAULT_SECTION: &str = "DEFAULT";
/// configparser's limit on nested `%(key)s` references.
const MAX_INTERPOLATION_DEPTH: usize = 10;

impl SwiftConfigFile {
    /// Parses the whole file; `Err` names the line (never a value, which may be a key).
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let mut file = SwiftConfigFile::default();
        // (section, key) of the value a continuation line would extend, and the
        // indentation of the line that started it.
        let mut open: Option<(Option<String>, String, usize)> = None;
        let mut section: Option<String> = None;
        for (index, raw) in text.lines().enumerate() {
            let number = index + 1;
            let line = raw.trim_end();
            let content = line.trim_start();
            if content.is_empty() {
                open = None;
                continue;
            }
            if content.starts_with('#') || content.starts_with(';') {
                continue;
            }
            let indent = line.len() - content.len();
            if let Some((sec, key, level)) = &open {
                if indent > *level {
                    let map = file.map_mut(sec.as_deref());
                    if let Some(value) = map.get_mut(key) {
                        value.push('\n');
                        value.push_str(content);
                    }
                    continue;
                }
            }
            if let Some(name) = header(content) {
                if name != DEFAULT_SECTION && file.sections.contains_key(name) {
                    return Err(format!("line {number}: section [{name}] appears twice"));
                }
                if name != DEFAULT_SECTION {
                    file.sections.insert(name.to_string(), BTreeMap::new());
                }
                section = Some(name.to_string());
                open = None;
                continue;
            }
            let Some(current) = section.clone() else {
                return Err(format!("line {number}: a value before the first section"));
            };
            let Some(split) = content.find(['=', ':']) else {
                return Err(format!("line {number}: expected 'key = value'"));
            };
            let key = content[..split].trim().to_ascii_lowercase();
            if key.is_empty() {
                return Err(format!("line {number}: empty key"));
            }
            let value = content[split + 1..].trim().to_string();
            let sec = (current != DEFAULT_SECTION).then_some(current);
            let map = file.map_mut(sec.as_deref());
            if map.insert(key.clone(), value).is_some() {
                return Err(format!(
                    "line {number}: '{key}' is set twice in its section"
                ));
            }
            open = Some((sec, key, indent));
        }
        Ok(file)
    }

    fn map_mut(&mut self, section: Option<&str>) -> &mut BTreeMap<String, String> {
        match section {
            Some(name) => self.sections.entry(name.to_string()).or_default(),
            None => &mut self.defaults,
        }
    }

    /// The sections, in name order (`DEFAULT` is not one).
    pub(crate) fn sections(&self) -> impl Iterator<Item = &str> {
        self.sections.keys().map(String::as_str)
    }

    /// The value of `key` in `section` (or inherited from `[DEFAULT]`), interpolated and
    /// unquoted as upstream's parser returns it. `Ok(None)` when absent; `Err` is the
    /// reason a present value is unusable (the value itself is never quoted).
    pub(crate) fn get(&self, section: &str, key: &str) -> Result<Option<String>, String> {
        let Some(raw) = self.raw(section, key) else {
            return Ok(None);
        };
        let value = self.interpolate(section, key, raw, 1)?;
        unquote(&value)
            .map(|v| Some(v.to_string()))
            .map_err(|()| format!("'{key}' has an unclosed quote"))
    }

    fn raw(&self, section: &str, key: &str) -> Option<&str> {
        self.sections
            .get(section)
            .and_then(|map| map.get(key))
            .or_else(|| self.defaults.get(key))
            .map(String::as_str)
    }

    /// configparser's BasicInterpolation.
    fn interpolate(
        &self,
        section: &str,
        key: &str,
        raw: &str,
        depth: usize,
    ) -> Result<String, String> {
        if depth > MAX_INTERPOLATION_DEPTH {
            return Err(format!("'{key}': interpolation nested too deeply"));
        }
        let mut out = String::with_capacity(raw.len());
        let mut rest = raw;
        while let Some(at) = rest.find('%') {
            out.push_str(&rest[..at]);
            rest = &rest[at + 1..];
            if let Some(after) = rest.strip_prefix('%') {
                out.push('%');
                rest = after;
            } else if let Some(after) = rest.strip_prefix('(') {
                let close = after
                    .find(")s")
                    .ok_or_else(|| format!("'{key}': bad '%(' reference"))?;
                let name = after[..close].to_ascii_lowercase();
                let value = self
                    .raw(section, &name)
                    .ok_or_else(|| format!("'{key}' refers to missing '{name}'"))?;
                out.push_str(&self.interpolate(section, &name, value, depth + 1)?);
                rest = &after[close + 2..];
            } else {
                return Err(format!("'{key}': '%' must be written '%%'"));
            }
        }
        out.push_str(rest);
        Ok(out)
    }
}

/// `[name]` -> `name` (everything between the first `[` and the last `]`).
fn header(line: &str) -> Option<&str> {
    let inner = line.strip_prefix('[')?;
    let close = inner.rfind(']')?;
    let name = &inner[..close];
    (!name.is_empty()).then_some(name)
}

/// Upstream's `_process_quotes`: a value that starts with a quote must end with it.
fn unquote(value: &str) -> Result<&str, ()> {
    match value.chars().next() {
        Some(q @ ('"' | '\'')) => {
            if value.len() >= 2 && value.ends_with(q) {
                Ok(&value[1..value.len() - 1])
            } else {
                Err(())
            }
        }
        _ => Ok(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_defaults_quotes_and_interpolation() {
        let text = "# comment\n[DEFAULT]\nauth_version = 3\n\n[ref1]\nUser = tenant:user1\n\
                    key: \"k%%ey\"\nauth_address = http://%(host)s/v3\nhost = example.com\n\
                    [ref2]\nuser = u\n  continued\nkey = 'x'\n";
        let file = SwiftConfigFile::parse(text).unwrap();
        assert_eq!(file.sections().collect::<Vec<_>>(), ["ref1", "ref2"]);
        assert_eq!(
            file.get("ref1", "user").unwrap().as_deref(),
            Some("tenant:user1")
        );
        assert_eq!(file.get("ref1", "key").unwrap().as_deref(), Some("k%ey"));
        assert_eq!(
            file.get("ref1", "auth_address").unwrap().as_deref(),
            Some("http://example.com/v3")
        );
        assert_eq!(
            file.get("ref2", "auth_version").unwrap().as_deref(),
            Some("3")
        );
        assert_eq!(
            file.get("ref2", "user").unwrap().as_deref(),
            Some("u\ncontinued")
        );
        assert_eq!(file.get("ref2", "key").unwrap().as_deref(), Some("x"));
        assert_eq!(file.get("ref2", "missing").unwrap(), None);
    }

    #[test]
    fn malformed_files_and_values() {
        assert!(SwiftConfigFile::parse("key = v\n").is_err());
        assert!(SwiftConfigFile::parse("[a]\nk = 1\nk = 2\n").is_err());
        assert!(SwiftConfigFile::parse("[a]\n[a]\n").is_err());
        assert!(SwiftConfigFile::parse("[a]\njust words\n").is_err());
        let file = SwiftConfigFile::parse("[a]\nk = \"open\nb = 50%\n").unwrap();
        let err = file.get("a", "k").unwrap_err();
        assert!(!err.contains("open"), "{err}");
        assert!(file.get("a", "b").is_err());
    }
}
