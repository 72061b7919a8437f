//! Capturing bounded byte ranges of a stream as it flows past.

/// A fixed range of the stream, `[offset, offset + len)`, captured as chunks go by.
///
/// The stream is contiguous, so a region fills from its start; if it is created after
/// its start has already gone past, it can never fill and stays incomplete (callers
/// treat that as "not this format").
#[derive(Debug, Clone)]
pub(crate) struct Region {
    offset: u64,
    len: usize,
    data: Vec<u8>,
}

impl Region {
    pub(crate) fn new(offset: u64, len: usize) -> Self {
        Self {
            offset,
            len,
            data: Vec::new(),
        }
    }

    pub(crate) fn offset(&self) -> u64 {
        self.offset
    }

    /// Offers the chunk that starts at stream position `pos`.
    pub(crate) fn feed(&mut self, pos: u64, chunk: &[u8]) {
        if self.is_complete() {
            return;
        }
        let want = self.offset + self.data.len() as u64;
        let chunk_end = pos + chunk.len() as u64;
        if want < pos || want >= chunk_end {
            return;
        }
        let start = (want - pos) as usize;
        let take = (self.len - self.data.len()).min(chunk.len() - start);
        if self.data.capacity() == 0 {
            // Reserve lazily: most regions of most inspectors never see a byte.
            self.data.reserve_exact(self.len.min(1 << 20));
        }
        self.data.extend_from_slice(&chunk[start..start + take]);
    }

    pub(crate) fn is_complete(&self) -> bool {
        self.data.len() == self.len
    }

    pub(crate) fn data(&self) -> &[u8] {
        &self.data
    }
}

/// The last `len` bytes of the stream (only known once the stream ends).
#[derive(Debug, Clone)]
pub(crate) struct TailRegion {
    len: usize,
    data: Vec<u8>,
}

impl TailRegion {
    pub(crate) fn new(len: usize) -> Self {
        Self {
            len,
            data: Vec::new(),
        }
    }

    pub(crate) fn feed(&mut self, chunk: &[u8]) {
        if chunk.len() >= self.len {
            self.data.clear();
            self.data
                .extend_from_slice(&chunk[chunk.len() - self.len..]);
            return;
        }
        let keep = self.len - chunk.len();
        if self.data.len() > keep {
            self.data.drain(..self.data.len() - keep);
        }
        self.data.extend_from_slice(chunk);
    }

    /// The tail, when the stream was at least `len` bytes long.
    pub(crate) fn data(&self) -> Option<&[u8]> {
        (self.data.len() == self.len).then_some(&self.data[..])
    }
}

/// Big- and little-endian readers that never panic: short input reads as zeros would
/// hide bugs, so they return `None` and callers decide.
pub(crate) fn be_u16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}
pub(crate) fn be_u32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}
pub(crate) fn be_u64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(b.get(at..at + 8)?.try_into().ok()?))
}
pub(crate) fn le_u16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}
pub(crate) fn le_u32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}
pub(crate) fn le_u64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_fills_across_unaligned_chunks() {
        let stream: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
        for split in [1usize, 3, 7, 100, 511, 4096, 5000] {
            let mut r = Region::new(1000, 600);
            let mut pos = 0u64;
            for chunk in stream.chunks(split) {
                r.feed(pos, chunk);
                pos += chunk.len() as u64;
            }
            assert!(r.is_complete(), "split {split}");
            assert_eq!(r.data(), &stream[1000..1600], "split {split}");
        }
    }

    #[test]
    fn region_created_after_its_start_passed_never_fills_with_later_bytes() {
        let mut r = Region::new(10, 20);
        r.feed(50, &[1; 100]);
        assert!(r.data().is_empty());
        assert!(!r.is_complete());
    }

    #[test]
    fn tail_keeps_the_last_bytes() {
        let stream: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
        for split in [1usize, 5, 700, 1536, 3000] {
            let mut t = TailRegion::new(1536);
            for chunk in stream.chunks(split) {
                t.feed(chunk);
            }
            assert_eq!(t.data().unwrap(), &stream[3000 - 1536..], "split {split}");
        }
        let mut short = TailRegion::new(1536);
        short.feed(&[0; 100]);
        assert!(short.data().is_none());
    }
}
