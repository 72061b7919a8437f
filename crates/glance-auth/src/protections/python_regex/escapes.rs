//! Escapes and character classes, whose Python rules differ most from
//! regex-lite's.

use super::{push_literal, ClassItem, Last, Translator};

impl Translator {
    fn hex(&mut self, digits: usize, escape: char) -> Result<char, String> {
        let from = self.pos;
        let text: String = self.chars.iter().skip(from).take(digits).collect();
        if text.chars().count() != digits || !text.chars().all(|c| c.is_ascii_hexdigit()) {
            return self.fail(&format!("incomplete escape \\{escape}{text}"));
        }
        self.pos += digits;
        let code = u32::from_str_radix(&text, 16).map_err(|e| e.to_string())?;
        match char::from_u32(code) {
            Some(c) => Ok(c),
            None => self.fail(&format!(
                "escape \\{escape}{text} is not a Unicode scalar value"
            )),
        }
    }

    /// Up to `more` further octal digits after `first`.
    fn octal(&mut self, first: char, more: usize) -> Result<char, String> {
        let mut value = first.to_digit(8).unwrap_or(0);
        for _ in 0..more {
            match self.peek().and_then(|c| c.to_digit(8)) {
                Some(d) => {
                    value = value * 8 + d;
                    self.pos += 1;
                }
                None => break,
            }
        }
        if value > 0o377 {
            return self.fail("octal escape value outside of range 0-0o377");
        }
        Ok(char::from_u32(value).unwrap_or('\0'))
    }

    pub(super) fn escape(&mut self) -> Result<(), String> {
        let Some(c) = self.next() else {
            return self.fail("bad escape (end of pattern)");
        };
        let (text, last): (String, Last) = match c {
            'A' | 'b' | 'B' => (format!("\\{c}"), Last::Assertion),
            'Z' => ("\\z".into(), Last::Assertion),
            'd' | 'D' | 's' | 'S' | 'w' | 'W' | 'a' | 'f' | 'n' | 'r' | 't' | 'v' => {
                (format!("\\{c}"), Last::Atom)
            }
            'x' | 'u' | 'U' => {
                let digits = match c {
                    'x' => 2,
                    'u' => 4,
                    _ => 8,
                };
                let ch = self.hex(digits, c)?;
                (format!("\\x{{{:X}}}", ch as u32), Last::Atom)
            }
            '0' => {
                let ch = self.octal('0', 2)?;
                (format!("\\x{{{:X}}}", ch as u32), Last::Atom)
            }
            '1'..='9' => {
                let octal3 = c.is_digit(8)
                    && self.chars.get(self.pos).is_some_and(|d| d.is_digit(8))
                    && self.chars.get(self.pos + 1).is_some_and(|d| d.is_digit(8));
                if !octal3 {
                    return self.fail("backreferences (\\1 ...) are not supported");
                }
                let ch = self.octal(c, 2)?;
                (format!("\\x{{{:X}}}", ch as u32), Last::Atom)
            }
            'N' => return self.fail("named Unicode escapes (\\N{...}) are not supported"),
            c if c.is_ascii_alphanumeric() => return self.fail(&format!("bad escape \\{c}")),
            c => {
                let mut s = String::new();
                push_literal(&mut s, c);
                (s, Last::Atom)
            }
        };
        self.out.push_str(&text);
        self.last = last;
        Ok(())
    }

    fn class_escape(&mut self) -> Result<ClassItem, String> {
        let Some(c) = self.next() else {
            return self.fail("unterminated character set");
        };
        Ok(match c {
            'd' | 'D' | 's' | 'S' | 'w' | 'W' => ClassItem::Set(c),
            'a' => ClassItem::Char('\u{7}'),
            'b' => ClassItem::Char('\u{8}'),
            'f' => ClassItem::Char('\u{c}'),
            'n' => ClassItem::Char('\n'),
            'r' => ClassItem::Char('\r'),
            't' => ClassItem::Char('\t'),
            'v' => ClassItem::Char('\u{b}'),
            'x' => ClassItem::Char(self.hex(2, 'x')?),
            'u' => ClassItem::Char(self.hex(4, 'u')?),
            'U' => ClassItem::Char(self.hex(8, 'U')?),
            '0'..='7' => ClassItem::Char(self.octal(c, 2)?),
            'N' => return self.fail("named Unicode escapes (\\N{...}) are not supported"),
            c if c.is_ascii_alphanumeric() => return self.fail(&format!("bad escape \\{c}")),
            c => ClassItem::Char(c),
        })
    }

    pub(super) fn class(&mut self) -> Result<(), String> {
        let start = self.pos - 1;
        let unterminated = || Err(format!("unterminated character set at position {start}"));
        let mut out = String::from("[");
        if self.eat('^') {
            out.push('^');
        }
        let push = |out: &mut String, item: &ClassItem| match item {
            ClassItem::Char(c) => push_literal(out, *c),
            ClassItem::Set(c) => {
                out.push('\\');
                out.push(*c);
            }
        };
        let mut empty = true;
        loop {
            let Some(c) = self.next() else {
                return unterminated();
            };
            // A `]` right after `[` or `[^` is a literal.
            if c == ']' && !empty {
                break;
            }
            empty = false;
            let first = if c == '\\' {
                self.class_escape()?
            } else {
                ClassItem::Char(c)
            };
            if !self.eat('-') {
                push(&mut out, &first);
                continue;
            }
            let Some(that) = self.next() else {
                return unterminated();
            };
            if that == ']' {
                push(&mut out, &first);
                push_literal(&mut out, '-');
                break;
            }
            let second = if that == '\\' {
                self.class_escape()?
            } else {
                ClassItem::Char(that)
            };
            match (first, second) {
                (ClassItem::Char(lo), ClassItem::Char(hi)) if lo <= hi => {
                    push_literal(&mut out, lo);
                    out.push('-');
                    push_literal(&mut out, hi);
                }
                _ => return self.fail("bad character range"),
            }
        }
        out.push(']');
        self.out.push_str(&out);
        Ok(())
    }
}
