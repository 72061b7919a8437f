//! Signed S3 calls on one bucket. Each request is built and signed here; one whose
//! body can be sent again is retried on a dropped connection or a 5xx answer, as
//! boto retries for upstream.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use hyper::{Method, Request, StatusCode};

use super::config::S3Config;
use super::failure::S3Failure;
use super::sigv4::{self, CanonicalRequest, Credentials};
use super::xml;
use crate::remote::{full_body, read_small_body, HttpClient, RequestBody, Response, TlsOptions};
use crate::{StoreError, StoreOptions};

/// Waiting for the head of an answer to a call without a large body (boto's
/// default read timeout).
const QUICK_ANSWER_TIMEOUT: Duration = Duration::from_secs(60);
/// Waiting for the answer to a call that carries image data: it covers sending the
/// body, which a slow client or link can stretch (a streamed PUT goes at the pace
/// of the client uploading the image).
const BULK_ANSWER_TIMEOUT: Duration = Duration::from_secs(6 * 3600);
/// Tries per call whose body can be replayed.
const ATTEMPTS: u32 = 3;
/// Answers to S3 calls other than GET fit in this.
const ANSWER_LIMIT: usize = 1 << 20;
/// Payloads hashed on the calling task; larger ones go to the blocking pool.
const INLINE_HASH_LIMIT: usize = 64 * 1024;

/// The S3 endpoint and the HTTP clients that reach it.
pub(crate) struct S3Service {
    pub config: S3Config,
    quick: HttpClient,
    bulk: HttpClient,
}

impl S3Service {
    pub(crate) fn new(config: S3Config, options: &StoreOptions) -> Result<Self, StoreError> {
        let tls = TlsOptions {
            ca_file: config.cacert.clone(),
            insecure: false,
        };
        let client = |timeout| {
            HttpClient::new(&tls, None, timeout)
                .map_err(|reason| options.invalid("s3_store_cacert", reason))
        };
        Ok(S3Service {
            quick: client(QUICK_ANSWER_TIMEOUT)?,
            bulk: client(BULK_ANSWER_TIMEOUT)?,
            config,
        })
    }

    /// The bucket `name`, reached with `credentials`.
    pub(crate) fn bucket(self: &Arc<Self>, name: &str, credentials: Credentials) -> Bucket {
        Bucket {
            service: Arc::clone(self),
            name: name.to_string(),
            credentials,
        }
    }
}

/// Which client carries a call.
#[derive(Clone, Copy)]
pub(crate) enum Lane {
    Quick,
    Bulk,
}

/// One request before it is signed.
pub(crate) struct Call<'a> {
    pub method: Method,
    /// The object, or `None` for a call on the bucket itself.
    pub key: Option<&'a str>,
    /// Query parameters, not encoded; an empty value is sent as a bare name.
    pub query: Vec<(String, String)>,
    /// Extra headers, signed with the rest.
    pub headers: Vec<(&'static str, String)>,
}

impl<'a> Call<'a> {
    pub(crate) fn new(method: Method, key: Option<&'a str>) -> Self {
        Call {
            method,
            key,
            query: Vec::new(),
            headers: Vec::new(),
        }
    }

    pub(crate) fn query(mut self, name: &str, value: &str) -> Self {
        self.query.push((name.to_string(), value.to_string()));
        self
    }

    pub(crate) fn header(mut self, name: &'static str, value: String) -> Self {
        self.headers.push((name, value));
        self
    }
}

/// A body that can be sent more than once, with the hash it is signed with.
#[derive(Clone)]
pub(crate) struct Payload {
    pub data: Bytes,
    pub hash: String,
}

impl Payload {
    pub(crate) fn empty() -> Self {
        Payload {
            data: Bytes::new(),
            hash: sigv4::EMPTY_PAYLOAD_SHA256.to_string(),
        }
    }
}

/// One bucket reached with one key pair.
#[derive(Clone)]
pub(crate) struct Bucket {
    service: Arc<S3Service>,
    name: String,
    credentials: Credentials,
}

impl Bucket {
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    pub(crate) fn config(&self) -> &S3Config {
        &self.service.config
    }

    /// `bucket/key`, to name an object in messages.
    pub(crate) fn describe(&self, key: Option<&str>) -> String {
        match key {
            Some(key) => format!("{}/{key}", self.name),
            None => format!("bucket {}", self.name),
        }
    }

    /// Prepares `data` as a body. Over https the body is not hashed into the
    /// signature (as boto does; TLS protects it); over plain http it is, so the
    /// server rejects a body altered on the way.
    pub(crate) async fn payload(&self, data: Bytes) -> Payload {
        let hash = if self.service.config.endpoint.https {
            sigv4::UNSIGNED_PAYLOAD.to_string()
        } else if data.len() <= INLINE_HASH_LIMIT {
            sigv4::sha256_hex(&data)
        } else {
            let data = data.clone();
            tokio::task::spawn_blocking(move || sigv4::sha256_hex(&data))
                .await
                .unwrap_or_else(|_| sigv4::UNSIGNED_PAYLOAD.to_string())
        };
        Payload { data, hash }
    }

    /// Builds and signs `call` with `body`.
    pub(crate) fn sign(
        &self,
        call: &Call<'_>,
        body: RequestBody,
        payload_hash: &str,
        length: Option<u64>,
    ) -> Result<Request<RequestBody>, StoreError> {
        let config = &self.service.config;
        let endpoint = &config.endpoint;
        let (host, mut path) = if config.virtual_hosted(&self.name) {
            (
                format!("{}.{}", self.name, endpoint.authority),
                endpoint.base_path.clone(),
            )
        } else {
            let bucket = sigv4::uri_encode(&self.name, true);
            (
                endpoint.authority.clone(),
                format!("{}/{bucket}", endpoint.base_path),
            )
        };
        match call.key {
            Some(key) => {
                path.push('/');
                path.push_str(&sigv4::uri_encode(key, false));
            }
            None if path.is_empty() => path.push('/'),
            None => {}
        }
        let wire_query: Vec<String> = call
            .query
            .iter()
            .map(|(k, v)| match v.as_str() {
                "" => sigv4::uri_encode(k, true),
                v => format!(
                    "{}={}",
                    sigv4::uri_encode(k, true),
                    sigv4::uri_encode(v, true)
                ),
            })
            .collect();
        let scheme = if endpoint.https { "https" } else { "http" };
        let mut uri = format!("{scheme}://{host}{path}");
        if !wire_query.is_empty() {
            uri.push('?');
            uri.push_str(&wire_query.join("&"));
        }

        let amz_date = sigv4::amz_date(SystemTime::now());
        let mut signed: Vec<(String, String)> = vec![
            ("host".into(), host.clone()),
            ("x-amz-content-sha256".into(), payload_hash.to_string()),
            ("x-amz-date".into(), amz_date.clone()),
        ];
        signed.extend(
            call.headers
                .iter()
                .map(|(name, value)| (name.to_string(), value.clone())),
        );
        let authorization = sigv4::authorization(
            &self.credentials,
            &config.region,
            &amz_date,
            &CanonicalRequest {
                method: call.method.as_str(),
                path: &path,
                query: &call.query,
                headers: &signed,
                payload_hash,
            },
        );
        let mut request = Request::builder().method(call.method.clone()).uri(&uri);
        for (name, value) in &signed {
            request = request.header(name.as_str(), value.as_str());
        }
        request = request.header("authorization", authorization);
        // RGW and S3 want a length on every PUT and POST, an empty one included.
        let length = length
            .or_else(|| (call.method == Method::PUT || call.method == Method::POST).then_some(0));
        if let Some(length) = length {
            request = request.header("content-length", length.to_string());
        }
        request.body(body).map_err(|e| {
            StoreError::Backend(format!("cannot build the request for {host}{path}: {e}"))
        })
    }

    /// Sends `call` with `payload`, retrying transient failures; the answer may be
    /// any status.
    pub(crate) async fn send(
        &self,
        lane: Lane,
        call: &Call<'_>,
        payload: &Payload,
    ) -> Result<Response, StoreError> {
        let client = match lane {
            Lane::Quick => &self.service.quick,
            Lane::Bulk => &self.service.bulk,
        };
        let mut attempt = 1;
        loop {
            let length = (!payload.data.is_empty()).then_some(payload.data.len() as u64);
            let request =
                self.sign(call, full_body(payload.data.clone()), &payload.hash, length)?;
            let outcome = client.send(request).await;
            let transient = match &outcome {
                Ok(response) => is_transient(response.status()),
                Err(StoreError::Backend(_)) => true,
                Err(_) => false,
            };
            if !transient || attempt >= ATTEMPTS {
                return outcome;
            }
            tracing::debug!(attempt, bucket = %self.name, "retrying an S3 call");
            tokio::time::sleep(Duration::from_millis(200 * 4u64.pow(attempt - 1))).await;
            attempt += 1;
        }
    }

    /// Sends a request whose body streams from elsewhere (no retry: the body is gone).
    pub(crate) async fn send_streaming(
        &self,
        request: Request<RequestBody>,
    ) -> Result<Response, StoreError> {
        self.service.bulk.send(request).await
    }

    /// Sends `call`, insisting on a 2xx answer; returns the answer.
    pub(crate) async fn expect_success(
        &self,
        lane: Lane,
        call: &Call<'_>,
        payload: &Payload,
    ) -> Result<Response, StoreError> {
        let response = self.send(lane, call, payload).await?;
        if response.status().is_success() {
            Ok(response)
        } else {
            let what = format!("{} {}", call.method, self.describe(call.key));
            Err(S3Failure::read(response)
                .await
                .into_error(&what, &self.credentials))
        }
    }

    /// The failure of a HEAD answer, which has no error document: the same target is
    /// asked again with a one-byte GET so the error names S3's code.
    pub(crate) async fn explain_head(&self, key: Option<&str>, head: Response) -> S3Failure {
        let status = head.status();
        let call = match key {
            Some(_) => Call::new(Method::GET, key).header("range", "bytes=0-0".into()),
            None => Call::new(Method::GET, None).query("max-keys", "0"),
        };
        match self.send(Lane::Quick, &call, &Payload::empty()).await {
            Ok(answer) if !answer.status().is_success() => S3Failure::read(answer).await,
            _ => S3Failure {
                status,
                code: None,
                message: None,
            },
        }
    }

    /// Reads a short XML answer of a successful call.
    pub(crate) async fn document(&self, response: Response) -> Result<String, StoreError> {
        let body = read_small_body(response, ANSWER_LIMIT).await?;
        String::from_utf8(body.to_vec())
            .map_err(|_| StoreError::Backend("the S3 answer is not UTF-8".into()))
    }

    /// Whether the bucket exists; an answer other than yes or no is an error.
    pub(crate) async fn exists(&self) -> Result<bool, StoreError> {
        // A listing of no keys needs the permission HEAD needs, and answers with a code.
        let call = Call::new(Method::GET, None).query("max-keys", "0");
        let response = self.send(Lane::Quick, &call, &Payload::empty()).await?;
        if response.status().is_success() {
            return Ok(true);
        }
        let failure = S3Failure::read(response).await;
        if failure.status == StatusCode::NOT_FOUND {
            return Ok(false);
        }
        let what = format!("checking {}", self.describe(None));
        Err(failure.into_error(&what, &self.credentials))
    }

    /// Creates the bucket; one that already exists and is ours is fine (another API
    /// node may have won the race).
    pub(crate) async fn create(&self) -> Result<(), StoreError> {
        let region = &self.service.config.region;
        // us-east-1 is the default location and AWS refuses it as a constraint.
        let data = if region == "us-east-1" {
            Bytes::new()
        } else {
            Bytes::from(format!(
                "<CreateBucketConfiguration><LocationConstraint>{}</LocationConstraint></CreateBucketConfiguration>",
                xml::escape(region)
            ))
        };
        let payload = self.payload(data).await;
        let call = Call::new(Method::PUT, None);
        let response = self.send(Lane::Quick, &call, &payload).await?;
        if response.status().is_success() {
            return Ok(());
        }
        let failure = S3Failure::read(response).await;
        if failure.code_is("BucketAlreadyOwnedByYou") {
            return Ok(());
        }
        let what = format!("creating {}", self.describe(None));
        Err(failure.into_error(&what, &self.credentials))
    }

    /// The size of `key`, `None` when there is no such object.
    pub(crate) async fn head(&self, key: &str) -> Result<Option<u64>, StoreError> {
        let call = Call::new(Method::HEAD, Some(key));
        let response = self.send(Lane::Quick, &call, &Payload::empty()).await?;
        match response.status() {
            status if status.is_success() => content_length(&response).map(Some),
            StatusCode::NOT_FOUND => Ok(None),
            _ => {
                let what = format!("HEAD {}", self.describe(Some(key)));
                let failure = self.explain_head(Some(key), response).await;
                Err(failure.into_error(&what, &self.credentials))
            }
        }
    }

    pub(crate) async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let call = Call::new(Method::DELETE, Some(key));
        self.expect_success(Lane::Quick, &call, &Payload::empty())
            .await
            .map(drop)
    }

    /// A single PUT of a whole (small) object.
    pub(crate) async fn put(&self, key: &str, payload: &Payload) -> Result<(), StoreError> {
        let call = Call::new(Method::PUT, Some(key));
        self.expect_success(Lane::Bulk, &call, payload)
            .await
            .map(drop)
    }
}

/// Answers worth another try: the server is overloaded or failed transiently.
fn is_transient(status: StatusCode) -> bool {
    matches!(status.as_u16(), 500 | 502 | 503 | 504)
}

/// The `Content-Length` of an answer.
pub(crate) fn content_length(response: &Response) -> Result<u64, StoreError> {
    response
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| StoreError::Backend("the S3 answer has no Content-Length".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remote::empty_body;

    fn bucket(host: &str, format: &str) -> Bucket {
        let options = StoreOptions::new("s3", Default::default())
            .with("s3_store_host", host)
            .with("s3_store_access_key", "AK")
            .with("s3_store_secret_key", "SK")
            .with("s3_store_bucket", "glance")
            .with("s3_store_bucket_url_format", format);
        let config = S3Config::from_options(&options).unwrap();
        let credentials = config.credentials.clone();
        Arc::new(S3Service::new(config, &options).unwrap()).bucket("glance", credentials)
    }

    fn target(request: &Request<RequestBody>) -> (String, String) {
        let host = request.headers()["host"].to_str().unwrap().to_string();
        (request.uri().to_string(), host)
    }

    #[test]
    fn path_and_virtual_addressing() {
        let call = Call::new(Method::PUT, Some("a b"))
            .query("partNumber", "1")
            .query("uploadId", "x/y");
        let path = bucket("http://127.0.0.1:27480/", "auto");
        let request = path
            .sign(&call, empty_body(), "UNSIGNED-PAYLOAD", None)
            .unwrap();
        assert_eq!(
            target(&request),
            (
                "http://127.0.0.1:27480/glance/a%20b?partNumber=1&uploadId=x%2Fy".into(),
                "127.0.0.1:27480".into()
            )
        );
        assert_eq!(request.headers()["content-length"], "0");
        let auth = request.headers()["authorization"].to_str().unwrap();
        assert!(
            auth.starts_with("AWS4-HMAC-SHA256 Credential=AK/"),
            "{auth}"
        );
        assert!(auth.contains(
            "/us-east-1/s3/aws4_request,SignedHeaders=host;x-amz-content-sha256;x-amz-date,"
        ));
        assert!(!auth.contains("SK"));

        let virtual_hosted = bucket("https://s3.example.com/prefix", "virtual");
        let uploads = Call::new(Method::POST, Some("k")).query("uploads", "");
        let request = virtual_hosted
            .sign(&uploads, empty_body(), "UNSIGNED-PAYLOAD", None)
            .unwrap();
        assert_eq!(
            target(&request),
            (
                "https://glance.s3.example.com/prefix/k?uploads".into(),
                "glance.s3.example.com".into()
            )
        );
        let listing = Call::new(Method::GET, None).query("max-keys", "0");
        let request = virtual_hosted
            .sign(&listing, empty_body(), "UNSIGNED-PAYLOAD", None)
            .unwrap();
        assert_eq!(
            request.uri().to_string(),
            "https://glance.s3.example.com/prefix?max-keys=0"
        );
        assert!(request.headers().get("content-length").is_none());
    }
}
