//! SQL Server discovery: which EC2 instances and RDS DB instances run SQL
//! Server, derived from what the EC2, SSM and RDS collectors already read
//! (no API call of its own). Every signal that found a server is kept with
//! it, so a reader can see why Rampart thinks a host runs SQL Server:
//!
//! - `ssm-inventory`: the instance's SSM software inventory lists the
//!   database engine (`Microsoft SQL Server 2019 (64-bit)`, `SQL Server 2019
//!   Database Engine Services`, or the Linux package `mssql-server`), with
//!   its version. Client tools (Management Studio, Native Client, ODBC
//!   drivers, LocalDB, setup files) are not servers and are ignored.
//! - `platform-details`: a license-included instance (`PlatformDetails`
//!   `Windows with SQL Server Standard`, `Linux with SQL Server Web`, …),
//!   with its edition; `UsageOperation` is kept as detail.
//! - `ami-name`: the instance's image (when the scan collected it: images
//!   the account owns) is named or described as a SQL Server image
//!   (`…SQL_2019_Standard…`), with its year and edition.
//! - `rds-engine`: an RDS Custom for SQL Server DB instance
//!   (`custom-sqlserver-ee|se|web|dev`) or an RDS for SQL Server one
//!   (`sqlserver-ee|se|ex|web`), with its engine version.
//!
//! One [`types::SQL_SERVER_INSTANCE`] asset per host: its `hostType`
//! (`ec2`, `rds-custom`, `rds`), `hostArn`, `version` (the full build when
//! a signal gave one), `majorVersion`, `product` (`SQL Server 2019`),
//! `edition`, `licenseIncluded`, `platform`, `signals` and `observedAt`
//! (the scan's time, which the supported-version recommendation compares
//! with Microsoft's lifecycle dates).

use std::collections::BTreeMap;

use rampart_model::{Asset, types};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::collectors::ec2::{IMAGE, INSTANCE};

const DB_INSTANCE: &str = "AWS::RDS::DBInstance";

/// Whether a scan of these services has every input discovery needs (EC2,
/// SSM and RDS); a scan narrowed to fewer keeps the earlier snapshot's SQL
/// Server assets instead of deriving them from part of the signals.
pub fn has_inputs(services: Option<&[String]>) -> bool {
    services.is_none_or(|list| {
        ["ec2", "ssm", "rds"]
            .iter()
            .all(|needed| list.iter().any(|s| s == needed))
    })
}

/// What one signal says about a server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Finding {
    version: Option<String>,
    major: Option<u32>,
    edition: Option<String>,
    license_included: Option<bool>,
    platform: Option<&'static str>,
}

impl Finding {
    /// Fills what `other` knows and `self` does not.
    fn merge(&mut self, other: Finding) {
        if self.version.is_none() {
            self.version = other.version;
        }
        if self.major.is_none() {
            self.major = other.major;
        }
        if self.edition.is_none() {
            self.edition = other.edition;
        }
        if self.license_included.is_none() {
            self.license_included = other.license_included;
        }
        if self.platform.is_none() {
            self.platform = other.platform;
        }
    }
}

/// The product name of a major version (`15` → `SQL Server 2019`).
pub fn product_of(major: u32, minor: u32) -> Option<&'static str> {
    Some(match (major, minor) {
        (17, _) => "SQL Server 2025",
        (16, _) => "SQL Server 2022",
        (15, _) => "SQL Server 2019",
        (14, _) => "SQL Server 2017",
        (13, _) => "SQL Server 2016",
        (12, _) => "SQL Server 2014",
        (11, _) => "SQL Server 2012",
        (10, 50) => "SQL Server 2008 R2",
        (10, _) => "SQL Server 2008",
        _ => return None,
    })
}

/// The major version of a product year (`2019` → `15`).
fn major_of_year(year: &str) -> Option<u32> {
    Some(match year {
        "2025" => 17,
        "2022" => 16,
        "2019" => 15,
        "2017" => 14,
        "2016" => 13,
        "2014" => 12,
        "2012" => 11,
        "2008" => 10,
        _ => return None,
    })
}

/// `15.0.4355.3`, `15.00.4345.5.v1` (RDS) or `15.0.4312.2-2` (the Linux
/// package) → (normalized `15.0.4355.3`, major, minor).
fn parse_version(text: &str) -> Option<(String, u32, u32)> {
    let text = text.trim();
    let core = text
        .split(['-', ' '])
        .next()
        .unwrap_or(text)
        .trim_end_matches(".v1");
    let parts: Vec<u32> = core
        .split('.')
        .take(4)
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    let (&major, rest) = parts.split_first()?;
    let minor = rest.first().copied().unwrap_or(0);
    let normalized = parts
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(".");
    (major >= 9).then_some((normalized, major, minor))
}

/// The edition named in `text` (`Enterprise`, `Standard`, `Web`,
/// `Express`, `Developer`), case-insensitive.
fn edition_in(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    ["enterprise", "standard", "web", "express", "developer"]
        .into_iter()
        .find(|e| lower.contains(e))
        .map(|e| {
            let mut s = e.to_owned();
            if let Some(first) = s.get_mut(0..1) {
                first.make_ascii_uppercase();
            }
            s
        })
}

/// A year after `SQL` in an image name or description (`SQL_2019`,
/// `SQL Server 2022`, `sql-2017`).
fn sql_year_in(text: &str) -> Option<&str> {
    let lower = text.to_ascii_lowercase();
    let at = lower.find("sql")?;
    let rest = text.get(at + 3..)?;
    let rest = rest.trim_start_matches(['_', '-', ' ']);
    let rest = rest
        .strip_prefix("Server")
        .or_else(|| rest.strip_prefix("server"))
        .unwrap_or(rest)
        .trim_start_matches(['_', '-', ' ']);
    let year = rest.get(..4)?;
    major_of_year(year).map(|_| year)
}

/// Whether an SSM application entry is a SQL Server database engine.
fn engine_application(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    if lower == "mssql-server" {
        return true;
    }
    let client = [
        "management studio",
        "native client",
        "odbc",
        "localdb",
        "setup",
        "language service",
        "shared management",
        "common files",
        "policies",
        "browser",
        "writer",
        "vss",
        "data-tier",
        "clr types",
        "compact",
    ];
    if client.iter().any(|c| lower.contains(c)) {
        return false;
    }
    let top_level = lower.starts_with("microsoft sql server 20")
        && (lower.ends_with("(64-bit)") || lower.ends_with("(32-bit)"));
    let engine = lower.starts_with("sql server 20") && lower.ends_with("database engine services");
    top_level || engine
}

fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

struct Server<'a> {
    host: &'a Asset,
    /// The host's own id (instance id or DB instance identifier).
    host_id: &'a str,
    host_type: &'static str,
    finding: Finding,
    signals: Vec<Value>,
}

impl<'a> Server<'a> {
    fn new(host: &'a Asset, host_id: &'a str, host_type: &'static str) -> Self {
        Self {
            host,
            host_id,
            host_type,
            finding: Finding::default(),
            signals: Vec::new(),
        }
    }

    fn add(&mut self, source: &str, detail: String, finding: Finding) {
        self.signals
            .push(json!({"source": source, "detail": detail}));
        self.finding.merge(finding);
    }
}

/// The SSM inventory signal of one instance, if it lists the engine.
fn inventory_signal(inventory: &Asset) -> Option<(String, Finding)> {
    let apps = inventory.properties.get("applications")?.as_array()?;
    let platform = match inventory
        .properties
        .get("os")
        .and_then(|os| text(os, "platformType"))
    {
        Some(p) if p.eq_ignore_ascii_case("windows") => Some("windows"),
        Some(p) if p.eq_ignore_ascii_case("linux") => Some("linux"),
        _ => None,
    };
    let mut best: Option<(String, Finding)> = None;
    for app in apps {
        let Some(name) = text(app, "name") else {
            continue;
        };
        if !engine_application(name) {
            continue;
        }
        let version = text(app, "version").and_then(parse_version);
        let year_major = name
            .split_whitespace()
            .find_map(|w| major_of_year(w.trim_matches(|c: char| !c.is_ascii_digit())));
        let finding = Finding {
            major: version.as_ref().map(|v| v.1).or(year_major),
            version: version.map(|v| v.0),
            edition: None,
            license_included: None,
            platform: if name.eq_ignore_ascii_case("mssql-server") {
                Some("linux")
            } else {
                platform
            },
        };
        let detail = match &finding.version {
            Some(v) => format!("{name} {v}"),
            None => name.to_owned(),
        };
        // Prefer the entry that carries a version.
        if best
            .as_ref()
            .is_none_or(|(_, b)| b.version.is_none() && finding.version.is_some())
        {
            best = Some((detail, finding));
        }
    }
    best
}

/// Every SQL Server the assets show, one asset per host, sorted by ARN.
pub fn discover(assets: &[Asset], observed_at: OffsetDateTime) -> Vec<Asset> {
    let observed = observed_at
        .format(&Rfc3339)
        .unwrap_or_else(|_| String::new());
    let images: BTreeMap<(&str, &str), &Asset> = assets
        .iter()
        .filter(|a| a.resource_type == IMAGE)
        .filter_map(|a| Some(((a.region.as_str(), text(&a.properties, "imageId")?), a)))
        .collect();
    let inventories: BTreeMap<(&str, &str, &str), &Asset> = assets
        .iter()
        .filter(|a| a.resource_type == types::SSM_INSTANCE_INVENTORY)
        .filter_map(|a| {
            let id = text(&a.properties, "instanceId")?;
            Some(((a.account.as_str(), a.region.as_str(), id), a))
        })
        .collect();

    let mut servers: Vec<Server<'_>> = Vec::new();
    for host in assets.iter().filter(|a| a.resource_type == INSTANCE) {
        let props = &host.properties;
        if matches!(text(props, "state"), Some("terminated" | "shutting-down")) {
            continue;
        }
        let Some(id) = text(props, "instanceId") else {
            continue;
        };
        let mut server = Server::new(host, id, "ec2");
        if let Some(inventory) = inventories.get(&(host.account.as_str(), host.region.as_str(), id))
            && let Some((detail, finding)) = inventory_signal(inventory)
        {
            server.add("ssm-inventory", detail, finding);
        }
        if let Some(details) = text(props, "platformDetails")
            && details.to_ascii_lowercase().contains("sql server")
        {
            let detail = match text(props, "usageOperation") {
                Some(op) => format!("{details} ({op})"),
                None => details.to_owned(),
            };
            let platform = if details.to_ascii_lowercase().starts_with("linux") {
                Some("linux")
            } else {
                Some("windows")
            };
            server.add(
                "platform-details",
                detail,
                Finding {
                    edition: edition_in(details),
                    license_included: Some(true),
                    platform,
                    ..Finding::default()
                },
            );
        }
        if let Some(image_id) = text(props, "imageId")
            && let Some(image) = images.get(&(host.region.as_str(), image_id))
        {
            let name = text(&image.properties, "name").unwrap_or_default();
            let description = text(&image.properties, "description").unwrap_or_default();
            let year = sql_year_in(name).or_else(|| sql_year_in(description));
            if let Some(year) = year {
                let both = format!("{name} {description}");
                server.add(
                    "ami-name",
                    format!(
                        "{image_id}: {}",
                        if name.is_empty() { description } else { name }
                    ),
                    Finding {
                        major: major_of_year(year),
                        edition: edition_in(&both),
                        ..Finding::default()
                    },
                );
            }
        }
        if !server.signals.is_empty() {
            servers.push(server);
        }
    }
    for host in assets.iter().filter(|a| a.resource_type == DB_INSTANCE) {
        let props = &host.properties;
        let Some(engine) = text(props, "engine") else {
            continue;
        };
        let (host_type, suffix) = if let Some(s) = engine.strip_prefix("custom-sqlserver-") {
            ("rds-custom", s)
        } else if let Some(s) = engine.strip_prefix("sqlserver-") {
            ("rds", s)
        } else {
            continue;
        };
        let edition = match suffix {
            "ee" => Some("Enterprise"),
            "se" => Some("Standard"),
            "web" => Some("Web"),
            "ex" => Some("Express"),
            "dev" => Some("Developer"),
            _ => None,
        };
        let Some(id) = text(props, "dbInstanceIdentifier") else {
            continue;
        };
        let version = text(props, "engineVersion").and_then(parse_version);
        let mut server = Server::new(host, id, host_type);
        server.add(
            "rds-engine",
            match text(props, "engineVersion") {
                Some(v) => format!("{engine} {v}"),
                None => engine.to_owned(),
            },
            Finding {
                major: version.as_ref().map(|v| v.1),
                version: version.map(|v| v.0),
                edition: edition.map(str::to_owned),
                license_included: text(props, "licenseModel").map(|m| m == "license-included"),
                platform: Some("windows"),
            },
        );
        servers.push(server);
    }

    let mut out: Vec<Asset> = servers
        .into_iter()
        .map(|s| server_asset(s, &observed))
        .collect();
    out.sort_by(|a, b| a.arn.cmp(&b.arn));
    out
}

fn server_asset(server: Server<'_>, observed: &str) -> Asset {
    let host = server.host;
    let f = &server.finding;
    let minor = f
        .version
        .as_deref()
        .and_then(parse_version)
        .map_or(0, |v| v.2);
    let product = f.major.and_then(|m| product_of(m, minor));
    let id = server.host_id;
    let kind = match server.host_type {
        "ec2" => "ec2-instance",
        _ => "db",
    };
    let arn = format!(
        "arn:rampart:sql:{}:{}:server/{kind}/{id}",
        host.region, host.account
    );
    let host_state = match server.host_type {
        "ec2" => text(&host.properties, "state"),
        _ => text(&host.properties, "dbInstanceStatus"),
    };
    let properties = json!({
        "hostType": server.host_type,
        "hostArn": host.arn,
        "hostId": id,
        "hostState": host_state,
        "product": product,
        "version": f.version,
        "majorVersion": f.major,
        "edition": f.edition,
        "licenseIncluded": f.license_included,
        "platform": f.platform,
        "signals": server.signals,
        "observedAt": observed,
    });
    let name = format!("{} on {}", product.unwrap_or("SQL Server"), host.name);
    Asset::new(
        arn,
        types::SQL_SERVER_INSTANCE,
        host.account.clone(),
        host.region.clone(),
        name,
        properties,
    )
    .with_tags(host.tags.clone())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "test code")]

    use super::*;
    use time::macros::datetime;

    const ACCOUNT: &str = "123456789012";

    fn instance(id: &str, platform_details: &str, image: &str) -> Asset {
        Asset::new(
            format!("arn:aws:ec2:us-east-1:{ACCOUNT}:instance/{id}"),
            INSTANCE,
            ACCOUNT,
            "us-east-1",
            id,
            json!({"instanceId": id, "state": "running", "platformDetails": platform_details,
                   "usageOperation": "RunInstances:0006", "imageId": image}),
        )
    }

    fn inventory(id: &str, platform: &str, apps: &[(&str, &str)]) -> Asset {
        let applications: Vec<Value> = apps
            .iter()
            .map(|(name, version)| json!({"name": name, "version": version}))
            .collect();
        Asset::new(
            format!("arn:rampart:ssm:us-east-1:{ACCOUNT}:inventory/{id}"),
            types::SSM_INSTANCE_INVENTORY,
            ACCOUNT,
            "us-east-1",
            id,
            json!({"instanceId": id, "os": {"platformType": platform}, "applications": applications}),
        )
    }

    fn image(id: &str, name: &str) -> Asset {
        Asset::new(
            format!("arn:aws:ec2:us-east-1::image/{id}"),
            IMAGE,
            ACCOUNT,
            "us-east-1",
            id,
            json!({"imageId": id, "name": name, "description": null}),
        )
    }

    fn db(id: &str, engine: &str, version: &str) -> Asset {
        Asset::new(
            format!("arn:aws:rds:us-east-1:{ACCOUNT}:db:{id}"),
            DB_INSTANCE,
            ACCOUNT,
            "us-east-1",
            id,
            json!({"dbInstanceIdentifier": id, "engine": engine, "engineVersion": version,
                   "licenseModel": "license-included", "dbInstanceStatus": "available"}),
        )
    }

    fn discovered(assets: &[Asset]) -> Vec<Asset> {
        discover(assets, datetime!(2026-12-06 00:00 UTC))
    }

    #[test]
    fn every_signal_is_recorded_with_what_it_said() {
        let assets = [
            instance("i-inv", "Windows", "ami-1"),
            inventory(
                "i-inv",
                "Windows",
                &[
                    ("Microsoft SQL Server 2019 (64-bit)", ""),
                    ("SQL Server 2019 Database Engine Services", "15.0.4355.3"),
                    ("Microsoft SQL Server Management Studio - 19.1", "19.1.56.0"),
                ],
            ),
            instance("i-li", "Windows with SQL Server Standard", "ami-2"),
            instance("i-ami", "Windows", "ami-sql"),
            image(
                "ami-sql",
                "Windows_Server-2022-English-Full-SQL_2022_Enterprise-2024.05.15",
            ),
            instance("i-linux", "Linux/UNIX", "ami-3"),
            inventory("i-linux", "Linux", &[("mssql-server", "16.0.4135.4-1")]),
            db("custom1", "custom-sqlserver-se", "15.00.4345.5.v1"),
            db("rds1", "sqlserver-ex", "13.00.6435.1.v1"),
        ];
        let found = discovered(&assets);
        let by_host: BTreeMap<&str, &Asset> = found
            .iter()
            .map(|a| (a.properties["hostId"].as_str().unwrap(), a))
            .collect();
        assert_eq!(
            by_host.keys().copied().collect::<Vec<_>>(),
            ["custom1", "i-ami", "i-inv", "i-li", "i-linux", "rds1"]
        );
        let inv = &by_host["i-inv"].properties;
        assert_eq!(inv["version"], "15.0.4355.3");
        assert_eq!(inv["product"], "SQL Server 2019");
        assert_eq!(inv["signals"][0]["source"], "ssm-inventory");
        assert_eq!(by_host["i-inv"].resource_type, types::SQL_SERVER_INSTANCE);
        assert_eq!(
            by_host["i-inv"].arn,
            format!("arn:rampart:sql:us-east-1:{ACCOUNT}:server/ec2-instance/i-inv")
        );
        let li = &by_host["i-li"].properties;
        assert_eq!(li["edition"], "Standard");
        assert_eq!(li["licenseIncluded"], true);
        assert_eq!(li["version"], Value::Null);
        assert_eq!(
            li["signals"][0]["detail"],
            "Windows with SQL Server Standard (RunInstances:0006)"
        );
        let ami = &by_host["i-ami"].properties;
        assert_eq!(ami["product"], "SQL Server 2022");
        assert_eq!(ami["edition"], "Enterprise");
        assert_eq!(ami["signals"][0]["source"], "ami-name");
        let linux = &by_host["i-linux"].properties;
        assert_eq!(linux["version"], "16.0.4135.4");
        assert_eq!(linux["platform"], "linux");
        let custom = &by_host["custom1"].properties;
        assert_eq!(custom["hostType"], "rds-custom");
        assert_eq!(custom["version"], "15.0.4345.5");
        assert_eq!(custom["edition"], "Standard");
        let rds = &by_host["rds1"].properties;
        assert_eq!(rds["hostType"], "rds");
        assert_eq!(rds["product"], "SQL Server 2016");
        assert_eq!(rds["edition"], "Express");
        assert_eq!(custom["observedAt"], "2026-12-06T00:00:00Z");
    }

    #[test]
    fn client_tools_and_other_engines_are_not_servers() {
        let assets = [
            instance("i-tools", "Windows", "ami-1"),
            inventory(
                "i-tools",
                "Windows",
                &[
                    ("Microsoft SQL Server Management Studio - 19.1", "19.1.56.0"),
                    ("Microsoft SQL Server 2012 Native Client", "11.4.7462.6"),
                    ("Microsoft ODBC Driver 17 for SQL Server", "17.10.1.1"),
                    ("Microsoft SQL Server 2019 LocalDB", "15.0.4153.1"),
                    ("Microsoft SQL Server 2019 Setup (English)", "15.0.4013.40"),
                    ("SQL Server 2019 Browser for SQL Server", "15.0.2000.5"),
                ],
            ),
            instance("i-plain", "Windows", "ami-plain"),
            image(
                "ami-plain",
                "Windows_Server-2022-English-Full-Base-2024.05.15",
            ),
            instance("i-gone", "Windows with SQL Server Web", "ami-1"),
            db("pg", "postgres", "16.3"),
        ];
        let mut gone = assets.to_vec();
        gone[4].properties["state"] = json!("terminated");
        assert_eq!(discovered(&gone), Vec::<Asset>::new());
    }

    #[test]
    fn versions_and_products() {
        assert_eq!(
            parse_version("15.00.4345.5.v1"),
            Some(("15.0.4345.5".into(), 15, 0))
        );
        assert_eq!(
            parse_version("10.50.6000.34"),
            Some(("10.50.6000.34".into(), 10, 50))
        );
        assert_eq!(product_of(10, 50), Some("SQL Server 2008 R2"));
        assert_eq!(product_of(10, 0), Some("SQL Server 2008"));
        assert_eq!(parse_version("19.1"), Some(("19.1".into(), 19, 1)));
        assert_eq!(product_of(19, 1), None);
        assert_eq!(parse_version("not a version"), None);
        assert_eq!(
            sql_year_in("amzn2-x86_64-SQL_2019_Standard-2024.01.01"),
            Some("2019")
        );
        assert_eq!(
            sql_year_in("Microsoft SQL Server 2017 Web on Windows"),
            Some("2017")
        );
        assert_eq!(sql_year_in("mysql-8"), None);
    }

    #[test]
    fn discovery_needs_all_three_services() {
        assert!(has_inputs(None));
        let all = [
            "ec2".to_owned(),
            "ssm".to_owned(),
            "rds".to_owned(),
            "s3".to_owned(),
        ];
        assert!(has_inputs(Some(&all)));
        assert!(!has_inputs(Some(&all[..2])));
    }
}
