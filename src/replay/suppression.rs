//! `alert_suppression`, applied to replayed alerts as Kibana's detection engine applies it.
//!
//! Rule types (Kibana 8.18 and later, which every supported stack is): custom query, EQL
//! (event queries and sequences), threshold (`duration` only; the group is the threshold
//! bucket), new_terms, indicator match and ES|QL are replayed with it; machine_learning
//! supports it in Kibana but is not replayed.
//!
//! The model (Kibana's in-memory suppression, `bulkCreateSuppressedAlertsInMemory` and the
//! persistence wrapper):
//! - Each alert belongs to the execution that raises it: the first simulated run (every
//!   `interval` over the recording's own time, as for threshold) at or after its newest event.
//! - Its group is the values of the `group_by` fields: per field, the event's values sorted as
//!   text (a multi-valued field is one value, the sorted list), or missing. A sequence's values
//!   are those its events agree on (Kibana's shell alert keeps the fields common to all of its
//!   events); a threshold alert's group is its bucket's terms.
//! - `missing_fields_strategy = "suppress"`: events missing a field group together (the field
//!   counts as null); `"doNotSuppress"`: an alert missing any field is raised on its own, never
//!   suppressed.
//! - Without `duration`, alerts of one group are suppressed within one execution: the first
//!   (in event order) is raised, the others counted into it. With `duration`, a raised alert
//!   also absorbs its group's alerts of later executions while its start (the execution that
//!   raised it) is within `duration` of the execution: `start >= run - duration`. After that a
//!   new alert is raised and the window starts again from it.
//! - The raised alert carries the group (`kibana.alert.suppression.terms`) and the count of
//!   alerts it absorbed (`kibana.alert.suppression.docs_count`).

use super::schedule::Schedule;
use super::{Alert, AlertEvent, Detail, NotReplayable};
use crate::diag::Diagnostic;
use crate::event::EventFile;
use crate::query::FieldPath;
use crate::rule::{Rule, RuleType};
use serde_json::Value;
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MissingFields {
    Suppress,
    DoNotSuppress,
}

/// A rule's `[rule.alert_suppression]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Suppression {
    /// Empty for threshold rules (their group is the threshold bucket).
    pub group_by: Vec<String>,
    pub duration_ms: Option<i64>,
    pub missing: MissingFields,
}

/// A raised alert that carries suppression: its own detail, its group and what it absorbed.
#[derive(Debug, Clone, PartialEq)]
pub struct Suppressed {
    pub detail: Detail,
    /// Per group field, the group's value (`None`: missing).
    pub terms: Vec<(String, Option<Value>)>,
    /// `docs_count`: how many alerts were suppressed into this one.
    pub docs_count: usize,
    /// The first event of each suppressed alert, in order.
    pub suppressed: Vec<AlertEvent>,
}

fn invalid(rule: &Rule, path: &str, message: String) -> NotReplayable {
    NotReplayable::Invalid(vec![
        Diagnostic::error("RT016", format!("alert_suppression: {message}"))
            .at(&rule.path, Some(rule.span_of(path))),
    ])
}

/// Reads `[rule.alert_suppression]`; `None` when absent. Values Kibana would refuse are errors
/// located in the rule.
pub fn of_rule(rule: &Rule) -> Result<Option<Suppression>, NotReplayable> {
    const P: &str = "rule.alert_suppression";
    let Some(node) = rule.tree.path(P) else {
        return Ok(None);
    };
    let threshold = rule.rule_type == Some(RuleType::Threshold);
    let group_by: Vec<String> = node
        .strings("group_by")
        .into_iter()
        .map(String::from)
        .collect();
    if threshold {
        if node.get("group_by").is_some() || node.get("missing_fields_strategy").is_some() {
            return Err(invalid(
                rule,
                P,
                "threshold rules suppress by their threshold fields: only `duration` is accepted"
                    .into(),
            ));
        }
    } else if group_by.is_empty() || group_by.len() > 3 || group_by.iter().any(|g| g.is_empty()) {
        return Err(invalid(
            rule,
            &format!("{P}.group_by"),
            "`group_by` needs 1 to 3 field names".into(),
        ));
    }
    let missing = match node.get("missing_fields_strategy").and_then(|n| n.as_str()) {
        None | Some("suppress") => MissingFields::Suppress,
        Some("doNotSuppress") => MissingFields::DoNotSuppress,
        Some(other) => {
            return Err(invalid(
                rule,
                &format!("{P}.missing_fields_strategy"),
                format!(
                    "missing_fields_strategy {other:?} is neither \"suppress\" nor \"doNotSuppress\""
                ),
            ));
        }
    };
    let duration_ms = duration_of(rule, node.get("duration"))?;
    if threshold && duration_ms.is_none() {
        return Err(invalid(
            rule,
            P,
            "threshold suppression needs a `duration`".into(),
        ));
    }
    Ok(Some(Suppression {
        group_by,
        duration_ms,
        missing,
    }))
}

/// `[rule.alert_suppression.duration]` in milliseconds; `None` when absent.
fn duration_of(
    rule: &Rule,
    duration: Option<&crate::rule::tree::Node>,
) -> Result<Option<i64>, NotReplayable> {
    let path = "rule.alert_suppression.duration";
    let Some(d) = duration else {
        return Ok(None);
    };
    let value = d.get("value").and_then(|n| n.as_int()).filter(|v| *v >= 1);
    let unit = match d.get("unit").and_then(|n| n.as_str()) {
        Some("s") => 1_000,
        Some("m") => 60_000,
        Some("h") => 3_600_000,
        _ => 0,
    };
    match (value, unit) {
        (Some(v), u) if u > 0 => Ok(Some(v.saturating_mul(u))),
        (_, 0) if d.get("unit").is_some() => Err(invalid(
            rule,
            &format!("{path}.unit"),
            "`duration.unit` must be s, m or h".into(),
        )),
        (None, _) if d.get("value").is_some() => Err(invalid(
            rule,
            &format!("{path}.value"),
            "`duration.value` must be an integer >= 1".into(),
        )),
        _ => Err(invalid(
            rule,
            path,
            "`duration` needs `value` >= 1 and `unit` s, m or h".into(),
        )),
    }
}

/// Value of one group field on an event: its values as text, sorted (Kibana's
/// `value.map(String).sort()`), one value as itself; `None` when missing.
fn group_value(event: &Value, field: &FieldPath) -> Option<Value> {
    group_of(field.values(event))
}

fn group_of(values: Vec<&Value>) -> Option<Value> {
    let mut vals: Vec<String> = values
        .into_iter()
        .flat_map(|v| match v {
            Value::Array(items) => items.iter().collect(),
            v => vec![v],
        })
        .filter(|v| !v.is_null())
        .map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect();
    vals.sort();
    match vals.len() {
        0 => None,
        1 => Some(Value::String(vals.remove(0))),
        _ => Some(Value::Array(vals.into_iter().map(Value::String).collect())),
    }
}

impl Suppression {
    fn terms(&self, alert: &Alert, events: &EventFile) -> Vec<(String, Option<Value>)> {
        if let Detail::Threshold { terms, .. } = &alert.detail {
            return terms
                .iter()
                .map(|(f, v)| (f.clone(), Some(v.clone())))
                .collect();
        }
        if let Detail::Esql(row) = &alert.detail {
            // An ES|QL alert is its row's columns (over its source event's fields).
            return self
                .group_by
                .iter()
                .map(|g| {
                    let from_row = row.values.iter().find(|(c, _)| c == g).map(|(_, v)| v);
                    let from_event = alert
                        .events
                        .iter()
                        .flatten()
                        .next()
                        .and_then(|e| group_value(&events.values[e.index], &FieldPath::new(g)));
                    let v = match from_row {
                        Some(v) => group_of(vec![v]),
                        None => from_event,
                    };
                    (g.clone(), v)
                })
                .collect();
        }
        let evs: Vec<&Value> = alert
            .events
            .iter()
            .flatten()
            .map(|e| &events.values[e.index])
            .collect();
        self.group_by
            .iter()
            .map(|g| {
                let path = FieldPath::new(g);
                let mut vals = evs.iter().map(|e| group_value(e, &path));
                // A sequence keeps only what all its events agree on.
                let first = vals.next().flatten();
                let agreed = vals.all(|v| v == first);
                (g.clone(), if agreed { first } else { None })
            })
            .collect()
    }
}

/// The execution grid of a recording: runs at `start + k * interval`.
#[derive(Debug, Clone, Copy)]
pub struct Grid {
    pub start: i64,
    pub interval_ms: i64,
}

impl Grid {
    /// The first run at or after `t`.
    pub fn run_of(&self, t: i64) -> i64 {
        if t <= self.start {
            return self.start;
        }
        let k = (t - self.start + self.interval_ms - 1) / self.interval_ms;
        self.start + k * self.interval_ms
    }
}

/// The time of an alert: its newest event (an ES|QL alert's: the execution that raised it).
fn alert_time(alert: &Alert, events: &EventFile, schedule: &Schedule) -> Option<i64> {
    if let Detail::Esql(row) = &alert.detail {
        return Some(row.run);
    }
    alert
        .events
        .iter()
        .flatten()
        .filter_map(|e| schedule.event_time(events, e.index))
        .max()
}

/// Applies suppression to a rule's alerts on one recording (in the order the replay raised
/// them). Alerts without a usable time belong to the first execution.
pub fn apply(
    sup: &Suppression,
    alerts: Vec<Alert>,
    events: &EventFile,
    schedule: &Schedule,
    grid: Grid,
) -> Vec<Alert> {
    let mut order: Vec<(i64, usize, Alert)> = alerts
        .into_iter()
        .enumerate()
        .map(|(n, a)| {
            let t = alert_time(&a, events, schedule).unwrap_or(grid.start);
            (grid.run_of(t), n, a)
        })
        .collect();
    order.sort_by_key(|(run, n, _)| (*run, *n));
    // Group key → (position in `out`, execution that raised it).
    let mut open: HashMap<String, (usize, i64)> = HashMap::new();
    let mut out: Vec<(usize, Alert)> = Vec::new();
    for (run, n, alert) in order {
        let terms = sup.terms(&alert, events);
        let missing = terms.iter().any(|(_, v)| v.is_none());
        if missing && sup.missing == MissingFields::DoNotSuppress {
            out.push((n, alert));
            continue;
        }
        let key = serde_json::to_string(&terms).unwrap_or_default();
        let absorbs =
            |started: i64| started == run || sup.duration_ms.is_some_and(|d| started >= run - d);
        if let Some(&(pos, _)) = open.get(&key).filter(|(_, s)| absorbs(*s)) {
            if let Detail::Suppressed(s) = &mut out[pos].1.detail {
                s.docs_count += 1;
                if let Some(Some(first)) = alert.events.first() {
                    s.suppressed.push(first.clone());
                }
            }
            continue;
        }
        open.insert(key, (out.len(), run));
        out.push((
            n,
            Alert {
                events: alert.events,
                detail: Detail::Suppressed(Box::new(Suppressed {
                    detail: alert.detail,
                    terms,
                    docs_count: 0,
                    suppressed: Vec::new(),
                })),
            },
        ));
    }
    out.sort_by_key(|(n, _)| *n);
    out.into_iter().map(|(_, a)| a).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::path::PathBuf;

    fn recording(events: &[(i64, Value)]) -> EventFile {
        EventFile::from_parts(
            PathBuf::from("r.ndjson"),
            events.iter().map(|(_, v)| v.clone()).collect(),
            (1..=events.len()).collect(),
            events.iter().map(|(t, _)| Some(*t)).collect(),
        )
    }

    fn event_alert(i: usize) -> Alert {
        Alert {
            events: vec![Some(AlertEvent {
                file: PathBuf::from("r.ndjson"),
                position: i + 1,
                index: i,
            })],
            detail: Detail::Event,
        }
    }

    fn schedule() -> Schedule {
        Schedule {
            interval_ms: 300_000,
            lookback_ms: 360_000,
            time_field: None,
        }
    }

    fn sup(duration_ms: Option<i64>, missing: MissingFields) -> Suppression {
        Suppression {
            group_by: vec!["host.name".into()],
            duration_ms,
            missing,
        }
    }

    /// (first event index, docs_count) of each alert, or (index, usize::MAX) unsuppressed.
    fn shape(alerts: &[Alert]) -> Vec<(usize, usize)> {
        alerts
            .iter()
            .map(|a| {
                let i = a.events[0].as_ref().unwrap().index;
                match &a.detail {
                    Detail::Suppressed(s) => (i, s.docs_count),
                    _ => (i, usize::MAX),
                }
            })
            .collect()
    }

    const MIN: i64 = 60_000;

    fn five_events() -> EventFile {
        // a at 0, 1m, 7m (next execution), 40m (much later); b at 2m.
        recording(&[
            (0, json!({"host": {"name": "a"}})),
            (MIN, json!({"host": {"name": "a"}})),
            (2 * MIN, json!({"host": {"name": "b"}})),
            (7 * MIN, json!({"host": {"name": "a"}})),
            (40 * MIN, json!({"host": {"name": "a"}})),
        ])
    }

    #[test]
    fn per_execution_suppression_groups_only_within_one_run() {
        let ev = five_events();
        let alerts = (0..5).map(event_alert).collect();
        let grid = Grid {
            start: 0,
            interval_ms: 5 * MIN,
        };
        let out = apply(
            &sup(None, MissingFields::Suppress),
            alerts,
            &ev,
            &schedule(),
            grid,
        );
        // Runs: 0 → {0}; 5m → {1 (a), 2 (b)}; 10m → {3}; 40m → {4}.
        assert_eq!(shape(&out), vec![(0, 0), (1, 0), (2, 0), (3, 0), (4, 0)]);
        let ev = recording(&[
            (MIN, json!({"host": {"name": "a"}})),
            (2 * MIN, json!({"host": {"name": "a"}})),
            (3 * MIN, json!({"host": {"name": "b"}})),
        ]);
        let out = apply(
            &sup(None, MissingFields::Suppress),
            (0..3).map(event_alert).collect(),
            &ev,
            &schedule(),
            Grid {
                start: 0,
                interval_ms: 5 * MIN,
            },
        );
        assert_eq!(shape(&out), vec![(0, 1), (2, 0)]);
    }

    #[test]
    fn esql_rows_group_by_their_columns_and_belong_to_their_execution() {
        use crate::replay::esql::EsqlRow;
        let ev = recording(&[(0, json!({"host": {"name": "from-event"}}))]);
        // Aggregate rows: no source event; the group comes from the row, the execution is
        // the row's own (not an event time).
        let row = |run: i64, host: &str| Alert {
            events: Vec::new(),
            detail: Detail::Esql(Box::new(EsqlRow {
                run,
                values: vec![("host.name".into(), json!(host)), ("n".into(), json!(7))],
                file: "r.ndjson".into(),
            })),
        };
        let alerts = vec![row(5 * MIN, "a"), row(5 * MIN, "a"), row(10 * MIN, "a")];
        let grid = Grid {
            start: 0,
            interval_ms: 5 * MIN,
        };
        let out = apply(
            &sup(None, MissingFields::Suppress),
            alerts,
            &ev,
            &schedule(),
            grid,
        );
        let counts: Vec<usize> = out
            .iter()
            .map(|a| match &a.detail {
                Detail::Suppressed(s) => {
                    assert_eq!(s.terms, vec![("host.name".into(), Some(json!("a")))]);
                    s.docs_count
                }
                _ => usize::MAX,
            })
            .collect();
        // Same execution: suppressed into one; the next execution raises its own.
        assert_eq!(counts, vec![1, 0]);
        // A column the row lacks is read from its source event.
        let with_event = Alert {
            events: vec![Some(AlertEvent {
                file: PathBuf::from("r.ndjson"),
                position: 1,
                index: 0,
            })],
            detail: Detail::Esql(Box::new(EsqlRow {
                run: 0,
                values: vec![("n".into(), json!(1))],
                file: "r.ndjson".into(),
            })),
        };
        let terms = sup(None, MissingFields::Suppress).terms(&with_event, &ev);
        assert_eq!(terms, vec![("host.name".into(), Some(json!("from-event")))]);
    }

    #[test]
    fn a_duration_window_runs_from_the_raising_execution() {
        let ev = five_events();
        let grid = Grid {
            start: 0,
            interval_ms: 5 * MIN,
        };
        let out = apply(
            &sup(Some(30 * MIN), MissingFields::Suppress),
            (0..5).map(event_alert).collect(),
            &ev,
            &schedule(),
            grid,
        );
        // a raised at run 0 absorbs 1 (run 5m) and 3 (run 10m); 4 (run 40m) is past 0 + 30m.
        assert_eq!(shape(&out), vec![(0, 2), (2, 0), (4, 0)]);
        let Detail::Suppressed(s) = &out[0].detail else {
            panic!("suppressed")
        };
        assert_eq!(s.terms, vec![("host.name".to_string(), Some(json!("a")))]);
        let absorbed: Vec<usize> = s.suppressed.iter().map(|e| e.index).collect();
        assert_eq!(absorbed, vec![1, 3]);
    }

    #[test]
    fn missing_fields_group_together_or_stand_alone() {
        let ev = recording(&[
            (0, json!({"user": "x"})),
            (MIN, json!({"user": "y"})),
            (2 * MIN, json!({"host": {"name": "a"}})),
        ]);
        let grid = Grid {
            start: 5 * MIN,
            interval_ms: 5 * MIN,
        };
        let alerts = || (0..3).map(event_alert).collect();
        let together = apply(
            &sup(None, MissingFields::Suppress),
            alerts(),
            &ev,
            &schedule(),
            grid,
        );
        assert_eq!(shape(&together), vec![(0, 1), (2, 0)]);
        let apart = apply(
            &sup(None, MissingFields::DoNotSuppress),
            alerts(),
            &ev,
            &schedule(),
            grid,
        );
        assert_eq!(
            shape(&apart),
            vec![(0, usize::MAX), (1, usize::MAX), (2, 0)]
        );
    }

    #[test]
    fn multi_valued_fields_are_one_sorted_value_and_sequences_keep_agreed_values() {
        let a = json!({"host": {"name": ["n2", "n1"]}});
        assert_eq!(
            group_value(&a, &FieldPath::new("host.name")),
            Some(json!(["n1", "n2"]))
        );
        let ev = recording(&[
            (0, json!({"host": {"name": "a"}, "user": {"name": "u1"}})),
            (MIN, json!({"host": {"name": "a"}, "user": {"name": "u2"}})),
        ]);
        let seq = Alert {
            events: vec![
                event_alert(0).events[0].clone(),
                event_alert(1).events[0].clone(),
            ],
            detail: Detail::Sequence { join_keys: vec![] },
        };
        let s = Suppression {
            group_by: vec!["host.name".into(), "user.name".into()],
            duration_ms: None,
            missing: MissingFields::Suppress,
        };
        assert_eq!(
            s.terms(&seq, &ev),
            vec![
                ("host.name".to_string(), Some(json!("a"))),
                ("user.name".to_string(), None)
            ]
        );
    }
}
