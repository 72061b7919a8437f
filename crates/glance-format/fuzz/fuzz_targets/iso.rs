//! The iso parser alone. Its volume descriptor sits at 32 KiB, out of reach of small
//! inputs, so the input (after the chunk-size bytes) is placed there, after zeros.
#![no_main]

mod common;

use glance_format::DiskFormat;
use libfuzzer_sys::fuzz_target;

const DESCRIPTOR_AT: usize = 32 * 1024;

fuzz_target!(|input: &[u8]| {
    let (chunk, data) = common::split_chunk_size(input);
    let mut stream = vec![0; DESCRIPTOR_AT];
    stream.extend_from_slice(data);
    common::check(&[DiskFormat::Iso], chunk, &stream);
});
