//! The image member schema, published in minimal form.

use serde_json::json;

use super::forms::EntitySchema;
use super::image::UUID_PATTERN;

/// Statuses of an image membership.
pub(crate) const MEMBER_STATUSES: [&str; 3] = ["pending", "accepted", "rejected"];

pub(crate) fn member_schema() -> EntitySchema {
    EntitySchema::new(
        "member",
        json!({
            "member_id": {"type": "string", "description": "Project the image is shared with"},
            "image_id": {"type": "string", "description": "Identifier of the shared image", "pattern": UUID_PATTERN},
            "created_at": {"type": "string", "description": "When the membership was created"},
            "updated_at": {"type": "string", "description": "When the membership was last changed"},
            "status": {"type": "string", "description": "Whether the member accepted the image",
                       "enum": MEMBER_STATUSES},
            "schema": {"readOnly": true, "type": "string"},
        }),
    )
}
