//! Simulated rule executions over a recording's own time, for the rule types whose outcome
//! depends on the schedule (threshold windows, new_terms history).

use super::{Alert, AlertEvent, Detail, ReplayError};
use crate::event::EventFile;
use crate::query::{FieldPath, kql};
use crate::rule::{Rule, Threshold};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub interval_ms: i64,
    pub lookback_ms: i64,
    pub time_field: Option<FieldPath>,
}

/// The event time a rule's windows use: `timestamp_override` (usually `event.ingested`) when
/// set and present on the event, else the recording's `@timestamp`.
fn event_time(events: &EventFile, i: usize, time_field: Option<&FieldPath>) -> Option<i64> {
    time_field
        .and_then(|f| f.first(&events.values[i]))
        .and_then(crate::event::parse_timestamp)
        .or(events.timestamps[i])
}

impl Schedule {
    /// Kibana defaults: `interval = "5m"`, `from = "now-6m"`.
    pub fn of(rule: &Rule) -> Result<Schedule, String> {
        let interval_ms = parse_duration(rule.interval.as_deref().unwrap_or("5m"))?;
        let lookback_ms = parse_now_minus(rule.from.as_deref().unwrap_or("now-6m"))?;
        if interval_ms <= 0 {
            return Err("interval must be positive".into());
        }
        Ok(Schedule {
            interval_ms,
            lookback_ms,
            time_field: rule
                .tree
                .str_at("rule.timestamp_override")
                .map(FieldPath::new),
        })
    }

    /// The time this rule's windows place event `i` at (`timestamp_override`, else the
    /// recording's `@timestamp`).
    pub fn event_time(&self, events: &EventFile, i: usize) -> Option<i64> {
        event_time(events, i, self.time_field.as_ref())
    }

    /// [`Schedule::event_time`], where an event without a usable time is an error of `what`
    /// (a rule kind) at its position: a silently dropped event could be a lost detection.
    pub fn required_time(
        &self,
        events: &EventFile,
        i: usize,
        what: &'static str,
    ) -> Result<i64, ReplayError> {
        self.event_time(events, i)
            .ok_or_else(|| ReplayError::NoTimestamp {
                file: events.path.clone(),
                position: events.positions[i],
                what,
            })
    }

    /// As [`Schedule::event_time`], for one event and its recording `@timestamp`.
    pub fn time_of(&self, event: &Value, timestamp: Option<i64>) -> Option<i64> {
        self.time_field
            .as_ref()
            .and_then(|f| f.first(event))
            .and_then(crate::event::parse_timestamp)
            .or(timestamp)
    }

    /// Execution times covering `[first, last]`: the first run ends at the first event, or at
    /// the baseline when the rule starts later.
    fn runs(&self, first: i64, last: i64, baseline: Option<i64>) -> impl Iterator<Item = i64> + '_ {
        let start = baseline.map_or(first, |b| b.max(first));
        let n = if last < start {
            0
        } else {
            (last - start) / self.interval_ms + 1
        };
        (0..=n).map(move |k| start + k * self.interval_ms)
    }
}

/// `5m`, `1h`, `30s`, `2d` → milliseconds.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("duration {s:?} has no unit"))?;
    let (num, unit) = s.split_at(split);
    let n: i64 = num
        .parse()
        .map_err(|_| format!("duration {s:?} has no number"))?;
    let unit_ms = match unit {
        "s" => 1_000,
        "m" => 60_000,
        "h" | "H" => 3_600_000,
        "d" => 86_400_000,
        "w" => 7 * 86_400_000,
        "M" => 30 * 86_400_000,
        "y" => 365 * 86_400_000,
        _ => return Err(format!("duration {s:?} has an unknown unit `{unit}`")),
    };
    n.checked_mul(unit_ms)
        .ok_or_else(|| format!("duration {s:?} is too large"))
}

/// `now-9m` → 9 minutes in milliseconds. `now` → 0.
pub fn parse_now_minus(s: &str) -> Result<i64, String> {
    let s = s.trim();
    if s == "now" {
        return Ok(0);
    }
    let rest = s
        .strip_prefix("now-")
        .ok_or_else(|| format!("{s:?} is not date math of the form now-<n><unit>"))?;
    parse_duration(rest)
}

/// Matching events with their timestamps, in time order (ties by position).
fn matching(
    filter: &kql::Compiled,
    events: &EventFile,
    schedule: &Schedule,
    what: &'static str,
) -> Result<Vec<(i64, usize)>, ReplayError> {
    let mut out = Vec::new();
    for i in 0..events.len() {
        if filter.matches(&events.values[i]) {
            let ts = schedule.required_time(events, i, what)?;
            out.push((ts, i));
        }
    }
    out.sort();
    Ok(out)
}

/// Every combination of the fields' values (a multi-valued field contributes each value).
/// `None` when a field is missing: such events do not fall in any bucket.
fn combinations(event: &Value, fields: &[FieldPath]) -> Option<Vec<Vec<Value>>> {
    let mut combos: Vec<Vec<Value>> = vec![Vec::new()];
    for f in fields {
        let mut vals: Vec<Value> = f.values(event).into_iter().cloned().collect();
        vals.dedup();
        if vals.is_empty() {
            return None;
        }
        combos = combos
            .into_iter()
            .flat_map(|c| {
                vals.iter().map(move |v| {
                    let mut c = c.clone();
                    c.push(v.clone());
                    c
                })
            })
            .collect();
    }
    Some(combos)
}

fn key_of(values: &[Value]) -> String {
    serde_json::to_string(values).unwrap_or_default()
}

pub fn threshold(
    filter: &kql::Compiled,
    threshold: &Threshold,
    schedule: &Schedule,
    events: &EventFile,
    baseline: Option<i64>,
) -> Result<Vec<Alert>, ReplayError> {
    let hits = matching(filter, events, schedule, "a threshold rule")?;
    let (Some(&(first, _)), Some(&(last, _))) = (hits.first(), hits.last()) else {
        return Ok(Vec::new());
    };
    let fields: Vec<FieldPath> = threshold.fields.iter().map(|f| FieldPath::new(f)).collect();
    let cardinality: Vec<(FieldPath, i64)> = threshold
        .cardinality
        .iter()
        .map(|(f, v)| (FieldPath::new(f), *v))
        .collect();
    // Per bucket: events after which the bucket may alert again.
    let mut alerted_until: HashMap<String, i64> = HashMap::new();
    let mut alerts = Vec::new();
    for run in schedule.runs(first, last, baseline) {
        let start = run - schedule.lookback_ms;
        let mut buckets: BTreeMap<String, (Vec<Value>, Vec<usize>, i64)> = BTreeMap::new();
        for &(ts, i) in hits.iter().filter(|(ts, _)| *ts >= start && *ts <= run) {
            let Some(combos) = combinations(&events.values[i], &fields) else {
                continue;
            };
            for combo in combos {
                let key = key_of(&combo);
                if alerted_until.get(&key).is_some_and(|&t| ts <= t) {
                    continue;
                }
                let b = buckets
                    .entry(key)
                    .or_insert_with(|| (combo, Vec::new(), ts));
                b.1.push(i);
                b.2 = b.2.max(ts);
            }
        }
        for (key, (terms, idx, newest)) in buckets {
            if (idx.len() as i64) < threshold.value {
                continue;
            }
            let distinct_ok = cardinality.iter().all(|(f, min)| {
                let mut seen = HashSet::new();
                for &i in &idx {
                    for v in f.values(&events.values[i]) {
                        seen.insert(v.to_string());
                    }
                }
                seen.len() as i64 >= *min
            });
            if !distinct_ok {
                continue;
            }
            alerted_until.insert(key, newest);
            alerts.push(Alert {
                events: idx
                    .iter()
                    .map(|&i| {
                        Some(AlertEvent {
                            file: events.path.clone(),
                            position: events.positions[i],
                            index: i,
                        })
                    })
                    .collect(),
                detail: Detail::Threshold {
                    terms: threshold.fields.iter().cloned().zip(terms).collect(),
                    count: idx.len(),
                },
            });
        }
    }
    Ok(alerts)
}

pub fn new_terms(
    filter: &kql::Compiled,
    fields: &[FieldPath],
    history_ms: i64,
    schedule: &Schedule,
    events: &EventFile,
    baseline: Option<i64>,
) -> Result<Vec<Alert>, ReplayError> {
    let hits = matching(filter, events, schedule, "a new_terms rule")?;
    let (Some(&(first, _)), Some(&(last, _))) = (hits.first(), hits.last()) else {
        return Ok(Vec::new());
    };
    // Every time each term combination was seen, in time order.
    let mut seen_at: HashMap<String, Vec<i64>> = HashMap::new();
    let mut per_event: Vec<(i64, usize, Vec<Vec<Value>>)> = Vec::new();
    for &(ts, i) in &hits {
        if let Some(combos) = combinations(&events.values[i], fields) {
            for c in &combos {
                seen_at.entry(key_of(c)).or_default().push(ts);
            }
            per_event.push((ts, i, combos));
        }
    }
    let mut alerted: HashSet<String> = HashSet::new();
    let mut alerts = Vec::new();
    for run in schedule.runs(first, last, baseline) {
        let start = run - schedule.lookback_ms;
        let history_start = run - history_ms;
        for (_, i, combos) in per_event
            .iter()
            .filter(|(ts, _, _)| *ts >= start && *ts <= run)
        {
            for combo in combos {
                let key = key_of(combo);
                if alerted.contains(&key) {
                    continue;
                }
                // Seen in the history window [history_start, start) → not new.
                let in_history = seen_at
                    .get(&key)
                    .is_some_and(|times| times.iter().any(|&t| t >= history_start && t < start));
                if in_history {
                    continue;
                }
                alerted.insert(key);
                alerts.push(Alert {
                    events: vec![Some(AlertEvent {
                        file: events.path.clone(),
                        position: events.positions[*i],
                        index: *i,
                    })],
                    detail: Detail::NewTerms {
                        values: fields
                            .iter()
                            .map(|f| f.as_str().to_string())
                            .zip(combo.iter().cloned())
                            .collect(),
                    },
                });
            }
        }
    }
    alerts.sort_by_key(|a| a.events.first().cloned().flatten().map(|e| e.index));
    Ok(alerts)
}

/// What a [`Rolling`] simulation evaluates.
pub enum Aggregation<'a> {
    Threshold(&'a Threshold),
    NewTerms {
        fields: &'a [FieldPath],
        history_ms: i64,
    },
}

/// The executions of a threshold / new_terms rule simulated piece by piece while a recording
/// streams by in time order, so that only the events a future execution can read are kept.
///
/// [`Rolling::advance`] simulates the runs that end before `until` (no later event can fall in
/// their windows when the stream is in time order) and says before which time events are no
/// longer needed; the caller drops those and calls again as more arrive, then once with
/// `until = None` at the end. The result equals [`threshold`] / [`new_terms`] over the whole
/// recording: a run reads only its window `[run - lookback, run]`; what it leaves behind is
/// per bucket the newest alerted event (threshold) and per term whether it alerted and the last
/// time it was seen (new_terms history), bounded by the distinct buckets and terms.
#[derive(Debug, Default)]
pub struct Rolling {
    /// The first run and the next one to simulate, once some run was simulated.
    grid: Option<(i64, i64)>,
    /// Threshold: per bucket, events up to this time no longer count.
    alerted_until: HashMap<String, i64>,
    /// new_terms: terms that alerted, and per term the last time seen among dropped events.
    alerted: HashSet<String>,
    last_seen: HashMap<String, i64>,
}

/// Alerts of [`Rolling::advance`] (indexing its `events`) and the time before which events
/// can be dropped (`None`: keep them all).
pub type Advanced = (Vec<Alert>, Option<i64>);

impl Rolling {
    /// The last run simulated: an event at or before it arriving now could change the past.
    pub fn settled(&self, schedule: &Schedule) -> Option<i64> {
        self.grid.map(|(_, next)| next - schedule.interval_ms)
    }

    /// Simulates the runs ending before `until` (every run left when `None`: the recording
    /// ended) over `events`, every event kept since the last call's drop time, in any order.
    pub fn advance(
        &mut self,
        agg: &Aggregation<'_>,
        filter: &kql::Compiled,
        schedule: &Schedule,
        events: &EventFile,
        baseline: Option<i64>,
        until: Option<i64>,
    ) -> Result<Advanced, ReplayError> {
        let what = match agg {
            Aggregation::Threshold(_) => "a threshold rule",
            Aggregation::NewTerms { .. } => "a new_terms rule",
        };
        let hits = matching(filter, events, schedule, what)?;
        let (Some(&(first, _)), Some(&(last, _))) = (hits.first(), hits.last()) else {
            return Ok((Vec::new(), None));
        };
        let (start, mut run) = self.grid.unwrap_or_else(|| {
            let s = baseline.map_or(first, |b| b.max(first));
            (s, s)
        });
        // As [`Schedule::runs`]: the last run is the first one after the last event.
        let n = if last < start {
            0
        } else {
            (last - start) / schedule.interval_ms + 1
        };
        let end = start + n * schedule.interval_ms;
        let mut runs = Vec::new();
        while run <= end && until.is_none_or(|u| run < u) {
            runs.push(run);
            run += schedule.interval_ms;
        }
        if runs.is_empty() {
            return Ok((Vec::new(), None));
        }
        self.grid = Some((start, run));
        let mut alerts = match agg {
            Aggregation::Threshold(t) => self.threshold_runs(t, schedule, events, &hits, &runs),
            Aggregation::NewTerms { fields, history_ms } => {
                self.new_terms_runs(fields, *history_ms, schedule, events, &hits, &runs)
            }
        };
        if matches!(agg, Aggregation::NewTerms { .. }) {
            alerts.sort_by_key(|a| a.events.first().cloned().flatten().map(|e| e.index));
        }
        // No later run's window reaches before `drop`; what later runs need of older events
        // is folded into the state.
        let drop = run - schedule.lookback_ms;
        self.alerted_until.retain(|_, t| *t >= drop);
        if let Aggregation::NewTerms { fields, .. } = agg {
            for &(ts, i) in hits.iter().take_while(|(ts, _)| *ts < drop) {
                for c in combinations(&events.values[i], fields).unwrap_or_default() {
                    let t = self.last_seen.entry(key_of(&c)).or_insert(ts);
                    *t = (*t).max(ts);
                }
            }
        }
        Ok((alerts, Some(drop)))
    }

    /// As [`threshold`], over the given runs.
    fn threshold_runs(
        &mut self,
        threshold: &Threshold,
        schedule: &Schedule,
        events: &EventFile,
        hits: &[(i64, usize)],
        runs: &[i64],
    ) -> Vec<Alert> {
        let fields: Vec<FieldPath> = threshold.fields.iter().map(|f| FieldPath::new(f)).collect();
        let cardinality: Vec<(FieldPath, i64)> = threshold
            .cardinality
            .iter()
            .map(|(f, v)| (FieldPath::new(f), *v))
            .collect();
        let mut alerts = Vec::new();
        for &run in runs {
            let start = run - schedule.lookback_ms;
            let mut buckets: BTreeMap<String, (Vec<Value>, Vec<usize>, i64)> = BTreeMap::new();
            for &(ts, i) in hits.iter().filter(|(ts, _)| *ts >= start && *ts <= run) {
                let Some(combos) = combinations(&events.values[i], &fields) else {
                    continue;
                };
                for combo in combos {
                    let key = key_of(&combo);
                    if self.alerted_until.get(&key).is_some_and(|&t| ts <= t) {
                        continue;
                    }
                    let b = buckets
                        .entry(key)
                        .or_insert_with(|| (combo, Vec::new(), ts));
                    b.1.push(i);
                    b.2 = b.2.max(ts);
                }
            }
            for (key, (terms, idx, newest)) in buckets {
                if (idx.len() as i64) < threshold.value {
                    continue;
                }
                let distinct_ok = cardinality.iter().all(|(f, min)| {
                    let mut seen = HashSet::new();
                    for &i in &idx {
                        for v in f.values(&events.values[i]) {
                            seen.insert(v.to_string());
                        }
                    }
                    seen.len() as i64 >= *min
                });
                if !distinct_ok {
                    continue;
                }
                self.alerted_until.insert(key, newest);
                alerts.push(Alert {
                    events: idx.iter().map(|&i| Some(alert_event(events, i))).collect(),
                    detail: Detail::Threshold {
                        terms: threshold.fields.iter().cloned().zip(terms).collect(),
                        count: idx.len(),
                    },
                });
            }
        }
        alerts
    }

    /// As [`new_terms`], over the given runs; the history also holds the dropped events'
    /// last times.
    fn new_terms_runs(
        &mut self,
        fields: &[FieldPath],
        history_ms: i64,
        schedule: &Schedule,
        events: &EventFile,
        hits: &[(i64, usize)],
        runs: &[i64],
    ) -> Vec<Alert> {
        let mut seen_at: HashMap<String, Vec<i64>> = HashMap::new();
        let mut per_event: Vec<(i64, usize, Vec<Vec<Value>>)> = Vec::new();
        for &(ts, i) in hits {
            if let Some(combos) = combinations(&events.values[i], fields) {
                for c in &combos {
                    seen_at.entry(key_of(c)).or_default().push(ts);
                }
                per_event.push((ts, i, combos));
            }
        }
        let mut alerts = Vec::new();
        for &run in runs {
            let start = run - schedule.lookback_ms;
            let history_start = run - history_ms;
            for (_, i, combos) in per_event
                .iter()
                .filter(|(ts, _, _)| *ts >= start && *ts <= run)
            {
                for combo in combos {
                    let key = key_of(combo);
                    if self.alerted.contains(&key) {
                        continue;
                    }
                    // Dropped events are all before `start`.
                    let in_history = self
                        .last_seen
                        .get(&key)
                        .is_some_and(|&t| t >= history_start)
                        || seen_at.get(&key).is_some_and(|times| {
                            times.iter().any(|&t| t >= history_start && t < start)
                        });
                    if in_history {
                        continue;
                    }
                    self.alerted.insert(key);
                    alerts.push(Alert {
                        events: vec![Some(alert_event(events, *i))],
                        detail: Detail::NewTerms {
                            values: fields
                                .iter()
                                .map(|f| f.as_str().to_string())
                                .zip(combo.iter().cloned())
                                .collect(),
                        },
                    });
                }
            }
        }
        alerts
    }
}

fn alert_event(events: &EventFile, i: usize) -> AlertEvent {
    AlertEvent {
        file: events.path.clone(),
        position: events.positions[i],
        index: i,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_date_math() {
        assert_eq!(parse_duration("5m"), Ok(300_000));
        assert_eq!(parse_now_minus("now-9m"), Ok(540_000));
        assert_eq!(parse_now_minus("now"), Ok(0));
        assert!(parse_now_minus("9m").is_err());
        assert!(parse_duration("5x").is_err());
        assert!(parse_duration("99999999999999999d").is_err());
    }
}
