//! Disk reader benchmark: opens an image through the block-source layer
//! with EBS-sized blocks (512 KiB, as a snapshot read would), finds the root
//! filesystem and runs the scanner's inspection (`rampart_machine::inspect`:
//! OS, package databases, lock files, secrets) on a fresh cache, then, as a
//! worst case, lists the whole tree. Prints one JSON line: bytes and blocks
//! fetched per phase, wall time, peak memory and a digest of what was found
//! (packages, secrets, the tree listing). Used by `scripts/bench-disk`.

#![expect(clippy::print_stdout, reason = "a benchmark prints its result")]

use std::sync::Arc;
use std::time::Instant;

use rampart_disk::{BlockSource, ImageFile, open_root, walk};
use rampart_machine::{InspectOptions, inspect};
use sha2::Digest as _;

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let image = args.next().ok_or("usage: bench_disk IMAGE [BLOCK_SIZE]")?;
    let block_size: u32 = args.next().map_or(Ok(512 << 10), |b| b.parse())?;

    // Phase 1: what a machine scan reads.
    let started = Instant::now();
    let source: Arc<dyn BlockSource> = Arc::new(ImageFile::open_with(
        &image,
        block_size,
        rampart_disk::DEFAULT_CACHE_BYTES,
    )?);
    let root = open_root(source.clone())?;
    let inventory = inspect(&root, &InspectOptions::default());
    let inspect_stats = source.stats();
    let inspect_ms = started.elapsed().as_millis();
    let inspect_rss = peak_rss_kib();

    // Phase 2 (worst case): every directory and inode of the tree.
    let walked_at = Instant::now();
    let entries = walk(&root, "/", 10_000_000)?;
    let walk_stats = source.stats();
    let walk_ms = walked_at.elapsed().as_millis();

    let mut digest = sha2::Sha256::new();
    for p in &inventory.packages {
        digest.update(format!("{} {}\n", p.name, p.version).as_bytes());
    }
    for s in &inventory.secrets {
        digest.update(format!("{} {} {}\n", s.path, s.kind, s.fingerprint).as_bytes());
    }
    for (path, entry) in &entries {
        digest.update(format!("{path} {:?} {}\n", entry.kind, entry.size).as_bytes());
    }
    let digest: String = digest
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    println!(
        "{{\"volume_bytes\":{},\"block_size\":{},\"filesystem\":\"{}\",\"os\":\"{}\",\"packages\":{},\
\"secrets\":{},\"secret_files_scanned\":{},\"errors\":{},\"entries\":{},\
\"inspect_bytes_fetched\":{},\"inspect_blocks_fetched\":{},\"inspect_ms\":{},\"inspect_peak_rss_kib\":{},\
\"walk_bytes_fetched\":{},\"walk_blocks_fetched\":{},\"walk_cache_hits\":{},\"walk_ms\":{},\
\"peak_rss_kib\":{},\"digest\":\"{}\"}}",
        source.size(),
        source.block_size(),
        root.filesystem,
        inventory.os.as_ref().map_or("-", |o| o.id.as_str()),
        inventory.packages.len(),
        inventory.secrets.len(),
        inventory.secret_files_scanned,
        inventory.errors.len(),
        entries.len(),
        inspect_stats.bytes_fetched,
        inspect_stats.blocks_fetched,
        inspect_ms,
        inspect_rss,
        walk_stats.bytes_fetched,
        walk_stats.blocks_fetched,
        walk_stats.cache_hits,
        walk_ms,
        peak_rss_kib(),
        digest
    );
    Ok(())
}
