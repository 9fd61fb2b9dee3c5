//! rpm's own "ndb" package database (`Packages.db`, SUSE): a 32-byte header
//! (`RpmP`, version 0, generation, slot page count), slot pages of 16-byte
//! slots (`Slot`, package index, block offset, block count; 16-byte blocks),
//! and blobs (`BlbS`, package index, generation, length, header blob).
//! Little-endian throughout; every read bounds checked.

const PAGE: usize = 4096;
const BLOCK: usize = 16;
const SLOT: usize = 16;
const HEADER: usize = 32;
const DB_MAGIC: u32 = u32::from_le_bytes(*b"RpmP");
const SLOT_MAGIC: u32 = u32::from_le_bytes(*b"Slot");
const BLOB_MAGIC: u32 = u32::from_le_bytes(*b"BlbS");
const BLOB_HEAD: usize = 16;

fn le_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let b: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_le_bytes(b))
}

/// Every package blob, keyed by package index; `Err` when the file is not an
/// ndb database or its slot area is damaged.
pub(super) fn blobs(bytes: &[u8]) -> Result<Vec<super::Blob>, String> {
    if le_u32(bytes, 0) != Some(DB_MAGIC) {
        return Err("not an ndb database".to_owned());
    }
    let version = le_u32(bytes, 4).ok_or("truncated header")?;
    if version != 0 {
        return Err(format!("ndb version {version} is not supported"));
    }
    let slot_pages =
        usize::try_from(le_u32(bytes, 12).ok_or("truncated header")?).map_err(|e| e.to_string())?;
    let slot_area = slot_pages
        .checked_mul(PAGE)
        .filter(|len| *len <= bytes.len())
        .ok_or_else(|| format!("{slot_pages} slot pages do not fit in the file"))?;
    let mut out = Vec::new();
    for at in (HEADER..slot_area).step_by(SLOT) {
        if le_u32(bytes, at) != Some(SLOT_MAGIC) {
            return Err(format!("bad slot at byte {at}"));
        }
        let (Some(index), Some(block), Some(count)) = (
            le_u32(bytes, at + 4),
            le_u32(bytes, at + 8),
            le_u32(bytes, at + 12),
        ) else {
            return Err(format!("truncated slot at byte {at}"));
        };
        if block == 0 {
            continue;
        }
        out.push((u64::from(index), blob(bytes, index, block, count)));
    }
    Ok(out)
}

fn blob(bytes: &[u8], index: u32, block: u32, count: u32) -> Result<Vec<u8>, String> {
    let start = usize::try_from(block)
        .map_err(|e| e.to_string())?
        .checked_mul(BLOCK)
        .ok_or("offset overflows")?;
    let span = usize::try_from(count)
        .map_err(|e| e.to_string())?
        .checked_mul(BLOCK)
        .ok_or("size overflows")?;
    let area = bytes
        .get(start..start.checked_add(span).ok_or("size overflows")?)
        .ok_or_else(|| format!("blob at block {block} is past the end of the file"))?;
    if le_u32(area, 0) != Some(BLOB_MAGIC) {
        return Err(format!("no blob at block {block}"));
    }
    if le_u32(area, 4) != Some(index) {
        return Err(format!("blob at block {block} belongs to another package"));
    }
    let len =
        usize::try_from(le_u32(area, 12).ok_or("truncated blob")?).map_err(|e| e.to_string())?;
    area.get(BLOB_HEAD..BLOB_HEAD.checked_add(len).ok_or("size overflows")?)
        .map(<[u8]>::to_vec)
        .ok_or_else(|| format!("blob of {len} bytes overruns its {span}-byte area"))
}
