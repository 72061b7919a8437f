//! HTTP ends here: the router, thin handlers, and the mapping of errors to upstream's
//! statuses and bodies.

mod error;
mod handlers;
mod middleware;
mod python_json;
mod router;
mod v1_views;
mod views;

pub use error::{render_error, ApiError, BodyTemplate, ErrorBody, ErrorFormat};
pub use router::{build_app, build_registry_app, AppState};
pub use views::{image_json, ImageViewOptions};
