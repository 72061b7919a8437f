//! Percent-encoding of location URI parts, as upstream writes them.

/// Python's `urllib.parse.quote(value, safe='')`: every byte but ASCII letters,
/// digits and `_.-~` becomes `%XX`, '/' included.
pub(crate) fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"_.-~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
