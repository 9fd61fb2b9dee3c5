//! Disk reader benchmark: opens an image through the block-source layer
//! with EBS-sized blocks (512 KiB, as a snapshot read would), finds the root
//! filesystem, reads `/etc/os-release` and the dpkg status file, then lists
//! the whole tree; prints one JSON line (bytes fetched, wall time, peak
//! memory, a digest of what was read). Used by `scripts/bench-disk`.

#![expect(clippy::print_stdout, reason = "a benchmark prints its result")]

use std::sync::Arc;
use std::time::Instant;

use rampart_disk::{BlockSource, FileTree, ImageFile, open_root, walk};
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
    let started = Instant::now();
    let source: Arc<dyn BlockSource> =
        Arc::new(ImageFile::open_with(&image, block_size, rampart_disk::DEFAULT_CACHE_BYTES)?);
    let root = open_root(source.clone())?;
    let os_release = root.read_file("/etc/os-release", 64 << 10)?.ok_or("no os-release")?;
    let status = root
        .read_file("/var/lib/dpkg/status", 64 << 20)?
        .ok_or("no dpkg status")?;
    let packages = status
        .split(|b| *b == b'\n')
        .filter(|l| l.starts_with(b"Package: "))
        .count();
    let after_packages = source.stats();
    let packages_ms = started.elapsed().as_millis();
    let entries = walk(&root, "/", 10_000_000)?;
    let after_walk = source.stats();
    let walk_ms = started.elapsed().as_millis();
    let mut digest = sha2::Sha256::new();
    digest.update(&os_release);
    digest.update(&status);
    for (path, entry) in &entries {
        digest.update(format!("{path} {:?} {}\n", entry.kind, entry.size).as_bytes());
    }
    let digest: String = digest.finalize().iter().map(|b| format!("{b:02x}")).collect();
    println!(
        "{{\"volume_bytes\":{},\"block_size\":{},\"filesystem\":\"{}\",\"packages\":{},\"entries\":{},\
\"packages_bytes_fetched\":{},\"packages_blocks_fetched\":{},\"packages_ms\":{},\
\"walk_bytes_fetched\":{},\"walk_blocks_fetched\":{},\"walk_cache_hits\":{},\"walk_ms\":{},\
\"peak_rss_kib\":{},\"digest\":\"{}\"}}",
        source.size(),
        source.block_size(),
        root.filesystem,
        packages,
        entries.len(),
        after_packages.bytes_fetched,
        after_packages.blocks_fetched,
        packages_ms,
        after_walk.bytes_fetched,
        after_walk.blocks_fetched,
        after_walk.cache_hits,
        walk_ms,
        peak_rss_kib(),
        digest
    );
    Ok(())
}
