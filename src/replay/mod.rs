//! Replay: runs rules over recorded events and produces alerts, the way Kibana's detection
//! engine would have on that recording.
//!
//! One engine ([`stream::RuleSet`]) serves `ruleforge replay` (recordings of any size, streamed)
//! and `ruleforge test` (each fixture, in memory): the rule set is compiled once and every
//! recording is one pass of every rule.
//!
//! - eql event queries and KQL `query` rules: one alert per matching event.
//! - eql sequences: the engine's sequences over the whole recording (maxspan applies).
//! - threshold: rule executions are simulated every `interval` over the recording's own time,
//!   each counting the events of its lookback window (`from`); a bucket alerts once its count
//!   reaches the threshold, and later runs only count events after the last alert of that bucket.
//! - new_terms: a term combination alerts the first time it is seen in a run window when it did
//!   not occur in the history window (`history_window_start` up to the window start).
//! - threat_match (indicator match): against the indicator recordings given to the run
//!   ([`threat_match`]), through the engine's buffered stage ([`buffered`]).
//! - `alert_suppression` is applied to the alerts of every type that supports it
//!   ([`suppression`]), per recording.
//! - esql: Kibana's ES|QL executor simulated over a recording's events ([`esql`]), through
//!   the engine's buffered stage, since a run window needs all of its events.
//! - machine_learning is reported as not replayable, by name.
//!
//! [`reference`] keeps the older rule-by-rule evaluator that the engine is proven against.

pub mod buffered;
pub mod esql;
pub mod explain;
pub mod filters;
pub mod predicates;
pub mod prefilter;
pub mod prune;
pub mod reference;
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
    /// Evaluated at the end of each recording over the events it selected.
    Buffered(buffered::Buffered),
}

impl Prepared {
    /// Whether the rule's simulated executions run over the events it kept (threshold,
    /// new_terms, buffered rules) rather than from its alerts.
    pub fn schedule_by_kept(&self) -> bool {
        matches!(
            self.engine,
            Engine::Threshold { .. } | Engine::NewTerms { .. } | Engine::Buffered(_)
        )
    }
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
        RuleType::Esql => Engine::Buffered(buffered::Buffered::Esql(Box::new(esql::prepare(
            rule,
            rule_schedule.clone(),
        )?))),
        RuleType::ThreatMatch => Engine::Buffered(buffered::Buffered::ThreatMatch(Box::new(
            threat_match::prepare(rule)?,
        ))),
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
    #[error(
        "{file}: a {kind} rule holds the events it selects until the end of a recording, and this one has more than {limit}; split the recording"
    )]
    TooManyBuffered {
        file: PathBuf,
        kind: &'static str,
        limit: usize,
    },
    #[error(
        "{file}:{position}: event time {time} is at or before {settled}, the last execution of this {kind} rule already simulated: a recording streamed to such rules must be in time order (within the rule's interval)"
    )]
    LateEvent {
        file: PathBuf,
        position: usize,
        kind: &'static str,
        time: String,
        settled: String,
    },
}

/// With a `baseline`, drops the alerts that exist before the rule's first run window: an
/// alert exists once its last event is in a run window.
pub fn retain_after_baseline(
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
