//! Predicates shared by the rules of a rule set, evaluated at most once per event.
//!
//! Many rules and sequence stages repeat the same conditions (`host.os.type == "linux"`,
//! `event.type in ("start", "process_started")`, `process.name : "*python*"`). Each distinct
//! top-level conjunct of an EQL filter (category included) that reads fields without a script
//! is interned here once; per event, a [`Memo`] remembers each one's value, so the second
//! rule that asks costs a lookup.
//!
//! Identity: two conjuncts are the same predicate when their compiled forms print the same
//! (`Debug`: field, resolved type, normalizer, operator, pre-converted literals, patterns),
//! so only identical evaluations are shared; equal conditions written differently (another
//! `in` order) merely stay apart. Scripts are never shared: they may record a runtime error.
//!
//! Use: a filter is the conjunction of its conjuncts, so one false shared conjunct rejects
//! the rule; a filter whose conjuncts are all shared is decided by them alone (the same
//! compiled predicates over the same event table, so the same answer).

use crate::query::eql::eval::{Event, Pred};
use std::collections::HashMap;

/// The distinct shared predicates of a rule set.
#[derive(Debug, Default)]
pub struct Shared {
    atoms: Vec<Pred>,
    by_key: HashMap<String, u32>,
}

/// One filter in terms of shared predicates: the ids of its shared conjuncts (in the
/// filter's order) and whether they are all of it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conjuncts {
    pub ids: Vec<u32>,
    pub complete: bool,
}

fn has_script(p: &Pred) -> bool {
    match p {
        Pred::Script(_) => true,
        Pred::And(xs) | Pred::Or(xs) => xs.iter().any(has_script),
        Pred::Not(x) => has_script(x),
        Pred::Const(_) | Pred::Exists(_) | Pred::Leaf(..) => false,
    }
}

impl Shared {
    /// Interns the shareable conjuncts of one filter.
    pub(crate) fn intern(&mut self, conjuncts: &[&Pred]) -> Conjuncts {
        let mut out = Conjuncts {
            ids: Vec::new(),
            complete: true,
        };
        for p in conjuncts {
            if has_script(p) {
                out.complete = false;
                continue;
            }
            let key = format!("{p:?}");
            let id = match self.by_key.get(&key) {
                Some(&id) => id,
                None => {
                    let id = self.atoms.len() as u32;
                    self.atoms.push((*p).clone());
                    self.by_key.insert(key, id);
                    id
                }
            };
            if !out.ids.contains(&id) {
                out.ids.push(id);
            }
        }
        out
    }

    /// How many distinct predicates.
    pub fn len(&self) -> usize {
        self.atoms.len()
    }

    pub fn is_empty(&self) -> bool {
        self.atoms.is_empty()
    }
}

const UNKNOWN: u8 = 0;
const FALSE: u8 = 1;
const TRUE: u8 = 2;

/// One event's values of the shared predicates, computed on demand.
#[derive(Debug, Default)]
pub struct Memo {
    state: Vec<u8>,
    /// Evaluations made (not answered from the memo), for tests and measurements.
    pub evaluated: u64,
}

impl Memo {
    /// Forgets the previous event's values.
    pub fn reset(&mut self, shared: &Shared) {
        self.state.clear();
        self.state.resize(shared.atoms.len(), UNKNOWN);
    }

    #[inline]
    fn value<E: Event + ?Sized>(&mut self, shared: &Shared, id: u32, ev: &E) -> bool {
        let s = &mut self.state[id as usize];
        if *s == UNKNOWN {
            self.evaluated += 1;
            *s = if shared.atoms[id as usize].eval(ev) {
                TRUE
            } else {
                FALSE
            };
        }
        *s == TRUE
    }

    /// Whether every one of the shared conjuncts holds on `ev` (stops at the first false).
    #[inline]
    pub fn all<E: Event + ?Sized>(&mut self, shared: &Shared, ids: &[u32], ev: &E) -> bool {
        ids.iter().all(|&id| self.value(shared, id, ev))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::eql;
    use serde_json::{Value, json};

    fn compiled(q: &str) -> eql::Compiled {
        eql::parse(q)
            .unwrap()
            .compile(&eql::Options::default())
            .unwrap()
    }

    /// The filters of `queries` interned into one set.
    fn interned(queries: &[&str]) -> (Shared, Vec<Vec<Conjuncts>>, Vec<eql::Compiled>) {
        let cs: Vec<eql::Compiled> = queries.iter().map(|q| compiled(q)).collect();
        let mut shared = Shared::default();
        let plans = cs
            .iter()
            .map(|c| {
                c.filter_conjuncts()
                    .iter()
                    .map(|f| shared.intern(f))
                    .collect()
            })
            .collect();
        (shared, plans, cs)
    }

    #[test]
    fn identical_conjuncts_are_interned_once_and_different_ones_apart() {
        let (shared, plans, _) = interned(&[
            r#"process where host.os.type == "linux" and process.name : "*python*""#,
            r#"process where host.os.type == "linux" and event.type in ("start", "process_started")"#,
            // Same field, another operator or case: other predicates.
            r#"process where host.os.type : "linux" and host.os.type != "linux""#,
            r#"file where host.os.type == "linux""#,
        ]);
        let ids = |r: usize| plans[r][0].ids.clone();
        // category `process` and `host.os.type == "linux"` are shared by the first two.
        assert_eq!(ids(0)[..2], ids(1)[..2]);
        assert_ne!(ids(0)[2], ids(1)[2]);
        assert_eq!(ids(2)[0], ids(0)[0]);
        assert!(!ids(2)[1..].contains(&ids(0)[1]));
        assert_eq!(ids(2).len(), 3);
        // Another category, same condition.
        assert_ne!(ids(3)[0], ids(0)[0]);
        assert_eq!(ids(3)[1], ids(0)[1]);
        // process, file, linux ==, linux :, linux !=, *python*, event.type in.
        assert_eq!(shared.len(), 7);
        assert!(plans.iter().all(|p| p[0].complete));
    }

    #[test]
    fn scripts_are_not_shared_and_leave_the_filter_incomplete() {
        let (shared, plans, _) =
            interned(&[r#"process where length(process.name) > 3 and process.name == "sh""#]);
        assert_eq!(plans[0][0].ids.len(), 2); // category, process.name == "sh"
        assert!(!plans[0][0].complete);
        assert_eq!(shared.len(), 2);
    }

    #[test]
    fn sequence_stages_and_until_are_interned() {
        let (_, plans, _) = interned(&[
            r#"sequence by host.id with maxspan=1m [process where process.name == "a"] ![file where true] [process where process.name == "b"] until [process where event.type == "end"]"#,
        ]);
        assert_eq!(plans[0].len(), 4);
        // `file where true`: the category alone.
        assert_eq!(plans[0][1].ids.len(), 1);
        assert_eq!(plans[0][0].ids[0], plans[0][2].ids[0]);
    }

    /// The memo answers as the compiled filters do, over every kind of event: missing
    /// fields, nulls, multi-valued fields, numbers, case differences.
    #[test]
    fn complete_conjuncts_decide_exactly_as_the_filter() {
        let queries = [
            r#"process where process.name : "*PYTHON*" and not process.args : "-c""#,
            r#"process where process.name like~ "py*" and process.args != "-c""#,
            r#"any where process.name in ("python3", "sh") and process.pid != 7"#,
            r#"process where process.name == "python3" and process.parent.name : ("bash", "zsh")"#,
            r#"any where process.args like "*base64*" and process.name != null"#,
            r#"process where startsWith~(process.name, "PY") and process.name : "py?hon3""#,
        ];
        let (shared, plans, cs) = interned(&queries);
        let events: Vec<Value> = vec![
            json!({"event": {"category": "process"}, "process": {"name": "Python3", "args": ["-c", "x"], "pid": 7}}),
            json!({"event": {"category": ["process", "file"]}, "process": {"name": ["sh", "python3"], "args": "echo base64 -d", "pid": "8"}}),
            json!({"event": {"category": "process"}, "process": {"name": null, "args": []}}),
            json!({"event": {"category": "network"}, "process": {"name": "PYTHON3", "parent": {"name": "ZSH"}}}),
            json!({"process.name": "python3", "event.category": "process", "process.parent.name": "zsh", "process.pid": 7}),
            json!({"event": {"category": "process"}, "process": {"name": "ſh", "args": "-C"}}),
            json!({}),
        ];
        // `startsWith~` may compile to a script; the others are all shareable.
        assert!(plans.iter().filter(|p| p[0].complete).count() >= 5);
        let mut memo = Memo::default();
        for ev in &events {
            memo.reset(&shared);
            for (c, p) in cs.iter().zip(&plans) {
                let shared_says = memo.all(&shared, &p[0].ids, ev);
                let why = format!("{ev} against {:?}", c.filter_conjuncts());
                if p[0].complete {
                    assert_eq!(shared_says, c.matches(ev), "{why}");
                } else if !shared_says {
                    assert!(!c.matches(ev), "{why}");
                }
            }
        }
    }

    #[test]
    fn each_predicate_is_evaluated_at_most_once_per_event() {
        let queries = [
            r#"process where host.os.type == "linux" and process.name == "a""#,
            r#"process where host.os.type == "linux" and process.name == "b""#,
            r#"process where host.os.type == "linux" and process.name == "c""#,
        ];
        let (shared, plans, _) = interned(&queries);
        let ev = json!({"event": {"category": "process"}, "host": {"os": {"type": "linux"}}, "process": {"name": "b"}});
        let mut memo = Memo::default();
        memo.reset(&shared);
        let hits: Vec<bool> = plans
            .iter()
            .map(|p| memo.all(&shared, &p[0].ids, &ev))
            .collect();
        assert_eq!(hits, [false, true, false]);
        // category + linux once each, then the three names.
        assert_eq!(memo.evaluated, 5);
        // A false shared conjunct rejects without evaluating the rest.
        let other = json!({"event": {"category": "file"}, "process": {"name": "a"}});
        memo.reset(&shared);
        assert!(!plans.iter().any(|p| memo.all(&shared, &p[0].ids, &other)));
        assert_eq!(memo.evaluated, 6);
    }
}
