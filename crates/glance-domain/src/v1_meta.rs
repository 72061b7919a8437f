//! Image metadata as the legacy v1 API carries it in request headers
//! (`x-image-meta-<field>` and `x-image-meta-property-<key>`), parsed and coerced with
//! upstream's rules (Queens `get_image_meta_from_headers` + `validate_image_meta`).

use std::collections::BTreeMap;

const META_PREFIX: &str = "x-image-meta-";
const PROPERTY_PREFIX: &str = "x-image-meta-property-";

/// The `x-image-meta-<field>` names upstream accepts; any other is "Bad header".
pub const V1_HEADER_FIELDS: &[&str] = &[
    "location",
    "size",
    "is_public",
    "disk_format",
    "container_format",
    "name",
    "status",
    "copy_from",
    "uri",
    "checksum",
    "created_at",
    "updated_at",
    "deleted_at",
    "min_ram",
    "min_disk",
    "owner",
    "store",
    "id",
    "protected",
    "deleted",
    "virtual_size",
];

/// The formats whose disk and container format must agree.
const AMAZON_FORMATS: &[&str] = &["aki", "ari", "ami"];

/// What a v1 create or update request says about the image. A field that was sent
/// with an empty value is present as `None`, as upstream keeps it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct V1Meta {
    /// Whitelisted text fields as sent (the typed ones below are also kept here).
    pub fields: BTreeMap<&'static str, Option<String>>,
    /// Custom properties, keys lower-cased with `-` turned into `_`.
    pub properties: BTreeMap<String, Option<String>>,
    pub size: Option<i64>,
    pub min_disk: Option<i64>,
    pub min_ram: Option<i64>,
    /// `Some(None)` when sent as the literal `None`.
    pub virtual_size: Option<Option<i64>>,
    pub is_public: Option<bool>,
    pub protected: Option<bool>,
    pub deleted: Option<bool>,
}

impl V1Meta {
    /// Parses the request's headers (name, value); the first error is upstream's 400
    /// message.
    pub fn from_headers<'a>(
        headers: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<V1Meta, String> {
        let mut meta = V1Meta::default();
        for (name, value) in headers {
            let key = name.to_ascii_lowercase();
            let value = Some(value.to_string()).filter(|v| !v.is_empty());
            if let Some(prop) = key.strip_prefix(PROPERTY_PREFIX) {
                meta.properties.insert(prop.replace('-', "_"), value);
            } else if let Some(field) = key.strip_prefix(META_PREFIX) {
                let field = field.replace('-', "_");
                let Some(known) = V1_HEADER_FIELDS.iter().find(|f| **f == field) else {
                    return Err(format!("Bad header: {key}"));
                };
                meta.fields.insert(known, value);
            }
        }
        meta.size = meta.int_field("size")?;
        meta.min_disk = meta.int_field("min_disk")?;
        meta.min_ram = meta.int_field("min_ram")?;
        meta.virtual_size = match meta.text("virtual_size") {
            Some("None") => Some(None),
            _ => meta.int_field("virtual_size")?.map(Some),
        };
        meta.is_public = meta.bool_field("is_public");
        meta.protected = meta.bool_field("protected");
        meta.deleted = meta.bool_field("deleted");
        Ok(meta)
    }

    /// Whether the header for `field` was sent (even empty).
    pub fn has(&self, field: &str) -> bool {
        self.fields.contains_key(field)
    }

    /// The non-empty value of `field`.
    pub fn text(&self, field: &str) -> Option<&str> {
        self.fields.get(field).and_then(|v| v.as_deref())
    }

    fn int_field(&self, field: &str) -> Result<Option<i64>, String> {
        if !self.has(field) {
            return Ok(None);
        }
        let raw = self.text(field).unwrap_or("None");
        // Python's int(): surrounding whitespace and a sign are fine, "1.0" is not.
        let parsed = raw.trim().parse::<i64>().map_err(|_| {
            format!(
                "Invalid value '{raw}' for parameter '{field}': Cannot convert image {field} \
                 '{raw}' to an integer."
            )
        })?;
        if parsed < 0 {
            return Err(format!(
                "Invalid value '{raw}' for parameter '{field}': Cannot be a negative value."
            ));
        }
        Ok(Some(parsed))
    }

    /// oslo's non-strict `bool_from_string`: anything but a "true" spelling is false.
    fn bool_field(&self, field: &str) -> Option<bool> {
        self.has(field)
            .then(|| self.text(field).is_some_and(is_true_spelling))
    }

    /// Upstream's `validate_image_meta`: known formats, the aki/ari/ami pairing (filling
    /// the missing one of the pair), timestamps, name and checksum lengths.
    pub fn validate(
        &mut self,
        disk_formats: &[String],
        container_formats: &[String],
    ) -> Result<(), String> {
        for (field, allowed, what) in [
            ("disk_format", disk_formats, "disk"),
            ("container_format", container_formats, "container"),
        ] {
            if self.has(field) {
                let value = self.text(field).unwrap_or("None");
                if !allowed.iter().any(|f| f == value) {
                    return Err(format!("Invalid {what} format '{value}' for image."));
                }
            }
        }
        let disk = self.text("disk_format").map(str::to_string);
        let container = self.text("container_format").map(str::to_string);
        let amazon = |f: &Option<String>| f.as_deref().is_some_and(|f| AMAZON_FORMATS.contains(&f));
        if amazon(&disk) || amazon(&container) {
            match (&disk, &container) {
                (Some(d), None) => {
                    self.fields.insert("container_format", Some(d.clone()));
                }
                (None, Some(c)) => {
                    self.fields.insert("disk_format", Some(c.clone()));
                }
                (Some(d), Some(c)) if d != c => {
                    return Err(
                        "Invalid mix of disk and container formats. When setting a disk or \
                                container format to one of 'aki', 'ari', or 'ami', the container \
                                and disk formats must match."
                            .into(),
                    )
                }
                _ => {}
            }
        }
        for field in ["created_at", "updated_at", "deleted_at"] {
            if let Some(value) = self.text(field) {
                if !looks_like_iso8601(value) {
                    return Err(format!("Invalid time format for {field}."));
                }
            }
        }
        if let Some(name) = self.text("name") {
            let length = name.chars().count();
            if length > 255 {
                return Err(format!("Image name too long: {length}"));
            }
        }
        if let Some(checksum) = self.text("checksum") {
            if checksum.chars().count() > 32 {
                return Err(format!(
                    "Invalid checksum '{checksum}': can't exceed 32 characters"
                ));
            }
        }
        Ok(())
    }
}

/// The spellings oslo's `bool_from_string` takes as true.
pub fn is_true_spelling(value: &str) -> bool {
    matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "1" | "t" | "true" | "on" | "y" | "yes"
    )
}

/// A date (YYYY-MM-DD, year 1900 or later) optionally followed by a time: the shape
/// `iso8601.parse_date` accepts for the timestamps v1 clients send.
fn looks_like_iso8601(value: &str) -> bool {
    let date = value.get(..10).unwrap_or("");
    let bytes = date.as_bytes();
    let digits = |r: std::ops::Range<usize>| bytes[r].iter().all(u8::is_ascii_digit);
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return false;
    }
    if !(digits(0..4) && digits(5..7) && digits(8..10)) {
        return false;
    }
    let year: u32 = date[..4].parse().unwrap_or(0);
    let month: u32 = date[5..7].parse().unwrap_or(0);
    let day: u32 = date[8..10].parse().unwrap_or(0);
    let rest = &value[10..];
    year >= 1900
        && (1..=12).contains(&month)
        && (1..=31).contains(&day)
        && (rest.is_empty() || rest.starts_with('T') || rest.starts_with(' '))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(headers: &[(&str, &str)]) -> Result<V1Meta, String> {
        V1Meta::from_headers(headers.iter().copied())
    }

    fn formats(list: &str) -> Vec<String> {
        list.split(',').map(String::from).collect()
    }

    #[test]
    fn names_are_lower_cased_and_dashes_become_underscores() {
        let meta = parse(&[
            ("X-Image-Meta-Disk-Format", "raw"),
            ("x-image-meta-container_format", "bare"),
            ("X-Image-Meta-Property-My-Prop", "Value"),
            ("x-image-meta-property-empty", ""),
            ("content-type", "application/octet-stream"),
        ])
        .unwrap();
        assert_eq!(meta.text("disk_format"), Some("raw"));
        assert_eq!(meta.text("container_format"), Some("bare"));
        assert_eq!(meta.properties["my_prop"].as_deref(), Some("Value"));
        assert_eq!(meta.properties["empty"], None);
        assert_eq!(meta.fields.len(), 2);
    }

    #[test]
    fn an_unknown_field_is_a_bad_header() {
        assert_eq!(
            parse(&[("X-Image-Meta-Foo-Bar", "1")]).unwrap_err(),
            "Bad header: x-image-meta-foo-bar"
        );
    }

    #[test]
    fn integers_follow_python_int() {
        let meta = parse(&[
            ("x-image-meta-size", " +42 "),
            ("x-image-meta-min_ram", "0"),
        ])
        .unwrap();
        assert_eq!(
            (meta.size, meta.min_ram, meta.min_disk),
            (Some(42), Some(0), None)
        );
        assert_eq!(
            parse(&[("x-image-meta-min_disk", "1.0")]).unwrap_err(),
            "Invalid value '1.0' for parameter 'min_disk': Cannot convert image min_disk '1.0' to \
             an integer."
        );
        assert_eq!(
            parse(&[("x-image-meta-size", "-1")]).unwrap_err(),
            "Invalid value '-1' for parameter 'size': Cannot be a negative value."
        );
        let meta = parse(&[("x-image-meta-virtual_size", "None")]).unwrap();
        assert_eq!(meta.virtual_size, Some(None));
    }

    #[test]
    fn booleans_are_true_only_for_true_spellings() {
        for (raw, expected) in [
            ("True", true),
            ("yes", true),
            ("1", true),
            ("None", false),
            ("false", false),
            ("", false),
        ] {
            let meta = parse(&[("x-image-meta-is_public", raw)]).unwrap();
            assert_eq!(meta.is_public, Some(expected), "{raw:?}");
        }
        assert_eq!(parse(&[]).unwrap().is_public, None);
    }

    #[test]
    fn formats_are_checked_and_amazon_pairs_filled() {
        let disks = formats("raw,qcow2,aki,ari,ami");
        let containers = formats("bare,ovf,aki,ari,ami");
        let mut meta = parse(&[("x-image-meta-disk_format", "aki")]).unwrap();
        meta.validate(&disks, &containers).unwrap();
        assert_eq!(meta.text("container_format"), Some("aki"));
        let mut meta = parse(&[("x-image-meta-disk_format", "vpc")]).unwrap();
        assert_eq!(
            meta.validate(&disks, &containers).unwrap_err(),
            "Invalid disk format 'vpc' for image."
        );
        let mut meta = parse(&[("x-image-meta-container_format", "")]).unwrap();
        assert_eq!(
            meta.validate(&disks, &containers).unwrap_err(),
            "Invalid container format 'None' for image."
        );
        let mut meta = parse(&[
            ("x-image-meta-disk_format", "ami"),
            ("x-image-meta-container_format", "bare"),
        ])
        .unwrap();
        assert!(meta
            .validate(&disks, &containers)
            .unwrap_err()
            .starts_with("Invalid mix of disk and container formats."));
    }

    #[test]
    fn names_checksums_and_times_are_bounded() {
        let none: Vec<String> = Vec::new();
        let long = "n".repeat(256);
        let mut meta = parse(&[("x-image-meta-name", long.as_str())]).unwrap();
        assert_eq!(
            meta.validate(&none, &none).unwrap_err(),
            "Image name too long: 256"
        );
        let mut meta = parse(&[("x-image-meta-checksum", &"c".repeat(33))]).unwrap();
        assert!(meta
            .validate(&none, &none)
            .unwrap_err()
            .starts_with("Invalid checksum"));
        let mut meta = parse(&[("x-image-meta-created_at", "yesterday")]).unwrap();
        assert_eq!(
            meta.validate(&none, &none).unwrap_err(),
            "Invalid time format for created_at."
        );
        let mut meta = parse(&[("x-image-meta-created_at", "2011-09-22T10:11:12")]).unwrap();
        meta.validate(&none, &none).unwrap();
    }
}
