//! `docs/coverage.md` is generated from the catalog, the standards data and
//! the why-not notes in `data/coverage-notes.toml`, and every gap in the
//! first wave is explained.
//!
//! * `committed_coverage_document_is_current` renders the document and
//!   compares it with the committed `docs/coverage.md`. To regenerate it:
//!
//!   ```sh
//!   RAMPART_BLESS=1 cargo test -p rampart-catalog --test coverage
//!   ```
//!
//!   With `RAMPART_BLESS=1` the test writes the file instead of comparing.
//! * `coverage_notes_are_valid` checks the notes: known standard, existing
//!   control (or a `<prefix>.*` wildcard that matches at least one), a
//!   reason, no duplicates, and no note on a control that a recommendation
//!   now covers (stale: delete it).
//! * `first_wave_gaps_are_explained` requires every FSBP control of the
//!   first-wave services and every automated CIS v3.0.0 item to be covered by
//!   a recommendation or explained by a note naming that exact control
//!   (wildcard notes do not explain first-wave gaps).
//!
//! Notes file format:
//!
//! ```toml
//! [[note]]
//! standard = "aws-fsbp"
//! control = "CloudFront.*"   # one control id, or `<prefix>.*`
//! reason = "CloudFront is out of scope of the first wave"
//! ```

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failure should stop the test"
)]

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use rampart_catalog::Catalog;
use rampart_catalog::standards::{Standard, StandardControl, builtin_standards};
use serde::Deserialize;

/// FSBP services of the first wave: every control of theirs must be covered
/// or carry an exact note.
const FIRST_WAVE: &[&str] = &[
    "IAM",
    "S3",
    "EC2",
    "CloudTrail",
    "KMS",
    "RDS",
    "Config",
    "GuardDuty",
    "EKS",
    "Lambda",
    "ELB",
    "SQS",
    "SNS",
    "SecretsManager",
    "ECR",
    "EFS",
    "DynamoDB",
];

/// Short display names of the standards, in the document's order.
const STANDARD_LABELS: &[(&str, &str)] = &[
    ("aws-fsbp", "AWS FSBP"),
    ("cis-aws-3.0", "CIS AWS Foundations 3.0.0"),
    ("cis-aws-4.0", "CIS AWS Foundations 4.0.1"),
    ("pci-dss-4.0", "PCI DSS 4.0"),
    ("nist-800-53-r5", "NIST SP 800-53 Rev. 5"),
    ("nist-800-171-r2", "NIST SP 800-171 Rev. 2"),
    ("iso-27001-2022", "ISO/IEC 27001:2022"),
    ("soc2", "SOC 2"),
    ("cis-aws-5.0", "CIS AWS Foundations 5.0.0"),
    (
        "aws-well-architected-security",
        "AWS Well-Architected security pillar",
    ),
];

const NOT_COVERED_YET: &str = "not covered yet";
const MANUAL_CONTROL: &str = "manual control";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NotesFile {
    #[serde(default)]
    note: Vec<Note>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Note {
    standard: String,
    control: String,
    reason: String,
}

impl Note {
    /// `Some(prefix)` for a wildcard note (`CloudFront.*` → `CloudFront.`).
    fn wildcard_prefix(&self) -> Option<&str> {
        self.control.strip_suffix('*')
    }

    fn matches(&self, standard: &str, control: &str) -> bool {
        self.standard == standard
            && match self.wildcard_prefix() {
                Some(prefix) => control.starts_with(prefix),
                None => self.control == control,
            }
    }
}

fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn notes_path() -> PathBuf {
    crate_dir().join("data").join("coverage-notes.toml")
}

fn document_path() -> PathBuf {
    crate_dir()
        .join("..")
        .join("..")
        .join("docs")
        .join("coverage.md")
}

fn load_notes() -> Vec<Note> {
    let path = notes_path();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let file: NotesFile =
        toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    file.note
}

/// Everything the document is rendered from.
struct Coverage {
    catalog: Catalog,
    standards: Vec<Standard>,
    notes: Vec<Note>,
    /// `(standard id, control id)` → covering recommendation ids (sorted).
    covered: BTreeMap<(String, String), BTreeSet<String>>,
}

impl Coverage {
    fn load() -> Self {
        let catalog = Catalog::builtin().unwrap();
        let standards = builtin_standards().unwrap();
        let notes = load_notes();
        let mut covered: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
        for rec in catalog.iter() {
            for mapping in &rec.standards {
                if let Some((standard, control)) = mapping.split_once(':') {
                    covered
                        .entry((standard.to_owned(), control.to_owned()))
                        .or_default()
                        .insert(rec.id.clone());
                }
            }
        }
        Self {
            catalog,
            standards,
            notes,
            covered,
        }
    }

    fn covering(&self, standard: &str, control: &str) -> Option<&BTreeSet<String>> {
        self.covered
            .get(&(standard.to_owned(), control.to_owned()))
            .filter(|ids| !ids.is_empty())
    }

    /// The note explaining a gap: an exact note wins over a wildcard.
    fn note(&self, standard: &str, control: &str) -> Option<&Note> {
        self.notes
            .iter()
            .find(|n| n.wildcard_prefix().is_none() && n.matches(standard, control))
            .or_else(|| {
                self.notes
                    .iter()
                    .find(|n| n.wildcard_prefix().is_some() && n.matches(standard, control))
            })
    }

    fn exact_note(&self, standard: &str, control: &str) -> Option<&Note> {
        self.notes
            .iter()
            .find(|n| n.wildcard_prefix().is_none() && n.matches(standard, control))
    }
}

/// Escapes text for a Markdown table cell.
fn cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '|' | '*' | '_' | '`' | '[' | ']' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

fn label(standard: &Standard) -> &'static str {
    STANDARD_LABELS
        .iter()
        .find(|(id, _)| *id == standard.id)
        .map(|(_, l)| *l)
        .unwrap_or_else(|| panic!("no label for standard `{}`", standard.id))
}

/// The anchor GitHub derives from a heading: lower case, spaces to
/// hyphens, other punctuation dropped.
fn anchor(standard: &Standard) -> String {
    label(standard)
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_ascii_alphanumeric() || c == '-' => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

/// How one control is reported.
enum Status<'a> {
    Covered(&'a BTreeSet<String>),
    Noted(&'a Note),
    Manual,
    NotYet,
}

fn status<'a>(cov: &'a Coverage, standard: &Standard, control: &StandardControl) -> Status<'a> {
    if let Some(ids) = cov.covering(standard.id, &control.id) {
        Status::Covered(ids)
    } else if let Some(note) = cov.note(standard.id, &control.id) {
        Status::Noted(note)
    } else if !control.automated {
        Status::Manual
    } else {
        Status::NotYet
    }
}

fn render(cov: &Coverage) -> String {
    let mut out = String::new();
    let w = &mut out;
    writeln!(w, "# Coverage of the standards").unwrap();
    writeln!(w).unwrap();
    writeln!(
        w,
        "<!-- Generated file: do not edit by hand. Regenerate with \
         `RAMPART_BLESS=1 cargo test -p rampart-catalog --test coverage`. -->"
    )
    .unwrap();
    writeln!(w).unwrap();
    writeln!(
        w,
        "> **Generated, do not edit by hand.** This document is rendered by \
         `crates/catalog/tests/coverage.rs` from the recommendations \
         (`crates/catalog/data/recommendations/*.toml`), the standards \
         (`crates/catalog/data/standards/*.tsv`) and the why-not notes \
         (`crates/catalog/data/coverage-notes.toml`). The test fails when this \
         file is out of date; regenerate it with \
         `RAMPART_BLESS=1 cargo test -p rampart-catalog --test coverage`."
    )
    .unwrap();
    writeln!(w).unwrap();
    writeln!(
        w,
        "For every control of every standard Rampart reports on: whether a \
         recommendation covers it (its id), or why not. A control is covered \
         when at least one recommendation maps to it; covering a control does \
         not mean the recommendations check everything the control asks for. \
         Reasons: a note from `coverage-notes.toml`, otherwise \
         \"{MANUAL_CONTROL}\" for controls the standard marks as manual \
         (policy, process, people: reported as not assessable automatically) \
         and \"{NOT_COVERED_YET}\" for the rest."
    )
    .unwrap();
    writeln!(w).unwrap();

    // Summary.
    writeln!(w, "## Summary").unwrap();
    writeln!(w).unwrap();
    writeln!(
        w,
        "Recommendations in the catalog: **{}** ({} in preview).",
        cov.catalog.len(),
        cov.catalog.iter().filter(|r| r.preview).count()
    )
    .unwrap();
    writeln!(w).unwrap();
    writeln!(
        w,
        "| Standard | Version | Controls | Automated | Covered | Covered, automated | Explained by a note | Manual, not covered | Not covered yet |"
    )
    .unwrap();
    writeln!(w, "|---|---|---:|---:|---:|---:|---:|---:|---:|").unwrap();
    for standard in &cov.standards {
        let total = standard.controls.len();
        let automated = standard.controls.iter().filter(|c| c.automated).count();
        let (mut covered, mut covered_auto, mut noted, mut manual, mut not_yet) = (0, 0, 0, 0, 0);
        for control in &standard.controls {
            match status(cov, standard, control) {
                Status::Covered(_) => {
                    covered += 1;
                    if control.automated {
                        covered_auto += 1;
                    }
                }
                Status::Noted(_) => noted += 1,
                Status::Manual => manual += 1,
                Status::NotYet => not_yet += 1,
            }
        }
        writeln!(
            w,
            "| [{}](#{}) | {} | {total} | {automated} | {covered} | {covered_auto} | {noted} | {manual} | {not_yet} |",
            label(standard),
            anchor(standard),
            cell(&standard.version),
        )
        .unwrap();
    }
    writeln!(w).unwrap();

    // Recommendations by service (the id's first segment).
    let mut by_service: BTreeMap<&str, usize> = BTreeMap::new();
    for rec in cov.catalog.iter() {
        let service = rec.id.split('-').next().unwrap_or(&rec.id);
        *by_service.entry(service).or_default() += 1;
    }
    if !by_service.is_empty() {
        writeln!(w, "Recommendations by service (first segment of the id):").unwrap();
        writeln!(w).unwrap();
        writeln!(w, "| Service | Recommendations |").unwrap();
        writeln!(w, "|---|---:|").unwrap();
        for (service, n) in &by_service {
            writeln!(w, "| {} | {n} |", cell(service)).unwrap();
        }
        writeln!(w).unwrap();
    }

    // One section per standard.
    for standard in &cov.standards {
        writeln!(w, "## {}", label(standard)).unwrap();
        writeln!(w).unwrap();
        writeln!(
            w,
            "{} {} (`{}`). Source of the control list: {}",
            cell(&standard.name),
            cell(&standard.version),
            standard.id,
            cell(&standard.source)
        )
        .unwrap();
        writeln!(w).unwrap();
        writeln!(
            w,
            "| Control | Title | Assessment | Covered by, or why not |"
        )
        .unwrap();
        writeln!(w, "|---|---|---|---|").unwrap();
        for control in &standard.controls {
            let assessment = if control.automated {
                "automated"
            } else {
                "manual"
            };
            let coverage = match status(cov, standard, control) {
                Status::Covered(ids) => ids
                    .iter()
                    .map(|id| {
                        let preview = if cov.catalog.get(id).is_some_and(|r| r.preview) {
                            " (preview)"
                        } else {
                            ""
                        };
                        format!("`{id}`{preview}")
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
                Status::Noted(note) => format!("not covered: {}", cell(&note.reason)),
                Status::Manual => MANUAL_CONTROL.to_owned(),
                Status::NotYet => NOT_COVERED_YET.to_owned(),
            };
            writeln!(
                w,
                "| {} | {} | {assessment} | {coverage} |",
                cell(&control.id),
                cell(&control.title)
            )
            .unwrap();
        }
        writeln!(w).unwrap();
    }
    out
}

#[test]
fn committed_coverage_document_is_current() {
    let rendered = render(&Coverage::load());
    let path = document_path();
    if std::env::var("RAMPART_BLESS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &rendered).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; generate it with `RAMPART_BLESS=1 cargo test -p rampart-catalog --test coverage`",
            path.display()
        )
    });
    if committed != rendered {
        let first_difference = committed
            .lines()
            .zip(rendered.lines())
            .enumerate()
            .find(|(_, (a, b))| a != b)
            .map(|(i, (a, b))| format!("line {}:\n  committed: {a}\n  expected:  {b}", i + 1))
            .unwrap_or_else(|| {
                format!(
                    "the files differ in length ({} vs {} lines)",
                    committed.lines().count(),
                    rendered.lines().count()
                )
            });
        panic!(
            "{} is out of date ({first_difference}); regenerate it with \
             `RAMPART_BLESS=1 cargo test -p rampart-catalog --test coverage`",
            path.display()
        );
    }
}

#[test]
fn coverage_notes_are_valid() {
    let cov = Coverage::load();
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for note in &cov.notes {
        let key = format!("{}:{}", note.standard, note.control);
        if !seen.insert(key.clone()) {
            problems.push(format!("`{key}`: more than one note"));
        }
        if note.reason.trim().is_empty() {
            problems.push(format!("`{key}`: empty reason"));
        }
        let Some(standard) = cov.standards.iter().find(|s| s.id == note.standard) else {
            problems.push(format!("`{key}`: unknown standard `{}`", note.standard));
            continue;
        };
        match note.wildcard_prefix() {
            Some(prefix) => {
                if !prefix.ends_with('.') || prefix.len() < 2 {
                    problems.push(format!("`{key}`: a wildcard is `<prefix>.*`"));
                }
                if !standard.controls.iter().any(|c| c.id.starts_with(prefix)) {
                    problems.push(format!("`{key}`: matches no control"));
                }
                if standard.id == "aws-fsbp"
                    && FIRST_WAVE
                        .iter()
                        .any(|s| prefix.strip_suffix('.') == Some(*s))
                {
                    problems.push(format!(
                        "`{key}`: first-wave services need one note per control, not a wildcard"
                    ));
                }
            }
            None => {
                if standard.control(&note.control).is_none() {
                    problems.push(format!("`{key}`: not a control of `{}`", standard.id));
                } else if let Some(ids) = cov.covering(&note.standard, &note.control) {
                    problems.push(format!(
                        "`{key}`: stale note, now covered by {ids:?}; delete it"
                    ));
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{}:\n  {}",
        notes_path().display(),
        problems.join("\n  ")
    );
}

#[test]
fn first_wave_gaps_are_explained() {
    let cov = Coverage::load();
    let mut unexplained = Vec::new();
    for standard in &cov.standards {
        for control in &standard.controls {
            let in_scope = match standard.id {
                "aws-fsbp" => control
                    .id
                    .split_once('.')
                    .is_some_and(|(service, _)| FIRST_WAVE.contains(&service)),
                "cis-aws-3.0" => control.automated,
                _ => false,
            };
            if in_scope
                && cov.covering(standard.id, &control.id).is_none()
                && cov.exact_note(standard.id, &control.id).is_none()
            {
                unexplained.push(format!(
                    "{}:{} ({})",
                    standard.id, control.id, control.title
                ));
            }
        }
    }
    assert!(
        unexplained.is_empty(),
        "{} first-wave controls are neither covered by a recommendation nor \
         explained by a note in {}:\n  {}",
        unexplained.len(),
        notes_path().display(),
        unexplained.join("\n  ")
    );
}
