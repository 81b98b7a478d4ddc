//! Why a sequence completed or not: which stage each event matched and with which join key,
//! and per join key why no sequence completed (a stage never matched, the stages came in the
//! wrong order, `maxspan` was exceeded, an `until` event ended it).
//!
//! The per-key verdict is a diagnosis, not a second evaluator: it looks for the ordered chain
//! of stage events with the shortest span and says what stops it.

use super::{EventExplanation, Explainer};
use crate::query::FieldPath;
use crate::query::eql::EqlError;
use crate::query::eql::ast::{SequenceAst, Stage};
use serde_json::Value;

/// One stage an event matched (or, with `explanation.matched == false`, did not).
#[derive(Debug, Clone)]
pub struct StageMatch {
    /// Index of the stage (the `until` stage is `stages.len()`).
    pub stage: usize,
    pub until: bool,
    pub missing: bool,
    pub key: Vec<Value>,
    pub explanation: EventExplanation,
}

/// What happened with one join key.
#[derive(Debug, Clone)]
pub struct KeyReport {
    pub key: Vec<Value>,
    /// Event indexes matching each stage with this key, in time order.
    pub stages: Vec<Vec<usize>>,
    pub until: Vec<usize>,
    /// Why a sequence did (not) complete for this key, with event indexes in `{}` replaced
    /// by the caller's positions via [`KeyReport::verdict_with`].
    pub verdict: Verdict,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// A chain of events in order, within maxspan and not cut by `until`.
    Complete { events: Vec<usize> },
    /// Positive stage `stage` matched no event with this key.
    StageNeverMatched { stage: usize },
    /// No event of `stage` comes after the earliest possible chain up to `after`.
    Order { stage: usize, after: usize },
    /// The shortest ordered chain spans `span_ms`, more than `maxspan_ms`.
    Maxspan {
        events: Vec<usize>,
        span_ms: i64,
        maxspan_ms: i64,
    },
    /// An `until` event came inside the shortest chain.
    Until { events: Vec<usize>, until: usize },
}

impl Verdict {
    /// The verdict in words, with `pos` turning an event index into what the user sees.
    pub fn describe(&self, pos: &dyn Fn(usize) -> String) -> String {
        let list = |v: &[usize]| v.iter().map(|&i| pos(i)).collect::<Vec<_>>().join(", ");
        match self {
            Verdict::Complete { events } => format!("completes with events {}", list(events)),
            Verdict::StageNeverMatched { stage } => {
                format!(
                    "incomplete: stage {} never matched an event with this key",
                    stage + 1
                )
            }
            Verdict::Order { stage, after } => format!(
                "incomplete (order): no stage {} event after {}; its events all came earlier",
                stage + 1,
                pos(*after)
            ),
            Verdict::Maxspan {
                events,
                span_ms,
                maxspan_ms,
            } => format!(
                "incomplete (maxspan exceeded): the shortest ordered chain {} spans {} ms, maxspan is {} ms",
                list(events),
                span_ms,
                maxspan_ms
            ),
            Verdict::Until { events, until } => format!(
                "incomplete (until): the until event {} came inside the chain {}",
                pos(*until),
                list(events)
            ),
        }
    }
}

/// The sequence explained over a whole recording.
#[derive(Debug, Clone)]
pub struct SequenceReport {
    /// Per event (index), the stages it matched; events matching none are left out.
    pub events: Vec<(usize, Vec<StageMatch>)>,
    pub keys: Vec<KeyReport>,
}

pub(crate) fn explain(
    ex: &Explainer<'_>,
    s: &SequenceAst,
    events: &[Value],
    time: &dyn Fn(&Value) -> Option<i64>,
) -> Result<SequenceReport, EqlError> {
    let mut stages: Vec<(&Stage, bool)> = s.stages.iter().map(|st| (st, false)).collect();
    if let Some(u) = &s.until {
        stages.push((u, true));
    }
    let mut order: Vec<(i64, usize)> = events
        .iter()
        .enumerate()
        .filter_map(|(i, e)| time(e).map(|t| (t, i)))
        .collect();
    order.sort();
    let mut per_event = Vec::new();
    let mut keys: Vec<KeyReport> = Vec::new();
    let n = s.stages.len();
    for &(_, i) in &order {
        let ev = &events[i];
        let mut matched = Vec::new();
        for (si, (st, until)) in stages.iter().enumerate() {
            let x = ex.event(&st.query, ev, ev)?;
            if !x.matched {
                continue;
            }
            let key = key_of(s, st, ev);
            let k = match keys.iter().position(|k| k.key == key) {
                Some(k) => k,
                None => {
                    keys.push(KeyReport {
                        key: key.clone(),
                        stages: vec![Vec::new(); n],
                        until: Vec::new(),
                        verdict: Verdict::StageNeverMatched { stage: 0 },
                    });
                    keys.len() - 1
                }
            };
            if *until {
                keys[k].until.push(i);
            } else {
                keys[k].stages[si].push(i);
            }
            matched.push(StageMatch {
                stage: si,
                until: *until,
                missing: st.missing,
                key,
                explanation: x,
            });
        }
        if !matched.is_empty() {
            per_event.push((i, matched));
        }
    }
    let missing: Vec<bool> = s.stages.iter().map(|st| st.missing).collect();
    let maxspan = s.maxspan.as_ref().map(|(ms, _)| *ms);
    for k in &mut keys {
        k.verdict = verdict(k, &missing, maxspan, &|i| time(&events[i]).unwrap_or(0));
    }
    Ok(SequenceReport {
        events: per_event,
        keys,
    })
}

fn key_of(s: &SequenceAst, st: &Stage, ev: &Value) -> Vec<Value> {
    s.by.iter()
        .chain(st.by.iter())
        .map(|k| match k.as_field() {
            Some((name, _)) => FieldPath::new(name)
                .first(ev)
                .cloned()
                .unwrap_or(Value::Null),
            None => Value::Null,
        })
        .collect()
}

fn verdict(
    k: &KeyReport,
    missing: &[bool],
    maxspan: Option<i64>,
    ts: &dyn Fn(usize) -> i64,
) -> Verdict {
    let positive: Vec<usize> = (0..missing.len()).filter(|&s| !missing[s]).collect();
    if let Some(&stage) = positive.iter().find(|&&s| k.stages[s].is_empty()) {
        return Verdict::StageNeverMatched { stage };
    }
    // Event indexes are in time order within each stage list; compare by (time, index).
    let ord = |i: usize| (ts(i), i);
    let mut best: Option<(i64, Vec<usize>)> = None;
    let mut order_failure = None;
    for &start in &k.stages[positive[0]] {
        let mut chain = vec![start];
        let mut ok = true;
        for &s in &positive[1..] {
            let last = *chain.last().unwrap_or(&start);
            match k.stages[s].iter().find(|&&i| ord(i) > ord(last)) {
                Some(&i) => chain.push(i),
                None => {
                    order_failure.get_or_insert(Verdict::Order {
                        stage: s,
                        after: last,
                    });
                    ok = false;
                    break;
                }
            }
        }
        if ok {
            let span = ts(*chain.last().unwrap_or(&start)) - ts(start);
            if best.as_ref().is_none_or(|(b, _)| span < *b) {
                best = Some((span, chain));
            }
        }
    }
    let Some((span_ms, events)) = best else {
        return order_failure.unwrap_or(Verdict::StageNeverMatched { stage: positive[0] });
    };
    if let Some(maxspan_ms) = maxspan
        && span_ms > maxspan_ms
    {
        return Verdict::Maxspan {
            events,
            span_ms,
            maxspan_ms,
        };
    }
    let (first, last) = (events[0], *events.last().unwrap_or(&events[0]));
    if let Some(&u) = k
        .until
        .iter()
        .find(|&&u| ord(u) > ord(first) && ord(u) < ord(last))
    {
        return Verdict::Until { events, until: u };
    }
    Verdict::Complete { events }
}
