//! Section names of a protection file are Python `re` patterns (upstream calls
//! `re.compile(section)` and then `search`es property names with it). This
//! translates the pattern into regex-lite syntax with Python's meaning, and
//! rejects — with a message naming the construct — what Python rejects and what
//! regex-lite cannot express.
//!
//! Translated: `\Z` (-> `\z`); `$` outside multi-line mode (Python's also matches
//! just before a final `\n`); `{,n}` / `{,}` repeats; a `{` that does not form a
//! repeat (a literal in Python, an error in regex-lite); octal and `\xhh` /
//! `\uhhhh` / `\Uhhhhhhhh` escapes; `\<`, `\>` (literals in Python, word
//! boundaries in regex-lite); `[\b]` (backspace); characters that regex-lite
//! treats specially inside classes (`[`, `&&`, `--`, `~~`) but Python does not;
//! the `a` and `u` flags (dropped); `(?#...)` comments (dropped).
//!
//! Refused as unsupported (Python accepts them): look-ahead/look-behind,
//! backreferences, atomic groups, possessive repeats, conditionals, `\N{...}`,
//! the verbose flag `x`.
//!
//! Known differences left as they are: `\d`, `\w`, `\s`, `\b` and the `i` flag
//! are ASCII-only in regex-lite, Unicode-aware in Python; property names are
//! almost always ASCII.

mod escapes;
#[cfg(test)]
mod tests;

use regex_lite::Regex;

/// Compiles a Python pattern; the error says what is wrong, in Python's terms
/// where Python would refuse the pattern too.
pub(super) fn compile(pattern: &str) -> Result<Regex, String> {
    let translated = translate(pattern)?;
    Regex::new(&translated)
        .map_err(|e| format!("regex-lite rejects its translation {translated:?}: {e}"))
}

pub(super) fn translate(pattern: &str) -> Result<String, String> {
    let mut t = Translator {
        chars: pattern.chars().collect(),
        pos: 0,
        out: String::with_capacity(pattern.len() + 8),
        groups: Vec::new(),
        multiline: false,
        last: Last::Nothing,
        at_start: true,
    };
    t.run()?;
    Ok(t.out)
}

/// What the previous token was, for Python's repeat rules.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Last {
    /// Start of the pattern, of a group or of an alternative.
    Nothing,
    /// `^`, `$`, `\A`, `\Z`, `\b`, `\B`: Python refuses to repeat these.
    Assertion,
    Repeat,
    Atom,
}

struct Group {
    /// Multi-line mode outside the group, restored at its `)`.
    outer_multiline: bool,
    /// Position of the `(`, for "missing )".
    start: usize,
}

/// An item of a character class: a single character can bound a range, a
/// `\d`-like set cannot.
enum ClassItem {
    Char(char),
    Set(char),
}

struct Translator {
    chars: Vec<char>,
    pos: usize,
    out: String,
    groups: Vec<Group>,
    multiline: bool,
    last: Last,
    /// Python only accepts global flags `(?i)` before anything else.
    at_start: bool,
}

/// Characters regex-lite gives a meaning somewhere; escaping any ASCII
/// punctuation is always allowed, so these are escaped when meant literally.
const SPECIAL: &str = "\\.+*?()|[]{}^$#&-~";

fn push_literal(out: &mut String, c: char) {
    if SPECIAL.contains(c) {
        out.push('\\');
        out.push(c);
    } else if c.is_control() {
        out.push_str(&format!("\\x{{{:X}}}", c as u32));
    } else {
        out.push(c);
    }
}

impl Translator {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += 1;
        Some(c)
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn fail<T>(&self, what: &str) -> Result<T, String> {
        Err(format!("{what} at position {}", self.pos.saturating_sub(1)))
    }

    fn run(&mut self) -> Result<(), String> {
        while let Some(c) = self.next() {
            let was_at_start = self.at_start;
            self.at_start = false;
            match c {
                '\\' => self.escape()?,
                '[' => {
                    self.class()?;
                    self.last = Last::Atom;
                }
                '(' => self.open_group(was_at_start)?,
                ')' => {
                    let Some(group) = self.groups.pop() else {
                        return self.fail("unbalanced parenthesis");
                    };
                    self.multiline = group.outer_multiline;
                    self.out.push(')');
                    self.last = Last::Atom;
                }
                '|' => {
                    self.out.push('|');
                    self.last = Last::Nothing;
                }
                '^' => {
                    self.out.push('^');
                    self.last = Last::Assertion;
                }
                '$' => {
                    // Python's `$` also matches before a final newline.
                    self.out
                        .push_str(if self.multiline { "$" } else { "(?:\\n?\\z)" });
                    self.last = Last::Assertion;
                }
                '.' => {
                    self.out.push('.');
                    self.last = Last::Atom;
                }
                '*' | '+' | '?' => self.repeat(&c.to_string())?,
                '{' => self.brace()?,
                _ => {
                    push_literal(&mut self.out, c);
                    self.last = Last::Atom;
                }
            }
        }
        if let Some(group) = self.groups.last() {
            return Err(format!(
                "missing ), unterminated subpattern at position {}",
                group.start
            ));
        }
        Ok(())
    }

    fn repeat(&mut self, quantifier: &str) -> Result<(), String> {
        match self.last {
            Last::Nothing | Last::Assertion => return self.fail("nothing to repeat"),
            Last::Repeat => return self.fail("multiple repeat"),
            Last::Atom => {}
        }
        self.out.push_str(quantifier);
        if self.eat('?') {
            self.out.push('?');
        } else if self.peek() == Some('+') {
            self.pos += 1;
            return self.fail("possessive repeats are not supported");
        }
        self.last = Last::Repeat;
        Ok(())
    }

    /// `{m,n}` and its variants are a repeat; any other `{` is a literal.
    fn brace(&mut self) -> Result<(), String> {
        let after_brace = self.pos;
        let digits = |t: &mut Translator| {
            let from = t.pos;
            while t.peek().is_some_and(|c| c.is_ascii_digit()) {
                t.pos += 1;
            }
            t.chars[from..t.pos].iter().collect::<String>()
        };
        let parsed = if self.peek() == Some('}') {
            None
        } else {
            let lo = digits(self);
            let (comma, hi) = if self.eat(',') {
                (true, digits(self))
            } else {
                (false, lo.clone())
            };
            self.eat('}').then_some((lo, comma, hi))
        };
        let Some((lo, comma, hi)) = parsed else {
            self.pos = after_brace;
            push_literal(&mut self.out, '{');
            self.last = Last::Atom;
            return Ok(());
        };
        let number = |s: &str| -> Result<Option<u32>, String> {
            if s.is_empty() {
                return Ok(None);
            }
            match s.parse::<u32>() {
                Ok(n) if n < u32::MAX => Ok(Some(n)),
                _ => Err("the repetition number is too large".to_string()),
            }
        };
        let min = number(&lo)?.unwrap_or(0);
        let max = number(&hi)?;
        if max.is_some_and(|max| max < min) {
            return self.fail("min repeat greater than max repeat");
        }
        let quantifier = match (comma, max) {
            (false, _) => format!("{{{min}}}"),
            (true, None) => format!("{{{min},}}"),
            (true, Some(max)) => format!("{{{min},{max}}}"),
        };
        self.repeat(&quantifier)
    }
    fn open_group(&mut self, at_start: bool) -> Result<(), String> {
        let start = self.pos - 1;
        let mut group = Group {
            outer_multiline: self.multiline,
            start,
        };
        if !self.eat('?') {
            self.out.push('(');
            self.groups.push(group);
            self.last = Last::Nothing;
            return Ok(());
        }
        match self.next() {
            Some(':') => self.out.push_str("(?:"),
            Some('P') => {
                if self.eat('=') {
                    return self.fail("backreferences (?P=name) are not supported");
                }
                if !self.eat('<') {
                    return self.fail("unknown extension ?P");
                }
                let from = self.pos;
                while self.peek().is_some_and(|c| c != '>') {
                    self.pos += 1;
                }
                let name: String = self.chars[from..self.pos].iter().collect();
                if !self.eat('>') {
                    return self.fail("missing >, unterminated name");
                }
                let mut chars = name.chars();
                let identifier = chars.next().is_some_and(|c| c == '_' || c.is_alphabetic())
                    && chars.all(|c| c == '_' || c.is_alphanumeric());
                if !identifier {
                    return self.fail(&format!("bad character in group name {name:?}"));
                }
                self.out.push_str(&format!("(?P<{name}>"));
            }
            Some('#') => {
                // A comment: dropped, and it does not count as an item.
                while let Some(c) = self.next() {
                    if c == ')' {
                        self.at_start = at_start;
                        return Ok(());
                    }
                }
                return Err(format!(
                    "missing ), unterminated comment at position {start}"
                ));
            }
            Some('=' | '!') => return self.fail("look-ahead assertions are not supported"),
            Some('<') if matches!(self.peek(), Some('=' | '!')) => {
                return self.fail("look-behind assertions are not supported")
            }
            Some('>') => return self.fail("atomic groups are not supported"),
            Some('(') => return self.fail("conditional groups are not supported"),
            Some(c) if "aiLmsux-".contains(c) => {
                self.pos -= 1;
                return self.flags(group, at_start);
            }
            Some(c) => return self.fail(&format!("unknown extension ?{c}")),
            None => return self.fail("unexpected end of pattern"),
        }
        group.outer_multiline = self.multiline;
        self.groups.push(group);
        self.last = Last::Nothing;
        Ok(())
    }

    /// `(?flags)` for the whole pattern, or `(?on-off:...)` for a group.
    fn flags(&mut self, group: Group, at_start: bool) -> Result<(), String> {
        let read = |t: &mut Translator| {
            let mut s = String::new();
            while let Some(c) = t.peek().filter(|c| "aiLmsux".contains(*c)) {
                s.push(c);
                t.pos += 1;
            }
            s
        };
        let on = read(self);
        let off = if self.eat('-') {
            let off = read(self);
            if off.is_empty() {
                return self.fail("missing flag");
            }
            Some(off)
        } else {
            None
        };
        let off_str = off.clone().unwrap_or_default();
        if on.contains('L') || off_str.contains('L') {
            return self.fail("bad inline flag: cannot use 'L' flag with a str pattern");
        }
        if on.contains('a') && on.contains('u') {
            return self.fail("bad inline flag: flags 'a', 'u' and 'L' are incompatible");
        }
        if off_str.contains(['a', 'u']) {
            return self.fail("bad inline flag: cannot turn off flags 'a', 'u' and 'L'");
        }
        if on.chars().any(|c| off_str.contains(c)) {
            return self.fail("bad inline flag: flag turned on and off");
        }
        if on.contains('x') || off_str.contains('x') {
            return self.fail("the verbose flag (?x) is not supported");
        }
        // `a` (ASCII classes) is regex-lite's only mode and `u` Python's default.
        let keep = |s: &str| s.chars().filter(|c| "ims".contains(*c)).collect::<String>();
        let (on_kept, off_kept) = (keep(&on), keep(&off_str));
        match self.next() {
            Some(')') if off.is_none() => {
                if !at_start {
                    return self.fail("global flags not at the start of the expression");
                }
                if on.contains('m') {
                    self.multiline = true;
                }
                if !on_kept.is_empty() {
                    self.out.push_str(&format!("(?{on_kept})"));
                }
                // Several global flag groups may open the pattern.
                self.at_start = true;
                Ok(())
            }
            Some(':') => {
                let mut flags = on_kept;
                if !off_kept.is_empty() {
                    flags.push('-');
                    flags.push_str(&off_kept);
                }
                self.out.push_str(&format!("(?{flags}:"));
                self.groups.push(group);
                if on.contains('m') {
                    self.multiline = true;
                }
                if off_str.contains('m') {
                    self.multiline = false;
                }
                self.last = Last::Nothing;
                Ok(())
            }
            Some(_) if off.is_some() => self.fail("missing :"),
            _ => self.fail("missing -, : or )"),
        }
    }
}
