//! Formats decided by one fixed region of the stream (all but VMDK and VHDX): the
//! streaming is shared here, each format only reads its bytes.

use std::marker::PhantomData;

use super::Parser;
use crate::region::Region;
use crate::{DiskFormat, SafetyFailure};

/// A format whose verdict comes from the bytes at `[AT, AT + LEN)`.
pub(crate) trait FixedHeader: Send + 'static {
    const FORMAT: DiskFormat;
    const AT: u64 = 0;
    const LEN: usize;

    /// Whether the captured bytes (all `LEN` of them when `complete`) are this format.
    fn matches(header: &[u8], complete: bool) -> bool;

    /// The virtual size; only asked when the header is complete and matches.
    fn virtual_size(header: &[u8], total: u64) -> Result<u64, String>;

    /// Only asked when the header is complete and matches.
    fn safety_failures(_header: &[u8]) -> Vec<SafetyFailure> {
        Vec::new()
    }
}

pub(crate) struct HeaderParser<F> {
    header: Region,
    format: PhantomData<F>,
}

impl<F: FixedHeader> HeaderParser<F> {
    pub(crate) fn new() -> Self {
        Self {
            header: Region::new(F::AT, F::LEN),
            format: PhantomData,
        }
    }
}

impl<F: FixedHeader> Parser for HeaderParser<F> {
    fn format(&self) -> DiskFormat {
        F::FORMAT
    }
    fn eat(&mut self, pos: u64, chunk: &[u8]) -> Result<(), String> {
        self.header.feed(pos, chunk);
        Ok(())
    }
    fn wants_more(&self) -> bool {
        !self.header.is_complete()
    }
    fn finish(&mut self, _total: u64) {}
    fn complete(&self) -> bool {
        self.header.is_complete()
    }
    fn matches(&self) -> bool {
        F::matches(self.header.data(), self.header.is_complete())
    }
    fn virtual_size(&self, total: u64) -> Result<u64, String> {
        if self.complete() && self.matches() {
            F::virtual_size(self.header.data(), total)
        } else {
            Ok(0)
        }
    }
    fn safety_failures(&self) -> Vec<SafetyFailure> {
        F::safety_failures(self.header.data())
    }
}
