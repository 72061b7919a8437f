//! Wire forms of images and members, in upstream's key order.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDateTime;
use glance_domain::image::HIDDEN_PROPERTIES;
use glance_domain::{Image, Member};
use serde_json::{Map, Value};

/// Per-deployment switches that change how an image is shown.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImageViewOptions {
    pub show_direct_url: bool,
    pub show_locations: bool,
    pub multi_store: bool,
}

pub fn timestamp(t: &NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

pub fn image_json(image: &Image, opts: ImageViewOptions) -> Value {
    let mut m = Map::with_capacity(24 + image.properties.len());
    for (k, v) in &image.properties {
        if !HIDDEN_PROPERTIES.contains(&k.as_str()) {
            m.insert(k.clone(), Value::String(v.clone()));
        }
    }
    m.insert("name".into(), image.name.clone().into());
    m.insert("disk_format".into(), image.disk_format.clone().into());
    m.insert(
        "container_format".into(),
        image.container_format.clone().into(),
    );
    m.insert("visibility".into(), image.visibility.as_str().into());
    m.insert("size".into(), image.size.into());
    m.insert("virtual_size".into(), image.virtual_size.into());
    m.insert("status".into(), image.status.as_str().into());
    m.insert("checksum".into(), image.checksum.clone().into());
    m.insert("protected".into(), image.protected.into());
    m.insert("min_ram".into(), image.min_ram.into());
    m.insert("min_disk".into(), image.min_disk.into());
    m.insert("owner".into(), image.owner.clone().into());
    m.insert("os_hidden".into(), image.os_hidden.into());
    m.insert("os_hash_algo".into(), image.os_hash_algo.clone().into());
    m.insert("os_hash_value".into(), image.os_hash_value.clone().into());
    m.insert("id".into(), image.id.clone().into());
    m.insert("created_at".into(), timestamp(&image.created_at).into());
    m.insert("updated_at".into(), timestamp(&image.updated_at).into());
    m.insert("tags".into(), image.tags.clone().into());
    let active: Vec<_> = image
        .locations
        .iter()
        .filter(|l| l.status == "active")
        .collect();
    if opts.show_locations {
        let locations: Vec<Value> = active
            .iter()
            .map(|l| serde_json::json!({"url": l.url, "metadata": l.metadata}))
            .collect();
        m.insert("locations".into(), locations.into());
    }
    if opts.show_direct_url {
        if let Some(first) = active.first() {
            m.insert("direct_url".into(), first.url.clone().into());
        }
    }
    m.insert("self".into(), format!("/v2/images/{}", image.id).into());
    m.insert(
        "file".into(),
        format!("/v2/images/{}/file", image.id).into(),
    );
    m.insert("schema".into(), "/v2/schemas/image".into());
    if opts.multi_store {
        let stores = image.store_ids();
        if !stores.is_empty() {
            m.insert("stores".into(), stores.join(",").into());
        }
    }
    Value::Object(m)
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
pub fn json_response(status: StatusCode, value: &Value) -> Response {
    let body = crate::python_json::to_vec(value);
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
