//! Pure types and rules of the image service: no I/O, no database, no HTTP.

pub mod image;
pub mod patch;
pub mod python_json;
pub mod schema;
pub mod status;
pub mod v1_meta;
pub mod visibility;

pub use image::{Image, Location, Member};
pub use status::{ImageStatus, UnknownValue};
pub use visibility::{MemberStatus, Visibility};
