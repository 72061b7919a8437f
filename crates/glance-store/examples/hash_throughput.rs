//! Upload throughput of the filesystem store, for the benchmark docs.
//!
//! `cargo run --release -p glance-store --example hash_throughput [-- DIR [MIB]]`
//!
//! Pushes MIB (default 1024) mebibytes of generated data, in 64 KiB frames (what an
//! HTTP body typically delivers) and in 1 MiB chunks, through:
//! - the hashing pipeline alone (md5 + sha512 on two threads),
//! - the filesystem writer alone (page cache, then the commit's fsync + rename),
//! - `write_stream`, which does both at once, as an upload does.
//!
//! DIR defaults to a temp dir; point it at the disk (or tmpfs) you want to measure.
//! MB/s is 10^6 bytes per second.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::stream;
use glance_store::{
    write_stream, FilesystemStore, HashAlgo, HashingPipeline, Store, StoreCaller, StoreInfo,
    UploadLimits, UploadTarget,
};

const POOL_CHUNKS: usize = 16;
const MIB: usize = 1 << 20;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let tmp = tempfile::tempdir()?;
    let dir = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(|| tmp.path().to_path_buf());
    let total_mib: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(1024);
    let total = (total_mib * MIB) as u64;

    // A few distinct megabytes, generated once and handed out as cheap `Bytes` clones,
    // so generating data does not show up in the numbers.
    let pool: Vec<Bytes> = (0..POOL_CHUNKS)
        .map(|i| Bytes::from(noise(MIB, i as u32 + 1)))
        .collect();
    let chunks = |frame: usize| -> Vec<Bytes> {
        (0..total_mib)
            .flat_map(|i| {
                let mib = pool[i % POOL_CHUNKS].clone();
                (0..MIB / frame).map(move |j| mib.slice(j * frame..(j + 1) * frame))
            })
            .collect()
    };
    let info = StoreInfo {
        id: "file".into(),
        store_type: "file".into(),
        ..StoreInfo::default()
    };
    let store = FilesystemStore::new(info, dir.join("hash_throughput"))?;
    println!("{total_mib} MiB into {}", store.datadir().display());

    // Untimed warm-up: the first writes after boot fault memory into the page cache
    // (slowly, on a VM); without this the first row measures that, not our code.
    let mut writer = store
        .begin_upload(&UploadTarget {
            image_id: "warm-up",
            expected_size: None,
            caller: &StoreCaller::service(),
        })
        .await?;
    for chunk in chunks(MIB) {
        writer.write(chunk).await?;
    }
    writer.abort().await;

    for frame in [64 * 1024, MIB] {
        println!("-- {} KiB chunks", frame / 1024);

        let started = Instant::now();
        let mut hashes = HashingPipeline::start(HashAlgo::Sha512);
        for chunk in chunks(frame) {
            hashes.feed(chunk).await;
        }
        hashes.finish().await;
        report("hashing only (md5 + sha512)", total, started.elapsed());

        let started = Instant::now();
        let mut writer = store
            .begin_upload(&UploadTarget {
                image_id: "writer-only",
                expected_size: None,
                caller: &StoreCaller::service(),
            })
            .await?;
        for chunk in chunks(frame) {
            writer.write(chunk).await?;
        }
        let written = started.elapsed();
        let location = writer.commit().await?;
        report("store write only, to page cache", total, written);
        report(
            "store write only, incl. fsync + rename",
            total,
            started.elapsed(),
        );
        store.delete(&location, &StoreCaller::service()).await?;

        let started = Instant::now();
        let body = stream::iter(chunks(frame).into_iter().map(Ok::<_, std::io::Error>));
        let limits = UploadLimits {
            max_bytes: total,
            expected_size: Some(total),
        };
        let object = write_stream(
            &store,
            "write-stream",
            &StoreCaller::service(),
            body,
            HashAlgo::Sha512,
            limits,
            Vec::new(),
        )
        .await?;
        report(
            "write_stream (hash + write + fsync)",
            total,
            started.elapsed(),
        );
        store
            .delete(&object.location, &StoreCaller::service())
            .await?;
    }
    std::fs::remove_dir(store.datadir())?;
    Ok(())
}

fn report(what: &str, bytes: u64, took: Duration) {
    let mb_s = bytes as f64 / took.as_secs_f64() / 1e6;
    println!("{what:<42} {mb_s:>8.0} MB/s  ({:.2} s)", took.as_secs_f64());
}

/// xorshift bytes: incompressible enough that no layer can cheat.
fn noise(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9) | 1;
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}
