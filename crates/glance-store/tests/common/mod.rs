//! Helpers shared by the store test files.
#![allow(dead_code)] // each test binary uses a different subset

use std::path::Path;

use bytes::Bytes;
use glance_store::{FilesystemStore, StoreInfo};

pub const IMAGE_ID: &str = "6d1c6bc8-7b36-4b2b-9d3e-2e1b2f6f0a11";

pub fn store(dir: &Path) -> FilesystemStore {
    let info = StoreInfo {
        id: "file".into(),
        store_type: "file".into(),
        ..StoreInfo::default()
    };
    FilesystemStore::new(info, dir.to_path_buf()).expect("store opens")
}

/// Every entry in `dir`, dot files (upload temp files) included, sorted.
pub fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read datadir")
        .map(|e| {
            e.expect("dir entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

/// Splits `data` into `Ok` chunks of `size` bytes (the last may be shorter).
pub fn chunks(data: &[u8], size: usize) -> Vec<Result<Bytes, String>> {
    data.chunks(size)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect()
}

pub fn md5_hex(data: &[u8]) -> String {
    use md5::Digest;
    hex(&md5::Md5::digest(data))
}

pub fn sha512_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex(&sha2::Sha512::digest(data))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
