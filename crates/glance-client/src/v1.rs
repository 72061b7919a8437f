//! The legacy v1 API, with the seeds' `Client` operations by name (`get_images`,
//! `add_image`, `add_member`, ...). Metadata travels as `x-image-meta-*` headers.

use std::collections::BTreeMap;

use bytes::Bytes;
use futures_util::Stream;
use hyper::Method;
use serde_json::{json, Map, Value};

use crate::error::{ClientError, ClientResult};
use crate::transport::{Answer, RequestBody};
use crate::{query_string, GlanceClient};

/// Core fields that are numbers and booleans in v1's JSON (headers carry them as text).
const INT_FIELDS: &[&str] = &["size", "min_ram", "min_disk", "virtual_size"];
const BOOL_FIELDS: &[&str] = &["is_public", "protected", "deleted"];

/// An image's metadata as v1 carries it: core fields and custom properties.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImageMeta {
    pub fields: Map<String, Value>,
    pub properties: BTreeMap<String, String>,
}

impl ImageMeta {
    /// A core field as text (`None` when absent or null).
    pub fn text(&self, field: &str) -> Option<String> {
        match self.fields.get(field)? {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        }
    }

    pub fn id(&self) -> Option<String> {
        self.text("id")
    }

    pub fn set(&mut self, field: &str, value: impl Into<Value>) -> &mut Self {
        self.fields.insert(field.to_string(), value.into());
        self
    }

    /// From a v1 JSON image object.
    pub fn from_json(value: &Value) -> ClientResult<ImageMeta> {
        let Some(object) = value.as_object() else {
            return Err(ClientError::Protocol(format!("not an image: {value}")));
        };
        let mut meta = ImageMeta::default();
        for (key, value) in object {
            if key == "properties" {
                for (k, v) in value.as_object().into_iter().flatten() {
                    let text = match v {
                        Value::String(s) => s.clone(),
                        Value::Null => String::new(),
                        other => other.to_string(),
                    };
                    meta.properties.insert(k.clone(), text);
                }
            } else {
                meta.fields.insert(key.clone(), value.clone());
            }
        }
        Ok(meta)
    }

    /// From the `x-image-meta-*` headers of a HEAD or GET answer.
    fn from_headers(answer: &Answer) -> ImageMeta {
        let mut meta = ImageMeta::default();
        for (name, value) in &answer.headers {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            if let Some(key) = name.as_str().strip_prefix("x-image-meta-property-") {
                meta.properties.insert(key.to_string(), value);
            } else if let Some(key) = name.as_str().strip_prefix("x-image-meta-") {
                let typed = if INT_FIELDS.contains(&key) {
                    value
                        .parse::<i64>()
                        .map(Value::from)
                        .unwrap_or(Value::String(value))
                } else if BOOL_FIELDS.contains(&key) {
                    Value::Bool(value.eq_ignore_ascii_case("true"))
                } else {
                    Value::String(value)
                };
                meta.fields.insert(key.to_string(), typed);
            }
        }
        meta
    }

    /// As request headers: every field (booleans as `True`/`False`, nulls left out)
    /// and property.
    fn to_headers(&self) -> Vec<(String, String)> {
        let mut headers = Vec::new();
        for (key, value) in &self.fields {
            let text = match value {
                Value::Null => continue,
                Value::Bool(true) => "True".to_string(),
                Value::Bool(false) => "False".to_string(),
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            headers.push((format!("x-image-meta-{key}"), text));
        }
        for (key, value) in &self.properties {
            headers.push((format!("x-image-meta-property-{key}"), value.clone()));
        }
        headers
    }
}

/// Filters, paging and sorting of `get_images` / `get_images_detailed`.
#[derive(Debug, Clone, Default)]
pub struct ListOptions {
    /// `name`, `status`, `container_format`, `disk_format`, `size_min`, `size_max`,
    /// `is_public`, `changes-since`, `property-<key>`, ...
    pub filters: Vec<(String, String)>,
    pub limit: Option<u64>,
    pub marker: Option<String>,
    pub sort_key: Option<String>,
    pub sort_dir: Option<String>,
}

impl ListOptions {
    fn query(&self) -> String {
        let mut pairs = self.filters.clone();
        if let Some(limit) = self.limit {
            pairs.push(("limit".into(), limit.to_string()));
        }
        for (key, value) in [
            ("marker", &self.marker),
            ("sort_key", &self.sort_key),
            ("sort_dir", &self.sort_dir),
        ] {
            if let Some(v) = value {
                pairs.push((key.into(), v.clone()));
            }
        }
        query_string(&pairs)
    }
}

/// Image data to upload: a stream of chunks and its size when known.
pub struct ImageData {
    pub stream: std::pin::Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send>>,
    pub size: Option<u64>,
}

/// One member of an image (`can_share`: may share it further).
#[derive(Debug, Clone, PartialEq)]
pub struct Membership {
    pub member_id: String,
    pub can_share: bool,
}

/// One image shared with a member.
#[derive(Debug, Clone, PartialEq)]
pub struct SharedImage {
    pub image_id: String,
    pub can_share: bool,
}

/// The data of an image and its metadata.
pub struct Download {
    pub meta: ImageMeta,
    pub size: Option<u64>,
    pub stream: std::pin::Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send>>,
}

fn quoted(id: &str) -> String {
    form_urlencoded::byte_serialize(id.as_bytes()).collect()
}

impl GlanceClient {
    async fn v1_list(&self, path: &str, options: &ListOptions) -> ClientResult<Vec<ImageMeta>> {
        let answer = self
            .transport
            .call(
                Method::GET,
                &format!("{path}{}", options.query()),
                &[],
                RequestBody::Empty,
            )
            .await?;
        let body = answer.json().await?;
        body["images"]
            .as_array()
            .ok_or_else(|| ClientError::Protocol("no images in the list".into()))?
            .iter()
            .map(ImageMeta::from_json)
            .collect()
    }

    /// `GET /v1/images`: id, name, disk and container format, checksum and size.
    pub async fn get_images(&self, options: &ListOptions) -> ClientResult<Vec<ImageMeta>> {
        self.v1_list("/v1/images", options).await
    }

    /// `GET /v1/images/detail`: every field of every image.
    pub async fn get_images_detailed(&self, options: &ListOptions) -> ClientResult<Vec<ImageMeta>> {
        self.v1_list("/v1/images/detail", options).await
    }

    /// `HEAD /v1/images/{id}`.
    pub async fn get_image_meta(&self, id: &str) -> ClientResult<ImageMeta> {
        let answer = self
            .transport
            .call(
                Method::HEAD,
                &format!("/v1/images/{}", quoted(id)),
                &[],
                RequestBody::Empty,
            )
            .await?;
        Ok(ImageMeta::from_headers(&answer))
    }

    /// `GET /v1/images/{id}`: the metadata and a stream of the data.
    pub async fn get_image(&self, id: &str) -> ClientResult<Download> {
        let answer = self
            .transport
            .call(
                Method::GET,
                &format!("/v1/images/{}", quoted(id)),
                &[],
                RequestBody::Empty,
            )
            .await?;
        let meta = ImageMeta::from_headers(&answer);
        let size = answer.header("content-length").and_then(|v| v.parse().ok());
        Ok(Download {
            meta,
            size,
            stream: Box::pin(answer.into_stream()),
        })
    }

    async fn v1_send_image(
        &self,
        method: Method,
        path: &str,
        meta: &ImageMeta,
        data: Option<ImageData>,
        extra: Vec<(String, String)>,
    ) -> ClientResult<ImageMeta> {
        let mut headers = meta.to_headers();
        headers.extend(extra);
        let body = match data {
            Some(data) => {
                headers.push(("content-type".into(), "application/octet-stream".into()));
                match data.size {
                    Some(size) => {
                        headers.push(("content-length".into(), size.to_string()));
                        if !meta.fields.contains_key("size") {
                            headers.push(("x-image-meta-size".into(), size.to_string()));
                        }
                    }
                    None => headers.push(("transfer-encoding".into(), "chunked".into())),
                }
                RequestBody::Stream(data.stream)
            }
            None => RequestBody::Empty,
        };
        let refs: Vec<(&str, String)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.clone()))
            .collect();
        let answer = self.transport.call(method, path, &refs, body).await?;
        ImageMeta::from_json(&answer.json().await?["image"])
    }

    /// `POST /v1/images`: registers an image, with its data when given.
    pub async fn add_image(
        &self,
        meta: &ImageMeta,
        data: Option<ImageData>,
    ) -> ClientResult<ImageMeta> {
        self.v1_send_image(Method::POST, "/v1/images", meta, data, Vec::new())
            .await
    }

    /// `PUT /v1/images/{id}`. With `purge_props` the properties not named are removed.
    pub async fn update_image(
        &self,
        id: &str,
        meta: &ImageMeta,
        data: Option<ImageData>,
        purge_props: bool,
    ) -> ClientResult<ImageMeta> {
        let purge = vec![(
            "x-glance-registry-purge-props".to_string(),
            if purge_props { "true" } else { "false" }.to_string(),
        )];
        self.v1_send_image(
            Method::PUT,
            &format!("/v1/images/{}", quoted(id)),
            meta,
            data,
            purge,
        )
        .await
    }

    /// `DELETE /v1/images/{id}`.
    pub async fn delete_image(&self, id: &str) -> ClientResult<()> {
        self.transport
            .call(
                Method::DELETE,
                &format!("/v1/images/{}", quoted(id)),
                &[],
                RequestBody::Empty,
            )
            .await?;
        Ok(())
    }

    /// `GET /v1/images/{id}/members`.
    pub async fn get_image_members(&self, id: &str) -> ClientResult<Vec<Membership>> {
        let answer = self
            .transport
            .call(
                Method::GET,
                &format!("/v1/images/{}/members", quoted(id)),
                &[],
                RequestBody::Empty,
            )
            .await?;
        let body = answer.json().await?;
        Ok(body["members"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|m| Membership {
                member_id: m["member_id"].as_str().unwrap_or_default().to_string(),
                can_share: m["can_share"].as_bool().unwrap_or(false),
            })
            .collect())
    }

    /// `GET /v1/shared-images/{member}`.
    pub async fn get_member_images(&self, member: &str) -> ClientResult<Vec<SharedImage>> {
        let answer = self
            .transport
            .call(
                Method::GET,
                &format!("/v1/shared-images/{}", quoted(member)),
                &[],
                RequestBody::Empty,
            )
            .await?;
        let body = answer.json().await?;
        Ok(body["shared_images"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|m| SharedImage {
                image_id: m["image_id"].as_str().unwrap_or_default().to_string(),
                can_share: m["can_share"].as_bool().unwrap_or(false),
            })
            .collect())
    }

    /// `PUT /v1/images/{id}/members/{member}`; `can_share` None leaves an existing
    /// member's as it is.
    pub async fn add_member(
        &self,
        id: &str,
        member: &str,
        can_share: Option<bool>,
    ) -> ClientResult<()> {
        let body = match can_share {
            Some(c) => RequestBody::json(&json!({"member": {"can_share": c}})),
            None => RequestBody::Empty,
        };
        self.transport
            .call(
                Method::PUT,
                &format!("/v1/images/{}/members/{}", quoted(id), quoted(member)),
                &[("content-type", "application/json".to_string())],
                body,
            )
            .await?;
        Ok(())
    }

    /// `DELETE /v1/images/{id}/members/{member}`.
    pub async fn delete_member(&self, id: &str, member: &str) -> ClientResult<()> {
        self.transport
            .call(
                Method::DELETE,
                &format!("/v1/images/{}/members/{}", quoted(id), quoted(member)),
                &[],
                RequestBody::Empty,
            )
            .await?;
        Ok(())
    }

    /// `PUT /v1/images/{id}/members`: the image's members become exactly these.
    pub async fn replace_members(&self, id: &str, members: &[Membership]) -> ClientResult<()> {
        let memberships: Vec<Value> = members
            .iter()
            .map(|m| json!({"member_id": m.member_id, "can_share": m.can_share}))
            .collect();
        self.transport
            .call(
                Method::PUT,
                &format!("/v1/images/{}/members", quoted(id)),
                &[("content-type", "application/json".to_string())],
                RequestBody::json(&json!({ "memberships": memberships })),
            )
            .await?;
        Ok(())
    }
}
