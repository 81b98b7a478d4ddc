//! Why an event matches a query or not: the query as a tree of clauses, each with its value on
//! the event, the field values it read, the clause that decided the outcome, and for a near
//! miss the smallest change that would flip it.
//!
//! Every clause is compiled and evaluated on its own with the same query-context semantics as
//! the real evaluator (`eql::compile`), so a clause's value is exactly what Elasticsearch
//! would compute for that clause alone. Lists (`in (…)`, `like (…)`) are split into one clause
//! per element, so an exclusion such as `process.parent.name not in ("a", "b")` names the
//! element that excluded the event.

pub mod mutate;
pub(crate) mod sequence;

pub use crate::query::explain::{Clause, ClauseKind, EventExplanation};
pub use mutate::Part;
pub use sequence::{KeyReport, SequenceReport, StageMatch, Verdict};

use super::Options;
use super::ast::{EventQuery, Expr, ExprKind, Span};
use super::compile::Compiler;
use super::error::EqlError;
use super::eval::Event;
use crate::query::FieldPath;
use serde_json::Value;

/// Builds clause trees for one query source and one set of options.
pub(crate) struct Explainer<'o> {
    c: Compiler<'o>,
    source: &'o str,
}

impl<'o> Explainer<'o> {
    pub fn new(opts: &'o Options, source: &'o str) -> Self {
        Explainer {
            c: Compiler::new(opts),
            source,
        }
    }

    /// Explains one event against `<category> where <condition>`.
    pub fn event<E: Event + ?Sized>(
        &self,
        q: &EventQuery,
        ev: &E,
        raw: &Value,
    ) -> Result<EventExplanation, EqlError> {
        let mut children = Vec::new();
        if let Some((name, span)) = &q.category {
            let holds = self.c.category(&q.category)?.eval(ev);
            let field = self.c.opts.event_category_field.clone();
            let vals = read(raw, &field);
            children.push(Clause {
                kind: ClauseKind::Leaf,
                text: format!("{field} == \"{name}\" (the `{name} where` category)"),
                span: span.clone(),
                holds,
                reads: vec![(field, vals)],
                children: Vec::new(),
            });
        }
        match &q.condition.kind {
            ExprKind::And(xs) => {
                for x in xs {
                    children.push(self.clause(x, ev, raw)?);
                }
            }
            _ => children.push(self.clause(&q.condition, ev, raw)?),
        }
        let matched = children.iter().all(|c| c.holds);
        Ok(EventExplanation::from_root(Clause {
            kind: ClauseKind::All,
            text: String::new(),
            span: q.span.clone(),
            holds: matched,
            reads: Vec::new(),
            children,
        }))
    }

    fn text(&self, span: &Span) -> String {
        mutate::collapse(self.source, span)
    }

    fn holds<E: Event + ?Sized>(&self, e: &Expr, ev: &E) -> Result<bool, EqlError> {
        let p = self.c.pred(e)?;
        let v = p.eval(ev);
        // A script error makes the clause false, as it does in `matches`; forget it here.
        let _ = super::eval::take_runtime_error();
        Ok(v)
    }

    fn clause<E: Event + ?Sized>(&self, e: &Expr, ev: &E, raw: &Value) -> Result<Clause, EqlError> {
        let holds = self.holds(e, ev)?;
        let mut clause = Clause {
            kind: ClauseKind::Leaf,
            text: self.text(&e.span),
            span: e.span.clone(),
            holds,
            reads: Vec::new(),
            children: Vec::new(),
        };
        match &e.kind {
            ExprKind::And(xs) | ExprKind::Or(xs) => {
                clause.kind = if matches!(e.kind, ExprKind::And(_)) {
                    ClauseKind::All
                } else {
                    ClauseKind::Any
                };
                for x in xs {
                    clause.children.push(self.clause(x, ev, raw)?);
                }
            }
            ExprKind::Not(x) => {
                clause.kind = ClauseKind::Not;
                clause.children.push(self.clause(x, ev, raw)?);
            }
            ExprKind::In {
                expr,
                list,
                negated,
                insensitive,
            } if list.len() > 1 && expr.as_field().is_some() => {
                clause.kind = ClauseKind::List { negated: *negated };
                clause.reads = reads_of(e, raw);
                for item in list {
                    let single = Expr {
                        kind: ExprKind::In {
                            expr: expr.clone(),
                            list: vec![item.clone()],
                            negated: false,
                            insensitive: *insensitive,
                        },
                        span: item.span.clone(),
                    };
                    let op = mutate::member_op(&e.kind);
                    clause
                        .children
                        .push(self.member(&single, expr, op, item, ev, raw)?);
                }
            }
            ExprKind::Match {
                expr,
                kind,
                insensitive,
                patterns,
            } if patterns.len() > 1 && expr.as_field().is_some() => {
                clause.kind = ClauseKind::List { negated: false };
                clause.reads = reads_of(e, raw);
                let op = mutate::member_op(&e.kind);
                for p in patterns {
                    let single = Expr {
                        kind: ExprKind::Match {
                            expr: expr.clone(),
                            kind: *kind,
                            insensitive: *insensitive,
                            patterns: vec![p.clone()],
                        },
                        span: p.span.clone(),
                    };
                    clause
                        .children
                        .push(self.member(&single, expr, op, p, ev, raw)?);
                }
            }
            _ => clause.reads = reads_of(e, raw),
        }
        Ok(clause)
    }

    fn member<E: Event + ?Sized>(
        &self,
        single: &Expr,
        field: &Expr,
        op: &str,
        item: &Expr,
        ev: &E,
        raw: &Value,
    ) -> Result<Clause, EqlError> {
        Ok(Clause {
            kind: ClauseKind::Member,
            text: format!("{} {op} {}", self.text(&field.span), self.text(&item.span)),
            span: item.span.clone(),
            holds: self.holds(single, ev)?,
            reads: reads_of(field, raw),
            children: Vec::new(),
        })
    }
}

/// The fields an expression reads, with their values on the event.
fn reads_of(e: &Expr, raw: &Value) -> Vec<(String, Vec<Value>)> {
    let mut names = Vec::new();
    e.walk(&mut |x| {
        if let ExprKind::Field { name, .. } = &x.kind
            && !names.contains(name)
        {
            names.push(name.clone());
        }
    });
    names
        .into_iter()
        .map(|n| {
            let v = read(raw, &n);
            (n, v)
        })
        .collect()
}

fn read(raw: &Value, field: &str) -> Vec<Value> {
    FieldPath::new(field)
        .values(raw)
        .into_iter()
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests;
