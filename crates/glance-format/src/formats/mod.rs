//! One parser per format. Each sees every chunk of the stream (until it says it needs
//! no more), keeps only the bounded regions its format needs, and answers: does the
//! data match, what is its virtual size, and which safety checks fail.

mod gpt;
mod header;
mod iso;
mod luks;
mod qcow2;
mod qed;
mod raw;
mod vdi;
mod vhd;
mod vhdx;
mod vmdk;

use crate::{DiskFormat, SafetyFailure};
use header::HeaderParser;

/// A format parser fed by the inspector.
pub(crate) trait Parser: Send {
    fn format(&self) -> DiskFormat;

    /// Offers the chunk that starts at stream position `pos`. An `Err` means the bytes
    /// break this format's rules; the parser is fed no more and, if its magic matched,
    /// fails its safety checks with that reason.
    fn eat(&mut self, pos: u64, chunk: &[u8]) -> Result<(), String>;

    /// False once nothing later in the stream can change the answer, so the inspector
    /// can stop offering chunks.
    fn wants_more(&self) -> bool;

    /// The stream has ended after `total` bytes.
    fn finish(&mut self, total: u64);

    /// Every region the verdict needs was captured.
    fn complete(&self) -> bool;

    /// The data is this format (judged from what was captured).
    fn matches(&self) -> bool;

    /// The disk size the guest sees; 0 when unknown. `Err` when the header declares a
    /// size that does not fit in 64 bits.
    fn virtual_size(&self, total: u64) -> Result<u64, String>;

    /// The failures of this format's safety checks (empty: safe).
    fn safety_failures(&self) -> Vec<SafetyFailure>;

    /// VMDK only: the descriptor's createType, lower-cased.
    fn vmdk_create_type(&self) -> Option<&str> {
        None
    }
}

/// A fresh parser for every format, in [`DiskFormat::ALL`] order.
pub(crate) fn all_parsers() -> Vec<Box<dyn Parser>> {
    DiskFormat::ALL.into_iter().map(parser_for).collect()
}

pub(crate) fn parser_for(format: DiskFormat) -> Box<dyn Parser> {
    match format {
        DiskFormat::Raw => Box::new(raw::Raw),
        DiskFormat::Qcow2 => Box::new(HeaderParser::<qcow2::Qcow2>::new()),
        DiskFormat::Vhd => Box::new(HeaderParser::<vhd::Vhd>::new()),
        DiskFormat::Vhdx => Box::new(vhdx::Vhdx::new()),
        DiskFormat::Vmdk => Box::new(vmdk::Vmdk::new()),
        DiskFormat::Vdi => Box::new(HeaderParser::<vdi::Vdi>::new()),
        DiskFormat::Qed => Box::new(HeaderParser::<qed::Qed>::new()),
        DiskFormat::Iso => Box::new(HeaderParser::<iso::Iso>::new()),
        DiskFormat::Gpt => Box::new(HeaderParser::<gpt::Gpt>::new()),
        DiskFormat::Luks => Box::new(HeaderParser::<luks::Luks>::new()),
    }
}

fn failure(check: &'static str, reason: impl Into<String>) -> SafetyFailure {
    SafetyFailure {
        check,
        reason: reason.into(),
    }
}

/// `sectors * 512`, refusing sizes that overflow.
fn sectors_to_bytes(sectors: u64) -> Result<u64, String> {
    sectors
        .checked_mul(512)
        .ok_or_else(|| format!("{sectors} sectors overflow a 64-bit byte count"))
}
