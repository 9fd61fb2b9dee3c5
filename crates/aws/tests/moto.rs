//! The access layer and collectors against a private moto server, directly
//! and through a fault-injecting proxy (throttling, timeouts).

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test code: a failure should stop the test"
)]

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use rampart_aws::collectors::COLLECTORS;
use rampart_aws::{AwsAccess, AwsSettings, NoProgress, ScanPlan, collect_account};
use rampart_model::GapKind;
use rampart_testkit::Moto;

fn settings(endpoint: &str) -> AwsSettings {
    AwsSettings {
        endpoint_url: Some(endpoint.to_owned()),
        home_region: Some("us-east-1".to_owned()),
        credentials: Some(SharedCredentialsProvider::new(Credentials::new(
            "testing", "testing", None, None, "test",
        ))),
        ..AwsSettings::default()
    }
}

fn plan(regions: &[&str], services: Option<&[&str]>) -> ScanPlan {
    ScanPlan {
        account: "123456789012".to_owned(),
        home_region: "us-east-1".to_owned(),
        regions: regions.iter().map(|r| (*r).to_owned()).collect(),
        disabled_regions: vec![],
        services: services.map(|s| s.iter().map(|x| (*x).to_owned()).collect()),
        concurrency: 8,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_scan_makes_only_declared_calls_and_reads_every_service() {
    let moto = Moto::start();
    moto.seed_demo();
    let access = AwsAccess::load(&settings(&moto.url())).await.unwrap();
    let identity = access.caller_identity().await.unwrap();
    assert_eq!(identity.account, "123456789012");
    let regions = access.regions().await.unwrap();
    assert!(regions.enabled.contains(&"eu-west-1".to_owned()));

    let result = collect_account(
        &access,
        &plan(&["us-east-1", "eu-west-1"], None),
        &NoProgress,
    )
    .await;

    let declared: BTreeSet<(&str, &str)> = rampart_aws::collectors::all_operations()
        .map(|op| (op.service, op.name))
        .collect();
    let made = access.stats().snapshot();
    assert!(!made.is_empty());
    for (service, operation) in made.keys() {
        assert!(
            declared.contains(&(service.as_str(), operation.as_str())),
            "undeclared call {service}:{operation}; add it to the collector's META.operations"
        );
    }
    // Every collector produced something in the demo account.
    let types: BTreeSet<&str> = result
        .assets
        .iter()
        .map(|a| a.resource_type.as_str())
        .collect();
    for collector in COLLECTORS {
        let meta = collector.meta();
        if meta.service == "ssm" || meta.service == "organizations" {
            continue; // moto lacks DescribeInstanceInformation; the demo account is in no organization
        }
        assert!(
            meta.resource_types.iter().any(|t| types.contains(t)),
            "{} emitted none of {:?}",
            meta.service,
            meta.resource_types
        );
    }
    // The not-implemented SSM call is a gap, not a crash or an empty "healthy" list.
    assert!(
        result
            .gaps
            .iter()
            .any(|g| g.service == "ssm" && g.kind == GapKind::NotImplemented),
        "{:#?}",
        result.gaps
    );
}

/// What the proxy does with a request.
#[derive(Clone, Copy)]
enum Fault {
    Forward,
    Throttle,
    Delay(Duration),
}

/// A one-request-per-connection HTTP proxy to moto that applies `rule` to
/// each request (given its head and body as text).
fn start_proxy(upstream: u16, rule: Arc<dyn Fn(&str) -> Fault + Send + Sync>) -> u16 {
    let listener = TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let rule = rule.clone();
            std::thread::spawn(move || {
                let _ = proxy_one(stream, upstream, &*rule);
            });
        }
    });
    port
}

fn proxy_one(
    client: TcpStream,
    upstream: u16,
    rule: &dyn Fn(&str) -> Fault,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let mut head = Vec::new();
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        if line == "\r\n" {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
        if !lower.starts_with("connection:") {
            head.push(line);
        }
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body)?;
    let text = format!("{}{}", head.concat(), String::from_utf8_lossy(&body));
    let mut client = client;
    match rule(&text) {
        Fault::Throttle => {
            let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>f</RequestID></Response>";
            write!(
                client,
                "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{xml}",
                xml.len()
            )?;
            return client.flush();
        }
        Fault::Delay(d) => std::thread::sleep(d),
        Fault::Forward => {}
    }
    let mut up = TcpStream::connect(("127.0.0.1", upstream))?;
    up.write_all(head.concat().as_bytes())?;
    up.write_all(b"Connection: close\r\n\r\n")?;
    up.write_all(&body)?;
    let mut response = Vec::new();
    up.read_to_end(&mut response)?;
    client.write_all(&response)?;
    client.flush()
}

fn moto_port(moto: &Moto) -> u16 {
    moto.url().rsplit(':').next().unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_is_retried_then_succeeds() {
    let moto = Moto::start();
    let throttled = Arc::new(AtomicUsize::new(0));
    let counter = throttled.clone();
    let port = start_proxy(
        moto_port(&moto),
        Arc::new(move |req| {
            if req.contains("Action=DescribeVpcs") && counter.fetch_add(1, Ordering::SeqCst) < 2 {
                Fault::Throttle
            } else {
                Fault::Forward
            }
        }),
    );
    let access = AwsAccess::load(&settings(&format!("http://127.0.0.1:{port}")))
        .await
        .unwrap();
    let result = collect_account(&access, &plan(&["us-east-1"], Some(&["ec2"])), &NoProgress).await;
    assert!(
        !result.gaps.iter().any(|g| g.operation == "DescribeVpcs"),
        "throttling within the retry budget must not be a gap: {:#?}",
        result.gaps
    );
    assert!(
        result
            .assets
            .iter()
            .any(|a| a.resource_type == "AWS::EC2::VPC")
    );
    let calls = access.stats().snapshot();
    assert_eq!(
        calls.get(&("ec2".to_owned(), "DescribeVpcs".to_owned())),
        Some(&3),
        "two throttled attempts, then success"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_past_retries_and_timeouts_are_gaps_and_the_rest_goes_on() {
    let moto = Moto::start();
    let port = start_proxy(
        moto_port(&moto),
        Arc::new(|req| {
            if req.contains("Action=DescribeVpcs") {
                Fault::Throttle
            } else if req.contains("Action=DescribeVolumes") {
                Fault::Delay(Duration::from_secs(6))
            } else {
                Fault::Forward
            }
        }),
    );
    // Warm moto's EC2 state first, so its first-call start-up cannot hit the short timeout.
    let direct = AwsAccess::load(&settings(&moto.url())).await.unwrap();
    collect_account(&direct, &plan(&["us-east-1"], Some(&["ec2"])), &NoProgress).await;
    let mut s = settings(&format!("http://127.0.0.1:{port}"));
    s.max_attempts = 2;
    s.attempt_timeout = Duration::from_secs(2);
    let access = AwsAccess::load(&s).await.unwrap();
    let result = collect_account(&access, &plan(&["us-east-1"], Some(&["ec2"])), &NoProgress).await;
    let kind_of = |op: &str| {
        result
            .gaps
            .iter()
            .find(|g| g.operation == op)
            .map(|g| g.kind)
    };
    assert_eq!(
        kind_of("DescribeVpcs"),
        Some(GapKind::Throttled),
        "{:#?}",
        result.gaps
    );
    assert_eq!(
        kind_of("DescribeVolumes"),
        Some(GapKind::Timeout),
        "{:#?}",
        result.gaps
    );
    assert!(
        !result
            .assets
            .iter()
            .any(|a| a.resource_type == "AWS::EC2::VPC")
    );
    // Everything else was still collected.
    assert!(
        result
            .assets
            .iter()
            .any(|a| a.resource_type == "AWS::EC2::SecurityGroup"),
        "{:#?}\n{:#?}",
        result
            .assets
            .iter()
            .map(|a| &a.resource_type)
            .collect::<Vec<_>>(),
        result.gaps
    );
    let calls = access.stats().snapshot();
    assert_eq!(
        calls.get(&("ec2".to_owned(), "DescribeVpcs".to_owned())),
        Some(&2)
    );
}

/// The CloudWatch collector reads metric filters and alarms as moto keeps
/// them: the filter's log group, pattern and metric, the alarm's metric,
/// actions and SNS action.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloudwatch_reads_metric_filters_and_alarms() {
    let moto = Moto::start();
    let access = AwsAccess::load(&settings(&moto.url())).await.unwrap();
    let region = "eu-west-1";
    let logs = access.logs(region);
    logs.create_log_group()
        .log_group_name("/org/trail")
        .send()
        .await
        .unwrap();
    let pattern = r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }"#;
    logs.put_metric_filter()
        .log_group_name("/org/trail")
        .filter_name("RootUsage")
        .filter_pattern(pattern)
        .metric_transformations(
            aws_sdk_cloudwatchlogs::types::MetricTransformation::builder()
                .metric_name("RootUsage")
                .metric_namespace("CISBenchmark")
                .metric_value("1")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let topic = format!("arn:aws:sns:{region}:123456789012:security-alerts");
    access
        .cloudwatch(region)
        .put_metric_alarm()
        .alarm_name("RootUsage")
        .metric_name("RootUsage")
        .namespace("CISBenchmark")
        .statistic(aws_sdk_cloudwatch::types::Statistic::Sum)
        .period(300)
        .evaluation_periods(1)
        .threshold(1.0)
        .comparison_operator(
            aws_sdk_cloudwatch::types::ComparisonOperator::GreaterThanOrEqualToThreshold,
        )
        .alarm_actions(&topic)
        .send()
        .await
        .unwrap();

    let result = collect_account(
        &access,
        &plan(&["us-east-1", region], Some(&["cloudwatch"])),
        &NoProgress,
    )
    .await;
    assert!(result.gaps.is_empty(), "{:#?}", result.gaps);
    let monitoring: Vec<&rampart_model::Asset> = result
        .assets
        .iter()
        .filter(|a| a.resource_type == rampart_model::types::CLOUDWATCH_MONITORING)
        .collect();
    assert_eq!(monitoring.len(), 2, "one per region");
    let ours = monitoring.iter().find(|a| a.region == region).unwrap();
    let p = &ours.properties;
    assert_eq!(p["metricFilters"][0]["logGroupName"], "/org/trail");
    assert_eq!(p["metricFilters"][0]["filterPattern"], pattern);
    assert_eq!(p["metricFilters"][0]["metrics"][0]["name"], "RootUsage");
    assert_eq!(p["alarms"][0]["metrics"][0]["namespace"], "CISBenchmark");
    assert_eq!(p["alarms"][0]["actionsEnabled"], true);
    assert_eq!(p["alarms"][0]["alarmActions"][0], topic.as_str());
    let other = monitoring.iter().find(|a| a.region == "us-east-1").unwrap();
    assert_eq!(other.properties["metricFilters"], serde_json::json!([]));
    assert_eq!(other.properties["alarms"], serde_json::json!([]));
}
