//! The one hashing pipeline every upload goes through: `checksum` (MD5) and the
//! multihash (`os_hash_algo` / `os_hash_value`), computed on their own threads so that
//! the two digests run in parallel with each other, with the store write and off the
//! async executor.

use bytes::Bytes;
use md5::Md5;
use sha2::digest::DynDigest;
use sha2::{Sha224, Sha256, Sha384, Sha512, Sha512_224, Sha512_256};
use tokio::sync::{mpsc, oneshot};

/// How many chunks may wait in front of one stage before `feed` applies backpressure.
/// Chunks are `Bytes` clones, so the queue costs no copies; its depth only bounds how
/// far the slowest stage may lag behind the request body.
pub(crate) const STAGE_QUEUE_DEPTH: usize = 8;

/// The algorithms upstream's `hashing_algorithm` can name that we implement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashAlgo {
    Md5,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
    Sha512_224,
    Sha512_256,
}

impl HashAlgo {
    /// Parses a hashlib name as it appears in `hashing_algorithm` (case-insensitive;
    /// OpenSSL's `sha512-224` spelling is accepted too).
    pub fn from_name(name: &str) -> Option<Self> {
        let name = name.trim().to_ascii_lowercase().replace('-', "_");
        Some(match name.as_str() {
            "md5" => Self::Md5,
            "sha224" => Self::Sha224,
            "sha256" => Self::Sha256,
            "sha384" => Self::Sha384,
            "sha512" => Self::Sha512,
            "sha512_224" => Self::Sha512_224,
            "sha512_256" => Self::Sha512_256,
            _ => return None,
        })
    }

    /// The hashlib name stored in `os_hash_algo`.
    /// Bytes in a digest of this algorithm.
    pub fn digest_len(self) -> usize {
        match self {
            Self::Md5 => 16,
            Self::Sha224 | Self::Sha512_224 => 28,
            Self::Sha256 | Self::Sha512_256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Md5 => "md5",
            Self::Sha224 => "sha224",
            Self::Sha256 => "sha256",
            Self::Sha384 => "sha384",
            Self::Sha512 => "sha512",
            Self::Sha512_224 => "sha512_224",
            Self::Sha512_256 => "sha512_256",
        }
    }

    fn hasher(self) -> Box<dyn DynDigest + Send> {
        match self {
            Self::Md5 => Box::new(Md5::default()),
            Self::Sha224 => Box::new(Sha224::default()),
            Self::Sha256 => Box::new(Sha256::default()),
            Self::Sha384 => Box::new(Sha384::default()),
            Self::Sha512 => Box::new(Sha512::default()),
            Self::Sha512_224 => Box::new(Sha512_224::default()),
            Self::Sha512_256 => Box::new(Sha512_256::default()),
        }
    }
}

impl std::fmt::Display for HashAlgo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What the pipeline computed over all bytes fed to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digests {
    pub size: u64,
    /// The image `checksum` field.
    pub md5_hex: String,
    pub os_hash_algo: String,
    pub os_hash_hex: String,
}

/// A thread that consumes chunks from a bounded queue and produces one value when the
/// queue is closed and drained. Dedicated OS threads (rather than the tokio blocking
/// pool) because a stage lives as long as its upload: hundreds of concurrent uploads
/// holding pool threads could starve the pool and stall each other.
pub(crate) struct BlockingStage<T> {
    tx: Option<mpsc::Sender<Bytes>>,
    result: oneshot::Receiver<T>,
}

impl<T: Send + 'static> BlockingStage<T> {
    pub(crate) fn spawn<S, F, G>(
        name: &str,
        mut state: S,
        mut consume: F,
        finish: G,
    ) -> std::io::Result<Self>
    where
        S: Send + 'static,
        F: FnMut(&mut S, &[u8]) + Send + 'static,
        G: FnOnce(S) -> T + Send + 'static,
    {
        let (tx, mut rx) = mpsc::channel::<Bytes>(STAGE_QUEUE_DEPTH);
        let (result_tx, result) = oneshot::channel();
        std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                // `None` means every sender is gone: either `finish` closed the queue or the
                // owner was dropped mid-upload. Either way the thread ends here; a dropped
                // owner simply never reads the result.
                while let Some(chunk) = rx.blocking_recv() {
                    consume(&mut state, &chunk);
                }
                let _ = result_tx.send(finish(state));
            })?;
        Ok(Self {
            tx: Some(tx),
            result,
        })
    }

    /// Queues a chunk, waiting while the stage is `STAGE_QUEUE_DEPTH` chunks behind.
    pub(crate) async fn feed(&mut self, chunk: Bytes) {
        if let Some(tx) = &self.tx {
            // The receiver only disappears if the stage thread panicked; `finish`
            // reports that, so the chunk can be dropped here.
            let _ = tx.send(chunk).await;
        }
    }

    /// Closes the queue and waits for the stage's value. `None` if the stage panicked.
    pub(crate) async fn finish(mut self) -> Option<T> {
        self.tx = None;
        (&mut self.result).await.ok()
    }
}

/// MD5 and the multihash over the same chunks, each on its own thread.
pub struct HashingPipeline {
    algo: HashAlgo,
    size: u64,
    md5: BlockingStage<String>,
    os_hash: BlockingStage<String>,
}

impl HashingPipeline {
    /// Starts the two hashing threads.
    ///
    /// # Panics
    /// If the OS refuses to create a thread; use [`HashingPipeline::try_start`] to get
    /// that as an error instead.
    pub fn start(algo: HashAlgo) -> Self {
        Self::try_start(algo).expect("cannot spawn hashing threads")
    }

    /// Starts the two hashing threads, reporting thread exhaustion as an error.
    pub fn try_start(algo: HashAlgo) -> std::io::Result<Self> {
        Ok(Self {
            algo,
            size: 0,
            md5: hash_stage("glance-hash-md5", HashAlgo::Md5)?,
            os_hash: hash_stage("glance-hash-os", algo)?,
        })
    }

    /// Hands a chunk to both hashers (a cheap `Bytes` clone, no copy). Waits only when a
    /// hasher is several chunks behind.
    pub async fn feed(&mut self, chunk: Bytes) {
        if chunk.is_empty() {
            return;
        }
        self.size += chunk.len() as u64;
        self.md5.feed(chunk.clone()).await;
        self.os_hash.feed(chunk).await;
    }

    /// Bytes fed so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Waits for both hashers to drain their queues and returns the digests.
    ///
    /// # Panics
    /// If a hashing thread panicked (the digest crates do not panic on any input).
    pub async fn finish(self) -> Digests {
        let (md5_hex, os_hash_hex) = tokio::join!(self.md5.finish(), self.os_hash.finish());
        Digests {
            size: self.size,
            md5_hex: md5_hex.expect("md5 thread panicked"),
            os_hash_algo: self.algo.name().to_owned(),
            os_hash_hex: os_hash_hex.expect("os_hash thread panicked"),
        }
    }
}

fn hash_stage(name: &str, algo: HashAlgo) -> std::io::Result<BlockingStage<String>> {
    BlockingStage::spawn(
        name,
        algo.hasher(),
        |hasher, chunk| hasher.update(chunk),
        |hasher| to_hex(&hasher.finalize()),
    )
}

/// Lower-case hex, as hashlib's `hexdigest()` writes it.
pub(crate) fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0x0f)] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for algo in [
            HashAlgo::Md5,
            HashAlgo::Sha224,
            HashAlgo::Sha256,
            HashAlgo::Sha384,
            HashAlgo::Sha512,
            HashAlgo::Sha512_224,
            HashAlgo::Sha512_256,
        ] {
            assert_eq!(HashAlgo::from_name(algo.name()), Some(algo));
        }
        assert_eq!(
            HashAlgo::from_name("SHA512-256"),
            Some(HashAlgo::Sha512_256)
        );
        assert_eq!(HashAlgo::from_name("crc32"), None);
    }

    #[tokio::test]
    async fn known_vectors() {
        let mut p = HashingPipeline::start(HashAlgo::Sha256);
        p.feed(Bytes::from_static(b"a")).await;
        p.feed(Bytes::new()).await;
        p.feed(Bytes::from_static(b"bc")).await;
        let d = p.finish().await;
        assert_eq!(d.size, 3);
        assert_eq!(d.md5_hex, "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(d.os_hash_algo, "sha256");
        assert_eq!(
            d.os_hash_hex,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[tokio::test]
    async fn dropped_pipeline_stops_its_threads() {
        let mut p = HashingPipeline::start(HashAlgo::Sha512);
        p.feed(Bytes::from_static(b"partial")).await;
        // Nothing to assert beyond "does not hang or panic": the threads see the queue
        // close and exit.
        drop(p);
    }
}
