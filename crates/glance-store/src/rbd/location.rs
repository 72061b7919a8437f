//! RBD location URIs as upstream's `StoreLocation` reads and writes them:
//! `rbd://<fsid>/<pool>/<image>/<snapshot>` (each part percent-encoded with
//! nothing left unescaped but `A-Za-z0-9_.-~`, like Python's `quote(s, '')`), and
//! the old `rbd://<image>` form, which names an image in the configured pool and
//! reads its head.

use crate::percent::quote;
use crate::StoreError;

const PREFIX: &str = "rbd://";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RbdLocation {
    pub fsid: Option<String>,
    pub pool: Option<String>,
    pub image: String,
    pub snapshot: Option<String>,
}

impl RbdLocation {
    /// The location of a new image: every part known.
    pub fn new(fsid: &str, pool: &str, image: &str, snapshot: &str) -> Self {
        RbdLocation {
            fsid: Some(fsid.into()),
            pool: Some(pool.into()),
            image: image.into(),
            snapshot: Some(snapshot.into()),
        }
    }

    pub fn parse(uri: &str) -> Result<Self, StoreError> {
        let bad = |why: &str| StoreError::BadLocation(format!("{uri}: {why}"));
        let rest = uri
            .strip_prefix(PREFIX)
            .ok_or_else(|| bad("not an rbd:// location"))?;
        if !rest.is_ascii() {
            return Err(bad("URI contains non-ascii characters"));
        }
        let pieces: Vec<&str> = rest.split('/').collect();
        if pieces.iter().any(|p| p.is_empty()) {
            return Err(bad("URI cannot contain empty components"));
        }
        let location = match pieces[..] {
            // Upstream takes the single part as it is, without unquoting.
            [image] => RbdLocation {
                fsid: None,
                pool: None,
                image: image.to_string(),
                snapshot: None,
            },
            [fsid, pool, image, snapshot] => {
                let part = |p: &str| unquote(p).ok_or_else(|| bad("a part is not UTF-8"));
                RbdLocation {
                    fsid: Some(part(fsid)?),
                    pool: Some(part(pool)?),
                    image: part(image)?,
                    snapshot: Some(part(snapshot)?),
                }
            }
            _ => return Err(bad("URI must have exactly 1 or 4 components")),
        };
        let names = [&location.fsid, &location.pool, &location.snapshot];
        if location.image.contains('\0')
            || names
                .iter()
                .any(|n| n.as_deref().is_some_and(|n| n.contains('\0')))
        {
            return Err(bad("a part contains a NUL byte"));
        }
        Ok(location)
    }

    /// The URI, in the 4-part form when fsid, pool and snapshot are known (as
    /// upstream's `get_uri`).
    pub fn uri(&self) -> String {
        match (&self.fsid, &self.pool, &self.snapshot) {
            (Some(fsid), Some(pool), Some(snapshot)) => format!(
                "{PREFIX}{}/{}/{}/{}",
                quote(fsid),
                quote(pool),
                quote(&self.image),
                quote(snapshot)
            ),
            _ => format!("{PREFIX}{}", self.image),
        }
    }
}

/// Python's `urllib.parse.unquote`: `%XX` becomes a byte, anything else (a `%`
/// without two hex digits included) stays as it is. None if the bytes are not UTF-8.
fn unquote(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .filter(|_| bytes[i] == b'%')
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match hex {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_upstream_forms_parse() {
        let full = RbdLocation::parse("rbd://f5c1/images/6d1c-42/snap").unwrap();
        assert_eq!(full, RbdLocation::new("f5c1", "images", "6d1c-42", "snap"));
        assert_eq!(full.uri(), "rbd://f5c1/images/6d1c-42/snap");
        let old = RbdLocation::parse("rbd://6d1c-42").unwrap();
        assert_eq!(old.image, "6d1c-42");
        assert_eq!((old.fsid, old.pool, old.snapshot), (None, None, None));
    }

    #[test]
    fn parts_are_escaped_like_python_quote() {
        let location = RbdLocation::new("fsid", "my pool/x", "img@1", "sn%p");
        let uri = location.uri();
        assert_eq!(uri, "rbd://fsid/my%20pool%2Fx/img%401/sn%25p");
        assert_eq!(RbdLocation::parse(&uri).unwrap(), location);
        assert_eq!(unquote("a%zz%4"), Some("a%zz%4".into()));
    }

    #[test]
    fn malformed_locations_are_refused() {
        for uri in [
            "rbd://",
            "rbd://a/b",
            "rbd://a/b/c",
            "rbd://a/b/c/d/e",
            "rbd://a//c/d",
            "rbd://a/b/c/",
            "rbd://imäge",
            "rbd://a/b/c%00/d",
            "file:///x",
            "RBD://x",
        ] {
            assert!(
                matches!(RbdLocation::parse(uri), Err(StoreError::BadLocation(_))),
                "{uri}"
            );
        }
    }
}
