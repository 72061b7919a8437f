//! Microsoft VHDX: little-endian, GUID-keyed. The file starts with `vhdxfile`; the
//! region table at 192 KiB points at the metadata region, whose table points at the
//! "virtual disk size" item. Three hops, each captured as the stream reaches it.
//! Reference: [MS-VHDX] sections 2.2-2.6.

use super::Parser;
use crate::region::{le_u16, le_u32, le_u64, Region};
use crate::{DiskFormat, SafetyFailure};

const REGION_TABLE_AT: u64 = 192 * 1024;
const REGION_TABLE_LEN: usize = 64 * 1024;
const REGION_TABLE_SIGNATURE: u32 = 0x6967_6572; // "regi"
/// Limits from the specification (and qemu): at most 2047 entries per table.
const MAX_ENTRIES: u32 = 2047;
/// The metadata table: a 32-byte header and up to 2047 entries of 32 bytes. Items
/// start after it (the specification puts them at 64 KiB or later).
const METADATA_TABLE_LEN: usize = 2048 * 32;
/// GUIDs as stored on disk (the first three groups little-endian).
const METADATA_REGION: [u8; 16] = guid(
    0x8B7C_A206,
    0x4790,
    0x4B9A,
    [0xB8, 0xFE, 0x57, 0x5F, 0x05, 0x0F, 0x88, 0x6E],
);
const VIRTUAL_DISK_SIZE: [u8; 16] = guid(
    0x2FA5_4224,
    0xCD1B,
    0x4876,
    [0xB2, 0x11, 0x5D, 0xBE, 0xD8, 0x3B, 0xF4, 0xB8],
);

const fn guid(a: u32, b: u16, c: u16, d: [u8; 8]) -> [u8; 16] {
    let a = a.to_le_bytes();
    let b = b.to_le_bytes();
    let c = c.to_le_bytes();
    [
        a[0], a[1], a[2], a[3], b[0], b[1], c[0], c[1], d[0], d[1], d[2], d[3], d[4], d[5], d[6],
        d[7],
    ]
}

pub(crate) struct Vhdx {
    ident: Region,
    region_table: Region,
    metadata: Option<Region>,
    disk_size: Option<Region>,
}

impl Vhdx {
    pub(crate) fn new() -> Self {
        Self {
            ident: Region::new(0, 8),
            region_table: Region::new(REGION_TABLE_AT, REGION_TABLE_LEN),
            metadata: None,
            disk_size: None,
        }
    }

    fn feed_all(&mut self, pos: u64, chunk: &[u8]) {
        self.ident.feed(pos, chunk);
        self.region_table.feed(pos, chunk);
        if let Some(r) = &mut self.metadata {
            r.feed(pos, chunk);
        }
        if let Some(r) = &mut self.disk_size {
            r.feed(pos, chunk);
        }
    }

    /// The metadata region's offset, from the region table.
    fn find_metadata_region(&self) -> Result<u64, String> {
        let t = self.region_table.data();
        if le_u32(t, 0) != Some(REGION_TABLE_SIGNATURE) {
            return Err(format!("Region signature not found at {REGION_TABLE_AT:x}"));
        }
        let count = le_u32(t, 8).unwrap_or(0);
        if count > MAX_ENTRIES {
            return Err(format!("Region count is {count} (limit {MAX_ENTRIES})"));
        }
        let at = (0..count as usize)
            .map(|i| 16 + i * 32)
            .find(|&at| t.get(at..at + 16) == Some(&METADATA_REGION[..]))
            .and_then(|at| le_u64(t, at + 16))
            .ok_or_else(|| "VHDX has no metadata region".to_string())?;
        // A pointer back into the headers is malformed (the specification wants 1 MiB or
        // later), and would make the answer depend on where the stream's chunks split.
        if at < REGION_TABLE_AT + REGION_TABLE_LEN as u64 {
            return Err(format!(
                "VHDX metadata region at {at:#x} overlaps the headers"
            ));
        }
        Ok(at)
    }

    /// The virtual-disk-size item's (offset, length) once the metadata table is in;
    /// `Ok(None)` while more of the table is needed.
    fn find_disk_size_item(&self, meta: &Region) -> Result<Option<(u64, usize)>, String> {
        let m = meta.data();
        if m.len() < 32 {
            return Ok(None);
        }
        if &m[..8] != b"metadata" {
            return Err("Invalid signature for metadata region".into());
        }
        let count = le_u16(m, 10).unwrap_or(0) as u32;
        if count > MAX_ENTRIES {
            return Err(format!(
                "Metadata item count is {count} (limit {MAX_ENTRIES})"
            ));
        }
        let table_len = 32 + count as usize * 32;
        if m.len() < table_len {
            return Ok(None);
        }
        for i in 0..count as usize {
            let at = 32 + i * 32;
            if m[at..at + 16] == VIRTUAL_DISK_SIZE {
                let offset = le_u32(m, at + 16).unwrap_or(0) as u64;
                let len = le_u32(m, at + 20).unwrap_or(0) as usize;
                if offset < METADATA_TABLE_LEN as u64 {
                    return Err(format!(
                        "VHDX metadata item at {offset:#x} overlaps the table"
                    ));
                }
                if len < 8 {
                    return Err("VHDX virtual disk size item is too short".into());
                }
                return Ok(Some((meta.offset() + offset, 8)));
            }
        }
        Err("VHDX metadata has no virtual disk size".into())
    }
}

impl Parser for Vhdx {
    fn format(&self) -> DiskFormat {
        DiskFormat::Vhdx
    }

    fn eat(&mut self, pos: u64, chunk: &[u8]) -> Result<(), String> {
        self.feed_all(pos, chunk);
        // Each hop may land inside the chunk just read, so new regions are offered the
        // same chunk again until no new region appears.
        loop {
            if self.metadata.is_none() && self.region_table.is_complete() {
                let at = self.find_metadata_region()?;
                self.metadata = Some(Region::new(at, METADATA_TABLE_LEN));
            } else if let (Some(meta), None) = (&self.metadata, &self.disk_size) {
                match self.find_disk_size_item(meta)? {
                    Some((at, len)) => self.disk_size = Some(Region::new(at, len)),
                    None => break,
                }
            } else {
                break;
            }
            self.feed_all(pos, chunk);
        }
        Ok(())
    }

    fn wants_more(&self) -> bool {
        !self.complete()
    }

    fn finish(&mut self, _total: u64) {}

    fn complete(&self) -> bool {
        self.ident.is_complete()
            && self.region_table.is_complete()
            && self.disk_size.as_ref().is_some_and(Region::is_complete)
    }

    fn matches(&self) -> bool {
        self.ident.data() == b"vhdxfile"
    }

    fn virtual_size(&self, _total: u64) -> Result<u64, String> {
        Ok(self
            .disk_size
            .as_ref()
            .and_then(|r| le_u64(r.data(), 0))
            .unwrap_or(0))
    }

    fn safety_failures(&self) -> Vec<SafetyFailure> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use crate::{DiskFormat, Inspector};

    /// A VHDX whose region table points the metadata region back into the first
    /// 256 KiB (found by the fuzzer: the answer used to depend on the chunking).
    #[test]
    fn metadata_pointer_into_the_headers_is_refused_for_any_chunking() {
        let mut stream = vec![0u8; 300 * 1024];
        stream[..8].copy_from_slice(b"vhdxfile");
        let table = 192 * 1024;
        stream[table..table + 4].copy_from_slice(b"regi");
        stream[table + 8..table + 12].copy_from_slice(&1u32.to_le_bytes());
        stream[table + 16..table + 32].copy_from_slice(&super::METADATA_REGION);
        stream[table + 32..table + 40].copy_from_slice(&(64u64 * 1024).to_le_bytes());
        stream[64 * 1024..64 * 1024 + 8].copy_from_slice(b"metadata");
        for chunk in [509, 4096, stream.len()] {
            let mut inspector = Inspector::with_formats(&[DiskFormat::Vhdx]);
            stream.chunks(chunk).for_each(|c| inspector.feed(c));
            let verdict = inspector.finish().safety_check(DiskFormat::Vhdx);
            assert!(
                format!("{verdict:?}").contains("overlaps the headers"),
                "chunks of {chunk}: {verdict:?}"
            );
        }
    }
}
