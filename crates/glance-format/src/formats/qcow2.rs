//! QEMU copy-on-write v2/v3. The big-endian header (first 104 bytes) gives the
//! virtual size; three fields decide safety: the backing-file offset (a backing file
//! makes the hypervisor open another path), the external data-file feature (same), and
//! incompatible feature bits we do not know.
//! Reference: qemu's docs/interop/qcow2.txt.

use super::failure;
use super::header::FixedHeader;
use crate::region::{be_u32, be_u64};
use crate::{DiskFormat, SafetyFailure};

const MAGIC: &[u8] = b"QFI\xfb";
const BACKING_FILE_OFFSET: usize = 0x08;
const SIZE: usize = 0x18;
const INCOMPATIBLE_FEATURES: usize = 0x48;
/// Bit 2 of the incompatible features: the guest data lives in an external file.
const FEATURE_EXTERNAL_DATA_FILE: u64 = 1 << 2;
/// Bits 0-3 (dirty, corrupt, external data file, compression type) are the ones
/// upstream knows; anything above is refused.
const KNOWN_FEATURES: u64 = 0x0F;

pub(crate) struct Qcow2;

impl FixedHeader for Qcow2 {
    const FORMAT: DiskFormat = DiskFormat::Qcow2;
    const LEN: usize = 512;

    fn matches(header: &[u8], complete: bool) -> bool {
        complete && header.starts_with(MAGIC)
    }

    fn virtual_size(header: &[u8], _total: u64) -> Result<u64, String> {
        Ok(be_u64(header, SIZE).unwrap_or(0))
    }

    fn safety_failures(header: &[u8]) -> Vec<SafetyFailure> {
        let mut failures = Vec::new();
        if be_u64(header, BACKING_FILE_OFFSET) != Some(0) {
            failures.push(failure("backing_file", "Image has a backing file"));
        }
        let features = be_u64(header, INCOMPATIBLE_FEATURES).unwrap_or(0);
        if features & FEATURE_EXTERNAL_DATA_FILE != 0 {
            failures.push(failure("data_file", "Image has data_file set"));
        }
        // Version 2 headers end before the feature fields, so only v3 is checked.
        match be_u32(header, 4) {
            Some(2) => {}
            Some(3) if features & !KNOWN_FEATURES == 0 => {}
            Some(3) => failures.push(failure("unknown_features", "Unknown QCOW2 features found")),
            _ => failures.push(failure("unknown_features", "Unsupported qcow2 version")),
        }
        failures
    }
}
