//! Wire forms of images and members, in upstream's key order.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDateTime;
use glance_domain::image::HIDDEN_PROPERTIES;
use glance_domain::{Image, Member};
use glance_store::redact_location;
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use serde_json::Value;

/// Per-deployment switches that change how an image is shown.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImageViewOptions {
    pub show_direct_url: bool,
    pub show_locations: bool,
    pub multi_store: bool,
}

/// Upstream's wire form of every timestamp.
const TIMESTAMP_FORMAT: &str = "%Y-%m-%dT%H:%M:%SZ";

pub fn timestamp(t: &NaiveDateTime) -> String {
    t.format(TIMESTAMP_FORMAT).to_string()
}

/// An image as the API shows it. Serialized field by field in upstream's order (extra
/// properties first), without building an intermediate JSON tree: a page of 1,000
/// images is rendered straight into the response buffer.
pub struct ImageView<'a> {
    pub image: &'a Image,
    pub opts: ImageViewOptions,
}

impl Serialize for ImageView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let image = self.image;
        let mut m = serializer.serialize_map(None)?;
        for (k, v) in &image.properties {
            if !HIDDEN_PROPERTIES.contains(&k.as_str()) {
                m.serialize_entry(k, v)?;
            }
        }
        m.serialize_entry("name", &image.name)?;
        m.serialize_entry("disk_format", &image.disk_format)?;
        m.serialize_entry("container_format", &image.container_format)?;
        m.serialize_entry("visibility", image.visibility.as_str())?;
        m.serialize_entry("size", &image.size)?;
        m.serialize_entry("virtual_size", &image.virtual_size)?;
        m.serialize_entry("status", image.status.as_str())?;
        m.serialize_entry("checksum", &image.checksum)?;
        m.serialize_entry("protected", &image.protected)?;
        m.serialize_entry("min_ram", &image.min_ram)?;
        m.serialize_entry("min_disk", &image.min_disk)?;
        m.serialize_entry("owner", &image.owner)?;
        m.serialize_entry("os_hidden", &image.os_hidden)?;
        m.serialize_entry("os_hash_algo", &image.os_hash_algo)?;
        m.serialize_entry("os_hash_value", &image.os_hash_value)?;
        m.serialize_entry("id", &image.id)?;
        m.serialize_entry("created_at", &Timestamp(&image.created_at))?;
        m.serialize_entry("updated_at", &Timestamp(&image.updated_at))?;
        let mut active = image.locations.iter().filter(|l| l.status == "active");
        if self.opts.show_locations {
            let locations: Vec<Value> = active
                .clone()
                .map(
                    |l| serde_json::json!({"url": redact_location(&l.url), "metadata": l.metadata}),
                )
                .collect();
            m.serialize_entry("locations", &locations)?;
        }
        if self.opts.show_direct_url {
            if let Some(first) = active.next() {
                m.serialize_entry("direct_url", &redact_location(&first.url))?;
            }
        }
        // After locations and direct_url, as upstream's view adds them.
        m.serialize_entry("tags", &image.tags)?;
        m.serialize_entry("self", &format_args!("/v2/images/{}", image.id))?;
        m.serialize_entry("file", &format_args!("/v2/images/{}/file", image.id))?;
        m.serialize_entry("schema", "/v2/schemas/image")?;
        if self.opts.multi_store {
            let stores = image.store_ids();
            if !stores.is_empty() {
                m.serialize_entry("stores", &stores.join(","))?;
            }
        }
        m.end()
    }
}

/// A timestamp in upstream's `YYYY-MM-DDThh:mm:ssZ` form, written without an
/// intermediate string.
struct Timestamp<'a>(&'a NaiveDateTime);

impl Serialize for Timestamp<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0.format(TIMESTAMP_FORMAT))
    }
}

/// The image as a JSON value (for callers that need to edit it).
pub fn image_json(image: &Image, opts: ImageViewOptions) -> Value {
    serde_json::to_value(ImageView { image, opts }).expect("an image always serializes")
}

pub fn member_json(member: &Member) -> Value {
    serde_json::json!({
        "member_id": member.member_id,
        "image_id": member.image_id,
        "status": member.status.as_str(),
        "created_at": timestamp(&member.created_at),
        "updated_at": timestamp(&member.updated_at),
        "schema": "/v2/schemas/member",
    })
}

/// A JSON response with upstream's bare `application/json` content type.
pub fn json_response<T: Serialize + ?Sized>(status: StatusCode, value: &T) -> Response {
    json_response_sized(status, value, 1024)
}

/// [`json_response`] for a body of about `size_hint` bytes.
pub fn json_response_sized<T: Serialize + ?Sized>(
    status: StatusCode,
    value: &T,
    size_hint: usize,
) -> Response {
    let body = crate::python_json::to_vec(value, size_hint);
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
