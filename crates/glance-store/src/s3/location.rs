//! S3 location URIs exactly as upstream glance_store writes and reads them
//! (`StoreLocation` in `_drivers/s3.py`), so databases move between the two:
//!
//! `s3://ACCESS:SECRET@HOST[:PORT][/PATH]/BUCKET/IMAGE_ID` (endpoint over http) or
//! `s3+https://...` (over https); `s3+http://` is read too. The credentials are written
//! verbatim, not percent-encoded (upstream never decodes them), so an AWS secret with
//! `/` in it appears as is; reading splits the credentials off at the last `@` for
//! that reason.

use super::sigv4::Credentials;
use crate::StoreError;

/// The schemes upstream registers for the driver.
pub(crate) const SCHEMES: [&str; 3] = ["s3", "s3+http", "s3+https"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct S3Location {
    pub scheme: String,
    /// The key pair written into the URI, when there is one.
    pub credentials: Option<Credentials>,
    /// The S3 endpoint as written: host, optional port, optional path.
    pub service: String,
    pub bucket: String,
    pub key: String,
}

impl S3Location {
    /// Reads a location; the error never repeats the URI (it may carry a secret).
    pub(crate) fn parse(uri: &str) -> Result<Self, StoreError> {
        let bad = |why: &str| StoreError::BadLocation(format!("not an s3 location: {why}"));
        // Upstream refuses `s3://key:secret@https://host/...` this way.
        if uri.matches("://").count() != 1 {
            return Err(bad("the URI must contain exactly one '://'"));
        }
        let (scheme, rest) = uri.split_once("://").ok_or_else(|| bad("no scheme"))?;
        if !SCHEMES.contains(&scheme) {
            return Err(bad("the scheme is not s3, s3+http or s3+https"));
        }
        // Secrets may hold '/', so the credentials end at the last '@' (host, bucket
        // and image id never contain one).
        let (credentials, path) = match rest.rsplit_once('@') {
            Some((creds, path)) => {
                let (access, secret) = creds
                    .split_once(':')
                    .ok_or_else(|| bad("badly formed credentials"))?;
                let credentials = (!access.is_empty()).then(|| Credentials {
                    access_key: access.to_string(),
                    secret_key: secret.to_string(),
                });
                (credentials, path)
            }
            None => (None, rest),
        };
        let path = path.split(['?', '#']).next().unwrap_or_default();
        let mut parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        let key = parts.pop().filter(|k| !k.is_empty());
        let bucket = parts.pop().filter(|b| !b.is_empty());
        let service = parts.join("/");
        let service = service.trim_matches('/');
        match (key, bucket) {
            (Some(key), Some(bucket)) if !service.is_empty() => Ok(S3Location {
                scheme: scheme.to_string(),
                credentials,
                service: service.to_string(),
                bucket: bucket.to_string(),
                key: key.to_string(),
            }),
            _ => Err(bad("expected HOST/BUCKET/KEY after the credentials")),
        }
    }

    /// The URI as upstream's `get_uri` writes it.
    pub(crate) fn to_uri(&self) -> String {
        let credentials = match &self.credentials {
            Some(c) => format!("{}:{}@", c.access_key, c.secret_key),
            None => String::new(),
        };
        format!(
            "{}://{credentials}{}/{}/{}",
            self.scheme, self.service, self.bucket, self.key
        )
    }

    /// The URI without credentials, for messages and logs.
    pub(crate) fn redacted(&self) -> String {
        format!(
            "{}://{}/{}/{}",
            self.scheme, self.service, self.bucket, self.key
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds(a: &str, s: &str) -> Option<Credentials> {
        Some(Credentials {
            access_key: a.into(),
            secret_key: s.into(),
        })
    }

    #[test]
    fn reads_what_upstream_writes() {
        let loc = S3Location::parse(
            "s3://AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY@127.0.0.1:27480/glance/6d1c6bc8-7b36-4b2b-9d3e-2e1b2f6f0a11",
        )
        .unwrap();
        assert_eq!(loc.scheme, "s3");
        assert_eq!(
            loc.credentials,
            creds(
                "AKIAIOSFODNN7EXAMPLE",
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
            )
        );
        assert_eq!(loc.service, "127.0.0.1:27480");
        assert_eq!(loc.bucket, "glance");
        assert_eq!(loc.key, "6d1c6bc8-7b36-4b2b-9d3e-2e1b2f6f0a11");
        assert_eq!(
            loc.redacted(),
            "s3://127.0.0.1:27480/glance/6d1c6bc8-7b36-4b2b-9d3e-2e1b2f6f0a11"
        );

        let https = S3Location::parse("s3+https://k:s@s3.example.com/objects/b/id").unwrap();
        assert_eq!(https.scheme, "s3+https");
        assert_eq!(https.service, "s3.example.com/objects");
        assert_eq!((https.bucket.as_str(), https.key.as_str()), ("b", "id"));

        let anonymous = S3Location::parse("s3+http://host/b/id").unwrap();
        assert_eq!(anonymous.credentials, None);
        assert_eq!(anonymous.to_uri(), "s3+http://host/b/id");
    }

    #[test]
    fn round_trips_a_secret_with_odd_characters() {
        for secret in ["plain", "with/slashes/", "a:colon", "p@ss", "q?x#y"] {
            let loc = S3Location {
                scheme: "s3".into(),
                credentials: creds("AK", secret),
                service: "host:8080".into(),
                bucket: "bucket".into(),
                key: "id".into(),
            };
            let uri = loc.to_uri();
            assert_eq!(uri, format!("s3://AK:{secret}@host:8080/bucket/id"));
            assert_eq!(S3Location::parse(&uri).unwrap(), loc, "{uri}");
        }
    }

    #[test]
    fn refuses_malformed_locations_without_echoing_them() {
        for uri in [
            "s3://key:secret@https://host/bucket/id",
            "swift://key:secret@host/bucket/id",
            "s3://key:secret@host/id",
            "s3://keysecret@host/bucket/id",
            "s3://host//id",
            "s3://",
            "file:///var/lib/glance/images/id",
        ] {
            match S3Location::parse(uri) {
                Err(StoreError::BadLocation(msg)) => {
                    assert!(!msg.contains("secret"), "{uri}: {msg}")
                }
                other => panic!("{uri}: {other:?}"),
            }
        }
    }
}
