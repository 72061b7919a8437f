//! Connectix/Microsoft VHD (qemu's "vpc"): a big-endian 512-byte footer, copied to the
//! start of dynamic disks; the virtual size is its "original size" field. A fixed VHD
//! keeps its footer only at the end, and is raw to qemu and to us.

use super::header::FixedHeader;
use crate::region::be_u64;
use crate::DiskFormat;

pub(crate) struct Vhd;

impl FixedHeader for Vhd {
    const FORMAT: DiskFormat = DiskFormat::Vhd;
    const LEN: usize = 512;

    /// As upstream, the magic alone decides, so a short file that starts like a VHD is
    /// a VHD that cannot be checked (and is refused) rather than raw data.
    fn matches(header: &[u8], _complete: bool) -> bool {
        header.starts_with(b"conectix")
    }

    fn virtual_size(header: &[u8], _total: u64) -> Result<u64, String> {
        Ok(be_u64(header, 40).unwrap_or(0))
    }
}
