//! MBR and GPT partition tables (GPT disks start with a protective MBR). A FAT boot
//! sector carries the same 0xAA55 signature and is told apart by its BIOS parameter
//! block. The safety check holds the four MBR entries to the rules a GPT needs.

use super::failure;
use super::header::FixedHeader;
use crate::region::{le_u16, le_u32};
use crate::{DiskFormat, SafetyFailure};

const MBR_SIGNATURE: u16 = 0xAA55;
const PARTITION_TABLE: usize = 446;
const PROTECTIVE_TYPE: u8 = 0xEE;
const FIXED_DISK_MEDIA: u8 = 0xF8;

pub(crate) struct Gpt;

/// A FAT boot sector has two FATs and the fixed-disk media byte in its BPB.
fn looks_like_fat(b: &[u8]) -> bool {
    b[0x10] == 2 && b[0x15] == FIXED_DISK_MEDIA
}

fn check_partitions(b: &[u8]) -> Result<(), String> {
    let mut used = Vec::new();
    let mut protective = false;
    for i in 0..4 {
        let e = &b[PARTITION_TABLE + 16 * i..PARTITION_TABLE + 16 * (i + 1)];
        if e[0] != 0x00 && e[0] != 0x80 {
            return Err(format!("MBR PTE {i} has invalid boot flag"));
        }
        if e[4] != 0 {
            used.push(i);
        }
        if e[4] == PROTECTIVE_TYPE {
            protective = true;
            if e[1..4] != [0x00, 0x02, 0x00] {
                return Err("GPT MBR has invalid start CHS".into());
            }
            if le_u32(e, 8) != Some(1) {
                return Err("GPT MBR has invalid start LBA".into());
            }
        }
    }
    if protective && used != [0] {
        return Err("GPT MBR defines invalid extra partitions".into());
    }
    if used.is_empty() {
        return Err("GPT MBR has no partitions defined".into());
    }
    Ok(())
}

impl FixedHeader for Gpt {
    const FORMAT: DiskFormat = DiskFormat::Gpt;
    const LEN: usize = 512;

    fn matches(mbr: &[u8], complete: bool) -> bool {
        complete && le_u16(mbr, 510) == Some(MBR_SIGNATURE) && !looks_like_fat(mbr)
    }

    fn virtual_size(_mbr: &[u8], total: u64) -> Result<u64, String> {
        Ok(total)
    }

    fn safety_failures(mbr: &[u8]) -> Vec<SafetyFailure> {
        match check_partitions(mbr) {
            Ok(()) => Vec::new(),
            Err(why) => vec![failure("mbr", why)],
        }
    }
}
