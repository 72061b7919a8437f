//! ISO 9660 and UDF: the first 16 sectors of 2 KiB are free for the system (boot code,
//! or a partition table on hybrid images); the first volume descriptor follows at
//! 32 KiB. A primary volume descriptor gives the block count and block size.

use super::header::FixedHeader;
use crate::region::{le_u16, le_u32};
use crate::DiskFormat;

const SIGNATURES: [&[u8]; 3] = [b"CD001", b"NSR02", b"NSR03"];
const PRIMARY_VOLUME_DESCRIPTOR: u8 = 1;

pub(crate) struct Iso;

impl FixedHeader for Iso {
    const FORMAT: DiskFormat = DiskFormat::Iso;
    const AT: u64 = 32 * 1024;
    const LEN: usize = 2048;

    fn matches(descriptor: &[u8], complete: bool) -> bool {
        complete && SIGNATURES.contains(&&descriptor[1..6])
    }

    fn virtual_size(descriptor: &[u8], _total: u64) -> Result<u64, String> {
        if descriptor[0] != PRIMARY_VOLUME_DESCRIPTOR {
            return Ok(0);
        }
        // Both fields are stored twice (little- then big-endian); the first half will do.
        let blocks = le_u32(descriptor, 80).unwrap_or(0) as u64;
        let block_size = le_u16(descriptor, 128).unwrap_or(0) as u64;
        Ok(blocks * block_size)
    }
}
