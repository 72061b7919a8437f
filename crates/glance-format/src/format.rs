//! The formats the inspector knows.

use std::fmt;

/// A disk image format the inspector can recognise. The names are upstream's (and
/// Glance's `disk_format` values where one exists); `gpt` covers MBR disks too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DiskFormat {
    Raw,
    Qcow2,
    Vhd,
    Vhdx,
    Vmdk,
    Vdi,
    Qed,
    Iso,
    Gpt,
    Luks,
}

impl DiskFormat {
    /// Every format, in the order results and messages list them.
    pub const ALL: [DiskFormat; 10] = [
        DiskFormat::Raw,
        DiskFormat::Qcow2,
        DiskFormat::Vhd,
        DiskFormat::Vhdx,
        DiskFormat::Vmdk,
        DiskFormat::Vdi,
        DiskFormat::Qed,
        DiskFormat::Iso,
        DiskFormat::Gpt,
        DiskFormat::Luks,
    ];

    pub fn name(self) -> &'static str {
        match self {
            DiskFormat::Raw => "raw",
            DiskFormat::Qcow2 => "qcow2",
            DiskFormat::Vhd => "vhd",
            DiskFormat::Vhdx => "vhdx",
            DiskFormat::Vmdk => "vmdk",
            DiskFormat::Vdi => "vdi",
            DiskFormat::Qed => "qed",
            DiskFormat::Iso => "iso",
            DiskFormat::Gpt => "gpt",
            DiskFormat::Luks => "luks",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }

    /// What `qemu-img info` calls data of this format when it probes it: qemu knows
    /// VHD as `vpc` and has no ISO or partition-table driver (it reads those as raw).
    pub fn qemu_name(self) -> &'static str {
        match self {
            DiskFormat::Vhd => "vpc",
            DiskFormat::Iso | DiskFormat::Gpt => "raw",
            other => other.name(),
        }
    }
}

impl fmt::Display for DiskFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
