//! The vhdx parser alone. Its region table sits at 192 KiB, out of reach of small
//! inputs, so the input (after the chunk-size bytes) is laid out as a VHDX:
//!
//! - bytes 0..4: a selector; the metadata region goes at 256 KiB + selector % 64 KiB;
//! - the next 256 bytes: the start of the region table (header and 7 entries) at
//!   192 KiB; the rest of its 64 KiB is zeros;
//! - the rest: the metadata region (its table, then its items).
//!
//! The stream starts with `vhdxfile` and runs to the end of the metadata bytes (at least
//! to the end of the region table). The region table's metadata entry is left to the
//! fuzzer: the seeds (seed.sh) point it at the selected offset, and mutations point it
//! elsewhere.
#![no_main]

mod common;

use glance_format::DiskFormat;
use libfuzzer_sys::fuzz_target;

const REGION_TABLE_AT: usize = 192 * 1024;
const REGION_TABLE_END: usize = 256 * 1024;
const REGION_TABLE_INPUT: usize = 256;

fuzz_target!(|input: &[u8]| {
    let (chunk, data) = common::split_chunk_size(input);
    let (selector, data) = common::split_prefix::<4>(data);
    let metadata_at = REGION_TABLE_END + (u32::from_le_bytes(selector) % 65536) as usize;
    let (table, metadata) = data.split_at(data.len().min(REGION_TABLE_INPUT));

    let mut stream = vec![0; REGION_TABLE_END];
    stream[..8].copy_from_slice(b"vhdxfile");
    stream[REGION_TABLE_AT..][..table.len()].copy_from_slice(table);
    if !metadata.is_empty() {
        stream.resize(metadata_at, 0);
        stream.extend_from_slice(metadata);
    }
    common::check(&[DiskFormat::Vhdx], chunk, &stream);
});
