//! The branches and exclusions of a query, and the query with one exclusion removed: the
//! mutation that proves an exclusion necessary (a benign recording alerts without it).

use crate::query::eql::Query;
use crate::query::eql::ast::{Expr, ExprKind, Literal, MatchKind, QueryAst, Span, Statement};

/// A part of a query found by [`Query::exclusions`] or [`Query::branches`].
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    /// As written (whitespace collapsed); a list element as the positive test
    /// `field == "x"` / `field like "x*"`.
    pub text: String,
    /// Byte span in the query source (of the list element for one).
    pub span: Span,
}

fn conditions(st: &Statement) -> Vec<&Expr> {
    match &st.query {
        QueryAst::Event(q) => vec![&q.condition],
        QueryAst::Sequence(s) => s
            .stages
            .iter()
            .chain(s.until.iter())
            .map(|x| &x.query.condition)
            .collect(),
        QueryAst::Sample(s) => s.stages.iter().map(|x| &x.query.condition).collect(),
    }
}

fn conditions_mut(st: &mut Statement) -> Vec<&mut Expr> {
    match &mut st.query {
        QueryAst::Event(q) => vec![&mut q.condition],
        QueryAst::Sequence(s) => s
            .stages
            .iter_mut()
            .chain(s.until.iter_mut())
            .map(|x| &mut x.query.condition)
            .collect(),
        QueryAst::Sample(s) => s
            .stages
            .iter_mut()
            .map(|x| &mut x.query.condition)
            .collect(),
    }
}

pub(crate) fn collapse(src: &str, span: &Span) -> String {
    let raw = src.get(span.clone()).unwrap_or("");
    raw.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The operator a list element is shown with, as a positive test.
pub(crate) fn member_op(e: &ExprKind) -> &'static str {
    match e {
        ExprKind::In {
            insensitive: true, ..
        } => "==~",
        ExprKind::In { .. } => "==",
        ExprKind::Match {
            kind, insensitive, ..
        } => match (kind, insensitive) {
            (MatchKind::Seq, _) => ":",
            (MatchKind::Like, false) => "like",
            (MatchKind::Like, true) => "like~",
            (MatchKind::Regex, false) => "regex",
            (MatchKind::Regex, true) => "regex~",
        },
        _ => "",
    }
}

/// A list test on a field with more than one element: its field expression and elements.
fn list_of(e: &Expr) -> Option<(&Expr, &[Expr])> {
    match &e.kind {
        ExprKind::In { expr, list, .. } if list.len() > 1 && expr.as_field().is_some() => {
            Some((expr, list))
        }
        ExprKind::Match { expr, patterns, .. }
            if patterns.len() > 1 && expr.as_field().is_some() =>
        {
            Some((expr, patterns))
        }
        _ => None,
    }
}

fn excluded_parts(src: &str, e: &Expr, out: &mut Vec<Part>) {
    let negated_list = match &e.kind {
        ExprKind::Not(x) => Some(&**x),
        ExprKind::In { negated: true, .. } => Some(e),
        _ => None,
    };
    if let Some(inner) = negated_list {
        match list_of(inner) {
            Some((field, items)) => {
                let op = member_op(&inner.kind);
                for item in items {
                    out.push(Part {
                        text: format!(
                            "{} {op} {}",
                            collapse(src, &field.span),
                            collapse(src, &item.span)
                        ),
                        span: item.span.clone(),
                    });
                }
            }
            None => out.push(Part {
                text: collapse(src, &e.span),
                span: e.span.clone(),
            }),
        }
        return;
    }
    if let ExprKind::And(xs) | ExprKind::Or(xs) = &e.kind {
        for x in xs {
            excluded_parts(src, x, out);
        }
    }
}

/// The elements of positive lists (`x in ("a", "b")`, `x like ("a*", "b*")`), outside
/// negations: each is a value a malicious recording should prove.
fn list_values(src: &str, e: &Expr, out: &mut Vec<Part>) {
    match &e.kind {
        ExprKind::Not(_) | ExprKind::In { negated: true, .. } => {}
        ExprKind::And(xs) | ExprKind::Or(xs) => xs.iter().for_each(|x| list_values(src, x, out)),
        _ => {
            if let Some((field, items)) = list_of(e) {
                let op = member_op(&e.kind);
                for item in items {
                    out.push(Part {
                        text: format!(
                            "{} {op} {}",
                            collapse(src, &field.span),
                            collapse(src, &item.span)
                        ),
                        span: item.span.clone(),
                    });
                }
            }
        }
    }
}

fn or_parts(src: &str, e: &Expr, out: &mut Vec<Part>) {
    e.walk(&mut |x| {
        if let ExprKind::Or(xs) = &x.kind {
            for d in xs {
                out.push(Part {
                    text: collapse(src, &d.span),
                    span: d.span.clone(),
                });
            }
        }
    });
}

/// Removes the exclusion at `span` below `e`; true when found.
fn remove(e: &mut Expr, span: &Span) -> bool {
    let negated_list = matches!(
        &e.kind,
        ExprKind::Not(_) | ExprKind::In { negated: true, .. }
    );
    if negated_list && &e.span == span {
        *e = Expr {
            kind: ExprKind::Literal(Literal::Bool(true)),
            span: e.span.clone(),
        };
        return true;
    }
    let list = match &mut e.kind {
        ExprKind::Not(x) => match &mut x.kind {
            ExprKind::In { list, .. } => Some(list),
            ExprKind::Match { patterns, .. } => Some(patterns),
            _ => None,
        },
        ExprKind::In {
            negated: true,
            list,
            ..
        } => Some(list),
        _ => None,
    };
    if let Some(list) = list {
        if list.len() > 1
            && let Some(i) = list.iter().position(|x| &x.span == span)
        {
            list.remove(i);
            return true;
        }
        return false;
    }
    match &mut e.kind {
        ExprKind::And(xs) | ExprKind::Or(xs) => xs.iter_mut().any(|x| remove(x, span)),
        _ => false,
    }
}

impl Query {
    /// Every exclusion of the conditions: each `not (…)` clause, or each element of a negated
    /// list (`x not in ("a", "b")`, `not x like ("a*", "b*")`), outside other negations.
    pub fn exclusions(&self) -> Vec<Part> {
        let mut out = Vec::new();
        for c in conditions(&self.statement) {
            excluded_parts(&self.source, c, &mut out);
        }
        out
    }

    /// Every disjunct of every `or` in the conditions.
    pub fn branches(&self) -> Vec<Part> {
        let mut out = Vec::new();
        for c in conditions(&self.statement) {
            or_parts(&self.source, c, &mut out);
        }
        out
    }

    /// Every element of a positive list test on a field (`in`, `like`, `:`, `regex` with more
    /// than one element), outside negations, as the positive test `field == "x"`.
    pub fn list_values(&self) -> Vec<Part> {
        let mut out = Vec::new();
        for c in conditions(&self.statement) {
            list_values(&self.source, c, &mut out);
        }
        out
    }

    /// The query with the exclusion at `span` (from [`Query::exclusions`]) removed; `None`
    /// when no exclusion sits there.
    pub fn without_exclusion(&self, span: &Span) -> Option<Query> {
        let mut statement = self.statement.clone();
        let found = conditions_mut(&mut statement)
            .into_iter()
            .any(|c| remove(c, span));
        found.then(|| Query {
            source: self.source.clone(),
            statement,
        })
    }
}
