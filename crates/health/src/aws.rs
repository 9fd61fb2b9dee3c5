//! Gathers each plan's evidence from AWS, as the plan's own roles.

use futures::future::join_all;
use rampart_aws::error::classify;
use rampart_aws::pipeline::containers::{
    self, CheckStatus, Clients, ClusterPipeline, PipelineSource,
};
use rampart_aws::pipeline::servers::{self, ServersProvisioning};
use rampart_aws::{AccessError, AwsAccess, CredentialSource};
use rampart_connector::{
    Connector, ContainersOffering, Offering, Plan, ServersOffering, SqlThreatDetection,
};
use rampart_model::GapKind;

use crate::credentials::{assumed_by_rampart, role_credentials};
use crate::decide::{
    self, ClusterEndpoint, DbInstance, FIREHOSE_STREAM_QUOTA, Instance, Managed, Regional,
    S3_BUCKET_QUOTA,
};
use crate::requirement::{
    ACCOUNT_MATCHES, AUDIT_PIPELINE, EC2_INSTANCES, EKS_CLUSTERS, ENDPOINT_ACCESS, READ_ACCESS,
    ROLE_ASSUMABLE, ROOM_FOR_BUCKET, ROOM_FOR_QUEUE, ROOM_FOR_STREAM, SQL_LOG_PIPELINE, SQL_SERVER,
    SSM_PROVISIONING, SSM_STATUS,
};
use crate::{Check, HealthOptions, State};

/// One role of a plan, reached (or not).
struct Role {
    arn: String,
    /// Access as the role, when it was assumed into the connector's account.
    access: Option<AwsAccess>,
}

/// The credential source of one role, or why there is none.
fn source(
    connector: &Connector,
    plan: Plan,
    arn: &str,
    options: &HealthOptions,
) -> Result<CredentialSource, String> {
    if connector.is_classic() {
        return options
            .classic
            .clone()
            .ok_or_else(|| "the classic connector's credentials were not given".to_owned());
    }
    match &options.issuer {
        Ok(issuer) => Ok(role_credentials(connector, plan, arn, issuer.clone())),
        Err(why) => Err(format!("no issuer to mint tokens: {why}")),
    }
}

/// Assumes one role and checks its caller identity; pushes both checks.
async fn reach(
    connector: &Connector,
    plan: Plan,
    arn: &str,
    options: &HealthOptions,
    checks: &mut Vec<Check>,
) -> Option<AwsAccess> {
    let label = if connector.is_classic() {
        format!("classic credentials ({arn})")
    } else {
        arn.to_owned()
    };
    let source = match source(connector, plan, arn, options) {
        Ok(source) => source,
        Err(why) => {
            checks.push(Check::new(
                Some(plan),
                ROLE_ASSUMABLE,
                State::unknown(why),
                label.clone(),
            ));
            checks.push(Check::new(
                Some(plan),
                ACCOUNT_MATCHES,
                State::unknown("the role was not assumed"),
                label,
            ));
            return None;
        }
    };
    let attempt: Result<(AwsAccess, rampart_aws::CallerIdentity), AccessError> = async {
        let settings = options.settings.clone().with_credentials(source).await?;
        let access = AwsAccess::load(&settings).await?;
        let identity = access.caller_identity().await?;
        Ok((access, identity))
    }
    .await;
    let (state, detail) =
        decide::role_assumable(&connector.name, &label, attempt.as_ref().map(|(_, id)| id));
    checks.push(Check::new(Some(plan), ROLE_ASSUMABLE, state, detail));
    match attempt {
        Ok((access, identity)) => {
            let (state, detail) = decide::account_matches(connector.account(), &identity);
            let matches = state == State::Met;
            checks.push(Check::new(Some(plan), ACCOUNT_MATCHES, state, detail));
            matches.then_some(access)
        }
        Err(_) => {
            checks.push(Check::new(
                Some(plan),
                ACCOUNT_MATCHES,
                State::unknown("the role was not assumed"),
                label,
            ));
            None
        }
    }
}

/// The regions to look in: the connector's, else every enabled one.
async fn regions(connector: &Connector, access: &AwsAccess) -> Vec<String> {
    let configured = &connector.environment_data.regions;
    if !configured.is_empty() {
        return configured.clone();
    }
    match access.regions().await {
        Ok(list) if !list.enabled.is_empty() => list.enabled,
        _ => vec![access.home_region().to_owned()],
    }
}

/// Every check of one plan: its roles, then its own requirements.
pub(crate) async fn plan_checks(
    connector: &Connector,
    plan: Plan,
    options: &HealthOptions,
    evidence: Option<&crate::ScanEvidence>,
) -> Vec<Check> {
    let mut checks = Vec::new();
    let arns: Vec<String> = match &connector.classic {
        Some(_) => vec![
            connector
                .role_arn(plan)
                .map_or_else(|| "classic".to_owned(), str::to_owned),
        ],
        None => connector
            .offering(plan)
            .map(|o| {
                o.role_arns()
                    .into_iter()
                    .enumerate()
                    .filter(|(i, _)| assumed_by_rampart(plan, *i))
                    .map(|(_, (_, arn))| arn.to_owned())
                    .collect()
            })
            .unwrap_or_default(),
    };
    let mut roles = Vec::new();
    for arn in arns {
        let access = reach(connector, plan, &arn, options, &mut checks).await;
        roles.push(Role { arn, access });
    }
    let Some(first) = roles.first() else {
        return checks;
    };
    let Some(access) = first.access.as_ref() else {
        let why = format!(
            "the plan's role {} is not usable (see {ROLE_ASSUMABLE})",
            first.arn
        );
        for requirement in requirements(plan) {
            checks.push(Check::new(
                Some(plan),
                requirement,
                State::unknown(why.clone()),
                String::new(),
            ));
        }
        return checks;
    };
    let name = connector.name.as_str();
    let role = first.arn.as_str();
    if plan == Plan::Cspm {
        // Its read check lists the regions itself.
        checks.push(cspm(name, role, access).await);
        return checks;
    }
    let regions = regions(connector, access).await;
    match plan {
        Plan::Cspm => {}
        Plan::Servers => {
            checks.extend(servers(name, role, access, &regions).await);
            let provisioning = roles.get(1).and_then(|r| r.access.as_ref());
            checks.push(ssm_provisioning(connector, provisioning, &regions).await);
        }
        Plan::Containers => checks.extend(containers(connector, role, access, &regions).await),
        Plan::Sql => {
            // SQL Server on EC2 is found by the provisioning role when it
            // is usable, else by the RDS role.
            let ec2_access = roles
                .get(1)
                .and_then(|r| r.access.as_ref())
                .unwrap_or(access);
            let ec2 = instances(ec2_access, &regions).await;
            let rds = db_instances(access, &regions).await;
            let scanned: Option<(&str, Vec<String>)> = evidence.map(|e| {
                (
                    e.record.id.as_str(),
                    e.sql_servers.iter().map(|s| s.host_id.clone()).collect(),
                )
            });
            let (state, detail) = decide::sql_server(
                name,
                &ec2,
                &rds,
                scanned.as_ref().map(|(id, hosts)| (*id, hosts.as_slice())),
            );
            checks.push(Check::new(Some(plan), SQL_SERVER, state, detail));
            if let Some(Offering::DefenderForDatabasesAws(o)) = connector.offering(Plan::Sql)
                && let Some(detection) = &o.threat_detection
            {
                let detection_access = roles.get(2).and_then(|r| r.access.as_ref());
                checks.push(
                    sql_log_pipelines(connector, detection, detection_access, &regions).await,
                );
            }
        }
    }
    checks
}

/// A plan's own requirements, in order.
fn requirements(plan: Plan) -> &'static [&'static str] {
    match plan {
        Plan::Cspm => &[READ_ACCESS],
        Plan::Servers => &[EC2_INSTANCES, SSM_STATUS, SSM_PROVISIONING],
        Plan::Containers => &[
            EKS_CLUSTERS,
            ENDPOINT_ACCESS,
            ROOM_FOR_BUCKET,
            ROOM_FOR_QUEUE,
            ROOM_FOR_STREAM,
            AUDIT_PIPELINE,
        ],
        Plan::Sql => &[SQL_SERVER, SQL_LOG_PIPELINE],
    }
}

async fn cspm(name: &str, role: &str, access: &AwsAccess) -> Check {
    let home = access.home_region();
    let iam = access
        .iam(home)
        .get_account_summary()
        .send()
        .await
        .map(|_| ())
        .map_err(|e| classify(&e));
    let ec2 = access
        .ec2(home)
        .describe_regions()
        .send()
        .await
        .map(|_| ())
        .map_err(|e| classify(&e));
    let s3 = access
        .s3(home)
        .list_buckets()
        .max_buckets(1)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| classify(&e));
    let results = [
        ("iam:GetAccountSummary", iam),
        ("ec2:DescribeRegions", ec2),
        ("s3:ListAllMyBuckets", s3),
    ];
    let (state, detail) = decide::reads(name, role, &results);
    Check::new(Some(Plan::Cspm), READ_ACCESS, state, detail)
}

/// EC2 instances (not terminated) per region.
async fn instances(access: &AwsAccess, regions: &[String]) -> Regional<Vec<Instance>> {
    join_all(regions.iter().map(|region| async move {
        let mut found = Vec::new();
        let mut pages = access
            .ec2(region)
            .describe_instances()
            .max_results(1000)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = match page {
                Ok(page) => page,
                Err(e) => return (region.clone(), Err(classify(&e))),
            };
            for instance in page.reservations().iter().flat_map(|r| r.instances()) {
                let terminated = instance
                    .state()
                    .and_then(|s| s.name())
                    .is_some_and(|n| n.as_str() == "terminated");
                if terminated {
                    continue;
                }
                found.push(Instance {
                    id: instance.instance_id().unwrap_or_default().to_owned(),
                    platform_details: instance.platform_details().map(str::to_owned),
                });
            }
        }
        (region.clone(), Ok(found))
    }))
    .await
}

async fn servers(name: &str, role: &str, access: &AwsAccess, regions: &[String]) -> Vec<Check> {
    let found = instances(access, regions).await;
    let (state, detail) = decide::found(
        "EC2 instances",
        "ec2:DescribeInstances",
        role,
        name,
        "nothing for the servers plan to protect: check the connector's regions (`rampart connector update NAME --regions ...`) or disable the plan",
        &found,
    );
    let mut checks = vec![Check::new(
        Some(Plan::Servers),
        EC2_INSTANCES,
        state,
        detail,
    )];
    let with_instances: Vec<&String> = found
        .iter()
        .filter(|(_, r)| r.as_ref().is_ok_and(|v| !v.is_empty()))
        .map(|(region, _)| region)
        .collect();
    let managed: Regional<Vec<Managed>> =
        join_all(with_instances.into_iter().map(|region| async move {
            let mut registered = Vec::new();
            let mut pages = access
                .ssm(region)
                .describe_instance_information()
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                match page {
                    Ok(page) => {
                        registered.extend(page.instance_information_list().iter().map(|i| {
                            Managed {
                                id: i.instance_id().unwrap_or_default().to_owned(),
                                ping_status: i
                                    .ping_status()
                                    .map(|p| p.as_str().to_owned())
                                    .unwrap_or_default(),
                            }
                        }))
                    }
                    Err(e) => return (region.clone(), Err(classify(&e))),
                }
            }
            (region.clone(), Ok(registered))
        }))
        .await;
    let (state, detail) = decide::ssm_status(&found, &managed);
    checks.push(Check::new(Some(Plan::Servers), SSM_STATUS, state, detail));
    checks
}

async fn containers(
    connector: &Connector,
    role: &str,
    access: &AwsAccess,
    regions: &[String],
) -> Vec<Check> {
    let name = connector.name.as_str();
    let plan = Some(Plan::Containers);
    let clusters: Regional<Vec<String>> = join_all(regions.iter().map(|region| async move {
        let mut names = Vec::new();
        let mut pages = access.eks(region).list_clusters().into_paginator().send();
        while let Some(page) = pages.next().await {
            match page {
                Ok(page) => names.extend(page.clusters().iter().cloned()),
                Err(e) => return (region.clone(), Err(classify(&e))),
            }
        }
        (region.clone(), Ok(names))
    }))
    .await;
    let (state, detail) = decide::found(
        "EKS clusters",
        "eks:ListClusters",
        role,
        name,
        "nothing for the containers plan to protect: check the connector's regions (`rampart connector update NAME --regions ...`) or disable the plan",
        &clusters,
    );
    let mut checks = vec![Check::new(plan, EKS_CLUSTERS, state, detail)];

    let named: Vec<(&String, &String)> = clusters
        .iter()
        .filter_map(|(region, r)| r.as_ref().ok().map(|names| (region, names)))
        .flat_map(|(region, names)| names.iter().map(move |n| (region, n)))
        .collect();
    let endpoints: Vec<Result<ClusterEndpoint, String>> =
        join_all(named.iter().map(|(region, cluster)| async move {
            let out = access
                .eks(region)
                .describe_cluster()
                .name(cluster.as_str())
                .send()
                .await
                .map_err(|e| format!("{region}/{cluster}: {}", classify(&e)))?;
            let vpc = out.cluster().and_then(|c| c.resources_vpc_config());
            Ok(ClusterEndpoint {
                region: (*region).clone(),
                name: (*cluster).clone(),
                public: vpc.is_some_and(|v| v.endpoint_public_access()),
                private: vpc.is_some_and(|v| v.endpoint_private_access()),
                public_cidrs: vpc
                    .map(|v| v.public_access_cidrs().to_vec())
                    .unwrap_or_default(),
            })
        }))
        .await;
    let (state, detail) = decide::endpoint_access(&endpoints);
    checks.push(Check::new(plan, ENDPOINT_ACCESS, state, detail));
    checks.push(audit_pipelines(connector, access, &named).await);

    // The bucket quota is per account (S3 is global).
    let mut bucket_count = 0usize;
    let mut bucket_error = None;
    let mut pages = access
        .s3(access.home_region())
        .list_buckets()
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        match page {
            Ok(page) => bucket_count += page.buckets().len(),
            Err(e) => {
                bucket_error = Some(classify(&e));
                break;
            }
        }
    }
    let bucket_check = match bucket_error {
        None => {
            let (state, detail) = decide::room(
                "general purpose buckets",
                bucket_count,
                S3_BUCKET_QUOTA,
                "per account",
            );
            Check::new(plan, ROOM_FOR_BUCKET, state, detail)
        }
        Some(f) => Check::new(
            plan,
            ROOM_FOR_BUCKET,
            State::unknown(format!(
                "`s3:ListAllMyBuckets` failed: {f}{}",
                if f.kind == GapKind::AccessDenied {
                    " (least-privilege templates do not grant it)"
                } else {
                    ""
                }
            )),
            format!("bucket quota {S3_BUCKET_QUOTA} per account (documented default)"),
        ),
    };
    checks.push(bucket_check);

    let cluster_regions: Vec<String> = clusters
        .iter()
        .filter(|(_, r)| r.as_ref().is_ok_and(|v| !v.is_empty()))
        .map(|(region, _)| region.clone())
        .collect();
    checks.push(Check::new(
        plan,
        ROOM_FOR_QUEUE,
        State::Met,
        "SQS has no quota on the number of queues".to_owned(),
    ));
    let streams: Regional<usize> = join_all(cluster_regions.iter().map(|region| async move {
        let client = access.firehose(region);
        let mut count = 0usize;
        let mut start: Option<String> = None;
        loop {
            let out = client
                .list_delivery_streams()
                .limit(10_000)
                .set_exclusive_start_delivery_stream_name(start.clone())
                .send()
                .await;
            let out = match out {
                Ok(out) => out,
                Err(e) => return (region.clone(), Err(classify(&e))),
            };
            count += out.delivery_stream_names().len();
            let last = out.delivery_stream_names().last().cloned();
            if !out.has_more_delivery_streams() || last.is_none() || count >= FIREHOSE_STREAM_QUOTA
            {
                break;
            }
            start = last;
        }
        (region.clone(), Ok(count))
    }))
    .await;
    let (state, detail) = decide::stream_room(&streams);
    checks.push(Check::new(plan, ROOM_FOR_STREAM, state, detail));
    checks
}

/// RDS DB instances per region.
async fn db_instances(access: &AwsAccess, regions: &[String]) -> Regional<Vec<DbInstance>> {
    join_all(regions.iter().map(|region| async move {
        let mut found = Vec::new();
        let mut pages = access
            .rds(region)
            .describe_db_instances()
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            match page {
                Ok(page) => found.extend(page.db_instances().iter().map(|db| DbInstance {
                    id: db.db_instance_identifier().unwrap_or_default().to_owned(),
                    engine: db.engine().unwrap_or_default().to_owned(),
                })),
                Err(e) => return (region.clone(), Err(classify(&e))),
            }
        }
        (region.clone(), Ok(found))
    }))
    .await
}

/// The audit-log pipeline input of `cluster` for `connector`'s Containers
/// offering: names, retention and the roles the pipeline passes.
pub fn pipeline_input(
    connector: &Connector,
    offering: &ContainersOffering,
    region: &str,
    cluster: &str,
) -> ClusterPipeline {
    ClusterPipeline {
        account: connector.account().to_owned(),
        region: region.to_owned(),
        cluster: cluster.to_owned(),
        source: PipelineSource::EksCluster,
        connector_id: connector.id.to_string(),
        connector_name: connector.name.clone(),
        retention_days: offering.kube_audit_retention_time,
        cloudwatch_to_kinesis_role_arn: offering.cloud_watch_to_kinesis.cloud_role_arn.clone(),
        kinesis_to_s3_role_arn: offering.kinesis_to_s3.cloud_role_arn.clone(),
    }
}

/// The log pipeline input of a SQL Server log group for `connector`'s SQL
/// plan threat detection: names, retention and the roles the pipeline
/// passes.
pub fn sql_pipeline_input(
    connector: &Connector,
    detection: &SqlThreatDetection,
    region: &str,
    log_group: &str,
) -> ClusterPipeline {
    ClusterPipeline {
        account: connector.account().to_owned(),
        region: region.to_owned(),
        cluster: log_group.to_owned(),
        source: PipelineSource::LogGroup(log_group.to_owned()),
        connector_id: connector.id.to_string(),
        connector_name: connector.name.clone(),
        retention_days: detection.retention_days,
        cloudwatch_to_kinesis_role_arn: detection.cloud_watch_to_kinesis.cloud_role_arn.clone(),
        kinesis_to_s3_role_arn: detection.kinesis_to_s3.cloud_role_arn.clone(),
    }
}

/// What the Servers plan's SSM provisioning covers for `connector` in
/// `regions`: its scope and settings.
pub fn servers_input(
    connector: &Connector,
    offering: &ServersOffering,
    regions: &[String],
) -> ServersProvisioning {
    ServersProvisioning {
        account: connector.account().to_owned(),
        regions: regions.to_vec(),
        connector_name: connector.name.clone(),
        scope_by_tags: offering.scope_by_tags.clone(),
        policy_attach_allowed: offering.arc_auto_provisioning.is_policy_attach_allowed,
    }
}

/// Servers: how many instances in scope SSM provisioning covers and why
/// the rest are not, read (never changed) as the `arcAutoProvisioning`
/// role.
async fn ssm_provisioning(
    connector: &Connector,
    access: Option<&AwsAccess>,
    regions: &[String],
) -> Check {
    let plan = Some(Plan::Servers);
    let Some(Offering::DefenderForServersAws(offering)) = connector.offering(Plan::Servers) else {
        return Check::new(
            plan,
            SSM_PROVISIONING,
            State::unknown("no Servers plan"),
            "",
        );
    };
    let enabled = offering.arc_auto_provisioning.enabled;
    let read = match access {
        Some(access) => {
            let input = servers_input(connector, offering, regions);
            servers::plan(&servers::Clients::new(access), &input)
                .await
                .map(|p| servers::coverage(&p))
                .map_err(|e| e.to_string())
        }
        None => Err(format!(
            "the role {} is not usable (see {ROLE_ASSUMABLE})",
            offering.arc_auto_provisioning.cloud_role_arn
        )),
    };
    let (state, detail) = decide::ssm_provisioning(&connector.name, enabled, read);
    Check::new(plan, SSM_PROVISIONING, state, detail)
}

/// Containers: every cluster's audit-log pipeline, read (never changed)
/// as the `kubernetesService` role, and the depth of its dead-letter queue.
async fn audit_pipelines(
    connector: &Connector,
    access: &AwsAccess,
    clusters: &[(&String, &String)],
) -> Check {
    let plan = Some(Plan::Containers);
    let Some(Offering::DefenderForContainersAws(offering)) = connector.offering(Plan::Containers)
    else {
        return Check::new(
            plan,
            AUDIT_PIPELINE,
            State::unknown("no Containers plan"),
            "",
        );
    };
    if clusters.is_empty() {
        return Check::new(
            plan,
            AUDIT_PIPELINE,
            State::Met,
            "no EKS cluster to collect from",
        );
    }
    let inputs: Vec<ClusterPipeline> = clusters
        .iter()
        .map(|(region, cluster)| pipeline_input(connector, offering, region, cluster))
        .collect();
    let provision = format!(
        "rampart containers provision --connector {}",
        connector.name
    );
    pipelines_check(connector, access, &inputs, AUDIT_PIPELINE, &provision).await
}

/// SQL: every SQL Server log group's pipeline, read (never changed) as the
/// `threatDetection` role, and the depth of its dead-letter queue.
async fn sql_log_pipelines(
    connector: &Connector,
    detection: &SqlThreatDetection,
    access: Option<&AwsAccess>,
    regions: &[String],
) -> Check {
    let plan = Some(Plan::Sql);
    let Some(access) = access else {
        return Check::new(
            plan,
            SQL_LOG_PIPELINE,
            State::unknown(format!(
                "the threatDetection role {} is not usable (see {ROLE_ASSUMABLE})",
                detection.cloud_role_arn
            )),
            "",
        );
    };
    let found =
        rampart_aws::pipeline::sql::find_log_groups_in(access, regions, &detection.log_groups)
            .await;
    let inputs: Vec<ClusterPipeline> = found
        .groups
        .iter()
        .map(|g| sql_pipeline_input(connector, detection, &g.region, &g.log_group))
        .collect();
    let unlisted: Vec<String> = found
        .region_errors
        .iter()
        .map(|(region, e)| format!("{region}: cannot list SQL Server log groups: {e}"))
        .collect();
    let missing: Vec<String> = found.not_found.iter().map(|g| format!("`{g}`")).collect();
    if !unlisted.is_empty() {
        return Check::new(
            plan,
            SQL_LOG_PIPELINE,
            State::unknown(unlisted.join("; ")),
            "",
        );
    }
    if !missing.is_empty() {
        return Check::new(
            plan,
            SQL_LOG_PIPELINE,
            State::not_met(format!(
                "log group{} {} named in `threatDetection.logGroups` exist{} in none of the connector's regions: point the CloudWatch agent at {} or correct the list (`rampart connector update {} --sql-log-groups ...`)",
                if missing.len() == 1 { "" } else { "s" },
                missing.join(", "),
                if missing.len() == 1 { "s" } else { "" },
                if missing.len() == 1 { "it" } else { "them" },
                connector.name
            )),
            "",
        );
    }
    if inputs.is_empty() {
        return Check::new(
            plan,
            SQL_LOG_PIPELINE,
            State::not_met(format!(
                "no SQL Server log reaches CloudWatch Logs: export the `error` log of RDS for SQL Server instances, or name the CloudWatch agent's log groups (`rampart connector update {} --sql-log-groups ...`)",
                connector.name
            )),
            "",
        );
    }
    let provision = format!("rampart sql provision --connector {}", connector.name);
    pipelines_check(connector, access, &inputs, SQL_LOG_PIPELINE, &provision).await
}

/// One check over log pipelines: each read with [`containers::check`]
/// and its dead-letter queue's depth.
async fn pipelines_check(
    connector: &Connector,
    access: &AwsAccess,
    inputs: &[ClusterPipeline],
    requirement: &'static str,
    provision: &str,
) -> Check {
    let plan = Some(connector_plan(requirement));
    let results = join_all(inputs.iter().map(|input| async move {
        let region = &input.region;
        let clients = Clients::new(access, region);
        let checked = containers::check(&clients, input)
            .await
            .map_err(|e| format!("{region}/{}: {e}", input.cluster))?;
        let names = input.names();
        let waiting = containers::dead_letter_depth(&clients, &names)
            .await
            .map_err(|e| e.to_string());
        Ok::<_, String>((checked, waiting))
    }))
    .await;
    let mut not_met = Vec::new();
    let mut unknown = Vec::new();
    let mut met = Vec::new();
    for result in results {
        let (checked, waiting) = match result {
            Ok(r) => r,
            Err(why) => {
                unknown.push(why);
                continue;
            }
        };
        let at = format!("{}/{}", checked.region, checked.cluster);
        for item in &checked.items {
            let what = format!("{at}: {} `{}`: {}", item.resource, item.name, item.detail);
            let fix = item.fix.clone().unwrap_or_default();
            match item.status {
                CheckStatus::Met => {}
                CheckStatus::NotMet => not_met.push(format!("{what} — {fix}")),
                CheckStatus::Unknown => unknown.push(format!("{what} — {fix}")),
            }
        }
        match waiting {
            Ok(Some(n)) if n > 0 => not_met.push(format!(
                "{at}: {n} message{} in the dead-letter queue (objects detection could not read; see `rampart detect --connector {}`)",
                if n == 1 { "" } else { "s" },
                connector.name
            )),
            Ok(_) => {}
            Err(why) => unknown.push(format!("{at}: dead-letter queue: {why}")),
        }
        if checked.status == CheckStatus::Met {
            met.push(at);
        }
    }
    let detail = if met.is_empty() {
        String::new()
    } else {
        format!("provisioned: {}", met.join(", "))
    };
    let state = if !not_met.is_empty() {
        State::not_met(format!(
            "{}; run `{provision}` (or a scan with auto-provisioning on)",
            not_met.join("; "),
        ))
    } else if !unknown.is_empty() {
        State::unknown(unknown.join("; "))
    } else {
        State::Met
    };
    Check::new(plan, requirement, state, detail)
}

/// The plan a pipeline requirement belongs to.
fn connector_plan(requirement: &str) -> Plan {
    if requirement == SQL_LOG_PIPELINE {
        Plan::Sql
    } else {
        Plan::Containers
    }
}
