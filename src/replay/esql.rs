//! ES|QL rule replay, as Kibana's ES|QL rule executor runs it, over the events of one
//! recording (self-contained: a rule and a recording in, alerts out).
//!
//! - **Executions**: every `interval` over the recording's own time, from its first event (or
//!   the baseline); each one runs the query over the events whose time (`timestamp_override`,
//!   else `@timestamp`) lies in `[run - from, run]`, Kibana's range filter on the request, with
//!   `NOW()` the execution time.
//! - **Non-aggregating** queries (no `STATS`): one alert per result row. When the row keeps
//!   `_id` (`FROM … METADATA _id`), the alert is that source event, and Kibana's alert id
//!   (`_id`, `_index`, `_version` and the values of `MV_EXPAND`ed columns) de-duplicates it
//!   across overlapping executions. Without `_id` there is no source event and no
//!   de-duplication: each execution's rows are new alerts.
//! - **Aggregating** queries (`STATS`; `INLINE STATS` keeps rows and does not count): one
//!   alert per result row with the row's values; the alert id includes the execution's time
//!   range, so overlapping executions raise the same aggregate again (as in Kibana; use
//!   `alert_suppression` against that).
//! - **`max_signals`** (default 100) caps the new alerts of one execution, in result order.

use super::schedule::Schedule;
use super::{Alert, AlertEvent, Detail, NotReplayable, ReplayError};
use crate::diag::Diagnostic;
use crate::event::EventFile;
use crate::query::esql::{self, Catalog, CommandKind, DataType, EsqlErrorKind, EventCatalog};
use crate::query::kql::FieldTypes;
use crate::rule::Rule;
use serde_json::Value as Json;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

/// Kibana's default `max_signals`.
const DEFAULT_MAX_SIGNALS: usize = 100;

/// An ES|QL rule compiled for replay.
pub struct EsqlRule {
    query: esql::Query,
    /// The query has a `STATS` command: rows are aggregates, not events.
    pub aggregating: bool,
    /// Columns `MV_EXPAND` splits (part of a non-aggregating alert's id).
    expanded: Vec<String>,
    max_signals: usize,
    /// The query calls `NOW()`, so two executions over the same events may differ.
    reads_now: bool,
    /// Field types: the schema tables, then what the query's own usage implies.
    hints: HashMap<String, DataType>,
    /// Every field the query names (columns of the compile check).
    fields: Vec<String>,
    /// The fields it names that the schema tables know: columns of every execution even when
    /// no event holds them, as an index mapping them would have. Any other field must be in
    /// the recording, or it is Elasticsearch's "Unknown column".
    mapped_fields: Vec<String>,
    /// The only columns an execution's result depends on, when certain (an aggregating query):
    /// events are flattened down to them.
    projection: Option<Vec<String>>,
    pub schedule: Schedule,
}

/// One result row of an ES|QL alert: the execution that raised it and the row's columns.
#[derive(Debug, Clone, PartialEq)]
pub struct EsqlRow {
    /// The execution time (epoch ms).
    pub run: i64,
    /// The row's columns in query order (`null` for missing values).
    pub values: Vec<(String, Json)>,
    /// The recording the execution read. Each recording (a fixture's, or one file of
    /// `ruleforge replay`) is simulated on its own, so an execution window never spans two.
    pub file: PathBuf,
}

fn invalid(rule: &Rule, err: &esql::EsqlError) -> NotReplayable {
    NotReplayable::Invalid(vec![super::query_error(
        rule,
        "RF602",
        &format!("ES|QL: {}", err.message),
        &err.span,
    )])
}

/// Compiles an ES|QL rule: parses its query and resolves every command against the schema
/// types (with no rows), so an unknown column or a type error is a located error here and
/// not a failure on some fixture.
pub fn prepare(rule: &Rule, schedule: Schedule) -> Result<EsqlRule, NotReplayable> {
    let text = rule
        .query
        .as_ref()
        .ok_or_else(|| NotReplayable::Unsupported("rule has no query".into()))?;
    let query = esql::parse(&text.text).map_err(|e| invalid(rule, &e))?;
    let max_signals = match rule.tree.path("rule.max_signals").and_then(|n| n.as_int()) {
        None => DEFAULT_MAX_SIGNALS,
        Some(n) if n > 0 => n as usize,
        Some(n) => {
            return Err(NotReplayable::Invalid(vec![
                Diagnostic::error("RT002", format!("max_signals must be positive, not {n}"))
                    .at(&rule.path, Some(rule.span_of("rule.max_signals"))),
            ]));
        }
    };
    let aggregating = query.aggregates();
    let expanded = query
        .ast
        .commands
        .iter()
        .filter_map(|c| match &c.kind {
            CommandKind::MvExpand(p) => Some(p.text.clone()),
            _ => None,
        })
        .collect();
    let schema = FieldTypes::ecs();
    let fields = query.referenced_fields();
    let mapped_fields = fields
        .iter()
        .filter(|f| schema.get(f).is_some())
        .cloned()
        .collect();
    let compiled = EsqlRule {
        hints: query.field_type_hints(),
        projection: query.column_projection(),
        fields,
        mapped_fields,
        query,
        aggregating,
        expanded,
        max_signals,
        reads_now: calls_now(&text.text),
        schedule,
    };
    let types = |f: &str| compiled.field_type(&schema, f);
    let empty = EventCatalog {
        events: &[],
        types: &types,
        extra_fields: compiled.fields.clone(),
        only: None,
    };
    if let Err(e) = compiled.query.run(&empty, 0) {
        if e.kind == EsqlErrorKind::Unsupported {
            // COMPLETION, ENRICH, LOOKUP JOIN…: named in the message, reported as RT005.
            return Err(NotReplayable::Unsupported(format!("ES|QL: {}", e.message)));
        }
        return Err(invalid(rule, &e));
    }
    Ok(compiled)
}

/// Whether the query text calls `NOW()` (case-insensitive, spaces allowed before the
/// parenthesis). Conservative: `now(` inside a string literal also counts, which only costs
/// the reuse of an execution's result.
fn calls_now(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    lower.match_indices("now").any(|(i, _)| {
        let before = lower[..i].chars().next_back();
        let word_start = !before.is_some_and(|c| c.is_alphanumeric() || c == '_');
        word_start && lower[i + 3..].trim_start().starts_with('(')
    })
}

impl EsqlRule {
    fn field_type(&self, schema: &FieldTypes, f: &str) -> Option<DataType> {
        schema
            .get(f)
            .map(|t| esql::events::schema_type(t.name()))
            .filter(|t| *t != DataType::Unsupported)
            .or_else(|| self.hints.get(f).copied())
    }

    /// The time of the first event (where the simulated executions start).
    pub fn first_event(&self, events: &EventFile) -> Option<i64> {
        (0..events.len())
            .filter_map(|i| self.schedule.event_time(events, i))
            .min()
    }
}

/// The events of one execution's window, with `_id` defaulting to the recording position so
/// that a row's `_id` leads back to its event.
struct Window<'a> {
    events: Vec<Json>,
    /// Recording index of each window event.
    index: Vec<usize>,
    recording: &'a EventFile,
}

impl Window<'_> {
    fn id_of(&self, k: usize) -> String {
        let i = self.index[k];
        self.recording.values[i]
            .get("_id")
            .and_then(Json::as_str)
            .map_or_else(|| self.recording.positions[i].to_string(), str::to_string)
    }
}

/// Source tables already built for one window, by `FROM` patterns and metadata.
type SourceCache = RefCell<Vec<((Vec<String>, Vec<String>), esql::Table)>>;

struct WindowCatalog<'a, 'w> {
    inner: EventCatalog<'a>,
    window: &'w Window<'w>,
    /// Executions over an unchanged window share its source table (flattening the events is
    /// most of an execution's cost).
    sources: &'w SourceCache,
}

impl Catalog for WindowCatalog<'_, '_> {
    fn complete_schema(&self) -> bool {
        false
    }

    fn source(&self, patterns: &[String], metadata: &[String]) -> Result<esql::Table, String> {
        let key = (patterns.to_vec(), metadata.to_vec());
        if let Some((_, t)) = self.sources.borrow().iter().find(|(k, _)| *k == key) {
            return Ok(t.clone());
        }
        let mut t = self.inner.source(patterns, metadata)?;
        if let Some(c) = t.columns.iter().position(|c| c.name == "_id") {
            for (k, row) in t.rows.iter_mut().enumerate() {
                row[c] = esql::Value::Str(self.window.id_of(k));
            }
        }
        self.sources.borrow_mut().push((key, t.clone()));
        Ok(t)
    }
}

/// Runs an ES|QL rule over one recording: the simulated executions and their alerts.
pub fn run(
    rule: &EsqlRule,
    events: &EventFile,
    baseline: Option<i64>,
) -> Result<Vec<Alert>, ReplayError> {
    let mut times = Vec::with_capacity(events.len());
    for i in 0..events.len() {
        // Kibana's range filter drops an event without a time; here it is an error, since
        // a silently dropped event could be a lost detection.
        let t = rule.schedule.required_time(events, i, "an ES|QL rule")?;
        times.push(t);
    }
    let (Some(&first), Some(&last)) = (times.iter().min(), times.iter().max()) else {
        return Ok(Vec::new());
    };
    let start = baseline.map_or(first, |b| b.max(first));
    let (interval, lookback) = (rule.schedule.interval_ms, rule.schedule.lookback_ms);
    let schema = FieldTypes::ecs();
    let types = |f: &str| rule.field_type(&schema, f);
    let mut by_time: Vec<usize> = (0..events.len()).collect();
    by_time.sort_by_key(|&i| (times[i], i));
    let mut seen: HashSet<String> = HashSet::new();
    let mut alerts = Vec::new();
    let mut run = start;
    // The window of the previous execution, its source tables and (for a query that does not
    // read the execution time) its result.
    let mut current: Option<((usize, usize), Window<'_>)> = None;
    let sources: SourceCache = RefCell::new(Vec::new());
    let mut result: Option<esql::Table> = None;
    // Every execution whose window can hold an event; windows with no event are skipped.
    while run - lookback <= last {
        let lo = by_time.partition_point(|&i| times[i] < run - lookback);
        let hi = by_time.partition_point(|&i| times[i] <= run);
        if lo == hi {
            // Jump to the first execution whose window reaches the next event.
            let Some(&next) = by_time.get(lo) else { break };
            let k = (times[next] - run + interval - 1) / interval;
            run += k.max(1) * interval;
            continue;
        }
        if current.as_ref().is_none_or(|c| c.0 != (lo, hi)) {
            let order = by_time[lo..hi].to_vec();
            let window = Window {
                events: order.iter().map(|&i| events.values[i].clone()).collect(),
                index: order,
                recording: events,
            };
            current = Some(((lo, hi), window));
            sources.borrow_mut().clear();
            result = None;
        }
        let Some((_, window)) = &current else { break };
        // Over the same events, an execution gives the previous one's table unless the query
        // reads the execution time: long look-backs (`now-7205m` every 5 minutes) run
        // thousands of times over an unchanged window.
        if rule.reads_now || result.is_none() {
            let catalog = WindowCatalog {
                inner: EventCatalog {
                    events: &window.events,
                    types: &types,
                    extra_fields: rule.mapped_fields.clone(),
                    only: rule.projection.as_deref(),
                },
                window,
                sources: &sources,
            };
            let out = rule
                .query
                .run(&catalog, run)
                .map_err(|e| ReplayError::Esql(e.message.clone()))?;
            result = Some(out.table);
        }
        if let Some(table) = &result {
            alerts.extend(execution_alerts(rule, window, table, run, &mut seen));
        }
        run += interval;
    }
    Ok(alerts)
}

/// The new alerts of one execution's result table.
fn execution_alerts(
    rule: &EsqlRule,
    window: &Window<'_>,
    table: &esql::Table,
    run: i64,
    seen: &mut HashSet<String>,
) -> Vec<Alert> {
    let col = |name: &str| table.columns.iter().position(|c| c.name == name);
    let id_col = col("_id").filter(|_| !rule.aggregating);
    let key_cols: Vec<usize> = ["_index", "_version"]
        .iter()
        .copied()
        .chain(rule.expanded.iter().map(String::as_str))
        .filter_map(col)
        .collect();
    let by_id: HashMap<String, usize> = (0..window.index.len())
        .rev()
        .map(|k| (window.id_of(k), window.index[k]))
        .collect();
    let mut out = Vec::new();
    for row in &table.rows {
        if out.len() >= rule.max_signals {
            break;
        }
        let mut event = None;
        if let Some(c) = id_col {
            let id = esql::to_text(&row[c]);
            let mut key = vec![id.clone()];
            key.extend(key_cols.iter().map(|&k| esql::to_json(&row[k]).to_string()));
            if !seen.insert(key.join("\u{1f}")) {
                continue;
            }
            event = by_id.get(&id).map(|&i| AlertEvent {
                file: window.recording.path.clone(),
                position: window.recording.positions[i],
                index: i,
            });
        }
        let values = table
            .columns
            .iter()
            .zip(row)
            .map(|(c, v)| (c.name.clone(), esql::to_json(v)))
            .collect();
        out.push(Alert {
            events: event.into_iter().map(Some).collect(),
            detail: Detail::Esql(Box::new(EsqlRow {
                run,
                values,
                file: window.recording.path.clone(),
            })),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::path::PathBuf;

    const T0: i64 = 1_764_000_000_000;

    fn recording(events: &[(i64, Json)]) -> EventFile {
        EventFile::from_parts(
            PathBuf::from("r.ndjson"),
            events.iter().map(|(_, v)| v.clone()).collect(),
            (1..=events.len()).collect(),
            events.iter().map(|(t, _)| Some(*t)).collect(),
        )
    }

    fn rule(query: &str, max_signals: Option<usize>) -> EsqlRule {
        let q = esql::parse(query).unwrap();
        let aggregating = q.aggregates();
        EsqlRule {
            hints: q.field_type_hints(),
            projection: q.column_projection(),
            fields: q.referenced_fields(),
            mapped_fields: q.referenced_fields(),
            query: q,
            aggregating,
            expanded: Vec::new(),
            max_signals: max_signals.unwrap_or(DEFAULT_MAX_SIGNALS),
            reads_now: calls_now(query),
            schedule: Schedule {
                interval_ms: 300_000,
                lookback_ms: 360_000,
                time_field: None,
            },
        }
    }

    fn ev(name: &str, path: &str) -> Json {
        json!({"process": {"name": name}, "file": {"path": path}})
    }

    fn positions(alerts: &[Alert]) -> Vec<usize> {
        alerts
            .iter()
            .map(|a| a.events[0].as_ref().unwrap().position)
            .collect()
    }

    #[test]
    fn non_aggregating_rows_are_their_source_events_once_across_overlapping_runs() {
        // Runs at T0, T0+5m ([-1m, 5m]) and T0+10m ([4m, 10m]): the event at T0+4.5m is in
        // both of the last two windows and alerts once, in the first.
        let rec = recording(&[
            (T0, ev("bash", "/tmp/a")),
            (T0 + 270_000, ev("cat", "/boot/vmlinuz")),
            (T0 + 330_000, ev("cat", "/boot/config")),
        ]);
        let r = rule(
            "FROM logs-* METADATA _id | WHERE file.path LIKE \"/boot/*\" | KEEP _id, file.path",
            None,
        );
        let alerts = run(&r, &rec, None).unwrap();
        assert_eq!(positions(&alerts), vec![2, 3]);
        let Detail::Esql(row) = &alerts[0].detail else {
            panic!("an ES|QL alert")
        };
        assert_eq!(row.run, T0 + 300_000, "raised by the first run holding it");
        assert_eq!(row.values[1], ("file.path".into(), json!("/boot/vmlinuz")));
    }

    #[test]
    fn without_metadata_id_every_overlapping_run_raises_the_row_again() {
        let rec = recording(&[
            (T0, ev("bash", "/tmp/a")),
            (T0 + 270_000, ev("cat", "/boot/x")),
        ]);
        let r = rule(
            "FROM logs-* | WHERE file.path LIKE \"/boot/*\" | KEEP file.path",
            None,
        );
        let alerts = run(&r, &rec, None).unwrap();
        // Runs at T0+5m ([-1m, 5m]) and T0+10m ([4m, 10m]) both hold the event.
        assert_eq!(alerts.len(), 2);
        assert!(alerts.iter().all(|a| a.events.is_empty()));
    }

    #[test]
    fn aggregating_rows_carry_their_values_and_respect_the_time_range() {
        let mut evs = Vec::new();
        for (k, f) in ["/boot/a", "/boot/b", "/boot/c"].iter().enumerate() {
            evs.push((T0 + k as i64 * 1_000, ev("cat", f)));
        }
        // Far outside every window of the first runs: never counted with them.
        evs.push((T0 + 3_600_000, ev("cat", "/boot/d")));
        let rec = recording(&evs);
        let r = rule(
            "FROM logs-* | STATS files = COUNT_DISTINCT(file.path) BY process.name | WHERE files >= 3",
            None,
        );
        let alerts = run(&r, &rec, None).unwrap();
        assert!(r.aggregating);
        // The run at T0 holds only the first event; T0+5m holds all three.
        assert_eq!(alerts.len(), 1);
        assert!(alerts[0].events.is_empty());
        let Detail::Esql(row) = &alerts[0].detail else {
            panic!("an ES|QL alert")
        };
        assert_eq!(row.run, T0 + 300_000);
        assert_eq!(
            row.values,
            vec![
                ("files".to_string(), json!(3)),
                ("process.name".to_string(), json!("cat"))
            ]
        );
    }

    #[test]
    fn max_signals_caps_the_new_alerts_of_one_run() {
        let rec = recording(&[
            (T0, ev("a", "/boot/1")),
            (T0, ev("b", "/boot/2")),
            (T0, ev("c", "/boot/3")),
        ]);
        let r = rule("FROM logs-* METADATA _id | KEEP _id, process.name", Some(2));
        let alerts = run(&r, &rec, None).unwrap();
        // Run at T0 raises 2; the run at T0+5m still holds event 3, and raises it then.
        assert_eq!(positions(&alerts), vec![1, 2, 3]);
        let runs: Vec<i64> = alerts
            .iter()
            .map(|a| match &a.detail {
                Detail::Esql(r) => r.run,
                _ => 0,
            })
            .collect();
        assert_eq!(runs, vec![T0, T0, T0 + 300_000]);
    }

    #[test]
    fn now_is_the_execution_time() {
        let r = rule(
            "FROM logs-* | EVAL age = DATE_DIFF(\"second\", @timestamp, NOW()) | KEEP age",
            None,
        );
        let rec2 = recording(&[(T0, json!({"@timestamp": "2025-11-24T16:00:00.000Z"}))]);
        let alerts = run(&r, &rec2, None).unwrap();
        // The first run is at the event; the second, 5 minutes later, is within `from`.
        let ages: Vec<Json> = alerts
            .iter()
            .map(|a| match &a.detail {
                Detail::Esql(r) => r.values[0].1.clone(),
                _ => Json::Null,
            })
            .collect();
        assert_eq!(ages, vec![json!(0), json!(300)]);
    }

    #[test]
    fn an_unchanged_window_raises_its_rows_at_every_execution() {
        // A long look-back over one event: every execution sees the same window, and the
        // reused result still raises the aggregate once per execution, at its own run time.
        let mut r = rule("FROM logs-* | STATS n = COUNT(*) BY process.name", None);
        r.schedule.lookback_ms = 1_800_000;
        assert!(!r.reads_now);
        let rec = recording(&[(T0, ev("cat", "/boot/a"))]);
        let runs: Vec<i64> = run(&r, &rec, None)
            .unwrap()
            .iter()
            .map(|a| match &a.detail {
                Detail::Esql(row) => row.run,
                _ => 0,
            })
            .collect();
        let expected: Vec<i64> = (0..=6).map(|k| T0 + k * 300_000).collect();
        assert_eq!(runs, expected);
    }

    #[test]
    fn now_calls_are_found_in_any_case_and_spacing() {
        assert!(calls_now("FROM x | EVAL a = NOW()"));
        assert!(calls_now(
            "from x | eval a = date_diff(\"minute\", t, now ( ))"
        ));
        assert!(!calls_now(
            "FROM x | WHERE process.name == \"known\" | KEEP snow"
        ));
        assert!(!calls_now("FROM x | EVAL nowhere = 1"));
    }

    #[test]
    fn an_event_without_time_is_an_error() {
        let rec = EventFile::from_parts(
            PathBuf::from("r.ndjson"),
            vec![ev("a", "/boot/1")],
            vec![7],
            vec![None],
        );
        let r = rule("FROM logs-* | KEEP process.name", None);
        let err = run(&r, &rec, None).unwrap_err();
        assert!(err.to_string().contains("r.ndjson:7"), "{err}");
    }
}
