//! Property test: sequences run through the streaming executor ([`Compiled::execute`]) must
//! give exactly what a naive reference gives on random small event sets. The reference knows
//! nothing of the executor: it enumerates **every** increasing tuple of events and keeps those
//! the documented rules allow (`shared/reference/eql.md` §12, §15; the missing-event windows
//! pinned in `src/query/eql/mod.rs`):
//!
//! - every event matches its stage's filter and has the join key among its key tuples
//!   (multi-valued keys expand, nulls inside arrays are skipped, an absent/null/empty
//!   non-optional key excludes the event, an optional one is the key `null`);
//! - one pending match per stage and key: a prefix ending at stage `i − 1` is taken by the
//!   **first** later event matching stage `i`, and only if no newer prefix reached stage
//!   `i − 1` in between (it would have replaced it);
//! - `maxspan`: `ts(event) − ts(first) ≤ maxspan` at every step;
//! - `until`: no `until` event with the key strictly between consecutive matched events;
//! - missing stages: no matching event with the key strictly between the neighbouring positive
//!   events; leading: before the first positive event and at or after `last − maxspan`;
//!   trailing: after the last positive event and at or before `first + maxspan`;
//! - results ordered by the last event, then by key.
//!
//! Deterministic seed; `CASES` random queries, each over `EVENT_SETS` random event sets.

use ruleforge::query::eql::{self, Compiled, Hit, Options};
use serde_json::{Value, json};
use std::collections::BTreeSet;

const CASES: usize = 1000;
const EVENT_SETS: usize = 4;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// A join-key value as the reference sees it; the derived order is the doc-values order
/// within one type (the generator never mixes types inside one array).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum K {
    Null,
    Int(i64),
    Str(String),
}

impl K {
    fn json(&self) -> Value {
        match self {
            K::Null => Value::Null,
            K::Int(i) => json!(i),
            K::Str(s) => json!(s),
        }
    }
}

#[derive(Debug, Clone)]
struct StageSpec {
    /// `None` = `any`.
    category: Option<&'static str>,
    /// `None` = `true`; `Some(n)` = `v == n`.
    v_equals: Option<i64>,
    missing: bool,
    /// `with runs=N` (positive stages only): the stage repeated N times.
    runs: usize,
}

#[derive(Debug, Clone)]
struct Spec {
    keys: Vec<(&'static str, bool)>,
    stages: Vec<StageSpec>,
    maxspan: Option<i64>,
    until: Option<StageSpec>,
}

impl Spec {
    fn query(&self) -> String {
        let mut q = String::from("sequence");
        if !self.keys.is_empty() {
            let keys: Vec<String> = self
                .keys
                .iter()
                .map(|(f, opt)| format!("{}{f}", if *opt { "?" } else { "" }))
                .collect();
            q.push_str(&format!(" by {}", keys.join(", ")));
        }
        if let Some(m) = self.maxspan {
            q.push_str(&format!(" with maxspan={m}ms"));
        }
        for s in &self.stages {
            q.push_str(&format!(" {}", filter_text(s)));
        }
        if let Some(u) = &self.until {
            q.push_str(&format!(" until {}", filter_text(u)));
        }
        q
    }
}

fn filter_text(s: &StageSpec) -> String {
    let cond = match s.v_equals {
        None => "true".to_string(),
        Some(n) => format!("v == {n}"),
    };
    let runs = if s.runs > 1 {
        format!(" with runs={}", s.runs)
    } else {
        String::new()
    };
    format!(
        "{}[{} where {cond}]{runs}",
        if s.missing { "!" } else { "" },
        s.category.unwrap_or("any")
    )
}

fn gen_stage(r: &mut Rng) -> StageSpec {
    const CATS: [&str; 3] = ["a", "b", "c"];
    StageSpec {
        category: if r.chance(25) {
            None
        } else {
            let n = if r.chance(80) { 2 } else { 3 };
            Some(CATS[r.below(n) as usize])
        },
        v_equals: r.chance(20).then(|| r.below(2) as i64),
        missing: false,
        runs: if r.chance(10) { 2 } else { 1 },
    }
}

fn gen_spec(r: &mut Rng) -> Spec {
    let keys = match r.below(6) {
        0 => vec![],
        1 => vec![("k", false)],
        2 => vec![("k", true)],
        3 => vec![("k", false), ("j", false)],
        4 => vec![("k", true), ("j", true)],
        _ => vec![("k", false), ("j", true)],
    };
    let n = 2 + r.below(3) as usize;
    let mut stages: Vec<StageSpec> = (0..n).map(|_| gen_stage(r)).collect();
    let with_missing = r.chance(35);
    if with_missing {
        for s in &mut stages {
            s.missing = r.chance(35);
            if s.missing {
                s.runs = 1;
            }
        }
        if stages.iter().all(|s| s.missing) {
            let i = r.below(n as u64) as usize;
            stages[i].missing = false;
        }
    }
    let maxspan = if with_missing || r.chance(40) {
        Some(r.below(6) as i64)
    } else {
        None
    };
    let until = r.chance(20).then(|| StageSpec {
        runs: 1,
        ..gen_stage(r)
    });
    Spec {
        keys,
        stages,
        maxspan,
        until,
    }
}

/// A key field's value: absent, null, scalar, or an array (possibly with nulls, possibly
/// empty). One field holds one type per event set, so arrays never mix types.
fn gen_key_value(r: &mut Rng, strings: bool) -> Option<Value> {
    let scalar = |r: &mut Rng| {
        let n = r.below(2) as i64;
        if strings {
            json!(["x", "y", "z"][n as usize])
        } else {
            json!(n)
        }
    };
    match r.below(12) {
        0 => None,
        1 => Some(Value::Null),
        2 | 3 => {
            let len = r.below(4);
            Some(Value::Array(
                (0..len)
                    .map(|_| if r.chance(20) { Value::Null } else { scalar(r) })
                    .collect(),
            ))
        }
        _ => Some(scalar(r)),
    }
}

fn gen_events(r: &mut Rng) -> Vec<Value> {
    const CATS: [&str; 3] = ["a", "b", "c"];
    let n = r.below(13) as usize;
    let (k_strings, j_strings) = (r.chance(50), r.chance(50));
    let mut ts = 0i64;
    (0..n)
        .map(|_| {
            ts += r.below(3) as i64;
            let n = if r.chance(85) { 2 } else { 3 };
            let cat = CATS[r.below(n) as usize];
            let mut e = json!({"@timestamp": ts, "event": {"category": cat}});
            if let Some(k) = gen_key_value(r, k_strings) {
                e["k"] = k;
            }
            if let Some(j) = gen_key_value(r, j_strings) {
                e["j"] = j;
            }
            if r.chance(80) {
                e["v"] = json!(r.below(2));
            }
            e
        })
        .collect()
}

fn matches(s: &StageSpec, e: &Value) -> bool {
    let cat_ok = s
        .category
        .is_none_or(|c| e["event"]["category"].as_str() == Some(c));
    let cond_ok = s
        .v_equals
        .is_none_or(|n| e.get("v").and_then(Value::as_i64) == Some(n));
    cat_ok && cond_ok
}

/// The values of one key field: nulls skipped, duplicates collapsed, sorted.
fn key_values(v: Option<&Value>) -> Vec<K> {
    let mut out = BTreeSet::new();
    let mut add = |x: &Value| match x {
        Value::Number(n) => {
            out.insert(K::Int(n.as_i64().unwrap_or_default()));
        }
        Value::String(s) => {
            out.insert(K::Str(s.clone()));
        }
        _ => {}
    };
    match v {
        Some(Value::Array(a)) => a.iter().for_each(&mut add),
        Some(x) => add(x),
        None => {}
    }
    out.into_iter().collect()
}

/// Every key tuple of an event (the cartesian product over the key fields).
fn key_tuples(spec: &Spec, e: &Value) -> Vec<Vec<K>> {
    let mut tuples = vec![vec![]];
    for (f, optional) in &spec.keys {
        let mut vals = key_values(e.get(*f));
        if vals.is_empty() {
            if !optional {
                return vec![];
            }
            vals.push(K::Null);
        }
        tuples = tuples
            .into_iter()
            .flat_map(|t| {
                vals.iter().map(move |v| {
                    let mut t = t.clone();
                    t.push(v.clone());
                    t
                })
            })
            .collect();
    }
    tuples
}

/// All increasing tuples of `len` positions out of `n`.
fn all_tuples(n: usize, len: usize) -> Vec<Vec<usize>> {
    if len == 0 {
        return vec![vec![]];
    }
    let mut out = Vec::new();
    for t in all_tuples(n, len - 1) {
        let from = t.last().map_or(0, |&x| x + 1);
        for x in from..n {
            let mut t2 = t.clone();
            t2.push(x);
            out.push(t2);
        }
    }
    out
}

/// The reference: (positions with `None` for missing slots, key) in output order.
fn reference(spec: &Spec, events: &[Value]) -> Vec<(Vec<Option<usize>>, Vec<K>)> {
    // `with runs=N` is shorthand for writing the stage N times.
    let expanded = Spec {
        stages: spec
            .stages
            .iter()
            .flat_map(|s| std::iter::repeat_n(s.clone(), s.runs))
            .collect(),
        ..spec.clone()
    };
    let spec = &expanded;
    let positive: Vec<usize> = (0..spec.stages.len())
        .filter(|&i| !spec.stages[i].missing)
        .collect();
    let ts = |i: usize| events[i]["@timestamp"].as_i64().unwrap_or_default();
    // Computed once: each event's key tuples, and which stages (and `until`) it matches.
    let event_keys: Vec<Vec<Vec<K>>> = events.iter().map(|e| key_tuples(spec, e)).collect();
    let stage_hit: Vec<Vec<bool>> = spec
        .stages
        .iter()
        .map(|st| events.iter().map(|e| matches(st, e)).collect())
        .collect();
    let until_hit: Vec<bool> = events
        .iter()
        .map(|e| spec.until.as_ref().is_some_and(|u| matches(u, e)))
        .collect();
    let keys: BTreeSet<Vec<K>> = event_keys.iter().flatten().cloned().collect();
    let mut results = Vec::new();
    for key in &keys {
        let has_key = |i: usize| event_keys[i].contains(key);
        let in_stage = |si: usize, i: usize| stage_hit[si][i] && has_key(i);
        let is_until = |i: usize| until_hit[i] && has_key(i);
        // live[l]: tuples that reached positive stage l (and were placed in its state).
        let mut live: Vec<Vec<Vec<usize>>> = Vec::new();
        for l in 0..positive.len() {
            let si = positive[l];
            let mut reached = Vec::new();
            for t in all_tuples(events.len(), l + 1) {
                if !t.iter().enumerate().all(|(p, &i)| in_stage(positive[p], i)) {
                    continue;
                }
                if l == 0 {
                    reached.push(t);
                    continue;
                }
                let (prev, here) = (t[l - 1], t[l]);
                let prefix = &t[..l];
                let prefix_live = live[l - 1].iter().any(|p| p.as_slice() == prefix);
                let first_taker = !(prev + 1..here).any(|z| in_stage(si, z));
                let replaced = live[l - 1]
                    .iter()
                    .any(|p| p[l - 1] > prev && p[l - 1] < here);
                let in_span = spec.maxspan.is_none_or(|m| ts(here) - ts(t[0]) <= m);
                let expired = (prev + 1..here).any(is_until);
                if prefix_live && first_taker && !replaced && in_span && !expired {
                    reached.push(t);
                }
            }
            live.push(reached);
        }
        let span = spec.maxspan.unwrap_or(i64::MAX);
        for t in live.last().cloned().unwrap_or_default() {
            let (first, last) = (t[0], t[t.len() - 1]);
            let absent_ok = (0..spec.stages.len())
                .filter(|&si| spec.stages[si].missing)
                .all(|si| {
                    let prev = positive.iter().rposition(|&p| p < si).map(|pi| t[pi]);
                    let next = positive.iter().position(|&p| p > si).map(|pi| t[pi]);
                    !(0..events.len()).any(|h| {
                        in_stage(si, h)
                            && match (prev, next) {
                                (Some(a), Some(b)) => h > a && h < b,
                                (None, Some(b)) => h < b && ts(h) >= ts(last).saturating_sub(span),
                                (Some(a), None) => h > a && ts(h) <= ts(first).saturating_add(span),
                                (None, None) => false,
                            }
                    })
                });
            if absent_ok {
                let mut slots = vec![None; spec.stages.len()];
                for (pi, &si) in positive.iter().enumerate() {
                    slots[si] = Some(t[pi]);
                }
                results.push((slots, key.clone()));
            }
        }
    }
    results.sort_by(|a, b| {
        let last = |s: &Vec<Option<usize>>| s.iter().flatten().max().copied();
        last(&a.0).cmp(&last(&b.0)).then_with(|| a.1.cmp(&b.1))
    });
    results
}

fn streaming(c: &Compiled, events: &[Value]) -> Vec<(Vec<Option<usize>>, Vec<Value>)> {
    c.execute(events)
        .unwrap_or_else(|e| panic!("execute failed: {}", e.message))
        .into_iter()
        .map(|h| match h {
            Hit::Sequence { events, join_keys } => (events, join_keys),
            other => panic!("not a sequence hit: {other:?}"),
        })
        .collect()
}

#[test]
fn streaming_sequences_agree_with_the_naive_reference() {
    let mut r = Rng(0x9E37_79B9_7F4A_7C15);
    let mut compared = 0usize;
    let mut nonempty = 0usize;
    for case in 0..CASES {
        let spec = gen_spec(&mut r);
        let q = spec.query();
        let compiled = eql::parse(&q)
            .and_then(|p| p.compile(&Options::default()))
            .unwrap_or_else(|e| panic!("case {case}: {q}: {}", e.message));
        for _ in 0..EVENT_SETS {
            let events = gen_events(&mut r);
            let want: Vec<(Vec<Option<usize>>, Vec<Value>)> = reference(&spec, &events)
                .into_iter()
                .map(|(s, k)| (s, k.iter().map(K::json).collect()))
                .collect();
            let got = streaming(&compiled, &events);
            if got != want {
                let lines: Vec<String> = events.iter().map(Value::to_string).collect();
                panic!(
                    "case {case}: {q}\nevents:\n{}\nreference: {want:?}\nstreaming: {got:?}",
                    lines.join("\n")
                );
            }
            compared += 1;
            nonempty += usize::from(!want.is_empty());
        }
    }
    println!("{compared} random event sets compared ({nonempty} with sequences)");
    assert_eq!(compared, CASES * EVENT_SETS);
    // The generator must exercise matches, not just agree on empty results.
    assert!(
        nonempty * 5 > compared,
        "only {nonempty} of {compared} had sequences"
    );
}
