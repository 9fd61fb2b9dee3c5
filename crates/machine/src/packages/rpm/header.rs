//! The RPM header blob as the rpmdb stores it (`headerExport`): a big-endian
//! index count `il` and data length `dl`, `il` 16-byte index entries (tag,
//! type, offset, count) and a `dl`-byte data store. Every read is bounds
//! checked; a corrupt blob is an error on that package, never a panic.

use rampart_model::machine::{InstalledPackage, PackageFormat};

const TAG_NAME: u32 = 1000;
const TAG_VERSION: u32 = 1001;
const TAG_RELEASE: u32 = 1002;
const TAG_EPOCH: u32 = 1003;
const TAG_ARCH: u32 = 1022;
const TAG_SOURCERPM: u32 = 1044;

const TYPE_INT32: u32 = 4;
const TYPE_STRING: u32 = 6;
const TYPE_STRING_ARRAY: u32 = 8;
const TYPE_I18NSTRING: u32 = 9;

/// rpm's own limits on an imported header.
const MAX_INDEX_ENTRIES: u32 = 0xffff;
const MAX_DATA_LEN: u32 = 256 * 1024 * 1024;

#[derive(Debug, Clone, Copy)]
struct Entry {
    tag: u32,
    kind: u32,
    offset: u32,
    count: u32,
}

/// A parsed header: its index and its data store.
struct Header<'a> {
    entries: Vec<Entry>,
    data: &'a [u8],
}

fn be_u32(bytes: &[u8], at: usize) -> Result<u32, String> {
    bytes
        .get(at..at.saturating_add(4))
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(u32::from_be_bytes)
        .ok_or_else(|| format!("truncated at byte {at}"))
}

impl<'a> Header<'a> {
    fn parse(blob: &'a [u8]) -> Result<Self, String> {
        let il = be_u32(blob, 0)?;
        let dl = be_u32(blob, 4)?;
        if il == 0 || il > MAX_INDEX_ENTRIES {
            return Err(format!("index entry count {il} out of range"));
        }
        if dl > MAX_DATA_LEN {
            return Err(format!("data length {dl} out of range"));
        }
        let index_len = usize::try_from(il).map_err(|e| e.to_string())? * 16;
        let data_start = 8 + index_len;
        let data_end = data_start + usize::try_from(dl).map_err(|e| e.to_string())?;
        let data = blob.get(data_start..data_end).ok_or_else(|| {
            format!(
                "blob of {} bytes is shorter than its header says ({data_end})",
                blob.len()
            )
        })?;
        let mut entries = Vec::with_capacity(index_len / 16);
        for i in 0..index_len / 16 {
            let at = 8 + i * 16;
            entries.push(Entry {
                tag: be_u32(blob, at)?,
                kind: be_u32(blob, at + 4)?,
                offset: be_u32(blob, at + 8)?,
                count: be_u32(blob, at + 12)?,
            });
        }
        Ok(Self { entries, data })
    }

    fn entry(&self, tag: u32) -> Option<Entry> {
        self.entries.iter().copied().find(|e| e.tag == tag)
    }

    /// A string tag (the first string of a string array).
    fn string(&self, tag: u32) -> Result<Option<String>, String> {
        let Some(entry) = self.entry(tag) else {
            return Ok(None);
        };
        if !matches!(
            entry.kind,
            TYPE_STRING | TYPE_STRING_ARRAY | TYPE_I18NSTRING
        ) {
            return Err(format!(
                "tag {tag} has type {} instead of a string",
                entry.kind
            ));
        }
        let start = usize::try_from(entry.offset).map_err(|e| e.to_string())?;
        let rest = self
            .data
            .get(start..)
            .ok_or_else(|| format!("tag {tag} offset {start} is outside the data store"))?;
        let len = rest
            .iter()
            .position(|&b| b == 0)
            .ok_or_else(|| format!("tag {tag} string is not terminated"))?;
        let text = rest.get(..len).unwrap_or_default();
        Ok(Some(String::from_utf8_lossy(text).into_owned()))
    }

    /// An INT32 tag's first value.
    fn int32(&self, tag: u32) -> Result<Option<u32>, String> {
        let Some(entry) = self.entry(tag) else {
            return Ok(None);
        };
        if entry.kind != TYPE_INT32 || entry.count == 0 {
            return Err(format!("tag {tag} is not an int32"));
        }
        let start = usize::try_from(entry.offset).map_err(|e| e.to_string())?;
        be_u32(self.data, start)
            .map(Some)
            .map_err(|_| format!("tag {tag} offset {start} is outside the data store"))
    }
}

/// Parses one rpmdb header blob into an installed package, or `None` for
/// the `gpg-pubkey` pseudo-packages rpm keeps for imported signing keys.
/// The version carries the epoch (`1:1.0.2k-26.amzn2`) when the package has
/// a non-zero one; the source name comes from `SOURCERPM`.
pub(crate) fn parse_rpm_header(blob: &[u8]) -> Result<Option<InstalledPackage>, String> {
    let header = Header::parse(blob)?;
    let name = header
        .string(TAG_NAME)?
        .filter(|n| !n.is_empty())
        .ok_or("no NAME tag")?;
    if name == "gpg-pubkey" {
        return Ok(None);
    }
    let version = header.string(TAG_VERSION)?.ok_or("no VERSION tag")?;
    let release = header.string(TAG_RELEASE)?.ok_or("no RELEASE tag")?;
    let epoch = header.int32(TAG_EPOCH)?.filter(|e| *e != 0);
    let arch = header.string(TAG_ARCH)?.filter(|a| !a.is_empty());
    let evr = |v: &str, r: &str| match epoch {
        Some(e) => format!("{e}:{v}-{r}"),
        None => format!("{v}-{r}"),
    };
    let full_version = evr(&version, &release);
    let (source_name, source_version) = match header.string(TAG_SOURCERPM)? {
        Some(srpm) => match split_source_rpm(&srpm) {
            Some((n, v, r)) => (Some(n.to_owned()), Some(evr(v, r))),
            None => (None, None),
        },
        None => (None, None),
    };
    Ok(Some(InstalledPackage {
        source_version: source_version.filter(|v| *v != full_version),
        name,
        version: full_version,
        format: PackageFormat::Rpm,
        source_name,
        arch,
    }))
}

/// `openssl-3.0.8-1.amzn2023.0.4.src.rpm` → (`openssl`, `3.0.8`,
/// `1.amzn2023.0.4`).
fn split_source_rpm(srpm: &str) -> Option<(&str, &str, &str)> {
    let base = srpm
        .strip_suffix(".src.rpm")
        .or_else(|| srpm.strip_suffix(".nosrc.rpm"))?;
    let (rest, release) = base.rsplit_once('-')?;
    let (name, version) = rest.rsplit_once('-')?;
    (!name.is_empty() && !version.is_empty() && !release.is_empty())
        .then_some((name, version, release))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal header writer (the test suite has a fuller one).
    fn blob(tags: &[(u32, u32, Vec<u8>)]) -> Vec<u8> {
        let mut index: Vec<u8> = Vec::new();
        let mut data: Vec<u8> = Vec::new();
        for (tag, kind, bytes) in tags {
            index.extend(tag.to_be_bytes());
            index.extend(kind.to_be_bytes());
            index.extend(u32::try_from(data.len()).unwrap_or(0).to_be_bytes());
            index.extend(1u32.to_be_bytes());
            data.extend(bytes);
        }
        let mut out = Vec::new();
        out.extend(u32::try_from(tags.len()).unwrap_or(0).to_be_bytes());
        out.extend(u32::try_from(data.len()).unwrap_or(0).to_be_bytes());
        out.extend(index);
        out.extend(data);
        out
    }

    fn s(text: &str) -> Vec<u8> {
        let mut v = text.as_bytes().to_vec();
        v.push(0);
        v
    }

    #[test]
    fn a_header_with_epoch_and_source() -> Result<(), String> {
        let b = blob(&[
            (TAG_NAME, TYPE_STRING, s("openssl-libs")),
            (TAG_VERSION, TYPE_STRING, s("1.0.2k")),
            (TAG_RELEASE, TYPE_STRING, s("26.amzn2")),
            (TAG_EPOCH, TYPE_INT32, 1u32.to_be_bytes().to_vec()),
            (TAG_ARCH, TYPE_STRING, s("x86_64")),
            (
                TAG_SOURCERPM,
                TYPE_STRING,
                s("openssl-1.0.2k-26.amzn2.src.rpm"),
            ),
        ]);
        let p = parse_rpm_header(&b)?.ok_or("no package")?;
        assert_eq!(p.name, "openssl-libs");
        assert_eq!(p.version, "1:1.0.2k-26.amzn2");
        assert_eq!(p.source_name.as_deref(), Some("openssl"));
        assert_eq!(p.source_version, None);
        assert_eq!(p.arch.as_deref(), Some("x86_64"));
        Ok(())
    }

    #[test]
    fn every_truncation_of_a_header_is_an_error_not_a_panic() {
        let b = blob(&[
            (TAG_NAME, TYPE_STRING, s("bash")),
            (TAG_VERSION, TYPE_STRING, s("5.2.15")),
            (TAG_RELEASE, TYPE_STRING, s("1.amzn2023.0.2")),
            (TAG_EPOCH, TYPE_INT32, 0u32.to_be_bytes().to_vec()),
        ]);
        assert!(parse_rpm_header(&b).is_ok());
        for len in 0..b.len() {
            assert!(
                parse_rpm_header(b.get(..len).unwrap_or_default()).is_err(),
                "{len}"
            );
        }
        // Offsets past the data store, wrong types, absurd counts.
        let mut bad = b.clone();
        if let Some(byte) = bad.get_mut(8 + 8) {
            *byte = 0xff;
        }
        assert!(parse_rpm_header(&bad).is_err());
        assert!(parse_rpm_header(&[0xff; 64]).is_err());
        let wrong_type = blob(&[(TAG_NAME, TYPE_INT32, 5u32.to_be_bytes().to_vec())]);
        assert!(parse_rpm_header(&wrong_type).is_err());
    }

    #[test]
    fn gpg_pubkeys_are_not_packages() -> Result<(), String> {
        let b = blob(&[(TAG_NAME, TYPE_STRING, s("gpg-pubkey"))]);
        assert_eq!(parse_rpm_header(&b)?, None);
        Ok(())
    }

    #[test]
    fn source_rpm_names() {
        assert_eq!(
            split_source_rpm("python3-3.9.16-1.amzn2023.0.3.src.rpm"),
            Some(("python3", "3.9.16", "1.amzn2023.0.3"))
        );
        assert_eq!(split_source_rpm("nonsense"), None);
    }
}
