//! `write_stream`: the one way image data gets into any store. It fans each chunk of the
//! request body out to the store writer, the hashers and any inspectors, enforces the
//! size limits as bytes arrive, and either commits or leaves nothing behind.

use bytes::Bytes;
use futures_util::{Stream, StreamExt};

use crate::hashing::{BlockingStage, Digests, HashAlgo, HashingPipeline};
use crate::{Store, StoreError, StoreWriter};

/// Size rules for one upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadLimits {
    /// `image_size_cap` (or the remaining quota): the upload fails as soon as the
    /// running total reaches `max_bytes + 1`. `u64::MAX` for no limit.
    pub max_bytes: u64,
    /// The size the client declared (`x-openstack-image-size` / Content-Length); the
    /// data must be exactly this long.
    pub expected_size: Option<u64>,
}

impl UploadLimits {
    pub fn unlimited() -> Self {
        Self {
            max_bytes: u64::MAX,
            expected_size: None,
        }
    }
}

/// A committed upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenObject {
    pub location: String,
    pub digests: Digests,
}

/// Sees every chunk of an upload, e.g. the disk format inspector. Runs on its own
/// thread beside the hashers, so it may do CPU work without stalling the transfer.
pub trait ChunkObserver: Send {
    fn observe(&mut self, chunk: &[u8]);
    /// Called once after the last chunk; `Err` rejects the upload
    /// ([`StoreError::Rejected`]) and nothing is committed.
    fn finish(&mut self) -> Result<(), String>;
}

/// Streams `body` into `store` as the data of `image_id`, hashing it on the way.
///
/// Memory use is bounded by a few queued chunks per pipeline stage whatever the image
/// size. On any error (the body fails, a limit is crossed, an observer rejects, the
/// store fails) the upload is aborted so neither a partial nor a final object remains;
/// if the returned future is dropped midway, the writer's `Drop` does the same.
pub async fn write_stream<S, E>(
    store: &dyn Store,
    image_id: &str,
    body: S,
    algo: HashAlgo,
    limits: UploadLimits,
    observers: Vec<Box<dyn ChunkObserver>>,
) -> Result<WrittenObject, StoreError>
where
    S: Stream<Item = Result<Bytes, E>> + Send + Unpin,
    E: std::fmt::Display,
{
    // A declared size over the cap can be refused before any byte is read.
    if let Some(expected) = limits.expected_size {
        if expected > limits.max_bytes {
            return Err(StoreError::SizeLimitExceeded {
                limit: limits.max_bytes,
            });
        }
    }
    // Threads first: if the OS refuses them, no store object has been started.
    let mut hashes = HashingPipeline::try_start(algo)?;
    let mut inspectors = if observers.is_empty() {
        None
    } else {
        Some(observer_stage(observers)?)
    };
    let mut writer = store.begin_upload(image_id).await?;

    let fed = pump(body, &limits, &mut hashes, &mut inspectors, writer.as_mut()).await;
    let checked = match fed {
        Ok(()) => match inspectors {
            Some(stage) => match stage.finish().await {
                Some(Ok(())) => Ok(()),
                Some(Err(why)) => Err(StoreError::Rejected(why)),
                None => Err(StoreError::Rejected("an upload inspector crashed".into())),
            },
            None => Ok(()),
        },
        Err(err) => Err(err),
    };
    if let Err(err) = checked {
        // Drops `hashes`, closing its queues, so its threads end too.
        writer.abort().await;
        return Err(err);
    }
    // Hashing can no longer fail, so let the tail of the hashing and the store's fsync
    // and rename overlap.
    let (digests, location) = tokio::join!(hashes.finish(), writer.commit());
    Ok(WrittenObject {
        location: location?,
        digests,
    })
}

/// Moves the body through every stage, enforcing the limits per chunk.
async fn pump<S, E>(
    mut body: S,
    limits: &UploadLimits,
    hashes: &mut HashingPipeline,
    inspectors: &mut Option<BlockingStage<Result<(), String>>>,
    writer: &mut dyn StoreWriter,
) -> Result<(), StoreError>
where
    S: Stream<Item = Result<Bytes, E>> + Send + Unpin,
    E: std::fmt::Display,
{
    let mut received: u64 = 0;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| StoreError::Source(e.to_string()))?;
        if chunk.is_empty() {
            continue;
        }
        received = received.saturating_add(chunk.len() as u64);
        // Checked before the chunk goes anywhere: the chunk that crosses the cap is
        // never written, and the rest of the body is never read.
        if received > limits.max_bytes {
            return Err(StoreError::SizeLimitExceeded {
                limit: limits.max_bytes,
            });
        }
        if let Some(expected) = limits.expected_size {
            // More than declared can be refused now rather than after reading it all.
            if received > expected {
                return Err(StoreError::SizeMismatch { expected, received });
            }
        }
        hashes.feed(chunk.clone()).await;
        if let Some(stage) = inspectors {
            stage.feed(chunk.clone()).await;
        }
        writer.write(chunk).await?;
    }
    match limits.expected_size {
        Some(expected) if expected != received => {
            Err(StoreError::SizeMismatch { expected, received })
        }
        _ => Ok(()),
    }
}

/// All observers share one thread: they are light next to hashing, and one thread per
/// observer per upload would be wasteful.
fn observer_stage(
    observers: Vec<Box<dyn ChunkObserver>>,
) -> std::io::Result<BlockingStage<Result<(), String>>> {
    BlockingStage::spawn(
        "glance-inspect",
        observers,
        |observers, chunk| {
            for observer in observers.iter_mut() {
                observer.observe(chunk);
            }
        },
        |mut observers| {
            // Every observer gets its `finish`; the first rejection is reported.
            let mut verdict = Ok(());
            for observer in observers.iter_mut() {
                let result = observer.finish();
                if verdict.is_ok() {
                    verdict = result;
                }
            }
            verdict
        },
    )
}
