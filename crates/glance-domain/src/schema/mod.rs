//! JSON schemas served under /v2/schemas and the validation of requests against them.
//!
//! [`Schemas::build`] renders every document once at startup (image schema from the
//! configured formats and the operator's additional properties); handlers then serve the
//! pre-serialized text and validate request bodies with the same definitions.

use std::sync::Arc;

use serde_json::{Map, Value};

mod failure;
mod forms;
mod image;
mod member;
mod metadefs;
mod pattern;
mod pyrepr;
pub(crate) use pyrepr::float_repr;
mod task;
mod validate;

#[cfg(test)]
mod tests;

pub use image::default_extra_properties;
pub use validate::Validator;

use forms::{collection_full, collection_minimal, Holder};

/// What the image schema depends on in the configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct ImageSchemaConfig {
    /// `[image_format] disk_formats`.
    pub disk_formats: Vec<String>,
    /// `[image_format] container_formats`.
    pub container_formats: Vec<String>,
    /// The operator's parsed `schema-image.json`: either a flat `{name: definition}` map or
    /// `{"properties": {...}, "required": [...]}`. `None` serves the definitions upstream
    /// ships in that file (see [`default_extra_properties`]); `Some({})` serves none.
    pub extra_properties: Option<Value>,
}

impl Default for ImageSchemaConfig {
    /// Upstream's default format lists and its shipped additional properties.
    fn default() -> Self {
        let strings = |list: &[&str]| list.iter().map(|s| s.to_string()).collect();
        ImageSchemaConfig {
            disk_formats: strings(&[
                "ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop",
            ]),
            container_formats: strings(&[
                "ami",
                "ari",
                "aki",
                "bare",
                "ovf",
                "ova",
                "docker",
                "compressed",
            ]),
            extra_properties: None,
        }
    }
}

/// The schemas could not be built from the configuration (a startup error).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    /// Custom properties (comma-separated names) that redefine base properties.
    #[error("Unable to load schema: custom properties ({0}) conflict with base properties")]
    Conflict(String),
    /// A malformed operator document or an unusable pattern.
    #[error("Unable to load schema: {0}")]
    Invalid(String),
}

/// A request body does not satisfy a schema; the text is meant for a 400 response, e.g.
/// `Provided object does not match schema 'image': 'bogus' is not one of [None, 'ami', ...]`
/// followed by where in the schema and the instance the failure is.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SchemaViolation(pub String);

/// Metadef request bodies that are checked against a schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetadefBody {
    /// Create or update a namespace.
    Namespace,
    /// Create or update an object.
    Object,
    /// Create or update a property (`name` required).
    Property,
    /// One property embedded in an object being created (`name` not required).
    ObjectProperty,
    /// Create a resource type association.
    ResourceTypeAssociation,
    /// Update a tag.
    Tag,
    /// Create several tags: `{"tags": [{"name": ...}]}`.
    TagList,
}

/// A published document and its serialized text.
#[derive(Debug)]
struct Document {
    value: Value,
    text: String,
}

impl Document {
    fn new(value: Value) -> Document {
        let text = serde_json::to_string(&value).unwrap_or_default();
        Document { value, text }
    }
}

/// Names of the metadef documents, as in `/v2/schemas/metadefs/<name>`.
pub const METADEF_SCHEMA_NAMES: [&str; 10] = [
    "namespace",
    "namespaces",
    "resource_type",
    "resource_types",
    "property",
    "properties",
    "object",
    "objects",
    "tag",
    "tags",
];

#[derive(Debug)]
struct Inner {
    image: Document,
    images: Document,
    member: Document,
    members: Document,
    task: Document,
    tasks: Document,
    metadefs: Vec<(&'static str, Document)>,
    image_validator: Validator,
    location_validator: Validator,
    task_validator: Validator,
    metadef_validators: Vec<(MetadefBody, Validator)>,
}

/// Every schema document, built once; cloning shares them.
#[derive(Clone, Debug)]
pub struct Schemas(Arc<Inner>);

impl Schemas {
    /// Renders all documents; fails when an operator property redefines a base property,
    /// the operator document is malformed, or a pattern is not a usable regex.
    pub fn build(cfg: &ImageSchemaConfig) -> Result<Schemas, SchemaError> {
        let image = image::image_schema(cfg)?;
        let member = member::member_schema();
        let task = task::task_schema();
        let namespace = metadefs::namespace_schema();
        let object = metadefs::object_schema();
        let resource_type = metadefs::resource_type_schema();
        let tag = metadefs::tag_schema();
        let metadef_docs = vec![
            ("namespace", namespace.full()),
            (
                "namespaces",
                collection_full("namespaces", Holder::List, &namespace),
            ),
            ("resource_type", resource_type.full()),
            (
                "resource_types",
                collection_full("resource_type_associations", Holder::List, &resource_type),
            ),
            ("property", metadefs::property_schema(true).full()),
            (
                "properties",
                collection_full("properties", Holder::Map, &metadefs::property_schema(false)),
            ),
            ("object", object.full()),
            ("objects", collection_full("objects", Holder::List, &object)),
            ("tag", tag.full()),
            ("tags", collection_full("tags", Holder::List, &tag)),
        ];
        let metadef_validators = vec![
            (MetadefBody::Namespace, Validator::new(namespace.full())?),
            (MetadefBody::Object, Validator::new(object.full())?),
            (
                MetadefBody::Property,
                Validator::new(metadefs::property_schema(true).full())?,
            ),
            (
                MetadefBody::ObjectProperty,
                Validator::new(metadefs::property_schema(false).full())?,
            ),
            (
                MetadefBody::ResourceTypeAssociation,
                Validator::new(resource_type.full())?,
            ),
            (MetadefBody::Tag, Validator::new(tag.full())?),
            (
                MetadefBody::TagList,
                Validator::new(metadefs::tag_list_schema().full())?,
            ),
        ];
        let inner = Inner {
            image: Document::new(image.full()),
            images: Document::new(collection_full("images", Holder::List, &image)),
            member: Document::new(member.minimal()),
            members: Document::new(collection_minimal("members", Holder::List, &member)),
            task: Document::new(task.minimal()),
            tasks: Document::new(collection_minimal(
                "tasks",
                Holder::List,
                &task::task_stub_schema(),
            )),
            metadefs: metadef_docs
                .into_iter()
                .map(|(n, v)| (n, Document::new(v)))
                .collect(),
            image_validator: Validator::new(image.full())?,
            location_validator: Validator::new(image::location_schema().full())?,
            task_validator: Validator::new(task.full())?,
            metadef_validators,
        };
        Ok(Schemas(Arc::new(inner)))
    }

    /// `GET /v2/schemas/image`.
    pub fn image(&self) -> &Value {
        &self.0.image.value
    }

    /// `GET /v2/schemas/images`.
    pub fn images(&self) -> &Value {
        &self.0.images.value
    }

    /// `GET /v2/schemas/member`.
    pub fn member(&self) -> &Value {
        &self.0.member.value
    }

    /// `GET /v2/schemas/members`.
    pub fn members(&self) -> &Value {
        &self.0.members.value
    }

    /// `GET /v2/schemas/task`.
    pub fn task(&self) -> &Value {
        &self.0.task.value
    }

    /// `GET /v2/schemas/tasks`.
    pub fn tasks(&self) -> &Value {
        &self.0.tasks.value
    }

    /// `GET /v2/schemas/metadefs/<name>` for a name in [`METADEF_SCHEMA_NAMES`].
    pub fn metadef(&self, name: &str) -> Option<&Value> {
        self.metadef_document(name).map(|d| &d.value)
    }

    fn metadef_document(&self, name: &str) -> Option<&Document> {
        self.0
            .metadefs
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, d)| d)
    }

    fn document(&self, path: &str) -> Option<&Document> {
        let inner = &*self.0;
        match path {
            "image" => Some(&inner.image),
            "images" => Some(&inner.images),
            "member" => Some(&inner.member),
            "members" => Some(&inner.members),
            "task" => Some(&inner.task),
            "tasks" => Some(&inner.tasks),
            _ => self.metadef_document(path.strip_prefix("metadefs/")?),
        }
    }

    /// The document at `/v2/schemas/<path>` (`image`, ..., `metadefs/namespace`, ...).
    pub fn get(&self, path: &str) -> Option<&Value> {
        self.document(path).map(|d| &d.value)
    }

    /// The serialized JSON of the document at `/v2/schemas/<path>`, ready to send.
    pub fn get_json(&self, path: &str) -> Option<&str> {
        self.document(path).map(|d| d.text.as_str())
    }

    /// Checks an image-create body, or `{key: value}` of a PATCH add/replace, against the
    /// image schema (types, enums, patterns, lengths, extra properties being strings, and
    /// the operator's `required` list). Read-only and reserved keys are not checked here.
    pub fn validate_image(&self, obj: &Map<String, Value>) -> Result<(), SchemaViolation> {
        self.0.image_validator.validate(&Value::Object(obj.clone()))
    }

    /// Checks the body of the add-location call (2.17), validated as `{"add_location": body}`.
    pub fn validate_location(&self, body: &Value) -> Result<(), SchemaViolation> {
        let mut wrapped = Map::new();
        wrapped.insert("add_location".into(), body.clone());
        self.0.location_validator.validate(&Value::Object(wrapped))
    }

    /// Checks a task-creation body against the full task schema (no unknown members).
    pub fn validate_task(&self, body: &Value) -> Result<(), SchemaViolation> {
        self.0.task_validator.validate(body)
    }

    /// Checks a metadef request body.
    pub fn validate_metadef(&self, kind: MetadefBody, body: &Value) -> Result<(), SchemaViolation> {
        let validator = self
            .0
            .metadef_validators
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, v)| v);
        match validator {
            Some(v) => v.validate(body),
            None => Ok(()),
        }
    }
}
