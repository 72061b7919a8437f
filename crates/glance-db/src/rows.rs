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

impl Db {
    /// The non-deleted rows of a child table for these images, in insertion order.
    ///
    /// The query is driven by `image_id` alone on purpose: with `deleted = 0` in the
    /// WHERE clause SQLite's planner (without statistics) prefers the `deleted` index,
    /// which every row matches, and a show became a scan of the whole table. Deleted
    /// rows are few and are dropped here instead; ordering by id is done here too so
    /// that no engine is tempted to walk the primary key.
    async fn live_children(
        &self,
        table: &str,
        columns: &str,
        ids: &[String],
    ) -> Result<Vec<DbRow>, DbError> {
        let mut q = SqlBuf::new(&format!(
            "SELECT id, image_id, deleted, {columns} FROM {table} WHERE image_id IN "
        ));
        q.bind_list(ids.iter());
        let mut rows: Vec<DbRow> = self
            .fetch(&q)
            .await?
            .into_iter()
            .filter(|r| !r.boolean("deleted"))
            .collect();
        rows.sort_by_key(|r| r.int("id").unwrap_or(0));
        Ok(rows)
    }

    /// Fills properties, tags and locations of `images` with three queries in all.
    pub(crate) async fn load_children(&self, images: &mut [Image]) -> Result<(), DbError> {
        if images.is_empty() {
            return Ok(());
        }
        let index: HashMap<String, usize> = images
            .iter()
            .enumerate()
            .map(|(i, img)| (img.id.clone(), i))
            .collect();
        let ids: Vec<String> = images.iter().map(|i| i.id.clone()).collect();

        for row in self
            .live_children("image_properties", "name, value", &ids)
            .await?
        {
            if let (Some(i), Some(name)) = (
                row.text("image_id").and_then(|id| index.get(&id)),
                row.text("name"),
            ) {
                images[*i]
                    .properties
                    .insert(name, row.text("value").unwrap_or_default());
            }
        }
        for row in self.live_children("image_tags", "value", &ids).await? {
            if let (Some(i), Some(tag)) = (
                row.text("image_id").and_then(|id| index.get(&id)),
                row.text("value"),
            ) {
                if !images[*i].tags.contains(&tag) {
                    images[*i].tags.push(tag);
                }
            }
        }
        let locations = self
            .live_children("image_locations", "value, meta_data, status", &ids)
            .await?;
        for row in locations {
            if let Some(i) = row.text("image_id").and_then(|id| index.get(&id)) {
                images[*i].locations.push(location_from_row(&row));
            }
        }
        Ok(())
    }
}

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
