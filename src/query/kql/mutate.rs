//! The branches and exclusions of a KQL query, and the query with one exclusion removed: what
//! coverage needs to prove an exclusion necessary, as for EQL (`eql::explain::mutate`).

use super::Query;
use super::ast::{Node, NodeKind, Span, ValueKind, ValueNode};

/// A branch or exclusion: its text as written (list elements as `field: value`) and span.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    pub text: String,
    pub span: Span,
}

fn text(src: &str, span: &Span) -> String {
    src.get(span.clone())
        .unwrap_or("")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// `field: (a or b …)`: the field's span and the values.
fn value_list(n: &Node) -> Option<(&Span, &[ValueNode])> {
    match &n.kind {
        NodeKind::Is { field, values } => match &values.kind {
            ValueKind::Or(items) if items.len() > 1 => Some((&field.span, items)),
            _ => None,
        },
        _ => None,
    }
}

fn exclusions_of(src: &str, n: &Node, out: &mut Vec<Part>) {
    match &n.kind {
        NodeKind::Not(inner) => match value_list(inner) {
            Some((field, items)) => {
                for v in items {
                    out.push(Part {
                        text: format!("{}: {}", text(src, field), text(src, &v.span)),
                        span: v.span.clone(),
                    });
                }
            }
            None => out.push(Part {
                text: text(src, &n.span),
                span: n.span.clone(),
            }),
        },
        // Only conjuncts: a `not` inside an `or` is an alternative, not an exclusion.
        NodeKind::And(xs) => xs.iter().for_each(|x| exclusions_of(src, x, out)),
        _ => {}
    }
}

/// The values of positive lists (`f:(a or b)`), outside negations and `path:{ … }`.
fn values_of(src: &str, n: &Node, out: &mut Vec<Part>) {
    match &n.kind {
        NodeKind::And(xs) | NodeKind::Or(xs) => xs.iter().for_each(|x| values_of(src, x, out)),
        NodeKind::Is { .. } => {
            if let Some((field, items)) = value_list(n) {
                for v in items {
                    out.push(Part {
                        text: format!("{}: {}", text(src, field), text(src, &v.span)),
                        span: v.span.clone(),
                    });
                }
            }
        }
        _ => {}
    }
}

fn branches_of(src: &str, n: &Node, out: &mut Vec<Part>) {
    match &n.kind {
        NodeKind::Or(xs) => {
            for x in xs {
                out.push(Part {
                    text: text(src, &x.span),
                    span: x.span.clone(),
                });
                branches_of(src, x, out);
            }
        }
        NodeKind::And(xs) => xs.iter().for_each(|x| branches_of(src, x, out)),
        NodeKind::Not(x) => branches_of(src, x, out),
        // Inside `path:{ … }` fields are relative: a branch there is not a query of its own.
        _ => {}
    }
}

/// Removes the exclusion at `span` below `n`; true when found.
fn remove(n: &mut Node, span: &Span) -> bool {
    if let NodeKind::Not(inner) = &mut n.kind
        && let NodeKind::Is { values, .. } = &mut inner.kind
        && let ValueKind::Or(items) = &mut values.kind
        && let Some(i) = items.iter().position(|v| &v.span == span)
        && items.len() > 1
    {
        items.remove(i);
        if items.len() == 1 {
            let only = items.remove(0);
            *values = only;
        }
        return true;
    }
    let NodeKind::And(xs) = &mut n.kind else {
        return false;
    };
    if let Some(i) = xs
        .iter()
        .position(|x| &x.span == span && matches!(x.kind, NodeKind::Not(_)))
    {
        xs.remove(i);
        if xs.len() == 1 {
            let only = xs.remove(0);
            *n = only;
        }
        return true;
    }
    xs.iter_mut().any(|x| remove(x, span))
}

impl Query {
    /// Every exclusion: each `not …` conjunct, or each value of `not field: (a or b)`. `src` is the query text the spans point into.
    pub fn exclusions(&self, src: &str) -> Vec<Part> {
        let mut out = Vec::new();
        if let Some(root) = &self.root {
            exclusions_of(src, root, &mut out);
        }
        out
    }

    /// Every disjunct of every `or` (outside `path:{ … }`).
    pub fn branches(&self, src: &str) -> Vec<Part> {
        let mut out = Vec::new();
        if let Some(root) = &self.root {
            branches_of(src, root, &mut out);
        }
        out
    }

    /// Every value of a positive value list (`f:(a or b)` gives `f: a` and `f: b`), outside
    /// negations.
    pub fn list_values(&self, src: &str) -> Vec<Part> {
        let mut out = Vec::new();
        if let Some(root) = &self.root {
            values_of(src, root, &mut out);
        }
        out
    }

    /// The query with the exclusion at `span` removed; `None` when none sits there (or it is
    /// the whole query).
    pub fn without_exclusion(&self, span: &Span) -> Option<Query> {
        let mut root = self.root.clone()?;
        remove(&mut root, span).then_some(Query { root: Some(root) })
    }

    /// The sub-query at `span` (a branch), as a query of its own.
    pub fn part_at(&self, span: &Span) -> Option<Query> {
        let mut stack: Vec<&Node> = self.root.iter().collect();
        while let Some(n) = stack.pop() {
            if &n.span == span {
                return Some(Query {
                    root: Some(n.clone()),
                });
            }
            match &n.kind {
                NodeKind::And(xs) | NodeKind::Or(xs) => stack.extend(xs.iter()),
                NodeKind::Not(x) => stack.push(x),
                _ => {}
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use crate::query::kql::{FieldTypes, parse};
    use serde_json::json;

    const Q: &str = r#"event.type:start and process.name:(cat or grep) and
        not process.parent.name:(systemd or "kmod") and not user.name:backup"#;

    #[test]
    fn exclusions_are_values_of_negated_lists_and_not_clauses() {
        let q = parse(Q).unwrap();
        let x: Vec<String> = q.exclusions(Q).into_iter().map(|p| p.text).collect();
        assert_eq!(
            x,
            [
                "process.parent.name: systemd",
                r#"process.parent.name: "kmod""#,
                "not user.name:backup"
            ]
        );
        let b = parse("a:1 and (b:2 or c:3)").unwrap();
        let texts: Vec<String> = b
            .branches("a:1 and (b:2 or c:3)")
            .into_iter()
            .map(|p| p.text)
            .collect();
        assert_eq!(texts, ["b:2", "c:3"]);
    }

    #[test]
    fn list_values_are_the_values_of_positive_lists_only() {
        let q = parse(Q).unwrap();
        let v: Vec<String> = q.list_values(Q).into_iter().map(|p| p.text).collect();
        assert_eq!(v, ["process.name: cat", "process.name: grep"]);
        let nested = "a:(x or y) or (b:1 and not c:(p or q)) or d:{ e:(m or n) }";
        let v: Vec<String> = parse(nested)
            .unwrap()
            .list_values(nested)
            .into_iter()
            .map(|p| p.text)
            .collect();
        assert_eq!(v, ["a: x", "a: y"]);
    }

    #[test]
    fn removing_an_exclusion_lets_its_events_through_and_nothing_else() {
        let q = parse(Q).unwrap();
        let types = FieldTypes::ecs();
        let ev = |parent: &str, user: &str| {
            json!({"event": {"type": "start"}, "process": {"name": "cat", "parent": {"name": parent}},
                "user": {"name": user}})
        };
        let x = q.exclusions(Q);
        let no_systemd = q
            .without_exclusion(&x[0].span)
            .unwrap()
            .compile(&types)
            .unwrap();
        assert!(no_systemd.matches(&ev("systemd", "root")));
        assert!(!no_systemd.matches(&ev("kmod", "root")));
        let no_backup = q
            .without_exclusion(&x[2].span)
            .unwrap()
            .compile(&types)
            .unwrap();
        assert!(no_backup.matches(&ev("bash", "backup")));
        assert!(!no_backup.matches(&ev("systemd", "backup")));
        assert!(!q.compile(&types).unwrap().matches(&ev("bash", "backup")));
        assert!(q.without_exclusion(&(0..1)).is_none());
    }
}
