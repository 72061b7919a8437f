//! Image data stores: one streaming interface, one hashing pipeline shared by every
//! driver, and the drivers themselves.

#[cfg(feature = "testing")]
pub mod behaviour;
mod driver;
mod error;
pub mod filesystem;
pub mod hashing;
pub mod http;
pub mod options;
mod percent;
#[cfg(feature = "rbd")]
pub mod rbd;
mod redact;
pub mod registry;
pub mod remote;
pub mod s3;
pub mod swift;
pub mod upload;

pub use driver::{
    ByteRange, ObjectReader, Store, StoreCaller, StoreInfo, StoreWriter, UploadTarget,
};
pub use error::StoreError;
pub use filesystem::FilesystemStore;
pub use hashing::{Digests, HashAlgo, HashingPipeline};
pub use options::StoreOptions;
pub use redact::redact_location;
pub use upload::{write_stream, ChunkObserver, UploadLimits, WrittenObject};
