//! Sequences: one state machine per join key, at most one pending match per stage, stages
//! processed from last to first for each event (§15). Missing-event stages (`![…]`) are checked
//! against each completed candidate: no matching event with the same keys may occur between
//! its neighbouring positive events (or, for a leading/trailing one, within `maxspan` of the
//! match's other end).

use super::Hit;
use super::ast::{SequenceAst, Stage};
use super::compile::{Compiler, KeyRef};
use super::error::EqlError;
use super::eval::Event;
use super::exec::{Filter, KeyVal, key_tuples};
use serde_json::Value;
use std::collections::{HashMap, VecDeque};

#[derive(Debug, Clone)]
pub(crate) struct SeqStage {
    pub filter: Filter,
    pub keys: Vec<KeyRef>,
    pub missing: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct SequencePlan {
    pub stages: Vec<SeqStage>,
    pub until: Option<SeqStage>,
    pub maxspan: Option<i64>,
}

fn stage(c: &Compiler<'_>, base: &[KeyRef], s: &Stage) -> Result<SeqStage, EqlError> {
    let mut keys = base.to_vec();
    for k in &s.by {
        keys.push(c.key(k)?);
    }
    Ok(SeqStage {
        filter: Filter {
            category: c.category(&s.query.category)?,
            condition: c.pred(&s.query.condition)?,
        },
        keys,
        missing: s.missing,
    })
}

impl SequencePlan {
    pub fn compile(c: &Compiler<'_>, s: &SequenceAst) -> Result<SequencePlan, EqlError> {
        let base =
            s.by.iter()
                .map(|k| c.key(k))
                .collect::<Result<Vec<_>, _>>()?;
        let nkeys = s.stages[0].by.len();
        let mut stages = Vec::new();
        for st in &s.stages {
            if st.by.len() != nkeys {
                return Err(EqlError::verify(
                    format!(
                        "inconsistent number of join keys: {} here, {} in the first stage",
                        st.by.len(),
                        nkeys
                    ),
                    st.span.clone(),
                ));
            }
            let compiled = stage(c, &base, st)?;
            let runs = match &st.runs {
                None => 1,
                Some((n, span)) => {
                    if !(1..=100).contains(n) {
                        return Err(EqlError::verify(
                            "runs must be between 1 and 100",
                            span.clone(),
                        ));
                    }
                    *n as usize
                }
            };
            for _ in 0..runs {
                stages.push(compiled.clone());
            }
        }
        let until = match &s.until {
            Some(u) => {
                if u.by.len() != nkeys {
                    return Err(EqlError::verify(
                        "inconsistent number of join keys in until",
                        u.span.clone(),
                    ));
                }
                Some(stage(c, &base, u)?)
            }
            None => None,
        };
        let any_missing = stages.iter().any(|s| s.missing);
        if any_missing {
            if stages.iter().all(|s| s.missing) {
                return Err(EqlError::verify(
                    "a sequence needs at least one positive (non-missing) stage",
                    s.span.clone(),
                ));
            }
            if s.maxspan.is_none() {
                return Err(EqlError::verify(
                    "a sequence with missing events (![…]) needs `with maxspan`",
                    s.span.clone(),
                ));
            }
        }
        if stages.len() < 2 {
            return Err(EqlError::verify(
                "a sequence needs at least two stages",
                s.span.clone(),
            ));
        }
        Ok(SequencePlan {
            stages,
            until,
            maxspan: s.maxspan.as_ref().map(|m| m.0),
        })
    }

    fn positive(&self) -> Vec<usize> {
        (0..self.stages.len())
            .filter(|&i| !self.stages[i].missing)
            .collect()
    }
}

/// One matched event: its position in the stream, the caller's index, its timestamp.
#[derive(Debug, Clone, Copy)]
struct Ev {
    pos: usize,
    index: usize,
    ts: i64,
}

/// Recent events of one missing stage per key: (stream position, timestamp).
type History = HashMap<Vec<KeyVal>, VecDeque<(usize, i64)>>;

/// A completed positive match waiting for its trailing missing-event window to close.
struct Candidate {
    events: Vec<Ev>,
    key: Vec<KeyVal>,
    /// Last timestamp a trailing missing event may have (`first + maxspan`).
    deadline: Option<i64>,
}

/// Incremental sequence matching over events pushed in timestamp order. Memory stays bounded
/// by `maxspan`: pending matches and missing-event histories older than it are dropped.
pub(crate) struct SeqRun<'p> {
    plan: &'p SequencePlan,
    positive: Vec<usize>,
    missing: Vec<usize>,
    machine: Machine,
    /// Per missing stage: key → recent matching events (position, timestamp).
    absent: Vec<History>,
    queue: VecDeque<Candidate>,
    out: Vec<Hit>,
    pos: usize,
}

impl<'p> SeqRun<'p> {
    pub fn new(plan: &'p SequencePlan) -> Self {
        let positive = plan.positive();
        let missing: Vec<usize> = (0..plan.stages.len())
            .filter(|&i| plan.stages[i].missing)
            .collect();
        SeqRun {
            plan,
            machine: Machine::new(positive.len(), plan.maxspan),
            absent: vec![HashMap::new(); missing.len()],
            positive,
            missing,
            queue: VecDeque::new(),
            out: Vec::new(),
            pos: 0,
        }
    }

    /// Feeds the next event (timestamps must not decrease); filters read `fields` (the
    /// event's values, however looked up), join keys `ev`.
    pub fn push<E: Event + ?Sized>(&mut self, index: usize, ts: i64, ev: &Value, fields: &E) {
        self.release(Some(ts));
        let pos = self.pos;
        self.pos += 1;
        let here = Ev { pos, index, ts };
        let plan = self.plan;
        for (m, &si) in self.missing.iter().enumerate() {
            let st = &plan.stages[si];
            if st.filter.matches(fields) {
                for k in key_tuples(&st.keys, ev) {
                    let q = self.absent[m].entry(k).or_default();
                    q.push_back((pos, ts));
                    if let Some(span) = plan.maxspan {
                        while q.front().is_some_and(|&(_, t)| t < ts.saturating_sub(span)) {
                            q.pop_front();
                        }
                    }
                }
            }
        }
        let mut done = Vec::new();
        for (pi, &si) in self.positive.iter().enumerate().rev() {
            let st = &plan.stages[si];
            if !st.filter.matches(fields) {
                continue;
            }
            for key in key_tuples(&st.keys, ev) {
                if let Some(seq) = self.machine.advance(pi, key.clone(), here) {
                    done.push((seq, key));
                }
            }
        }
        if let Some(u) = &plan.until {
            if u.filter.matches(fields) {
                for key in key_tuples(&u.keys, ev) {
                    self.machine.until(key, pos);
                }
            }
        }
        if self.machine.maybe_expire(ts) {
            self.sweep_absent(ts);
        }
        let trailing = self
            .missing
            .iter()
            .any(|&m| m > self.positive[self.positive.len() - 1]);
        for (events, key) in done {
            if !self.missing_ok(&events, &key, false) {
                continue;
            }
            let deadline = trailing.then(|| events[0].ts.saturating_add(plan.maxspan.unwrap_or(0)));
            self.queue.push_back(Candidate {
                events,
                key,
                deadline,
            });
        }
        self.release(None);
    }

    /// Emits queued candidates in order once their trailing windows have closed (`now` past
    /// the deadline; `None` = only those without a trailing window).
    fn release(&mut self, now: Option<i64>) {
        while let Some(c) = self.queue.front() {
            match c.deadline {
                Some(d) if now.is_none_or(|t| t <= d) => return,
                _ => {}
            }
            let Some(c) = self.queue.pop_front() else {
                return;
            };
            if c.deadline.is_some() && !self.missing_ok(&c.events, &c.key, true) {
                continue;
            }
            let mut slots: Vec<Option<usize>> = vec![None; self.plan.stages.len()];
            for (pi, &si) in self.positive.iter().enumerate() {
                slots[si] = Some(c.events[pi].index);
            }
            self.out.push(Hit::Sequence {
                events: slots,
                join_keys: c.key.iter().map(KeyVal::to_json).collect(),
            });
        }
    }

    /// All hits, once every event has been pushed.
    /// Hits released so far (in output order); later hits follow in later calls.
    pub fn take_released(&mut self) -> Vec<Hit> {
        std::mem::take(&mut self.out)
    }

    pub fn finish(mut self) -> Vec<Hit> {
        self.release(Some(i64::MAX));
        self.out
    }

    fn sweep_absent(&mut self, now: i64) {
        let Some(span) = self.plan.maxspan else {
            return;
        };
        let horizon = now.saturating_sub(span);
        for m in &mut self.absent {
            m.retain(|_, q| {
                while q.front().is_some_and(|&(_, t)| t < horizon) {
                    q.pop_front();
                }
                !q.is_empty()
            });
        }
    }

    /// No event of a missing stage with the same key in that stage's window: strictly between
    /// the neighbouring positive events; for a leading stage from `last − maxspan` up to the
    /// first positive event; for a trailing one (checked only when `trailing`) after the last
    /// positive event up to `first + maxspan`.
    fn missing_ok(&self, seq: &[Ev], key: &[KeyVal], trailing: bool) -> bool {
        let span = self.plan.maxspan.unwrap_or(i64::MAX);
        let first_ts = seq[0].ts;
        let last_ts = seq[seq.len() - 1].ts;
        for (m, &si) in self.missing.iter().enumerate() {
            let Some(hits) = self.absent[m].get(key) else {
                continue;
            };
            let prev = self
                .positive
                .iter()
                .rposition(|&p| p < si)
                .map(|pi| seq[pi].pos);
            let next = self
                .positive
                .iter()
                .position(|&p| p > si)
                .map(|pi| seq[pi].pos);
            let found = hits.iter().any(|&(h, t)| match (prev, next) {
                (Some(a), Some(b)) => h > a && h < b,
                (None, Some(b)) => h < b && t >= last_ts.saturating_sub(span),
                (Some(a), None) => trailing && h > a && t <= first_ts.saturating_add(span),
                (None, None) => false,
            });
            if found {
                return false;
            }
        }
        true
    }
}

#[derive(Debug, Clone)]
struct Pending {
    /// The events matched so far, in stage order.
    events: Vec<Ev>,
    first_ts: i64,
}

#[derive(Debug, Default)]
struct KeyState {
    /// `pending[i]`: the match waiting for stage `i + 1`.
    pending: Vec<Option<Pending>>,
    /// Position of the latest `until` event for this key.
    last_until: Option<usize>,
}

/// The per-key state machines, with expiry by `maxspan` so memory stays bounded.
struct Machine {
    stages: usize,
    maxspan: Option<i64>,
    keys: HashMap<Vec<KeyVal>, KeyState>,
    since_sweep: usize,
}

impl Machine {
    fn new(stages: usize, maxspan: Option<i64>) -> Self {
        Machine {
            stages,
            maxspan,
            keys: HashMap::new(),
            since_sweep: 0,
        }
    }

    /// Event `e` matched positive stage `pi` for `key`; returns a completed match.
    fn advance(&mut self, pi: usize, key: Vec<KeyVal>, e: Ev) -> Option<Vec<Ev>> {
        let ts = e.ts;
        if self.stages == 1 {
            return Some(vec![e]);
        }
        if pi == 0 {
            let st = self.keys.entry(key).or_insert_with(|| KeyState {
                pending: vec![None; self.stages - 1],
                last_until: None,
            });
            st.pending[0] = Some(Pending {
                events: vec![e],
                first_ts: ts,
            });
            self.since_sweep += 1;
            return None;
        }
        let st = self.keys.get_mut(&key)?;
        let mut p = st.pending[pi - 1].take()?;
        if let Some(m) = self.maxspan {
            if ts - p.first_ts > m {
                return None;
            }
        }
        if let (Some(u), Some(last)) = (st.last_until, p.events.last()) {
            if u > last.pos {
                return None;
            }
        }
        p.events.push(e);
        if pi == self.stages - 1 {
            return Some(p.events);
        }
        st.pending[pi] = Some(p);
        None
    }

    fn until(&mut self, key: Vec<KeyVal>, oi: usize) {
        if let Some(st) = self.keys.get_mut(&key) {
            st.last_until = Some(oi);
        }
    }

    /// Drops pending matches that can no longer complete within `maxspan`; true when it swept.
    fn maybe_expire(&mut self, now: i64) -> bool {
        let Some(m) = self.maxspan else {
            return false;
        };
        if self.since_sweep < 4096 || self.since_sweep < self.keys.len() {
            return false;
        }
        self.since_sweep = 0;
        self.keys.retain(|_, st| {
            for p in st.pending.iter_mut() {
                if p.as_ref().is_some_and(|p| now - p.first_ts > m) {
                    *p = None;
                }
            }
            st.pending.iter().any(Option::is_some)
        });
        true
    }
}
