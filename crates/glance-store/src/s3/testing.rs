//! Bucket housekeeping for driver tests (feature `testing`): create a bucket, see
//! what S3 really holds in it (objects and multipart uploads in progress, through
//! S3's own listing calls, not the driver), plant objects, and remove it all.

use bytes::Bytes;
use hyper::Method;

use super::api::{Bucket, Call, Lane, Payload, S3Service};
use super::config::S3Config;
use super::xml;
use crate::{StoreError, StoreOptions};

/// The bucket named by a store's options, reached with its key pair.
pub struct BucketAdmin {
    bucket: Bucket,
}

impl BucketAdmin {
    /// Takes the same options as the store.
    pub fn new(options: &StoreOptions) -> Result<Self, StoreError> {
        let config = S3Config::from_options(options)?;
        let (name, credentials) = (config.bucket.clone(), config.credentials.clone());
        let service = std::sync::Arc::new(S3Service::new(config, options)?);
        Ok(BucketAdmin {
            bucket: service.bucket(&name, credentials),
        })
    }

    pub async fn create(&self) -> Result<(), StoreError> {
        self.bucket.create().await
    }

    pub async fn exists(&self) -> Result<bool, StoreError> {
        self.bucket.exists().await
    }

    /// Every key in the bucket (ListObjectsV2, all pages), sorted.
    pub async fn keys(&self) -> Result<Vec<String>, StoreError> {
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut call = Call::new(Method::GET, None).query("list-type", "2");
            if let Some(token) = &token {
                call = call.query("continuation-token", token);
            }
            let response = self
                .bucket
                .expect_success(Lane::Quick, &call, &Payload::empty())
                .await?;
            let doc = self.bucket.document(response).await?;
            for entry in xml::blocks(&doc, "Contents") {
                keys.extend(xml::text(entry, "Key"));
            }
            token = xml::text(&doc, "NextContinuationToken").filter(|t| !t.is_empty());
            let truncated = xml::text(&doc, "IsTruncated").as_deref() == Some("true");
            if !truncated || token.is_none() {
                break;
            }
        }
        keys.sort();
        Ok(keys)
    }

    /// Multipart uploads in progress, as `(key, upload id)`.
    pub async fn uploads(&self) -> Result<Vec<(String, String)>, StoreError> {
        self.bucket.list_uploads("").await
    }

    /// The ETag of `key` (`"<md5>"` for a single PUT, `"<md5>-<parts>"` for a
    /// multipart upload), `None` when there is no such object.
    pub async fn etag(&self, key: &str) -> Result<Option<String>, StoreError> {
        let call = Call::new(Method::HEAD, Some(key));
        let response = self
            .bucket
            .send(Lane::Quick, &call, &Payload::empty())
            .await?;
        if response.status() == hyper::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        Ok(response
            .headers()
            .get(hyper::header::ETAG)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim_matches('"').to_string()))
    }

    /// Stores `data` under `key` with a plain PUT.
    pub async fn put(&self, key: &str, data: Bytes) -> Result<(), StoreError> {
        let payload = self.bucket.payload(data).await;
        self.bucket.put(key, &payload).await
    }

    /// Aborts every upload, deletes every object, then the bucket. A bucket that is
    /// not there is fine.
    pub async fn remove(&self) -> Result<(), StoreError> {
        if !self.exists().await? {
            return Ok(());
        }
        for (key, id) in self.uploads().await? {
            self.bucket.abort_multipart(&key, &id).await?;
        }
        for key in self.keys().await? {
            self.bucket.delete(&key).await?;
        }
        let call = Call::new(Method::DELETE, None);
        self.bucket
            .expect_success(Lane::Quick, &call, &Payload::empty())
            .await
            .map(drop)
    }
}
