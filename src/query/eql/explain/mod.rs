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

pub use mutate::Part;
pub use sequence::{KeyReport, SequenceReport, StageMatch, Verdict};

use super::Options;
use super::ast::{EventQuery, Expr, ExprKind, Span};
use super::compile::Compiler;
use super::error::EqlError;
use super::eval::Event;
use crate::query::FieldPath;
use serde_json::Value;

/// What a clause is, for the deciding-clause search and for rendering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClauseKind {
    /// `a and b and …` (the whole query is one: category and condition).
    All,
    /// `a or b or …`.
    Any,
    /// `not a`.
    Not,
    /// A list test (`in`, `like`, `:`, `regex`) split into its elements; `negated` for
    /// `not in`.
    List { negated: bool },
    /// One element of a list test, as the positive test `field == "x"`.
    Member,
    /// Any other test (a comparison, a function call, a script).
    Leaf,
}

/// One clause of the query, evaluated on one event.
#[derive(Debug, Clone)]
pub struct Clause {
    pub kind: ClauseKind,
    /// The clause as written (whitespace collapsed), or synthesized for list members.
    pub text: String,
    pub span: Span,
    /// The clause's value on the event, in query context (a missing field fails a test).
    pub holds: bool,
    /// Fields the clause reads and their values on the event (leaves and lists only).
    pub reads: Vec<(String, Vec<Value>)>,
    pub children: Vec<Clause>,
}

/// The explanation of one event against an event query (or one sequence stage).
#[derive(Debug, Clone)]
pub struct EventExplanation {
    pub matched: bool,
    /// `All` of the category filter and the condition's top-level conjuncts.
    pub root: Clause,
    /// Path (child indexes from the root) of the clause that decided the outcome, when one
    /// clause alone did.
    pub deciding: Option<Vec<usize>>,
    /// Top-level clauses that would have to change for the outcome to flip (0 when matched).
    pub failing: usize,
    /// For a near miss (one failing top-level clause): what would flip the outcome.
    pub flip: Option<String>,
}

impl EventExplanation {
    /// The deciding clause, if any.
    pub fn deciding_clause(&self) -> Option<&Clause> {
        let path = self.deciding.as_ref()?;
        let mut c = &self.root;
        for &i in path {
            c = c.children.get(i)?;
        }
        Some(c)
    }

    /// The value of the clause at `span` on this event, if the tree has one there.
    pub fn holds_at(&self, span: &Span) -> Option<bool> {
        let mut stack = vec![&self.root];
        while let Some(c) = stack.pop() {
            if &c.span == span {
                return Some(c.holds);
            }
            stack.extend(c.children.iter());
        }
        None
    }

    /// The explanation as an indented tree, one clause a line.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let deciding = self.deciding.as_deref();
        render_clause(&self.root, &mut Vec::new(), deciding, 0, &mut out);
        match self.deciding_clause() {
            Some(c) => {
                out.push_str(&format!("deciding clause: {}", c.text));
                if let Some(r) = reads_text(c) {
                    out.push_str(&format!(" ({r})"));
                }
                out.push('\n');
            }
            None if self.matched => out.push_str("every clause held\n"),
            None => out.push_str(&format!(
                "{} top-level clauses failed; no single clause decided\n",
                self.failing
            )),
        }
        if let Some(f) = &self.flip {
            out.push_str(&format!("near miss: {f}\n"));
        }
        out
    }
}

fn reads_text(c: &Clause) -> Option<String> {
    if c.reads.is_empty() {
        return None;
    }
    let parts: Vec<String> = c
        .reads
        .iter()
        .map(|(f, vals)| match vals.as_slice() {
            [] => format!("{f} missing"),
            [v] => format!("{f} = {v}"),
            vs => {
                let shown: Vec<String> = vs.iter().take(8).map(|v| v.to_string()).collect();
                let more = if vs.len() > 8 { ", …" } else { "" };
                format!("{f} = [{}{more}]", shown.join(", "))
            }
        })
        .collect();
    Some(parts.join("; "))
}

fn render_clause(
    c: &Clause,
    path: &mut Vec<usize>,
    deciding: Option<&[usize]>,
    depth: usize,
    out: &mut String,
) {
    let mark = if c.holds { "true " } else { "false" };
    let label = match c.kind {
        ClauseKind::All if depth == 0 => "all of:".to_string(),
        ClauseKind::All => format!("all of: {}", c.text),
        ClauseKind::Any => format!("any of: {}", c.text),
        _ => c.text.clone(),
    };
    out.push_str(&format!("{}[{mark}] {label}", "  ".repeat(depth)));
    if !matches!(c.kind, ClauseKind::All | ClauseKind::Any | ClauseKind::Not)
        && let Some(r) = reads_text(c)
    {
        out.push_str(&format!("  <- {r}"));
    }
    if deciding == Some(path.as_slice()) {
        out.push_str("  <== deciding");
    }
    out.push('\n');
    for (i, k) in c.children.iter().enumerate() {
        path.push(i);
        render_clause(k, path, deciding, depth + 1, out);
        path.pop();
    }
}

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
        let root = Clause {
            kind: ClauseKind::All,
            text: String::new(),
            span: q.span.clone(),
            holds: matched,
            reads: Vec::new(),
            children,
        };
        let failing = root.children.iter().filter(|c| !c.holds).count();
        let deciding = if matched {
            None
        } else {
            Some(deciding_path(&root)).filter(|p| !p.is_empty())
        };
        let mut x = EventExplanation {
            matched,
            root,
            deciding,
            failing,
            flip: None,
        };
        if failing == 1 {
            x.flip = x.deciding_clause().map(flip_text);
        }
        Ok(x)
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

/// Follows the single clause responsible for the outcome down the tree: a false `and` is
/// decided by its only false part, a true `or` by its only true part, a `not` by its operand,
/// a list by its only element that held.
fn deciding_path(root: &Clause) -> Vec<usize> {
    let mut path = Vec::new();
    let mut c = root;
    loop {
        let pick: Vec<usize> = match c.kind {
            ClauseKind::All if !c.holds => indexes(c, false),
            ClauseKind::Any if c.holds => indexes(c, true),
            ClauseKind::Not => vec![0],
            ClauseKind::List { negated } if c.holds != negated => indexes(c, true),
            _ => Vec::new(),
        };
        match pick.as_slice() {
            [i] if *i < c.children.len() => {
                path.push(*i);
                c = &c.children[*i];
            }
            _ => return path,
        }
    }
}

fn indexes(c: &Clause, holds: bool) -> Vec<usize> {
    (0..c.children.len())
        .filter(|&i| c.children[i].holds == holds)
        .collect()
}

/// What would flip a near miss whose single failing top-level clause leads to `c`.
fn flip_text(c: &Clause) -> String {
    let field = c.reads.first().map(|(f, _)| f.as_str());
    let want = if c.holds { "false" } else { "true" };
    let mut s = format!("the event would match if `{}` were {want}", c.text);
    if c.kind == ClauseKind::Member
        && c.holds
        && let Some(f) = field
    {
        s.push_str(&format!(
            " (an exclusion: removing it from the query, or another value of {f}, makes the event alert)"
        ));
    }
    s
}

#[cfg(test)]
mod tests;
