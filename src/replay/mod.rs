//! Replay: runs rules over recorded events and produces alerts, the way Kibana's detection
//! engine would have on that recording.
//!
//! - eql event queries and KQL `query` rules: one alert per matching event.
//! - eql sequences: the engine's sequences over the whole recording (maxspan applies).
//! - threshold: rule executions are simulated every `interval` over the recording's own time,
//!   each counting the events of its lookback window (`from`); a bucket alerts once its count
//!   reaches the threshold, and later runs only count events after the last alert of that bucket.
//! - new_terms: a term combination alerts the first time it is seen in a run window when it did
//!   not occur in the history window (`history_window_start` up to the window start).
//! - threat_match (indicator match): against the fixture's indicator recordings
//!   ([`threat_match`]); only through [`prepare_fixture`] / [`run_fixture`], since the streaming
//!   replay has no indicators.
//! - `alert_suppression` is applied to the alerts of every type that supports it
//!   ([`suppression`]), by [`run_fixture`].
//! - esql: Kibana's ES|QL executor simulated over a fixture's events ([`esql`]); only through
//!   [`prepare_fixture`] / [`run_fixture`], since it needs all events of the recording.
//! - machine_learning is reported as not replayable, by name.

pub mod esql;
pub mod explain;
pub mod filters;
pub mod prefilter;
pub mod prune;
pub mod schedule;
pub mod stream;
pub mod suppression;
pub mod synth;
pub mod table;
pub mod threat_match;

use crate::diag::{Diagnostic, Span};
use crate::event::EventFile;
use crate::query::FieldPath;
use crate::query::{eql, kql};
use crate::rule::{Rule, RuleType};
use serde_json::Value;
use std::path::PathBuf;

/// A rule compiled for replay.
pub struct Prepared {
    pub engine: Engine,
    /// The rule's schedule; it matters for the first run after a fixture's baseline.
    pub schedule: schedule::Schedule,
}

pub enum Engine {
    EqlEvent(eql::Compiled),
    EqlSequence(eql::Compiled),
    Kql(kql::Compiled),
    Threshold {
        filter: kql::Compiled,
        threshold: crate::rule::Threshold,
        schedule: schedule::Schedule,
    },
    NewTerms {
        filter: kql::Compiled,
        fields: Vec<FieldPath>,
        history_ms: i64,
        schedule: schedule::Schedule,
    },
}

/// Why a rule cannot be replayed.
#[derive(Debug, Clone)]
pub enum NotReplayable {
    /// The query or rule is broken: a diagnostic with a location.
    Invalid(Vec<Diagnostic>),
    /// The rule type or language has no offline evaluator.
    Unsupported(String),
}

pub fn prepare(rule: &Rule) -> Result<Prepared, NotReplayable> {
    if !rule.loaded_cleanly() {
        return Err(NotReplayable::Invalid(rule.load_diagnostics.clone()));
    }
    let Some(rule_type) = rule.rule_type else {
        return Err(NotReplayable::Unsupported("rule has no valid type".into()));
    };
    let query = || {
        rule.query
            .as_ref()
            .ok_or_else(|| NotReplayable::Unsupported("rule has no query".into()))
    };
    let language = rule.language.as_deref().unwrap_or("kuery");
    let rule_schedule =
        schedule::Schedule::of(rule).map_err(|m| invalid(rule, "RT002", m, "rule.from"))?;
    let engine = match rule_type {
        RuleType::Eql => {
            let q = query()?;
            let parsed = eql::parse(&q.text).map_err(|e| eql_error(rule, &e))?;
            let opts = eql_options(rule);
            let compiled = parsed.compile(&opts).map_err(|e| eql_error(rule, &e))?;
            if parsed.is_sequence() {
                Engine::EqlSequence(compiled)
            } else {
                Engine::EqlEvent(compiled)
            }
        }
        RuleType::Query | RuleType::Threshold | RuleType::NewTerms => {
            if language != "kuery" {
                return Err(NotReplayable::Unsupported(format!(
                    "`{language}` queries have no offline evaluator yet"
                )));
            }
            let filter = compile_kql(rule)?;
            let schedule = rule_schedule.clone();
            match rule_type {
                RuleType::Query => Engine::Kql(filter),
                RuleType::Threshold => Engine::Threshold {
                    filter,
                    threshold: rule.threshold.clone().ok_or_else(|| {
                        NotReplayable::Unsupported("threshold rule without [rule.threshold]".into())
                    })?,
                    schedule,
                },
                _ => {
                    let nt = rule.new_terms.as_ref().ok_or_else(|| {
                        NotReplayable::Unsupported("new_terms rule without [rule.new_terms]".into())
                    })?;
                    let history_ms = schedule::parse_now_minus(&nt.history_window_start)
                        .map_err(|m| invalid(rule, "RT002", m, "rule.new_terms"))?;
                    Engine::NewTerms {
                        filter,
                        fields: nt.fields.iter().map(|f| FieldPath::new(f)).collect(),
                        history_ms,
                        schedule,
                    }
                }
            }
        }
        RuleType::MachineLearning => {
            return Err(NotReplayable::Unsupported(
                "machine_learning rules score anomalies from a trained job; they cannot be replayed offline".into(),
            ));
        }
        RuleType::Esql => {
            return Err(NotReplayable::Unsupported(
                "ES|QL rules are replayed over a fixture's events, by `ruleforge test`".into(),
            ));
        }
        RuleType::ThreatMatch => {
            return Err(NotReplayable::Unsupported(
                "threat_match rules are replayed against a fixture's indicator recordings, by `ruleforge test`".into(),
            ));
        }
    };
    Ok(Prepared {
        engine,
        schedule: rule_schedule,
    })
}

/// Field names the rule's query references (for Kibana's `required_fields`); `None` when the
/// query does not parse or its language has no parser.
pub fn query_fields(rule: &Rule) -> Option<Vec<String>> {
    let q = rule.query.as_ref()?;
    match (rule.rule_type?, rule.language.as_deref()?) {
        (RuleType::Eql, "eql") => eql::parse(&q.text).ok().map(|p| p.fields()),
        (_, "kuery") => kql::parse(&q.text).ok().map(|p| p.fields()),
        _ => None,
    }
}

/// The fields of the rule's query as the export names them in `required_fields` (EQL fields
/// keep their back-ticks); `None` when the query does not parse or the language has none.
pub fn export_fields(rule: &Rule) -> Option<Vec<String>> {
    let q = rule.query.as_ref()?;
    match (rule.rule_type?, rule.language.as_deref()?) {
        (RuleType::Eql, "eql") => eql::parse(&q.text).ok().map(|p| p.fields_as_written()),
        _ => query_fields(rule),
    }
}

fn invalid(rule: &Rule, code: &'static str, message: String, path: &str) -> NotReplayable {
    NotReplayable::Invalid(vec![
        Diagnostic::error(code, message).at(&rule.path, Some(rule.span_of(path))),
    ])
}

pub fn eql_options(rule: &Rule) -> eql::Options {
    let mut opts = eql::Options::default();
    if let Some(f) = &rule.timestamp_field {
        opts.timestamp_field = f.clone();
    }
    if let Some(f) = &rule.tiebreaker_field {
        opts.tiebreaker_field = Some(f.clone());
    }
    if let Some(f) = &rule.event_category_override {
        opts.event_category_field = f.clone();
    }
    opts.size = None;
    opts
}

/// A query error placed inside the rule file.
pub fn query_error(rule: &Rule, code: &'static str, message: &str, inner: &Span) -> Diagnostic {
    let span = rule
        .query
        .as_ref()
        .map(|q| q.file_span(inner))
        .unwrap_or(0..0);
    Diagnostic::error(code, message.to_string()).at(&rule.path, Some(span))
}

fn eql_error(rule: &Rule, e: &eql::EqlError) -> NotReplayable {
    NotReplayable::Invalid(vec![query_error(
        rule,
        "RF603",
        &format!("EQL: {}", e.message),
        &e.span,
    )])
}

fn compile_kql(rule: &Rule) -> Result<kql::Compiled, NotReplayable> {
    let q = rule
        .query
        .as_ref()
        .ok_or_else(|| NotReplayable::Unsupported("rule has no query".into()))?;
    let parsed = kql::parse(&q.text).map_err(|e| {
        NotReplayable::Invalid(vec![query_error(
            rule,
            "RF601",
            &format!("KQL: {}", e.message),
            &e.span,
        )])
    })?;
    parsed.compile(&kql::FieldTypes::ecs()).map_err(|e| {
        NotReplayable::Invalid(vec![query_error(
            rule,
            "RF601",
            &format!("KQL: {}", e.message),
            &e.span,
        )])
    })
}

/// One event of an alert, by position in its recording.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct AlertEvent {
    pub file: PathBuf,
    /// 1-based line (NDJSON) or index (JSON array).
    pub position: usize,
    /// Index into the recording's events.
    pub index: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Detail {
    Event,
    Sequence {
        join_keys: Vec<Value>,
    },
    Threshold {
        terms: Vec<(String, Value)>,
        count: usize,
    },
    NewTerms {
        values: Vec<(String, Value)>,
    },
    /// An indicator match: the indicators that matched the event.
    ThreatMatch {
        enrichments: Vec<threat_match::Enrichment>,
    },
    /// An ES|QL result row (its source event, if any, is the alert's event).
    Esql(Box<esql::EsqlRow>),
    /// A raised alert of a rule with `alert_suppression`: its own detail inside.
    Suppressed(Box<suppression::Suppressed>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// `None` slots are missing-event positions of a sequence.
    pub events: Vec<Option<AlertEvent>>,
    pub detail: Detail,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum ReplayError {
    #[error("{0}")]
    Eql(String),
    #[error("ES|QL: {0}")]
    Esql(String),
    #[error("event at {file}:{position} has no usable timestamp; {what} needs event time")]
    NoTimestamp {
        file: PathBuf,
        position: usize,
        what: &'static str,
    },
}

fn alert_event(events: &EventFile, index: usize) -> AlertEvent {
    AlertEvent {
        file: events.path.clone(),
        position: events.positions[index],
        index,
    }
}

/// Runs one prepared rule over one recording. With a `baseline` (epoch ms), the rule starts
/// running at that instant: earlier events are history, visible only to the first run's
/// lookback window and to new_terms history.
pub fn run(
    prepared: &Prepared,
    events: &EventFile,
    baseline: Option<i64>,
) -> Result<Vec<Alert>, ReplayError> {
    let mut alerts = run_all(prepared, events, baseline)?;
    retain_after_baseline(prepared, events, &mut alerts, baseline);
    Ok(alerts)
}

/// With a `baseline`, drops the alerts that exist before the rule's first run window: an
/// alert exists once its last event is in a run window.
pub(crate) fn retain_after_baseline(
    prepared: &Prepared,
    events: &EventFile,
    alerts: &mut Vec<Alert>,
    baseline: Option<i64>,
) {
    if let Some(b) = baseline {
        let first_window = b - prepared.schedule.lookback_ms;
        alerts.retain(|a| {
            a.events
                .iter()
                .flatten()
                .filter_map(|e| events.timestamps.get(e.index).copied().flatten())
                .max()
                .is_none_or(|t| t >= first_window)
        });
    }
}

fn run_all(
    prepared: &Prepared,
    events: &EventFile,
    baseline: Option<i64>,
) -> Result<Vec<Alert>, ReplayError> {
    let single = |i: usize| Alert {
        events: vec![Some(alert_event(events, i))],
        detail: Detail::Event,
    };
    match &prepared.engine {
        Engine::EqlEvent(c) => Ok((0..events.len())
            .filter(|&i| c.matches(&events.values[i]))
            .map(single)
            .collect()),
        Engine::Kql(c) => Ok((0..events.len())
            .filter(|&i| c.matches(&events.values[i]))
            .map(single)
            .collect()),
        Engine::EqlSequence(c) => {
            // Sequences order events in time; one without a usable timestamp would silently
            // drop out (and with it an alert), so it is an error, as for threshold/new_terms.
            if let Some(i) = (0..events.len()).find(|&i| c.event_time(&events.values[i]).is_none())
            {
                return Err(ReplayError::NoTimestamp {
                    file: events.path.clone(),
                    position: events.positions[i],
                    what: "an EQL sequence",
                });
            }
            let hits = c
                .execute(&events.values)
                .map_err(|e| ReplayError::Eql(e.message.clone()))?;
            Ok(hits
                .into_iter()
                .filter_map(|h| match h {
                    eql::Hit::Sequence {
                        events: idx,
                        join_keys,
                    } => Some(Alert {
                        events: idx
                            .into_iter()
                            .map(|i| i.map(|i| alert_event(events, i)))
                            .collect(),
                        detail: Detail::Sequence { join_keys },
                    }),
                    eql::Hit::Event { index } => Some(single(index)),
                    eql::Hit::Sample { .. } => None,
                })
                .collect())
        }
        Engine::Threshold {
            filter,
            threshold,
            schedule,
        } => schedule::threshold(filter, threshold, schedule, events, baseline),
        Engine::NewTerms {
            filter,
            fields,
            history_ms,
            schedule,
        } => schedule::new_terms(filter, fields, *history_ms, schedule, events, baseline),
    }
}

/// A rule compiled for replay over fixtures (`ruleforge test`): any replayable type, including
/// threat_match, and the rule's `alert_suppression`.
pub struct FixturePrepared {
    pub kind: FixtureKind,
    pub suppression: Option<suppression::Suppression>,
}

pub enum FixtureKind {
    Engine(Box<Prepared>),
    ThreatMatch(Box<threat_match::ThreatMatch>),
    Esql(Box<esql::EsqlRule>),
}

/// [`prepare`], plus threat_match and ES|QL rules and `alert_suppression`.
pub fn prepare_fixture(rule: &Rule) -> Result<FixturePrepared, NotReplayable> {
    let whole_fixture = matches!(rule.rule_type, Some(RuleType::ThreatMatch | RuleType::Esql));
    if whole_fixture && !rule.loaded_cleanly() {
        return Err(NotReplayable::Invalid(rule.load_diagnostics.clone()));
    }
    let kind = match rule.rule_type {
        Some(RuleType::ThreatMatch) => {
            FixtureKind::ThreatMatch(Box::new(threat_match::prepare(rule)?))
        }
        Some(RuleType::Esql) => {
            let schedule =
                schedule::Schedule::of(rule).map_err(|m| invalid(rule, "RT002", m, "rule.from"))?;
            FixtureKind::Esql(Box::new(esql::prepare(rule, schedule)?))
        }
        _ => FixtureKind::Engine(Box::new(prepare(rule)?)),
    };
    Ok(FixturePrepared {
        kind,
        suppression: suppression::of_rule(rule)?,
    })
}

/// Runs a rule over one fixture's recording (and its indicators), then applies suppression.
pub fn run_fixture(
    prepared: &FixturePrepared,
    events: &EventFile,
    indicators: &[threat_match::IndicatorSet],
    baseline: Option<i64>,
) -> Result<Vec<Alert>, ReplayError> {
    let (alerts, schedule) = match &prepared.kind {
        FixtureKind::Engine(p) => (run(p, events, baseline)?, &p.schedule),
        FixtureKind::ThreatMatch(t) => (
            threat_match::run(t, events, indicators, baseline)?,
            &t.schedule,
        ),
        FixtureKind::Esql(q) => (esql::run(q, events, baseline)?, &q.schedule),
    };
    let Some(sup) = &prepared.suppression else {
        return Ok(alerts);
    };
    let Some(first) = grid_anchor(prepared, events, &alerts) else {
        return Ok(alerts);
    };
    let grid = suppression::Grid {
        start: baseline.map_or(first, |b| b.max(first)),
        interval_ms: schedule.interval_ms,
    };
    Ok(suppression::apply(sup, alerts, events, schedule, grid))
}

/// Where the simulated executions start: the first event the rule's filter matches for
/// threshold and new_terms (as their simulation does), else the earliest alert event.
fn grid_anchor(prepared: &FixturePrepared, events: &EventFile, alerts: &[Alert]) -> Option<i64> {
    match &prepared.kind {
        FixtureKind::Engine(p) => match &p.engine {
            Engine::Threshold {
                filter, schedule, ..
            }
            | Engine::NewTerms {
                filter, schedule, ..
            } => (0..events.len())
                .filter(|&i| filter.matches(&events.values[i]))
                .filter_map(|i| schedule.event_time(events, i))
                .min(),
            _ => earliest(alerts, events, &p.schedule),
        },
        FixtureKind::ThreatMatch(t) => t.first_hit(events),
        FixtureKind::Esql(q) => q.first_event(events),
    }
}

fn earliest(alerts: &[Alert], events: &EventFile, schedule: &schedule::Schedule) -> Option<i64> {
    alerts
        .iter()
        .flat_map(|a| a.events.iter().flatten())
        .filter_map(|e| schedule.event_time(events, e.index))
        .min()
}
