//! Why an event matches a KQL query or not, as the EQL explainer does (`query::explain`): the
//! query as a tree of clauses, each compiled and evaluated on its own with the same field types
//! as the whole query, so a clause's value is the one the detection engine computes for it.
//! A value list (`f:(a or b)`) is split into one clause per value, so an exclusion such as
//! `not process.parent.name:(kdumpctl or mkdumprd)` names the value that excluded the event.
//! `path:{ … }` is one clause: its inner fields are relative to the path.

use super::ast::{Node, NodeKind, ValueKind};
use super::{FieldTypes, KqlError, Query};
use crate::query::FieldPath;
use crate::query::explain::{Clause, ClauseKind, EventExplanation};
use serde_json::Value;

fn text(src: &str, span: &std::ops::Range<usize>) -> String {
    src.get(span.clone())
        .unwrap_or("")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

struct Explainer<'a> {
    src: &'a str,
    types: &'a FieldTypes,
    raw: &'a Value,
}

impl Explainer<'_> {
    fn holds(&self, n: &Node) -> Result<bool, KqlError> {
        Ok(super::compile::compile_root(Some(n), self.types)?.matches(self.raw))
    }

    /// The fields a clause reads (names with `*` are not one field) and their values.
    fn reads(&self, n: &Node) -> Vec<(String, Vec<Value>)> {
        let q = Query {
            root: Some(n.clone()),
        };
        q.fields()
            .into_iter()
            .filter(|f| !f.contains('*'))
            .map(|f| {
                let vals = FieldPath::new(&f)
                    .values(self.raw)
                    .into_iter()
                    .cloned()
                    .collect();
                (f, vals)
            })
            .collect()
    }

    fn clause(&self, n: &Node) -> Result<Clause, KqlError> {
        let mut c = Clause {
            kind: ClauseKind::Leaf,
            text: text(self.src, &n.span),
            span: n.span.clone(),
            holds: self.holds(n)?,
            reads: Vec::new(),
            children: Vec::new(),
        };
        match &n.kind {
            NodeKind::And(xs) | NodeKind::Or(xs) => {
                c.kind = if matches!(n.kind, NodeKind::And(_)) {
                    ClauseKind::All
                } else {
                    ClauseKind::Any
                };
                for x in xs {
                    c.children.push(self.clause(x)?);
                }
            }
            NodeKind::Not(x) => {
                c.kind = ClauseKind::Not;
                c.children.push(self.clause(x)?);
            }
            NodeKind::Is { field, values } => {
                c.reads = self.reads(n);
                if let ValueKind::Or(items) = &values.kind
                    && items.len() > 1
                {
                    c.kind = ClauseKind::List { negated: false };
                    for v in items {
                        let single = Node {
                            kind: NodeKind::Is {
                                field: field.clone(),
                                values: v.clone(),
                            },
                            span: v.span.clone(),
                        };
                        c.children.push(Clause {
                            kind: ClauseKind::Member,
                            text: format!(
                                "{}: {}",
                                text(self.src, &field.span),
                                text(self.src, &v.span)
                            ),
                            span: v.span.clone(),
                            holds: self.holds(&single)?,
                            reads: c.reads.clone(),
                            children: Vec::new(),
                        });
                    }
                }
            }
            NodeKind::Range { .. } | NodeKind::Nested { .. } | NodeKind::FreeText(_) => {
                c.reads = self.reads(n);
            }
        }
        Ok(c)
    }
}

impl Query {
    /// Explains one event: the `All` of the top-level conjuncts, each clause with its value
    /// and the field values it read. `src` is the query text the spans point into; `types` the
    /// field types the query is compiled with (as for [`Query::compile`]).
    pub fn explain_event(
        &self,
        src: &str,
        types: &FieldTypes,
        event: &Value,
    ) -> Result<EventExplanation, KqlError> {
        let ex = Explainer {
            src,
            types,
            raw: event,
        };
        let children = match &self.root {
            None => Vec::new(),
            Some(Node {
                kind: NodeKind::And(xs),
                ..
            }) => xs.iter().map(|x| ex.clause(x)).collect::<Result<_, _>>()?,
            Some(n) => vec![ex.clause(n)?],
        };
        Ok(EventExplanation::from_root(Clause {
            kind: ClauseKind::All,
            text: String::new(),
            span: 0..src.len(),
            holds: children.iter().all(|c| c.holds),
            reads: Vec::new(),
            children,
        }))
    }
}

#[cfg(test)]
mod tests {
    use crate::query::kql::{FieldTypes, parse};
    use serde_json::{Value, json};

    const Q: &str = r#"event.type:start and process.name:(cat or grep) and
        process.args:("/proc/kallsyms" or /boot/System.map*) and
        not process.parent.name:(systemd or kdumpctl) and not user.name:backup"#;

    fn ev(name: &str, args: &[&str], parent: &str, user: &str) -> Value {
        json!({"event": {"type": ["start"]}, "user": {"name": user},
            "process": {"name": name, "args": args, "parent": {"name": parent}}})
    }

    fn explain(e: &Value) -> crate::query::explain::EventExplanation {
        parse(Q)
            .unwrap()
            .explain_event(Q, &FieldTypes::ecs(), e)
            .unwrap()
    }

    #[test]
    fn the_excluded_value_is_the_deciding_clause_with_the_value_it_read() {
        let x = explain(&ev("cat", &["cat", "/proc/kallsyms"], "kdumpctl", "root"));
        assert!(!x.matched);
        assert_eq!(x.failing, 1);
        let d = x.deciding_clause().unwrap();
        assert_eq!(d.text, "process.parent.name: kdumpctl");
        assert!(d.holds);
        assert_eq!(
            d.reads,
            vec![("process.parent.name".to_string(), vec![json!("kdumpctl")])]
        );
        let flip = x.flip.as_deref().unwrap();
        assert!(
            flip.contains("`process.parent.name: kdumpctl` were false"),
            "{flip}"
        );
        assert!(
            x.render()
                .contains("[true ] process.parent.name: kdumpctl  <- process.parent.name = \"kdumpctl\"  <== deciding"),
            "{}",
            x.render()
        );
    }

    #[test]
    fn a_matching_event_holds_every_clause() {
        let x = explain(&ev(
            "grep",
            &["grep", "/boot/System.map-6.1"],
            "bash",
            "root",
        ));
        assert!(x.matched, "{}", x.render());
        assert_eq!((x.failing, x.deciding.is_none()), (0, true));
        assert!(x.render().contains("every clause held"));
        // A wildcard value is one member of the list, evaluated as the engine does.
        assert!(
            x.render()
                .contains("[true ] process.args: /boot/System.map*"),
            "{}",
            x.render()
        );
    }

    #[test]
    fn a_positive_miss_names_the_list_and_suggests_making_it_true() {
        let x = explain(&ev("less", &["less", "/proc/kallsyms"], "bash", "root"));
        let d = x.deciding_clause().unwrap();
        assert_eq!(d.text, "process.name:(cat or grep)");
        assert!(!d.holds);
        assert!(x.flip.unwrap().contains("were true"));
    }

    #[test]
    fn two_failing_clauses_decide_nothing_and_a_not_clause_can_decide() {
        let x = explain(&ev("ls", &["ls"], "bash", "root"));
        assert_eq!(x.failing, 2);
        assert!(x.deciding.is_none() && x.flip.is_none());
        let y = explain(&ev("cat", &["/proc/kallsyms"], "bash", "backup"));
        assert_eq!(y.deciding_clause().unwrap().text, "user.name:backup");
    }

    #[test]
    fn the_empty_query_matches_with_no_clauses() {
        let x = parse("")
            .unwrap()
            .explain_event("", &FieldTypes::ecs(), &json!({}))
            .unwrap();
        assert!(x.matched && x.root.children.is_empty());
    }
}
