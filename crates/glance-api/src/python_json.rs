//! JSON written the way Python's `json.dumps` (upstream's serializer) writes it:
//! `", "` and `": "` separators and non-ASCII characters escaped as `\uXXXX`. Clients
//! parse either form; matching it keeps our bodies byte-comparable with upstream's.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::ser::Formatter;

struct PythonFormatter;

impl Formatter for PythonFormatter {
    fn begin_array_value<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(b", ")
        }
    }

    fn begin_object_key<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(b", ")
        }
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b": ")
    }

    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        if fragment.is_ascii() {
            return writer.write_all(fragment.as_bytes());
        }
        let mut units = [0u16; 2];
        for c in fragment.chars() {
            if c.is_ascii() {
                writer.write_all(&[c as u8])?;
            } else {
                for unit in c.encode_utf16(&mut units) {
                    write!(writer, "\\u{unit:04x}")?;
                }
            }
        }
        Ok(())
    }
}

/// Serializes `value` with Python's layout into a buffer of `capacity` bytes to start
/// with (a good guess saves the copies of a growing buffer on big bodies).
pub fn to_vec<T: Serialize + ?Sized>(value: &T, capacity: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(capacity);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, PythonFormatter);
    value
        .serialize(&mut ser)
        .expect("serializing JSON values into memory cannot fail");
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn matches_python_dumps() {
        let v = json!({"a": [1, 2], "b": {"c": null}, "d": "é😀\n\"", "e": true});
        assert_eq!(
            String::from_utf8(super::to_vec(&v, 0)).unwrap(),
            r#"{"a": [1, 2], "b": {"c": null}, "d": "\u00e9\ud83d\ude00\n\"", "e": true}"#
        );
    }
}
