//! Standards and Defender's security controls, as data with provenance
//! (`data/standards/*.tsv`, `data/security-controls.tsv`; `# key: value`
//! header lines, then a tab-separated table).
//!
//! The standards, by id (the ids are a contract: mappings, `rampart
//! compliance` and reports use them): `aws-fsbp` (AWS Foundational Security
//! Best Practices), `cis-aws-3.0`, `cis-aws-4.0`, `cis-aws-5.0` (CIS AWS
//! Foundations Benchmark), `pci-dss-4.0`, `nist-800-53-r5` (NIST SP 800-53
//! Rev. 5, controls relevant to AWS), `nist-800-171-r2` (NIST SP 800-171
//! Rev. 2), `iso-27001-2022` (ISO/IEC 27001:2022 Annex A, ids `A.5.15`),
//! `soc2` (Trust Services Criteria 2017, ids `CC6.1`) and
//! `aws-well-architected-security` (Well-Architected security pillar, ids
//! `SEC01-BP01`). Each file's `# source` lines say where its controls and the
//! recommendations' mappings to it come from; `# judgement` lines list the
//! recommendations whose mappings are Rampart's own judgement.

use serde::Serialize;

use crate::CatalogError;

/// Standard ids as used in mappings (`aws-fsbp:S3.8`), and their files.
const STANDARD_FILES: &[(&str, &str, &str)] = &[
    (
        "aws-fsbp",
        "aws-fsbp.tsv",
        include_str!("../data/standards/aws-fsbp.tsv"),
    ),
    (
        "cis-aws-3.0",
        "cis-aws-3.0.tsv",
        include_str!("../data/standards/cis-aws-3.0.tsv"),
    ),
    (
        "cis-aws-4.0",
        "cis-aws-4.0.tsv",
        include_str!("../data/standards/cis-aws-4.0.tsv"),
    ),
    (
        "pci-dss-4.0",
        "pci-dss-4.0.tsv",
        include_str!("../data/standards/pci-dss-4.0.tsv"),
    ),
    (
        "nist-800-53-r5",
        "nist-800-53-r5.tsv",
        include_str!("../data/standards/nist-800-53-r5.tsv"),
    ),
    (
        "nist-800-171-r2",
        "nist-800-171-r2.tsv",
        include_str!("../data/standards/nist-800-171-r2.tsv"),
    ),
    (
        "iso-27001-2022",
        "iso-27001-2022.tsv",
        include_str!("../data/standards/iso-27001-2022.tsv"),
    ),
    (
        "soc2",
        "soc2.tsv",
        include_str!("../data/standards/soc2.tsv"),
    ),
    (
        "cis-aws-5.0",
        "cis-aws-5.0.tsv",
        include_str!("../data/standards/cis-aws-5.0.tsv"),
    ),
    (
        "aws-well-architected-security",
        "aws-well-architected-security.tsv",
        include_str!("../data/standards/aws-well-architected-security.tsv"),
    ),
];

const SECURITY_CONTROLS: &str = include_str!("../data/security-controls.tsv");

/// One control (requirement, recommendation) of a standard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StandardControl {
    /// The id as the standard writes it (`2.1.4`, `S3.8`, `1.4.1`).
    pub id: String,
    /// Short title.
    pub title: String,
    /// Whether it can be assessed automatically; manual controls are
    /// reported as "not assessable automatically".
    pub automated: bool,
}

/// A compliance standard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Standard {
    /// Id used in mappings (`cis-aws-3.0`).
    pub id: &'static str,
    /// Name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Where the control list comes from.
    pub source: String,
    /// Its controls, in the standard's order.
    pub controls: Vec<StandardControl>,
}

impl Standard {
    /// One control by id.
    pub fn control(&self, id: &str) -> Option<&StandardControl> {
        self.controls.iter().find(|c| c.id == id)
    }
}

/// A Defender security control: recommendations grouped for the secure score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecurityControl {
    /// Name (`Enable MFA`).
    pub name: String,
    /// Maximum points it contributes.
    pub max_points: u32,
}

struct Table {
    meta: Vec<(String, String)>,
    rows: Vec<(usize, Vec<String>)>,
}

fn parse_table(file: &str, text: &str, columns: &[&str]) -> Result<Table, CatalogError> {
    let err = |line: usize, reason: String| CatalogError::Standard {
        file: file.to_owned(),
        line,
        reason,
    };
    let mut meta = Vec::new();
    let mut rows = Vec::new();
    let mut header_seen = false;
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            if let Some((k, v)) = comment.split_once(':') {
                meta.push((k.trim().to_owned(), v.trim().to_owned()));
            }
            continue;
        }
        let cells: Vec<String> = line.split('\t').map(|c| c.trim().to_owned()).collect();
        if !header_seen {
            if cells.iter().map(String::as_str).collect::<Vec<_>>() != columns {
                return Err(err(n, format!("expected header `{}`", columns.join("\\t"))));
            }
            header_seen = true;
            continue;
        }
        if cells.len() != columns.len() {
            return Err(err(
                n,
                format!("expected {} columns, found {}", columns.len(), cells.len()),
            ));
        }
        rows.push((n, cells));
    }
    Ok(Table { meta, rows })
}

fn meta_value(table: &Table, key: &str) -> String {
    table
        .meta
        .iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The built-in standards.
pub fn builtin_standards() -> Result<Vec<Standard>, CatalogError> {
    let mut standards = Vec::new();
    for (id, file, text) in STANDARD_FILES {
        let table = parse_table(file, text, &["id", "title", "assessment"])?;
        let mut controls = Vec::new();
        for (line, cells) in &table.rows {
            let [cid, title, assessment] = cells.as_slice() else {
                continue;
            };
            let automated = match assessment.as_str() {
                "automated" => true,
                "manual" => false,
                other => {
                    return Err(CatalogError::Standard {
                        file: (*file).to_owned(),
                        line: *line,
                        reason: format!("assessment `{other}` is neither `automated` nor `manual`"),
                    });
                }
            };
            controls.push(StandardControl {
                id: cid.clone(),
                title: title.clone(),
                automated,
            });
        }
        standards.push(Standard {
            id,
            name: meta_value(&table, "name"),
            version: meta_value(&table, "version"),
            source: meta_value(&table, "source"),
            controls,
        });
    }
    Ok(standards)
}

/// Defender's security controls and their maximum points.
pub fn security_controls() -> Result<Vec<SecurityControl>, CatalogError> {
    let file = "security-controls.tsv";
    let table = parse_table(file, SECURITY_CONTROLS, &["control", "max_points"])?;
    let mut controls = Vec::new();
    for (line, cells) in &table.rows {
        let [name, points] = cells.as_slice() else {
            continue;
        };
        let max_points = points.parse().map_err(|_| CatalogError::Standard {
            file: file.to_owned(),
            line: *line,
            reason: format!("`{points}` is not a whole number of points"),
        })?;
        controls.push(SecurityControl {
            name: name.clone(),
            max_points,
        });
    }
    Ok(controls)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_standards_load_with_provenance() {
        let standards = builtin_standards().unwrap();
        let ids: Vec<&str> = standards.iter().map(|s| s.id).collect();
        assert_eq!(
            ids,
            [
                "aws-fsbp",
                "cis-aws-3.0",
                "cis-aws-4.0",
                "pci-dss-4.0",
                "nist-800-53-r5",
                "nist-800-171-r2",
                "iso-27001-2022",
                "soc2",
                "cis-aws-5.0",
                "aws-well-architected-security",
            ]
        );
        for s in &standards {
            assert!(
                !s.name.is_empty() && !s.version.is_empty() && !s.source.is_empty(),
                "{}",
                s.id
            );
            assert!(!s.controls.is_empty(), "{}", s.id);
        }
        let cis = &standards[1];
        assert_eq!(cis.control("1.4").map(|c| c.automated), Some(true));
        assert_eq!(cis.control("1.1").map(|c| c.automated), Some(false));
    }

    #[test]
    fn control_ids_are_unique_and_written_as_the_standard_writes_them() {
        /// A standard id and a check that a control id has its form.
        type IdForm = (&'static str, fn(&str) -> bool);
        let forms: &[IdForm] = &[
            ("nist-800-53-r5", |id| {
                let (family, rest) = id.split_once('-').unwrap_or_default();
                let (number, enhancement) = match rest.split_once('(') {
                    Some((n, e)) => (n, e.strip_suffix(')').unwrap_or_default()),
                    None => (rest, "1"),
                };
                family.len() == 2
                    && family.chars().all(|c| c.is_ascii_uppercase())
                    && number.parse::<u32>().is_ok()
                    && enhancement.parse::<u32>().is_ok()
            }),
            ("nist-800-171-r2", |id| {
                let parts: Vec<&str> = id.split('.').collect();
                parts.len() == 3
                    && parts.first() == Some(&"3")
                    && parts.iter().all(|p| p.parse::<u32>().is_ok())
            }),
            ("iso-27001-2022", |id| {
                let parts: Vec<&str> = id.split('.').collect();
                matches!(
                    parts.as_slice(),
                    ["A", "5" | "6" | "7" | "8", n] if n.parse::<u32>().is_ok()
                )
            }),
            ("soc2", |id| {
                let prefix: String = id.chars().take_while(char::is_ascii_uppercase).collect();
                ["CC", "A", "C", "PI", "P"].contains(&prefix.as_str())
                    && id
                        .strip_prefix(prefix.as_str())
                        .and_then(|rest| rest.split_once('.'))
                        .is_some_and(|(a, b)| a.parse::<u32>().is_ok() && b.parse::<u32>().is_ok())
            }),
            ("cis-aws-5.0", |id| {
                id.split('.').all(|p| p.parse::<u32>().is_ok()) && id.contains('.')
            }),
            ("aws-well-architected-security", |id| {
                id.len() == 10
                    && id
                        .strip_prefix("SEC")
                        .and_then(|rest| rest.split_once("-BP"))
                        .is_some_and(|(a, b)| {
                            a.len() == 2
                                && b.len() == 2
                                && a.parse::<u32>().is_ok()
                                && b.parse::<u32>().is_ok()
                        })
            }),
        ];
        let standards = builtin_standards().unwrap();
        for s in &standards {
            let mut seen = std::collections::BTreeSet::new();
            for c in &s.controls {
                assert!(seen.insert(&c.id), "{}: `{}` listed twice", s.id, c.id);
                assert!(!c.title.is_empty(), "{}: `{}` has no title", s.id, c.id);
            }
        }
        for (id, well_formed) in forms {
            let s = standards.iter().find(|s| s.id == *id).unwrap();
            for c in &s.controls {
                assert!(
                    well_formed(&c.id),
                    "{id}: `{}` is not in the standard's form",
                    c.id
                );
            }
        }
    }

    #[test]
    fn new_standards_have_the_expected_shape() {
        let standards = builtin_standards().unwrap();
        let get = |id: &str| standards.iter().find(|s| s.id == id).unwrap();
        // Whole lists where the standard is small enough to list whole.
        assert_eq!(get("nist-800-171-r2").controls.len(), 110);
        assert_eq!(get("iso-27001-2022").controls.len(), 93);
        assert_eq!(get("cis-aws-5.0").controls.len(), 63);
        assert_eq!(get("soc2").controls.len(), 61);
        assert!(get("nist-800-53-r5").controls.len() >= 200);
        assert!(get("aws-well-architected-security").controls.len() >= 60);
        // Spot checks of ids and of the automated/manual split.
        let cis5 = get("cis-aws-5.0");
        assert_eq!(cis5.control("1.10").map(|c| c.automated), Some(false));
        assert_eq!(cis5.control("1.3").map(|c| c.automated), Some(true));
        assert_eq!(cis5.control("1.22"), None);
        assert!(get("nist-800-53-r5").control("AC-2(1)").is_some());
        assert_eq!(
            get("iso-27001-2022").control("A.7.1").map(|c| c.automated),
            Some(false)
        );
        assert_eq!(
            get("iso-27001-2022").control("A.8.24").map(|c| c.automated),
            Some(true)
        );
        assert!(get("soc2").control("CC6.1").is_some());
        assert!(
            get("aws-well-architected-security")
                .control("SEC01-BP01")
                .is_some()
        );
    }

    #[test]
    fn security_controls_have_points() {
        let controls = security_controls().unwrap();
        let mfa = controls.iter().find(|c| c.name == "Enable MFA").unwrap();
        assert_eq!(mfa.max_points, 10);
    }

    #[test]
    fn malformed_rows_are_reported_with_their_line() {
        let err = parse_table(
            "x.tsv",
            "id\ttitle\tassessment\na\tb\n",
            &["id", "title", "assessment"],
        )
        .err()
        .map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("standard file `x.tsv` line 2: expected 3 columns, found 2")
        );
    }
}
