//! The `s3` store: one object per image, `<bucket>/<image_id>`, on Amazon S3 or any
//! S3 server (Ceph RGW, ...), with upstream glance_store's options and location URIs
//! (`s3://ACCESS:SECRET@HOST/BUCKET/IMAGE_ID`), so databases move between the two.
//!
//! Requests are signed with SigV4 by hand over the crate's hyper client; uploads
//! stream: a single PUT for small images, a parallel multipart upload for large or
//! unsized ones.

mod api;
mod config;
mod failure;
mod location;
mod multipart;
mod part_writer;
mod sigv4;
mod streaming_put;
#[cfg(feature = "testing")]
pub mod testing;
mod xml;

use std::io::ErrorKind;
use std::sync::Arc;

use async_trait::async_trait;
use hyper::{Method, StatusCode};

use crate::remote::body_stream;
use crate::{
    ByteRange, ObjectReader, Store, StoreCaller, StoreError, StoreInfo, StoreOptions, StoreWriter,
    UploadTarget,
};
use api::{content_length, Bucket, Call, Lane, Payload, S3Service};
use config::S3Config;
use failure::S3Failure;
use location::S3Location;
use part_writer::PartWriter;
use streaming_put::StreamingPut;

pub struct S3Store {
    info: StoreInfo,
    service: Arc<S3Service>,
    /// The configured bucket with the configured key pair: where uploads go.
    home: Bucket,
}

impl S3Store {
    /// Reads the options; a missing or malformed one is `StoreError::Config`. No
    /// request is made here: the bucket is checked on each upload, as upstream does.
    pub fn new(info: StoreInfo, options: &StoreOptions) -> Result<Self, StoreError> {
        let config = S3Config::from_options(options)?;
        let (bucket, credentials) = (config.bucket.clone(), config.credentials.clone());
        let service = Arc::new(S3Service::new(config, options)?);
        let home = service.bucket(&bucket, credentials);
        Ok(S3Store {
            info,
            service,
            home,
        })
    }

    fn config(&self) -> &S3Config {
        &self.service.config
    }

    /// The location URI of `image_id`'s data, as upstream writes it (credentials
    /// included, verbatim).
    pub fn location_for(&self, image_id: &str) -> String {
        self.location_of(image_id).to_uri()
    }

    fn location_of(&self, image_id: &str) -> S3Location {
        let config = self.config();
        S3Location {
            scheme: config.endpoint.location_scheme().to_string(),
            credentials: Some(config.credentials.clone()),
            service: config.endpoint.service.clone(),
            bucket: config.bucket.clone(),
            key: image_id.to_string(),
        }
    }

    /// The bucket and object a location names. As upstream, the endpoint is always
    /// the configured one, while bucket and key pair come from the location (the key
    /// pair falls back to the configured one when the location carries none).
    fn resolve(&self, location: &str) -> Result<(Bucket, S3Location), StoreError> {
        let parsed = S3Location::parse(location)?;
        let credentials = parsed
            .credentials
            .clone()
            .unwrap_or_else(|| self.config().credentials.clone());
        Ok((self.service.bucket(&parsed.bucket, credentials), parsed))
    }

    /// Makes sure the upload bucket exists, creating it when configured to.
    async fn ensure_bucket(&self) -> Result<(), StoreError> {
        if self.home.exists().await? {
            return Ok(());
        }
        if self.config().create_bucket_on_put {
            return self.home.create().await;
        }
        Err(StoreError::Backend(format!(
            "the bucket {} does not exist in S3; create it or set \
             s3_store_create_bucket_on_put to have it created",
            self.home.name()
        )))
    }
}

/// Image ids become object keys and the last segment of a location, so a key must
/// be one non-empty segment.
fn check_key(image_id: &str) -> Result<(), StoreError> {
    let ok = !image_id.is_empty()
        && image_id.len() <= 1024
        && !image_id.contains('/')
        && !image_id.chars().any(char::is_control);
    if ok {
        Ok(())
    } else {
        Err(StoreError::BadLocation(format!(
            "invalid image id {image_id:?} for an S3 key"
        )))
    }
}

fn bad_range(message: String) -> StoreError {
    StoreError::Io(std::io::Error::new(ErrorKind::InvalidInput, message))
}

/// `(start, end, total)` of a `Content-Range: bytes START-END/TOTAL` header.
fn content_range(response: &crate::remote::Response) -> Option<(u64, u64, u64)> {
    let value = response
        .headers()
        .get(hyper::header::CONTENT_RANGE)?
        .to_str()
        .ok()?;
    let (span, total) = value.trim().strip_prefix("bytes ")?.split_once('/')?;
    let (start, end) = span.split_once('-')?;
    Some((start.parse().ok()?, end.parse().ok()?, total.parse().ok()?))
}

#[async_trait]
impl Store for S3Store {
    fn info(&self) -> &StoreInfo {
        &self.info
    }

    /// As upstream's discovery shows them (sizes in bytes).
    fn properties(&self) -> serde_json::Map<String, serde_json::Value> {
        let config = self.config();
        let mut map = serde_json::Map::new();
        map.insert(
            "s3_store_large_object_size".into(),
            config.large_object_size.into(),
        );
        map.insert(
            "s3_store_large_object_chunk_size".into(),
            config.chunk_size.into(),
        );
        map.insert(
            "s3_store_thread_pools".into(),
            (config.thread_pools as u64).into(),
        );
        map
    }

    async fn begin_upload(
        &self,
        target: &UploadTarget<'_>,
    ) -> Result<Box<dyn StoreWriter>, StoreError> {
        let key = target.image_id;
        check_key(key)?;
        self.ensure_bucket().await?;
        let location = self.location_of(key);
        // Upstream refuses early too; S3 itself cannot refuse at commit.
        if self.home.head(key).await?.is_some() {
            return Err(StoreError::Duplicate(location.redacted()));
        }
        let config = self.config();
        let uri = location.to_uri();
        match target.expected_size {
            Some(size) if size > config.chunk_size && size < config.large_object_size => {
                Ok(Box::new(StreamingPut::start(
                    self.home.clone(),
                    key.to_string(),
                    uri,
                    size,
                )?))
            }
            expected => Ok(Box::new(PartWriter::new(
                self.home.clone(),
                key.to_string(),
                uri,
                expected,
            ))),
        }
    }

    async fn open(
        &self,
        location: &str,
        range: Option<ByteRange>,
        _caller: &StoreCaller,
    ) -> Result<ObjectReader, StoreError> {
        let (bucket, loc) = self.resolve(location)?;
        let mut call = Call::new(Method::GET, Some(&loc.key));
        if let Some(r) = range {
            if r.start > r.end {
                return Err(bad_range(format!("empty range {}-{}", r.start, r.end)));
            }
            call = call.header("range", format!("bytes={}-{}", r.start, r.end));
        }
        let response = bucket.send(Lane::Quick, &call, &Payload::empty()).await?;
        let what = format!("GET {}", loc.redacted());
        let total_size = match (response.status(), range) {
            (StatusCode::OK, None) => content_length(&response)?,
            (StatusCode::OK, Some(r)) => {
                // The server ignored the range; fine only if it asked for everything.
                let total = content_length(&response)?;
                if r.start != 0 || r.end + 1 != total {
                    return Err(bad_range(format!(
                        "range {}-{} outside an object of {total} bytes",
                        r.start, r.end
                    )));
                }
                total
            }
            (StatusCode::PARTIAL_CONTENT, Some(r)) => match content_range(&response) {
                // S3 shortens a range that runs past the end; the store refuses it.
                Some((start, end, total)) if start == r.start && end == r.end => total,
                Some((_, _, total)) => {
                    return Err(bad_range(format!(
                        "range {}-{} outside an object of {total} bytes",
                        r.start, r.end
                    )))
                }
                None => {
                    return Err(StoreError::Backend(format!(
                        "{what}: the answer has no valid Content-Range"
                    )))
                }
            },
            (StatusCode::RANGE_NOT_SATISFIABLE, Some(r)) => {
                return Err(bad_range(format!(
                    "range {}-{} outside the object",
                    r.start, r.end
                )))
            }
            _ => {
                let failure = S3Failure::read(response).await;
                return Err(failure.into_read_error(&what, bucket.credentials()));
            }
        };
        Ok(ObjectReader {
            total_size,
            stream: body_stream(response),
        })
    }

    async fn size(&self, location: &str, _caller: &StoreCaller) -> Result<u64, StoreError> {
        let (bucket, loc) = self.resolve(location)?;
        bucket
            .head(&loc.key)
            .await?
            .ok_or_else(|| StoreError::NotFound(loc.redacted()))
    }

    async fn delete(&self, location: &str, _caller: &StoreCaller) -> Result<(), StoreError> {
        let (bucket, loc) = self.resolve(location)?;
        // S3 answers a DELETE of a missing key with success, so ask first (upstream too).
        if bucket.head(&loc.key).await?.is_none() {
            return Err(StoreError::NotFound(loc.redacted()));
        }
        bucket.delete(&loc.key).await
    }

    /// Any well-formed s3 location on this store's endpoint, whatever its bucket and
    /// key pair (they come from the location when it is read).
    fn owns(&self, location: &str) -> bool {
        S3Location::parse(location).is_ok_and(|loc| {
            loc.service
                .eq_ignore_ascii_case(&self.config().endpoint.service)
        })
    }
}
