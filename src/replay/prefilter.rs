//! Cheap necessary conditions of a rule, for dispatch: the values a few keyword fields must
//! take for the rule to match at all (`event.category`, `host.os.type`, `event.dataset`, …).
//!
//! A requirement is taken only from a top-level conjunct that compares one of [`KEY_FIELDS`]
//! with plain ASCII string literals (EQL `==`, `:` without wildcards, `in`, `in~`, the event
//! category; KQL `field:value` / `field:(a or b)` without wildcards). Values are compared
//! lower-cased, a superset of every one of those comparisons, so skipping a rule whose
//! requirement an event fails never loses a match; the rule's own query still decides.

use crate::query::FieldPath;
use crate::query::eql::ast::{CmpOp, ExprKind, Literal, MatchKind, QueryAst};
use crate::query::{eql, kql};
use crate::rule::Rule;
use serde_json::Value;

/// Keyword fields that split recordings well, most selective first.
pub const KEY_FIELDS: &[&str] = &[
    "event.action",
    "event.dataset",
    "data_stream.dataset",
    "event.module",
    "event.category",
    "host.os.type",
    "event.type",
];

/// The event must have, in field `KEY_FIELDS[field]`, one of `values` (lower-cased).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    pub field: usize,
    pub values: Vec<String>,
}

impl Requirement {
    /// Whether `v` (lower-cased) is one of the values: a few are compared directly (lengths
    /// first), more are searched (`values` is sorted).
    #[inline]
    pub fn contains(&self, v: &str) -> bool {
        if self.values.len() <= 8 {
            self.values
                .iter()
                .any(|x| x.len() == v.len() && x.as_bytes() == v.as_bytes())
        } else {
            self.values.binary_search_by(|x| x.as_str().cmp(v)).is_ok()
        }
    }
}

fn key_field(name: &str) -> Option<usize> {
    KEY_FIELDS.iter().position(|f| *f == name)
}

fn lowered(values: Vec<String>) -> Option<Vec<String>> {
    if values.is_empty() || !values.iter().all(|v| v.is_ascii()) {
        return None;
    }
    let mut v: Vec<String> = values.into_iter().map(|s| s.to_ascii_lowercase()).collect();
    v.sort();
    v.dedup();
    Some(v)
}

/// Requirements of a rule's query, most selective first; empty when none is certain.
pub fn requirements(rule: &Rule) -> Vec<Requirement> {
    let Some(q) = &rule.query else {
        return Vec::new();
    };
    let mut out = match rule.language.as_deref() {
        Some("eql") => eql_requirements(rule, &q.text),
        Some("kuery") | None => kql_requirements(&q.text),
        _ => Vec::new(),
    };
    out.sort_by_key(|r| r.field);
    out
}

fn eql_requirements(rule: &Rule, text: &str) -> Vec<Requirement> {
    let Ok(q) = eql::parse(text) else {
        return Vec::new();
    };
    let QueryAst::Event(e) = &q.statement().query else {
        return Vec::new();
    };
    event_query_requirements(rule, e)
}

/// For a sequence rule: per stage (positive, missing and `until`), its requirements; an event
/// that meets no stage's requirements can change nothing in the sequence's state. `None` when
/// some stage has no requirement (every event may matter).
pub fn sequence_requirements(rule: &Rule) -> Option<Vec<Vec<Requirement>>> {
    let q = eql::parse(&rule.query.as_ref()?.text).ok()?;
    let QueryAst::Sequence(s) = &q.statement().query else {
        return None;
    };
    let mut out = Vec::new();
    for st in s.stages.iter().chain(s.until.as_ref()) {
        let reqs = event_query_requirements(rule, &st.query);
        if reqs.is_empty() {
            return None;
        }
        out.push(reqs);
    }
    Some(out)
}

fn event_query_requirements(rule: &Rule, e: &eql::ast::EventQuery) -> Vec<Requirement> {
    let mut out = Vec::new();
    if rule.event_category_override.is_none() {
        if let (Some((cat, _)), Some(field)) = (&e.category, key_field("event.category")) {
            if let Some(values) = lowered(vec![cat.clone()]) {
                out.push(Requirement { field, values });
            }
        }
    }
    let mut conjuncts = vec![&e.condition];
    while let Some(c) = conjuncts.pop() {
        match &c.kind {
            ExprKind::And(xs) => conjuncts.extend(xs),
            kind => {
                if let Some(r) = eql_conjunct(kind) {
                    out.push(r);
                }
            }
        }
    }
    out
}

fn eql_field(e: &eql::Expr) -> Option<usize> {
    match &e.kind {
        ExprKind::Field {
            name,
            optional: false,
        } => key_field(name),
        _ => None,
    }
}

fn eql_strings<'a>(items: impl Iterator<Item = &'a eql::Expr>, wild: bool) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for x in items {
        match &x.kind {
            ExprKind::Literal(Literal::Str(s)) if !(wild && s.contains(['*', '?'])) => {
                out.push(s.clone())
            }
            _ => return None,
        }
    }
    Some(out)
}

fn eql_conjunct(kind: &ExprKind) -> Option<Requirement> {
    let (field, values) = match kind {
        ExprKind::Cmp {
            op: CmpOp::Eq,
            left,
            right,
        } => (
            eql_field(left)?,
            eql_strings(std::iter::once(&**right), false)?,
        ),
        ExprKind::In {
            expr,
            list,
            negated: false,
            ..
        } => (eql_field(expr)?, eql_strings(list.iter(), false)?),
        ExprKind::Match {
            expr,
            kind: MatchKind::Seq,
            patterns,
            ..
        } => (eql_field(expr)?, eql_strings(patterns.iter(), true)?),
        _ => return None,
    };
    Some(Requirement {
        field,
        values: lowered(values)?,
    })
}

fn kql_requirements(text: &str) -> Vec<Requirement> {
    let Ok(q) = kql::parse(text) else {
        return Vec::new();
    };
    let Some(root) = &q.root else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut conjuncts = vec![root];
    while let Some(n) = conjuncts.pop() {
        match &n.kind {
            kql::NodeKind::And(xs) => conjuncts.extend(xs),
            kql::NodeKind::Is { field, values } => {
                let Some(f) = key_field(&field.text()) else {
                    continue;
                };
                if let Some(values) = kql_values(values).and_then(lowered) {
                    out.push(Requirement { field: f, values });
                }
            }
            _ => {}
        }
    }
    out
}

/// `a` or `(a or b …)` of plain strings.
fn kql_values(v: &kql::ValueNode) -> Option<Vec<String>> {
    match &v.kind {
        kql::ValueKind::Value(lit) => match &lit.value {
            kql::LiteralValue::Str(s) => Some(vec![s.clone()]),
            _ => None,
        },
        kql::ValueKind::Or(items) => {
            let mut out = Vec::new();
            for i in items {
                out.extend(kql_values(i)?);
            }
            Some(out)
        }
        _ => None,
    }
}

/// An event's values of every key field, lower-cased; `None` for a field holding anything but
/// ASCII strings (then no requirement on it is trusted to fail).
pub struct KeyValues(Vec<Option<Vec<String>>>);

impl KeyValues {
    pub fn of(paths: &[FieldPath], ev: &Value) -> KeyValues {
        KeyValues(
            paths
                .iter()
                .map(|p| {
                    let mut vals = Vec::new();
                    let mut plain = true;
                    p.visit(ev, &mut |v| {
                        match v {
                            Value::String(s) if s.is_ascii() => vals.push(s.to_ascii_lowercase()),
                            _ => plain = false,
                        }
                        false
                    });
                    plain.then_some(vals)
                })
                .collect(),
        )
    }

    /// Could the event meet the requirement?
    pub fn may_meet(&self, r: &Requirement) -> bool {
        match &self.0[r.field] {
            None => true,
            Some(vals) => vals.iter().any(|v| r.contains(v)),
        }
    }

    /// The event's values of one key field (`None`: not plain strings).
    pub fn values(&self, field: usize) -> Option<&[String]> {
        self.0[field].as_deref()
    }
}

pub fn key_paths() -> Vec<FieldPath> {
    KEY_FIELDS.iter().map(|f| FieldPath::new(f)).collect()
}
