//! The wire forms of the legacy v1 API: the image object of `detail`, create and update
//! responses, the six-field object of the brief list, and metadata as
//! `x-image-meta-*` response headers.

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use chrono::NaiveDateTime;
use glance_domain::{Image, Visibility};
use serde_json::{json, Map, Value};

/// Upstream's registry timestamp form, in JSON and headers alike.
fn timestamp(t: &NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
}

fn is_public(image: &Image) -> bool {
    image.visibility == Visibility::Public
}

/// The full v1 image object (never a location).
pub fn image_object(image: &Image) -> Value {
    let properties: Map<String, Value> = image
        .properties
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    json!({
        "id": image.id,
        "name": image.name,
        "status": image.status.as_str(),
        "is_public": is_public(image),
        "protected": image.protected,
        "deleted": false,
        "deleted_at": Value::Null,
        "disk_format": image.disk_format,
        "container_format": image.container_format,
        "size": image.size.unwrap_or(0),
        "virtual_size": image.virtual_size,
        "checksum": image.checksum,
        "min_disk": image.min_disk,
        "min_ram": image.min_ram,
        "owner": image.owner,
        "created_at": timestamp(&image.created_at),
        "updated_at": timestamp(&image.updated_at),
        "properties": properties,
    })
}

/// The registry's image object: the v1 object with the first active location as
/// `location` and every live one in `location_data`.
pub fn registry_object(image: &Image) -> Value {
    let mut object = image_object(image);
    let live: Vec<&glance_domain::Location> = image
        .locations
        .iter()
        .filter(|l| l.status == "active")
        .collect();
    object["location"] = live
        .first()
        .map_or(Value::Null, |l| Value::String(l.url.clone()));
    object["location_data"] = live
        .iter()
        .map(|l| json!({"id": l.id, "url": l.url, "metadata": l.metadata, "status": l.status}))
        .collect();
    object
}

/// An entry of `GET /v1/images`: exactly the six fields upstream returns.
pub fn brief_object(image: &Image) -> Value {
    json!({
        "id": image.id,
        "name": image.name,
        "size": image.size.unwrap_or(0),
        "disk_format": image.disk_format,
        "container_format": image.container_format,
        "checksum": image.checksum,
    })
}

/// The image's metadata as `x-image-meta-*` headers: booleans as Python prints them,
/// absent (None) fields left out, `ETag` the checksum. A property whose name or value
/// cannot be a header is left out rather than mangled.
pub fn insert_meta_headers(headers: &mut HeaderMap, image: &Image) {
    let python_bool = |b: bool| if b { "True" } else { "False" }.to_string();
    let fields: [(&str, Option<String>); 15] = [
        ("id", Some(image.id.clone())),
        ("name", image.name.clone()),
        ("size", Some(image.size.unwrap_or(0).to_string())),
        ("virtual_size", image.virtual_size.map(|v| v.to_string())),
        ("disk_format", image.disk_format.clone()),
        ("container_format", image.container_format.clone()),
        ("min_disk", Some(image.min_disk.to_string())),
        ("min_ram", Some(image.min_ram.to_string())),
        ("is_public", Some(python_bool(is_public(image)))),
        ("checksum", image.checksum.clone()),
        ("owner", image.owner.clone()),
        ("protected", Some(python_bool(image.protected))),
        ("status", Some(image.status.as_str().to_string())),
        ("created_at", Some(timestamp(&image.created_at))),
        ("updated_at", Some(timestamp(&image.updated_at))),
    ];
    let mut put = |name: String, value: &str| {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_bytes(value.as_bytes()),
        ) {
            headers.append(n, v);
        }
    };
    for (field, value) in fields {
        if let Some(value) = value {
            put(format!("x-image-meta-{field}"), &value);
        }
    }
    put("x-image-meta-deleted".into(), "False");
    for (key, value) in &image.properties {
        put(
            format!("x-image-meta-property-{}", key.to_ascii_lowercase()),
            value,
        );
    }
    if let Some(checksum) = &image.checksum {
        put("etag".into(), checksum);
    }
}
