//! The seeds' output forms: the image block of `show`/`details`, the ` key => value`
//! dump of `add --verbose` and `--dry-run`, and the fixed-width `index` table.

use std::collections::BTreeMap;

use glance_client::ImageMeta;
use serde_json::Value;

/// Python's `str()` of a JSON value: `True`, `None`, dicts as `{'k': 'v'}`.
pub fn python_str(value: &Value) -> String {
    match value {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(python_repr).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!("'{k}': {}", python_repr(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn python_repr(value: &Value) -> String {
    match value {
        Value::String(s) => format!("'{s}'"),
        other => python_str(other),
    }
}

/// ` %(k)30s => %(v)s` for each key in sorted order.
pub fn dump(fields: &BTreeMap<String, Value>) -> String {
    fields
        .iter()
        .map(|(k, v)| format!(" {k:>30} => {}\n", python_str(v)))
        .collect()
}

/// An image's fields and properties as one map, properties under `properties`.
pub fn as_map(meta: &ImageMeta) -> BTreeMap<String, Value> {
    let mut map: BTreeMap<String, Value> = meta.fields.clone().into_iter().collect();
    let properties: serde_json::Map<String, Value> = meta
        .properties
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    map.insert("properties".into(), Value::Object(properties));
    map
}

/// The block `show` and `details` print for one image.
pub fn image_block(host: &str, meta: &ImageMeta) -> String {
    let text = |f: &str| meta.text(f).unwrap_or_else(|| "None".into());
    let public = matches!(meta.fields.get("is_public"), Some(Value::Bool(true)));
    let size = meta.fields.get("size").and_then(Value::as_i64).unwrap_or(0);
    let mut out = format!(
        "URI: http://{host}/images/{id}\nId: {id}\nPublic: {public}\nName: {name}\nStatus: {status}\n\
         Size: {size}\nDisk format: {disk}\nContainer format: {container}\n\
         Minimum Ram Required (MB): {ram}\nMinimum Disk Required (GB): {disk_gb}\n",
        id = text("id"),
        public = if public { "Yes" } else { "No" },
        name = text("name"),
        status = text("status"),
        disk = text("disk_format"),
        container = text("container_format"),
        ram = text("min_ram"),
        disk_gb = text("min_disk"),
    );
    if let Some(owner) = meta.text("owner").filter(|o| !o.is_empty()) {
        out.push_str(&format!("Owner: {owner}\n"));
    }
    for (key, value) in &meta.properties {
        out.push_str(&format!("Property '{key}': {value}\n"));
    }
    out
}

/// Columns of the `index` table: label, width, right-aligned. The ID column is wide
/// enough for a UUID (the seeds' 16 was for integer ids).
const INDEX_COLUMNS: [(&str, usize, bool); 5] = [
    ("ID", 36, false),
    ("Name", 30, false),
    ("Disk Format", 20, false),
    ("Container Format", 20, false),
    ("Size", 14, true),
];

fn cells(values: [String; 5]) -> String {
    let line: Vec<String> = INDEX_COLUMNS
        .iter()
        .zip(values)
        .map(|((_, width, right), value)| {
            let cut: String = value.chars().take(*width).collect();
            if *right {
                format!("{cut:>width$}")
            } else {
                format!("{cut:<width$}")
            }
        })
        .collect();
    line.join(" ")
}

pub fn index_header() -> String {
    let labels = INDEX_COLUMNS.map(|(label, width, _)| format!("{label:<width$}"));
    let dashes = INDEX_COLUMNS.map(|(_, width, _)| "-".repeat(width));
    format!("{}\n{}\n", labels.join(" "), dashes.join(" "))
}

pub fn index_row(meta: &ImageMeta) -> String {
    let text = |f: &str| meta.text(f).unwrap_or_else(|| "None".into());
    format!(
        "{}\n",
        cells([
            text("id"),
            text("name"),
            text("disk_format"),
            text("container_format"),
            text("size"),
        ])
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dumps_and_blocks_read_as_the_seeds_print_them() {
        let mut fields = BTreeMap::new();
        fields.insert("container_format".to_string(), json!("ovf"));
        fields.insert("is_public".to_string(), json!(true));
        fields.insert("properties".to_string(), json!({"distro": "Ubuntu"}));
        fields.insert("deleted_at".to_string(), Value::Null);
        assert_eq!(
            dump(&fields),
            "               container_format => ovf\n                     deleted_at => None\n                      is_public => True\n                     properties => {'distro': 'Ubuntu'}\n"
        );
        let meta = ImageMeta::from_json(&json!({"id": "3", "name": "Fedora 9", "is_public": true, "status": "active",
            "size": 3040, "disk_format": "vdi", "container_format": "bare", "min_ram": 0, "min_disk": 0,
            "owner": null, "properties": {"distro": "Fedora"}})).unwrap();
        assert_eq!(
            image_block("65.114.169.29", &meta),
            "URI: http://65.114.169.29/images/3\nId: 3\nPublic: Yes\nName: Fedora 9\nStatus: active\nSize: 3040\n\
             Disk format: vdi\nContainer format: bare\nMinimum Ram Required (MB): 0\nMinimum Disk Required (GB): 0\n\
             Property 'distro': Fedora\n"
        );
        let row = index_row(&meta);
        assert_eq!(row.len(), 36 + 30 + 20 + 20 + 14 + 4 + 1);
        assert!(row.ends_with("          3040\n"));
        assert!(index_header().starts_with("ID                                   Name"));
    }
}
