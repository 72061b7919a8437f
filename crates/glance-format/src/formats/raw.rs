//! Raw data: anything matches, the virtual size is the byte count.

use super::Parser;
use crate::{DiskFormat, SafetyFailure};

pub(crate) struct Raw;

impl Parser for Raw {
    fn format(&self) -> DiskFormat {
        DiskFormat::Raw
    }
    fn eat(&mut self, _pos: u64, _chunk: &[u8]) -> Result<(), String> {
        Ok(())
    }
    fn wants_more(&self) -> bool {
        false
    }
    fn finish(&mut self, _total: u64) {}
    fn complete(&self) -> bool {
        true
    }
    fn matches(&self) -> bool {
        true
    }
    fn virtual_size(&self, total: u64) -> Result<u64, String> {
        Ok(total)
    }
    fn safety_failures(&self) -> Vec<SafetyFailure> {
        Vec::new()
    }
}
