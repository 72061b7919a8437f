//! Disk image format inspection, streaming and bounded: detection of raw, qcow2, vhd,
//! vhdx, vmdk, vdi, qed, iso, gpt/mbr and luks, each format's virtual size, and the
//! safety checks that keep a crafted image from making a hypervisor open host files.
//!
//! The behavioural reference is upstream's format inspector (oslo.utils
//! `imageutils.format_inspector`) and Glance's use of it on upload; where this crate is
//! stricter, the item says so. No I/O: callers feed chunks as they stream past.

mod format;
mod formats;
mod inspector;
mod region;
mod verdict;

use std::fmt;

pub use format::DiskFormat;
pub use inspector::{inspect_bytes, Inspection, Inspector};
pub use verdict::{judge, Accepted, FormatPolicy, Refusal};

/// One failed safety check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafetyFailure {
    /// The check's name (`backing_file`, `data_file`, `descriptor`, `mbr`, ...), as
    /// `gpt_safety_checks_nonfatal` names them.
    pub check: &'static str,
    pub reason: String,
}

/// Why a format's safety check did not pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckError {
    /// The data ended before the format's headers did.
    Incomplete,
    /// The data is not this format.
    NotMatching(DiskFormat),
    /// The data is this format and breaks its rules.
    Failed(Vec<SafetyFailure>),
}

impl fmt::Display for CheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckError::Incomplete => f.write_str("Incomplete file cannot be safety checked"),
            CheckError::NotMatching(format) => write!(
                f,
                "Unable to safety check format {format} because content does not match"
            ),
            CheckError::Failed(failures) => {
                let names: Vec<&str> = failures.iter().map(|x| x.check).collect();
                write!(f, "Safety checks failed: {}", names.join(","))
            }
        }
    }
}

impl std::error::Error for CheckError {}
