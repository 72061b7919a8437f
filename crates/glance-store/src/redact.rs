//! Location URIs as they may be shown: some stores write credentials into their
//! locations (`s3://key:secret@host/...`, legacy `swift+https://user:key@...`), which
//! must never reach a response, a log line or a notification.

use std::borrow::Cow;

/// `url` without its userinfo (`scheme://user:pass@host/...` -> `scheme://host/...`).
/// Anything without `scheme://` is returned as it is.
pub fn redact_location(url: &str) -> Cow<'_, str> {
    let Some(scheme_end) = url.find("://") else {
        return Cow::Borrowed(url);
    };
    let rest = &url[scheme_end + 3..];
    // The authority ends at the first '/', '?' or '#'; a userinfo is what precedes
    // its last '@' (secrets may contain '@' when not escaped, never '/').
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => Cow::Owned(format!("{}{}", &url[..scheme_end + 3], &rest[at + 1..])),
        None => Cow::Borrowed(url),
    }
}

#[cfg(test)]
mod tests {
    use super::redact_location;

    #[test]
    fn strips_userinfo_only() {
        for (given, shown) in [
            (
                "s3://AKIA:se%2Fcret@s3.example.com/bucket/id",
                "s3://s3.example.com/bucket/id",
            ),
            (
                "swift+https://tenant%3Auser:key@auth.example/v3/glance/id",
                "swift+https://auth.example/v3/glance/id",
            ),
            ("s3+http://a:b@c@host:8080/b/k", "s3+http://host:8080/b/k"),
            (
                "file:///var/lib/glance/images/id",
                "file:///var/lib/glance/images/id",
            ),
            ("rbd://fsid/images/id/snap", "rbd://fsid/images/id/snap"),
            (
                "http://host/path@not-userinfo",
                "http://host/path@not-userinfo",
            ),
            ("not a url", "not a url"),
        ] {
            assert_eq!(redact_location(given), shown, "{given}");
        }
    }
}
