//! Streaming replay: every rule of a rule set over recordings of any size, in one pass.
//!
//! The rule set is compiled once ([`RuleSet::new`]). Each recording ([`Source`]) is read line
//! by line and handled in bounded batches of [`BATCH_LINES`] lines: the lines of a batch are
//! parsed and the per-event rules (EQL event queries, KQL `query` rules, and the filters of
//! threshold/new_terms rules) evaluated in parallel (rayon); results are then merged in input
//! order, so output is deterministic. Memory holds one batch of events, plus the state of
//! stateful rules, never the recording.
//!
//! Dispatch: a per-event rule only sees events that meet its requirements on a few keyword
//! fields ([`prefilter`]): an EQL `process where host.os.type == "linux" and …` only sees
//! events whose `event.category` includes `process` and whose `host.os.type` is `linux`
//! (compared lower-cased, a superset of what the query accepts; the rule still decides).
//! Rules without such a requirement see every event.
//!
//! Time order, per recording (each file is its own recording, as a fixture is):
//! - **Sequences** are fed to the EQL [`Executor`](crate::query::eql::Executor) as events
//!   arrive, so a file must be in timestamp order for sequence rules: an event earlier than the
//!   one before it, or one without a usable timestamp, is an error of that rule located at
//!   `file:line` (the rule stops on that file; the others go on). Sequence state is bounded by
//!   `maxspan` and the pending matches; the events that match a stage are remembered (time,
//!   process) only to describe the alerts.
//! - **threshold / new_terms** keep only the events that match their filter. Streamed from a
//!   [`Source`], every [`KEPT_FLUSH`] kept events they simulate the executions the recording
//!   has passed ([`schedule::Rolling`]) and drop the events no later window reaches, so they
//!   hold about one window; an event older than an execution already simulated is an error
//!   of that rule located at `file:line`. In memory ([`RuleSet::run_events`]) they simulate at
//!   the end of the recording, in any input order.
//! - **Buffered rules** (threat_match; [`super::buffered`]) keep the events they select, up to a
//!   limit per recording, and are evaluated at the end of the file against the run's indicators.
//! - Per-event rules need no order.
//!
//! At the end of each recording, a rule's `baseline` (fixtures) and `alert_suppression` apply
//! to its alerts of that recording, as Kibana's executions would have raised them.
//!
//! Malformed lines are errors located at `file:line:col`, as in [`crate::event`]; a file that
//! starts with `[` is a JSON array of events and is read whole (up to
//! [`crate::event::MAX_EVENT_FILE_BYTES`]).

use super::threat_match::IndicatorSet;
use super::{
    Alert, AlertEvent, Detail, Engine, NotReplayable, Prepared, ReplayError, buffered, predicates,
    prefilter, prune, schedule, suppression, table,
};
use crate::event::{EventError, EventFile, MAX_EVENT_FILE_BYTES, parse_timestamp};
use crate::query::FieldPath;
use crate::query::eql::{self, Executor, Hit};
use crate::query::kql;
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
    suppression: Option<suppression::Suppression>,
}

/// The rule set compiled for streaming.
pub struct RuleSet<'r> {
    entries: Vec<Entry<'r>>,
    skipped: Vec<Skipped<'r>>,
    /// Per-event rules and threshold/new_terms filters, by their most selective requirement:
    /// per key field, value number ([`prefilter::KeyFields`]) → rules.
    index: Vec<Vec<Vec<u32>>>,
    /// Per rule: every requirement (see [`prefilter`]).
    reqs: Vec<Vec<prefilter::Requirement>>,
    /// Per-event rules and filters without a requirement: they see every event.
    always: Vec<u32>,
    sequences: Vec<u32>,
    /// Sequence rules (by position in `sequences`) by the first requirement of each of
    /// their stages, as `index` for per-event rules.
    seq_index: Vec<Vec<Vec<u32>>>,
    /// Sequence rules (by position) with a stage without requirement: they see every event.
    seq_always: Vec<u32>,
    /// Per rule: for sequences, each stage's requirements.
    seq_reqs: Vec<Option<Vec<Vec<prefilter::Requirement>>>>,
    /// The fields requirements are taken on, by number.
    keys: prefilter::KeyFields,
    /// The EQL conjuncts rules and stages share, evaluated once per event ([`predicates`]).
    shared: predicates::Shared,
    /// Per rule: each EQL filter (event query; sequence stages and `until`) as shared
    /// conjuncts; empty for other rules.
    conjuncts: Vec<Vec<predicates::Conjuncts>>,
    /// Per rule: the fields a threshold / new_terms simulation reads from kept events.
    kept_fields: Vec<Projection>,
    /// Every field some rule, the dispatch or the output reads: events are parsed down to it.
    fields: prune::FieldSet,
    /// Slots of those fields in each event's table ([`table`]).
    slots: table::Slots,
    /// Per rule with `alert_suppression` whose alerts are not built from kept events: what
    /// suppression reads from an alert's events (group fields, times).
    sup_fields: Vec<Option<Projection>>,
    /// The indicator recordings threat_match rules search in [`RuleSet::run`].
    indicators: Vec<IndicatorSet>,
    /// Events a buffered rule may hold per recording ([`buffered`]).
    buffer_limit: usize,
    /// Kept events of a threshold / new_terms rule at which a streamed recording's
    /// executions so far are simulated and the events no later run reads dropped.
    kept_flush: usize,
}

/// Default of [`RuleSet::with_kept_flush`].
pub const KEPT_FLUSH: usize = 8192;

/// The fields of an event a schedule simulation reads, so that a kept event costs only those
/// (a broad filter such as `event.category:process` would otherwise keep the recording).
/// `whole` keeps the event as it is (a rule that may read any field: ES|QL).
#[derive(Default)]
struct Projection(Vec<FieldPath>, bool);

impl Projection {
    fn of(rule: &Rule, engine: &Engine) -> Projection {
        let mut names: Vec<String> = match engine {
            Engine::Threshold { threshold, .. } => threshold
                .fields
                .iter()
                .chain(threshold.cardinality.iter().map(|(f, _)| f))
                .cloned()
                .collect(),
            Engine::NewTerms { fields, .. } => {
                fields.iter().map(|f| f.as_str().to_string()).collect()
            }
            Engine::Buffered(b) => match b.kept_fields() {
                Some(names) => names,
                None => return Projection(Vec::new(), true),
            },
            _ => return Projection::default(),
        };
        names.push("@timestamp".into());
        if let Some(t) = rule.tree.str_at("rule.timestamp_override") {
            names.push(t.to_string());
        }
        Projection(names.iter().map(|n| FieldPath::new(n)).collect(), false)
    }

    /// What suppression reads from an alert's events: the `group_by` fields and the times.
    fn for_suppression(rule: &Rule, sup: &suppression::Suppression) -> Projection {
        let mut names = sup.group_by.clone();
        names.push("@timestamp".into());
        if let Some(t) = rule.tree.str_at("rule.timestamp_override") {
            names.push(t.to_string());
        }
        Projection(names.iter().map(|n| FieldPath::new(n)).collect(), false)
    }

    /// A flat object with each field's values under its dotted name (one value as itself,
    /// several as an array), which field lookup reads back identically.
    fn project(&self, ev: &Value) -> Value {
        if self.1 {
            return ev.clone();
        }
        let mut m = serde_json::Map::new();
        for f in &self.0 {
            let mut vals: Vec<Value> = f.values(ev).into_iter().cloned().collect();
            match vals.len() {
                0 => {}
                1 => {
                    m.insert(f.as_str().to_string(), vals.remove(0));
                }
                _ => {
                    m.insert(f.as_str().to_string(), Value::Array(vals));
                }
            }
        }
        Value::Object(m)
    }
}

/// The outcome of one rule over everything replayed so far.
#[derive(Debug, Default)]
pub struct RuleResult {
    pub alerts: Vec<StreamAlert>,
    /// Errors of this rule, each naming the recording (and line when there is one).
    pub errors: Vec<String>,
    /// The first error of a schedule simulation or buffered evaluator, as raised.
    pub failure: Option<ReplayError>,
    /// The most events a threshold / new_terms / buffered rule held at once on a recording.
    pub peak_kept: usize,
}

/// Totals of a run.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    pub events: u64,
    pub bytes: u64,
}

impl<'r> RuleSet<'r> {
    pub fn new(rules: &[&'r Rule]) -> RuleSet<'r> {
        Self::build(rules.iter().map(|&rule| {
            let compiled = super::prepare(rule).and_then(|p| Ok((p, suppression::of_rule(rule)?)));
            (rule, compiled, true)
        }))
    }

    /// A set of one rule replayed with another compiled query than its own (`ruleforge
    /// coverage`'s mutants: the query with one exclusion removed), without its suppression.
    /// The literal requirements are derived from the rule's own query, which the engine no
    /// longer is, so the rule sees every event (no dispatch); its engine decides.
    pub fn with_engine(rule: &'r Rule, prepared: Prepared) -> RuleSet<'r> {
        Self::build(std::iter::once((rule, Ok((prepared, None)), false)))
    }

    /// Compiles the set from each rule, its engine and suppression (or why it cannot be
    /// replayed), and whether dispatch may use the literal requirements of its query.
    fn build(
        rules: impl Iterator<
            Item = (
                &'r Rule,
                Result<(Prepared, Option<suppression::Suppression>), NotReplayable>,
                bool,
            ),
        >,
    ) -> RuleSet<'r> {
        let mut set = RuleSet {
            entries: Vec::new(),
            skipped: Vec::new(),
            index: Vec::new(),
            reqs: Vec::new(),
            always: Vec::new(),
            sequences: Vec::new(),
            seq_index: Vec::new(),
            seq_always: Vec::new(),
            seq_reqs: Vec::new(),
            keys: prefilter::KeyFields::default(),
            shared: predicates::Shared::default(),
            conjuncts: Vec::new(),
            kept_fields: Vec::new(),
            fields: prune::FieldSet::default(),
            slots: table::Slots::default(),
            sup_fields: Vec::new(),
            indicators: Vec::new(),
            buffer_limit: buffered::MAX_BUFFERED_EVENTS,
            kept_flush: KEPT_FLUSH,
        };
        for (rule, compiled, dispatch) in rules {
            match compiled {
                Ok((prepared, suppression)) => {
                    let id = set.entries.len() as u32;
                    let reqs = match &prepared.engine {
                        Engine::EqlSequence(_) => {
                            set.sequences.push(id);
                            Vec::new()
                        }
                        _ if !dispatch => Vec::new(),
                        _ => prefilter::requirements(rule, &mut set.keys),
                    };
                    set.reqs.push(reqs);
                    let conjuncts = match &prepared.engine {
                        Engine::EqlEvent(c) | Engine::EqlSequence(c) => c
                            .filter_conjuncts()
                            .iter()
                            .map(|f| set.shared.intern(f))
                            .collect(),
                        _ => Vec::new(),
                    };
                    set.conjuncts.push(conjuncts);
                    let mut kept = Projection::of(rule, &prepared.engine);
                    let mut sup_fields = None;
                    if let Some(sup) = &suppression {
                        if kept.0.is_empty() && !kept.1 {
                            sup_fields = Some(Projection::for_suppression(rule, sup));
                        } else {
                            kept.0
                                .extend(sup.group_by.iter().map(|g| FieldPath::new(g)));
                        }
                    }
                    set.kept_fields.push(kept);
                    set.sup_fields.push(sup_fields);
                    set.seq_reqs.push(match prepared.engine {
                        Engine::EqlSequence(_) if dispatch => {
                            prefilter::sequence_requirements(rule, &mut set.keys)
                        }
                        _ => None,
                    });
                    set.entries.push(Entry {
                        rule,
                        prepared,
                        suppression,
                    });
                }
                Err(reason) => set.skipped.push(Skipped { rule, reason }),
            }
        }
        set.index_rules();
        set.index_sequences();
        set.fields = set.fields_read();
        let mut names: Vec<&str> = set.fields.names().collect();
        names.sort_unstable();
        set.slots = table::Slots::new(names);
        set
    }

    /// Per-event rules and filters by their first (most selective) requirement.
    fn index_rules(&mut self) {
        self.index = self.keys.empty_index();
        for (id, entry) in self.entries.iter().enumerate() {
            if matches!(entry.prepared.engine, Engine::EqlSequence(_)) {
                continue;
            }
            match self.reqs[id].first() {
                Some(r) => {
                    for &v in &r.ids {
                        self.index[r.field][v as usize].push(id as u32);
                    }
                }
                None => self.always.push(id as u32),
            }
        }
    }

    fn index_sequences(&mut self) {
        self.seq_index = self.keys.empty_index();
        for (k, &id) in self.sequences.iter().enumerate() {
            match &self.seq_reqs[id as usize] {
                Some(stages) => {
                    for reqs in stages {
                        if let Some(r) = reqs.first() {
                            for &v in &r.ids {
                                self.seq_index[r.field][v as usize].push(k as u32);
                            }
                        }
                    }
                }
                None => self.seq_always.push(k as u32),
            }
        }
    }

    /// Everything the replay reads from an event: the rules' fields, the dispatch keys, the
    /// timestamp, the fields alerts describe and those threshold/new_terms simulations keep.
    fn fields_read(&self) -> prune::FieldSet {
        let mut fs = prune::FieldSet::default();
        for name in self.keys.names().chain(INFO_FIELDS.iter().copied()) {
            fs.add_field(name);
        }
        fs.add_field("@timestamp");
        for (entry, kept) in self.entries.iter().zip(&self.kept_fields) {
            match &entry.prepared.engine {
                Engine::EqlEvent(c) | Engine::EqlSequence(c) => {
                    c.fields_read().iter().for_each(|f| fs.add_field(f))
                }
                Engine::Kql(filter)
                | Engine::Threshold { filter, .. }
                | Engine::NewTerms { filter, .. } => fs.add_kql(&filter.fields_read()),
                Engine::Buffered(b) => b.add_fields(&mut fs),
            }
            kept.0.iter().for_each(|f| fs.add_field(f.as_str()));
        }
        for p in self.sup_fields.iter().flatten() {
            p.0.iter().for_each(|f| fs.add_field(f.as_str()));
        }
        fs
    }

    /// The indicator recordings threat_match rules search in [`RuleSet::run`] (none by
    /// default: an empty threat index, on which they raise nothing).
    pub fn with_indicators(mut self, indicators: Vec<IndicatorSet>) -> Self {
        self.indicators = indicators;
        self
    }

    /// How many events a buffered rule (threat_match) may hold per recording; past it the
    /// rule fails on that recording ([`ReplayError::TooManyBuffered`]).
    pub fn with_buffer_limit(mut self, limit: usize) -> Self {
        self.buffer_limit = limit;
        self
    }

    /// How many kept events of a threshold / new_terms rule trigger simulating the executions
    /// a streamed recording has passed (at least 1; see [`schedule::Rolling`]).
    pub fn with_kept_flush(mut self, events: usize) -> Self {
        self.kept_flush = events.max(1);
        self
    }

    /// Alerts as the rules raise them, before their `alert_suppression` (`ruleforge eval`).
    pub fn without_suppression(mut self) -> Self {
        for e in &mut self.entries {
            e.suppression = None;
        }
        self
    }

    /// Whether some replayed rule needs indicator recordings (threat_match).
    pub fn uses_indicators(&self) -> bool {
        self.entries.iter().any(|e| {
            matches!(
                e.prepared.engine,
                Engine::Buffered(buffered::Buffered::ThreatMatch(_))
            )
        })
    }

    /// Whether events are parsed whole (some rule reads every field) and how many fields
    /// and subtrees are kept otherwise.
    pub fn parsed_fields(&self) -> Option<usize> {
        (!self.fields.is_everything()).then(|| self.fields.len())
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

    /// Replays every rule over a recording already in memory (a fixture of `ruleforge test`)
    /// through the same engine as [`RuleSet::run`]: same dispatch, field table, sequence
    /// feeding, schedule simulation, buffered stage and suppression. `indicators` are what
    /// threat_match rules search; with a `baseline` (epoch ms) the rules start running then.
    /// Per replayed rule (as [`RuleSet::rules`]): its alerts, or why replaying failed.
    ///
    /// The recording is in memory, so it need not be in time order: a sequence rule is fed
    /// the events in its own time order (timestamp, tiebreaker, position, as Elasticsearch
    /// sorts them) when the recording's order differs; an event without a usable time is an
    /// error of every sequence rule, as it would be when streaming.
    pub fn run_events(
        &self,
        events: &EventFile,
        indicators: &[IndicatorSet],
        baseline: Option<i64>,
    ) -> Vec<Result<Vec<Alert>, ReplayError>> {
        let orders = self.sequence_orders(events);
        let mut results = self.empty_results();
        // Every rule in input order, except the sequences that need another order.
        let mut run = FileRun::new(self, &events.path, indicators);
        run.baseline = baseline;
        run.fixed_index = true;
        for (s, order) in run.sequences.iter_mut().zip(&orders) {
            if !matches!(order, Ok(None)) {
                s.executor = None;
            }
        }
        run.mark(&results);
        feed_in_memory(&mut run, events, 0..events.len(), &mut results);
        run.finish(&mut results);
        // Then each distinct time order once, for the sequences that need it.
        let mut done: Vec<&Vec<usize>> = Vec::new();
        for order in orders
            .iter()
            .filter_map(|o| o.as_ref().ok().and_then(Option::as_ref))
        {
            if done.contains(&order) {
                continue;
            }
            done.push(order);
            let mut run = FileRun::new(self, &events.path, indicators);
            run.baseline = baseline;
            run.fixed_index = true;
            run.sequences_only = true;
            for (s, o) in run.sequences.iter_mut().zip(&orders) {
                if !matches!(o, Ok(Some(x)) if x == order) {
                    s.executor = None;
                }
            }
            run.mark(&results);
            feed_in_memory(&mut run, events, order.iter().copied(), &mut results);
            run.finish(&mut results);
        }
        let mut failed: HashMap<u32, ReplayError> = HashMap::new();
        for (&id, order) in self.sequences.iter().zip(orders) {
            if let Err(e) = order {
                failed.insert(id, e);
            }
        }
        results
            .into_iter()
            .enumerate()
            .map(|(id, res)| {
                if let Some(e) = failed.remove(&(id as u32)).or(res.failure) {
                    return Err(e);
                }
                if !res.errors.is_empty() {
                    return Err(ReplayError::Eql(res.errors.join("; ")));
                }
                Ok(res.alerts.into_iter().map(|a| a.alert).collect())
            })
            .collect()
    }

    /// Per sequence rule (as `sequences`): `Ok(None)` when the recording is in the rule's time
    /// order, `Ok(Some(order))` the event indexes in that order otherwise, or the error of an
    /// event without a usable time. Computed once per timestamp/tiebreaker setting.
    fn sequence_orders(&self, events: &EventFile) -> Vec<Result<Option<Vec<usize>>, ReplayError>> {
        type Key = (Option<String>, Option<String>);
        let mut by_setting: HashMap<Key, Result<Option<Vec<usize>>, ReplayError>> = HashMap::new();
        self.sequences
            .iter()
            .map(|&id| {
                let entry = &self.entries[id as usize];
                let Engine::EqlSequence(c) = &entry.prepared.engine else {
                    return Ok(None);
                };
                let key = (
                    entry.rule.timestamp_field.clone(),
                    entry.rule.tiebreaker_field.clone(),
                );
                by_setting
                    .entry(key)
                    .or_insert_with(|| time_order(c, events))
                    .clone()
            })
            .collect()
    }

    /// Replays every rule over one recording, appending to `results` (one per rule, from
    /// [`RuleSet::empty_results`]). `progress` is told the bytes and events read so far.
    pub fn run(
        &self,
        source: Source,
        results: &mut [RuleResult],
        progress: &(dyn Fn(Counts) + Sync),
    ) -> Result<Counts, StreamError> {
        self.run_to(source, results, progress, None)
    }

    /// As [`RuleSet::run`], handing each alert to `sink` (with its rule's index in
    /// [`RuleSet::rules`]) once it is final instead of keeping it in `results`, so memory does
    /// not grow with the alerts: an event query's alert (no `alert_suppression`) after each
    /// batch, every other alert at the end of its recording (a sequence or threshold/new_terms
    /// rule that fails later on a recording raises none of it; suppression groups a whole
    /// recording). Order: batch by batch, then the recording's end; within one, by rule index,
    /// each rule's alerts in the order [`RuleSet::run`] keeps them.
    pub fn run_to(
        &self,
        source: Source,
        results: &mut [RuleResult],
        progress: &(dyn Fn(Counts) + Sync),
        mut sink: Option<&mut dyn FnMut(usize, StreamAlert)>,
    ) -> Result<Counts, StreamError> {
        let mut run = FileRun::new(self, &source.path, &self.indicators);
        run.rolling = true;
        run.mark(results);
        let mut reader = Lines::new(source);
        let mut counts = Counts::default();
        loop {
            let batch = match reader.next_batch()? {
                Batch::Lines(lines) => parse_lines(&reader.path, &self.fields, lines)?,
                Batch::Array(events) => events,
                Batch::End => break,
            };
            if batch.is_empty() {
                continue;
            }
            counts.events += batch.len() as u64;
            counts.bytes = reader.bytes;
            run.feed(batch, results);
            if let Some(sink) = sink.as_mut() {
                run.release(results);
                self.drain(results, *sink, false);
            }
            progress(counts);
        }
        if counts.events == 0 {
            return Err(StreamError::Event(EventError::Empty { path: reader.path }));
        }
        run.finish(results);
        if let Some(sink) = sink {
            self.drain(results, sink, true);
        }
        Ok(counts)
    }

    /// Hands the final alerts in `results` to `sink`: those of event queries without
    /// suppression, or every one at a recording's `end`.
    fn drain(
        &self,
        results: &mut [RuleResult],
        sink: &mut dyn FnMut(usize, StreamAlert),
        end: bool,
    ) {
        for (id, (entry, res)) in self.entries.iter().zip(results.iter_mut()).enumerate() {
            let final_now = end
                || (entry.suppression.is_none()
                    && matches!(
                        entry.prepared.engine,
                        Engine::EqlEvent(_)
                            | Engine::Kql(_)
                            | Engine::Threshold { .. }
                            | Engine::NewTerms { .. }
                    ));
            if final_now && !res.alerts.is_empty() {
                res.alerts.drain(..).for_each(|a| sink(id, a));
            }
        }
    }
}

/// Feeds an in-memory recording's events, in `order`, keeping their indexes.
fn feed_in_memory(
    run: &mut FileRun<'_, '_>,
    events: &EventFile,
    order: impl Iterator<Item = usize>,
    results: &mut [RuleResult],
) {
    let mut all = order.map(|i| {
        let value = std::borrow::Cow::Borrowed(&events.values[i]);
        Ev {
            eql_time: default_time().and_then(|c| c.event_time(&value)),
            value,
            position: events.positions[i],
            index: i,
            timestamp: events.timestamps[i],
        }
    });
    loop {
        let batch: Vec<Ev<'_>> = all.by_ref().take(BATCH_LINES).collect();
        if batch.is_empty() {
            break;
        }
        run.feed(batch, results);
    }
}

/// The event indexes of an in-memory recording in a sequence rule's time order, `None` when
/// that is the recording's order; an event without a usable time is an error.
fn time_order(c: &eql::Compiled, events: &EventFile) -> Result<Option<Vec<usize>>, ReplayError> {
    // `ordered` leaves out the events without a usable time.
    let order: Vec<usize> = c
        .ordered(&events.values)
        .into_iter()
        .map(|o| o.index)
        .collect();
    if order.len() < events.len() {
        let i = (0..events.len())
            .find(|&i| c.event_time(&events.values[i]).is_none())
            .unwrap_or(0);
        return Err(ReplayError::NoTimestamp {
            file: events.path.clone(),
            position: events.positions[i],
            what: "an EQL sequence",
        });
    }
    let sorted = order.iter().enumerate().all(|(k, &i)| k == i);
    Ok((!sorted).then_some(order))
}

/// One parsed event of a batch: parsed from a line (owned) or an in-memory recording's
/// (borrowed, so a fixture is not copied).
struct Ev<'v> {
    value: std::borrow::Cow<'v, Value>,
    /// 1-based line (NDJSON) or array index (JSON array).
    position: usize,
    /// 0-based index among the recording's events.
    index: usize,
    timestamp: Option<i64>,
    /// EQL's time of the event with the default options (`@timestamp`), shared by every
    /// sequence rule that uses them instead of being parsed once per rule.
    eql_time: Option<i64>,
}

/// The fields [`EventInfo`] describes an event with.
const INFO_FIELDS: &[&str] = &["process.name", "process.command_line"];

fn info_of(ev: &Ev<'_>) -> EventInfo {
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
    Array(Vec<Ev<'static>>),
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
                eql_time: default_time().and_then(|c| c.event_time(&value)),
                value: std::borrow::Cow::Owned(value),
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
fn parse_lines(
    path: &Path,
    fields: &prune::FieldSet,
    lines: Vec<(usize, String)>,
) -> Result<Vec<Ev<'static>>, StreamError> {
    let ts = FieldPath::new("@timestamp");
    type Parsed = (usize, Value, Option<i64>);
    let parsed: Vec<Result<Option<Parsed>, EventError>> = lines
        .into_par_iter()
        .map(|(line, text)| {
            let text = text.strip_suffix('\n').unwrap_or(&text);
            let text = text.strip_suffix('\r').unwrap_or(text);
            if text.trim().is_empty() {
                return Ok(None);
            }
            let value = fields.parse(text).map_err(|e| EventError::Parse {
                path: path.to_path_buf(),
                line,
                column: e.column(),
                message: format!("invalid JSON: {e}"),
            })?;
            let Some(value) = value else {
                return Err(EventError::Parse {
                    path: path.to_path_buf(),
                    line,
                    column: 1,
                    message: "an event must be a JSON object".into(),
                });
            };
            let eql_time = default_time().and_then(|c| c.event_time(&value));
            Ok(Some((line, value, eql_time)))
        })
        .collect();
    let mut out = Vec::with_capacity(parsed.len());
    for p in parsed {
        if let Some((position, value, eql_time)) = p? {
            let timestamp = ts.first(&value).and_then(parse_timestamp);
            out.push(Ev {
                eql_time,
                value: std::borrow::Cow::Owned(value),
                position,
                index: 0,
                timestamp,
            });
        }
    }
    Ok(out)
}

/// A statement compiled with EQL's default options, to read event time as sequences do.
fn default_time() -> Option<&'static eql::Compiled> {
    static C: std::sync::OnceLock<Option<eql::Compiled>> = std::sync::OnceLock::new();
    C.get_or_init(|| {
        eql::parse("any where true")
            .ok()?
            .compile(&eql::Options::default())
            .ok()
    })
    .as_ref()
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
    /// The rule orders events by `@timestamp` (EQL's default), so [`Ev::eql_time`] applies.
    default_time: bool,
    /// Time of the previous event (order is checked on every event, pushed or not).
    last_ts: i64,
    error: Option<String>,
    /// With `alert_suppression`: what suppression reads from events, and those fields of the
    /// remembered events (`values`, pruned as `seen`) and of the alerts' events.
    sup_fields: Option<&'s Projection>,
    values: HashMap<usize, Value>,
    alert_values: HashMap<usize, Value>,
}

/// The matching events of a threshold / new_terms rule over one recording.
#[derive(Default)]
struct Kept {
    values: Vec<Value>,
    positions: Vec<usize>,
    indexes: Vec<usize>,
    timestamps: Vec<Option<i64>>,
    info: Vec<EventInfo>,
    /// A buffered rule selected more events than it may hold: they were dropped.
    overflow: bool,
    /// Streamed threshold / new_terms: the executions simulated so far ([`schedule::Rolling`]).
    rolling: Option<Rolled>,
    /// The most events held at once.
    peak: usize,
}

impl Kept {
    /// The kept events alone (a buffered rule's input; no simulation state).
    fn copy_events(&self) -> Kept {
        Kept {
            values: self.values.clone(),
            positions: self.positions.clone(),
            indexes: self.indexes.clone(),
            timestamps: self.timestamps.clone(),
            info: self.info.clone(),
            overflow: self.overflow,
            rolling: None,
            peak: self.peak,
        }
    }
}

/// What a streamed threshold / new_terms rule keeps besides the events no later run may
/// read: the simulation's state and the alerts raised so far.
#[derive(Default)]
struct Rolled {
    state: schedule::Rolling,
    /// Simulate when this many events are kept.
    next_flush: usize,
    /// The latest and earliest time of the kept events so far (the rule's time field).
    max_time: Option<i64>,
    anchor: Option<i64>,
    alerts: Vec<StreamAlert>,
    /// With suppression: the kept fields of the alerts' events, by recording index.
    values: HashMap<usize, Value>,
    failure: Option<ReplayError>,
}

/// The replay of one recording by a rule set.
struct FileRun<'s, 'r> {
    set: &'s RuleSet<'r>,
    path: PathBuf,
    next_index: usize,
    sequences: Vec<SeqState<'s>>,
    kept: HashMap<u32, Kept>,
    /// ES|QL rules all keep every event of the recording whole (`FROM` reads the index), so
    /// they share one copy: `esql_rules` are the rules that saw events, `esql_last` the
    /// recording index of the event kept last.
    esql_kept: Kept,
    esql_rules: std::collections::BTreeSet<u32>,
    esql_last: Option<usize>,
    /// For sequence rules ordered by `@timestamp`: the time of the previous event and the
    /// first order error of the recording.
    last_ts: i64,
    order_error: Option<String>,
    /// Rules start running at this instant (see [`super::reference::run`]).
    baseline: Option<i64>,
    /// What threat_match rules search.
    indicators: &'s [IndicatorSet],
    /// Events come with their recording indexes (an in-memory recording, maybe reordered).
    fixed_index: bool,
    /// Only the sequence rules run (a pass over a recording in another time order).
    sequences_only: bool,
    /// Per rule, its alert count before this recording: this recording's alerts follow.
    starts: Vec<usize>,
    /// Per per-event rule with suppression: the suppression fields of its alerts' events.
    alert_values: HashMap<u32, HashMap<usize, Value>>,
    /// Threshold / new_terms executions are simulated as the recording streams by (it is read
    /// from a source, in its order), instead of at its end.
    rolling: bool,
}

impl<'s, 'r> FileRun<'s, 'r> {
    fn new(set: &'s RuleSet<'r>, path: &Path, indicators: &'s [IndicatorSet]) -> FileRun<'s, 'r> {
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
                    last_ts: i64::MIN,
                    default_time: set.entries[id as usize].rule.timestamp_field.is_none(),
                    error: None,
                    sup_fields: set.sup_fields[id as usize].as_ref(),
                    values: HashMap::new(),
                    alert_values: HashMap::new(),
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
            esql_kept: Kept::default(),
            esql_rules: std::collections::BTreeSet::new(),
            esql_last: None,
            last_ts: i64::MIN,
            order_error: None,
            baseline: None,
            indicators,
            fixed_index: false,
            sequences_only: false,
            starts: Vec::new(),
            alert_values: HashMap::new(),
            rolling: false,
        }
    }

    /// Moves into `results` the alerts streamed threshold / new_terms rules (without
    /// suppression) raised so far that no later execution can precede: threshold alerts as
    /// their executions are simulated, new_terms alerts on events before every kept one (they
    /// are ordered by event). Only for [`RuleSet::run_to`]: a rule that later fails on the
    /// recording keeps the alerts handed over before.
    fn release(&mut self, results: &mut [RuleResult]) {
        for (&id, k) in self.kept.iter_mut() {
            let entry = &self.set.entries[id as usize];
            if entry.suppression.is_some() {
                continue;
            }
            let Some(r) = k.rolling.as_mut() else {
                continue;
            };
            if r.failure.is_some() || r.alerts.is_empty() {
                continue;
            }
            let out = &mut results[id as usize].alerts;
            if matches!(entry.prepared.engine, Engine::NewTerms { .. }) {
                let first =
                    |a: &StreamAlert| a.alert.events.first().cloned().flatten().map(|e| e.index);
                r.alerts.sort_by_key(first);
                let bound = k.indexes.first().copied().unwrap_or(usize::MAX);
                let n = r
                    .alerts
                    .partition_point(|a| first(a).is_some_and(|i| i < bound));
                out.extend(r.alerts.drain(..n));
            } else {
                out.append(&mut r.alerts);
            }
        }
    }

    /// Notes where this recording's alerts start in `results`.
    fn mark(&mut self, results: &[RuleResult]) {
        self.starts = results.iter().map(|r| r.alerts.len()).collect();
    }

    /// The per-event rules and filters an event could match (sorted, without duplicates).
    fn candidates(&self, keys: &prefilter::KeyValues, out: &mut Vec<u32>) {
        out.clear();
        out.extend_from_slice(&self.set.always);
        for (field, index) in self.set.index.iter().enumerate() {
            if index.is_empty() {
                continue;
            }
            match keys.values(field) {
                Some(values) => {
                    for &v in values {
                        if let Some(ids) = index.get(v as usize) {
                            out.extend_from_slice(ids);
                        }
                    }
                }
                // Not plain strings: let the rules' own filters decide.
                None => index.iter().for_each(|ids| out.extend_from_slice(ids)),
            }
        }
        out.sort_unstable();
        out.dedup();
        out.retain(|&id| {
            self.set.reqs[id as usize]
                .iter()
                .skip(1)
                .all(|r| keys.may_meet(r))
        });
    }

    /// The sequence rules (by position) for which an event could meet some stage.
    fn seq_candidates(
        &self,
        keys: &prefilter::KeyValues,
        memo: &mut predicates::Memo,
        table: &table::Table<'_>,
    ) -> Vec<u32> {
        let set = self.set;
        let mut out = set.seq_always.clone();
        for (field, index) in set.seq_index.iter().enumerate() {
            if index.is_empty() {
                continue;
            }
            match keys.values(field) {
                Some(values) => {
                    for &v in values {
                        if let Some(ks) = index.get(v as usize) {
                            out.extend_from_slice(ks);
                        }
                    }
                }
                None => index.iter().for_each(|ks| out.extend_from_slice(ks)),
            }
        }
        out.sort_unstable();
        out.dedup();
        out.retain(|&k| {
            let id = set.sequences[k as usize] as usize;
            set.seq_reqs[id].as_ref().is_none_or(|stages| {
                stages
                    .iter()
                    .any(|reqs| reqs.iter().all(|r| keys.may_meet(r)))
            })
        });
        // A stage one of whose shared conjuncts is false cannot match.
        out.retain(|&k| {
            let filters = &set.conjuncts[set.sequences[k as usize] as usize];
            filters.is_empty() || filters.iter().any(|f| memo.all(&set.shared, &f.ids, table))
        });
        out
    }

    fn matches(
        &self,
        id: u32,
        table: &table::Table<'_>,
        value: &Value,
        memo: &mut predicates::Memo,
    ) -> bool {
        let engine = &self.set.entries[id as usize].prepared.engine;
        if let (Engine::EqlEvent(_), [f]) = (engine, self.set.conjuncts[id as usize].as_slice()) {
            if !memo.all(&self.set.shared, &f.ids, table) {
                return false;
            }
            // The shared conjuncts are the whole filter: they have decided.
            if f.complete {
                return true;
            }
        }
        match engine {
            Engine::EqlEvent(c) => c.matches_event(table),
            Engine::Kql(c) => c.matches_doc(table),
            Engine::Threshold { filter, .. } | Engine::NewTerms { filter, .. } => {
                filter.matches_doc(table)
            }
            Engine::Buffered(b) => b.selects(table, value),
            Engine::EqlSequence(_) => false,
        }
    }

    fn feed(&mut self, mut batch: Vec<Ev<'_>>, results: &mut [RuleResult]) {
        if !self.fixed_index {
            for ev in &mut batch {
                ev.index = self.next_index;
                self.next_index += 1;
            }
        }
        // Parallel: which per-event rules and filters each event matches.
        let this = &*self;
        type PerEvent<'t> = (Vec<u32>, Vec<u32>, Option<table::Table<'t>>);
        let per_event: Vec<PerEvent<'_>> = batch
            .par_iter()
            .map_init(
                || (Vec::new(), predicates::Memo::default()),
                |(cands, memo), ev| {
                    // The event's fields, looked up once for the dispatch and every rule that may
                    // match it.
                    let table = this.set.slots.table(&ev.value);
                    let keys = prefilter::KeyValues::of(&this.set.keys, &table);
                    memo.reset(&this.set.shared);
                    if this.sequences_only {
                        cands.clear();
                    } else {
                        this.candidates(&keys, cands);
                    }
                    let seqs = this.seq_candidates(&keys, memo, &table);
                    if cands.is_empty() && seqs.is_empty() {
                        return (Vec::new(), seqs, None);
                    }
                    let hits = cands
                        .iter()
                        .copied()
                        .filter(|&id| this.matches(id, &table, &ev.value, memo))
                        .collect::<Vec<u32>>();
                    (hits, seqs, Some(table))
                },
            )
            .collect();
        let mut hits = Vec::with_capacity(per_event.len());
        let mut seq_cands = Vec::with_capacity(per_event.len());
        let mut tables = Vec::with_capacity(per_event.len());
        for (h, s, t) in per_event {
            hits.push(h);
            seq_cands.push(s);
            tables.push(t);
        }
        // Per sequence rule, the events of the batch that may concern it (in order).
        let mut per_seq: Vec<Vec<usize>> = vec![Vec::new(); self.sequences.len()];
        for (i, ks) in seq_cands.iter().enumerate() {
            for &k in ks {
                per_seq[k as usize].push(i);
            }
        }
        let order_error = self.check_default_order(&batch);
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
                        if let Some(p) = &self.set.sup_fields[id as usize] {
                            let values = self.alert_values.entry(id).or_default();
                            values.insert(ev.index, p.project(&ev.value));
                        }
                    }
                    Engine::Buffered(buffered::Buffered::Esql(_)) => {
                        self.esql_rules.insert(id);
                        if self.esql_last == Some(ev.index) {
                            continue;
                        }
                        self.esql_last = Some(ev.index);
                        let k = &mut self.esql_kept;
                        if k.overflow {
                            continue;
                        }
                        if k.values.len() >= self.set.buffer_limit {
                            *k = Kept {
                                overflow: true,
                                ..Kept::default()
                            };
                            continue;
                        }
                        k.values
                            .push(self.set.kept_fields[id as usize].project(&ev.value));
                        k.positions.push(ev.position);
                        k.indexes.push(ev.index);
                        k.timestamps.push(ev.timestamp);
                        k.info.push(info_of(ev));
                        k.peak = k.peak.max(k.values.len());
                    }
                    engine => {
                        let k = self.kept.entry(id).or_default();
                        if matches!(engine, Engine::Buffered(_)) {
                            if k.overflow {
                                continue;
                            }
                            if k.values.len() >= self.set.buffer_limit {
                                // Alerting on part of the selected events would be wrong:
                                // the rule fails on this recording instead.
                                *k = Kept {
                                    overflow: true,
                                    ..Kept::default()
                                };
                                continue;
                            }
                        }
                        let rolls = self.rolling
                            && matches!(engine, Engine::Threshold { .. } | Engine::NewTerms { .. });
                        if rolls && k.rolling.is_none() {
                            k.rolling = Some(Rolled {
                                next_flush: self.set.kept_flush,
                                ..Rolled::default()
                            });
                        }
                        if k.rolling.as_ref().is_some_and(|r| r.failure.is_some()) {
                            continue;
                        }
                        let value = self.set.kept_fields[id as usize].project(&ev.value);
                        if rolls {
                            let entry = &self.set.entries[id as usize];
                            if !admit(k, entry, &value, ev, &self.path) {
                                continue;
                            }
                        }
                        k.values.push(value);
                        k.positions.push(ev.position);
                        k.indexes.push(ev.index);
                        k.timestamps.push(ev.timestamp);
                        k.info.push(info_of(ev));
                        k.peak = k.peak.max(k.values.len());
                        if k.rolling
                            .as_ref()
                            .is_some_and(|r| k.values.len() >= r.next_flush)
                        {
                            let entry = &self.set.entries[id as usize];
                            roll(k, entry, &self.path, self.set.kept_flush, false);
                        }
                    }
                }
            }
        }
        // Sequences: each rule is fed its events of the batch in order; rules run in parallel.
        let path = &self.path;
        let order_error = order_error.as_deref();
        self.sequences
            .par_iter_mut()
            .zip(per_seq)
            .for_each(|(s, events)| feed_sequence(s, &batch, &tables, &events, path, order_error));
        // Freeing the parsed events is a noticeable share of a batch: on every core, not only
        // this thread.
        drop(tables);
        batch.into_par_iter().for_each(drop);
    }

    /// Time order for the sequence rules that order events by `@timestamp` (EQL's default),
    /// checked once for all of them: the error of the first event without a usable time or
    /// earlier than the one before it, if any so far.
    fn check_default_order(&mut self, batch: &[Ev<'_>]) -> Option<String> {
        if self.order_error.is_none() {
            for ev in batch {
                match ev.eql_time {
                    None => {
                        self.order_error = Some(no_time_error(&self.path, ev.position));
                        break;
                    }
                    Some(ts) if ts < self.last_ts => {
                        self.order_error =
                            Some(order_error(&self.path, ev.position, ts, self.last_ts));
                        break;
                    }
                    Some(ts) => self.last_ts = ts,
                }
            }
        }
        self.order_error.clone()
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
        // Per rule with suppression: the suppression fields of its alerts' events.
        let mut values = self.alert_values;
        // Per kept-event rule: where its simulated executions start.
        let mut anchors: HashMap<u32, Option<i64>> = HashMap::new();
        for mut s in self.sequences {
            let out = &mut results[s.id as usize];
            if let Some(e) = s.error {
                out.errors.push(e);
                continue;
            }
            let Some(ex) = s.executor else { continue };
            out.alerts.extend(s.done);
            match ex.finish() {
                Ok(hits) => {
                    for a in hits
                        .into_iter()
                        .filter_map(|h| sequence_alert(h, &s.seen, &self.path))
                    {
                        keep_alert_values(&mut s.alert_values, &s.values, &a);
                        out.alerts.push(a);
                    }
                }
                Err(e) => out.errors.push(format!("{shown}: {}", e.message)),
            }
            if s.sup_fields.is_some() {
                values.insert(s.id, s.alert_values);
            }
        }
        let mut kept: Vec<(u32, Option<Kept>)> =
            self.kept.into_iter().map(|(id, k)| (id, Some(k))).collect();
        // ES|QL rules: the shared events, copied for one rule at a time (the last takes them).
        kept.extend(self.esql_rules.iter().map(|&id| (id, None)));
        kept.sort_by_key(|(id, _)| *id);
        let last_esql = self.esql_rules.last().copied();
        let mut esql_kept = Some(self.esql_kept);
        for (id, k) in kept {
            let k = match k {
                Some(k) => k,
                None if Some(id) == last_esql => esql_kept.take().unwrap_or_default(),
                None => esql_kept
                    .as_ref()
                    .map(Kept::copy_events)
                    .unwrap_or_default(),
            };
            let entry = &self.set.entries[id as usize];
            let out = &mut results[id as usize];
            out.peak_kept = out.peak_kept.max(k.peak);
            let input = Input {
                path: &self.path,
                baseline: self.baseline,
                indicators: self.indicators,
                buffer_limit: self.set.buffer_limit,
            };
            match scheduled_alerts(entry, k, &input) {
                Ok((alerts, kept_values, anchor)) => {
                    out.alerts.extend(alerts);
                    values.insert(id, kept_values);
                    anchors.insert(id, anchor);
                }
                Err(e) => {
                    out.errors.push(e.to_string());
                    out.failure.get_or_insert(e);
                }
            }
        }
        // The baseline and suppression apply to each recording's alerts of a rule.
        for (id, entry) in self.set.entries.iter().enumerate() {
            if self.baseline.is_none() && entry.suppression.is_none() {
                continue;
            }
            let start = self.starts.get(id).copied().unwrap_or(0);
            let out = &mut results[id];
            if out.alerts.len() <= start {
                continue;
            }
            let mine = out.alerts.split_off(start);
            let key = id as u32;
            let anchor = if entry.prepared.schedule_by_kept() {
                Some(anchors.get(&key).copied().flatten())
            } else {
                None
            };
            let settled = settle(
                entry,
                mine,
                values.get(&key),
                anchor,
                self.baseline,
                &self.path,
            );
            out.alerts.extend(settled);
        }
    }
}

/// This recording's alerts of one rule after the rule's baseline and `alert_suppression`:
/// alerts that exist before the rule's first run window are dropped, then suppression groups
/// the rest on the rule's simulated executions (starting at `anchor` for rules simulated over
/// kept events, else at the earliest alert event). `values` holds the suppression fields of the
/// alerts' events, by recording index.
fn settle(
    entry: &Entry<'_>,
    mut alerts: Vec<StreamAlert>,
    values: Option<&HashMap<usize, Value>>,
    anchor: Option<Option<i64>>,
    baseline: Option<i64>,
    path: &Path,
) -> Vec<StreamAlert> {
    let schedule = &entry.prepared.schedule;
    if let Some(b) = baseline {
        let first_window = b - schedule.lookback_ms;
        alerts.retain(|a| {
            a.info
                .iter()
                .flatten()
                .filter_map(|i| i.timestamp)
                .max()
                .is_none_or(|t| t >= first_window)
        });
    }
    let Some(sup) = &entry.suppression else {
        return alerts;
    };
    if alerts.is_empty() {
        return alerts;
    }
    // A recording of just the alerts' events (their suppression fields), in index order.
    let mut index: Vec<usize> = alerts
        .iter()
        .flat_map(|a| a.alert.events.iter().flatten().map(|e| e.index))
        .collect();
    index.sort_unstable();
    index.dedup();
    let slot: HashMap<usize, usize> = index.iter().enumerate().map(|(k, &i)| (i, k)).collect();
    let mut positions = vec![0; index.len()];
    let mut times = vec![None; index.len()];
    let mut infos: Vec<Option<EventInfo>> = vec![None; index.len()];
    for a in &alerts {
        for (e, info) in a.alert.events.iter().zip(&a.info) {
            if let Some(e) = e {
                let k = slot[&e.index];
                positions[k] = e.position;
                if let Some(i) = info {
                    times[k] = i.timestamp;
                    infos[k] = Some(i.clone());
                }
            }
        }
    }
    let view_values = index
        .iter()
        .map(|i| {
            values
                .and_then(|v| v.get(i))
                .cloned()
                .unwrap_or(Value::Null)
        })
        .collect();
    let view = EventFile::from_parts(path.to_path_buf(), view_values, positions, times);
    let remapped: Vec<Alert> = alerts
        .into_iter()
        .map(|a| {
            let mut a = a.alert;
            a.events
                .iter_mut()
                .flatten()
                .for_each(|e| e.index = slot[&e.index]);
            a
        })
        .collect();
    let first = match anchor {
        Some(a) => a,
        None => (0..view.len())
            .filter_map(|k| schedule.event_time(&view, k))
            .min(),
    };
    let Some(first) = first else {
        return restore(remapped, &index, &infos);
    };
    let grid = suppression::Grid {
        start: baseline.map_or(first, |b| b.max(first)),
        interval_ms: schedule.interval_ms,
    };
    restore(
        suppression::apply(sup, remapped, &view, schedule, grid),
        &index,
        &infos,
    )
}

/// Alerts over [`settle`]'s view of a recording, back on the recording's indexes.
fn restore(alerts: Vec<Alert>, index: &[usize], infos: &[Option<EventInfo>]) -> Vec<StreamAlert> {
    alerts
        .into_iter()
        .map(|mut a| {
            let info = a
                .events
                .iter()
                .map(|e| e.as_ref().and_then(|e| infos[e.index].clone()))
                .collect();
            a.events
                .iter_mut()
                .flatten()
                .for_each(|e| e.index = index[e.index]);
            if let Detail::Suppressed(s) = &mut a.detail {
                s.suppressed
                    .iter_mut()
                    .for_each(|e| e.index = index[e.index]);
            }
            StreamAlert { alert: a, info }
        })
        .collect()
}

fn no_time_error(path: &Path, position: usize) -> String {
    format!(
        "{}:{}: the event has no usable timestamp; an EQL sequence needs event time",
        path.display(),
        position
    )
}

fn order_error(path: &Path, position: usize, ts: i64, last: i64) -> String {
    format!(
        "{}:{}: event time {} is before the previous event's {}: sequence rules need each recording in timestamp order",
        path.display(),
        position,
        crate::event::format_millis(ts),
        crate::event::format_millis(last),
    )
}

/// Feeds a sequence rule the events of a batch that may concern it (`events`, batch indexes
/// in order). Every event of the batch is checked for time order, pushed or not: for rules
/// ordered by `@timestamp` that check was made once for all (`order_error`).
fn feed_sequence(
    s: &mut SeqState<'_>,
    batch: &[Ev<'_>],
    tables: &[Option<table::Table<'_>>],
    events: &[usize],
    path: &Path,
    order_error: Option<&str>,
) {
    if s.executor.is_none() {
        return;
    }
    if s.default_time {
        if let Some(e) = order_error {
            s.error = Some(e.to_string());
            s.executor = None;
            return;
        }
    } else if !check_own_order(s, batch, path) {
        return;
    }
    let Some(ex) = s.executor.as_mut() else {
        return;
    };
    // The executor's time: the last event pushed to it.
    let mut now = i64::MIN;
    for &i in events {
        let ev = &batch[i];
        let time = if s.default_time {
            ev.eql_time
        } else {
            s.compiled.event_time(&ev.value)
        };
        // Checked above: every event of the batch has a time.
        let Some(ts) = time else { continue };
        // Every event with sequence candidates has a table. One that matches no stage (nor
        // `until`) would change nothing in the executor's state.
        let Some(table) = &tables[i] else { continue };
        if !s.compiled.concerns(table) {
            continue;
        }
        if let Err(e) = ex.push_timed_with(ev.index, ts, &ev.value, table) {
            s.error = Some(format!("{}:{}: {}", path.display(), ev.position, e.message));
            s.executor = None;
            return;
        }
        now = ts;
        if s.compiled.matches_event(table) {
            s.seen.insert(ev.index, (ev.position, ts, info_of(ev)));
            if let Some(p) = s.sup_fields {
                s.values.insert(ev.index, p.project(&ev.value));
            }
        }
    }
    let ready = ex.take_ready();
    for a in ready
        .into_iter()
        .filter_map(|h| sequence_alert(h, &s.seen, path))
    {
        keep_alert_values(&mut s.alert_values, &s.values, &a);
        s.done.push(a);
    }
    // Hits are taken as they complete, so events older than any pending or queued match can
    // be forgotten: a queued match completed within `maxspan` of now and spans at most
    // `maxspan`, so its events are no older than two spans.
    if let Some(span) = s.compiled.maxspan() {
        if ex.streams_hits() && now != i64::MIN {
            let horizon = now.saturating_sub(span.saturating_mul(2)).saturating_sub(1);
            s.seen.retain(|_, (_, t, _)| *t >= horizon);
            let seen = &s.seen;
            s.values.retain(|i, _| seen.contains_key(i));
        }
    }
}

/// Time order with the rule's own timestamp field, on every event of the batch; false (and
/// the rule stopped with its error) on the first violation. As in the per-rule replay, an
/// event a sequence cannot place in time is an error: dropping it could lose an alert.
fn check_own_order(s: &mut SeqState<'_>, batch: &[Ev<'_>], path: &Path) -> bool {
    for ev in batch {
        let error = match s.compiled.event_time(&ev.value) {
            None => no_time_error(path, ev.position),
            Some(ts) if ts < s.last_ts => order_error(path, ev.position, ts, s.last_ts),
            Some(ts) => {
                s.last_ts = ts;
                continue;
            }
        };
        s.error = Some(error);
        s.executor = None;
        return false;
    }
    true
}

/// Keeps the suppression fields of an alert's events beyond the sequence's horizon.
fn keep_alert_values(
    keep: &mut HashMap<usize, Value>,
    values: &HashMap<usize, Value>,
    alert: &StreamAlert,
) {
    for e in alert.alert.events.iter().flatten() {
        if let Some(v) = values.get(&e.index) {
            keep.insert(e.index, v.clone());
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

/// The simulation filters the events it is given again; kept events all matched the rule's
/// filter already (and hold only projected fields), so they are passed through.
fn match_all(fallback: &kql::Compiled) -> &kql::Compiled {
    static ALL: std::sync::OnceLock<Option<kql::Compiled>> = std::sync::OnceLock::new();
    ALL.get_or_init(|| kql::parse("").ok()?.compile(&kql::FieldTypes::ecs()).ok())
        .as_ref()
        .unwrap_or(fallback)
}

/// Whether a streamed threshold / new_terms rule keeps an event: not when its time is at or
/// before an execution already simulated (the rule then fails on this recording with a located
/// error rather than raise what Kibana would not).
fn admit(k: &mut Kept, entry: &Entry<'_>, value: &Value, ev: &Ev<'_>, path: &Path) -> bool {
    let schedule = &entry.prepared.schedule;
    let Some(r) = k.rolling.as_mut() else {
        return true;
    };
    // An event without time is kept: the simulation reports it as the whole-recording one does.
    let Some(t) = schedule.time_of(value, ev.timestamp) else {
        return true;
    };
    if let Some(settled) = r.state.settled(schedule).filter(|&s| t <= s) {
        r.failure = Some(ReplayError::LateEvent {
            file: path.to_path_buf(),
            position: ev.position,
            kind: kind_of(&entry.prepared.engine),
            time: crate::event::format_millis(t),
            settled: crate::event::format_millis(settled),
        });
        let rolled = k.rolling.take();
        *k = Kept {
            rolling: rolled,
            peak: k.peak,
            ..Kept::default()
        };
        return false;
    }
    r.max_time = Some(r.max_time.map_or(t, |m| m.max(t)));
    r.anchor = Some(r.anchor.map_or(t, |a| a.min(t)));
    true
}

fn kind_of(engine: &Engine) -> &'static str {
    match engine {
        Engine::Threshold { .. } => "threshold",
        Engine::NewTerms { .. } => "new_terms",
        _ => "stateful",
    }
}

/// Simulates a streamed threshold / new_terms rule's executions over its kept events: those
/// the stream has passed, or all that are left at the recording's `end`; then drops the kept
/// events no later execution reads.
fn roll(k: &mut Kept, entry: &Entry<'_>, path: &Path, flush: usize, end: bool) {
    let Some(r) = k.rolling.as_mut() else {
        return;
    };
    if r.failure.is_some() {
        return;
    }
    let (agg, filter) = match &entry.prepared.engine {
        Engine::Threshold {
            filter, threshold, ..
        } => (schedule::Aggregation::Threshold(threshold), filter),
        Engine::NewTerms {
            filter,
            fields,
            history_ms,
            ..
        } => (
            schedule::Aggregation::NewTerms {
                fields,
                history_ms: *history_ms,
            },
            filter,
        ),
        _ => return,
    };
    let schedule = &entry.prepared.schedule;
    let file = EventFile::from_parts(
        path.to_path_buf(),
        std::mem::take(&mut k.values),
        std::mem::take(&mut k.positions),
        std::mem::take(&mut k.timestamps),
    );
    let until = (!end).then(|| r.max_time.unwrap_or(i64::MIN));
    let (alerts, drop) =
        match r
            .state
            .advance(&agg, match_all(filter), schedule, &file, None, until)
        {
            Ok(done) => done,
            Err(e) => {
                r.failure = Some(e);
                k.indexes.clear();
                k.info.clear();
                return;
            }
        };
    let with_values = entry.suppression.is_some();
    for mut a in alerts {
        let mut info = Vec::with_capacity(a.events.len());
        for e in a.events.iter_mut().flatten() {
            let kept = e.index;
            e.index = k.indexes[kept];
            if with_values {
                r.values.insert(e.index, file.values[kept].clone());
            }
            info.push(Some(k.info[kept].clone()));
        }
        r.alerts.push(StreamAlert { alert: a, info });
    }
    let keep: Vec<bool> = (0..file.len())
        .map(|j| {
            drop.is_none_or(|d| {
                schedule
                    .time_of(&file.values[j], file.timestamps[j])
                    .is_none_or(|t| t >= d)
            })
        })
        .collect();
    let mut values = file.values;
    let mut positions = file.positions;
    let mut timestamps = file.timestamps;
    retain_by(&mut values, &keep);
    retain_by(&mut positions, &keep);
    retain_by(&mut timestamps, &keep);
    retain_by(&mut k.indexes, &keep);
    retain_by(&mut k.info, &keep);
    k.values = values;
    k.positions = positions;
    k.timestamps = timestamps;
    // Doubling keeps the work linear when a single window holds many events.
    r.next_flush = flush.max(k.values.len().saturating_mul(2));
}

fn retain_by<T>(v: &mut Vec<T>, keep: &[bool]) {
    let mut i = 0;
    v.retain(|_| {
        i += 1;
        keep[i - 1]
    });
}

/// What a recording's end needs besides the kept events.
struct Input<'a> {
    path: &'a Path,
    baseline: Option<i64>,
    indicators: &'a [IndicatorSet],
    buffer_limit: usize,
}

/// What a schedule simulation or buffered evaluator raised on one recording: the alerts, the
/// kept fields of their events by recording index (with suppression) and where the simulated
/// executions start (the first kept event's time).
type Scheduled = (Vec<StreamAlert>, HashMap<usize, Value>, Option<i64>);

/// Runs the schedule simulation (threshold, new_terms) or the buffered evaluator (threat_match)
/// over a rule's kept events of one recording.
fn scheduled_alerts(
    entry: &Entry<'_>,
    k: Kept,
    input: &Input<'_>,
) -> Result<Scheduled, ReplayError> {
    let engine = &entry.prepared.engine;
    let path = input.path;
    if k.rolling.is_some() {
        return rolled_alerts(entry, k, path);
    }
    if k.overflow {
        if let Engine::Buffered(b) = engine {
            return Err(ReplayError::TooManyBuffered {
                file: path.to_path_buf(),
                kind: b.kind(),
                limit: input.buffer_limit,
            });
        }
    }
    let file = EventFile::from_parts(path.to_path_buf(), k.values, k.positions, k.timestamps);
    let baseline = input.baseline;
    let alerts = match engine {
        Engine::Threshold {
            filter,
            threshold,
            schedule,
        } => schedule::threshold(match_all(filter), threshold, schedule, &file, baseline)?,
        Engine::NewTerms {
            filter,
            fields,
            history_ms,
            schedule,
        } => schedule::new_terms(
            match_all(filter),
            fields,
            *history_ms,
            schedule,
            &file,
            baseline,
        )?,
        Engine::Buffered(b) => b.evaluate(&file, input.indicators, baseline)?,
        _ => Vec::new(),
    };
    let schedule = &entry.prepared.schedule;
    let anchor = (0..file.len())
        .filter_map(|j| schedule.event_time(&file, j))
        .min();
    let with_values = entry.suppression.is_some();
    let mut values = HashMap::new();
    // The simulation indexes the kept events; alerts index the recording.
    let remap = |e: &mut AlertEvent| {
        let kept = e.index;
        e.index = k.indexes[kept];
        kept
    };
    let alerts = alerts
        .into_iter()
        .map(|mut a| {
            let mut info = Vec::with_capacity(a.events.len());
            for e in a.events.iter_mut() {
                info.push(e.as_mut().map(|e| {
                    let kept = remap(e);
                    if with_values {
                        values.insert(e.index, file.values[kept].clone());
                    }
                    k.info[kept].clone()
                }));
            }
            StreamAlert { alert: a, info }
        })
        .collect();
    Ok((alerts, values, anchor))
}

/// The end of a streamed threshold / new_terms rule's recording: the executions left, then
/// every alert of the recording in the order of the whole-recording simulation.
fn rolled_alerts(entry: &Entry<'_>, mut k: Kept, path: &Path) -> Result<Scheduled, ReplayError> {
    roll(&mut k, entry, path, usize::MAX, true);
    let r = k.rolling.take().unwrap_or_default();
    if let Some(e) = r.failure {
        return Err(e);
    }
    let mut alerts = r.alerts;
    if matches!(entry.prepared.engine, Engine::NewTerms { .. }) {
        alerts.sort_by_key(|a| a.alert.events.first().cloned().flatten().map(|e| e.index));
    }
    Ok((alerts, r.values, r.anchor))
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
