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
//! Decisions where the reference leaves room (each has a case in `tests/data/kql/`):
//!
//! - **Typed path** (current Kibana): `keyword` fields use `term`/`wildcard` (whole value,
//!   case-sensitive, spaces ordinary); every other string type (`wildcard`, `constant_keyword`,
//!   `flattened`) uses `match` (exact) and, for wildcard values, `query_string`, which splits the
//!   value on whitespace into OR-ed terms; `text`/`match_only_text` use an approximation of the
//!   standard analyzer (UAX #29 words, lower-cased): any token, phrase = consecutive tokens,
//!   wildcards per token.
//! - **Field types** come from [`FieldTypes::ecs`] (ECS, then Elastic integration packages);
//!   multi-fields (`process.name.text`, Elastic Defend's `*.caseless`) are read from their
//!   parent's value. A field in no table is typed per event value (string = keyword, number,
//!   boolean), so one absent from the event is missing (§4.7); the compiler warns once per such
//!   field ([`Compiled::warnings`]).
//! - **Free text** (`foo`, `"a b"`, `foo*`) is replayed as Kibana's `multi_match` /
//!   `query_string` over every field of the event (multi-fields included), each field by its
//!   type, leniently; it is flagged in [`Compiled::warnings`]. `*` alone and `*:*` match all.
//! - **Elasticsearch errors** become compile errors: a non-number against a numeric field, a
//!   non-date against a date field, a non-address against an ip field, a wildcard against a
//!   numeric/date/boolean/ip field, `null`, a nested query on a field that is not `nested`.
//! - **Date math** (`now-30d/d`) resolves against the system clock unless
//!   [`Compiled::with_now`] sets the execution time; partial dates and `/unit` rounding follow
//!   Elasticsearch (`gt`/`lte` round up, `gte`/`lt` down; `f:2024-01-01` is the whole day).
//! - `ignore_above` is taken as 1024 for every `keyword` field (ECS's value for almost all).
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
mod explain;
pub(crate) mod glob;
pub(crate) mod matcher;
/// Branches and exclusions of a query, and mutations that remove one exclusion (coverage).
pub mod mutate;
mod parser;
pub(crate) mod types;
pub(crate) mod values;
mod walk;

pub use ast::{Literal, LiteralValue, Node, NodeKind, Part, RangeOp, Span, ValueKind, ValueNode};
pub use error::{KqlError, KqlErrorKind};
pub use matcher::{Compiled, FieldsRead, KqlWarning};
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
