//! Field-against-literal comparisons of a query (EQL or KQL), the input of the value checks
//! (RF624 ecs-allowed-value, RF625 value-type). Spans are byte ranges in the query text.

use std::ops::Range;

use crate::query::eql::ast::{self as eqlast, MatchKind};
use crate::query::eql::{self, ExprKind};
use crate::query::kql::{self, LiteralValue, Node, NodeKind, ValueKind, ValueNode};

/// How a field meets a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `==`, `!=`, `in`, KQL `f:v`: equality (`insensitive` for `:`/`in~`).
    Equals,
    /// `<`, `<=`, `>`, `>=`.
    Range,
    /// EQL `:` with a wildcard, KQL `f:v*`: a wildcard pattern.
    Wildcard,
    /// EQL `like`.
    Like,
    /// EQL `regex`.
    Regex,
    /// EQL `cidrMatch(f, …)`.
    Cidr,
    /// An EQL string function (`startsWith`, `endsWith`, `stringContains`, `wildcard`, …).
    StringFunction,
}

/// The literal compared.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Null,
}

/// One comparison of a field with a literal.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub field: String,
    pub field_span: Range<usize>,
    pub op: Op,
    /// Case-insensitive (`:`, `~` forms).
    pub insensitive: bool,
    pub value: Value,
    pub value_span: Range<usize>,
    /// The EQL function or operator as written, for messages (`like`, `cidrMatch`, `:`, …).
    pub operator: String,
}

/// EQL string functions whose first argument must be a string.
const EQL_STRING_FUNCTIONS: &[&str] = &[
    "startswith",
    "endswith",
    "stringcontains",
    "wildcard",
    "indexof",
    "substring",
];

fn eql_value(lit: &eqlast::Literal) -> Value {
    match lit {
        eqlast::Literal::Null => Value::Null,
        eqlast::Literal::Bool(b) => Value::Bool(*b),
        eqlast::Literal::Int(i) => Value::Int(*i),
        eqlast::Literal::Float(f) => Value::Float(*f),
        eqlast::Literal::Str(s) => Value::Str(s.clone()),
    }
}

/// A required or optional field operand: (name, span).
fn eql_field(e: &eql::Expr) -> Option<(&str, &Range<usize>)> {
    match &e.kind {
        ExprKind::Field { name, .. } => Some((name, &e.span)),
        _ => None,
    }
}

fn eql_literal(e: &eql::Expr) -> Option<Value> {
    match &e.kind {
        ExprKind::Literal(l) => Some(eql_value(l)),
        ExprKind::Neg(inner) => match &inner.kind {
            ExprKind::Literal(eqlast::Literal::Int(i)) => Some(Value::Int(i.wrapping_neg())),
            ExprKind::Literal(eqlast::Literal::Float(f)) => Some(Value::Float(-f)),
            _ => None,
        },
        _ => None,
    }
}

/// Pushes `field op literal` for each literal of `values`.
fn push_all(
    out: &mut Vec<Comparison>,
    (field, span): (&str, &Range<usize>),
    op: Op,
    insensitive: bool,
    operator: &str,
    values: &[eql::Expr],
) {
    for v in values {
        if let Some(value) = eql_literal(v) {
            out.push(Comparison {
                field: field.to_string(),
                field_span: span.clone(),
                op,
                insensitive,
                value,
                value_span: v.span.clone(),
                operator: operator.to_string(),
            });
        }
    }
}

fn eql_node(x: &eql::Expr, out: &mut Vec<Comparison>) {
    match &x.kind {
        ExprKind::Cmp { op, left, right } => {
            let (field, value) = match (eql_field(left), eql_field(right)) {
                (Some(f), None) => (f, &**right),
                (None, Some(f)) => (f, &**left),
                _ => return,
            };
            let kind = match op {
                eqlast::CmpOp::Eq | eqlast::CmpOp::Neq => Op::Equals,
                _ => Op::Range,
            };
            push_all(
                out,
                field,
                kind,
                false,
                op.symbol(),
                std::slice::from_ref(value),
            );
        }
        ExprKind::In {
            expr,
            list,
            insensitive,
            ..
        } => {
            if let Some(f) = eql_field(expr) {
                let operator = if *insensitive { "in~" } else { "in" };
                push_all(out, f, Op::Equals, *insensitive, operator, list);
            }
        }
        ExprKind::Match {
            expr,
            kind,
            insensitive,
            patterns,
        } => {
            let Some(f) = eql_field(expr) else { return };
            for p in patterns {
                let (op, operator) = match kind {
                    MatchKind::Like => (Op::Like, "like"),
                    MatchKind::Regex => (Op::Regex, "regex"),
                    MatchKind::Seq => match eql_literal(p) {
                        Some(Value::Str(s)) if s.contains(['*', '?']) => (Op::Wildcard, ":"),
                        _ => (Op::Equals, ":"),
                    },
                };
                let insensitive = *insensitive || *kind == MatchKind::Seq;
                push_all(out, f, op, insensitive, operator, std::slice::from_ref(p));
            }
        }
        ExprKind::Call {
            name,
            insensitive,
            args,
            ..
        } => {
            let lower = name.to_ascii_lowercase();
            let Some(f) = args.first().and_then(eql_field) else {
                return;
            };
            if lower == "cidrmatch" {
                push_all(out, f, Op::Cidr, *insensitive, name, &args[1..]);
            } else if EQL_STRING_FUNCTIONS.contains(&lower.as_str()) {
                // Only the field's type matters: one entry, at the field.
                out.push(Comparison {
                    field: f.0.to_string(),
                    field_span: f.1.clone(),
                    op: Op::StringFunction,
                    insensitive: *insensitive,
                    value: Value::Null,
                    value_span: f.1.clone(),
                    operator: name.clone(),
                });
            }
        }
        _ => {}
    }
}

/// Comparisons of an EQL query (every condition of every stage).
pub fn eql(q: &eql::Query) -> Vec<Comparison> {
    let mut out = Vec::new();
    for e in q.statement().exprs() {
        e.walk(&mut |x| eql_node(x, &mut out));
    }
    out
}

fn kql_value(lit: &kql::Literal) -> (Op, Value) {
    match &lit.value {
        LiteralValue::Str(s) => (Op::Equals, Value::Str(s.clone())),
        LiteralValue::Wildcard(_) => (Op::Wildcard, Value::Str(lit.text())),
        LiteralValue::Bool(b) => (Op::Equals, Value::Bool(*b)),
        LiteralValue::Null => (Op::Equals, Value::Str("null".into())),
    }
}

/// Comparisons of a KQL query; `f:*` (exists) and wildcard field names are left out.
pub fn kql(q: &kql::Query) -> Vec<Comparison> {
    let mut out = Vec::new();
    let mut stack: Vec<(&Node, String)> = q.root.iter().map(|n| (n, String::new())).collect();
    while let Some((node, prefix)) = stack.pop() {
        match &node.kind {
            NodeKind::Or(items) | NodeKind::And(items) => {
                stack.extend(items.iter().rev().map(|n| (n, prefix.clone())));
            }
            NodeKind::Not(inner) => stack.push((inner, prefix)),
            NodeKind::Nested { path, query } => {
                stack.push((query, format!("{prefix}{}.", path.text())));
            }
            NodeKind::Is { field, values } => {
                let name = field.text();
                if name.contains('*') {
                    continue;
                }
                let mut leaves: Vec<&ValueNode> = vec![values];
                while let Some(v) = leaves.pop() {
                    match &v.kind {
                        ValueKind::Or(xs) | ValueKind::And(xs) => leaves.extend(xs.iter().rev()),
                        ValueKind::Not(x) => leaves.push(x),
                        ValueKind::Value(lit) if !lit.is_lone_star() => {
                            let (op, value) = kql_value(lit);
                            out.push(Comparison {
                                field: format!("{prefix}{name}"),
                                field_span: field.span.clone(),
                                op,
                                insensitive: false,
                                value,
                                value_span: lit.span.clone(),
                                operator: ":".into(),
                            });
                        }
                        ValueKind::Value(_) => {}
                    }
                }
            }
            NodeKind::Range { field, op, value } => {
                let name = field.text();
                if !name.contains('*') {
                    out.push(Comparison {
                        field: format!("{prefix}{name}"),
                        field_span: field.span.clone(),
                        op: Op::Range,
                        insensitive: false,
                        value: Value::Str(value.text()),
                        value_span: value.span.clone(),
                        operator: op.as_str().into(),
                    });
                }
            }
            NodeKind::FreeText(_) => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ops(v: &[Comparison]) -> Vec<(String, Op, Value)> {
        v.iter()
            .map(|c| (c.field.clone(), c.op, c.value.clone()))
            .collect()
    }

    #[test]
    fn eql_comparisons_of_every_form() {
        let q = eql::parse(
            r#"process where process.pid == 4 and "x" != process.name and process.name : ("a*", "b") and process.name like~ "c" and cidrMatch(source.ip, "10.0.0.0/8") and startsWith(process.name, "d") and process.pid in (1, -2)"#,
        )
        .unwrap();
        let got = ops(&eql(&q));
        assert_eq!(
            got,
            vec![
                ("process.pid".into(), Op::Equals, Value::Int(4)),
                ("process.name".into(), Op::Equals, Value::Str("x".into())),
                ("process.name".into(), Op::Wildcard, Value::Str("a*".into())),
                ("process.name".into(), Op::Equals, Value::Str("b".into())),
                ("process.name".into(), Op::Like, Value::Str("c".into())),
                (
                    "source.ip".into(),
                    Op::Cidr,
                    Value::Str("10.0.0.0/8".into())
                ),
                ("process.name".into(), Op::StringFunction, Value::Null),
                ("process.pid".into(), Op::Equals, Value::Int(1)),
                ("process.pid".into(), Op::Equals, Value::Int(-2)),
            ]
        );
    }

    #[test]
    fn kql_comparisons_of_every_form() {
        let q = kql::parse(r#"event.type:(start or not "end") and destination.port >= 80 and process.name:cmd* and host.name:*"#).unwrap();
        let mut got = ops(&kql(&q));
        got.sort_by(|a, b| {
            a.0.cmp(&b.0)
                .then(format!("{:?}", a.2).cmp(&format!("{:?}", b.2)))
        });
        assert_eq!(
            got,
            vec![
                (
                    "destination.port".into(),
                    Op::Range,
                    Value::Str("80".into())
                ),
                ("event.type".into(), Op::Equals, Value::Str("end".into())),
                ("event.type".into(), Op::Equals, Value::Str("start".into())),
                (
                    "process.name".into(),
                    Op::Wildcard,
                    Value::Str("cmd*".into())
                ),
            ]
        );
    }
}
