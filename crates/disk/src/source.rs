//! Block sources: where a disk's bytes come from (an image file, an EBS
//! snapshot), read in the source's own block size through an LRU cache with
//! a byte budget, with counters for logs and benchmarks.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::DiskError;

/// Bytes and blocks read from a source so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadStats {
    /// Bytes fetched from the backing store (the file, the EBS API).
    pub bytes_fetched: u64,
    /// Blocks fetched from the backing store.
    pub blocks_fetched: u64,
    /// Reads answered from the block cache.
    pub cache_hits: u64,
    /// Reads of blocks the snapshot does not hold (read as zeros, never fetched).
    pub zero_blocks: u64,
}

/// A disk as fixed-size blocks. Implementations are shared between threads
/// and read lazily: a block is fetched only when a reader needs it.
pub trait BlockSource: Send + Sync + fmt::Debug {
    /// Size of the disk in bytes.
    fn size(&self) -> u64;

    /// Block size in bytes (what the backing store reports; never 0).
    fn block_size(&self) -> u32;

    /// Reads block `index`: exactly [`BlockSource::block_size`] bytes (the
    /// part past the end of the disk reads as zeros).
    fn read_block(&self, index: u64) -> Result<Arc<[u8]>, DiskError>;

    /// What this source is, for error messages (`snapshot `snap-…``).
    fn describe(&self) -> String;

    /// Counters so far.
    fn stats(&self) -> ReadStats {
        ReadStats::default()
    }

    /// Reads `buf.len()` bytes at `offset`; reading past the end of the
    /// disk is an error.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), DiskError> {
        let end = offset
            .checked_add(buf.len() as u64)
            .filter(|end| *end <= self.size())
            .ok_or_else(|| DiskError::Io {
                what: format!("{} at offset {offset}", self.describe()),
                source: std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    format!("read of {} bytes past the end of the disk", buf.len()),
                ),
            })?;
        let bs = u64::from(self.block_size().max(1));
        let mut pos = offset;
        let mut done = 0usize;
        while pos < end {
            let index = pos / bs;
            let within = (pos % bs) as usize;
            let block = self.read_block(index)?;
            let take = (block.len().saturating_sub(within)).min(buf.len() - done);
            if take == 0 {
                return Err(DiskError::Corrupt {
                    what: self.describe(),
                    detail: format!("block {index} is shorter than the block size"),
                });
            }
            let src = block.get(within..within + take);
            let dst = buf.get_mut(done..done + take);
            if let (Some(src), Some(dst)) = (src, dst) {
                dst.copy_from_slice(src);
            }
            done += take;
            pos += take as u64;
        }
        Ok(())
    }
}

/// An LRU cache of blocks with a byte budget, and the source's counters.
#[derive(Debug)]
pub(crate) struct BlockCache {
    budget: u64,
    inner: Mutex<CacheInner>,
    pub(crate) bytes_fetched: AtomicU64,
    pub(crate) blocks_fetched: AtomicU64,
    pub(crate) cache_hits: AtomicU64,
    pub(crate) zero_blocks: AtomicU64,
}

#[derive(Debug, Default)]
struct CacheInner {
    tick: u64,
    bytes: u64,
    blocks: HashMap<u64, (Arc<[u8]>, u64)>,
    by_age: BTreeMap<u64, u64>,
}

impl BlockCache {
    pub(crate) fn new(budget: u64) -> Self {
        Self {
            budget,
            inner: Mutex::new(CacheInner::default()),
            bytes_fetched: AtomicU64::new(0),
            blocks_fetched: AtomicU64::new(0),
            cache_hits: AtomicU64::new(0),
            zero_blocks: AtomicU64::new(0),
        }
    }

    pub(crate) fn get(&self, index: u64) -> Option<Arc<[u8]>> {
        let mut inner = self.inner.lock().ok()?;
        inner.tick += 1;
        let tick = inner.tick;
        let (block, old) = {
            let entry = inner.blocks.get_mut(&index)?;
            let old = entry.1;
            entry.1 = tick;
            (entry.0.clone(), old)
        };
        inner.by_age.remove(&old);
        inner.by_age.insert(tick, index);
        self.cache_hits.fetch_add(1, Ordering::Relaxed);
        Some(block)
    }

    /// Whether a block is cached (no counters, no LRU update).
    pub(crate) fn contains(&self, index: u64) -> bool {
        self.inner
            .lock()
            .is_ok_and(|inner| inner.blocks.contains_key(&index))
    }

    pub(crate) fn insert(&self, index: u64, block: Arc<[u8]>) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        let len = block.len() as u64;
        if len > self.budget {
            return;
        }
        inner.tick += 1;
        let tick = inner.tick;
        if let Some((old, age)) = inner.blocks.insert(index, (block, tick)) {
            inner.bytes -= old.len() as u64;
            inner.by_age.remove(&age);
        }
        inner.by_age.insert(tick, index);
        inner.bytes += len;
        while inner.bytes > self.budget {
            let Some((_, victim)) = inner.by_age.pop_first() else {
                break;
            };
            if let Some((old, _)) = inner.blocks.remove(&victim) {
                inner.bytes -= old.len() as u64;
            }
        }
    }

    pub(crate) fn fetched(&self, bytes: u64) {
        self.bytes_fetched.fetch_add(bytes, Ordering::Relaxed);
        self.blocks_fetched.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn stats(&self) -> ReadStats {
        ReadStats {
            bytes_fetched: self.bytes_fetched.load(Ordering::Relaxed),
            blocks_fetched: self.blocks_fetched.load(Ordering::Relaxed),
            cache_hits: self.cache_hits.load(Ordering::Relaxed),
            zero_blocks: self.zero_blocks.load(Ordering::Relaxed),
        }
    }
}

/// Default cache budget: 64 MiB (128 EBS blocks of 512 KiB).
pub const DEFAULT_CACHE_BYTES: u64 = 64 << 20;

/// A raw disk image file (tests, benchmarks, a local image), read in
/// `block_size` blocks through the same LRU cache as a snapshot so the
/// counters show what a snapshot read would fetch.
#[derive(Debug)]
pub struct ImageFile {
    path: PathBuf,
    file: std::fs::File,
    size: u64,
    block_size: u32,
    cache: BlockCache,
}

impl ImageFile {
    /// Opens an image with 4 KiB blocks and the default cache.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, DiskError> {
        Self::open_with(path, 4096, DEFAULT_CACHE_BYTES)
    }

    /// Opens an image read in `block_size` blocks (e.g. 524288, the EBS
    /// block size) with a cache of `cache_bytes`.
    pub fn open_with(
        path: impl AsRef<Path>,
        block_size: u32,
        cache_bytes: u64,
    ) -> Result<Self, DiskError> {
        let path = path.as_ref().to_path_buf();
        let io = |source| DiskError::Io {
            what: path.display().to_string(),
            source,
        };
        if block_size == 0 {
            return Err(DiskError::Unsupported {
                what: "block size",
                detail: "0".to_owned(),
            });
        }
        let file = std::fs::File::open(&path).map_err(io)?;
        let size = file.metadata().map_err(io)?.len();
        Ok(Self {
            path,
            file,
            size,
            block_size,
            cache: BlockCache::new(cache_bytes),
        })
    }
}

impl BlockSource for ImageFile {
    fn size(&self) -> u64 {
        self.size
    }

    fn block_size(&self) -> u32 {
        self.block_size
    }

    fn describe(&self) -> String {
        format!("image `{}`", self.path.display())
    }

    fn stats(&self) -> ReadStats {
        self.cache.stats()
    }

    fn read_block(&self, index: u64) -> Result<Arc<[u8]>, DiskError> {
        use std::os::unix::fs::FileExt;
        if let Some(block) = self.cache.get(index) {
            return Ok(block);
        }
        let bs = u64::from(self.block_size);
        let start = index.saturating_mul(bs);
        let mut buf = vec![0u8; self.block_size as usize];
        let avail = self.size.saturating_sub(start).min(bs) as usize;
        if let Some(dst) = buf.get_mut(..avail) {
            self.file
                .read_exact_at(dst, start)
                .map_err(|source| DiskError::Io {
                    what: format!("{} block {index}", self.describe()),
                    source,
                })?;
        }
        self.cache.fetched(avail as u64);
        let block: Arc<[u8]> = buf.into();
        self.cache.insert(index, block.clone());
        Ok(block)
    }
}

/// A byte range of a block source (a partition, or the whole disk).
#[derive(Debug, Clone)]
pub struct Volume {
    source: Arc<dyn BlockSource>,
    offset: u64,
    len: u64,
}

impl Volume {
    /// The whole disk.
    pub fn whole(source: Arc<dyn BlockSource>) -> Self {
        let len = source.size();
        Self {
            source,
            offset: 0,
            len,
        }
    }

    /// `len` bytes at `offset` (clamped to the disk).
    pub fn range(source: Arc<dyn BlockSource>, offset: u64, len: u64) -> Self {
        let size = source.size();
        let offset = offset.min(size);
        let len = len.min(size - offset);
        Self {
            source,
            offset,
            len,
        }
    }

    /// Length in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the volume is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Byte offset on the disk.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The disk under this volume.
    pub fn source(&self) -> &Arc<dyn BlockSource> {
        &self.source
    }

    /// Reads `buf.len()` bytes at `offset` inside the volume.
    pub fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), DiskError> {
        let fits = offset
            .checked_add(buf.len() as u64)
            .is_some_and(|end| end <= self.len);
        if !fits {
            return Err(DiskError::Corrupt {
                what: self.source.describe(),
                detail: format!(
                    "read of {} bytes at {offset} past the end of a {}-byte volume",
                    buf.len(),
                    self.len
                ),
            });
        }
        self.source.read_at(self.offset + offset, buf)
    }

    /// Reads `len` bytes at `offset` into a new buffer.
    pub fn read_vec(&self, offset: u64, len: usize) -> Result<Vec<u8>, DiskError> {
        let mut buf = vec![0u8; len];
        self.read_at(offset, &mut buf)?;
        Ok(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_keeps_its_budget_and_evicts_the_least_recent() {
        let cache = BlockCache::new(3 * 4);
        for i in 0..3u64 {
            cache.insert(i, vec![i as u8; 4].into());
        }
        // Touch 0 so 1 is the oldest.
        assert!(cache.get(0).is_some());
        cache.insert(3, vec![3; 4].into());
        assert!(cache.contains(0));
        assert!(!cache.contains(1));
        assert!(cache.contains(2));
        assert!(cache.contains(3));
        assert_eq!(cache.stats().cache_hits, 1);
    }

    #[test]
    fn an_image_reads_across_blocks_and_counts_fetches() -> Result<(), Box<dyn std::error::Error>>
    {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("img");
        let data: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &data)?;
        let image = ImageFile::open_with(&path, 4096, 1 << 20)?;
        let mut buf = vec![0u8; 5000];
        image.read_at(3000, &mut buf)?;
        assert_eq!(buf.as_slice(), data.get(3000..8000).unwrap_or_default());
        assert_eq!(image.stats().blocks_fetched, 2);
        image.read_at(4096, &mut buf[..10])?;
        assert_eq!(image.stats().blocks_fetched, 2);
        assert_eq!(image.stats().cache_hits, 1);
        // The last, short block reads as zeros past the end, but a read past
        // the end of the disk is an error.
        assert!(image.read_at(9999, &mut [0u8; 2]).is_err());
        Ok(())
    }
}
