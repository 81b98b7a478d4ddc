//! Compiled statements and their execution: ordering, event queries, pipes, size.

use super::ast::{PipeKind, QueryAst, Statement};
use super::compile::{Compiler, KeyRef};
use super::error::{EqlError, EqlErrorKind};
use super::eval::{Event, FieldRef, Pred, Ty, date_ms, take_runtime_error};
use super::sample::{SamplePlan, SampleRun};
use super::sequence::{SeqRun, SequencePlan};
use super::value::Num;
use super::{Hit, Options};
use serde_json::Value;
use std::cmp::Ordering;

/// A filter of one event: category and condition.
#[derive(Debug, Clone)]
pub(crate) struct Filter {
    pub category: Pred,
    pub condition: Pred,
}

impl Filter {
    #[inline]
    pub fn matches<E: Event + ?Sized>(&self, ev: &E) -> bool {
        self.category.eval(ev) && self.condition.eval(ev)
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Plan {
    Event(Filter),
    Sequence(SequencePlan),
    Sample(SamplePlan),
}

/// A statement compiled for one set of [`Options`]; reusable across event batches.
#[derive(Debug, Clone)]
pub struct Compiled {
    pub(crate) plan: Plan,
    pub(crate) pipes: Vec<(PipeKind, usize)>,
    pub(crate) opts: Options,
    pub(crate) timestamp: FieldRef,
    pub(crate) tiebreaker: Option<FieldRef>,
    /// Every field path the statement reads (sorted): see [`Compiled::fields_read`].
    pub(crate) reads: Vec<String>,
}

pub(crate) fn compile(st: &Statement, opts: &Options) -> Result<Compiled, EqlError> {
    let c = Compiler::new(opts);
    let plan = match &st.query {
        QueryAst::Event(q) => Plan::Event(Filter {
            category: c.category(&q.category)?,
            condition: c.pred(&q.condition)?,
        }),
        QueryAst::Sequence(s) => Plan::Sequence(SequencePlan::compile(&c, s)?),
        QueryAst::Sample(s) => Plan::Sample(SamplePlan::compile(&c, s)?),
    };
    let mut pipes = Vec::new();
    for p in &st.pipes {
        if p.count < 0 {
            return Err(EqlError::verify(
                "head and tail need a non-negative count",
                p.span.clone(),
            ));
        }
        pipes.push((p.kind, p.count as usize));
    }
    let special = |name: &str| -> Result<FieldRef, EqlError> {
        c.note_read(name);
        Ok(c.field(name, true, &(0..0))?.unwrap_or_else(|| FieldRef {
            name: name.to_string(),
            path: crate::query::FieldPath::new(name),
            ty: Ty::Dynamic,
            ignore_above: None,
            lowercase: false,
        }))
    };
    let mut timestamp = special(&opts.timestamp_field)?;
    if timestamp.ty == Ty::Dynamic {
        timestamp.ty = Ty::Date(None);
    }
    let tiebreaker = match &opts.tiebreaker_field {
        Some(t) => Some(special(t)?),
        None => None,
    };
    Ok(Compiled {
        plan,
        pipes,
        opts: opts.clone(),
        timestamp,
        tiebreaker,
        reads: c.reads(),
    })
}

/// Where an event sits in time: (timestamp ms, tiebreaker, input position).
#[derive(Debug, Clone)]
pub(crate) struct Ordinal {
    pub ts: i64,
    pub tie: Option<TieVal>,
    pub index: usize,
}

#[derive(Debug, Clone)]
pub(crate) enum TieVal {
    Num(Num),
    Str(String),
}

fn cmp_tie(a: &Option<TieVal>, b: &Option<TieVal>) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(TieVal::Num(x)), Some(TieVal::Num(y))) => x.cmp(*y).unwrap_or(Ordering::Equal),
        (Some(TieVal::Str(x)), Some(TieVal::Str(y))) => x.cmp(y),
        (Some(TieVal::Num(_)), Some(TieVal::Str(_))) => Ordering::Less,
        (Some(TieVal::Str(_)), Some(TieVal::Num(_))) => Ordering::Greater,
    }
}

impl Ordinal {
    pub fn cmp(&self, o: &Ordinal) -> Ordering {
        self.ts
            .cmp(&o.ts)
            .then_with(|| cmp_tie(&self.tie, &o.tie))
            .then(self.index.cmp(&o.index))
    }
}

impl Compiled {
    /// For event queries: does this one event match (ignoring pipes)? For sequences and
    /// samples: does it match any (positive) stage?
    pub fn matches(&self, event: &Value) -> bool {
        self.matches_event(event)
    }

    /// [`matches`](Self::matches) over any [`Event`], e.g. a [`FlatEvent`](super::FlatEvent)
    /// built once and shared by many rules.
    pub fn matches_event<E: Event + ?Sized>(&self, event: &E) -> bool {
        match &self.plan {
            Plan::Event(f) => f.matches(event),
            Plan::Sequence(s) => s
                .stages
                .iter()
                .any(|st| !st.missing && st.filter.matches(event)),
            Plan::Sample(s) => s.stages.iter().any(|st| st.filter.matches(event)),
        }
    }

    /// Every field path (dotted, as looked up in events) that evaluating, ordering or joining
    /// this statement can read: the fields of its conditions, join keys, timestamp and
    /// tiebreaker. A document reduced to these fields gives the same results.
    pub fn fields_read(&self) -> &[String] {
        &self.reads
    }

    /// Could feeding this event to an [`Executor`] change its state? For sequences: does it
    /// match some stage, missing-event stages and `until` included (an event that matches
    /// none only advances time). For event queries and samples: [`matches_event`](Self::matches_event).
    pub fn concerns<E: Event + ?Sized>(&self, event: &E) -> bool {
        match &self.plan {
            Plan::Sequence(s) => {
                s.stages.iter().any(|st| st.filter.matches(event))
                    || s.until.as_ref().is_some_and(|u| u.filter.matches(event))
            }
            _ => self.matches_event(event),
        }
    }

    /// The top-level conjuncts (category included) of each filter an event is tested
    /// against: the event query's one, or every sequence stage's (missing ones included) and
    /// `until`'s, in that order. Empty for samples.
    pub(crate) fn filter_conjuncts(&self) -> Vec<Vec<&Pred>> {
        fn of(f: &Filter) -> Vec<&Pred> {
            let mut out = Vec::new();
            f.category.conjuncts(&mut out);
            f.condition.conjuncts(&mut out);
            out
        }
        match &self.plan {
            Plan::Event(f) => vec![of(f)],
            Plan::Sequence(s) => s
                .stages
                .iter()
                .chain(s.until.as_ref())
                .map(|st| of(&st.filter))
                .collect(),
            Plan::Sample(_) => Vec::new(),
        }
    }

    pub fn is_sequence(&self) -> bool {
        matches!(self.plan, Plan::Sequence(_))
    }

    /// A sequence's `maxspan` in milliseconds.
    pub fn maxspan(&self) -> Option<i64> {
        match &self.plan {
            Plan::Sequence(s) => s.maxspan,
            _ => None,
        }
    }

    pub(crate) fn ordinal(&self, ev: &Value, index: usize) -> Option<Ordinal> {
        let fmt = match &self.timestamp.ty {
            Ty::Date(f) => f.as_deref(),
            _ => None,
        };
        let mut ts = None;
        self.timestamp.path.visit(ev, &mut |v| {
            ts = date_ms(fmt, v);
            true
        });
        let ts = ts?;
        let tie = self.tiebreaker.as_ref().and_then(|t| {
            let mut out = None;
            t.path.visit(ev, &mut |v| {
                out = match v {
                    Value::Number(n) => Some(TieVal::Num(Num::from_json(n))),
                    Value::String(s) => Some(TieVal::Str(s.clone())),
                    _ => None,
                };
                true
            });
            out
        });
        Some(Ordinal { ts, tie, index })
    }

    /// The event's time as this statement orders it (epoch ms), if it has a usable one.
    pub fn event_time(&self, event: &Value) -> Option<i64> {
        self.ordinal(event, 0).map(|o| o.ts)
    }

    /// Events in Elasticsearch's order; those without a usable timestamp are left out.
    pub(crate) fn ordered(&self, events: &[Value]) -> Vec<Ordinal> {
        let mut v: Vec<Ordinal> = events
            .iter()
            .enumerate()
            .filter_map(|(i, e)| self.ordinal(e, i))
            .collect();
        v.sort_by(|a, b| a.cmp(b));
        v
    }

    /// Full execution as Elasticsearch would: sorts by timestamp (then tiebreaker, then input
    /// position), runs the query, applies `head`/`tail` pipes and then `size`.
    pub fn execute(&self, events: &[Value]) -> Result<Vec<Hit>, EqlError> {
        let mut ex = self.executor();
        match &self.plan {
            // Samples need no timestamps: input order.
            Plan::Sample(_) => {
                for (i, e) in events.iter().enumerate() {
                    ex.push_unchecked(i, None, e, e);
                }
            }
            _ => {
                for o in self.ordered(events) {
                    ex.push_unchecked(o.index, Some(o.ts), &events[o.index], &events[o.index]);
                }
            }
        }
        ex.finish()
    }

    /// An incremental run: push events in timestamp order (then tiebreaker order), then
    /// [`finish`](Executor::finish). Memory stays bounded for event queries and for sequences
    /// with `maxspan` (apart from the hits), so large recordings need not be held in memory.
    pub fn executor(&self) -> Executor<'_> {
        let state = match &self.plan {
            Plan::Event(f) => ExecState::Event(f, Vec::new()),
            Plan::Sequence(s) => ExecState::Sequence(SeqRun::new(s)),
            Plan::Sample(s) => ExecState::Sample(SampleRun::new(s, self.opts.max_samples_per_key)),
        };
        Executor {
            compiled: self,
            state,
            last_ts: None,
            error: None,
        }
    }

    fn shape(&self, mut hits: Vec<Hit>) -> Vec<Hit> {
        for &(kind, n) in &self.pipes {
            match kind {
                PipeKind::Head => hits.truncate(n),
                PipeKind::Tail => {
                    let skip = hits.len().saturating_sub(n);
                    hits.drain(..skip);
                }
            }
        }
        if let Some(size) = self.opts.size {
            hits.truncate(size);
        }
        hits
    }
}

enum ExecState<'c> {
    Event(&'c Filter, Vec<Hit>),
    Sequence(SeqRun<'c>),
    Sample(SampleRun<'c>),
}

/// Incremental execution of a [`Compiled`] statement (see [`Compiled::executor`]).
pub struct Executor<'c> {
    compiled: &'c Compiled,
    state: ExecState<'c>,
    last_ts: Option<i64>,
    error: Option<EqlError>,
}

impl Executor<'_> {
    /// Feeds the next event; `index` is the caller's id for it, reported in hits. Events must
    /// come in timestamp order (an earlier timestamp than the previous event is an error);
    /// events without a usable timestamp are skipped, except by samples, which need none.
    pub fn push(&mut self, index: usize, event: &Value) -> Result<(), EqlError> {
        let ts = match self.state {
            ExecState::Sample(_) => None,
            _ => match self.compiled.ordinal(event, index) {
                Some(o) => Some(o.ts),
                None => return Ok(()),
            },
        };
        if let (Some(t), Some(last)) = (ts, self.last_ts) {
            if t < last {
                return Err(EqlError::new(
                    EqlErrorKind::Runtime,
                    format!("events must be pushed in timestamp order: {t} after {last}"),
                    0..0,
                ));
            }
        }
        self.push_unchecked(index, ts, event, event);
        Ok(())
    }

    /// [`push`](Self::push) for a caller that already has the event's timestamp in this
    /// statement's terms (from [`Compiled::event_time`]), so it is not parsed again.
    pub fn push_timed(&mut self, index: usize, ts: i64, event: &Value) -> Result<(), EqlError> {
        self.push_timed_with(index, ts, event, event)
    }

    /// [`push_timed`](Self::push_timed) with the event's field values also given as `fields`
    /// (the same values, looked up faster, e.g. a table shared by many rules): a sequence's
    /// stage filters read `fields`, join keys read `event`.
    pub fn push_timed_with<E: Event + ?Sized>(
        &mut self,
        index: usize,
        ts: i64,
        event: &Value,
        fields: &E,
    ) -> Result<(), EqlError> {
        if let Some(last) = self.last_ts {
            if ts < last {
                return Err(EqlError::new(
                    EqlErrorKind::Runtime,
                    format!("events must be pushed in timestamp order: {ts} after {last}"),
                    0..0,
                ));
            }
        }
        let ts = match self.state {
            ExecState::Sample(_) => None,
            _ => Some(ts),
        };
        self.push_unchecked(index, ts, event, fields);
        Ok(())
    }

    fn push_unchecked<E: Event + ?Sized>(
        &mut self,
        index: usize,
        ts: Option<i64>,
        event: &Value,
        fields: &E,
    ) {
        if ts.is_some() {
            self.last_ts = ts;
        }
        take_runtime_error();
        match &mut self.state {
            ExecState::Event(f, hits) => {
                if f.matches(event) {
                    hits.push(Hit::Event { index });
                }
            }
            ExecState::Sequence(run) => run.push(index, ts.unwrap_or(i64::MIN), event, fields),
            ExecState::Sample(run) => run.push(index, event),
        }
        if let Some(msg) = take_runtime_error() {
            self.error
                .get_or_insert_with(|| EqlError::new(EqlErrorKind::Runtime, msg, 0..0));
        }
    }

    /// Sequence hits already complete, for callers that stream results out and drop what they
    /// keep about old events. Empty for other queries and for statements with pipes or `size`
    /// (their hits are only known at [`finish`](Self::finish)); `finish` returns the rest.
    pub fn take_ready(&mut self) -> Vec<Hit> {
        if !self.streams_hits() {
            return Vec::new();
        }
        match &mut self.state {
            ExecState::Sequence(run) => run.take_released(),
            _ => Vec::new(),
        }
    }

    /// Whether [`take_ready`](Self::take_ready) hands out hits as they complete.
    pub fn streams_hits(&self) -> bool {
        self.compiled.pipes.is_empty()
            && self.compiled.opts.size.is_none()
            && matches!(self.state, ExecState::Sequence(_))
    }

    /// All hits, after pipes and `size`; the first script error, if any event raised one.
    pub fn finish(self) -> Result<Vec<Hit>, EqlError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let hits = match self.state {
            ExecState::Event(_, hits) => hits,
            ExecState::Sequence(run) => run.finish(),
            ExecState::Sample(run) => run.finish(),
        };
        Ok(self.compiled.shape(hits))
    }
}

/// A hashable join-key component.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum KeyVal {
    Null,
    Bool(bool),
    Int(i64),
    /// Bit pattern of a double (keys compare by identity).
    Float(u64),
    Str(String),
}

impl KeyVal {
    pub fn to_json(&self) -> Value {
        match self {
            KeyVal::Null => Value::Null,
            KeyVal::Bool(b) => Value::Bool(*b),
            KeyVal::Int(i) => Value::from(*i),
            KeyVal::Float(f) => {
                serde_json::Number::from_f64(f64::from_bits(*f)).map_or(Value::Null, Value::Number)
            }
            KeyVal::Str(s) => Value::String(s.clone()),
        }
    }

    /// Output order of samples: null first, then booleans, numbers, strings (byte-wise).
    pub fn sort_cmp(&self, o: &KeyVal) -> Ordering {
        match (self, o) {
            (KeyVal::Int(a), KeyVal::Float(b)) => (*a as f64).total_cmp(&f64::from_bits(*b)),
            (KeyVal::Float(a), KeyVal::Int(b)) => f64::from_bits(*a).total_cmp(&(*b as f64)),
            (KeyVal::Float(a), KeyVal::Float(b)) => {
                f64::from_bits(*a).total_cmp(&f64::from_bits(*b))
            }
            _ => self.cmp(o),
        }
    }
}

/// All key tuples an event yields for `keys` (cartesian product over multi-valued fields);
/// empty when a non-optional key is missing.
pub(crate) fn key_tuples(keys: &[KeyRef], ev: &Value) -> Vec<Vec<KeyVal>> {
    let mut tuples: Vec<Vec<KeyVal>> = vec![Vec::with_capacity(keys.len())];
    for k in keys {
        let mut vals: Vec<KeyVal> = Vec::new();
        if let Some(f) = &k.field {
            f.any(ev, |v| {
                if let Some(kv) = key_val(&f.ty, v) {
                    if !vals.contains(&kv) {
                        vals.push(kv);
                    }
                }
                false
            });
        }
        // Doc values are sorted and de-duplicated, so multi-valued keys expand in sorted order.
        vals.sort_by(|a, b| a.sort_cmp(b));
        if vals.is_empty() {
            if !k.optional {
                return Vec::new();
            }
            vals.push(KeyVal::Null);
        }
        if vals.len() == 1 {
            let v = vals.pop().unwrap_or(KeyVal::Null);
            for t in &mut tuples {
                t.push(v.clone());
            }
        } else {
            let mut next = Vec::with_capacity(tuples.len() * vals.len());
            for t in &tuples {
                for v in &vals {
                    let mut t2 = t.clone();
                    t2.push(v.clone());
                    next.push(t2);
                }
            }
            tuples = next;
        }
    }
    tuples
}

fn key_val(ty: &Ty, v: &Value) -> Option<KeyVal> {
    let val = super::eval::typed_val(ty, v);
    Some(match val {
        super::value::Val::Null => return None,
        super::value::Val::Bool(b) => KeyVal::Bool(b),
        super::value::Val::Num(Num::I(i)) => KeyVal::Int(i),
        super::value::Val::Num(Num::F(f)) => {
            if f.fract() == 0.0 && f.abs() < 9e15 {
                KeyVal::Int(f as i64)
            } else {
                KeyVal::Float(f.to_bits())
            }
        }
        super::value::Val::Str(s) => {
            if *ty == Ty::Ip {
                match s.trim().parse::<std::net::IpAddr>() {
                    Ok(ip) => KeyVal::Str(ip.to_string()),
                    Err(_) => KeyVal::Str(s.into_owned()),
                }
            } else {
                KeyVal::Str(s.into_owned())
            }
        }
    })
}
