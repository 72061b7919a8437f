//! The task schema, published in minimal form; the task list leaves out the bulky
//! `input`, `result` and `message` members.

use serde_json::{json, Value};

use super::forms::EntitySchema;
use super::image::UUID_PATTERN;

/// Task types a task document may name.
pub(crate) const TASK_TYPES: [&str; 3] = ["import", "api_image_import", "location_import"];

/// Statuses of a task.
pub(crate) const TASK_STATUSES: [&str; 4] = ["pending", "processing", "success", "failure"];

fn task_properties() -> Value {
    json!({
        "id": {"description": "Identifier of the task", "pattern": UUID_PATTERN, "type": "string"},
        "type": {"description": "Kind of work the task performs", "enum": TASK_TYPES, "type": "string"},
        "status": {"description": "Progress state of the task", "enum": TASK_STATUSES, "type": "string"},
        "input": {"description": "Parameters of the task (a JSON object)", "type": ["null", "object"]},
        "result": {"description": "Outcome of the task (a JSON object)", "type": ["null", "object"]},
        "owner": {"description": "Project that owns the task", "type": "string"},
        "message": {"description": "Human-readable note, usually explaining a failure", "type": "string"},
        "image_id": {"description": "Image the task works on", "type": "string"},
        "request_id": {"description": "Identifier of the request that created the task", "type": "string"},
        "user_id": {"description": "User who created the task", "type": "string"},
        "expires_at": {"description": "When the task record becomes eligible for removal",
                       "type": ["null", "string"]},
        "created_at": {"description": "When the task was created", "type": "string"},
        "updated_at": {"description": "When the task was last changed", "type": "string"},
        "self": {"readOnly": true, "type": "string"},
        "schema": {"readOnly": true, "type": "string"},
    })
}

/// The full task schema (also what a task-creation body is validated against).
pub(crate) fn task_schema() -> EntitySchema {
    EntitySchema::new("task", task_properties())
}

/// The item schema of the task list.
pub(crate) fn task_stub_schema() -> EntitySchema {
    let mut schema = task_schema();
    for hidden in ["input", "result", "message"] {
        schema.properties.shift_remove(hidden);
    }
    schema
}
