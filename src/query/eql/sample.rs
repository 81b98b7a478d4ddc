//! Samples: per composite join key, one event per filter, in any time order (§16).

use super::Hit;
use super::ast::SampleAst;
use super::compile::{Compiler, KeyRef};
use super::error::EqlError;
use super::exec::{Filter, KeyVal, key_tuples};
use serde_json::Value;
use std::collections::HashMap;

#[derive(Debug, Clone)]
pub(crate) struct SampleStage {
    pub filter: Filter,
    pub keys: Vec<KeyRef>,
}

#[derive(Debug, Clone)]
pub(crate) struct SamplePlan {
    pub stages: Vec<SampleStage>,
}

impl SamplePlan {
    pub fn compile(c: &Compiler<'_>, s: &SampleAst) -> Result<SamplePlan, EqlError> {
        let base =
            s.by.iter()
                .map(|k| c.key(k))
                .collect::<Result<Vec<_>, _>>()?;
        let nkeys = s.stages[0].by.len();
        let mut stages = Vec::new();
        for st in &s.stages {
            if st.missing {
                return Err(EqlError::verify(
                    "samples do not support missing events (![…])",
                    st.span.clone(),
                ));
            }
            if let Some((_, span)) = &st.runs {
                return Err(EqlError::verify(
                    "samples do not support `runs`",
                    span.clone(),
                ));
            }
            if st.by.len() != nkeys {
                return Err(EqlError::verify(
                    "inconsistent number of join keys",
                    st.span.clone(),
                ));
            }
            let mut keys = base.clone();
            for k in &st.by {
                keys.push(c.key(k)?);
            }
            stages.push(SampleStage {
                filter: Filter {
                    category: c.category(&st.query.category)?,
                    condition: c.pred(&st.query.condition)?,
                },
                keys,
            });
        }
        if keys_empty(&stages) {
            return Err(EqlError::verify("a sample needs join keys", s.span.clone()));
        }
        Ok(SamplePlan { stages })
    }
}

/// Incremental sample collection: per key, the first candidates of every filter (in push
/// order); samples are assembled at the end, ordered by key.
pub(crate) struct SampleRun<'p> {
    plan: &'p SamplePlan,
    per_key: usize,
    cap: usize,
    groups: HashMap<Vec<KeyVal>, Vec<Vec<usize>>>,
}

impl<'p> SampleRun<'p> {
    pub fn new(plan: &'p SamplePlan, max_samples_per_key: usize) -> Self {
        let per_key = max_samples_per_key.max(1);
        SampleRun {
            plan,
            per_key,
            // Enough candidates per filter to find `per_key` samples of distinct events.
            cap: plan.stages.len() + per_key,
            groups: HashMap::new(),
        }
    }

    pub fn push(&mut self, index: usize, ev: &Value) {
        let n = self.plan.stages.len();
        for (si, st) in self.plan.stages.iter().enumerate() {
            if !st.filter.matches(ev) {
                continue;
            }
            for k in key_tuples(&st.keys, ev) {
                let g = self.groups.entry(k).or_insert_with(|| vec![Vec::new(); n]);
                if g[si].len() < self.cap {
                    g[si].push(index);
                }
            }
        }
    }

    pub fn finish(self) -> Vec<Hit> {
        let mut keys: Vec<(Vec<KeyVal>, Vec<Vec<usize>>)> = self
            .groups
            .into_iter()
            .filter(|(_, g)| g.iter().all(|c| !c.is_empty()))
            .collect();
        keys.sort_by(|a, b| {
            a.0.iter()
                .zip(&b.0)
                .map(|(x, y)| x.sort_cmp(y))
                .find(|o| o.is_ne())
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        let mut out = Vec::new();
        for (key, cands) in keys {
            let mut found = Vec::new();
            let mut cur = Vec::with_capacity(cands.len());
            assign(&cands, &mut cur, &mut found, self.per_key);
            for s in found {
                out.push(Hit::Sample {
                    events: s,
                    join_keys: key.iter().map(KeyVal::to_json).collect(),
                });
            }
        }
        out
    }
}

fn keys_empty(stages: &[SampleStage]) -> bool {
    stages.iter().all(|s| s.keys.is_empty())
}

/// Depth-first choice of one distinct event per stage, stage 0 outermost.
fn assign(cands: &[Vec<usize>], cur: &mut Vec<usize>, found: &mut Vec<Vec<usize>>, limit: usize) {
    if found.len() >= limit {
        return;
    }
    let si = cur.len();
    if si == cands.len() {
        found.push(cur.clone());
        return;
    }
    for &e in &cands[si] {
        if cur.contains(&e) {
            continue;
        }
        cur.push(e);
        assign(cands, cur, found, limit);
        cur.pop();
        if found.len() >= limit {
            return;
        }
    }
}
