//! The multipart upload calls (CreateMultipartUpload, UploadPart,
//! CompleteMultipartUpload, AbortMultipartUpload).

use bytes::Bytes;
use hyper::{Method, StatusCode};

use super::api::{Bucket, Call, Lane, Payload};
use super::failure::S3Failure;
use super::xml;
use crate::StoreError;

/// S3 numbers parts 1 to 10000.
pub(crate) const MAX_PARTS: u32 = 10_000;

impl Bucket {
    /// Starts a multipart upload of `key`; returns its upload id.
    pub(crate) async fn create_multipart(&self, key: &str) -> Result<String, StoreError> {
        let call = Call::new(Method::POST, Some(key)).query("uploads", "");
        let response = self
            .expect_success(Lane::Quick, &call, &Payload::empty())
            .await?;
        let doc = self.document(response).await?;
        xml::text(&doc, "UploadId")
            .filter(|id| !id.is_empty())
            .ok_or_else(|| {
                StoreError::Backend(format!(
                    "starting a multipart upload of {}: no UploadId in the answer",
                    self.describe(Some(key))
                ))
            })
    }

    /// Uploads part `number`; returns its ETag (quoted, as S3 wants it back).
    pub(crate) async fn upload_part(
        &self,
        key: &str,
        upload_id: &str,
        number: u32,
        data: Bytes,
    ) -> Result<String, StoreError> {
        let payload = self.payload(data).await;
        let call = Call::new(Method::PUT, Some(key))
            .query("partNumber", &number.to_string())
            .query("uploadId", upload_id);
        let response = self.expect_success(Lane::Bulk, &call, &payload).await?;
        response
            .headers()
            .get(hyper::header::ETAG)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .ok_or_else(|| {
                StoreError::Backend(format!(
                    "part {number} of {}: no ETag in the answer",
                    self.describe(Some(key))
                ))
            })
    }

    /// Joins the parts, `(number, ETag)` in ascending order, into the object.
    pub(crate) async fn complete_multipart(
        &self,
        key: &str,
        upload_id: &str,
        parts: &[(u32, String)],
    ) -> Result<(), StoreError> {
        let body = Bytes::from(xml::complete_multipart_body(parts));
        let payload = self.payload(body).await;
        let call = Call::new(Method::POST, Some(key))
            .query("uploadId", upload_id)
            .header("content-type", "application/xml".into());
        let response = self.expect_success(Lane::Bulk, &call, &payload).await?;
        // S3 may answer 200 and report the failure in the body (it sends the status
        // line before the work is done). RGW's ETag in here is empty; it is not used.
        let doc = self.document(response).await?;
        if xml::blocks(&doc, "Error").is_empty() {
            return Ok(());
        }
        let what = format!("completing the upload of {}", self.describe(Some(key)));
        Err(S3Failure::from_document(StatusCode::OK, &doc).into_error(&what, self.credentials()))
    }

    /// Discards a multipart upload and its parts; one already gone is fine.
    pub(crate) async fn abort_multipart(
        &self,
        key: &str,
        upload_id: &str,
    ) -> Result<(), StoreError> {
        let call = Call::new(Method::DELETE, Some(key)).query("uploadId", upload_id);
        let response = self.send(Lane::Quick, &call, &Payload::empty()).await?;
        if response.status().is_success() {
            return Ok(());
        }
        let failure = S3Failure::read(response).await;
        if failure.code_is("NoSuchUpload") {
            return Ok(());
        }
        let what = format!("aborting the upload of {}", self.describe(Some(key)));
        Err(failure.into_error(&what, self.credentials()))
    }

    /// The multipart uploads in progress under `prefix`, as `(key, upload id)`.
    pub(crate) async fn list_uploads(
        &self,
        prefix: &str,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let mut found = Vec::new();
        let (mut key_marker, mut id_marker) = (String::new(), String::new());
        loop {
            let mut call = Call::new(Method::GET, None)
                .query("uploads", "")
                .query("prefix", prefix);
            if !key_marker.is_empty() {
                call = call
                    .query("key-marker", &key_marker)
                    .query("upload-id-marker", &id_marker);
            }
            let response = self
                .expect_success(Lane::Quick, &call, &Payload::empty())
                .await?;
            let doc = self.document(response).await?;
            for upload in xml::blocks(&doc, "Upload") {
                if let (Some(key), Some(id)) =
                    (xml::text(upload, "Key"), xml::text(upload, "UploadId"))
                {
                    found.push((key, id));
                }
            }
            let truncated = xml::text(&doc, "IsTruncated").as_deref() == Some("true");
            key_marker = xml::text(&doc, "NextKeyMarker").unwrap_or_default();
            id_marker = xml::text(&doc, "NextUploadIdMarker").unwrap_or_default();
            if !truncated || key_marker.is_empty() {
                return Ok(found);
            }
        }
    }
}
