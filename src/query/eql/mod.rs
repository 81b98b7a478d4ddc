//! EQL as Elasticsearch runs it, offline: parse, verify, compile, and evaluate over JSON events.
//!
//! Three phases kept apart: [`parse`] builds a faithful AST with byte spans and verifies it;
//! [`Query::compile`] resolves fields, lowers patterns and hashes literal sets for a given set of
//! [`Options`] (field types, timestamp and category fields); [`Compiled`] then matches single
//! events ([`Compiled::matches`]) or runs the whole statement ([`Compiled::execute`]) — event
//! queries, sequences, samples and `head`/`tail` pipes — with Elasticsearch's semantics (see
//! `shared/reference/eql.md`), not Python `eql`'s. [`Compiled::executor`] does the same
//! incrementally for recordings too large to hold in memory, and [`Event`] abstracts where
//! field values come from.
//!
//! Module map: `lexer` → `parser` (→ [`ast`]) → `compile` (verification, constant folding,
//! field resolution) → `eval` (the executable form: query leaves, scripts) → `exec`
//! (ordering, pipes) with `sequence` and `sample`; `functions`, `pattern` (wildcards),
//! `lucene` (regex dialect, with `derivative` for `~`/`&`), `date`, `mapping`, `value` are
//! leaves.
//!
//! ```
//! use ruleforge::query::eql::{self, Hit, Options};
//! use serde_json::json;
//!
//! let q = eql::parse(r#"process where process.name : "CMD.exe" and process.pid != 4"#).unwrap();
//! assert_eq!(q.fields(), ["process.name", "process.pid"]);
//! let c = q.compile(&Options::default()).unwrap();
//! let events = [
//!     json!({"@timestamp": 2, "event": {"category": "process"}, "process": {"name": "cmd.exe"}}),
//!     json!({"@timestamp": 1, "event": {"category": "file"}, "process": {"name": "cmd.exe"}}),
//! ];
//! assert!(c.matches(&events[0]));
//! assert_eq!(c.execute(&events).unwrap(), vec![Hit::Event { index: 0 }]);
//!
//! let err = eql::parse("process where a == b").unwrap_err();
//! assert_eq!(err.span, 14..20); // byte offsets into the query
//! ```
//!
//! Decisions where Elasticsearch's behaviour is not documented (each pinned by a case in
//! `tests/data/eql/`):
//! - Without a mapping, JSON types decide comparisons (a number literal against a JSON string
//!   parses the string; a string literal against a JSON number parses the literal) and the
//!   timestamp field is a date. With [`Options::mapping`], field types decide, unknown
//!   non-optional fields are rejected and unknown optional fields are the literal `null`.
//!   [`Mapping::add_dynamic`] adds what Elasticsearch's dynamic mapping would have added when
//!   the events were indexed (per the mapping's `dynamic`, `date_detection`,
//!   `numeric_detection`, `dynamic_date_formats`).
//! - `execute` leaves out events whose timestamp is missing or unparseable (samples order by
//!   input position and need none).
//! - `until`: a pending sequence expires when an `until` event with its key comes strictly
//!   after its last matched event; the same event may complete a stage and be an `until` event.
//! - Missing events (`![…]`): none may match with the same keys strictly between the
//!   neighbouring positive events; a leading one is looked for from `last − maxspan` up to the
//!   first positive event, a trailing one from the last positive event up to `first + maxspan`.
//! - A script that raises an error (`number("x")`) makes `execute` fail, as it fails the search
//!   in Elasticsearch; `matches` reports no match.
//! - Samples pick, per key, the first events (input order) that give each filter a distinct
//!   event, stage 0 varying slowest when `max_samples_per_key` > 1.
//! - Lucene regex complement `~` and intersection `&`: on whole values they combine full
//!   matches of `regex` programs; inside a concatenation or a repetition they run on a
//!   derivative matcher (`derivative`), which gives up on (does not match) a value whose
//!   derivative term grows past a fixed size.

/// The syntax tree with byte spans, for tools that walk queries (lints, docs).
pub mod ast;
mod compile;
pub(crate) mod date;
mod derivative;
mod error;
pub(crate) mod eval;
mod exec;
/// Why an event matches or not, clause by clause; why a sequence did not complete.
pub mod explain;
mod functions;
mod lexer;
pub(crate) mod lucene;
mod mapping;
mod parser;
mod pattern;
mod sample;
mod sequence;
mod value;

pub use ast::{Expr, ExprKind, QueryAst, Span, Statement};
pub use error::{EqlError, EqlErrorKind};
pub use eval::{Event, FlatEvent};
pub use mapping::{FieldInfo, FieldType, Mapping};
pub use parser::MAX_NESTING;

use serde_json::Value as Json;

/// A parsed and verified EQL statement. Keeps the AST (with spans into the source).
#[derive(Debug, Clone)]
pub struct Query {
    source: String,
    statement: Statement,
}

/// Parses and verifies an EQL statement.
pub fn parse(src: &str) -> Result<Query, EqlError> {
    let statement = parser::parse_statement(src)?;
    let q = Query {
        source: src.to_string(),
        statement,
    };
    // Verification that needs no mapping: compile once with the defaults.
    q.compile(&Options::default())?;
    Ok(q)
}

/// Parses and evaluates an expression that reads no field (`substring("abc", 1)`), as
/// Elasticsearch's constant folding would; `null` comes back as JSON null.
pub fn eval_constant(expr: &str) -> Result<Json, EqlError> {
    let e = parser::parse_expression(expr)?;
    let opts = Options::default();
    compile::Compiler::new(&opts).fold_constant(&e)
}

impl Query {
    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn statement(&self) -> &Statement {
        &self.statement
    }

    /// Field names the statement references (conditions and join keys), sorted, deduplicated.
    pub fn fields(&self) -> Vec<String> {
        let mut out = Vec::new();
        for e in self.statement.exprs() {
            e.walk(&mut |x| {
                if let ExprKind::Field { name, .. } = &x.kind {
                    out.push(name.clone());
                }
            });
        }
        out.sort();
        out.dedup();
        out
    }

    /// [`Query::fields`], except that a field written with back-ticks keeps them, as written
    /// (the form Elastic's exporter names it by in `required_fields`).
    pub fn fields_as_written(&self) -> Vec<String> {
        let mut out = Vec::new();
        for e in self.statement.exprs() {
            e.walk(&mut |x| {
                if let ExprKind::Field { name, .. } = &x.kind {
                    let raw = self
                        .source
                        .get(x.span.clone())
                        .map(|r| r.trim_start_matches('?'))
                        .filter(|r| r.contains('`'));
                    out.push(raw.map_or_else(|| name.clone(), str::to_string));
                }
            });
        }
        out.sort();
        out.dedup();
        out
    }

    pub fn is_sequence(&self) -> bool {
        matches!(self.statement.query, ast::QueryAst::Sequence(_))
    }

    pub fn is_sample(&self) -> bool {
        matches!(self.statement.query, ast::QueryAst::Sample(_))
    }

    pub fn compile(&self, opts: &Options) -> Result<Compiled, EqlError> {
        exec::compile(&self.statement, opts)
    }

    /// Explains one event against an event query: each clause's value, the deciding clause,
    /// the flip of a near miss. For sequences and samples, use [`Query::explain_sequence`].
    pub fn explain_event(
        &self,
        opts: &Options,
        event: &Json,
    ) -> Result<explain::EventExplanation, EqlError> {
        let ast::QueryAst::Event(q) = &self.statement.query else {
            return Err(EqlError::verify(
                "explain_event needs an event query, not a sequence or sample",
                self.statement.span.clone(),
            ));
        };
        explain::Explainer::new(opts, &self.source).event(q, event, event)
    }

    /// Explains a sequence over a recording: the stages each event matched, with join keys,
    /// and per join key why a sequence completed or not.
    pub fn explain_sequence(
        &self,
        opts: &Options,
        events: &[Json],
    ) -> Result<explain::SequenceReport, EqlError> {
        let ast::QueryAst::Sequence(s) = &self.statement.query else {
            return Err(EqlError::verify(
                "explain_sequence needs a sequence query",
                self.statement.span.clone(),
            ));
        };
        let compiled = self.compile(opts)?;
        let ex = explain::Explainer::new(opts, &self.source);
        explain::sequence::explain(&ex, s, events, &|e| compiled.event_time(e))
    }
}

/// Request settings, as Elasticsearch's `_eql/search` takes them.
#[derive(Debug, Clone)]
pub struct Options {
    /// Default `@timestamp`.
    pub timestamp_field: String,
    /// Default none; ties are then broken by input position.
    pub tiebreaker_field: Option<String>,
    /// Default `event.category`.
    pub event_category_field: String,
    /// Maximum number of results; `None` = unlimited (what a replay wants).
    pub size: Option<usize>,
    /// Field types from an index mapping; without one, JSON types decide.
    pub mapping: Option<Mapping>,
    /// Samples kept per join key (Elasticsearch's `max_samples_per_key`, default 1).
    pub max_samples_per_key: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            timestamp_field: "@timestamp".into(),
            tiebreaker_field: None,
            event_category_field: "event.category".into(),
            size: None,
            mapping: None,
            max_samples_per_key: 1,
        }
    }
}

/// One result of [`Compiled::execute`]; indexes point into the input slice.
#[derive(Debug, Clone, PartialEq)]
pub enum Hit {
    Event {
        index: usize,
    },
    Sequence {
        /// `None` for a missing-event (`![…]`) slot.
        events: Vec<Option<usize>>,
        join_keys: Vec<Json>,
    },
    Sample {
        events: Vec<usize>,
        join_keys: Vec<Json>,
    },
}

pub use exec::{Compiled, Executor};

#[cfg(test)]
mod tests;
