//! The vhd parser alone: the input (after the chunk-size bytes) is the stream.
#![no_main]

mod common;

use glance_format::DiskFormat;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let (chunk, stream) = common::split_chunk_size(input);
    common::check(&[DiskFormat::Vhd], chunk, stream);
});
