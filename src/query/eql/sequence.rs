//! Sequences: one state machine per join key, at most one pending match per stage, stages
//! processed from last to first for each event (§15). Missing-event stages (`![…]`) are checked
//! against each completed candidate: no matching event with the same keys may occur between
//! its neighbouring positive events (or, for a leading/trailing one, within `maxspan` of the
//! match's other end).

use super::Hit;
use super::ast::{SequenceAst, Stage};
use super::compile::{Compiler, KeyRef};
use super::error::EqlError;
use super::exec::{Compiled, Filter, KeyVal, Ordinal, key_tuples};
use serde_json::Value;
use std::collections::HashMap;

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

    pub fn run(&self, ctx: &Compiled, events: &[Value]) -> Result<Vec<Hit>, EqlError> {
        let ords = ctx.ordered(events);
        let positive: Vec<usize> = (0..self.stages.len())
            .filter(|&i| !self.stages[i].missing)
            .collect();
        let missing: Vec<usize> = (0..self.stages.len())
            .filter(|&i| self.stages[i].missing)
            .collect();
        // Missing stages: per key, the ordinal positions of matching events.
        let mut absent: Vec<HashMap<Vec<KeyVal>, Vec<usize>>> = vec![HashMap::new(); missing.len()];
        if !missing.is_empty() {
            for (oi, o) in ords.iter().enumerate() {
                let ev = &events[o.index];
                for (m, &si) in missing.iter().enumerate() {
                    let st = &self.stages[si];
                    if st.filter.matches(ev) {
                        for k in key_tuples(&st.keys, ev) {
                            absent[m].entry(k).or_default().push(oi);
                        }
                    }
                }
            }
        }
        let mut machine = Machine::new(positive.len(), self.maxspan);
        let mut out = Vec::new();
        let mut done: Vec<(Vec<usize>, Vec<KeyVal>)> = Vec::new();
        for (oi, o) in ords.iter().enumerate() {
            let ev = &events[o.index];
            for (pi, &si) in positive.iter().enumerate().rev() {
                let st = &self.stages[si];
                if !st.filter.matches(ev) {
                    continue;
                }
                for key in key_tuples(&st.keys, ev) {
                    if let Some(seq) = machine.advance(pi, key.clone(), oi, o.ts) {
                        done.push((seq, key));
                    }
                }
            }
            if let Some(u) = &self.until {
                if u.filter.matches(ev) {
                    for key in key_tuples(&u.keys, ev) {
                        machine.until(key, oi);
                    }
                }
            }
            machine.maybe_expire(o.ts);
            for (seq, key) in done.drain(..) {
                if self.missing_ok(&seq, &key, &positive, &missing, &absent, &ords) {
                    let mut slots: Vec<Option<usize>> = vec![None; self.stages.len()];
                    for (pi, &si) in positive.iter().enumerate() {
                        slots[si] = Some(ords[seq[pi]].index);
                    }
                    out.push(Hit::Sequence {
                        events: slots,
                        join_keys: key.iter().map(KeyVal::to_json).collect(),
                    });
                }
            }
        }
        Ok(out)
    }

    fn missing_ok(
        &self,
        seq: &[usize],
        key: &[KeyVal],
        positive: &[usize],
        missing: &[usize],
        absent: &[HashMap<Vec<KeyVal>, Vec<usize>>],
        ords: &[Ordinal],
    ) -> bool {
        let span = self.maxspan.unwrap_or(i64::MAX);
        let first_ts = ords[seq[0]].ts;
        let last_ts = ords[seq[seq.len() - 1]].ts;
        for (m, &si) in missing.iter().enumerate() {
            let Some(hits) = absent[m].get(key) else {
                continue;
            };
            let prev = positive.iter().rposition(|&p| p < si).map(|pi| seq[pi]);
            let next = positive.iter().position(|&p| p > si).map(|pi| seq[pi]);
            let found = hits.iter().any(|&h| match (prev, next) {
                (Some(a), Some(b)) => h > a && h < b,
                (None, Some(b)) => h < b && ords[h].ts >= last_ts.saturating_sub(span),
                (Some(a), None) => h > a && ords[h].ts <= first_ts.saturating_add(span),
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
    /// Positions (in timestamp order) of the events matched so far.
    events: Vec<usize>,
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

    /// Event at position `oi` matched positive stage `pi` for `key`; returns a completed match.
    fn advance(&mut self, pi: usize, key: Vec<KeyVal>, oi: usize, ts: i64) -> Option<Vec<usize>> {
        if self.stages == 1 {
            return Some(vec![oi]);
        }
        if pi == 0 {
            let st = self.keys.entry(key).or_insert_with(|| KeyState {
                pending: vec![None; self.stages - 1],
                last_until: None,
            });
            st.pending[0] = Some(Pending {
                events: vec![oi],
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
        if let (Some(u), Some(&last)) = (st.last_until, p.events.last()) {
            if u > last {
                return None;
            }
        }
        p.events.push(oi);
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

    /// Drops pending matches that can no longer complete within `maxspan`.
    fn maybe_expire(&mut self, now: i64) {
        let Some(m) = self.maxspan else {
            return;
        };
        if self.since_sweep < 4096 || self.since_sweep < self.keys.len() {
            return;
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
    }
}
