//! The inspector: every format's parser watching one stream at once, as upstream's
//! `InspectWrapper` does, so one pass over the bytes answers for all formats.

use crate::formats::{all_parsers, Parser};
use crate::{CheckError, DiskFormat, SafetyFailure};

/// Feeds a stream to every parser. Memory is bounded by the parsers' regions (at most
/// about 1.2 MiB, for a VMDK descriptor), whatever the stream's length.
pub struct Inspector {
    parsers: Vec<Slot>,
    position: u64,
}

struct Slot {
    parser: Box<dyn Parser>,
    /// Why the parser stopped: its format's rules were broken at this point.
    error: Option<String>,
    active: bool,
}

impl Default for Inspector {
    fn default() -> Self {
        Self::new()
    }
}

impl Inspector {
    pub fn new() -> Self {
        Self::with_formats(&DiskFormat::ALL)
    }

    /// An inspector that only knows `formats` (the fuzz targets use one at a time).
    pub fn with_formats(formats: &[DiskFormat]) -> Self {
        let parsers = all_parsers()
            .into_iter()
            .filter(|p| formats.contains(&p.format()))
            .map(|parser| Slot {
                active: parser.wants_more(),
                parser,
                error: None,
            })
            .collect();
        Self {
            parsers,
            position: 0,
        }
    }

    /// Offers the next chunk of the stream.
    pub fn feed(&mut self, chunk: &[u8]) {
        if chunk.is_empty() {
            return;
        }
        for slot in self.parsers.iter_mut().filter(|s| s.active) {
            if let Err(why) = slot.parser.eat(self.position, chunk) {
                slot.error = Some(why);
                slot.active = false;
            } else {
                slot.active = slot.parser.wants_more();
            }
        }
        self.position += chunk.len() as u64;
    }

    /// Bytes seen so far.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// Ends the stream and returns what was found.
    pub fn finish(mut self) -> Inspection {
        for slot in &mut self.parsers {
            if slot.error.is_none() {
                slot.parser.finish(self.position);
            }
        }
        Inspection {
            parsers: self.parsers,
            total: self.position,
        }
    }
}

/// Inspects a whole byte slice (tests and tools; uploads stream through [`Inspector`]).
pub fn inspect_bytes(data: &[u8]) -> Inspection {
    let mut inspector = Inspector::new();
    inspector.feed(data);
    inspector.finish()
}

/// What the inspector found once the stream ended.
pub struct Inspection {
    parsers: Vec<Slot>,
    total: u64,
}

impl Inspection {
    /// The length of the stream.
    pub fn total_bytes(&self) -> u64 {
        self.total
    }

    /// The formats the data matches: every specific format whose signature matched,
    /// or just `Raw` when none did. More than one means a polyglot.
    pub fn matches(&self) -> Vec<DiskFormat> {
        let specific: Vec<DiskFormat> = self
            .parsers
            .iter()
            .filter(|s| s.parser.format() != DiskFormat::Raw && s.parser.matches())
            .map(|s| s.parser.format())
            .collect();
        if specific.is_empty() {
            vec![DiskFormat::Raw]
        } else {
            specific
        }
    }

    fn slot(&self, format: DiskFormat) -> Option<&Slot> {
        self.parsers.iter().find(|s| s.parser.format() == format)
    }

    /// The virtual size `format`'s header declares (0 when unknown). For raw it is the
    /// byte count.
    pub fn virtual_size(&self, format: DiskFormat) -> Result<u64, String> {
        match self.slot(format) {
            Some(slot) => slot.parser.virtual_size(self.total),
            None => Ok(0),
        }
    }

    /// VMDK's createType (lower-cased), when the data is a VMDK with a descriptor.
    pub fn vmdk_create_type(&self) -> Option<&str> {
        self.slot(DiskFormat::Vmdk)?.parser.vmdk_create_type()
    }

    /// Runs `format`'s safety checks on the data.
    pub fn safety_check(&self, format: DiskFormat) -> Result<(), CheckError> {
        let Some(slot) = self.slot(format) else {
            return Err(CheckError::NotMatching(format));
        };
        if !slot.parser.matches() {
            return Err(CheckError::NotMatching(format));
        }
        if let Some(why) = &slot.error {
            return Err(CheckError::Failed(vec![SafetyFailure {
                check: "format",
                reason: why.clone(),
            }]));
        }
        if !slot.parser.complete() {
            return Err(CheckError::Incomplete);
        }
        let failures = slot.parser.safety_failures();
        if failures.is_empty() {
            Ok(())
        } else {
            Err(CheckError::Failed(failures))
        }
    }
}
