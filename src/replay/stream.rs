//! Streaming replay: every rule of a rule set over recordings of any size, in one pass.
//!
//! The rule set is compiled once ([`RuleSet::new`]). Each recording ([`Source`]) is read line
//! by line and handled in bounded batches of [`BATCH_LINES`] lines: the lines of a batch are
//! parsed and the per-event rules (EQL event queries, KQL `query` rules, and the filters of
//! threshold/new_terms rules) evaluated in parallel (rayon); results are then merged in input
//! order, so output is deterministic. Memory holds one batch of events, plus the state of
//! stateful rules, never the recording.
//!
//! Dispatch: an EQL event query `process where …` only sees events whose `event.category`
//! includes `process` (compared case-insensitively, a superset of what the query accepts; the
//! rule's own filter still decides); `any where …`, KQL rules and rules with an
//! `event_category_override` see every event.
//!
//! Time order, per recording (each file is its own recording, as a fixture is):
//! - **Sequences** are fed to the EQL [`Executor`](crate::query::eql::Executor) as events
//!   arrive, so a file must be in timestamp order for sequence rules: an event earlier than the
//!   one before it, or one without a usable timestamp, is an error of that rule located at
//!   `file:line` (the rule stops on that file; the others go on). Sequence state is bounded by
//!   `maxspan` and the pending matches; the events that match a stage are remembered (time,
//!   process) only to describe the alerts.
//! - **threshold / new_terms** keep only the events that match their filter (bounded by the
//!   matches, not by the recording) and run the schedule simulation of
//!   [`super::schedule`] at the end of the file, in any input order.
//! - Per-event rules need no order.
//!
//! Malformed lines are errors located at `file:line:col`, as in [`crate::event`]; a file that
//! starts with `[` is a JSON array of events and is read whole (up to
//! [`crate::event::MAX_EVENT_FILE_BYTES`]).

use super::{Alert, AlertEvent, Detail, Engine, NotReplayable, Prepared, schedule};
use crate::event::{EventError, EventFile, MAX_EVENT_FILE_BYTES, parse_timestamp};
use crate::query::FieldPath;
use crate::query::eql::{self, Executor, Hit};
use crate::rule::Rule;
use rayon::prelude::*;
use serde_json::Value;
use std::collections::HashMap;
use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};

/// Lines per batch: large enough to keep both cores busy, small enough to bound memory.
pub const BATCH_LINES: usize = 4096;

/// One recording to replay: a name for locations and a reader.
pub struct Source {
    pub path: PathBuf,
    pub reader: Box<dyn BufRead + Send>,
}

impl Source {
    /// Opens a file; `.gz` files are decompressed on the fly.
    pub fn open(path: &Path) -> Result<Source, StreamError> {
        let file = std::fs::File::open(path).map_err(|e| io_err(path, e))?;
        let meta = file.metadata().map_err(|e| io_err(path, e))?;
        if !meta.is_file() {
            return Err(io_err(path, std::io::Error::other("not a regular file")));
        }
        let reader: Box<dyn BufRead + Send> = if path.extension().is_some_and(|e| e == "gz") {
            Box::new(std::io::BufReader::with_capacity(
                1 << 20,
                flate2::read::MultiGzDecoder::new(std::io::BufReader::new(file)),
            ))
        } else {
            Box::new(std::io::BufReader::with_capacity(1 << 20, file))
        };
        Ok(Source {
            path: path.to_path_buf(),
            reader,
        })
    }
}

fn io_err(path: &Path, source: std::io::Error) -> StreamError {
    StreamError::Event(EventError::Io {
        path: path.to_path_buf(),
        source,
    })
}

#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error(transparent)]
    Event(#[from] EventError),
}

/// What an alert says about one of its events (kept so that output needs no second read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventInfo {
    pub timestamp: Option<i64>,
    pub process_name: Option<String>,
    pub command_line: Option<String>,
}

/// An alert with a description of each of its events (`None` for missing-event slots).
#[derive(Debug, Clone, PartialEq)]
pub struct StreamAlert {
    pub alert: Alert,
    pub info: Vec<Option<EventInfo>>,
}

/// A rule that cannot be replayed, and why.
pub struct Skipped<'r> {
    pub rule: &'r Rule,
    pub reason: NotReplayable,
}

struct Entry<'r> {
    rule: &'r Rule,
    prepared: Prepared,
}

/// The rule set compiled for streaming.
pub struct RuleSet<'r> {
    entries: Vec<Entry<'r>>,
    skipped: Vec<Skipped<'r>>,
    /// Per-event rules by lower-cased event category.
    by_category: HashMap<String, Vec<u32>>,
    /// Per-event rules that see every event.
    always: Vec<u32>,
    /// threshold / new_terms rules (filters evaluated per event).
    scheduled: Vec<u32>,
    sequences: Vec<u32>,
}

/// The outcome of one rule over everything replayed so far.
#[derive(Debug, Default)]
pub struct RuleResult {
    pub alerts: Vec<StreamAlert>,
    /// Errors of this rule, each naming the recording (and line when there is one).
    pub errors: Vec<String>,
}

/// Totals of a run.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    pub events: u64,
    pub bytes: u64,
}

impl<'r> RuleSet<'r> {
    pub fn new(rules: &[&'r Rule]) -> RuleSet<'r> {
        let mut set = RuleSet {
            entries: Vec::new(),
            skipped: Vec::new(),
            by_category: HashMap::new(),
            always: Vec::new(),
            scheduled: Vec::new(),
            sequences: Vec::new(),
        };
        for &rule in rules {
            match super::prepare(rule) {
                Ok(prepared) => {
                    let id = set.entries.len() as u32;
                    match &prepared.engine {
                        Engine::EqlEvent(_) => match eql_category(rule) {
                            Some(cat) => set.by_category.entry(cat).or_default().push(id),
                            None => set.always.push(id),
                        },
                        Engine::Kql(_) => set.always.push(id),
                        Engine::EqlSequence(_) => set.sequences.push(id),
                        Engine::Threshold { .. } | Engine::NewTerms { .. } => {
                            set.scheduled.push(id)
                        }
                    }
                    set.entries.push(Entry { rule, prepared });
                }
                Err(reason) => set.skipped.push(Skipped { rule, reason }),
            }
        }
        set
    }

    /// The rules that are replayed, in input order (indexes of [`RuleSet::run`]'s results).
    pub fn rules(&self) -> Vec<&'r Rule> {
        self.entries.iter().map(|e| e.rule).collect()
    }

    pub fn skipped(&self) -> &[Skipped<'r>] {
        &self.skipped
    }

    /// An empty result per replayed rule, to accumulate runs over several sources into.
    pub fn empty_results(&self) -> Vec<RuleResult> {
        self.entries.iter().map(|_| RuleResult::default()).collect()
    }

    /// Replays every rule over one recording, appending to `results` (one per rule, from
    /// [`RuleSet::empty_results`]). `progress` is told the bytes and events read so far.
    pub fn run(
        &self,
        source: Source,
        results: &mut [RuleResult],
        progress: &(dyn Fn(Counts) + Sync),
    ) -> Result<Counts, StreamError> {
        let mut run = FileRun::new(self, &source.path);
        let mut reader = Lines::new(source);
        let mut counts = Counts::default();
        loop {
            let batch = match reader.next_batch()? {
                Batch::Lines(lines) => parse_lines(&reader.path, lines)?,
                Batch::Array(events) => events,
                Batch::End => break,
            };
            if batch.is_empty() {
                continue;
            }
            counts.events += batch.len() as u64;
            counts.bytes = reader.bytes;
            run.feed(batch, results);
            progress(counts);
        }
        if counts.events == 0 {
            return Err(StreamError::Event(EventError::Empty { path: reader.path }));
        }
        run.finish(results);
        Ok(counts)
    }
}

/// The category an EQL event query filters on, lower-cased; `None` for `any` and for rules
/// whose category field is not `event.category` (they see every event).
fn eql_category(rule: &Rule) -> Option<String> {
    if rule.event_category_override.is_some() {
        return None;
    }
    let q = eql::parse(&rule.query.as_ref()?.text).ok()?;
    match &q.statement().query {
        eql::ast::QueryAst::Event(e) => e.category.as_ref().map(|(c, _)| c.to_lowercase()),
        _ => None,
    }
}

/// One parsed event of a batch.
struct Ev {
    value: Value,
    /// 1-based line (NDJSON) or array index (JSON array).
    position: usize,
    /// 0-based index among the recording's events.
    index: usize,
    timestamp: Option<i64>,
}

fn info_of(ev: &Ev) -> EventInfo {
    let s = |name: &str| {
        FieldPath::new(name).first(&ev.value).map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
    };
    EventInfo {
        timestamp: ev.timestamp,
        process_name: s("process.name"),
        command_line: s("process.command_line"),
    }
}

enum Batch {
    Lines(Vec<(usize, String)>),
    Array(Vec<Ev>),
    End,
}

/// Bounded line batches from a reader; a JSON array is read whole (with a size limit).
struct Lines {
    path: PathBuf,
    reader: Box<dyn BufRead + Send>,
    line: usize,
    bytes: u64,
    started: bool,
    done: bool,
}

impl Lines {
    fn new(source: Source) -> Lines {
        Lines {
            path: source.path,
            reader: source.reader,
            line: 0,
            bytes: 0,
            started: false,
            done: false,
        }
    }

    fn next_batch(&mut self) -> Result<Batch, StreamError> {
        if self.done {
            return Ok(Batch::End);
        }
        let mut lines = Vec::with_capacity(BATCH_LINES);
        while lines.len() < BATCH_LINES {
            let mut buf = Vec::new();
            let n = self
                .reader
                .read_until(b'\n', &mut buf)
                .map_err(|e| io_err(&self.path, e))?;
            if n == 0 {
                self.done = true;
                break;
            }
            self.bytes += n as u64;
            self.line += 1;
            let text = String::from_utf8(buf).map_err(|_| {
                StreamError::Event(EventError::Parse {
                    path: self.path.clone(),
                    line: self.line,
                    column: 1,
                    message: "the line is not valid UTF-8".into(),
                })
            })?;
            if !self.started {
                let t = text.trim_start_matches('\u{feff}').trim_start();
                if t.is_empty() || t.starts_with("//") {
                    lines.push((self.line, text));
                    continue;
                }
                self.started = true;
                if t.starts_with('[') {
                    return self.read_array(lines, text);
                }
            }
            lines.push((self.line, text));
        }
        Ok(Batch::Lines(lines))
    }

    /// The rest of a JSON-array recording, parsed as [`crate::event::parse_text`] does.
    fn read_array(
        &mut self,
        head: Vec<(usize, String)>,
        first: String,
    ) -> Result<Batch, StreamError> {
        self.done = true;
        let mut text: String = head.into_iter().map(|(_, l)| l).collect();
        text.push_str(&first);
        let limit = MAX_EVENT_FILE_BYTES.saturating_sub(text.len() as u64);
        let mut rest = String::new();
        (&mut self.reader)
            .take(limit + 1)
            .read_to_string(&mut rest)
            .map_err(|e| io_err(&self.path, e))?;
        if rest.len() as u64 > limit {
            return Err(io_err(
                &self.path,
                std::io::Error::other(format!(
                    "a JSON array recording over {MAX_EVENT_FILE_BYTES} bytes; use NDJSON"
                )),
            ));
        }
        text.push_str(&rest);
        self.bytes = text.len() as u64;
        let file = crate::event::parse_text(&self.path, &text, "@timestamp")?;
        let events = file
            .values
            .into_iter()
            .zip(file.positions)
            .zip(file.timestamps)
            .enumerate()
            .map(|(index, ((value, position), timestamp))| Ev {
                value,
                position,
                index,
                timestamp,
            })
            .collect();
        Ok(Batch::Array(events))
    }
}

/// Parses a batch of NDJSON lines in parallel; blank and (leading) comment lines are skipped
/// as [`crate::event::parse_text`] skips them.
fn parse_lines(path: &Path, lines: Vec<(usize, String)>) -> Result<Vec<Ev>, StreamError> {
    let ts = FieldPath::new("@timestamp");
    let parsed: Vec<Result<Option<(usize, Value)>, EventError>> = lines
        .into_par_iter()
        .map(|(line, text)| {
            let text = text.strip_suffix('\n').unwrap_or(&text);
            let text = text.strip_suffix('\r').unwrap_or(text);
            if text.trim().is_empty() {
                return Ok(None);
            }
            let value: Value = serde_json::from_str(text).map_err(|e| EventError::Parse {
                path: path.to_path_buf(),
                line,
                column: e.column(),
                message: format!("invalid JSON: {e}"),
            })?;
            if !value.is_object() {
                return Err(EventError::Parse {
                    path: path.to_path_buf(),
                    line,
                    column: 1,
                    message: "an event must be a JSON object".into(),
                });
            }
            Ok(Some((line, value)))
        })
        .collect();
    let mut out = Vec::with_capacity(parsed.len());
    for p in parsed {
        if let Some((position, value)) = p? {
            let timestamp = ts.first(&value).and_then(parse_timestamp);
            out.push(Ev {
                value,
                position,
                index: 0,
                timestamp,
            });
        }
    }
    Ok(out)
}

/// A sequence rule's state over one recording.
struct SeqState<'s> {
    id: u32,
    compiled: &'s eql::Compiled,
    executor: Option<Executor<'s>>,
    /// Events that matched a stage, by index: what the alerts will show (position, time).
    seen: HashMap<usize, (usize, i64, EventInfo)>,
    /// Alerts completed so far on this recording.
    done: Vec<StreamAlert>,
    error: Option<String>,
}

/// The matching events of a threshold / new_terms rule over one recording.
#[derive(Default)]
struct Kept {
    values: Vec<Value>,
    positions: Vec<usize>,
    indexes: Vec<usize>,
    timestamps: Vec<Option<i64>>,
    info: Vec<EventInfo>,
}

/// The replay of one recording by a rule set.
struct FileRun<'s, 'r> {
    set: &'s RuleSet<'r>,
    path: PathBuf,
    next_index: usize,
    sequences: Vec<SeqState<'s>>,
    kept: HashMap<u32, Kept>,
}

impl<'s, 'r> FileRun<'s, 'r> {
    fn new(set: &'s RuleSet<'r>, path: &Path) -> FileRun<'s, 'r> {
        let sequences = set
            .sequences
            .iter()
            .filter_map(|&id| match &set.entries[id as usize].prepared.engine {
                Engine::EqlSequence(c) => Some(SeqState {
                    id,
                    compiled: c,
                    executor: Some(c.executor()),
                    seen: HashMap::new(),
                    done: Vec::new(),
                    error: None,
                }),
                _ => None,
            })
            .collect();
        FileRun {
            set,
            path: path.to_path_buf(),
            next_index: 0,
            sequences,
            kept: HashMap::new(),
        }
    }

    /// The per-event rules an event could match.
    fn candidates(&self, ev: &Value, out: &mut Vec<u32>) {
        out.clear();
        out.extend_from_slice(&self.set.always);
        if !self.set.by_category.is_empty() {
            let cats = FieldPath::new("event.category");
            let mut categories: Vec<String> = Vec::new();
            let mut other = false;
            cats.visit(ev, &mut |v| {
                match v {
                    Value::String(s) => categories.push(s.to_lowercase()),
                    _ => other = true,
                }
                false
            });
            if other {
                // A non-string category: let every rule's own filter decide.
                for ids in self.set.by_category.values() {
                    out.extend_from_slice(ids);
                }
            } else {
                categories.sort();
                categories.dedup();
                for c in &categories {
                    if let Some(ids) = self.set.by_category.get(c) {
                        out.extend_from_slice(ids);
                    }
                }
            }
        }
        out.extend_from_slice(&self.set.scheduled);
    }

    fn matches(&self, id: u32, ev: &Value) -> bool {
        match &self.set.entries[id as usize].prepared.engine {
            Engine::EqlEvent(c) => c.matches(ev),
            Engine::Kql(c) => c.matches(ev),
            Engine::Threshold { filter, .. } | Engine::NewTerms { filter, .. } => {
                filter.matches(ev)
            }
            Engine::EqlSequence(_) => false,
        }
    }

    fn feed(&mut self, mut batch: Vec<Ev>, results: &mut [RuleResult]) {
        for ev in &mut batch {
            ev.index = self.next_index;
            self.next_index += 1;
        }
        // Parallel: which per-event rules and filters each event matches.
        let this = &*self;
        let hits: Vec<Vec<u32>> = batch
            .par_iter()
            .map_init(Vec::new, |cands, ev| {
                this.candidates(&ev.value, cands);
                let mut m: Vec<u32> = cands
                    .iter()
                    .copied()
                    .filter(|&id| this.matches(id, &ev.value))
                    .collect();
                m.sort_unstable();
                m.dedup();
                m
            })
            .collect();
        // Merge in input order.
        for (ev, ids) in batch.iter().zip(&hits) {
            for &id in ids {
                match &self.set.entries[id as usize].prepared.engine {
                    Engine::EqlEvent(_) | Engine::Kql(_) => {
                        results[id as usize].alerts.push(StreamAlert {
                            alert: Alert {
                                events: vec![Some(self.alert_event(ev.position, ev.index))],
                                detail: Detail::Event,
                            },
                            info: vec![Some(info_of(ev))],
                        });
                    }
                    _ => {
                        let k = self.kept.entry(id).or_default();
                        k.values.push(ev.value.clone());
                        k.positions.push(ev.position);
                        k.indexes.push(ev.index);
                        k.timestamps.push(ev.timestamp);
                        k.info.push(info_of(ev));
                    }
                }
            }
        }
        // Sequences: each rule is fed the batch in order; rules run in parallel.
        let path = &self.path;
        self.sequences
            .par_iter_mut()
            .for_each(|s| feed_sequence(s, &batch, path));
    }

    fn alert_event(&self, position: usize, index: usize) -> AlertEvent {
        AlertEvent {
            file: self.path.clone(),
            position,
            index,
        }
    }

    fn finish(self, results: &mut [RuleResult]) {
        let shown = self.path.display().to_string();
        for s in self.sequences {
            let out = &mut results[s.id as usize];
            if let Some(e) = s.error {
                out.errors.push(e);
                continue;
            }
            let Some(ex) = s.executor else { continue };
            out.alerts.extend(s.done);
            match ex.finish() {
                Ok(hits) => out.alerts.extend(
                    hits.into_iter()
                        .filter_map(|h| sequence_alert(h, &s.seen, &self.path)),
                ),
                Err(e) => out.errors.push(format!("{shown}: {}", e.message)),
            }
        }
        let mut kept: Vec<(u32, Kept)> = self.kept.into_iter().collect();
        kept.sort_by_key(|(id, _)| *id);
        for (id, k) in kept {
            let entry = &self.set.entries[id as usize];
            let out = &mut results[id as usize];
            match scheduled_alerts(&entry.prepared.engine, k, &self.path) {
                Ok(alerts) => out.alerts.extend(alerts),
                Err(e) => out.errors.push(e.to_string()),
            }
        }
    }
}

fn feed_sequence(s: &mut SeqState<'_>, batch: &[Ev], path: &Path) {
    let Some(ex) = s.executor.as_mut() else {
        return;
    };
    let mut now = i64::MIN;
    for ev in batch {
        // As in the per-rule replay, an event a sequence cannot place in time is an error:
        // dropping it could silently lose an alert.
        let Some(ts) = s.compiled.event_time(&ev.value) else {
            s.error = Some(format!(
                "{}:{}: the event has no usable timestamp; an EQL sequence needs event time",
                path.display(),
                ev.position
            ));
            s.executor = None;
            return;
        };
        if let Err(e) = ex.push_timed(ev.index, ts, &ev.value) {
            s.error = Some(format!(
                "{}:{}: {} (sequence rules need each recording in timestamp order)",
                path.display(),
                ev.position,
                e.message
            ));
            s.executor = None;
            return;
        }
        now = now.max(ts);
        if s.compiled.matches(&ev.value) {
            s.seen.insert(ev.index, (ev.position, ts, info_of(ev)));
        }
    }
    let ready = ex.take_ready();
    s.done.extend(
        ready
            .into_iter()
            .filter_map(|h| sequence_alert(h, &s.seen, path)),
    );
    // Hits are taken as they complete, so events older than any pending or queued match can
    // be forgotten: a queued match completed within `maxspan` of now and spans at most
    // `maxspan`, so its events are no older than two spans.
    if let Some(span) = s.compiled.maxspan() {
        if ex.streams_hits() {
            let horizon = now.saturating_sub(span.saturating_mul(2)).saturating_sub(1);
            s.seen.retain(|_, (_, t, _)| *t >= horizon);
        }
    }
}

fn sequence_alert(
    hit: Hit,
    seen: &HashMap<usize, (usize, i64, EventInfo)>,
    path: &Path,
) -> Option<StreamAlert> {
    let slot = |i: usize| {
        seen.get(&i).map(|(position, _, info)| {
            (
                AlertEvent {
                    file: path.to_path_buf(),
                    position: *position,
                    index: i,
                },
                info.clone(),
            )
        })
    };
    let (idx, detail) = match hit {
        Hit::Sequence { events, join_keys } => (events, Detail::Sequence { join_keys }),
        Hit::Event { index } => (vec![Some(index)], Detail::Event),
        Hit::Sample { .. } => return None,
    };
    let mut events = Vec::with_capacity(idx.len());
    let mut info = Vec::with_capacity(idx.len());
    for i in idx {
        // Every event of a hit matched a stage, so it was remembered.
        let (e, inf) = i.and_then(slot).unzip();
        events.push(e);
        info.push(inf);
    }
    Some(StreamAlert {
        alert: Alert { events, detail },
        info,
    })
}

/// Runs the schedule simulation over a rule's matching events of one recording.
fn scheduled_alerts(
    engine: &Engine,
    k: Kept,
    path: &Path,
) -> Result<Vec<StreamAlert>, super::ReplayError> {
    let file = EventFile {
        path: path.to_path_buf(),
        values: k.values,
        positions: k.positions,
        timestamps: k.timestamps,
    };
    let alerts = match engine {
        Engine::Threshold {
            filter,
            threshold,
            schedule,
        } => schedule::threshold(filter, threshold, schedule, &file, None)?,
        Engine::NewTerms {
            filter,
            fields,
            history_ms,
            schedule,
        } => schedule::new_terms(filter, fields, *history_ms, schedule, &file, None)?,
        _ => Vec::new(),
    };
    // The simulation indexes the kept events; alerts index the recording.
    Ok(alerts
        .into_iter()
        .map(|mut a| {
            let mut info = Vec::with_capacity(a.events.len());
            for e in a.events.iter_mut() {
                info.push(e.as_mut().map(|e| {
                    let kept = e.index;
                    e.index = k.indexes[kept];
                    k.info[kept].clone()
                }));
            }
            StreamAlert { alert: a, info }
        })
        .collect())
}

/// Rule types listed as not replayed with their reason, for output.
pub fn reason_text(reason: &NotReplayable) -> String {
    match reason {
        NotReplayable::Unsupported(m) => m.clone(),
        NotReplayable::Invalid(d) => d
            .iter()
            .map(|d| d.message.clone())
            .collect::<Vec<_>>()
            .join("; "),
    }
}
