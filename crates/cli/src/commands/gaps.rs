//! `rampart gaps`: what a stored scan could not read, and why.

use std::io::Write;

use rampart_model::{CoverageGap, ScanRecord};
use serde::Serialize;

use crate::args::{GapsArgs, ListFormat};
use crate::commands::open_existing_store;
use crate::exit::CliError;
use crate::output::{plural, table};

/// `--format json`: the scan and its gaps.
#[derive(Debug, Serialize)]
struct GapsDocument<'a> {
    scan: &'a str,
    gaps: &'a [CoverageGap],
}

/// Lists the current coverage gaps (each account's latest scan's), as of
/// the latest complete scan (an older `--scan` is a usage error: see
/// [`crate::posture::scan_to_read`]).
pub fn run(args: &GapsArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let store = open_existing_store(&args.store)?;
    let scan = crate::posture::scan_to_read(&store, args.scan.as_deref())?;
    let gaps = store.gaps()?;
    let text = match args.format {
        ListFormat::Json => {
            let doc = GapsDocument {
                scan: &scan.id,
                gaps: &gaps,
            };
            serde_json::to_string_pretty(&doc).map_err(CliError::failure)? + "\n"
        }
        ListFormat::Table => render(&scan, &gaps),
    };
    out.write_all(text.as_bytes()).map_err(CliError::failure)
}

/// The gaps as a table, then a one-line count.
pub fn render(scan: &ScanRecord, gaps: &[CoverageGap]) -> String {
    if gaps.is_empty() {
        return format!(
            "no coverage gaps: scan {} read everything it tried\n",
            scan.id
        );
    }
    let rows: Vec<Vec<String>> = gaps
        .iter()
        .map(|g| {
            vec![
                g.account.clone(),
                g.region.clone(),
                g.service.clone(),
                g.operation.clone(),
                g.kind.as_str().to_owned(),
                g.occurrences.to_string(),
                g.error.clone(),
            ]
        })
        .collect();
    let mut text = table(
        &[
            "ACCOUNT",
            "REGION",
            "SERVICE",
            "OPERATION",
            "KIND",
            "CALLS",
            "ERROR",
        ],
        &rows,
    );
    let calls: u64 = gaps.iter().map(|g| g.occurrences).sum();
    text.push_str(&format!(
        "{} ({}) in scan {}; `-v` on the scan logs each failed call in full\n",
        plural(gaps.len() as u64, "gap", "gaps"),
        plural(calls, "failed call", "failed calls"),
        scan.id
    ));
    text
}

#[cfg(test)]
mod tests {
    use rampart_model::{GapKind, ScanStatus};
    use time::macros::datetime;

    use super::*;

    fn scan() -> ScanRecord {
        ScanRecord {
            id: "20260101T000000Z-abcd".into(),
            started_at: datetime!(2026-01-01 00:00:00 UTC),
            finished_at: Some(datetime!(2026-01-01 00:01:00 UTC)),
            status: ScanStatus::Complete,
            accounts: vec!["123456789012".into()],
            regions: vec!["us-east-1".into()],
            api_calls: 10,
            asset_count: 5,
            gap_count: 2,
        }
    }

    #[test]
    fn table_of_gaps() {
        let gaps = vec![
            CoverageGap {
                account: "123456789012".into(),
                region: "global".into(),
                service: "iam".into(),
                operation: "GetCredentialReport".into(),
                kind: GapKind::AccessDenied,
                error: "User: arn:aws:iam::123456789012:user/audit is not authorized to perform: iam:GetCredentialReport".into(),
                occurrences: 1,
            },
            CoverageGap {
                account: "123456789012".into(),
                region: "us-east-1".into(),
                service: "s3".into(),
                operation: "GetBucketPolicy".into(),
                kind: GapKind::Throttled,
                error: "SlowDown: please reduce your request rate".into(),
                occurrences: 3,
            },
        ];
        insta::assert_snapshot!(render(&scan(), &gaps), @r"
                 ACCOUNT  REGION     SERVICE  OPERATION            KIND           CALLS  ERROR
            123456789012  global     iam      GetCredentialReport  access_denied      1  User: arn:aws:iam::123456789012:user/audit is not authorized to perform: iam:GetCredentialReport
            123456789012  us-east-1  s3       GetBucketPolicy      throttled          3  SlowDown: please reduce your request rate
            2 gaps (4 failed calls) in scan 20260101T000000Z-abcd; `-v` on the scan logs each failed call in full
            ");
        insta::assert_snapshot!(render(&scan(), &gaps[..1]), @r"
                 ACCOUNT  REGION  SERVICE  OPERATION            KIND           CALLS  ERROR
            123456789012  global  iam      GetCredentialReport  access_denied      1  User: arn:aws:iam::123456789012:user/audit is not authorized to perform: iam:GetCredentialReport
            1 gap (1 failed call) in scan 20260101T000000Z-abcd; `-v` on the scan logs each failed call in full
            ");
        insta::assert_snapshot!(render(&scan(), &[]), @r"
            no coverage gaps: scan 20260101T000000Z-abcd read everything it tried
            ");
    }
}
