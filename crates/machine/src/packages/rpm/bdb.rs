//! The BerkeleyDB hash database rpm < 4.16 keeps its headers in
//! (`/var/lib/rpm/Packages`). Read page by page without the library: the
//! metadata page gives the byte order, page size and last page; every hash
//! page holds key/value index entries; values are header blobs, stored
//! on-page or (usually) on a chain of overflow pages. Bounds checked
//! throughout.

const HASH_MAGIC: u32 = 0x0006_1561;
const PAGE_HEADER: usize = 26;
const P_HASH_UNSORTED: u8 = 2;
const P_OVERFLOW: u8 = 7;
const P_HASHMETA: u8 = 8;
const P_HASH: u8 = 13;
const H_KEYDATA: u8 = 1;
const H_OFFPAGE: u8 = 3;

/// Why the database could not be read.
#[derive(Debug)]
pub(super) enum BdbError {
    /// The file is not a BerkeleyDB hash database.
    NotBerkeleyDb,
    /// It is one, but inconsistent.
    Corrupt(String),
}

struct Db<'a> {
    bytes: &'a [u8],
    little: bool,
    page_size: usize,
}

impl<'a> Db<'a> {
    fn u32_at(&self, bytes: &[u8], at: usize) -> Option<u32> {
        let b: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(if self.little {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    }

    fn u16_at(&self, bytes: &[u8], at: usize) -> Option<u16> {
        let b: [u8; 2] = bytes.get(at..at.checked_add(2)?)?.try_into().ok()?;
        Some(if self.little {
            u16::from_le_bytes(b)
        } else {
            u16::from_be_bytes(b)
        })
    }

    fn page(&self, pgno: u32) -> Option<&'a [u8]> {
        let start = usize::try_from(pgno).ok()?.checked_mul(self.page_size)?;
        self.bytes.get(start..start.checked_add(self.page_size)?)
    }

    /// Follows an overflow chain from `pgno`, collecting `total` bytes.
    fn overflow(&self, mut pgno: u32, total: usize) -> Result<Vec<u8>, String> {
        let mut out = Vec::with_capacity(total.min(self.bytes.len()));
        let max_pages = self.bytes.len() / self.page_size + 1;
        let mut visited = 0;
        while pgno != 0 && out.len() < total {
            visited += 1;
            if visited > max_pages {
                return Err("overflow chain loops".to_owned());
            }
            let page = self
                .page(pgno)
                .ok_or_else(|| format!("overflow page {pgno} is past the end"))?;
            if page.get(25) != Some(&P_OVERFLOW) {
                return Err(format!("page {pgno} is not an overflow page"));
            }
            let next = self.u32_at(page, 16).ok_or("truncated page")?;
            let used = usize::from(self.u16_at(page, 22).ok_or("truncated page")?);
            let chunk = page
                .get(PAGE_HEADER..PAGE_HEADER.saturating_add(used))
                .ok_or_else(|| format!("overflow page {pgno} claims {used} bytes"))?;
            out.extend_from_slice(chunk);
            pgno = next;
        }
        if out.len() < total {
            return Err(format!(
                "overflow chain holds {} of {total} bytes",
                out.len()
            ));
        }
        out.truncate(total);
        Ok(out)
    }
}

/// Every value of the hash database, keyed by its position.
pub(super) fn blobs(bytes: &[u8]) -> Result<Vec<super::Blob>, BdbError> {
    let magic_bytes: [u8; 4] = bytes
        .get(12..16)
        .and_then(|b| b.try_into().ok())
        .ok_or(BdbError::NotBerkeleyDb)?;
    let little = if u32::from_le_bytes(magic_bytes) == HASH_MAGIC {
        true
    } else if u32::from_be_bytes(magic_bytes) == HASH_MAGIC {
        false
    } else {
        return Err(BdbError::NotBerkeleyDb);
    };
    let mut db = Db {
        bytes,
        little,
        page_size: 0,
    };
    if bytes.get(25) != Some(&P_HASHMETA) {
        return Err(BdbError::NotBerkeleyDb);
    }
    let page_size = db.u32_at(bytes, 20).ok_or(BdbError::NotBerkeleyDb)?;
    if !(512..=65_536).contains(&page_size) || !page_size.is_power_of_two() {
        return Err(BdbError::Corrupt(format!(
            "page size {page_size} is invalid"
        )));
    }
    db.page_size = usize::try_from(page_size).map_err(|e| BdbError::Corrupt(e.to_string()))?;
    let last_pgno = db.u32_at(bytes, 32).ok_or(BdbError::NotBerkeleyDb)?;
    let mut out = Vec::new();
    let mut key = 0u64;
    for pgno in 1..=last_pgno {
        // A database copied mid-write may be short: stop at its end.
        let Some(page) = db.page(pgno) else {
            return Err(BdbError::Corrupt(format!(
                "page {pgno} of {last_pgno} is past the end of the file"
            )));
        };
        let kind = page.get(25).copied().unwrap_or_default();
        if kind != P_HASH && kind != P_HASH_UNSORTED {
            continue;
        }
        let entries = db.u16_at(page, 20).unwrap_or_default();
        // Entries are key/value pairs; values are the odd ones.
        for index in (1..entries).step_by(2) {
            key += 1;
            let slot = PAGE_HEADER + usize::from(index) * 2;
            let value = (|| -> Result<Option<Vec<u8>>, String> {
                let offset = usize::from(db.u16_at(page, slot).ok_or("truncated index")?);
                match page.get(offset).copied() {
                    Some(H_OFFPAGE) => {
                        let first = db.u32_at(page, offset + 4).ok_or("truncated entry")?;
                        let total = db.u32_at(page, offset + 8).ok_or("truncated entry")?;
                        let total = usize::try_from(total).map_err(|e| e.to_string())?;
                        if total > bytes.len() {
                            return Err(format!("value of {total} bytes is larger than the file"));
                        }
                        db.overflow(first, total).map(Some)
                    }
                    Some(H_KEYDATA) => {
                        // On-page data ends where the previous entry starts.
                        let end = usize::from(db.u16_at(page, slot - 2).ok_or("truncated index")?);
                        let data = page.get(offset + 1..end).ok_or("bad on-page entry")?;
                        // rpm keeps a 4-byte counter record beside the headers.
                        Ok((data.len() > 8).then(|| data.to_vec()))
                    }
                    Some(other) => Err(format!("unknown hash entry type {other}")),
                    None => Err(format!("entry offset {offset} is outside the page")),
                }
            })();
            match value {
                Ok(Some(blob)) => out.push((key, Ok(blob))),
                Ok(None) => {}
                Err(detail) => out.push((key, Err(detail))),
            }
        }
    }
    Ok(out)
}
