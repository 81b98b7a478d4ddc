//! ES|QL as Elasticsearch runs it, offline: parse, resolve against a table's columns, and
//! evaluate over rows.
//!
//! Phases: `lexer` → `parser` (→ [`ast`], spans into the source) → `plan` (name resolution,
//! types, implicit casts, per command) → execution over a [`Table`]. `types` holds data types
//! and values, `functions` the scalar functions, `aggs` the aggregations, `commands` the
//! processing commands, `eval` the expression evaluator, `grok` / `dissect` the pattern
//! commands.
//!
//! ```
//! use ruleforge::query::esql;
//! let q = esql::parse("FROM logs-* METADATA _id | WHERE process.name == \"bash\" | KEEP _id").unwrap();
//! assert_eq!(q.ast.commands.len(), 3);
//! let q = esql::parse("FROM logs | COMPLETION x = prompt WITH { \"inference_id\": \"e\" }").unwrap();
//! let err = q.run(&esql::EventCatalog { events: &[], types: &|_| None, extra_fields: vec![], only: None }, 0);
//! assert!(err.unwrap_err().message.contains("COMPLETION is not supported"));
//! ```

mod aggs;
pub mod ast;
mod commands;
mod convert;
mod dates;
mod dissect;
mod error;
mod eval;
pub mod events;
mod functions;
mod geo;
mod grok;
mod lexer;
mod math;
mod mv;
mod parser;
mod strings;
mod types;

pub use ast::{Command, CommandKind, Expr, ExprKind, QueryAst, Span};
pub use error::{EsqlError, EsqlErrorKind};
pub use eval::{Column, line_col, to_json};
pub use events::EventCatalog;
pub use parser::MAX_NESTING;
pub use types::{DataType, Value, format_date, java_double, parse_date, to_text};

/// Rows with typed columns: a source's data and every command's output.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Value>>,
}

/// Where `FROM` reads its rows: index patterns (and the `METADATA` fields asked for) to a
/// table. An `Err` is Elasticsearch's "Unknown index".
pub trait Catalog {
    fn source(&self, patterns: &[String], metadata: &[String]) -> Result<Table, String>;

    /// Whether the source's columns are all the index has (a mapping): then a `KEEP`/`DROP`
    /// wildcard matching nothing is an error, as in Elasticsearch. Sources built from events
    /// know only the fields present, so an unmatched wildcard there matches nothing.
    fn complete_schema(&self) -> bool {
        true
    }
}

/// A query's result: the table and Elasticsearch's response warnings.
#[derive(Debug, Clone, Default)]
pub struct Output {
    pub table: Table,
    pub warnings: Vec<String>,
}

/// The row limit Elasticsearch adds when a query has none at its end.
pub const DEFAULT_LIMIT: usize = 1000;

/// A parsed ES|QL query.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub ast: QueryAst,
    /// The source text (unnamed expressions are named after their text).
    pub source: String,
}

/// Parses an ES|QL query (optionally preceded by `SET name = value;` statements).
pub fn parse(src: &str) -> Result<Query, EsqlError> {
    let ast = parser::Parser::new(src)?.parse_query()?;
    Ok(Query {
        ast,
        source: src.to_string(),
    })
}

impl Query {
    /// Whether the query has a `STATS` command (not `INLINE STATS`): its rows are aggregates,
    /// not source rows.
    pub fn aggregates(&self) -> bool {
        self.ast
            .commands
            .iter()
            .any(|c| matches!(c.kind, CommandKind::Stats { inline: false, .. }))
    }

    /// The only source columns the query's result can depend on, when that set is certain:
    /// the query aggregates (`STATS` without `INLINE`, so its output columns are the
    /// aggregates and groups) and searches no field it does not name (no `:` match, `MATCH`,
    /// `KQL` or `QSTR`, no unsupported command). `None` otherwise: every column matters.
    pub fn column_projection(&self) -> Option<Vec<String>> {
        let commands = &self.ast.commands;
        if !self.aggregates()
            || commands
                .iter()
                .any(|c| matches!(c.kind, CommandKind::Unsupported(_) | CommandKind::Row(_)))
        {
            return None;
        }
        let mut searches = false;
        for c in commands {
            walk_command(c, &mut |e| match &e.kind {
                ExprKind::Match { .. } => searches = true,
                ExprKind::Call { name, .. }
                    if ["kql", "qstr", "match"].contains(&name.to_ascii_lowercase().as_str()) =>
                {
                    searches = true
                }
                _ => {}
            });
        }
        (!searches).then(|| self.referenced_fields())
    }

    /// Field names the query reads from its source (every column reference, deduplicated),
    /// for building a source table when there is no mapping.
    pub fn referenced_fields(&self) -> Vec<String> {
        let mut out = Vec::new();
        for c in &self.ast.commands {
            walk_command(c, &mut |e| {
                if let ExprKind::Field(f) = &e.kind {
                    out.push(f.clone());
                }
            });
            match &c.kind {
                CommandKind::Keep(ps) | CommandKind::Drop(ps) => {
                    out.extend(
                        ps.iter()
                            .filter(|p| !p.text.contains('*'))
                            .map(|p| p.text.clone()),
                    );
                }
                CommandKind::MvExpand(p) => out.push(p.text.clone()),
                CommandKind::Rename(pairs) => out.extend(pairs.iter().map(|p| p.0.text.clone())),
                _ => {}
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// Runs the query: `FROM` reads from `catalog`, `NOW()` is `now_ms`.
    pub fn run(&self, catalog: &dyn Catalog, now_ms: i64) -> Result<Output, EsqlError> {
        for (name, value) in &self.ast.settings {
            let utc =
                matches!(value, ast::Literal::Str(s) if s == "Z" || s.eq_ignore_ascii_case("utc"));
            if name != "time_zone" || !utc {
                return Err(EsqlError::unsupported(
                    format!("SET {name} is not supported (only time_zone = \"UTC\")"),
                    0..0,
                ));
            }
        }
        let mut ctx = eval::Ctx::new(&self.source, now_ms);
        ctx.lenient_patterns = !catalog.complete_schema();
        let mut cmds = self.ast.commands.iter();
        let Some(first) = cmds.next() else {
            return Err(EsqlError::syntax("empty query", 0..0));
        };
        let mut table = match &first.kind {
            CommandKind::From { sources, metadata } => catalog
                .source(sources, metadata)
                .map_err(|m| EsqlError::verify(m, first.span.clone()))?,
            CommandKind::Row(fields) => {
                let one = Table {
                    columns: Vec::new(),
                    rows: vec![Vec::new()],
                };
                commands::eval(fields, one, &ctx)?
            }
            _ => {
                return Err(EsqlError::syntax(
                    format!("a query starts with FROM or ROW, not {}", first.name()),
                    first.span.clone(),
                ));
            }
        };
        for c in cmds {
            table = commands::apply(c, table, &ctx)?;
        }
        table.rows.truncate(DEFAULT_LIMIT);
        let warnings = ctx.warnings.borrow().lines();
        Ok(Output { table, warnings })
    }
}

fn walk_command(c: &Command, f: &mut dyn FnMut(&Expr)) {
    match &c.kind {
        CommandKind::Where(e) => walk_expr(e, f),
        CommandKind::Eval(fields) | CommandKind::Row(fields) => {
            fields.iter().for_each(|x| walk_expr(&x.expr, f));
        }
        CommandKind::Stats { aggs, by, .. } => {
            for x in aggs.iter().chain(by) {
                walk_expr(&x.expr, f);
                if let Some(w) = &x.filter {
                    walk_expr(w, f);
                }
            }
        }
        CommandKind::Sort(keys) => keys.iter().for_each(|k| walk_expr(&k.expr, f)),
        CommandKind::Grok { input, .. } | CommandKind::Dissect { input, .. } => walk_expr(input, f),
        _ => {}
    }
}

fn walk_expr(e: &Expr, f: &mut dyn FnMut(&Expr)) {
    f(e);
    match &e.kind {
        ExprKind::Call { args, .. } => args.iter().for_each(|a| walk_expr(a, f)),
        ExprKind::Neg(x) | ExprKind::Not(x) => walk_expr(x, f),
        ExprKind::Binary { left, right, .. } => {
            walk_expr(left, f);
            walk_expr(right, f);
        }
        ExprKind::In { expr, list, .. } => {
            walk_expr(expr, f);
            list.iter().for_each(|a| walk_expr(a, f));
        }
        ExprKind::Like { expr, patterns, .. } => {
            walk_expr(expr, f);
            patterns.iter().for_each(|a| walk_expr(a, f));
        }
        ExprKind::IsNull { expr, .. } | ExprKind::Cast { expr, .. } => walk_expr(expr, f),
        ExprKind::Match { query, .. } => walk_expr(query, f),
        _ => {}
    }
}

#[cfg(test)]
mod tests;

impl Query {
    /// Types the query implies for fields it reads, for sources without a mapping: compared with
    /// a number (`x > 5`) is numeric, used as a condition is boolean, the argument of a
    /// numeric aggregation is numeric; carried back through `name = agg(field)`.
    pub fn field_type_hints(&self) -> std::collections::HashMap<String, DataType> {
        use ast::{BinOp, Literal};
        let mut hints = std::collections::HashMap::new();
        let mut links: Vec<(String, String)> = Vec::new();
        let num = |e: &Expr| match &e.kind {
            ExprKind::Literal(Literal::Int(_)) => Some(DataType::Long),
            ExprKind::Literal(Literal::Decimal(_)) => Some(DataType::Double),
            _ => None,
        };
        for c in &self.ast.commands {
            if let CommandKind::Where(Expr {
                kind: ExprKind::Field(f),
                ..
            }) = &c.kind
            {
                hints.insert(f.clone(), DataType::Boolean);
            }
            if let CommandKind::Stats { aggs, .. } | CommandKind::Eval(aggs) = &c.kind {
                for f in aggs {
                    if let ExprKind::Call { name, args } = &f.expr.kind {
                        let keeps_type = matches!(
                            name.as_str(),
                            "max"
                                | "min"
                                | "sum"
                                | "avg"
                                | "median"
                                | "percentile"
                                | "values"
                                | "mv_max"
                                | "mv_min"
                                | "mv_first"
                                | "mv_last"
                                | "mv_sum"
                        );
                        if let (true, Some(ExprKind::Field(src))) =
                            (keeps_type, args.first().map(|a| &a.kind))
                        {
                            links.push((f.name.clone(), src.clone()));
                        }
                    }
                }
            }
            walk_command(c, &mut |e| match &e.kind {
                ExprKind::Binary { op, left, right } => {
                    if matches!(op, BinOp::And | BinOp::Or) {
                        for side in [left, right] {
                            if let ExprKind::Field(f) = &side.kind {
                                hints.insert(f.clone(), DataType::Boolean);
                            }
                        }
                    } else {
                        for (a, b) in [(left, right), (right, left)] {
                            if let (ExprKind::Field(f), Some(t)) = (&a.kind, num(b)) {
                                hints.insert(f.clone(), t);
                            }
                        }
                    }
                }
                ExprKind::Not(x) => {
                    if let ExprKind::Field(f) = &x.kind {
                        hints.insert(f.clone(), DataType::Boolean);
                    }
                }
                ExprKind::In { expr, list, .. } => {
                    if let (ExprKind::Field(f), Some(t)) = (&expr.kind, list.first().and_then(num))
                    {
                        hints.insert(f.clone(), t);
                    }
                }
                ExprKind::Call { name, args } => {
                    let numeric = matches!(
                        name.as_str(),
                        "avg"
                            | "sum"
                            | "median"
                            | "percentile"
                            | "std_dev"
                            | "variance"
                            | "weighted_avg"
                            | "median_absolute_deviation"
                            | "round"
                            | "abs"
                            | "mv_sum"
                            | "mv_avg"
                            | "pow"
                            | "sqrt"
                            | "log10"
                            | "ceil"
                            | "floor"
                    );
                    if numeric {
                        if let Some(ExprKind::Field(f)) = args.first().map(|a| &a.kind) {
                            hints.entry(f.clone()).or_insert(DataType::Double);
                        }
                    }
                }
                _ => {}
            });
        }
        for _ in 0..3 {
            for (name, src) in &links {
                if let Some(t) = hints.get(name).copied() {
                    if t.is_numeric() {
                        hints.entry(src.clone()).or_insert(t);
                    }
                }
            }
        }
        hints
    }
}

/// The columns one command reads (with the span of each reference) and the columns it creates,
/// in query order: what a field check needs to follow columns from `FROM` to the end.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ColumnFlow {
    /// Column references, as written (`KEEP`/`DROP` wildcard patterns left out).
    pub reads: Vec<(String, Span)>,
    /// Columns the command creates (`EVAL`, `STATS`, `RENAME … AS`, `GROK`/`DISSECT` keys,
    /// `FROM … METADATA`); `None` when they cannot be known (a command this parser skips over,
    /// a pattern it cannot read), and then nothing after it can be checked.
    pub creates: Option<Vec<String>>,
}

impl Command {
    /// What this command reads and creates.
    pub fn column_flow(&self) -> ColumnFlow {
        let mut reads = Vec::new();
        walk_command(self, &mut |e| match &e.kind {
            ExprKind::Field(f) => reads.push((f.clone(), e.span.clone())),
            ExprKind::Match { field, .. } => {
                reads.push((field.clone(), e.span.start..e.span.start + field.len()));
            }
            _ => {}
        });
        let named = |fields: &[ast::Field]| fields.iter().map(|f| f.name.clone()).collect();
        let creates = match &self.kind {
            CommandKind::From { metadata, .. } => Some(metadata.clone()),
            CommandKind::Eval(fields) | CommandKind::Row(fields) => Some(named(fields)),
            CommandKind::Stats { aggs, by, .. } => {
                Some(aggs.iter().chain(by).map(|f| f.name.clone()).collect())
            }
            CommandKind::Keep(ps) | CommandKind::Drop(ps) => {
                let plain = ps.iter().filter(|p| !p.text.contains('*'));
                reads.extend(plain.map(|p| (p.text.clone(), p.span.clone())));
                Some(Vec::new())
            }
            CommandKind::MvExpand(p) => {
                reads.push((p.text.clone(), p.span.clone()));
                Some(Vec::new())
            }
            CommandKind::Rename(pairs) => {
                reads.extend(
                    pairs
                        .iter()
                        .map(|(from, _)| (from.text.clone(), from.span.clone())),
                );
                Some(pairs.iter().map(|(_, to)| to.text.clone()).collect())
            }
            CommandKind::Grok { pattern, .. } => grok::output_names(pattern),
            CommandKind::Dissect { pattern, .. } => dissect::output_names(pattern),
            CommandKind::Where(_) | CommandKind::Sort(_) | CommandKind::Limit(_) => {
                Some(Vec::new())
            }
            CommandKind::Unsupported(_) => None,
        };
        ColumnFlow { reads, creates }
    }
}
