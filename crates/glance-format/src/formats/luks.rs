//! LUKS v1 encrypted volumes: a big-endian header (and eight key slots) whose payload
//! offset, in 512-byte sectors, says where the encrypted disk starts. Without a
//! passphrase the inner format cannot be seen, so only the version is checked.

use super::failure;
use super::header::FixedHeader;
use crate::region::{be_u16, be_u32};
use crate::{DiskFormat, SafetyFailure};

const MAGIC: &[u8] = b"LUKS\xba\xbe";
const PAYLOAD_OFFSET: usize = 104;

pub(crate) struct Luks;

impl FixedHeader for Luks {
    const FORMAT: DiskFormat = DiskFormat::Luks;
    const LEN: usize = 592;

    /// The magic alone decides (as upstream): a cut-off LUKS header is a LUKS volume
    /// that cannot be checked, not raw data.
    fn matches(header: &[u8], _complete: bool) -> bool {
        header.starts_with(MAGIC)
    }

    fn virtual_size(header: &[u8], total: u64) -> Result<u64, String> {
        let payload = be_u32(header, PAYLOAD_OFFSET).unwrap_or(0) as u64 * 512;
        total
            .checked_sub(payload)
            .ok_or_else(|| format!("the LUKS payload offset {payload} is past the end of the data"))
    }

    fn safety_failures(header: &[u8]) -> Vec<SafetyFailure> {
        match be_u16(header, 6) {
            Some(1) => Vec::new(),
            Some(v) => vec![failure(
                "version",
                format!("LUKS version {v} is not supported"),
            )],
            None => vec![failure("version", "LUKS header is incomplete")],
        }
    }
}
