//! The disk reader on images made at test time with Debian's mkfs.ext4,
//! mkfs.xfs, sgdisk and sfdisk: partition tables, root filesystem choice,
//! ext4 and XFS trees, and errors (never an empty tree).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};

use rampart_disk::{
    BlockSource, DiskError, EntryKind, FileTree, FsKind, ImageFile, PartitionRole, TableKind,
    Volume, XfsTree, open_root, read_partitions,
};
use rampart_testkit::disk::{
    self, DPKG_STATUS, LEAF_DIR_ENTRIES, NODE_DIR_ENTRIES, OS_RELEASE, PASSWD, Part, Table,
};

type TestResult = Result<(), Box<dyn std::error::Error>>;

struct Fixture {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

/// One sample root and its images, built once per test binary.
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().to_path_buf();
        let root = path.join("root");
        disk::write_sample_root(&root);
        disk::ext4_image(&root, &path.join("ext4.img"), 32, &[]);
        disk::xfs_image(&root, &path.join("xfs5.img"), 64, &[]);
        disk::xfs_image(&root, &path.join("xfs4.img"), 64, &["-m", "crc=0"]);
        // Decoys: an EFI partition whose filesystem has an os-release, and a
        // data filesystem without one.
        let decoy = path.join("decoy");
        std::fs::create_dir_all(decoy.join("etc")).expect("mkdir");
        std::fs::write(decoy.join("etc/os-release"), "ID=decoy\n").expect("write");
        disk::ext4_image(&decoy, &path.join("decoy.img"), 2, &[]);
        let data = path.join("data");
        std::fs::create_dir_all(data.join("srv")).expect("mkdir");
        std::fs::write(data.join("srv/readme"), "data\n").expect("write");
        disk::ext4_image(&data, &path.join("data.img"), 2, &[]);
        Fixture { _dir: dir, path }
    })
}

fn image(name: &str) -> PathBuf {
    fixture().path.join(name)
}

fn source(path: &Path) -> Result<Arc<dyn BlockSource>, DiskError> {
    Ok(Arc::new(ImageFile::open(path)?))
}

fn names(tree: &dyn FileTree, path: &str) -> Result<Vec<String>, DiskError> {
    Ok(tree
        .read_dir(path)?
        .unwrap_or_default()
        .into_iter()
        .map(|e| e.name)
        .collect())
}

/// Everything `write_sample_root` put in the tree, read back.
fn check_sample_tree(tree: &dyn FileTree) -> TestResult {
    let read = |p: &str| tree.read_file(p, 1 << 24);
    let os = Some(OS_RELEASE.as_bytes().to_vec());
    assert_eq!(read("/etc/os-release")?, os, "relative link");
    assert_eq!(read("/etc/absolute")?, os, "absolute link");
    assert_eq!(read("/etc/long")?, os, "long link");
    assert_eq!(read("etc/os-release")?, os, "path without a leading slash");
    assert_eq!(read("/var/lib/dpkg/status")?, Some(DPKG_STATUS.as_bytes().to_vec()));
    assert_eq!(read("/var/escape")?, Some(PASSWD.as_bytes().to_vec()), "escape stays inside");
    assert_eq!(read("/../../etc/passwd")?, Some(PASSWD.as_bytes().to_vec()));
    assert_eq!(read("/a/b/c/d/e/deep.txt")?, Some(b"deep\n".to_vec()));
    assert_eq!(read("/a/b/../b/c/./d//e/deep.txt")?, Some(b"deep\n".to_vec()));
    assert_eq!(read("/etc/share/../lib/os-release")?, os, "`..` after a link");
    assert_eq!(read("/opt/big.bin")?, Some(disk::big_file()));
    assert_eq!(read("/empty")?, Some(Vec::new()));
    assert_eq!(
        read(&format!("/usr/share/nodedir/file-{:05}", NODE_DIR_ENTRIES - 1))?,
        Some(format!("{}\n", NODE_DIR_ENTRIES - 1).into_bytes())
    );
    // Missing things, and things of the wrong kind, are None.
    assert_eq!(read("/missing")?, None);
    assert_eq!(read("/etc/missing/deeper")?, None);
    assert_eq!(read("/etc/passwd/inside")?, None);
    assert_eq!(read("/etc")?, None);
    assert_eq!(tree.read_dir("/etc/passwd")?, None);
    assert_eq!(tree.read_dir("/nowhere")?, None);
    // A loop of links is an error, not a hang and not a file.
    assert!(read("/loop/a").is_err());
    // Limits.
    assert!(matches!(
        tree.read_file("/opt/big.bin", 1000),
        Err(DiskError::TooLarge { limit: 1000, .. })
    ));

    let root = tree.read_dir("/")?.unwrap_or_default();
    let kind = |name: &str| root.iter().find(|e| e.name == name).map(|e| (e.kind, e.size));
    assert_eq!(kind("etc"), Some((EntryKind::Dir, 0)));
    assert_eq!(kind("empty"), Some((EntryKind::File, 0)));
    let etc = tree.read_dir("/etc")?.unwrap_or_default();
    let os_entry = etc.iter().find(|e| e.name == "os-release");
    assert_eq!(os_entry.map(|e| e.kind), Some(EntryKind::Symlink));
    let opt = tree.read_dir("/opt")?.unwrap_or_default();
    assert_eq!(
        opt.first().map(|e| (e.name.as_str(), e.kind, e.size)),
        Some(("big.bin", EntryKind::File, disk::big_file().len() as u64))
    );
    // Large directories, listed in full (the leaf one through a link).
    let leaf = names(tree, "/etc/share/leafdir")?;
    assert_eq!(leaf.len(), LEAF_DIR_ENTRIES);
    assert_eq!(leaf.first().map(String::as_str), Some("entry-0000"));
    assert_eq!(leaf.last().map(String::as_str), Some("entry-0299"));
    let node = tree.read_dir("/usr/share/nodedir")?.unwrap_or_default();
    assert_eq!(node.len(), NODE_DIR_ENTRIES);
    assert!(node.iter().all(|e| e.kind == EntryKind::File && e.size > 0));
    let mut expected: Vec<String> = (0..NODE_DIR_ENTRIES).map(|i| format!("file-{i:05}")).collect();
    expected.sort();
    assert_eq!(node.into_iter().map(|e| e.name).collect::<Vec<_>>(), expected);
    Ok(())
}

fn xfs_db(image: &Path, path: &str, field: &str) -> String {
    let output = Command::new(disk::tool("xfs_db"))
        .args(["-r", "-c"])
        .arg(format!("path {path}"))
        .arg("-c")
        .arg(format!("print {field}"))
        .arg(image)
        .output()
        .expect("xfs_db");
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

#[test]
fn an_ext4_image_without_a_partition_table_is_its_root() -> TestResult {
    let root = open_root(source(&image("ext4.img"))?)?;
    assert_eq!(root.filesystem, FsKind::Ext4);
    assert_eq!(root.table, TableKind::None);
    assert_eq!(root.partition, None);
    check_sample_tree(&root)
}

#[test]
fn an_xfs_v5_image_reads_every_directory_and_fork_format() -> TestResult {
    let img = image("xfs5.img");
    // The image really holds the formats this test is about.
    assert_eq!(xfs_db(&img, "/usr/share/nodedir", "core.format"), "core.format = 3 (btree)");
    assert_eq!(xfs_db(&img, "/usr/share/leafdir", "core.format"), "core.format = 2 (extents)");
    assert_eq!(xfs_db(&img, "/etc", "core.format"), "core.format = 1 (local)");
    assert_eq!(xfs_db(&img, "/etc/long", "core.format"), "core.format = 2 (extents)");
    assert_eq!(xfs_db(&img, "/etc/os-release", "core.format"), "core.format = 1 (local)");
    assert_eq!(xfs_db(&img, "/etc", "core.version"), "core.version = 3");
    let leaf_size: u64 = xfs_db(&img, "/usr/share/leafdir", "core.size")
        .trim_start_matches("core.size = ")
        .parse()?;
    assert!(leaf_size > 4096, "leafdir spans several directory blocks");
    let root = open_root(source(&img)?)?;
    assert_eq!(root.filesystem, FsKind::Xfs);
    check_sample_tree(&root)
}

#[test]
fn an_xfs_v4_image_is_read_too() -> TestResult {
    let img = image("xfs4.img");
    assert_eq!(xfs_db(&img, "/etc", "core.version"), "core.version = 2");
    let root = open_root(source(&img)?)?;
    assert_eq!(root.filesystem, FsKind::Xfs);
    check_sample_tree(&root)
}

#[test]
fn on_gpt_the_root_is_the_partition_with_os_release_and_efi_is_skipped() -> TestResult {
    let dir = tempfile::tempdir()?;
    let disk_path = dir.path().join("gpt.img");
    let offsets = disk::partitioned_disk(
        &disk_path,
        Table::Gpt,
        &[
            Part::empty("ef02", 1),
            Part::with_image("ef00", &image("decoy.img")),
            Part::with_image("8300", &image("data.img")),
            Part::with_image("8300", &image("xfs5.img")),
        ],
    );
    let src = source(&disk_path)?;
    let (table, parts) = read_partitions(&Volume::whole(src.clone()))?;
    assert_eq!(table, TableKind::Gpt);
    let roles: Vec<_> = parts.iter().map(|p| (p.number, p.role, p.offset)).collect();
    assert_eq!(
        roles,
        vec![
            (1, PartitionRole::BiosBoot, offsets[0]),
            (2, PartitionRole::EfiSystem, offsets[1]),
            (3, PartitionRole::Data, offsets[2]),
            (4, PartitionRole::Data, offsets[3]),
        ]
    );
    let root = open_root(src)?;
    assert_eq!(root.table, TableKind::Gpt);
    assert_eq!(root.partition.as_ref().map(|p| p.number), Some(4));
    assert_eq!(root.filesystem, FsKind::Xfs);
    check_sample_tree(&root)
}

#[test]
fn on_mbr_a_logical_partition_can_be_the_root() -> TestResult {
    let dir = tempfile::tempdir()?;
    let disk_path = dir.path().join("mbr.img");
    disk::partitioned_disk(
        &disk_path,
        Table::Mbr,
        &[
            Part::empty("82", 1),
            Part::with_image("ef", &image("decoy.img")),
            Part::with_image("83", &image("data.img")),
            Part::with_image("83", &image("ext4.img")),
        ],
    );
    let src = source(&disk_path)?;
    let (table, parts) = read_partitions(&Volume::whole(src.clone()))?;
    assert_eq!(table, TableKind::Mbr);
    let numbers: Vec<_> = parts.iter().map(|p| (p.number, p.role)).collect();
    assert_eq!(
        numbers,
        vec![
            (1, PartitionRole::Swap),
            (2, PartitionRole::EfiSystem),
            (3, PartitionRole::Data),
            (5, PartitionRole::Data),
        ]
    );
    let root = open_root(src)?;
    assert_eq!(root.partition.as_ref().map(|p| p.number), Some(5));
    assert_eq!(root.filesystem, FsKind::Ext4);
    check_sample_tree(&root)
}

#[test]
fn a_disk_without_a_root_filesystem_is_an_error_naming_what_it_found() -> TestResult {
    let dir = tempfile::tempdir()?;
    // Only a data filesystem (no /etc) and an EFI one.
    let disk_path = dir.path().join("data.img");
    disk::partitioned_disk(
        &disk_path,
        Table::Gpt,
        &[
            Part::with_image("ef00", &image("decoy.img")),
            Part::with_image("8300", &image("data.img")),
        ],
    );
    let err = open_root(source(&disk_path)?).err().ok_or("no error")?;
    let text = err.to_string();
    assert!(matches!(err, DiskError::Unsupported { .. }), "{text}");
    assert!(text.contains("partition 2: ext4 without `/etc/os-release`"), "{text}");

    // All zeros.
    let zeros = dir.path().join("zeros.img");
    std::fs::File::create(&zeros)?.set_len(4 << 20)?;
    let err = open_root(source(&zeros)?).err().ok_or("no error")?;
    assert!(err.to_string().contains("no filesystem recognised"), "{err}");

    // A filesystem the reader does not read.
    let btrfs = dir.path().join("btrfs.img");
    let mut bytes = vec![0u8; 1 << 20];
    bytes[0x10040..0x10048].copy_from_slice(b"_BHRfS_M");
    std::fs::write(&btrfs, &bytes)?;
    let err = open_root(source(&btrfs)?).err().ok_or("no error")?;
    assert!(err.to_string().contains("`btrfs`"), "{err}");
    Ok(())
}

#[test]
fn damaged_filesystems_are_errors_not_empty_trees() -> TestResult {
    let dir = tempfile::tempdir()?;
    // XFS with a broken root inode.
    let mut bytes = std::fs::read(image("xfs5.img"))?;
    let path = dir.path().join("xfs-bad.img");
    let root_ino = u64::from_be_bytes(bytes[56..64].try_into()?);
    let inode_size = u64::from(u16::from_be_bytes(bytes[104..106].try_into()?));
    let inodes_per_block_log = u32::from(bytes[123]);
    let block_size = u64::from(u32::from_be_bytes(bytes[4..8].try_into()?));
    let at = (root_ino >> inodes_per_block_log) * block_size
        + (root_ino & ((1 << inodes_per_block_log) - 1)) * inode_size;
    bytes[at as usize] = b'X';
    std::fs::write(&path, &bytes)?;
    let err = XfsTree::open(Volume::whole(source(&path)?)).err().ok_or("no error")?;
    assert!(matches!(err, DiskError::Corrupt { .. }), "{err}");
    assert!(open_root(source(&path)?).is_err());

    // XFS claiming more blocks than the volume has (a truncated image).
    let path = dir.path().join("xfs-short.img");
    let bytes = std::fs::read(image("xfs5.img"))?;
    std::fs::write(&path, &bytes[..bytes.len() / 2])?;
    let err = open_root(source(&path)?).err().ok_or("no error")?;
    assert!(matches!(err, DiskError::Corrupt { .. }), "{err}");

    // ext4 cut short.
    let path = dir.path().join("ext4-short.img");
    let bytes = std::fs::read(image("ext4.img"))?;
    std::fs::write(&path, &bytes[..bytes.len() / 4])?;
    assert!(open_root(source(&path)?).is_err());
    Ok(())
}

#[test]
fn reads_fetch_a_small_part_of_the_image_in_large_blocks() -> TestResult {
    let img = image("ext4.img");
    let src: Arc<dyn BlockSource> = Arc::new(ImageFile::open_with(&img, 512 << 10, 64 << 20)?);
    let root = open_root(src.clone())?;
    assert_eq!(
        root.read_file("/var/lib/dpkg/status", 1 << 20)?,
        Some(DPKG_STATUS.as_bytes().to_vec())
    );
    let stats = src.stats();
    assert_eq!(stats.bytes_fetched, stats.blocks_fetched * (512 << 10));
    assert!(
        stats.bytes_fetched < src.size() / 2,
        "{stats:?} of {} bytes",
        src.size()
    );
    Ok(())
}
