//! QEMU enhanced disk: recognised only to be refused (no hypervisor we serve uses it,
//! and it can name a backing file).

use super::failure;
use super::header::FixedHeader;
use crate::region::le_u64;
use crate::{DiskFormat, SafetyFailure};

pub(crate) struct Qed;

impl FixedHeader for Qed {
    const FORMAT: DiskFormat = DiskFormat::Qed;
    const LEN: usize = 512;

    fn matches(header: &[u8], complete: bool) -> bool {
        complete && header.starts_with(b"QED\0")
    }

    fn virtual_size(header: &[u8], _total: u64) -> Result<u64, String> {
        // image_size, little-endian, after magic, three u32 sizes and four u64 fields.
        Ok(le_u64(header, 48).unwrap_or(0))
    }

    fn safety_failures(_header: &[u8]) -> Vec<SafetyFailure> {
        vec![failure("banned", "This file format is not allowed")]
    }
}
