//! XFS, read-only: superblock v4 and v5, inode cores v1–v3 (with 64-bit
//! extent counters), data forks in local, extents and B+tree format,
//! directories in shortform, block, leaf and node format (their data blocks
//! are read; the hash index is not needed to list or look up), symbolic
//! links inline or remote, regular files through extents or a B+tree
//! (unwritten extents and holes read as zeros).
//!
//! Not read: realtime files, files and directories of filesystems with
//! incompatible features this reader does not know (e.g. metadir), and
//! anything whose structures fail the checks below: those are errors,
//! never an empty tree. Metadata checksums are not verified.

use std::collections::VecDeque;

use crate::source::Volume;
use crate::{DirEntry, DiskError, EntryKind, FileTree};

const INCOMPAT_FTYPE: u32 = 0x1;
const INCOMPAT_NREXT64: u32 = 0x20;
/// ftype, sparse inodes, meta UUID, bigtime, needsrepair, nrext64.
const INCOMPAT_KNOWN: u32 = 0x1 | 0x2 | 0x4 | 0x8 | 0x10 | 0x20;
const VERSION2_FTYPE: u32 = 0x200;
const VERSION_DIRV2: u16 = 0x2000;
const DIFLAG_REALTIME: u16 = 0x1;
const DIFLAG2_NREXT64: u64 = 1 << 4;
/// Directory data blocks live below this byte offset of a directory.
const DIR2_LEAF_OFFSET: u64 = 1 << 35;
const MAX_SYMLINKS: usize = 40;
const MAX_SYMLINK_LEN: u64 = 1024;
const MAX_EXTENTS: usize = 1 << 22;

const S_IFMT: u16 = 0o170_000;
const S_IFDIR: u16 = 0o040_000;
const S_IFREG: u16 = 0o100_000;
const S_IFLNK: u16 = 0o120_000;

fn be16(b: &[u8], at: usize) -> u16 {
    b.get(at..at + 2)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u16::from_be_bytes)
}

fn be32(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u32::from_be_bytes)
}

fn be64(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 8)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u64::from_be_bytes)
}

fn corrupt(what: impl Into<String>, detail: impl Into<String>) -> DiskError {
    DiskError::Corrupt {
        what: what.into(),
        detail: detail.into(),
    }
}

#[derive(Debug, Clone)]
struct Superblock {
    block_size: u64,
    ag_blocks: u64,
    ag_count: u64,
    inode_size: usize,
    ag_blk_log: u32,
    inop_blk_log: u32,
    dir_block_size: u64,
    root_ino: u64,
    v5: bool,
    ftype: bool,
}

impl Superblock {
    fn parse(b: &[u8]) -> Result<Self, DiskError> {
        let sb = |d: String| corrupt("XFS superblock", d);
        if b.get(..4) != Some(b"XFSB") {
            return Err(sb("bad magic".to_owned()));
        }
        let version = be16(b, 100);
        let v5 = match version & 0xF {
            5 => true,
            4 => false,
            v => {
                return Err(DiskError::Unsupported {
                    what: "filesystem",
                    detail: format!("XFS version `{v}`"),
                });
            }
        };
        if !v5 && version & VERSION_DIRV2 == 0 {
            return Err(DiskError::Unsupported {
                what: "filesystem",
                detail: "XFS with version 1 directories".to_owned(),
            });
        }
        let incompat = if v5 { be32(b, 216) } else { 0 };
        if incompat & !INCOMPAT_KNOWN != 0 {
            return Err(DiskError::Unsupported {
                what: "filesystem",
                detail: format!(
                    "XFS incompatible features `{:#x}`",
                    incompat & !INCOMPAT_KNOWN
                ),
            });
        }
        let _ = INCOMPAT_NREXT64;
        let block_size = u64::from(be32(b, 4));
        let block_log = u32::from(b.get(120).copied().unwrap_or(0));
        let inode_size = usize::from(be16(b, 104));
        let inode_log = u32::from(b.get(122).copied().unwrap_or(0));
        let inop_blk_log = u32::from(b.get(123).copied().unwrap_or(0));
        let ag_blk_log = u32::from(b.get(124).copied().unwrap_or(0));
        let dir_blk_log = u32::from(b.get(192).copied().unwrap_or(0));
        if !(9..=16).contains(&block_log) || block_size != 1 << block_log {
            return Err(sb(format!("block size `{block_size}`")));
        }
        if !(8..=11).contains(&inode_log)
            || inode_size != 1 << inode_log
            || inop_blk_log != block_log.saturating_sub(inode_log)
            || inode_log > block_log
        {
            return Err(sb(format!("inode size `{inode_size}`")));
        }
        let ag_blocks = u64::from(be32(b, 84));
        let ag_count = u64::from(be32(b, 88));
        if ag_blocks == 0 || ag_count == 0 || ag_blk_log > 31 || ag_blocks > 1 << ag_blk_log {
            return Err(sb(format!(
                "allocation groups: `{ag_count}` of `{ag_blocks}` blocks"
            )));
        }
        if dir_blk_log > 8 || block_log + dir_blk_log > 16 {
            return Err(sb(format!("directory block log `{dir_blk_log}`")));
        }
        let features2 = be32(b, 200);
        Ok(Self {
            block_size,
            ag_blocks,
            ag_count,
            inode_size,
            ag_blk_log,
            inop_blk_log,
            dir_block_size: block_size << dir_blk_log,
            root_ino: be64(b, 56),
            v5,
            ftype: if v5 {
                incompat & INCOMPAT_FTYPE != 0
            } else {
                features2 & VERSION2_FTYPE != 0
            },
        })
    }

    /// Byte offset of a filesystem block number (AG number in the high bits).
    fn fsb_to_byte(&self, fsb: u64) -> Option<u64> {
        let agno = fsb >> self.ag_blk_log;
        let agbno = fsb & ((1u64 << self.ag_blk_log) - 1);
        if agno >= self.ag_count || agbno >= self.ag_blocks {
            return None;
        }
        (agno * self.ag_blocks + agbno).checked_mul(self.block_size)
    }

    fn ino_to_byte(&self, ino: u64) -> Option<u64> {
        let shift = self.ag_blk_log + self.inop_blk_log;
        let agno = ino >> shift;
        let agino = ino & ((1u64 << shift) - 1);
        let agbno = agino >> self.inop_blk_log;
        let index = agino & ((1u64 << self.inop_blk_log) - 1);
        if agno >= self.ag_count || agbno >= self.ag_blocks {
            return None;
        }
        ((agno * self.ag_blocks + agbno) * self.block_size)
            .checked_add(index * self.inode_size as u64)
    }
}

/// One mapping of file blocks to disk blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Extent {
    /// First file block.
    offset: u64,
    /// First filesystem block.
    start: u64,
    /// Blocks.
    count: u64,
    /// Allocated but never written (reads as zeros).
    unwritten: bool,
}

fn parse_extent(rec: &[u8]) -> Extent {
    let l0 = be64(rec, 0);
    let l1 = be64(rec, 8);
    Extent {
        unwritten: l0 >> 63 == 1,
        offset: (l0 & ((1 << 63) - 1)) >> 9,
        start: ((l0 & 0x1FF) << 43) | (l1 >> 21),
        count: l1 & ((1 << 21) - 1),
    }
}

#[derive(Debug, Clone)]
struct Inode {
    ino: u64,
    mode: u16,
    format: u8,
    size: u64,
    nextents: u64,
    flags: u16,
    fork: Vec<u8>,
}

impl Inode {
    fn kind(&self) -> EntryKind {
        match self.mode & S_IFMT {
            S_IFREG => EntryKind::File,
            S_IFDIR => EntryKind::Dir,
            S_IFLNK => EntryKind::Symlink,
            _ => EntryKind::Other,
        }
    }
}

/// An XFS filesystem as a [`FileTree`].
#[derive(Debug)]
pub struct XfsTree {
    volume: Volume,
    sb: Superblock,
}

enum Lookup {
    Found(Inode),
    Missing,
}

impl XfsTree {
    /// Opens the filesystem on `volume` (reads and checks the superblock and
    /// the root directory's inode).
    pub fn open(volume: Volume) -> Result<Self, DiskError> {
        let head = volume.read_vec(0, 512)?;
        let sb = Superblock::parse(&head)?;
        if sb.ag_count.saturating_mul(sb.ag_blocks).saturating_mul(sb.block_size) > volume.len()
        {
            return Err(corrupt(
                "XFS superblock",
                format!(
                    "`{}` blocks of `{}` bytes past the end of a `{}`-byte volume",
                    sb.ag_count * sb.ag_blocks,
                    sb.block_size,
                    volume.len()
                ),
            ));
        }
        let tree = Self { volume, sb };
        let root = tree.inode(tree.sb.root_ino)?;
        if root.kind() != EntryKind::Dir {
            return Err(corrupt("XFS root inode", "not a directory"));
        }
        Ok(tree)
    }

    fn inode(&self, ino: u64) -> Result<Inode, DiskError> {
        let what = || format!("XFS inode {ino}");
        let at = self
            .sb
            .ino_to_byte(ino)
            .ok_or_else(|| corrupt(what(), "inode number out of range"))?;
        let b = self.volume.read_vec(at, self.sb.inode_size)?;
        if be16(&b, 0) != 0x494E {
            return Err(corrupt(what(), "bad magic"));
        }
        let version = b.get(4).copied().unwrap_or(0);
        let core = match version {
            1 | 2 => 100,
            3 => 176,
            v => return Err(corrupt(what(), format!("inode version `{v}`"))),
        };
        if version == 3 && be64(&b, 152) != ino {
            return Err(corrupt(what(), format!("holds inode `{}`", be64(&b, 152))));
        }
        let flags2 = if version == 3 { be64(&b, 120) } else { 0 };
        let nextents = if flags2 & DIFLAG2_NREXT64 != 0 {
            be64(&b, 24)
        } else {
            u64::from(be32(&b, 76))
        };
        let forkoff = usize::from(b.get(82).copied().unwrap_or(0)) * 8;
        let fork_len = if forkoff == 0 {
            self.sb.inode_size - core
        } else {
            forkoff
        };
        let fork = b
            .get(core..core + fork_len)
            .ok_or_else(|| corrupt(what(), format!("attribute fork offset `{forkoff}`")))?
            .to_vec();
        Ok(Inode {
            ino,
            mode: be16(&b, 2),
            format: b.get(5).copied().unwrap_or(0),
            size: be64(&b, 56),
            nextents,
            flags: be16(&b, 90),
            fork,
        })
    }

    /// The data fork's extents, sorted by file offset.
    fn extents(&self, inode: &Inode) -> Result<Vec<Extent>, DiskError> {
        let what = || format!("XFS inode {}", inode.ino);
        let mut out = Vec::new();
        match inode.format {
            2 => {
                let n = usize::try_from(inode.nextents).unwrap_or(usize::MAX);
                if n > inode.fork.len() / 16 {
                    return Err(corrupt(what(), format!("`{n}` extents in the inode")));
                }
                out.extend(inode.fork.chunks_exact(16).take(n).map(parse_extent));
            }
            3 => {
                let level = be16(&inode.fork, 0);
                let numrecs = usize::from(be16(&inode.fork, 2));
                let maxrecs = inode.fork.len().saturating_sub(4) / 16;
                if level == 0 || numrecs > maxrecs {
                    return Err(corrupt(
                        what(),
                        format!("B+tree root: level `{level}`, `{numrecs}` records"),
                    ));
                }
                for i in 0..numrecs {
                    let ptr = be64(&inode.fork, 4 + maxrecs * 8 + i * 8);
                    self.bmbt_block(inode.ino, ptr, level - 1, &mut out)?;
                }
            }
            f => {
                return Err(corrupt(what(), format!("data fork format `{f}` has no extents")));
            }
        }
        out.sort_by_key(|e| e.offset);
        Ok(out)
    }

    fn bmbt_block(
        &self,
        ino: u64,
        fsb: u64,
        level: u16,
        out: &mut Vec<Extent>,
    ) -> Result<(), DiskError> {
        let what = || format!("XFS inode {ino} B+tree block {fsb}");
        let at = self
            .sb
            .fsb_to_byte(fsb)
            .ok_or_else(|| corrupt(what(), "block number out of range"))?;
        let bs = self.sb.block_size as usize;
        let b = self.volume.read_vec(at, bs)?;
        let (magic, header): (&[u8], usize) = if self.sb.v5 {
            (b"BMA3", 72)
        } else {
            (b"BMAP", 24)
        };
        if b.get(..4) != Some(magic) {
            return Err(corrupt(what(), "bad magic"));
        }
        if self.sb.v5 && be64(&b, 56) != ino {
            return Err(corrupt(what(), format!("owned by inode `{}`", be64(&b, 56))));
        }
        if be16(&b, 4) != level {
            return Err(corrupt(what(), format!("level `{}`, expected `{level}`", be16(&b, 4))));
        }
        let numrecs = usize::from(be16(&b, 6));
        let maxrecs = (bs - header) / 16;
        if numrecs > maxrecs {
            return Err(corrupt(what(), format!("`{numrecs}` records")));
        }
        if level == 0 {
            if out.len() + numrecs > MAX_EXTENTS {
                return Err(corrupt(what(), "too many extents"));
            }
            for i in 0..numrecs {
                let rec = b.get(header + i * 16..header + i * 16 + 16).unwrap_or_default();
                out.push(parse_extent(rec));
            }
        } else {
            for i in 0..numrecs {
                let ptr = be64(&b, header + maxrecs * 8 + i * 8);
                self.bmbt_block(ino, ptr, level - 1, out)?;
            }
        }
        Ok(())
    }

    /// Reads `len` bytes of the data fork from file byte `offset` through
    /// the extent map (holes and unwritten extents read as zeros).
    fn read_mapped(
        &self,
        extents: &[Extent],
        offset: u64,
        len: u64,
        ino: u64,
    ) -> Result<Vec<u8>, DiskError> {
        let bs = self.sb.block_size;
        let mut out = vec![0u8; usize::try_from(len).unwrap_or(usize::MAX)];
        let end = offset + len;
        for e in extents {
            let e_start = e.offset.saturating_mul(bs);
            let e_end = e.offset.saturating_add(e.count).saturating_mul(bs);
            let from = e_start.max(offset);
            let to = e_end.min(end);
            if from >= to || e.unwritten {
                continue;
            }
            let disk = self
                .sb
                .fsb_to_byte(e.start)
                .filter(|_| self.sb.fsb_to_byte(e.start + e.count.saturating_sub(1)).is_some())
                .ok_or_else(|| {
                    corrupt(
                        format!("XFS inode {ino}"),
                        format!("extent at block `{}` out of range", e.start),
                    )
                })?;
            let dst = out
                .get_mut((from - offset) as usize..(to - offset) as usize)
                .ok_or_else(|| corrupt(format!("XFS inode {ino}"), "extent past the file"))?;
            self.volume.read_at(disk + (from - e_start), dst)?;
        }
        Ok(out)
    }

    fn read_link(&self, inode: &Inode) -> Result<Vec<u8>, DiskError> {
        let what = || format!("XFS inode {}", inode.ino);
        if inode.size == 0 || inode.size > MAX_SYMLINK_LEN {
            return Err(corrupt(what(), format!("symbolic link of `{}` bytes", inode.size)));
        }
        let len = inode.size as usize;
        if inode.format == 1 {
            return inode
                .fork
                .get(..len)
                .map(<[u8]>::to_vec)
                .ok_or_else(|| corrupt(what(), "inline link longer than the fork"));
        }
        let extents = self.extents(inode)?;
        if !self.sb.v5 {
            return self.read_mapped(&extents, 0, inode.size, inode.ino);
        }
        // v5: each block starts with a 56-byte header ("XSLM", offset, bytes).
        let bs = self.sb.block_size;
        let blocks: u64 = extents.iter().map(|e| e.count).sum();
        let raw = self.read_mapped(&extents, 0, blocks * bs, inode.ino)?;
        let mut out = Vec::with_capacity(len);
        for block in raw.chunks(bs as usize) {
            if out.len() >= len {
                break;
            }
            if block.get(..4) != Some(b"XSLM") {
                return Err(corrupt(what(), "remote symbolic link block: bad magic"));
            }
            let bytes = be32(block, 8) as usize;
            let data = block
                .get(56..56 + bytes)
                .ok_or_else(|| corrupt(what(), format!("remote link block of `{bytes}` bytes")))?;
            out.extend_from_slice(data);
        }
        if out.len() < len {
            return Err(corrupt(what(), "remote symbolic link shorter than its size"));
        }
        out.truncate(len);
        Ok(out)
    }

    /// A directory's entries: (name, inode number, ftype or 0), without `.`
    /// and `..`.
    fn dir_entries(&self, dir: &Inode) -> Result<Vec<(Vec<u8>, u64, u8)>, DiskError> {
        let what = || format!("XFS directory inode {}", dir.ino);
        let mut out = Vec::new();
        if dir.format == 1 {
            let f = &dir.fork;
            let count = usize::from(f.first().copied().unwrap_or(0));
            let wide = f.get(1).copied().unwrap_or(0) != 0;
            let ino_len = if wide { 8 } else { 4 };
            let mut pos = 2 + ino_len;
            for _ in 0..count {
                let namelen = usize::from(f.get(pos).copied().unwrap_or(0));
                let name = f
                    .get(pos + 3..pos + 3 + namelen)
                    .ok_or_else(|| corrupt(what(), "shortform entry past the fork"))?;
                let mut p = pos + 3 + namelen;
                let ftype = if self.sb.ftype {
                    p += 1;
                    f.get(p - 1).copied().unwrap_or(0)
                } else {
                    0
                };
                if p + ino_len > f.len() || namelen == 0 {
                    return Err(corrupt(what(), "shortform entry past the fork"));
                }
                let ino = if wide {
                    be64(f, p)
                } else {
                    u64::from(be32(f, p))
                };
                out.push((name.to_vec(), ino, ftype));
                pos = p + ino_len;
            }
            return Ok(out);
        }
        let extents = self.extents(dir)?;
        let bs = self.sb.block_size;
        let dbs = self.sb.dir_block_size;
        let per_dir_block = dbs / bs;
        let data_end_fsb = DIR2_LEAF_OFFSET / bs;
        // Logical directory blocks that hold data (each mapped at least in part).
        let mut starts: Vec<u64> = Vec::new();
        for e in &extents {
            if e.offset >= data_end_fsb {
                continue;
            }
            let first = e.offset / per_dir_block;
            let last = (e.offset + e.count.max(1) - 1).min(data_end_fsb - 1) / per_dir_block;
            if last - first > 1 << 24 {
                return Err(corrupt(what(), "directory data too large"));
            }
            for db in first..=last {
                if starts.last() != Some(&db) {
                    starts.push(db);
                }
            }
        }
        starts.dedup();
        let (block_magic, data_magic, header): (&[u8], &[u8], usize) = if self.sb.v5 {
            (b"XDB3", b"XDD3", 64)
        } else {
            (b"XD2B", b"XD2D", 16)
        };
        for db in starts {
            let block = self.read_mapped(&extents, db * dbs, dbs, dir.ino)?;
            let magic = block.get(..4).unwrap_or_default();
            let end = if magic == block_magic {
                let count = be32(&block, dbs as usize - 8) as usize;
                (dbs as usize)
                    .checked_sub(8 + count.saturating_mul(8))
                    .filter(|end| *end >= header)
                    .ok_or_else(|| corrupt(what(), format!("block tail of `{count}` leaves")))?
            } else if magic == data_magic {
                dbs as usize
            } else {
                return Err(corrupt(
                    what(),
                    format!("data block {db}: bad magic `{}`", String::from_utf8_lossy(magic)),
                ));
            };
            let mut pos = header;
            while pos < end {
                if be16(&block, pos) == 0xFFFF {
                    let len = usize::from(be16(&block, pos + 2));
                    if len == 0 || len % 8 != 0 {
                        return Err(corrupt(what(), format!("free space of `{len}` bytes")));
                    }
                    pos += len;
                    continue;
                }
                let ino = be64(&block, pos);
                let namelen = usize::from(block.get(pos + 8).copied().unwrap_or(0));
                let name = block
                    .get(pos + 9..pos + 9 + namelen)
                    .ok_or_else(|| corrupt(what(), "entry past the block"))?;
                let ftype = if self.sb.ftype {
                    block.get(pos + 9 + namelen).copied().unwrap_or(0)
                } else {
                    0
                };
                let size = (8 + 1 + namelen + usize::from(self.sb.ftype) + 2).div_ceil(8) * 8;
                if namelen == 0 || pos + size > end {
                    return Err(corrupt(what(), "entry past the block"));
                }
                if name != b"." && name != b".." {
                    out.push((name.to_vec(), ino, ftype));
                }
                pos += size;
            }
        }
        Ok(out)
    }

    fn lookup(&self, dir: &Inode, name: &[u8]) -> Result<Option<u64>, DiskError> {
        Ok(self
            .dir_entries(dir)?
            .into_iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, ino, _)| ino))
    }

    /// Resolves an absolute path inside the filesystem: `..` never climbs
    /// above the root, absolute link targets restart at this filesystem's
    /// root, at most 40 links are followed.
    fn resolve(&self, path: &str, follow_last: bool) -> Result<Lookup, DiskError> {
        let mut pending: VecDeque<Vec<u8>> = path
            .split('/')
            .filter(|c| !c.is_empty())
            .map(|c| c.as_bytes().to_vec())
            .collect();
        let root = self.inode(self.sb.root_ino)?;
        let mut stack: Vec<Inode> = vec![root];
        let mut links = 0usize;
        while let Some(comp) = pending.pop_front() {
            if comp == b"." {
                continue;
            }
            if comp == b".." {
                if stack.len() > 1 {
                    stack.pop();
                }
                continue;
            }
            let Some(current) = stack.last() else {
                return Ok(Lookup::Missing);
            };
            if current.kind() != EntryKind::Dir {
                return Ok(Lookup::Missing);
            }
            let Some(ino) = self.lookup(current, &comp)? else {
                return Ok(Lookup::Missing);
            };
            let child = self.inode(ino)?;
            if child.kind() == EntryKind::Symlink && (follow_last || !pending.is_empty()) {
                links += 1;
                if links > MAX_SYMLINKS {
                    return Err(corrupt(
                        format!("XFS path `{path}`"),
                        "too many levels of symbolic links",
                    ));
                }
                let target = self.read_link(&child)?;
                if target.first() == Some(&b'/') {
                    stack.truncate(1);
                }
                for part in target.split(|b| *b == b'/').rev() {
                    if !part.is_empty() {
                        pending.push_front(part.to_vec());
                    }
                }
                continue;
            }
            stack.push(child);
        }
        Ok(stack.pop().map_or(Lookup::Missing, Lookup::Found))
    }

    fn read_whole(&self, inode: &Inode) -> Result<Vec<u8>, DiskError> {
        if inode.flags & DIFLAG_REALTIME != 0 {
            return Err(DiskError::Unsupported {
                what: "XFS file",
                detail: format!("inode {} is on the realtime device", inode.ino),
            });
        }
        match inode.format {
            1 => Ok(inode
                .fork
                .get(..inode.size as usize)
                .map(<[u8]>::to_vec)
                .unwrap_or_default()),
            2 | 3 => {
                let extents = self.extents(inode)?;
                self.read_mapped(&extents, 0, inode.size, inode.ino)
            }
            f => Err(corrupt(
                format!("XFS inode {}", inode.ino),
                format!("regular file in fork format `{f}`"),
            )),
        }
    }
}

impl FileTree for XfsTree {
    fn read_file(&self, path: &str, limit: u64) -> Result<Option<Vec<u8>>, DiskError> {
        let Lookup::Found(inode) = self.resolve(path, true)? else {
            return Ok(None);
        };
        if inode.kind() != EntryKind::File {
            return Ok(None);
        }
        if inode.size > limit {
            return Err(DiskError::TooLarge {
                path: path.to_owned(),
                limit,
            });
        }
        self.read_whole(&inode).map(Some)
    }

    fn read_dir(&self, path: &str) -> Result<Option<Vec<DirEntry>>, DiskError> {
        let Lookup::Found(dir) = self.resolve(path, true)? else {
            return Ok(None);
        };
        if dir.kind() != EntryKind::Dir {
            return Ok(None);
        }
        let mut out = Vec::new();
        for (name, ino, ftype) in self.dir_entries(&dir)? {
            let known = match ftype {
                1 => Some(EntryKind::File),
                2 => Some(EntryKind::Dir),
                7 => Some(EntryKind::Symlink),
                3..=6 => Some(EntryKind::Other),
                _ => None,
            };
            let (kind, size) = match known {
                Some(EntryKind::File) | None => {
                    let inode = self.inode(ino)?;
                    let kind = inode.kind();
                    (kind, if kind == EntryKind::File { inode.size } else { 0 })
                }
                Some(kind) => (kind, 0),
            };
            out.push(DirEntry {
                name: String::from_utf8_lossy(&name).into_owned(),
                kind,
                size,
            });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Some(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extent_records_unpack_their_bit_fields() {
        // offset 5, start block 0x1_0000_0001 (crosses the word boundary),
        // 7 blocks, written.
        let offset: u64 = 5;
        let start: u64 = 0x1_0000_0001;
        let count: u64 = 7;
        let l0 = (offset << 9) | (start >> 43);
        let l1 = ((start & ((1 << 43) - 1)) << 21) | count;
        let mut rec = l0.to_be_bytes().to_vec();
        rec.extend_from_slice(&l1.to_be_bytes());
        assert_eq!(
            parse_extent(&rec),
            Extent {
                offset,
                start,
                count,
                unwritten: false
            }
        );
        rec[0] |= 0x80;
        assert!(parse_extent(&rec).unwritten);
    }
}
