//! KQL (Kibana Query Language) as Kibana's detection engine applies it, for offline replay.
//!
//! Three phases kept apart: [`parse`] builds a spanned syntax tree ([`Query`]),
//! [`Query::compile`] resolves fields against a [`FieldTypes`] table and reads every literal
//! once, [`Compiled::matches`] evaluates an event (an ECS document as JSON).
//!
//! Semantics follow `reference/kql.md`: the grammar of Kibana's KQL parser (§1), the
//! translation to Elasticsearch queries on the typed path (§2, §3.2) and how Elasticsearch
//! answers them per mapping type (§4, §5), approximated offline as §6 recommends.
//!
//! ```
//! use ruleforge::query::kql::{parse, FieldTypes};
//! let q = parse(r#"process.name:(bash or sh) and not user.name:root"#).unwrap();
//! let m = q.compile(&FieldTypes::ecs()).unwrap();
//! assert!(m.matches(&serde_json::json!({"process": {"name": "bash"}})));
//! assert!(!m.matches(&serde_json::json!({"process": {"name": "bash"}, "user.name": "root"})));
//! ```

mod ast;
pub(crate) mod compile;
mod error;
pub(crate) mod glob;
mod parser;
pub(crate) mod types;
pub(crate) mod values;
mod walk;

pub use ast::{Literal, LiteralValue, Node, NodeKind, Part, RangeOp, Span, ValueKind, ValueNode};
pub use compile::{Compiled, KqlWarning};
pub use error::{KqlError, KqlErrorKind};
pub use parser::MAX_DEPTH;
pub use types::{FieldType, FieldTypes, generate_ecs_table, generate_integration_table};

/// A parsed KQL query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// `None` for the empty query, which matches every event.
    pub root: Option<Node>,
}

/// Parses a KQL query. Errors carry a kind and the byte span of the offending text.
pub fn parse(src: &str) -> Result<Query, KqlError> {
    let root = parser::Parser::new(src).parse_query()?;
    Ok(Query { root })
}

impl Query {
    /// Field names the query references, sorted and de-duplicated (fields inside `f:{ … }` are
    /// given in full, `f.g`); names with `*` are listed as written. Free text references none.
    pub fn fields(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(root) = &self.root {
            collect_fields(root, "", &mut out);
        }
        out.sort();
        out.dedup();
        out
    }

    /// Compiles against field types. Fails where Elasticsearch would fail the search (a
    /// non-number against a numeric field, a wildcard against an ip field, …) or where offline
    /// replay cannot follow (date math).
    pub fn compile(&self, types: &FieldTypes) -> Result<Compiled, KqlError> {
        compile::compile_root(self.root.as_ref(), types)
    }
}

fn collect_fields(node: &Node, prefix: &str, out: &mut Vec<String>) {
    match &node.kind {
        NodeKind::Or(items) | NodeKind::And(items) => {
            items.iter().for_each(|n| collect_fields(n, prefix, out));
        }
        NodeKind::Not(inner) => collect_fields(inner, prefix, out),
        NodeKind::Is { field, .. } | NodeKind::Range { field, .. } => {
            let name = field.text();
            if name != "*" {
                out.push(format!("{prefix}{name}"));
            }
        }
        NodeKind::Nested { path, query } => {
            let p = format!("{prefix}{}.", path.text());
            collect_fields(query, &p, out);
        }
        NodeKind::FreeText(_) => {}
    }
}
