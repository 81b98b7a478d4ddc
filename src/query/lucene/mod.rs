//! Lucene query-string syntax (`language = "lucene"`) as the detection engine runs it: an
//! Elasticsearch `query_string` query with `analyze_wildcard: true` over the default fields
//! (`reference/kql.md` §7). Same shape as [`crate::query::kql`]: [`parse`] to a spanned tree,
//! [`Query::compile`] against [`FieldTypes`], [`Compiled::matches`] per event; errors are the
//! KQL error type ([`LuceneError`] is an alias) with the same kinds.
//!
//! ```
//! use ruleforge::query::lucene::{parse, FieldTypes};
//! let q = parse("process.name:(bash sh) AND NOT user.name:root").unwrap();
//! let m = q.compile(&FieldTypes::ecs()).unwrap();
//! assert!(m.matches(&serde_json::json!({"process": {"name": "sh"}})));
//! ```

mod ast;
mod compile;
mod parser;

pub use crate::query::kql::{Compiled, FieldType, FieldTypes, KqlWarning};
pub use crate::query::kql::{KqlError as LuceneError, KqlErrorKind as LuceneErrorKind};
pub use ast::{Field, Node, NodeKind, Occur, Span, TermPart};

/// A parsed Lucene query.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// `None` for the empty query, which matches every event.
    pub root: Option<Node>,
}

/// Parses a Lucene query string.
pub fn parse(src: &str) -> Result<Query, LuceneError> {
    Ok(Query {
        root: parser::Parser::new(src).parse_query()?,
    })
}

impl Query {
    /// Field names the query references, sorted and de-duplicated (not the default field).
    pub fn fields(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(root) = &self.root {
            collect(root, &mut out);
        }
        out.sort();
        out.dedup();
        out
    }

    /// Compiles against field types; fails where Elasticsearch would reject the query.
    pub fn compile(&self, types: &FieldTypes) -> Result<Compiled, LuceneError> {
        compile::compile(self.root.as_ref(), types)
    }
}

fn collect(node: &Node, out: &mut Vec<String>) {
    let field = match &node.kind {
        NodeKind::Bool(items) => {
            items.iter().for_each(|(_, n)| collect(n, out));
            return;
        }
        NodeKind::MatchAll => return,
        NodeKind::Exists(f) => Some(f.clone()),
        NodeKind::Term { field, .. }
        | NodeKind::Phrase { field, .. }
        | NodeKind::Fuzzy { field, .. }
        | NodeKind::Regex { field, .. }
        | NodeKind::Range { field, .. } => field.clone(),
    };
    if let Some(f) = field.filter(|f| f != "*") {
        out.push(f);
    }
}
