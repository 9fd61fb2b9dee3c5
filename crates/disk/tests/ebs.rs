//! Snapshots read through the EBS direct APIs on moto: images made at test
//! time, uploaded with StartSnapshot/PutSnapshotBlock/CompleteSnapshot
//! (moto's blocks are 512 bytes), read back lazily.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use rampart_aws::{AwsAccess, AwsSettings};
use rampart_disk::{
    BlockSource, DiskError, EbsOptions, EbsSnapshot, FileTree, FsKind, RootFs, open_root,
};
use rampart_testkit::Moto;
use rampart_testkit::disk::{self, DPKG_STATUS, OS_RELEASE, PASSWD, Part, Table};

type TestResult = Result<(), Box<dyn std::error::Error>>;

struct Fixture {
    moto: Moto,
    _dir: tempfile::TempDir,
    path: PathBuf,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let moto = Moto::start();
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().to_path_buf();
        let root = path.join("root");
        disk::write_small_root(&root);
        disk::ext4_image(&root, &path.join("ext4.img"), 8, &[]);
        disk::xfs_image(&root, &path.join("xfs.img"), 32, &[]);
        disk::partitioned_disk(
            &path.join("gpt.img"),
            Table::Gpt,
            &[
                Part::empty("ef02", 1),
                Part::with_image("8300", &path.join("ext4.img")),
            ],
        );
        Fixture {
            moto,
            _dir: dir,
            path,
        }
    })
}

async fn access() -> Result<AwsAccess, Box<dyn std::error::Error>> {
    let settings = AwsSettings {
        endpoint_url: Some(fixture().moto.url()),
        home_region: Some("us-east-1".to_owned()),
        credentials: Some(SharedCredentialsProvider::new(Credentials::new(
            "testing", "testing", None, None, "test",
        ))),
        ..AwsSettings::default()
    };
    Ok(AwsAccess::load(&settings).await?)
}

async fn open(snapshot_id: &str, options: EbsOptions) -> Result<Arc<EbsSnapshot>, DiskError> {
    let client = access().await.map_err(|e| DiskError::Io {
        what: "access".to_owned(),
        source: std::io::Error::other(e.to_string()),
    })?;
    Ok(Arc::new(
        EbsSnapshot::open(client.ebs("us-east-1"), snapshot_id, options).await?,
    ))
}

/// The scan's bridge: the synchronous reader runs on a blocking thread.
async fn root_of(snapshot: Arc<EbsSnapshot>) -> Result<RootFs, DiskError> {
    tokio::task::spawn_blocking(move || open_root(snapshot))
        .await
        .map_err(|e| DiskError::Io {
            what: "join".to_owned(),
            source: std::io::Error::other(e.to_string()),
        })?
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gpt_snapshot_is_read_lazily_in_the_reported_block_size() -> TestResult {
    let image = fixture().path.join("gpt.img");
    let uploaded = disk::upload_snapshot(&fixture().moto.url(), &image);
    assert_eq!(uploaded.block_size, 512);
    let snapshot = open(&uploaded.snapshot_id, EbsOptions::default()).await?;
    assert_eq!(snapshot.block_size(), 512);
    assert_eq!(snapshot.size(), 1 << 30);
    assert_eq!(snapshot.listed_blocks() as u64, uploaded.blocks);

    let root = root_of(snapshot.clone()).await?;
    assert_eq!(root.filesystem, FsKind::Ext4);
    assert_eq!(root.partition.as_ref().map(|p| p.number), Some(2));
    let (root, status) = tokio::task::spawn_blocking(move || {
        let status = root.read_file("/var/lib/dpkg/status", 1 << 20);
        (root, status)
    })
    .await?;
    assert_eq!(status?, Some(DPKG_STATUS.as_bytes().to_vec()));
    let stats = snapshot.stats();
    let uploaded_bytes = uploaded.blocks * 512;
    assert!(
        stats.bytes_fetched * 2 < uploaded_bytes,
        "fetched {stats:?} of {uploaded_bytes} uploaded bytes"
    );
    assert_eq!(stats.bytes_fetched, stats.blocks_fetched * 512);
    assert!(stats.zero_blocks > 0, "blocks never uploaded read as zeros: {stats:?}");

    let root = Arc::new(root);
    let reader = root.clone();
    let (os, escape, big) = tokio::task::spawn_blocking(move || {
        (
            reader.read_file("/etc/os-release", 1 << 20),
            reader.read_file("/var/escape", 1 << 20),
            reader.read_file("/opt/big.bin", 1 << 20),
        )
    })
    .await?;
    assert_eq!(os?, Some(OS_RELEASE.as_bytes().to_vec()));
    assert_eq!(escape?, Some(PASSWD.as_bytes().to_vec()));
    assert_eq!(big?, Some(disk::big_file()[..192 << 10].to_vec()));
    let after = snapshot.stats();
    assert!(after.blocks_fetched > stats.blocks_fetched);
    assert!(after.bytes_fetched < 1 << 20, "{after:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_xfs_snapshot_without_a_partition_table_is_read() -> TestResult {
    let image = fixture().path.join("xfs.img");
    let uploaded = disk::upload_snapshot(&fixture().moto.url(), &image);
    let snapshot = open(&uploaded.snapshot_id, EbsOptions::default()).await?;
    let root = Arc::new(root_of(snapshot.clone()).await?);
    assert_eq!(root.filesystem, FsKind::Xfs);
    let reader = root.clone();
    let (os, big) = tokio::task::spawn_blocking(move || {
        (
            reader.read_file("/etc/os-release", 1 << 20),
            reader.read_file("/opt/big.bin", 1 << 20),
        )
    })
    .await?;
    assert_eq!(os?, Some(OS_RELEASE.as_bytes().to_vec()));
    assert_eq!(big?, Some(disk::big_file()[..192 << 10].to_vec()));
    // Sequential reads of the large file were answered partly by read-ahead.
    assert!(snapshot.stats().cache_hits > 0);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_block_whose_checksum_does_not_match_is_an_error() -> TestResult {
    let image = fixture().path.join("ext4.img");
    // Block 2 (bytes 1024..1536) holds the ext4 superblock.
    let uploaded =
        disk::upload_snapshot_with_bad_checksum(&fixture().moto.url(), &image, Some(2));
    let snapshot = open(&uploaded.snapshot_id, EbsOptions::default()).await?;
    let err = root_of(snapshot).await.err().ok_or("no error")?;
    assert!(err.to_string().contains("checksum"), "{err}");

    // Without verification the (intact) data reads.
    let options = EbsOptions {
        verify_checksums: false,
        ..EbsOptions::default()
    };
    let snapshot = open(&uploaded.snapshot_id, options).await?;
    let root = root_of(snapshot).await?;
    assert_eq!(root.filesystem, FsKind::Ext4);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_snapshot_is_an_error() -> TestResult {
    let _ = fixture();
    let err = open("snap-0123456789abcdef0", EbsOptions::default())
        .await
        .err()
        .ok_or("no error")?;
    assert!(matches!(err, DiskError::Io { .. }), "{err}");
    assert!(err.to_string().contains("snap-0123456789abcdef0"), "{err}");
    Ok(())
}
