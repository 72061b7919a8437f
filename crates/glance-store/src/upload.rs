//! `write_stream`: the one way image data gets into any store. It fans each chunk of the
//! request body out to the store writer, the hashers and any inspectors, enforces the
//! size limits as bytes arrive, and either commits or leaves nothing behind.

use bytes::Bytes;
use futures_util::{Stream, StreamExt};

use crate::hashing::{Digests, HashAlgo, HashingPipeline};
use crate::{Store, StoreCaller, StoreError, StoreWriter, UploadTarget};

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

/// Sees every chunk of an upload, e.g. the disk format inspector. Called inline on the
/// request's task, so `observe` must do bounded work per chunk (the inspector copies a
/// few header regions and then only counts bytes); a thread hop per chunk would cost
/// more than that work.
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
    caller: &StoreCaller,
    body: S,
    algo: HashAlgo,
    limits: UploadLimits,
    mut observers: Vec<Box<dyn ChunkObserver>>,
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
    let target = UploadTarget {
        image_id,
        expected_size: limits.expected_size,
        caller,
    };
    let mut writer = store.begin_upload(&target).await?;

    let fed = pump(body, &limits, &mut hashes, &mut observers, writer.as_mut()).await;
    // Every observer gets its `finish`; the first rejection is reported.
    let checked = fed.and_then(|()| {
        let verdicts: Vec<Result<(), String>> = observers.iter_mut().map(|o| o.finish()).collect();
        verdicts
            .into_iter()
            .collect::<Result<(), String>>()
            .map_err(StoreError::Rejected)
    });
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
    observers: &mut [Box<dyn ChunkObserver>],
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
        for observer in observers.iter_mut() {
            observer.observe(&chunk);
        }
        hashes.feed(chunk.clone()).await;
        writer.write(chunk).await?;
    }
    match limits.expected_size {
        Some(expected) if expected != received => {
            Err(StoreError::SizeMismatch { expected, received })
        }
        _ => Ok(()),
    }
}
