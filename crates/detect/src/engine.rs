//! The engine: events in (in batches), new and updated alerts out.
//!
//! Grouping: every match of one alert type on the same entities (the rule's
//! `group_by`, plus the resource) within one window (aligned to the epoch,
//! [`EngineConfig::window_seconds`]) is one alert, whose `id` is a hash of
//! the type, resource, entities and window start: the same incident keeps
//! its id however often and in whatever batches its events arrive.
//!
//! Idempotency: an alert remembers the ids of its events, a threshold the
//! ids it counted, a baseline the values it learnt; an event processed
//! twice changes nothing. That memory is kept for
//! [`EngineConfig::horizon_seconds`] behind the newest event seen; an event
//! older than that is counted as late and skipped, never half-applied.
//!
//! State ([`EngineState`]) is serializable: a caller persists it after
//! storing a batch's alerts and restores it with [`Engine::with_state`],
//! so baselines and open windows survive restarts.
//!
//! CloudTrail: records of AWS services acting for themselves or for a
//! caller are dropped before any rule
//! ([`cloudtrail::is_aws_service_noise`]); the addresses of known EC2
//! instances come from the caller ([`Engine::set_instance_addresses`]).

use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};
use std::sync::Arc;

use rampart_model::{Alert, AlertEntity, AlertEvidence, AlertSource, AlertStatus};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::cloudtrail::{self, Check, InstanceAddresses, InstanceCall};
use crate::event::{AuditStage, EntityKey, Event};
use crate::path::FieldPath;
use crate::rules::{After, BaselineValue, Logic, Outcome, Rule, Ruleset};

/// Engine settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngineConfig {
    /// Grouping window length (default one hour).
    pub window_seconds: i64,
    /// How far behind the newest event the engine remembers what it
    /// processed (default 24 hours); older events are skipped as late.
    pub horizon_seconds: i64,
    /// Most evidence entries one alert lists (the rest are counted in
    /// `evidence_truncated`).
    pub evidence_cap: usize,
    /// Most entities one alert lists.
    pub entity_cap: usize,
    /// Matches to drop before they become alerts (accepted noise).
    #[serde(default)]
    pub suppressions: Vec<Suppression>,
}

/// A suppression: matches of `alert_type` (every type when absent) that
/// involve `entity` (matched by kind and exact value, or by value prefix
/// when the value ends in `*`) raise nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppression {
    /// The alert type, or every type.
    #[serde(default)]
    pub alert_type: Option<String>,
    /// The entity (`k8s-user` = `system:serviceaccount:ci:deployer`).
    pub entity: AlertEntity,
}

impl Suppression {
    fn applies(&self, alert_type: &str, entities: &[AlertEntity]) -> bool {
        self.alert_type.as_deref().is_none_or(|t| t == alert_type)
            && entities.iter().any(|e| {
                e.kind == self.entity.kind
                    && match self.entity.value.strip_suffix('*') {
                        Some(prefix) => e.value.starts_with(prefix),
                        None => e.value == self.entity.value,
                    }
            })
    }
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            window_seconds: 3600,
            horizon_seconds: 24 * 3600,
            evidence_cap: 50,
            entity_cap: 20,
            suppressions: Vec::new(),
        }
    }
}

/// What the engine remembers between batches: open alerts, threshold
/// windows, baselines. Serializable, so callers can persist it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EngineState {
    /// The newest event time seen (Unix seconds).
    pub watermark: Option<i64>,
    /// Alerts whose window is still within the horizon, by alert id.
    groups: BTreeMap<String, Group>,
    /// Threshold rules' recent matches, by rule and entities.
    thresholds: BTreeMap<String, VecDeque<Pending>>,
    /// First-seen rules' baselines, by rule and entities.
    baselines: BTreeMap<String, Baseline>,
    /// When alert types other rules wait for (`after`) were last raised,
    /// by rule and entities (Unix seconds).
    raised: BTreeMap<String, i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Group {
    alert: Alert,
    window_end: i64,
    /// Stable hashes of the event ids in the alert.
    seen: HashSet<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Pending {
    time: i64,
    event: u64,
    /// The counted value (thresholds over distinct values).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    value: Option<String>,
    evidence: AlertEvidence,
    entities: Vec<AlertEntity>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Baseline {
    since: i64,
    values: Vec<String>,
    /// When each value was last seen (rules that forget values).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    last_seen: BTreeMap<String, i64>,
}

/// Counters of one batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchStats {
    /// Events given.
    pub events: u64,
    /// Events rules ran on.
    pub evaluated: u64,
    /// Audit events of an earlier stage (`RequestReceived`,
    /// `ResponseStarted`), skipped: the final stage repeats them.
    pub partial_stage: u64,
    /// Events older than the horizon, skipped.
    pub late: u64,
    /// Rule matches.
    pub matches: u64,
    /// Matches already counted (an event seen before).
    pub duplicates: u64,
    /// Matches dropped by a suppression.
    pub suppressed: u64,
    /// CloudTrail events of AWS services acting for themselves or on a
    /// caller's behalf ([`cloudtrail::is_aws_service_noise`]), skipped.
    pub service_noise: u64,
    /// Calls with an instance role's credentials from an instance the
    /// [`InstanceAddresses`] do not know: not judged.
    pub unknown_instance: u64,
    /// Matches of rules with `after` whose preceding alert was not raised
    /// (within its time) for the same entities.
    pub sequence_unmet: u64,
}

/// The result of one batch.
#[derive(Debug, Clone, Default)]
pub struct BatchOutcome {
    /// Alerts raised or changed by the batch, sorted by id; each is the
    /// whole alert as it now stands (store it by id, replacing).
    pub alerts: Vec<Alert>,
    /// Counters.
    pub stats: BatchStats,
}

/// The detection engine.
#[derive(Debug)]
pub struct Engine {
    rules: Arc<Ruleset>,
    config: EngineConfig,
    state: EngineState,
    instances: InstanceAddresses,
    /// Alert types some rule's `after` waits for.
    awaited: BTreeSet<String>,
}

impl Engine {
    /// An engine with empty state.
    pub fn new(rules: Arc<Ruleset>, config: EngineConfig) -> Self {
        Self::with_state(rules, config, EngineState::default())
    }

    /// An engine resuming from persisted `state`.
    pub fn with_state(rules: Arc<Ruleset>, config: EngineConfig, state: EngineState) -> Self {
        let awaited = rules
            .rules()
            .iter()
            .flat_map(|r| r.after.iter().flat_map(|a| a.alert_types.iter().cloned()))
            .collect();
        Self {
            rules,
            config,
            state,
            instances: InstanceAddresses::default(),
            awaited,
        }
    }

    /// The known addresses of EC2 instances, for
    /// `AWS.InstanceCredentialsUsedElsewhere` (empty by default: that rule
    /// then raises nothing). Not persisted: set it from the inventory
    /// before each batch.
    pub fn set_instance_addresses(&mut self, addresses: InstanceAddresses) {
        self.instances = addresses;
    }

    /// The instance addresses in use.
    pub fn instance_addresses(&self) -> &InstanceAddresses {
        &self.instances
    }

    /// The state to persist.
    pub fn state(&self) -> &EngineState {
        &self.state
    }

    /// The rules.
    pub fn rules(&self) -> &Ruleset {
        &self.rules
    }

    /// Every alert the engine still holds (within the horizon), by id.
    pub fn alerts(&self) -> impl Iterator<Item = &Alert> {
        self.state.groups.values().map(|g| &g.alert)
    }

    /// Runs every rule over `events`; returns the alerts raised or changed.
    pub fn process(&mut self, events: impl IntoIterator<Item = Event>) -> BatchOutcome {
        let mut stats = BatchStats::default();
        let mut changed = BTreeSet::new();
        for event in events {
            stats.events += 1;
            self.one(&event, &mut stats, &mut changed);
        }
        self.prune();
        let alerts = changed
            .into_iter()
            .filter_map(|id| self.state.groups.get(&id).map(|g| g.alert.clone()))
            .collect();
        BatchOutcome { alerts, stats }
    }

    fn one(&mut self, event: &Event, stats: &mut BatchStats, changed: &mut BTreeSet<String>) {
        if event.audit_stage() == AuditStage::Partial {
            stats.partial_stage += 1;
            return;
        }
        let time = event.time.unix_timestamp();
        if let Some(mark) = self.state.watermark
            && time < mark - self.config.horizon_seconds
        {
            stats.late += 1;
            return;
        }
        self.state.watermark = Some(self.state.watermark.map_or(time, |m| m.max(time)));
        if event.source == AlertSource::CloudTrail && cloudtrail::is_aws_service_noise(&event.body)
        {
            stats.service_noise += 1;
            return;
        }
        stats.evaluated += 1;
        let rules = Arc::clone(&self.rules);
        let mut succeeded = None;
        let verb = event.str_at(&["verb"]);
        let resource = event.str_at(&["objectRef", "resource"]);
        let event_name = event.str_at(&["eventName"]);
        for rule in rules.rules().iter().filter(|r| r.source == event.source) {
            if !rule.may_match(verb, resource) || !rule.may_match_event_name(event_name) {
                continue;
            }
            let ok = *succeeded.get_or_insert_with(|| event.succeeded());
            let wanted = match rule.outcome {
                Outcome::Success => ok,
                Outcome::Failure => !ok,
                Outcome::Any => true,
            };
            if !wanted || !rule.matches(&event.body) {
                continue;
            }
            if let Some(check) = rule.check
                && !self.check(check, event, stats)
            {
                continue;
            }
            if let Some(after) = &rule.after
                && !self.preceded(after, event, time)
            {
                stats.sequence_unmet += 1;
                continue;
            }
            stats.matches += 1;
            if !self.config.suppressions.is_empty() {
                let entities = event_entities(event);
                if self
                    .config
                    .suppressions
                    .iter()
                    .any(|s| s.applies(&rule.alert_type, &entities))
                {
                    stats.suppressed += 1;
                    continue;
                }
            }
            match &rule.logic {
                Logic::Match => {
                    let added = self.add(rule, event, time, changed);
                    if added {
                        self.mark_raised(rule, event, time);
                    } else {
                        stats.duplicates += 1;
                    }
                }
                Logic::Threshold {
                    count,
                    window_seconds,
                    distinct,
                } => {
                    self.threshold(
                        rule,
                        event,
                        time,
                        (*count, *window_seconds, distinct.as_ref()),
                        stats,
                        changed,
                    );
                }
                Logic::FirstSeen {
                    value,
                    learning_seconds,
                    max_values,
                    forget_seconds,
                } => self.first_seen(
                    rule,
                    event,
                    time,
                    (value, *learning_seconds, *max_values, *forget_seconds),
                    stats,
                    changed,
                ),
            }
        }
    }

    /// Whether an alert `after` waits for was raised for `event`'s
    /// entities within its time before `time`.
    fn preceded(&self, after: &After, event: &Event, time: i64) -> bool {
        after.alert_types.iter().any(|alert_type| {
            let Some(prior) = self.rules.by_alert_type(alert_type) else {
                return false;
            };
            let keys = group_entities(prior, event);
            if keys.len() < prior.group_by.len() {
                // The event lacks an entity the prior alert is grouped by.
                return false;
            }
            self.state
                .raised
                .get(&state_key(prior, event, &keys))
                .is_some_and(|at| *at <= time && time - at <= after.within_seconds)
        })
    }

    /// Remembers that `rule` raised for `event`'s entities, when another
    /// rule waits for it.
    fn mark_raised(&mut self, rule: &Rule, event: &Event, time: i64) {
        if !self.awaited.contains(&rule.alert_type) {
            return;
        }
        let keys = group_entities(rule, event);
        let at = self
            .state
            .raised
            .entry(state_key(rule, event, &keys))
            .or_insert(time);
        *at = (*at).max(time);
    }

    /// Whether the rule's named Rust check holds for `event`.
    fn check(&self, check: Check, event: &Event, stats: &mut BatchStats) -> bool {
        match check {
            Check::InstanceCredentialsElsewhere => {
                let Some(instance) = cloudtrail::instance_session(&event.body) else {
                    return false;
                };
                let source = event.str_at(&["sourceIPAddress"]).unwrap_or_default();
                match self.instances.judge(instance, source) {
                    InstanceCall::Elsewhere => true,
                    InstanceCall::UnknownInstance => {
                        stats.unknown_instance += 1;
                        false
                    }
                    InstanceCall::FromInstance | InstanceCall::NotAnAddress => false,
                }
            }
            Check::WorldOpenAdminPort => cloudtrail::opens_admin_port_to_world(&event.body),
            Check::PublicPolicy => cloudtrail::grants_public_access(&event.body),
        }
    }

    /// Adds `event` to its alert; `false` when it was already in it.
    fn add(
        &mut self,
        rule: &Rule,
        event: &Event,
        time: i64,
        changed: &mut BTreeSet<String>,
    ) -> bool {
        let keys = group_entities(rule, event);
        let entities = event_entities(event);
        let evidence = evidence(event);
        self.add_parts(
            rule,
            event,
            time,
            &keys,
            event_hash(event),
            evidence,
            entities,
            changed,
        )
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "one internal step with its parts spelled out"
    )]
    fn add_parts(
        &mut self,
        rule: &Rule,
        event: &Event,
        time: i64,
        keys: &[AlertEntity],
        hash: u64,
        evidence: AlertEvidence,
        entities: Vec<AlertEntity>,
        changed: &mut BTreeSet<String>,
    ) -> bool {
        let window = self.config.window_seconds.max(1);
        let window_start = time.div_euclid(window) * window;
        let id = alert_id(
            &rule.alert_type,
            &event.context.resource.arn,
            keys,
            window_start,
        );
        let config = &self.config;
        let group = self
            .state
            .groups
            .entry(id.clone())
            .or_insert_with(|| Group {
                alert: new_alert(rule, event, &id, keys),
                window_end: window_start + window,
                seen: HashSet::new(),
            });
        if !group.seen.insert(hash) {
            return false;
        }
        let alert = &mut group.alert;
        alert.count += 1;
        alert.first_seen = alert.first_seen.min(evidence.time);
        alert.last_seen = alert.last_seen.max(evidence.time);
        if alert.evidence.len() < config.evidence_cap {
            let at = alert.evidence.partition_point(|e| e.time <= evidence.time);
            alert.evidence.insert(at, evidence);
        } else {
            alert.evidence_truncated += 1;
        }
        for entity in entities {
            if alert.entities.len() >= config.entity_cap {
                break;
            }
            if !alert.entities.contains(&entity) {
                alert.entities.push(entity);
            }
        }
        changed.insert(id);
        true
    }

    fn threshold(
        &mut self,
        rule: &Rule,
        event: &Event,
        time: i64,
        (count, window_seconds, distinct): (usize, i64, Option<&FieldPath>),
        stats: &mut BatchStats,
        changed: &mut BTreeSet<String>,
    ) {
        let value = match distinct {
            Some(path) => match path.first_str(&event.body) {
                Some(v) => Some(v.to_owned()),
                None => return,
            },
            None => None,
        };
        let keys = group_entities(rule, event);
        let key = state_key(rule, event, &keys);
        let hash = event_hash(event);
        let recent = self.state.thresholds.entry(key).or_default();
        let newest = recent.back().map_or(time, |p| p.time.max(time));
        if time < newest - window_seconds || recent.iter().any(|p| p.event == hash) {
            stats.duplicates += 1;
            return;
        }
        let at = recent.partition_point(|p| p.time <= time);
        recent.insert(
            at,
            Pending {
                time,
                event: hash,
                value: value.clone(),
                evidence: evidence(event),
                entities: event_entities(event),
            },
        );
        if value.is_some() {
            // Distinct values: keep the newest event of each.
            let mut seen = HashSet::new();
            let mut kept: VecDeque<Pending> = recent
                .iter()
                .rev()
                .filter(|p| seen.insert(p.value.clone()))
                .cloned()
                .collect();
            kept.make_contiguous().reverse();
            *recent = kept;
        }
        while recent
            .front()
            .is_some_and(|p| p.time < newest - window_seconds)
        {
            recent.pop_front();
        }
        while recent.len() > count {
            recent.pop_front();
        }
        if recent.len() < count {
            return;
        }
        let ready: Vec<Pending> = recent.iter().cloned().collect();
        self.mark_raised(rule, event, time);
        // Every counted event joins the alert of the window the threshold
        // was crossed in.
        for p in ready {
            self.add_parts(
                rule, event, time, &keys, p.event, p.evidence, p.entities, changed,
            );
        }
    }

    fn first_seen(
        &mut self,
        rule: &Rule,
        event: &Event,
        time: i64,
        (value, learning_seconds, max_values, forget_seconds): (
            &BaselineValue,
            i64,
            usize,
            Option<i64>,
        ),
        stats: &mut BatchStats,
        changed: &mut BTreeSet<String>,
    ) {
        let values: Vec<AlertEntity> = match value {
            BaselineValue::Entity(key) => event.entity(*key).into_iter().collect(),
            BaselineValue::Field { paths, kind } => {
                let mut out: Vec<AlertEntity> = Vec::new();
                for v in paths.iter().flat_map(|p| event.field(p)) {
                    let text = match v {
                        serde_json::Value::String(s) => s.clone(),
                        serde_json::Value::Number(n) => n.to_string(),
                        _ => continue,
                    };
                    if !out.iter().any(|e| e.value == text) {
                        out.push(AlertEntity::new(kind, &text));
                    }
                }
                out
            }
        };
        if values.is_empty() {
            return;
        }
        let keys = group_entities(rule, event);
        let key = state_key(rule, event, &keys);
        let baseline = self.state.baselines.entry(key).or_insert_with(|| Baseline {
            since: time,
            values: Vec::new(),
            last_seen: BTreeMap::new(),
        });
        baseline.since = baseline.since.min(time);
        let learnt = time - baseline.since >= learning_seconds;
        let mut new = Vec::new();
        for seen in values {
            if baseline.values.contains(&seen.value) {
                let Some(forget) = forget_seconds else {
                    continue;
                };
                // A value known from before it was timed counts as seen now.
                let last = baseline.last_seen.entry(seen.value.clone()).or_insert(time);
                let stale = time - *last > forget;
                *last = (*last).max(time);
                if stale {
                    new.push(seen);
                }
                continue;
            }
            if baseline.values.len() >= max_values
                && let Some(forget) = forget_seconds
            {
                // Make room: forget the values unseen for longer than `forget`.
                let last_seen = &baseline.last_seen;
                baseline
                    .values
                    .retain(|v| last_seen.get(v).is_none_or(|at| time - at <= forget));
                let values = &baseline.values;
                baseline.last_seen.retain(|v, _| values.contains(v));
            }
            if baseline.values.len() < max_values {
                baseline.values.push(seen.value.clone());
                if forget_seconds.is_some() {
                    baseline.last_seen.insert(seen.value.clone(), time);
                }
            }
            new.push(seen);
        }
        if new.is_empty() {
            stats.duplicates += 1;
            return;
        }
        if learnt {
            self.mark_raised(rule, event, time);
            for seen in new {
                let mut keys = keys.clone();
                keys.push(seen);
                let entities = event_entities(event);
                self.add_parts(
                    rule,
                    event,
                    time,
                    &keys,
                    event_hash(event),
                    evidence(event),
                    entities,
                    changed,
                );
            }
        }
    }

    /// Forgets what is older than the horizon.
    fn prune(&mut self) {
        let Some(mark) = self.state.watermark else {
            return;
        };
        let cutoff = mark - self.config.horizon_seconds;
        self.state.groups.retain(|_, g| g.window_end >= cutoff);
        self.state
            .thresholds
            .retain(|_, recent| recent.back().is_some_and(|p| p.time >= cutoff));
        self.state.raised.retain(|_, at| *at >= cutoff);
    }
}

/// The entities `rule` groups by, as `event` has them.
fn group_entities(rule: &Rule, event: &Event) -> Vec<AlertEntity> {
    rule.group_by
        .iter()
        .filter_map(|k| event.entity(*k))
        .collect()
}

/// Every entity `event` names.
fn event_entities(event: &Event) -> Vec<AlertEntity> {
    EntityKey::ALL
        .iter()
        .filter_map(|k| event.entity(*k))
        .collect()
}

fn evidence(event: &Event) -> AlertEvidence {
    AlertEvidence {
        source: event.source,
        event_id: event.id.clone(),
        time: event.time,
        summary: event.summary(),
    }
}

fn state_key(rule: &Rule, event: &Event, keys: &[AlertEntity]) -> String {
    let mut key = format!("{}\u{1f}{}", rule.id, event.context.resource.arn);
    for entity in keys {
        key.push('\u{1f}');
        key.push_str(&entity.kind);
        key.push('=');
        key.push_str(&entity.value);
    }
    key
}

/// A stable alert id: the type, resource, grouping entities and window.
pub fn alert_id(
    alert_type: &str,
    resource: &str,
    entities: &[AlertEntity],
    window_start: i64,
) -> String {
    let mut hash = Sha256::new();
    hash.update(alert_type.as_bytes());
    hash.update([0]);
    hash.update(resource.as_bytes());
    for entity in entities {
        hash.update([0]);
        hash.update(entity.kind.as_bytes());
        hash.update([b'=']);
        hash.update(entity.value.as_bytes());
    }
    hash.update([0]);
    hash.update(window_start.to_be_bytes());
    let digest = hash.finalize();
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// FNV-1a of the event's source and id: stable across processes and
/// versions, so persisted state stays valid.
fn event_hash(event: &Event) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in event
        .source
        .as_str()
        .bytes()
        .chain([0])
        .chain(event.id.bytes())
    {
        h ^= u64::from(byte);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn new_alert(rule: &Rule, event: &Event, id: &str, keys: &[AlertEntity]) -> Alert {
    let ctx = &event.context;
    Alert {
        id: id.to_owned(),
        alert_type: rule.alert_type.clone(),
        title: rule.title.clone(),
        severity: rule.severity,
        status: AlertStatus::Active,
        plan: rule.plan,
        source: rule.source,
        first_seen: event.time,
        last_seen: event.time,
        count: 0,
        account: ctx.account.clone(),
        region: ctx.region.clone(),
        resource: ctx.resource.clone(),
        entities: keys.to_vec(),
        mitre: rule.mitre.clone(),
        description: rule.description.clone(),
        remediation: rule.remediation.clone(),
        rule: rule.attribution.clone(),
        evidence: Vec::new(),
        evidence_truncated: 0,
    }
}
