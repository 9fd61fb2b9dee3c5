//! An EBS snapshot read through the EBS direct APIs: `ListSnapshotBlocks`
//! once (every page), then `GetSnapshotBlock` lazily for the blocks a reader
//! needs, in the block size the API reports.
//!
//! Filesystem readers are synchronous; the API is async. The bridge: reads
//! spawn their requests on the Tokio runtime the snapshot was opened on and
//! wait for the answer on a plain channel with a time limit. Call the
//! synchronous side from a blocking thread (`tokio::task::spawn_blocking`)
//! of a multi-threaded runtime, or from any thread outside the runtime; a
//! read can then never deadlock (at worst it times out into an error).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use aws_sdk_ebs::error::DisplayErrorContext;
use aws_sdk_ebs::types::ChecksumAlgorithm;
use base64::Engine as _;
use sha2::Digest as _;
use tokio::runtime::Handle;

use crate::DiskError;
use crate::source::{BlockCache, BlockSource, DEFAULT_CACHE_BYTES, ReadStats};

/// How a snapshot is read.
#[derive(Debug, Clone)]
pub struct EbsOptions {
    /// LRU cache budget in bytes.
    pub cache_bytes: u64,
    /// Blocks fetched at once when reads are sequential (1 = no read-ahead);
    /// also the bound on concurrent `GetSnapshotBlock` calls.
    pub read_ahead: u32,
    /// Verify each block's SHA-256 checksum when the API returns one.
    pub verify_checksums: bool,
    /// Backstop on one read (the SDK's own timeouts and retries apply first).
    pub read_timeout: Duration,
}

impl Default for EbsOptions {
    fn default() -> Self {
        Self {
            cache_bytes: DEFAULT_CACHE_BYTES,
            read_ahead: 4,
            verify_checksums: true,
            read_timeout: Duration::from_secs(300),
        }
    }
}

/// An EBS snapshot as a [`BlockSource`].
#[derive(Debug)]
pub struct EbsSnapshot {
    client: aws_sdk_ebs::Client,
    snapshot_id: String,
    handle: Handle,
    size: u64,
    block_size: u32,
    /// Listed blocks: index → block token. Blocks not listed read as zeros.
    tokens: Arc<HashMap<u64, String>>,
    zero: Arc<[u8]>,
    cache: BlockCache,
    /// The block after the last fetched window (a miss there is sequential
    /// and fetches a read-ahead window).
    next_sequential: AtomicU64,
    options: EbsOptions,
}

fn api_error(snapshot_id: &str, what: &str, detail: String) -> DiskError {
    DiskError::Io {
        what: format!("snapshot `{snapshot_id}` {what}"),
        source: std::io::Error::other(detail),
    }
}

impl EbsSnapshot {
    /// Lists the snapshot's blocks (every page) and returns a lazy reader.
    /// Must run inside a Tokio runtime: later reads use it.
    pub async fn open(
        client: aws_sdk_ebs::Client,
        snapshot_id: &str,
        options: EbsOptions,
    ) -> Result<Self, DiskError> {
        let mut tokens = HashMap::new();
        let mut next: Option<String> = None;
        let mut size_gib: Option<i64> = None;
        let mut block_size: Option<i32> = None;
        // A bound on pages (a snapshot of 64 TiB in 512 KiB blocks is 128 Mi
        // blocks, 13,108 pages of 10,000).
        for _ in 0..20_000 {
            let out = client
                .list_snapshot_blocks()
                .snapshot_id(snapshot_id)
                .max_results(10_000)
                .set_next_token(next.clone())
                .send()
                .await
                .map_err(|e| {
                    api_error(
                        snapshot_id,
                        "ListSnapshotBlocks",
                        DisplayErrorContext(&e).to_string(),
                    )
                })?;
            size_gib = size_gib.or(out.volume_size());
            block_size = block_size.or(out.block_size());
            for block in out.blocks() {
                if let (Some(index), Some(token)) = (block.block_index(), block.block_token()) {
                    let index = u64::try_from(index).map_err(|_| DiskError::Corrupt {
                        what: format!("snapshot `{snapshot_id}`"),
                        detail: format!("negative block index `{index}`"),
                    })?;
                    tokens.insert(index, token.to_owned());
                }
            }
            match out.next_token() {
                Some(token) if !token.is_empty() && Some(token) != next.as_deref() => {
                    next = Some(token.to_owned());
                }
                _ => {
                    next = None;
                    break;
                }
            }
        }
        if next.is_some() {
            return Err(api_error(
                snapshot_id,
                "ListSnapshotBlocks",
                "too many pages".to_owned(),
            ));
        }
        let block_size = block_size
            .and_then(|b| u32::try_from(b).ok())
            .filter(|b| *b > 0)
            .ok_or_else(|| DiskError::Corrupt {
                what: format!("snapshot `{snapshot_id}`"),
                detail: "ListSnapshotBlocks reported no block size".to_owned(),
            })?;
        let size = size_gib
            .and_then(|g| u64::try_from(g).ok())
            .map(|g| g << 30)
            .ok_or_else(|| DiskError::Corrupt {
                what: format!("snapshot `{snapshot_id}`"),
                detail: "ListSnapshotBlocks reported no volume size".to_owned(),
            })?;
        tracing::debug!(
            snapshot = snapshot_id,
            blocks = tokens.len(),
            block_size,
            size,
            "listed snapshot blocks"
        );
        Ok(Self {
            client,
            snapshot_id: snapshot_id.to_owned(),
            handle: Handle::current(),
            size,
            block_size,
            tokens: Arc::new(tokens),
            zero: vec![0u8; block_size as usize].into(),
            cache: BlockCache::new(options.cache_bytes),
            next_sequential: AtomicU64::new(u64::MAX),
            options,
        })
    }

    /// The snapshot id.
    pub fn snapshot_id(&self) -> &str {
        &self.snapshot_id
    }

    /// How many blocks the snapshot holds (the rest read as zeros).
    pub fn listed_blocks(&self) -> usize {
        self.tokens.len()
    }

    fn fetch(&self, indices: Vec<u64>) -> Result<Vec<(u64, Arc<[u8]>)>, DiskError> {
        let (tx, rx) = mpsc::channel();
        let client = self.client.clone();
        let snapshot_id = self.snapshot_id.clone();
        let tokens = self.tokens.clone();
        let block_size = self.block_size as usize;
        let verify = self.options.verify_checksums;
        let count = indices.len();
        for index in indices {
            let tx = tx.clone();
            let client = client.clone();
            let snapshot_id = snapshot_id.clone();
            let token = tokens.get(&index).cloned().unwrap_or_default();
            self.handle.spawn(async move {
                let result =
                    get_block(&client, &snapshot_id, index, &token, block_size, verify).await;
                // The reader may have given up (timeout): nothing to do then.
                let _ = tx.send((index, result));
            });
        }
        drop(tx);
        let mut out = Vec::with_capacity(count);
        let mut first_error = None;
        for _ in 0..count {
            match rx.recv_timeout(self.options.read_timeout) {
                Ok((index, Ok(block))) => out.push((index, block)),
                Ok((_, Err(e))) => {
                    first_error.get_or_insert(e);
                }
                Err(_) => {
                    return Err(api_error(
                        &self.snapshot_id,
                        "GetSnapshotBlock",
                        format!(
                            "no answer within {} s (is the runtime blocked?)",
                            self.options.read_timeout.as_secs()
                        ),
                    ));
                }
            }
        }
        match first_error {
            Some(e) if out.is_empty() => Err(e),
            _ => Ok(out),
        }
    }
}

async fn get_block(
    client: &aws_sdk_ebs::Client,
    snapshot_id: &str,
    index: u64,
    token: &str,
    block_size: usize,
    verify: bool,
) -> Result<Arc<[u8]>, DiskError> {
    let what = format!("block {index}");
    let api_index = i32::try_from(index)
        .map_err(|_| api_error(snapshot_id, &what, "block index out of range".to_owned()))?;
    let out = client
        .get_snapshot_block()
        .snapshot_id(snapshot_id)
        .block_index(api_index)
        .block_token(token)
        .send()
        .await
        .map_err(|e| api_error(snapshot_id, &what, DisplayErrorContext(&e).to_string()))?;
    let checksum = out.checksum().map(str::to_owned);
    let algorithm = out.checksum_algorithm().cloned();
    let data = out
        .block_data
        .collect()
        .await
        .map_err(|e| api_error(snapshot_id, &what, e.to_string()))?
        .into_bytes();
    if data.len() > block_size {
        return Err(DiskError::Corrupt {
            what: format!("snapshot `{snapshot_id}` {what}"),
            detail: format!("{} bytes in a {block_size}-byte block", data.len()),
        });
    }
    if verify
        && let (Some(expected), Some(ChecksumAlgorithm::ChecksumAlgorithmSha256)) =
            (checksum, algorithm)
    {
        let actual = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(&data));
        if actual != expected {
            return Err(DiskError::Corrupt {
                what: format!("snapshot `{snapshot_id}` {what}"),
                detail: format!("checksum `{actual}` differs from the reported `{expected}`"),
            });
        }
    }
    let mut block = data.to_vec();
    block.resize(block_size, 0);
    Ok(block.into())
}

impl BlockSource for EbsSnapshot {
    fn size(&self) -> u64 {
        self.size
    }

    fn block_size(&self) -> u32 {
        self.block_size
    }

    fn describe(&self) -> String {
        format!("snapshot `{}`", self.snapshot_id)
    }

    fn stats(&self) -> ReadStats {
        self.cache.stats()
    }

    fn read_block(&self, index: u64) -> Result<Arc<[u8]>, DiskError> {
        if index.saturating_mul(u64::from(self.block_size)) >= self.size {
            return Err(api_error(
                &self.snapshot_id,
                &format!("block {index}"),
                "past the end of the volume".to_owned(),
            ));
        }
        if let Some(block) = self.cache.get(index) {
            return Ok(block);
        }
        if !self.tokens.contains_key(&index) {
            self.cache.zero_blocks.fetch_add(1, Ordering::Relaxed);
            return Ok(self.zero.clone());
        }
        let sequential = self.next_sequential.load(Ordering::Relaxed) == index;
        let window = if sequential {
            u64::from(self.options.read_ahead.max(1))
        } else {
            1
        };
        let indices: Vec<u64> = (index..index.saturating_add(window))
            .filter(|i| *i == index || (self.tokens.contains_key(i) && !self.cache.contains(*i)))
            .collect();
        let fetched = self.fetch(indices)?;
        let mut wanted = None;
        for (i, block) in fetched {
            self.cache.fetched(block.len() as u64);
            self.cache.insert(i, block.clone());
            if i == index {
                wanted = Some(block);
            }
        }
        self.next_sequential
            .store(index.saturating_add(window), Ordering::Relaxed);
        match wanted {
            Some(block) => Ok(block),
            // The wanted block failed while a read-ahead one succeeded.
            None => self.fetch(vec![index])?.into_iter().next().map_or_else(
                || {
                    Err(api_error(
                        &self.snapshot_id,
                        &format!("block {index}"),
                        "no data returned".to_owned(),
                    ))
                },
                |(_, block)| {
                    self.cache.fetched(block.len() as u64);
                    self.cache.insert(index, block.clone());
                    Ok(block)
                },
            ),
        }
    }
}
