//! Disk images made at test time: a sample root tree, ext4 (`mkfs.ext4 -d`)
//! and XFS (`mkfs.xfs -p protofile`) images of it, partitioned disks (GPT
//! through `sgdisk`, MBR through `sfdisk`), and an upload of an image to
//! moto as an EBS snapshot through the EBS direct APIs.
//!
//! The Debian tools come from `scripts/disk-tools.sh` (e2fsprogs, xfsprogs,
//! fdisk, gdisk), which `scripts/test` sources.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{aws_env, python};

/// `/usr/lib/os-release` of the sample root (`/etc/os-release` links to it).
pub const OS_RELEASE: &str = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nID=debian\n";

/// `/var/lib/dpkg/status` of the sample root.
pub const DPKG_STATUS: &str = "Package: openssl\nStatus: install ok installed\nArchitecture: amd64\nVersion: 3.0.11-1~deb12u2\n\nPackage: bash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 5.2.15-2+b2\n\nPackage: libc6\nStatus: install ok installed\nArchitecture: amd64\nSource: glibc\nVersion: 2.36-9+deb12u4\n";

/// `/etc/passwd` of the sample root (what the escaping link reaches).
pub const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\n";

/// Entries in `/usr/share/leafdir` (a directory of several blocks).
pub const LEAF_DIR_ENTRIES: usize = 300;

/// Entries in `/usr/share/nodedir` (each a small file; on XFS a node-format
/// directory whose data fork is a B+tree).
pub const NODE_DIR_ENTRIES: usize = 3000;

/// The content of `/opt/big.bin` (1.5 MiB, not repeating within a block).
pub fn big_file() -> Vec<u8> {
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    (0..(3 << 19))
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

/// A symbolic link target longer than any inode holds inline (XFS remote
/// symlink): `/./././…/usr/lib/os-release`.
pub fn long_link_target() -> String {
    format!("/{}usr/lib/os-release", "./".repeat(300))
}

/// Writes the sample root tree into `dir`:
///
/// - `/usr/lib/os-release` ([`OS_RELEASE`]); `/etc/os-release` → `../usr/lib/os-release`
///   (relative link); `/etc/absolute` → `/usr/lib/os-release`; `/etc/long` →
///   [`long_link_target`]
/// - `/var/lib/dpkg/status` ([`DPKG_STATUS`]); `/etc/passwd` ([`PASSWD`])
/// - `/var/escape` → `../../../../../etc/passwd` (must stay in the tree)
/// - `/loop/a` → `b`, `/loop/b` → `a` (a loop)
/// - `/etc/share` → `/usr/share` (a link to a directory)
/// - `/a/b/c/d/e/deep.txt` (`deep\n`), `/opt/big.bin` ([`big_file`]), `/empty` (empty file)
/// - `/usr/share/leafdir/entry-NNNN` (empty files) and
///   `/usr/share/nodedir/file-NNNNN` (`N\n`)
pub fn write_sample_root(dir: &Path) {
    let mkdir = |p: &str| std::fs::create_dir_all(dir.join(p)).expect("mkdir");
    let write = |p: &str, data: &[u8]| std::fs::write(dir.join(p), data).expect("write");
    let link = |target: &str, p: &str| {
        std::os::unix::fs::symlink(target, dir.join(p)).expect("symlink");
    };
    for d in [
        "etc",
        "usr/lib",
        "usr/share/leafdir",
        "usr/share/nodedir",
        "var/lib/dpkg",
        "loop",
        "a/b/c/d/e",
        "opt",
    ] {
        mkdir(d);
    }
    write("usr/lib/os-release", OS_RELEASE.as_bytes());
    link("../usr/lib/os-release", "etc/os-release");
    link("/usr/lib/os-release", "etc/absolute");
    link(&long_link_target(), "etc/long");
    link("/usr/share", "etc/share");
    write("var/lib/dpkg/status", DPKG_STATUS.as_bytes());
    write("etc/passwd", PASSWD.as_bytes());
    link("../../../../../etc/passwd", "var/escape");
    link("b", "loop/a");
    link("a", "loop/b");
    write("a/b/c/d/e/deep.txt", b"deep\n");
    write("opt/big.bin", &big_file());
    write("empty", b"");
    for i in 0..LEAF_DIR_ENTRIES {
        write(&format!("usr/share/leafdir/entry-{i:04}"), b"");
    }
    for i in 0..NODE_DIR_ENTRIES {
        write(
            &format!("usr/share/nodedir/file-{i:05}"),
            format!("{i}\n").as_bytes(),
        );
    }
}

/// Writes a small root tree into `dir` (for snapshot uploads, where every
/// 512-byte block is one API call on moto): `/usr/lib/os-release` with
/// `/etc/os-release` → `../usr/lib/os-release`, `/var/lib/dpkg/status`,
/// `/etc/passwd`, `/var/escape` → `../../../../../etc/passwd`, and
/// `/opt/big.bin` (the first 192 KiB of [`big_file`]).
pub fn write_small_root(dir: &Path) {
    for d in ["etc", "usr/lib", "var/lib/dpkg", "opt"] {
        std::fs::create_dir_all(dir.join(d)).expect("mkdir");
    }
    std::fs::write(dir.join("usr/lib/os-release"), OS_RELEASE).expect("write");
    std::os::unix::fs::symlink("../usr/lib/os-release", dir.join("etc/os-release"))
        .expect("symlink");
    std::fs::write(dir.join("var/lib/dpkg/status"), DPKG_STATUS).expect("write");
    std::fs::write(dir.join("etc/passwd"), PASSWD).expect("write");
    std::os::unix::fs::symlink("../../../../../etc/passwd", dir.join("var/escape"))
        .expect("symlink");
    let big = big_file();
    std::fs::write(dir.join("opt/big.bin"), &big[..192 << 10]).expect("write");
}

/// Path of a Debian tool (`/usr/sbin/NAME` or on `PATH`), or a panic naming
/// the script that installs it.
pub fn tool(name: &str) -> PathBuf {
    for dir in ["/usr/sbin", "/sbin", "/usr/bin", "/bin"] {
        let path = Path::new(dir).join(name);
        if path.exists() {
            return path;
        }
    }
    panic!("`{name}` not found: run `source scripts/disk-tools.sh` (installs e2fsprogs, xfsprogs, fdisk, gdisk)");
}

fn run(cmd: &mut Command) {
    let output = cmd.output().unwrap_or_else(|e| panic!("run {cmd:?}: {e}"));
    assert!(
        output.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn sparse_file(path: &Path, size_mib: u64) {
    let file = std::fs::File::create(path).expect("create image");
    file.set_len(size_mib << 20).expect("size image");
}

/// Makes an ext4 image of `size_mib` MiB holding the tree at `root`
/// (`mkfs.ext4 -d`), plus any extra `mkfs.ext4` arguments.
pub fn ext4_image(root: &Path, image: &Path, size_mib: u64, extra: &[&str]) {
    sparse_file(image, size_mib);
    run(Command::new(tool("mkfs.ext4"))
        .args(["-q", "-F", "-E", "root_owner=0:0", "-d"])
        .arg(root)
        .args(extra)
        .arg(image));
}

/// Writes an `mkfs.xfs` protofile describing the tree at `root`.
pub fn xfs_protofile(root: &Path) -> String {
    fn walk(dir: &Path, out: &mut String, depth: usize) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .expect("read dir")
            .map(|e| e.expect("dir entry"))
            .collect();
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let name = entry.file_name().into_string().expect("utf-8 name");
            assert!(
                !name.contains(char::is_whitespace),
                "protofile names cannot hold spaces: `{name}`"
            );
            let path = entry.path();
            let meta = path.symlink_metadata().expect("metadata");
            let indent = " ".repeat(depth);
            if meta.file_type().is_symlink() {
                let target = std::fs::read_link(&path).expect("read link");
                let _ = writeln!(out, "{indent}{name} l--777 0 0 {}", target.display());
            } else if meta.is_dir() {
                let _ = writeln!(out, "{indent}{name} d--755 0 0");
                walk(&path, out, depth + 1);
                let _ = writeln!(out, "{indent}$");
            } else {
                let _ = writeln!(out, "{indent}{name} ---644 0 0 {}", path.display());
            }
        }
    }
    let mut out = String::from("/dev/null\n0 0\nd--755 0 0\n");
    walk(root, &mut out, 1);
    out.push_str("$\n");
    out
}

/// Makes an XFS image of `size_mib` MiB holding the tree at `root`
/// (`mkfs.xfs -p protofile`), plus any extra `mkfs.xfs` arguments (e.g.
/// `-m crc=0` for a v4 filesystem). Sizes under 300 MiB are allowed the way
/// xfsprogs allows them for its own tests.
pub fn xfs_image(root: &Path, image: &Path, size_mib: u64, extra: &[&str]) {
    sparse_file(image, size_mib);
    let proto = image.with_extension("proto");
    std::fs::write(&proto, xfs_protofile(root)).expect("write protofile");
    run(Command::new(tool("mkfs.xfs"))
        .args(["-q", "-f", "-p"])
        .arg(&proto)
        .args(extra)
        .arg(image)
        .env("TEST_DIR", "1")
        .env("TEST_DEV", "1")
        .env("QA_CHECK_FS", "1"));
}

/// A partition table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    /// GPT (`sgdisk`).
    Gpt,
    /// DOS/MBR (`sfdisk`); partitions past the third go into an extended
    /// partition as logical ones (numbers 5, 6, …).
    Mbr,
}

/// One partition of [`partitioned_disk`].
#[derive(Debug, Clone)]
pub struct Part {
    /// Type: an `sgdisk` code for GPT (`8300`, `ef00`, `ef02`, `8200`), a hex
    /// MBR type for MBR (`83`, `82`, `ef`).
    pub type_code: String,
    /// Size in MiB (at least the image's size).
    pub size_mib: u64,
    /// A filesystem image copied into the partition.
    pub image: Option<PathBuf>,
}

impl Part {
    /// A partition of `type_code` holding `image`, sized to fit it.
    pub fn with_image(type_code: &str, image: &Path) -> Self {
        let len = std::fs::metadata(image).expect("image size").len();
        Self {
            type_code: type_code.to_owned(),
            size_mib: len.div_ceil(1 << 20),
            image: Some(image.to_path_buf()),
        }
    }

    /// An empty partition of `size_mib` MiB.
    pub fn empty(type_code: &str, size_mib: u64) -> Self {
        Self {
            type_code: type_code.to_owned(),
            size_mib,
            image: None,
        }
    }
}

/// Makes a disk image with a partition table and the given partitions (1
/// MiB aligned, the first at 1 MiB); returns each partition's byte offset.
pub fn partitioned_disk(disk: &Path, table: Table, parts: &[Part]) -> Vec<u64> {
    const MIB: u64 = 1 << 20;
    let logical_gaps = if table == Table::Mbr {
        parts.len().saturating_sub(3) as u64 + 1
    } else {
        0
    };
    let total_mib: u64 = 1 + parts.iter().map(|p| p.size_mib).sum::<u64>() + logical_gaps + 1;
    sparse_file(disk, total_mib);
    let mut offsets = Vec::new();
    let mut cursor = MIB;
    match table {
        Table::Gpt => {
            let mut cmd = Command::new(tool("sgdisk"));
            cmd.arg("-Z").arg(disk);
            run(&mut cmd);
            let mut cmd = Command::new(tool("sgdisk"));
            for (i, part) in parts.iter().enumerate() {
                let n = i + 1;
                let first = cursor / 512;
                let last = (cursor + part.size_mib * MIB) / 512 - 1;
                cmd.arg(format!("-n{n}:{first}:{last}"))
                    .arg(format!("-t{n}:{}", part.type_code));
                offsets.push(cursor);
                cursor += part.size_mib * MIB;
            }
            cmd.arg(disk);
            run(&mut cmd);
        }
        Table::Mbr => {
            let mut script = String::from("label: dos\nunit: sectors\n");
            for (i, part) in parts.iter().enumerate() {
                if i == 3 {
                    let rest: u64 = parts.iter().skip(3).map(|p| p.size_mib + 1).sum();
                    let _ = writeln!(
                        script,
                        "start={}, size={}, type=5",
                        cursor / 512,
                        rest * MIB / 512
                    );
                }
                if i >= 3 {
                    cursor += MIB;
                }
                let _ = writeln!(
                    script,
                    "start={}, size={}, type={}",
                    cursor / 512,
                    part.size_mib * MIB / 512,
                    part.type_code
                );
                offsets.push(cursor);
                cursor += part.size_mib * MIB;
            }
            let mut child = Command::new(tool("sfdisk"))
                .arg("-q")
                .arg(disk)
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn sfdisk");
            std::io::Write::write_all(
                &mut child.stdin.take().expect("sfdisk stdin"),
                script.as_bytes(),
            )
            .expect("write sfdisk script");
            let output = child.wait_with_output().expect("wait sfdisk");
            assert!(
                output.status.success(),
                "sfdisk failed:\n{script}\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }
    for (part, offset) in parts.iter().zip(&offsets) {
        if let Some(image) = &part.image {
            copy_into(image, disk, *offset);
        }
    }
    offsets
}

/// Copies `image` into `disk` at `offset`, skipping all-zero 64 KiB chunks
/// (the disk stays sparse).
pub fn copy_into(image: &Path, disk: &Path, offset: u64) {
    use std::io::Read;
    use std::os::unix::fs::FileExt;
    let mut src = std::fs::File::open(image).expect("open image");
    let dst = std::fs::OpenOptions::new()
        .write(true)
        .open(disk)
        .expect("open disk");
    let mut buf = vec![0u8; 64 << 10];
    let mut at = 0u64;
    loop {
        let n = src.read(&mut buf).expect("read image");
        if n == 0 {
            break;
        }
        let chunk = &buf[..n];
        if chunk.iter().any(|b| *b != 0) {
            dst.write_all_at(chunk, offset + at).expect("write disk");
        }
        at += n as u64;
    }
}

const UPLOAD: &str = r#"
import base64, hashlib, math, os, sys
from concurrent.futures import ThreadPoolExecutor
import boto3
endpoint, path, bad = sys.argv[1], sys.argv[2], int(sys.argv[3])
ebs = boto3.client("ebs", endpoint_url=endpoint)
size = os.path.getsize(path)
snap = ebs.start_snapshot(VolumeSize=max(1, math.ceil(size / 2**30)), Description="rampart test image")
sid, bs = snap["SnapshotId"], snap["BlockSize"]
def put(index, data):
    digest = base64.b64encode(hashlib.sha256(data if index != bad else data + b"x").digest()).decode()
    ebs.put_snapshot_block(SnapshotId=sid, BlockIndex=index, BlockData=data, DataLength=len(data),
                           Checksum=digest, ChecksumAlgorithm="SHA256")
blocks = 0
with open(path, "rb") as f, ThreadPoolExecutor(8) as pool:
    futures = []
    index = 0
    while True:
        data = f.read(bs)
        if not data:
            break
        if data.count(0) != len(data):
            data = data.ljust(bs, b"\0")
            futures.append(pool.submit(put, index, data))
            blocks += 1
        index += 1
    for fut in futures:
        fut.result()
ebs.complete_snapshot(SnapshotId=sid, ChangedBlocksCount=blocks)
print(sid, bs, blocks)
"#;

/// A snapshot uploaded by [`upload_snapshot`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadedSnapshot {
    /// The snapshot id.
    pub snapshot_id: String,
    /// The block size the API reported (moto: 512).
    pub block_size: u64,
    /// Blocks uploaded (all-zero blocks are skipped).
    pub blocks: u64,
}

/// Uploads a disk image to the EBS endpoint at `endpoint` (moto) through
/// `StartSnapshot`, `PutSnapshotBlock` (every non-zero block, with its
/// SHA-256 checksum) and `CompleteSnapshot`. Keep images small and sparse:
/// moto's blocks are 512 bytes.
pub fn upload_snapshot(endpoint: &str, image: &Path) -> UploadedSnapshot {
    upload_snapshot_with_bad_checksum(endpoint, image, None)
}

/// Like [`upload_snapshot`], but block `bad` (if any) is uploaded with a
/// checksum that does not match its data (the API returns it as sent).
pub fn upload_snapshot_with_bad_checksum(
    endpoint: &str,
    image: &Path,
    bad: Option<u64>,
) -> UploadedSnapshot {
    let bad = bad.map_or_else(|| "-1".to_owned(), |b| b.to_string());
    let output = Command::new(python())
        .arg("-c")
        .arg(UPLOAD)
        .arg(endpoint)
        .arg(image)
        .arg(bad)
        .envs(aws_env())
        .output()
        .expect("run upload");
    assert!(
        output.status.success(),
        "snapshot upload failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8_lossy(&output.stdout);
    let mut fields = text.split_whitespace();
    UploadedSnapshot {
        snapshot_id: fields.next().expect("snapshot id").to_owned(),
        block_size: fields.next().and_then(|f| f.parse().ok()).expect("block size"),
        blocks: fields.next().and_then(|f| f.parse().ok()).expect("blocks"),
    }
}
