//! VirtualBox VDI: a little-endian 512-byte header with its signature at 0x40 and the
//! disk size at 0x170.

use super::header::FixedHeader;
use crate::region::{le_u32, le_u64};
use crate::DiskFormat;

const SIGNATURE: u32 = 0xbeda_107f;

pub(crate) struct Vdi;

impl FixedHeader for Vdi {
    const FORMAT: DiskFormat = DiskFormat::Vdi;
    const LEN: usize = 512;

    fn matches(header: &[u8], complete: bool) -> bool {
        complete && le_u32(header, 0x40) == Some(SIGNATURE)
    }

    fn virtual_size(header: &[u8], _total: u64) -> Result<u64, String> {
        Ok(le_u64(header, 0x170).unwrap_or(0))
    }
}
