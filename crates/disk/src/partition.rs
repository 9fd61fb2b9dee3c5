//! Partition tables: MBR (with extended partitions) and GPT (primary
//! header, CRC-checked), on 512- or 4096-byte sectors.

use crate::DiskError;
use crate::source::Volume;

/// The partitioning scheme found on a disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableKind {
    /// No partition table: the filesystem (if any) covers the whole disk.
    None,
    /// A DOS/MBR table.
    Mbr,
    /// A GUID partition table.
    Gpt,
}

/// What a partition's type says it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartitionRole {
    /// A filesystem (Linux data/root, or a type the reader does not single out).
    Data,
    /// EFI system partition (FAT; never a root).
    EfiSystem,
    /// BIOS boot partition (GRUB's core image; no filesystem).
    BiosBoot,
    /// Swap.
    Swap,
    /// LVM physical volume (not read).
    Lvm,
}

/// One partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    /// Its number (1-based; MBR logical partitions start at 5).
    pub number: u32,
    /// Byte offset on the disk.
    pub offset: u64,
    /// Length in bytes.
    pub len: u64,
    /// The type as written (MBR `0x83`, GPT type GUID).
    pub type_id: String,
    /// What the type says it holds.
    pub role: PartitionRole,
}

const GPT_EFI: &str = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B";
const GPT_BIOS_BOOT: &str = "21686148-6449-6E6F-744E-656564454649";
const GPT_SWAP: &str = "0657FD6D-A4AB-4C6F-8491-B6BC8D3A1B8C";
const GPT_LVM: &str = "E6D6D379-F507-44C2-A23C-238F2A3DF928";

fn corrupt(detail: impl Into<String>) -> DiskError {
    DiskError::Corrupt {
        what: "partition table".to_owned(),
        detail: detail.into(),
    }
}

fn le_u32(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u32::from_le_bytes)
}

fn le_u64(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 8)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u64::from_le_bytes)
}

/// CRC-32 (IEEE 802.3, reflected), as GPT uses.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

fn guid(b: &[u8]) -> String {
    let g = |i: usize| b.get(i).copied().unwrap_or(0);
    format!(
        "{:02X}{:02X}{:02X}{:02X}-{:02X}{:02X}-{:02X}{:02X}-{:02X}{:02X}-{:02X}{:02X}{:02X}{:02X}{:02X}{:02X}",
        g(3),
        g(2),
        g(1),
        g(0),
        g(5),
        g(4),
        g(7),
        g(6),
        g(8),
        g(9),
        g(10),
        g(11),
        g(12),
        g(13),
        g(14),
        g(15)
    )
}

fn gpt_role(type_guid: &str) -> PartitionRole {
    match type_guid {
        GPT_EFI => PartitionRole::EfiSystem,
        GPT_BIOS_BOOT => PartitionRole::BiosBoot,
        GPT_SWAP => PartitionRole::Swap,
        GPT_LVM => PartitionRole::Lvm,
        _ => PartitionRole::Data,
    }
}

fn mbr_role(kind: u8) -> PartitionRole {
    match kind {
        0xEF => PartitionRole::EfiSystem,
        0x82 => PartitionRole::Swap,
        0x8E => PartitionRole::Lvm,
        _ => PartitionRole::Data,
    }
}

/// Reads the disk's partition table. A disk with none is
/// `(TableKind::None, [])`.
pub fn read_partitions(disk: &Volume) -> Result<(TableKind, Vec<Partition>), DiskError> {
    if disk.len() < 1024 {
        return Ok((TableKind::None, Vec::new()));
    }
    for sector in [512u64, 4096] {
        if disk.len() >= sector * 2 {
            let header = disk.read_vec(sector, 512)?;
            if header.get(..8) == Some(b"EFI PART") {
                return read_gpt(disk, sector, &header).map(|p| (TableKind::Gpt, p));
            }
        }
    }
    let mbr = disk.read_vec(0, 512)?;
    if mbr.get(510..512) != Some(&[0x55, 0xAA]) {
        return Ok((TableKind::None, Vec::new()));
    }
    let entries = mbr_entries(&mbr);
    // A boot sector with a signature but no sane entries is a filesystem's
    // (FAT, NTFS), not a table.
    let sane = entries.iter().all(|e| {
        e.status & 0x7F == 0
            && (e.kind == 0 || (e.start > 0 && e.sectors > 0))
            && (u64::from(e.start) + u64::from(e.sectors)) * 512 <= disk.len().max(1 << 40)
    });
    if !sane || entries.iter().all(|e| e.kind == 0) {
        return Ok((TableKind::None, Vec::new()));
    }
    if entries.iter().any(|e| e.kind == 0xEE) {
        return Err(corrupt("protective MBR without a GPT header"));
    }
    let mut out = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        if e.kind == 0 {
            continue;
        }
        if matches!(e.kind, 0x05 | 0x0F | 0x85) {
            read_extended(disk, u64::from(e.start), &mut out)?;
            continue;
        }
        out.push(Partition {
            number: i as u32 + 1,
            offset: u64::from(e.start) * 512,
            len: u64::from(e.sectors) * 512,
            type_id: format!("0x{:02x}", e.kind),
            role: mbr_role(e.kind),
        });
    }
    out.sort_by_key(|p| p.number);
    Ok((TableKind::Mbr, out))
}

#[derive(Debug, Clone, Copy)]
struct MbrEntry {
    status: u8,
    kind: u8,
    start: u32,
    sectors: u32,
}

fn mbr_entries(sector: &[u8]) -> Vec<MbrEntry> {
    (0..4)
        .map(|i| {
            let at = 446 + i * 16;
            MbrEntry {
                status: sector.get(at).copied().unwrap_or(0),
                kind: sector.get(at + 4).copied().unwrap_or(0),
                start: le_u32(sector, at + 8),
                sectors: le_u32(sector, at + 12),
            }
        })
        .collect()
}

fn read_extended(disk: &Volume, ext_start: u64, out: &mut Vec<Partition>) -> Result<(), DiskError> {
    let mut ebr = ext_start;
    let mut number = 5;
    // Bounded: a loop of EBRs pointing at each other ends here.
    for _ in 0..128 {
        if ebr * 512 + 512 > disk.len() {
            return Err(corrupt(format!("extended partition at sector `{ebr}` past the disk")));
        }
        let sector = disk.read_vec(ebr * 512, 512)?;
        if sector.get(510..512) != Some(&[0x55, 0xAA]) {
            return Err(corrupt(format!("extended boot record at sector `{ebr}` has no signature")));
        }
        let entries = mbr_entries(&sector);
        let (Some(first), Some(link)) = (entries.first(), entries.get(1)) else {
            return Ok(());
        };
        if first.kind != 0 && first.sectors > 0 {
            out.push(Partition {
                number,
                offset: (ebr + u64::from(first.start)) * 512,
                len: u64::from(first.sectors) * 512,
                type_id: format!("0x{:02x}", first.kind),
                role: mbr_role(first.kind),
            });
            number += 1;
        }
        if link.kind == 0 || link.start == 0 {
            return Ok(());
        }
        ebr = ext_start + u64::from(link.start);
    }
    Err(corrupt("more than 128 logical partitions"))
}

fn read_gpt(disk: &Volume, sector: u64, header: &[u8]) -> Result<Vec<Partition>, DiskError> {
    let header_size = le_u32(header, 12) as usize;
    if !(92..=512).contains(&header_size) {
        return Err(corrupt(format!("GPT header size `{header_size}`")));
    }
    let mut check = header.get(..header_size).unwrap_or_default().to_vec();
    if let Some(crc) = check.get_mut(16..20) {
        crc.fill(0);
    }
    if crc32(&check) != le_u32(header, 16) {
        return Err(corrupt("GPT header checksum mismatch"));
    }
    let entries_lba = le_u64(header, 72);
    let count = le_u32(header, 80) as usize;
    let entry_size = le_u32(header, 84) as usize;
    if count > 4096 || !(128..=4096).contains(&entry_size) || entry_size % 8 != 0 {
        return Err(corrupt(format!(
            "GPT with `{count}` entries of `{entry_size}` bytes"
        )));
    }
    let table_len = count * entry_size;
    let table_at = entries_lba
        .checked_mul(sector)
        .filter(|at| at.saturating_add(table_len as u64) <= disk.len())
        .ok_or_else(|| corrupt(format!("GPT entries at LBA `{entries_lba}` past the disk")))?;
    let table = disk.read_vec(table_at, table_len)?;
    if crc32(&table) != le_u32(header, 88) {
        return Err(corrupt("GPT partition entries checksum mismatch"));
    }
    let mut out = Vec::new();
    for (i, entry) in table.chunks_exact(entry_size).enumerate() {
        let type_guid = entry.get(..16).unwrap_or_default();
        if type_guid.iter().all(|b| *b == 0) {
            continue;
        }
        let first = le_u64(entry, 32);
        let last = le_u64(entry, 40);
        if last < first {
            return Err(corrupt(format!("GPT partition `{}` ends before it starts", i + 1)));
        }
        let type_id = guid(type_guid);
        out.push(Partition {
            number: i as u32 + 1,
            offset: first.saturating_mul(sector),
            len: (last - first + 1).saturating_mul(sector),
            role: gpt_role(&type_id),
            type_id,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn guids_print_in_mixed_endian() {
        let raw = [
            0x28, 0x73, 0x2A, 0xC1, 0x1F, 0xF8, 0xD2, 0x11, 0xBA, 0x4B, 0x00, 0xA0, 0xC9, 0x3E,
            0xC9, 0x3B,
        ];
        assert_eq!(guid(&raw), GPT_EFI);
    }
}
