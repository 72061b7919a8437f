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
    let scheme = &url[..scheme_end];
    let rest = &url[scheme_end + 3..];
    // s3 and swift locations carry their credentials unescaped, as upstream writes
    // them: an S3 secret may hold '/', so the credentials end at the last '@' of the
    // whole location (bucket, container and object names hold none). Elsewhere the
    // authority ends at the first '/', '?' or '#', and the userinfo at its last '@'.
    let within = if scheme.starts_with("s3") || scheme.starts_with("swift") {
        rest.len()
    } else {
        rest.find(['/', '?', '#']).unwrap_or(rest.len())
    };
    match rest[..within].rfind('@') {
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
            ("s3://AK:abc/def+g@host/b/k", "s3://host/b/k"),
            (
                "s3+https://AK:x/y/z@host:443/bucket/id",
                "s3+https://host:443/bucket/id",
            ),
            (
                "swift+http://acct%3Auser:k/e@y@auth:5000/v3/c/o",
                "swift+http://auth:5000/v3/c/o",
            ),
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
