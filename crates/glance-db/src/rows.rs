//! Turning rows of `images` and its child tables into domain types, loading the child
//! rows of many images with one query per table.

use std::collections::HashMap;

use glance_domain::{Image, ImageStatus, Location, Visibility};

use crate::engine::DbRow;
use crate::sql::SqlBuf;
use crate::{Db, DbError};

/// The `images` columns every image query selects.
pub(crate) const IMAGE_COLUMNS: &str = "images.id, images.name, images.size, images.status, \
    images.created_at, images.updated_at, images.deleted, images.disk_format, \
    images.container_format, images.checksum, images.owner, images.min_disk, images.min_ram, \
    images.protected, images.virtual_size, images.visibility, images.os_hidden, \
    images.os_hash_algo, images.os_hash_value";

pub(crate) fn image_from_row(row: &DbRow) -> Result<Image, DbError> {
    let id = row
        .text("id")
        .ok_or_else(|| DbError::Corrupt("image without id".into()))?;
    let corrupt = |what: &str| DbError::Corrupt(format!("image {id}: {what}"));
    let status: ImageStatus = row
        .text("status")
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| corrupt("bad status"))?;
    let visibility: Visibility = row
        .text("visibility")
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| corrupt("bad visibility"))?;
    let created_at = row
        .time("created_at")
        .ok_or_else(|| corrupt("bad created_at"))?;
    Ok(Image {
        name: row.text("name"),
        status,
        visibility,
        protected: row.boolean("protected"),
        os_hidden: row.boolean("os_hidden"),
        checksum: row.text("checksum"),
        os_hash_algo: row.text("os_hash_algo"),
        os_hash_value: row.text("os_hash_value"),
        owner: row.text("owner"),
        size: row.int("size"),
        virtual_size: row.int("virtual_size"),
        min_ram: row.int("min_ram").unwrap_or(0),
        min_disk: row.int("min_disk").unwrap_or(0),
        disk_format: row.text("disk_format"),
        container_format: row.text("container_format"),
        created_at,
        updated_at: row.time("updated_at").unwrap_or(created_at),
        properties: Default::default(),
        tags: Vec::new(),
        locations: Vec::new(),
        id,
    })
}

/// The child tables of an image and the columns read from each.
const CHILD_TABLES: [(&str, &str); 3] = [
    ("image_properties", "name, value"),
    ("image_tags", "value"),
    ("image_locations", "value, meta_data, status"),
];

/// Queries for the child rows of these images, one per table in [`CHILD_TABLES`] order.
///
/// Each is driven by `image_id` alone on purpose: with `deleted = 0` in the WHERE
/// clause SQLite's planner (without statistics) prefers the `deleted` index, which every
/// row matches. Deleted rows are few and are dropped in [`fill_children`], which also
/// orders by id so that no engine is tempted to walk the primary key.
pub(crate) fn child_queries(ids: &[String]) -> Vec<SqlBuf> {
    CHILD_TABLES
        .iter()
        .map(|(table, columns)| {
            let mut q = SqlBuf::new(&format!(
                "SELECT id, image_id, deleted, {columns} FROM {table} WHERE image_id IN "
            ));
            q.bind_list(ids.iter());
            q
        })
        .collect()
}

/// Attaches the results of [`child_queries`] to their images.
pub(crate) fn fill_children(images: &mut [Image], results: Vec<Vec<DbRow>>) {
    let index: HashMap<String, usize> = images
        .iter()
        .enumerate()
        .map(|(i, img)| (img.id.clone(), i))
        .collect();
    for (table, mut rows) in results.into_iter().enumerate() {
        rows.retain(|r| !r.boolean("deleted"));
        rows.sort_by_cached_key(|r| r.int("id").unwrap_or(0));
        for row in rows {
            let Some(&i) = row.str("image_id").and_then(|id| index.get(id)) else {
                continue;
            };
            let image = &mut images[i];
            match table {
                0 => {
                    if let Some(name) = row.str("name") {
                        let value = row.str("value").unwrap_or_default().to_string();
                        image.properties.insert(name.to_string(), value);
                    }
                }
                1 => {
                    if let Some(tag) = row.str("value") {
                        if !image.tags.iter().any(|t| t == tag) {
                            image.tags.push(tag.to_string());
                        }
                    }
                }
                _ => image.locations.push(location_from_row(&row)),
            }
        }
    }
}

impl Db {
    /// Fills properties, tags and locations of `images`: three queries in one round
    /// trip to the database thread.
    pub(crate) async fn load_children(&self, images: &mut [Image]) -> Result<(), DbError> {
        if images.is_empty() {
            return Ok(());
        }
        let ids: Vec<String> = images.iter().map(|i| i.id.clone()).collect();
        // A big page is read as two halves on two connections at once: the child rows
        // are thousands of index-then-table lookups, and a second core halves the wait.
        let results = if ids.len() >= PARALLEL_PAGE {
            let (a, b) = ids.split_at(ids.len() / 2);
            let (ra, rb) = tokio::join!(
                self.fetch_batch(child_queries(a)),
                self.fetch_batch(child_queries(b))
            );
            ra?.into_iter()
                .zip(rb?)
                .map(|(mut x, y)| {
                    x.extend(y);
                    x
                })
                .collect()
        } else {
            self.fetch_batch(child_queries(&ids)).await?
        };
        fill_children(images, results);
        Ok(())
    }
}

/// Pages at least this big read their child rows in two parallel halves.
const PARALLEL_PAGE: usize = 200;
fn location_from_row(row: &DbRow) -> Location {
    // Upstream stores meta_data as JSON text.
    let metadata = row
        .text("meta_data")
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| match v {
            serde_json::Value::Object(m) => Some(m),
            _ => None,
        })
        .unwrap_or_default();
    Location {
        id: row.int("id").unwrap_or(0),
        url: row.text("value").unwrap_or_default(),
        metadata,
        status: row.text("status").unwrap_or_else(|| "active".into()),
    }
}
