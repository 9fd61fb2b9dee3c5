//! The operating system: `/etc/os-release` (os-release(5)), falling back to
//! `/usr/lib/os-release`, then to the older release files
//! (`/etc/alpine-release`, `/etc/system-release`, `/etc/redhat-release`).

use rampart_disk::FileTree;
use rampart_model::machine::OsRelease;

use crate::MachineError;

/// Reads the machine's operating system, or `None` when no release file
/// exists. Files larger than `limit` bytes are errors.
pub fn os_release(tree: &dyn FileTree, limit: u64) -> Result<Option<OsRelease>, MachineError> {
    for path in ["/etc/os-release", "/usr/lib/os-release"] {
        if let Some(text) = read_text(tree, path, limit)? {
            return Ok(Some(parse_os_release(&text)));
        }
    }
    if let Some(text) = read_text(tree, "/etc/alpine-release", limit)? {
        let version = text.trim();
        if version.is_empty() {
            return Err(MachineError::parse("/etc/alpine-release", "empty file"));
        }
        let minor = version.split('.').take(2).collect::<Vec<_>>().join(".");
        return Ok(Some(OsRelease {
            id: "alpine".to_owned(),
            version_id: Some(version.to_owned()),
            pretty_name: Some(format!("Alpine Linux v{minor}")),
            ..OsRelease::default()
        }));
    }
    for path in ["/etc/system-release", "/etc/redhat-release"] {
        if let Some(text) = read_text(tree, path, limit)? {
            return parse_release_line(&text)
                .map(Some)
                .ok_or_else(|| MachineError::parse(path, "unrecognised release line"));
        }
    }
    Ok(None)
}

fn read_text(tree: &dyn FileTree, path: &str, limit: u64) -> Result<Option<String>, MachineError> {
    tree.read_file(path, limit)
        .map(|bytes| bytes.map(|b| String::from_utf8_lossy(&b).into_owned()))
        .map_err(|e| MachineError::read(path, e))
}

/// Parses an os-release(5) file: `KEY=value` lines, values optionally in
/// double or single quotes, backslash escapes (`\"`, `\\`, `\$`, `` \` ``)
/// outside single quotes, `#` comments and blank lines ignored. `ID`
/// defaults to `linux` as the specification says.
pub fn parse_os_release(text: &str) -> OsRelease {
    let mut os = OsRelease {
        id: "linux".to_owned(),
        ..OsRelease::default()
    };
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, raw)) = line.split_once('=') else {
            continue;
        };
        let key = key.trim();
        if key.is_empty()
            || !key
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        {
            continue;
        }
        let value = unquote(raw.trim());
        let non_empty = (!value.is_empty()).then(|| value.clone());
        match key {
            "ID" if !value.is_empty() => os.id = value,
            "VERSION_ID" => os.version_id = non_empty,
            "PRETTY_NAME" => os.pretty_name = non_empty,
            "VERSION_CODENAME" => os.version_codename = non_empty,
            "ID_LIKE" => {
                os.id_like = value.split_whitespace().map(str::to_owned).collect();
            }
            _ => {}
        }
    }
    os
}

/// Shell-style unquoting of an os-release value.
fn unquote(raw: &str) -> String {
    let mut out = String::new();
    let mut chars = raw.chars();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (Some('\''), c) => out.push(c),
            (_, '\\') => match chars.next() {
                Some(next @ ('"' | '\\' | '$' | '`' | '\'')) => out.push(next),
                Some(next) => {
                    out.push('\\');
                    out.push(next);
                }
                None => out.push('\\'),
            },
            (None, '#') if out.is_empty() => break,
            (None, c) if c.is_whitespace() => break,
            (_, c) => out.push(c),
        }
    }
    out
}

/// Parses a one-line release file (`/etc/system-release`,
/// `/etc/redhat-release`): `<Name> release <version> (<codename>)`.
fn parse_release_line(text: &str) -> Option<OsRelease> {
    let line = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    let (name, rest) = line.split_once(" release ")?;
    let version = rest.split_whitespace().next()?;
    let lower = name.to_ascii_lowercase();
    let (id, id_like): (&str, &[&str]) = if lower.starts_with("amazon linux") {
        ("amzn", &["centos", "rhel", "fedora"])
    } else if lower.starts_with("centos") {
        ("centos", &["rhel", "fedora"])
    } else if lower.starts_with("red hat enterprise linux") {
        ("rhel", &["fedora"])
    } else if lower.starts_with("rocky linux") {
        ("rocky", &["rhel", "centos", "fedora"])
    } else if lower.starts_with("almalinux") {
        ("almalinux", &["rhel", "centos", "fedora"])
    } else if lower.starts_with("oracle linux") {
        ("ol", &["fedora"])
    } else if lower.starts_with("fedora") {
        ("fedora", &[])
    } else {
        return None;
    };
    let version_id = match id {
        // Amazon Linux 2023 writes `2023.3.20240131`; its os-release says `2023`.
        "amzn" if version.starts_with("20") && version.len() > 7 => {
            version.split('.').next().unwrap_or(version).to_owned()
        }
        // CentOS writes `7.9.2009`; its os-release says `7`.
        "centos" => version.split('.').next().unwrap_or(version).to_owned(),
        _ => version.to_owned(),
    };
    Some(OsRelease {
        id: id.to_owned(),
        version_id: Some(version_id),
        pretty_name: Some(line.to_owned()),
        id_like: id_like.iter().map(|s| (*s).to_owned()).collect(),
        version_codename: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_release_quotes_escapes_and_comments() {
        let os = parse_os_release(
            "# a comment\nNAME=\"Debian GNU/Linux\"\nID=debian\n\nPRETTY_NAME='Debian \"12\" $x'\n\
             VERSION_ID=\"12\"\nID_LIKE=\"rhel  fedora\"\nVERSION_CODENAME=bookworm # trailing\n\
             BUG_REPORT_URL=\"a\\\"b\\\\c\\$d\"\n",
        );
        assert_eq!(os.id, "debian");
        assert_eq!(os.version_id.as_deref(), Some("12"));
        assert_eq!(os.pretty_name.as_deref(), Some("Debian \"12\" $x"));
        assert_eq!(os.id_like, vec!["rhel", "fedora"]);
        assert_eq!(os.version_codename.as_deref(), Some("bookworm"));
        assert_eq!(unquote("\"a\\\"b\\\\c\\$d\""), "a\"b\\c$d");
        assert_eq!(unquote("\"2023\""), "2023");
        assert_eq!(unquote("'it''s'"), "its");
    }

    #[test]
    fn os_release_without_id_is_linux() {
        assert_eq!(parse_os_release("VERSION_ID=1\n").id, "linux");
    }

    #[test]
    fn release_lines() {
        let cases = [
            ("Amazon Linux AMI release 2018.03\n", "amzn", "2018.03"),
            ("Amazon Linux release 2 (Karoo)\n", "amzn", "2"),
            (
                "Amazon Linux release 2023.3.20240131 (Amazon Linux)\n",
                "amzn",
                "2023",
            ),
            ("CentOS Linux release 7.9.2009 (Core)\n", "centos", "7"),
            (
                "Red Hat Enterprise Linux Server release 7.9 (Maipo)\n",
                "rhel",
                "7.9",
            ),
            ("Rocky Linux release 9.3 (Blue Onyx)\n", "rocky", "9.3"),
        ];
        for (line, id, version) in cases {
            let os = parse_release_line(line);
            assert_eq!(os.as_ref().map(|o| o.id.as_str()), Some(id), "{line}");
            assert_eq!(
                os.as_ref().and_then(|o| o.version_id.as_deref()),
                Some(version),
                "{line}"
            );
        }
        assert!(parse_release_line("Something else entirely\n").is_none());
    }
}
