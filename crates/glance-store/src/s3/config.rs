//! The driver's options, read once at start-up with upstream's names and defaults
//! (`_S3_OPTS` and `Store.configure_add` in `_drivers/s3.py`).

use std::path::PathBuf;

use super::sigv4::Credentials;
use crate::{StoreError, StoreOptions};

const MIB: u64 = 1024 * 1024;
/// Upstream's defaults and floor, in MiB (`units.Mi`).
const DEFAULT_LARGE_OBJECT_SIZE_MB: i64 = 100;
const DEFAULT_CHUNK_SIZE_MB: i64 = 10;
const MIN_CHUNK_SIZE_MB: i64 = 5;
const DEFAULT_THREAD_POOLS: i64 = 10;
/// The signature scope boto uses when no region is configured or derivable.
const DEFAULT_REGION: &str = "us-east-1";

/// How a bucket is named in requests (`s3_store_bucket_url_format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UrlFormat {
    /// Virtual-hosted on AWS endpoints when the bucket name allows it, path-style
    /// everywhere else (RGW and other S3 servers rarely have wildcard DNS).
    Auto,
    /// `https://host/bucket/key`.
    Path,
    /// `https://bucket.host/key`.
    Virtual,
}

/// Where the S3 service listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Endpoint {
    pub https: bool,
    /// `host[:port]`, lower-cased.
    pub authority: String,
    /// A path prefix in front of every bucket (`""` or `/prefix`).
    pub base_path: String,
    /// The endpoint as upstream writes it into locations: `s3_store_host` without
    /// its scheme and surrounding slashes.
    pub service: String,
}

impl Endpoint {
    /// Parses `s3_store_host`: a host, optionally with `http://` or `https://`
    /// (plain http when there is none, as upstream), a port and a path.
    pub(crate) fn parse(host: &str) -> Result<Self, String> {
        let (https, rest) = if let Some(rest) = host.strip_prefix("https://") {
            (true, rest)
        } else if let Some(rest) = host.strip_prefix("http://") {
            (false, rest)
        } else if host.contains("://") {
            return Err("only http:// and https:// endpoints are supported".into());
        } else {
            (false, host)
        };
        let service = rest.trim_matches('/').to_string();
        let (authority, path) = match service.split_once('/') {
            Some((authority, path)) => (authority, format!("/{}", path.trim_matches('/'))),
            None => (service.as_str(), String::new()),
        };
        if authority.is_empty() || authority.contains(['@', '?', '#', ' ']) {
            return Err("expected [http[s]://]host[:port][/path]".into());
        }
        let scheme = if https { "https" } else { "http" };
        format!("{scheme}://{authority}/")
            .parse::<hyper::Uri>()
            .map_err(|e| format!("not a valid host: {e}"))?;
        Ok(Endpoint {
            https,
            authority: authority.to_ascii_lowercase(),
            base_path: path,
            service,
        })
    }

    /// The host without the port.
    pub(crate) fn hostname(&self) -> &str {
        if self.authority.starts_with('[') {
            return self
                .authority
                .split_once(']')
                .map_or(&self.authority, |(h, _)| &h[1..]);
        }
        self.authority.split(':').next().unwrap_or_default()
    }

    /// The location scheme upstream writes for this endpoint.
    pub(crate) fn location_scheme(&self) -> &'static str {
        if self.https {
            "s3+https"
        } else {
            "s3"
        }
    }

    fn is_aws(&self) -> bool {
        let host = self.hostname();
        host.ends_with(".amazonaws.com") || host.ends_with(".amazonaws.com.cn")
    }
}

#[derive(Debug, Clone)]
pub(crate) struct S3Config {
    pub endpoint: Endpoint,
    pub credentials: Credentials,
    pub bucket: String,
    pub create_bucket_on_put: bool,
    pub url_format: UrlFormat,
    /// Bytes; objects at least this big (or of unknown size) use multipart upload.
    pub large_object_size: u64,
    /// Bytes per part.
    pub chunk_size: u64,
    /// Parts uploaded at once.
    pub thread_pools: usize,
    /// The SigV4 signing region.
    pub region: String,
    pub cacert: Option<PathBuf>,
}

impl S3Config {
    pub(crate) fn from_options(options: &StoreOptions) -> Result<Self, StoreError> {
        let host = options.required("s3_store_host")?;
        let endpoint =
            Endpoint::parse(&host).map_err(|reason| options.invalid("s3_store_host", reason))?;
        let credentials = Credentials {
            access_key: options.required("s3_store_access_key")?,
            secret_key: options.required("s3_store_secret_key")?,
        };
        let bucket = options.required("s3_store_bucket")?;
        if bucket.contains(['/', '@', '?', '#']) || bucket.chars().any(char::is_whitespace) {
            return Err(options.invalid("s3_store_bucket", "not a valid bucket name".into()));
        }
        let url_format = match options
            .choice(
                "s3_store_bucket_url_format",
                "auto",
                &["auto", "path", "virtual"],
            )?
            .as_str()
        {
            "path" => UrlFormat::Path,
            "virtual" => UrlFormat::Virtual,
            _ => UrlFormat::Auto,
        };
        if url_format == UrlFormat::Virtual && !is_dns_compatible(&bucket) {
            return Err(options.invalid(
                "s3_store_bucket",
                "virtual-hosted addressing needs a DNS-compatible bucket name".into(),
            ));
        }
        let large_mb = options.int(
            "s3_store_large_object_size",
            DEFAULT_LARGE_OBJECT_SIZE_MB,
            0,
            i64::MAX / MIB as i64,
        )?;
        let chunk_mb = options.int(
            "s3_store_large_object_chunk_size",
            DEFAULT_CHUNK_SIZE_MB,
            i64::MIN,
            // A part is one buffer; 5 GiB is S3's largest part.
            5 * 1024,
        )?;
        if chunk_mb < MIN_CHUNK_SIZE_MB {
            return Err(options.invalid(
                "s3_store_large_object_chunk_size",
                format!("must be at least {MIN_CHUNK_SIZE_MB} MB"),
            ));
        }
        let pools = options.int(
            "s3_store_thread_pools",
            DEFAULT_THREAD_POOLS,
            i64::MIN,
            i64::MAX,
        )?;
        if pools <= 0 {
            return Err(
                options.invalid("s3_store_thread_pools", "must be a positive integer".into())
            );
        }
        let region = options
            .string("s3_store_region_name")
            .or_else(|| region_of_aws_host(endpoint.hostname()))
            .unwrap_or_else(|| DEFAULT_REGION.to_string());
        Ok(S3Config {
            endpoint,
            credentials,
            bucket,
            create_bucket_on_put: options.bool("s3_store_create_bucket_on_put", false)?,
            url_format,
            large_object_size: large_mb as u64 * MIB,
            chunk_size: chunk_mb as u64 * MIB,
            thread_pools: usize::try_from(pools).unwrap_or(usize::MAX),
            region,
            cacert: options.string("s3_store_cacert").map(PathBuf::from),
        })
    }

    /// Whether requests for `bucket` name it in the host rather than the path.
    pub(crate) fn virtual_hosted(&self, bucket: &str) -> bool {
        match self.url_format {
            UrlFormat::Path => false,
            UrlFormat::Virtual => true,
            // Dots would break the certificate match of `*.s3.amazonaws.com`.
            UrlFormat::Auto => {
                self.endpoint.is_aws()
                    && is_dns_compatible(bucket)
                    && !(self.endpoint.https && bucket.contains('.'))
            }
        }
    }
}

/// The region named in an AWS endpoint (`s3-eu-west-1.amazonaws.com`,
/// `s3.eu-west-1.amazonaws.com`); upstream's `get_s3_location` table covers the first
/// form. `None` for other hosts and for the global `s3.amazonaws.com`.
fn region_of_aws_host(host: &str) -> Option<String> {
    let name = host
        .strip_suffix(".amazonaws.com")
        .or_else(|| host.strip_suffix(".amazonaws.com.cn"))?;
    let region = name
        .strip_prefix("s3-")
        .or_else(|| name.strip_prefix("s3."))?;
    let region = region.strip_prefix("dualstack.").unwrap_or(region);
    let plausible = !region.is_empty()
        && region
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    plausible.then(|| region.to_string())
}

/// A bucket name usable as a DNS label (botocore's `check_dns_name`).
pub(crate) fn is_dns_compatible(bucket: &str) -> bool {
    let ok_chars = bucket
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
    let alnum_ends = bucket
        .chars()
        .next()
        .zip(bucket.chars().last())
        .is_some_and(|(a, z)| a.is_ascii_alphanumeric() && z.is_ascii_alphanumeric());
    (3..=63).contains(&bucket.len())
        && ok_chars
        && alnum_ends
        && !bucket.contains("..")
        && bucket.parse::<std::net::Ipv4Addr>().is_err()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> StoreOptions {
        StoreOptions::new("s3", Default::default())
            .with("s3_store_host", "http://127.0.0.1:27480")
            .with("s3_store_access_key", "ak")
            .with("s3_store_secret_key", "sk")
            .with("s3_store_bucket", "glance")
    }

    fn refused(options: StoreOptions) -> String {
        match S3Config::from_options(&options) {
            Err(StoreError::Config { option, .. }) => option,
            other => panic!("expected a config error, got {other:?}"),
        }
    }

    #[test]
    fn defaults_match_upstream() {
        let c = S3Config::from_options(&base()).unwrap();
        assert_eq!(c.large_object_size, 100 * MIB);
        assert_eq!(c.chunk_size, 10 * MIB);
        assert_eq!(c.thread_pools, 10);
        assert!(!c.create_bucket_on_put);
        assert_eq!(c.url_format, UrlFormat::Auto);
        assert_eq!(c.region, "us-east-1");
        assert_eq!(c.endpoint.service, "127.0.0.1:27480");
        assert_eq!(c.endpoint.location_scheme(), "s3");
        assert!(!c.virtual_hosted("glance"));
    }

    #[test]
    fn bad_values_are_config_errors() {
        for option in [
            "s3_store_host",
            "s3_store_access_key",
            "s3_store_secret_key",
            "s3_store_bucket",
        ] {
            assert_eq!(refused(base().with(option, "")), option);
        }
        let chunk = "s3_store_large_object_chunk_size";
        assert_eq!(refused(base().with(chunk, "4")), chunk);
        assert_eq!(refused(base().with(chunk, "ten")), chunk);
        let pools = "s3_store_thread_pools";
        assert_eq!(refused(base().with(pools, "0")), pools);
        let size = "s3_store_large_object_size";
        assert_eq!(refused(base().with(size, "-1")), size);
        let format = "s3_store_bucket_url_format";
        assert_eq!(refused(base().with(format, "dns")), format);
        assert_eq!(
            refused(
                base()
                    .with(format, "virtual")
                    .with("s3_store_bucket", "Not_DNS")
            ),
            "s3_store_bucket"
        );
        assert_eq!(
            refused(base().with("s3_store_host", "ftp://x")),
            "s3_store_host"
        );
        assert_eq!(
            refused(base().with("s3_store_create_bucket_on_put", "maybe")),
            "s3_store_create_bucket_on_put"
        );
    }

    #[test]
    fn endpoints_and_regions() {
        let e = Endpoint::parse("https://S3.Example.com:8443/rgw/").unwrap();
        assert!(e.https);
        assert_eq!(e.authority, "s3.example.com:8443");
        assert_eq!(e.hostname(), "s3.example.com");
        assert_eq!(e.base_path, "/rgw");
        assert_eq!(e.service, "S3.Example.com:8443/rgw");
        assert_eq!(e.location_scheme(), "s3+https");
        let plain = Endpoint::parse("rgw.local").unwrap();
        assert!(!plain.https);
        assert_eq!(plain.service, "rgw.local");
        assert_eq!(
            Endpoint::parse("http://[::1]:7480").unwrap().hostname(),
            "::1"
        );

        assert_eq!(
            region_of_aws_host("s3-eu-west-1.amazonaws.com").as_deref(),
            Some("eu-west-1")
        );
        assert_eq!(
            region_of_aws_host("s3.ap-south-1.amazonaws.com").as_deref(),
            Some("ap-south-1")
        );
        assert_eq!(region_of_aws_host("s3.amazonaws.com"), None);
        assert_eq!(region_of_aws_host("rgw.example.com"), None);
        let aws = S3Config::from_options(
            &base().with("s3_store_host", "https://s3-eu-west-1.amazonaws.com"),
        )
        .unwrap();
        assert_eq!(aws.region, "eu-west-1");
        assert!(aws.virtual_hosted("glance"));
        assert!(!aws.virtual_hosted("my.bucket"));
        let configured = base().with("s3_store_region_name", "RegionOne");
        assert_eq!(
            S3Config::from_options(&configured).unwrap().region,
            "RegionOne"
        );
    }

    #[test]
    fn dns_names() {
        assert!(is_dns_compatible("glance-images.1"));
        for bad in ["ab", "Glance", "a_b", "-ab", "a..b", "192.168.1.1"] {
            assert!(!is_dns_compatible(bad), "{bad}");
        }
    }
}
