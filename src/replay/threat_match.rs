//! Indicator match (`threat_match`) replay, as Kibana's indicator match executor runs it.
//!
//! - **Events**: the rule's `query` (KQL or Lucene) and `filters` select the source events.
//! - **Indicators**: the fixture's indicator recordings whose index matches one of the rule's
//!   `threat_index` patterns, filtered by `threat_query` (with `now` the execution time, so
//!   `@timestamp >= "now-30d/d"` means what it means in Kibana) and `threat_filters`. An
//!   indicator exists from its `@timestamp` on: an execution does not see later indicators.
//! - **Mapping**: `threat_mapping` entries are AND-ed within an entry group and the groups
//!   OR-ed; an entry matches when one value of the event field equals one value of the
//!   indicator field (whole value, case-sensitive, as a keyword `terms` query); a `negate`
//!   entry matches when none does.
//! - **Schedule**: executions every `interval` over the recording's own time, each looking back
//!   `from`; an event is checked by each execution whose window holds it, and the first one in
//!   which it matches raises its alert (later overlapping executions de-duplicate it, as Kibana
//!   does by alert id).
//! - **Alerts**: one per matched event, listing every indicator that matched it, as Kibana
//!   enriches `threat.enrichments` (`matched.field` = the event field, `matched.atomic` = the
//!   matched value, `matched.index`, `indicator` = the object at `threat_indicator_path`).

use super::filters::{self, Filter};
use super::schedule::Schedule;
use super::{Alert, AlertEvent, Detail, NotReplayable, ReplayError};
use crate::diag::Diagnostic;
use crate::event::EventFile;
use crate::query::wildcard::Matcher;
use crate::query::{Document, FieldPath, kql, lucene};
use crate::rule::Rule;
use serde_json::Value;
use std::collections::HashMap;

/// The indicator documents of one index (a fixture's `[[indicators]]` entry).
#[derive(Debug, Clone)]
pub struct IndicatorSet {
    /// The index they sit in, matched against the rule's `threat_index` patterns.
    pub index: String,
    pub docs: EventFile,
}

/// One indicator that matched an event (an entry of Kibana's `threat.enrichments`).
#[derive(Debug, Clone, PartialEq)]
pub struct Enrichment {
    /// The indicator document: its recording, position and index among the set's docs.
    pub indicator: AlertEvent,
    /// `matched.index`: the index the indicator sits in.
    pub index: String,
    /// `matched.field`: the event field that matched.
    pub field: String,
    /// `matched.atomic`: the matched value.
    pub atomic: Value,
    /// The indicator field the event field was compared with (`threat_mapping` `value`).
    pub indicator_field: String,
}

#[derive(Debug, Clone)]
struct MappingEntry {
    field: FieldPath,
    value: FieldPath,
    negate: bool,
}

/// A threat_match rule compiled for replay.
#[derive(Debug, Clone)]
pub struct ThreatMatch {
    query: kql::Compiled,
    filters: Vec<Filter>,
    threat_query: kql::Compiled,
    threat_filters: Vec<Filter>,
    threat_index: Vec<Matcher>,
    mapping: Vec<Vec<MappingEntry>>,
    /// `threat_indicator_path` (default `threat.indicator`).
    pub indicator_path: String,
    pub schedule: Schedule,
}

fn unsupported(m: impl Into<String>) -> NotReplayable {
    NotReplayable::Unsupported(m.into())
}

/// Compiles a KQL or Lucene query; errors are placed at `span_of(inner span)` in the rule.
fn compile_query(
    rule: &Rule,
    text: &str,
    language: &str,
    span_of: &dyn Fn(&std::ops::Range<usize>) -> std::ops::Range<usize>,
) -> Result<kql::Compiled, NotReplayable> {
    let located = |label: &str, e: kql::KqlError| {
        NotReplayable::Invalid(vec![
            Diagnostic::error("RF601", format!("{label}: {}", e.message))
                .at(&rule.path, Some(span_of(&e.span))),
        ])
    };
    let types = kql::FieldTypes::ecs();
    match language {
        "kuery" => kql::parse(text)
            .and_then(|q| q.compile(&types))
            .map_err(|e| located("KQL", e)),
        "lucene" => lucene::parse(text)
            .and_then(|q| q.compile(&types))
            .map_err(|e| located("Lucene", e)),
        other => Err(unsupported(format!(
            "`{other}` queries have no offline evaluator"
        ))),
    }
}

fn filters_of(rule: &Rule, key: &str) -> Result<Vec<Filter>, NotReplayable> {
    filters::of_rule(rule, key).map_err(|e| {
        NotReplayable::Invalid(vec![
            Diagnostic::error("RT016", format!("{e}; remove it or write it as a query"))
                .at(&rule.path, Some(rule.span_of(&format!("rule.{key}")))),
        ])
    })
}

fn mapping_of(rule: &Rule) -> Result<Vec<Vec<MappingEntry>>, NotReplayable> {
    let bad = |m: &str| {
        NotReplayable::Invalid(vec![
            Diagnostic::error("RT016", format!("threat_mapping: {m}"))
                .at(&rule.path, Some(rule.span_of("rule.threat_mapping"))),
        ])
    };
    let groups = rule
        .tree
        .path("rule.threat_mapping")
        .and_then(|n| n.as_array())
        .filter(|g| !g.is_empty())
        .ok_or_else(|| bad("a threat_match rule needs at least one [[rule.threat_mapping]]"))?;
    let mut out = Vec::new();
    for g in groups {
        let entries = g
            .get("entries")
            .and_then(|n| n.as_array())
            .filter(|e| !e.is_empty())
            .ok_or_else(|| bad("every mapping needs at least one entry"))?;
        let mut group = Vec::new();
        for e in entries {
            let (Some(field), Some(value)) = (
                e.get("field").and_then(|n| n.as_str()),
                e.get("value").and_then(|n| n.as_str()),
            ) else {
                return Err(bad("every entry needs `field` and `value`"));
            };
            if e.get("type").and_then(|n| n.as_str()).unwrap_or("mapping") != "mapping" {
                return Err(bad("entry `type` must be \"mapping\""));
            }
            group.push(MappingEntry {
                field: FieldPath::new(field),
                value: FieldPath::new(value),
                negate: e.get("negate").and_then(|n| n.as_bool()).unwrap_or(false),
            });
        }
        if group.iter().all(|e| e.negate) {
            return Err(bad(
                "a mapping needs at least one entry that is not negated",
            ));
        }
        out.push(group);
    }
    Ok(out)
}

pub fn prepare(rule: &Rule) -> Result<ThreatMatch, NotReplayable> {
    let schedule = Schedule::of(rule).map_err(|m| {
        NotReplayable::Invalid(vec![
            Diagnostic::error("RT002", m).at(&rule.path, Some(rule.span_of("rule.from"))),
        ])
    })?;
    let q = rule
        .query
        .as_ref()
        .ok_or_else(|| unsupported("threat_match rule has no query"))?;
    let language = rule.language.as_deref().unwrap_or("kuery");
    let query = compile_query(rule, &q.text, language, &|s: &std::ops::Range<usize>| {
        q.file_span(s)
    })?;
    let threat_text = rule.tree.str_at("rule.threat_query").ok_or_else(|| {
        unsupported("threat_match rule without `threat_query` (Kibana requires one)")
    })?;
    let threat_language = rule.tree.str_at("rule.threat_language").unwrap_or("kuery");
    let threat_query = compile_query(
        rule,
        threat_text,
        threat_language,
        &|s: &std::ops::Range<usize>| rule.inner_span("rule.threat_query", s),
    )?;
    let threat_index: Vec<Matcher> = rule
        .tree
        .path("rule")
        .map(|r| r.strings("threat_index"))
        .unwrap_or_default()
        .into_iter()
        .map(Matcher::from_glob)
        .collect();
    if threat_index.is_empty() {
        return Err(unsupported("threat_match rule without `threat_index`"));
    }
    Ok(ThreatMatch {
        query,
        filters: filters_of(rule, "filters")?,
        threat_query,
        threat_filters: filters_of(rule, "threat_filters")?,
        threat_index,
        mapping: mapping_of(rule)?,
        indicator_path: rule
            .tree
            .str_at("rule.threat_indicator_path")
            .unwrap_or("threat.indicator")
            .to_string(),
        schedule,
    })
}

/// An indicator document a rule can see, with its `@timestamp`.
struct Candidate<'a> {
    set: &'a IndicatorSet,
    index: usize,
    timestamp: Option<i64>,
}

/// Value text as a keyword terms query compares it.
fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

impl ThreatMatch {
    /// The indicators of the rule's `threat_index` that pass `threat_filters`.
    fn candidates<'a>(&self, sets: &'a [IndicatorSet]) -> Vec<Candidate<'a>> {
        sets.iter()
            .filter(|s| self.threat_index.iter().any(|m| m.is_match(&s.index)))
            .flat_map(|s| {
                (0..s.docs.len()).map(move |i| Candidate {
                    set: s,
                    index: i,
                    timestamp: s.docs.timestamps[i],
                })
            })
            .filter(|c| filters::pass_all(&self.threat_filters, &c.set.docs.values[c.index]))
            .collect()
    }

    /// The candidates an execution at `now` sees: ingested by then, and passing `threat_query`
    /// with its date math resolved at `now`.
    fn visible(&self, candidates: &[Candidate<'_>], now: i64) -> Vec<bool> {
        let query = if self.threat_query.uses_date_math() {
            self.threat_query.clone().with_now(now)
        } else {
            self.threat_query.clone()
        };
        candidates
            .iter()
            .map(|c| {
                c.timestamp.is_none_or(|t| t <= now) && query.matches(&c.set.docs.values[c.index])
            })
            .collect()
    }

    /// The enrichments of one event against the visible indicators (none: no match).
    fn enrich(
        &self,
        event: &Value,
        candidates: &[Candidate<'_>],
        index: &ValueIndex,
        visible: &[bool],
    ) -> Vec<Enrichment> {
        // The (candidate, mapping group) pairs that share the group's key value with the event,
        // in candidate order: only those can match.
        let mut pairs: Vec<(usize, usize)> = Vec::new();
        for (g, group) in self.mapping.iter().enumerate() {
            let Some(key) = group.iter().find(|e| !e.negate) else {
                continue;
            };
            for v in key.field.values(event).into_iter().filter_map(text) {
                if let Some(cs) = index.0[g].get(&v) {
                    pairs.extend(cs.iter().filter(|&&c| visible[c]).map(|&c| (c, g)));
                }
            }
        }
        pairs.sort_unstable();
        pairs.dedup();
        let mut out: Vec<Enrichment> = Vec::new();
        for (c, g) in pairs {
            let cand = &candidates[c];
            let doc = &cand.set.docs.values[cand.index];
            let Some(hits) = group_hits(&self.mapping[g], event, doc) else {
                continue;
            };
            for (entry, atomic) in hits {
                let e = Enrichment {
                    indicator: AlertEvent {
                        file: cand.set.docs.path.clone(),
                        position: cand.set.docs.positions[cand.index],
                        index: cand.index,
                    },
                    index: cand.set.index.clone(),
                    field: entry.field.as_str().to_string(),
                    atomic,
                    indicator_field: entry.value.as_str().to_string(),
                };
                if !out.contains(&e) {
                    out.push(e);
                }
            }
        }
        out
    }
}

/// Per mapping group, the candidates by the text of each value of the group's first
/// non-negated indicator field: an event can only match the indicators sharing that value, so
/// large feeds are not scanned per event.
struct ValueIndex(Vec<HashMap<String, Vec<usize>>>);

impl ValueIndex {
    fn new(mapping: &[Vec<MappingEntry>], candidates: &[Candidate<'_>]) -> ValueIndex {
        let per_group = mapping
            .iter()
            .map(|group| {
                let mut m: HashMap<String, Vec<usize>> = HashMap::new();
                if let Some(key) = group.iter().find(|e| !e.negate) {
                    for (c, cand) in candidates.iter().enumerate() {
                        let doc = &cand.set.docs.values[cand.index];
                        let mut vals: Vec<String> =
                            key.value.values(doc).into_iter().filter_map(text).collect();
                        vals.sort_unstable();
                        vals.dedup();
                        for v in vals {
                            m.entry(v).or_default().push(c);
                        }
                    }
                }
                m
            })
            .collect();
        ValueIndex(per_group)
    }
}

/// When every entry of a mapping group holds between the event and the indicator: the
/// non-negated entries with the value each matched on.
fn group_hits<'g>(
    group: &'g [MappingEntry],
    event: &Value,
    doc: &Value,
) -> Option<Vec<(&'g MappingEntry, Value)>> {
    let mut hits = Vec::new();
    for entry in group {
        let wanted: Vec<String> = entry
            .value
            .values(doc)
            .into_iter()
            .filter_map(text)
            .collect();
        let found = entry
            .field
            .values(event)
            .into_iter()
            .find(|v| text(v).is_some_and(|t| wanted.contains(&t)));
        match (entry.negate, found) {
            (false, Some(v)) => hits.push((entry, v.clone())),
            (true, None) => {}
            _ => return None,
        }
    }
    Some(hits)
}

impl ThreatMatch {
    /// The time of the first event the rule's query and filters select (where the simulated
    /// executions start).
    pub fn first_hit(&self, events: &EventFile) -> Option<i64> {
        (0..events.len())
            .filter(|&i| self.selects(&events.values[i]))
            .filter_map(|i| self.schedule.event_time(events, i))
            .min()
    }

    fn selects(&self, ev: &Value) -> bool {
        self.query.matches(ev) && filters::pass_all(&self.filters, ev)
    }

    /// [`Self::selects`] with the query evaluated over a field table (`doc`) and the filters
    /// over the event reduced to the fields rules read (`value`).
    pub fn selects_doc<D: Document + ?Sized>(&self, doc: &D, value: &Value) -> bool {
        self.query.matches_doc(doc) && filters::pass_all(&self.filters, value)
    }

    /// Adds what selecting and matching an event reads: the query's and the filters' fields,
    /// the mapped event fields and the times.
    pub fn add_fields(&self, fs: &mut super::prune::FieldSet) {
        fs.add_kql(&self.query.fields_read());
        self.filters
            .iter()
            .for_each(|f| fs.add_field(f.field().as_str()));
        self.event_fields().iter().for_each(|f| fs.add_field(f));
    }

    /// The event fields matching reads once an event is selected: the mapped fields and the
    /// rule's times.
    pub fn event_fields(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .mapping
            .iter()
            .flatten()
            .map(|e| e.field.as_str().to_string())
            .collect();
        out.push("@timestamp".into());
        if let Some(t) = &self.schedule.time_field {
            out.push(t.as_str().to_string());
        }
        out.sort();
        out.dedup();
        out
    }
}

/// Runs a threat_match rule over one recording and its fixture's indicators.
pub fn run(
    tm: &ThreatMatch,
    events: &EventFile,
    indicators: &[IndicatorSet],
    baseline: Option<i64>,
) -> Result<Vec<Alert>, ReplayError> {
    run_where(tm, events, indicators, baseline, &|ev| tm.selects(ev))
}

/// [`run`] over events the rule's query and filters already selected (the engine's buffered
/// stage keeps only those, reduced to [`ThreatMatch::event_fields`]).
pub fn run_selected(
    tm: &ThreatMatch,
    selected: &EventFile,
    indicators: &[IndicatorSet],
    baseline: Option<i64>,
) -> Result<Vec<Alert>, ReplayError> {
    run_where(tm, selected, indicators, baseline, &|_| true)
}

fn run_where(
    tm: &ThreatMatch,
    events: &EventFile,
    indicators: &[IndicatorSet],
    baseline: Option<i64>,
    selects: &dyn Fn(&Value) -> bool,
) -> Result<Vec<Alert>, ReplayError> {
    let mut hits: Vec<(i64, usize)> = Vec::new();
    for i in 0..events.len() {
        let ev = &events.values[i];
        if selects(ev) {
            let ts = tm
                .schedule
                .required_time(events, i, "a threat_match rule")?;
            hits.push((ts, i));
        }
    }
    let candidates = tm.candidates(indicators);
    let Some(first) = hits.iter().map(|h| h.0).min() else {
        return Ok(Vec::new());
    };
    if candidates.is_empty() {
        return Ok(Vec::new());
    }
    let start = baseline.map_or(first, |b| b.max(first));
    let interval = tm.schedule.interval_ms;
    let index = ValueIndex::new(&tm.mapping, &candidates);
    let mut visible_at: HashMap<i64, Vec<bool>> = HashMap::new();
    let mut alerts = Vec::new();
    for (ts, i) in hits {
        // Executions whose window (run - lookback, run] holds the event, earliest first.
        let k0 = if ts <= start {
            0
        } else {
            (ts - start + interval - 1) / interval
        };
        let mut run = start + k0 * interval;
        while run - tm.schedule.lookback_ms <= ts {
            let visible = visible_at
                .entry(run)
                .or_insert_with(|| tm.visible(&candidates, run));
            let enrichments = tm.enrich(&events.values[i], &candidates, &index, visible);
            if !enrichments.is_empty() {
                alerts.push(Alert {
                    events: vec![Some(AlertEvent {
                        file: events.path.clone(),
                        position: events.positions[i],
                        index: i,
                    })],
                    detail: Detail::ThreatMatch { enrichments },
                });
                break;
            }
            run += interval;
        }
    }
    alerts.sort_by_key(|a| a.events.first().cloned().flatten().map(|e| e.index));
    Ok(alerts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(field: &str, value: &str, negate: bool) -> MappingEntry {
        MappingEntry {
            field: FieldPath::new(field),
            value: FieldPath::new(value),
            negate,
        }
    }

    #[test]
    fn entries_are_and_ed_and_negation_requires_no_equal_value() {
        let group = vec![
            entry("destination.ip", "threat.indicator.ip", false),
            entry("destination.port", "threat.indicator.port", false),
        ];
        let ev = json!({"destination": {"ip": "203.0.113.9", "port": 443}});
        let same = json!({"threat": {"indicator": {"ip": "203.0.113.9", "port": 443}}});
        let other_port = json!({"threat": {"indicator": {"ip": "203.0.113.9", "port": 8443}}});
        let hits = group_hits(&group, &ev, &same).expect("both entries hold");
        assert_eq!(hits.len(), 2);
        assert_eq!(hits[0].1, json!("203.0.113.9"));
        assert!(
            group_hits(&group, &ev, &other_port).is_none(),
            "AND within a group"
        );
        let negated = vec![
            entry("destination.ip", "threat.indicator.ip", false),
            entry("destination.port", "threat.indicator.port", true),
        ];
        assert!(group_hits(&negated, &ev, &same).is_none());
        let hits = group_hits(&negated, &ev, &other_port).expect("port differs");
        assert_eq!(hits.len(), 1, "negated entries are not enrichments");
    }

    #[test]
    fn multi_valued_fields_match_on_any_value_case_sensitively() {
        let group = vec![entry(
            "related.hash",
            "threat.indicator.file.hash.sha256",
            false,
        )];
        let ev = json!({"related": {"hash": ["aa", "BB"]}});
        let ind = json!({"threat": {"indicator": {"file": {"hash": {"sha256": ["bb", "BB"]}}}}});
        assert_eq!(group_hits(&group, &ev, &ind).unwrap()[0].1, json!("BB"));
        let lower = json!({"threat": {"indicator": {"file": {"hash": {"sha256": "bb"}}}}});
        assert!(group_hits(&group, &ev, &lower).is_none());
    }
}
