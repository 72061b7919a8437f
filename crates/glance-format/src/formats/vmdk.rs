//! VMware VMDK. Two shapes reach us:
//! - a hosted sparse extent: a little-endian 512-byte header (`KDMV`), with the text
//!   descriptor embedded at sector 1 (monolithicSparse, streamOptimized); a
//!   streamOptimized disk may keep its real header in a footer at the very end;
//! - a bare text descriptor whose extent lines name other files (monolithicFlat,
//!   twoGbMaxExtent*, vmfs, ...): always refused, since the hypervisor would open
//!   those files on the host.
//!
//! The descriptor is parsed cautiously: every line must be one we understand.

use super::{failure, sectors_to_bytes, Parser};
use crate::region::{le_u32, le_u64, Region, TailRegion};
use crate::{DiskFormat, SafetyFailure};

const MAGIC: &[u8] = b"KDMV";
/// The sparse header fields we use fit in its first 64 bytes.
const SPARSE_HEADER_MIN: usize = 64;
/// qemu reads the embedded descriptor from sector 1 and at most 1 MiB - 1 of it.
const DESCRIPTOR_AT: u64 = 512;
const DESCRIPTOR_MAX: usize = (1 << 20) - 1;
/// A grain directory offset of all ones: the header is repeated in a footer.
const GD_AT_END: u64 = u64::MAX;
/// Footer marker, footer header, end-of-stream marker: 512 bytes each.
const FOOTER_LEN: usize = 1536;
const MARKER_EOS: u32 = 0;
const MARKER_FOOTER: u32 = 3;
/// The createTypes whose data lives in the one file (and so may be accepted).
const SELF_CONTAINED_TYPES: [&str; 2] = ["monolithicsparse", "streamoptimized"];
const EXTENT_ACCESS: [&str; 3] = ["rw", "rdonly", "noaccess"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// Fewer than 64 bytes seen, or nothing decided yet.
    Undecided,
    Sparse,
    TextDescriptor,
    NotVmdk,
}

pub(crate) struct Vmdk {
    shape: Shape,
    header: Region,
    /// The embedded descriptor of a sparse extent.
    descriptor: Option<Region>,
    /// The leading ASCII text (up to the first NUL or non-ASCII byte, at most 1 MiB):
    /// the descriptor, if this turns out to be a bare descriptor file.
    text: Vec<u8>,
    text_done: bool,
    footer: Option<TailRegion>,
    /// Set once the descriptor is captured and parsed.
    desc: Option<Descriptor>,
    ended: bool,
}

/// The parsed descriptor (lower-cased, as qemu compares it).
struct Descriptor {
    text: Option<String>,
    create_type: Option<String>,
}

impl Vmdk {
    pub(crate) fn new() -> Self {
        Self {
            shape: Shape::Undecided,
            header: Region::new(0, 512),
            descriptor: None,
            text: Vec::new(),
            text_done: false,
            footer: None,
            desc: None,
            ended: false,
        }
    }

    fn header_u64(&self, at: usize) -> u64 {
        le_u64(self.header.data(), at).unwrap_or(0)
    }

    /// Decides the shape once the first bytes are in; `ended` when no more will come.
    /// `pos` is where the chunk being eaten starts (all earlier bytes are in `header`).
    fn decide_shape(&mut self, pos: u64, ended: bool) -> Result<(), String> {
        let head = self.header.data();
        if head.starts_with(MAGIC) {
            if head.len() < SPARSE_HEADER_MIN {
                return Ok(());
            }
            self.shape = Shape::Sparse;
            let version = le_u32(head, 4).unwrap_or(0);
            if !(1..=3).contains(&version) {
                return Err(format!("Unsupported format version {version}"));
            }
            let desc_sector = self.header_u64(28);
            let desc_sectors = self.header_u64(36);
            if desc_sector.checked_mul(512) != Some(DESCRIPTOR_AT) {
                return Err("Wrong descriptor location".into());
            }
            let desc_len = desc_sectors.saturating_mul(512).min(DESCRIPTOR_MAX as u64) as usize;
            self.descriptor = Some(Region::new(DESCRIPTOR_AT, desc_len));
            if self.header_u64(56) == GD_AT_END {
                // The tail must also hold the bytes before this chunk (all in `header`).
                let mut tail = TailRegion::new(FOOTER_LEN);
                tail.feed(&self.header.data()[..pos as usize]);
                self.footer = Some(tail);
            }
            self.text = Vec::new();
            self.text_done = true;
            return Ok(());
        }
        if !self.header.is_complete() && !ended {
            return Ok(());
        }
        // Not a sparse header: a text descriptor, or not a VMDK at all. Text means the
        // bytes before the first NUL are printable ASCII or whitespace.
        let text_len = head.iter().position(|&b| b == 0).unwrap_or(head.len());
        if text_len >= 4 && head[..text_len].iter().all(|&b| is_text(b)) {
            self.shape = Shape::TextDescriptor;
        } else {
            self.shape = Shape::NotVmdk;
            self.text = Vec::new();
        }
        Ok(())
    }

    /// Collects the leading ASCII text, stopping at the first NUL or non-ASCII byte.
    fn collect_text(&mut self, pos: u64, chunk: &[u8]) {
        if self.text_done || pos != self.text.len() as u64 {
            return;
        }
        let room = DESCRIPTOR_MAX - self.text.len();
        let stop = chunk.iter().position(|&b| b == 0 || !b.is_ascii());
        let take = stop.unwrap_or(chunk.len()).min(room);
        self.text.extend_from_slice(&chunk[..take]);
        if stop.is_some() || self.text.len() == DESCRIPTOR_MAX {
            self.text_done = true;
        }
    }

    fn parse_descriptor_when_complete(&mut self) {
        if self.desc.is_some() {
            return;
        }
        match self.shape {
            Shape::Sparse => {
                if let Some(d) = self.descriptor.as_ref().filter(|d| d.is_complete()) {
                    self.desc = Some(Descriptor::parse(d.data()));
                }
            }
            Shape::TextDescriptor if self.text_done => {
                self.desc = Some(Descriptor::parse(&self.text));
                self.text = Vec::new();
            }
            _ => {}
        }
    }

    fn check_descriptor(&self) -> Result<(), String> {
        let Some(text) = self.desc.as_ref().and_then(|d| d.text.as_deref()) else {
            return Err("No descriptor found".into());
        };
        if text.is_empty() {
            return Err("No descriptor found".into());
        }
        let create_type = self.vmdk_create_type().unwrap_or("formatnotfound");
        if !SELF_CONTAINED_TYPES.contains(&create_type) {
            return Err("Unsupported subformat".into());
        }
        let mut extents = Vec::new();
        for line in text.split('\n').map(str::trim) {
            if line.is_empty() || line.starts_with('#') || line.starts_with("ddb") {
                continue;
            }
            let first_word = line.split(' ').next().unwrap_or("");
            if line
                .split('=')
                .next()
                .is_some_and(|k| line.contains('=') && !k.contains(' '))
            {
                continue; // a header field: key=value
            }
            if EXTENT_ACCESS.contains(&first_word) {
                extents.push(line);
                continue;
            }
            return Err("Invalid VMDK descriptor data".into());
        }
        if extents.iter().any(|e| e.contains('/') || e.contains('\\')) {
            return Err("Invalid extent filenames found".into());
        }
        if extents.is_empty() {
            return Err("No extents found".into());
        }
        // Stricter than upstream: a self-contained disk has exactly one sparse extent,
        // the file itself; a bare descriptor's extents are always other files.
        if self.shape == Shape::TextDescriptor
            || extents.len() != 1
            || extents[0].split_whitespace().nth(2) != Some("sparse")
        {
            return Err("Extents naming other files are not allowed".into());
        }
        Ok(())
    }

    fn check_footer(&self) -> Result<(), String> {
        let Some(tail) = self.footer.as_ref().and_then(TailRegion::data) else {
            return Err("Footer not found".into());
        };
        let (footer_marker, footer, eos) = (&tail[..512], &tail[512..1024], &tail[1024..]);
        let h = self.header.data();
        let field = |b: &[u8], at: usize| le_u64(b, at).unwrap_or(0);
        if footer.get(..4) != h.get(..4) {
            return Err("Header and footer signature do not match".into());
        }
        if le_u32(footer, 4) != le_u32(h, 4) {
            return Err("Header and footer versions do not match".into());
        }
        if field(footer, 28) != field(h, 28) || field(footer, 36) != field(h, 36) {
            return Err("Footer specifies a different descriptor than header".into());
        }
        if field(footer, 56) == GD_AT_END {
            return Err("Footer indicates another footer".into());
        }
        if !is_marker(footer_marker, MARKER_FOOTER, false) {
            return Err("Footer marker is invalid".into());
        }
        if !is_marker(eos, MARKER_EOS, true) {
            return Err("End-of-stream marker is invalid".into());
        }
        Ok(())
    }
}

/// A streamOptimized marker: value (u64), size 0 (u32), type (u32), 496 zero bytes.
fn is_marker(b: &[u8], kind: u32, value_zero: bool) -> bool {
    (!value_zero || le_u64(b, 0) == Some(0))
        && le_u32(b, 8) == Some(0)
        && le_u32(b, 12) == Some(kind)
        && b[16..].iter().all(|&x| x == 0)
}

/// Printable ASCII or whitespace (Python's `isprintable() or isspace()` on ASCII).
fn is_text(b: u8) -> bool {
    (0x20..0x7f).contains(&b) || (0x09..=0x0d).contains(&b) || (0x1c..=0x1f).contains(&b)
}

impl Descriptor {
    fn parse(raw: &[u8]) -> Self {
        // The embedded descriptor is NUL-padded; the text ends at the first NUL.
        let raw = &raw[..raw.iter().position(|&b| b == 0).unwrap_or(raw.len())];
        // Descriptors are ASCII; anything else is not one (and ASCII is valid UTF-8).
        let Some(text) = raw
            .is_ascii()
            .then(|| std::str::from_utf8(raw).ok())
            .flatten()
        else {
            return Self {
                text: None,
                create_type: None,
            };
        };
        let text = text.to_ascii_lowercase();
        let create_type = text.find("createtype=\"").and_then(|i| {
            let start = i + "createtype=\"".len();
            let len = text[start..].find('"')?;
            // A huge value is a malicious descriptor, not a type name worth keeping.
            (len < 64).then(|| text[start..start + len].to_string())
        });
        Self {
            text: Some(text),
            create_type,
        }
    }

    /// The total size of the extents (sectors), for a bare descriptor.
    fn extent_sectors(&self) -> Result<u64, String> {
        let text = self.text.as_deref().unwrap_or("");
        let mut total: u64 = 0;
        for line in text.lines().map(str::trim) {
            let mut words = line.split_whitespace();
            if words.next().is_some_and(|w| EXTENT_ACCESS.contains(&w)) {
                let sectors: u64 = words.next().and_then(|s| s.parse().ok()).unwrap_or(0);
                total = total
                    .checked_add(sectors)
                    .ok_or_else(|| "extent sizes overflow".to_string())?;
            }
        }
        Ok(total)
    }
}

impl Parser for Vmdk {
    fn format(&self) -> DiskFormat {
        DiskFormat::Vmdk
    }

    fn eat(&mut self, pos: u64, chunk: &[u8]) -> Result<(), String> {
        if self.shape == Shape::NotVmdk {
            return Ok(());
        }
        self.header.feed(pos, chunk);
        self.collect_text(pos, chunk);
        if self.shape == Shape::Undecided {
            self.decide_shape(pos, false)?;
        }
        if let Some(footer) = &mut self.footer {
            footer.feed(chunk);
        }
        if let Some(d) = &mut self.descriptor {
            d.feed(pos, chunk);
        }
        self.parse_descriptor_when_complete();
        Ok(())
    }

    fn wants_more(&self) -> bool {
        match self.shape {
            Shape::NotVmdk => false,
            Shape::Undecided => true,
            _ => self.footer.is_some() || self.desc.is_none(),
        }
    }

    fn finish(&mut self, _total: u64) {
        self.ended = true;
        if self.shape == Shape::Undecided {
            // A sparse header is decided (or found broken) while eating, so at the end
            // only the text-or-not question remains, and it cannot fail.
            let seen = self.header.data().len() as u64;
            if self.decide_shape(seen, true).is_err() {
                self.shape = Shape::NotVmdk;
            }
        }
        // A bare descriptor may run to the end of the data.
        self.text_done = true;
        self.parse_descriptor_when_complete();
    }

    fn complete(&self) -> bool {
        let header_in =
            self.header.data().len() >= SPARSE_HEADER_MIN || self.shape == Shape::TextDescriptor;
        let footer_in = match &self.footer {
            Some(f) => self.ended && f.data().is_some(),
            None => true,
        };
        header_in && self.desc.is_some() && footer_in
    }

    fn matches(&self) -> bool {
        match self.shape {
            Shape::TextDescriptor => self.vmdk_create_type().is_some(),
            _ => self.header.data().starts_with(MAGIC),
        }
    }

    fn virtual_size(&self, _total: u64) -> Result<u64, String> {
        match self.shape {
            Shape::Sparse => sectors_to_bytes(self.header_u64(12)),
            Shape::TextDescriptor => match &self.desc {
                Some(d) => sectors_to_bytes(d.extent_sectors()?),
                None => Ok(0),
            },
            _ => Ok(0),
        }
    }

    fn safety_failures(&self) -> Vec<SafetyFailure> {
        let mut failures = Vec::new();
        if let Err(why) = self.check_descriptor() {
            failures.push(failure("descriptor", why));
        }
        if self.footer.is_some() {
            if let Err(why) = self.check_footer() {
                failures.push(failure("footer", why));
            }
        }
        failures
    }

    fn vmdk_create_type(&self) -> Option<&str> {
        self.desc.as_ref()?.create_type.as_deref()
    }
}
