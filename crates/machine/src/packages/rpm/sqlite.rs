//! The SQLite rpmdb (`rpmdb.sqlite`, rpm ≥ 4.16): table `Packages` with
//! `hnum` (the package's key) and `blob` (its header). The bytes read
//! through the file tree are copied to a private temporary directory
//! (with the write-ahead log, when there is one) and opened there.

use rusqlite::{Connection, OpenFlags};

/// Every `(hnum, blob)` of the `Packages` table.
pub(super) fn blobs(db: &[u8], wal: Option<&[u8]>) -> Result<Vec<super::Blob>, String> {
    if !db.starts_with(b"SQLite format 3\0") {
        return Err("not an SQLite database".to_owned());
    }
    let dir = tempfile::tempdir().map_err(|e| format!("cannot make a temporary directory: {e}"))?;
    let path = dir.path().join("rpmdb.sqlite");
    std::fs::write(&path, db).map_err(|e| format!("cannot copy the database: {e}"))?;
    if let Some(wal) = wal.filter(|w| !w.is_empty()) {
        std::fs::write(dir.path().join("rpmdb.sqlite-wal"), wal)
            .map_err(|e| format!("cannot copy the write-ahead log: {e}"))?;
    }
    let conn = Connection::open_with_flags(
        &path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| format!("not an SQLite database: {e}"))?;
    let mut stmt = conn
        .prepare("SELECT hnum, blob FROM Packages ORDER BY hnum")
        .map_err(|e| format!("no rpm `Packages` table: {e}"))?;
    let rows = stmt
        .query_map([], |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, Vec<u8>>(1)?))
        })
        .map_err(|e| format!("cannot read `Packages`: {e}"))?;
    let mut out = Vec::new();
    for row in rows {
        let (hnum, blob) = row.map_err(|e| format!("cannot read `Packages`: {e}"))?;
        out.push((u64::try_from(hnum).unwrap_or_default(), Ok(blob)));
    }
    Ok(out)
}
