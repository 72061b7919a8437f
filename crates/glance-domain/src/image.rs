//! The image entity and its companions (members, locations).

use std::collections::BTreeMap;

use chrono::NaiveDateTime;

use crate::status::ImageStatus;
use crate::visibility::{MemberStatus, Visibility};

/// An image as stored: core columns, extra properties, tags and locations.
#[derive(Debug, Clone, PartialEq)]
pub struct Image {
    pub id: String,
    pub name: Option<String>,
    pub status: ImageStatus,
    pub visibility: Visibility,
    pub protected: bool,
    pub os_hidden: bool,
    pub checksum: Option<String>,
    pub os_hash_algo: Option<String>,
    pub os_hash_value: Option<String>,
    pub owner: Option<String>,
    pub size: Option<i64>,
    pub virtual_size: Option<i64>,
    pub min_ram: i64,
    pub min_disk: i64,
    pub disk_format: Option<String>,
    pub container_format: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// Extra properties; a NULL value in the database is rendered as "".
    pub properties: BTreeMap<String, String>,
    pub tags: Vec<String>,
    pub locations: Vec<Location>,
}

/// One place where the image's data lives (`image_locations` row).
#[derive(Debug, Clone, PartialEq)]
pub struct Location {
    pub id: i64,
    pub url: String,
    /// JSON object; `store` names the backend in multi-store mode.
    pub metadata: serde_json::Map<String, serde_json::Value>,
    pub status: String,
}

impl Location {
    pub fn store_id(&self) -> Option<&str> {
        self.metadata.get("store").and_then(|v| v.as_str())
    }
}

/// A project an image is shared with (`image_members` row).
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub image_id: String,
    pub member_id: String,
    pub status: MemberStatus,
    pub can_share: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Core attributes the server manages; a client may never set them (403 "read-only").
pub const READ_ONLY_ATTRIBUTES: &[&str] = &[
    "created_at",
    "updated_at",
    "status",
    "checksum",
    "os_hash_algo",
    "os_hash_value",
    "size",
    "virtual_size",
    "direct_url",
    "self",
    "file",
    "schema",
    "id",
    "stores",
];

/// Keys no client may create as properties (403 "reserved").
pub const RESERVED_ATTRIBUTES: &[&str] = &["location", "deleted", "deleted_at"];

/// Prefix of properties only the server writes.
pub const RESERVED_PREFIX: &str = "os_glance";

/// Core attributes a client may set; everything else in a body is an extra property.
pub const SETTABLE_CORE_ATTRIBUTES: &[&str] = &[
    "name",
    "visibility",
    "protected",
    "os_hidden",
    "min_ram",
    "min_disk",
    "disk_format",
    "container_format",
    "owner",
    "tags",
];

/// Internal properties never rendered to clients.
pub const HIDDEN_PROPERTIES: &[&str] = &["os_glance_stage_host", "os_glance_hash_op_host"];

pub fn is_reserved_key(key: &str) -> bool {
    RESERVED_ATTRIBUTES.contains(&key) || key.starts_with(RESERVED_PREFIX)
}

pub fn is_core_attribute(key: &str) -> bool {
    SETTABLE_CORE_ATTRIBUTES.contains(&key)
        || READ_ONLY_ATTRIBUTES.contains(&key)
        || key == "locations"
}

impl Image {
    /// Store ids holding this image's data, in location order, without duplicates.
    pub fn store_ids(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = Vec::new();
        for id in self.locations.iter().filter_map(Location::store_id) {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        ids
    }
}
