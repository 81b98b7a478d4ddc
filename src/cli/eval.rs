//! `ruleforge eval`: ad-hoc evaluation of a query or a rule over an event file.

use anyhow::{Context as _, Result, bail};
use clap::Args;
use ruleforge::event;
use ruleforge::query::{eql, esql, kql};
use ruleforge::replay::explain::{Explainer, KqlExplainer, RuleExplainer};
use ruleforge::replay::stream::{self, RuleSet};
use ruleforge::replay::{self, Detail, NotReplayable};
use ruleforge::report::Format;
use ruleforge::report::diagnostics::{self, Sources};
use ruleforge::rule;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Args)]
pub struct EvalArgs {
    /// An EQL query (or KQL with --language kuery, ES|QL with --language esql), or a rule file
    /// (*.toml).
    query: String,
    /// Events: NDJSON (one object per line) or a JSON array.
    events: PathBuf,
    /// Query language when QUERY is a query: eql, kuery or esql.
    #[arg(long, default_value = "eql")]
    language: String,
    /// Field holding event time (EQL ordering).
    #[arg(long, default_value = "@timestamp")]
    timestamp_field: String,
    /// Field that breaks timestamp ties (EQL).
    #[arg(long)]
    tiebreaker_field: Option<String>,
    /// Field holding the event category (EQL `process where`).
    #[arg(long, default_value = "event.category")]
    event_category_field: String,
    /// Elasticsearch index mapping (JSON) giving field types; fields it leaves out are mapped
    /// from the events as Elasticsearch's dynamic mapping would (its `dynamic` honoured). For
    /// ES|QL, fields it leaves out are typed from the schema tables, then the JSON values.
    #[arg(long)]
    mapping: Option<PathBuf>,
    /// Maximum number of results, as Elasticsearch's `size` (default: all).
    #[arg(long)]
    size: Option<usize>,
    /// Keep only the first N results (`| head N`).
    #[arg(long, conflicts_with = "tail")]
    head: Option<usize>,
    /// Keep only the last N results (`| tail N`).
    #[arg(long)]
    tail: Option<usize>,
    /// Explain, clause by clause, why each event matches or not (EQL, KQL); for sequences, the
    /// stages each event matched and why no sequence completed.
    #[arg(long)]
    explain: bool,
    /// With --explain: only the event at this position (NDJSON line); repeatable.
    #[arg(long, requires = "explain")]
    position: Vec<usize>,
}

struct Hit {
    kind: &'static str,
    events: Vec<Option<usize>>,
    join_keys: Vec<Value>,
}

pub fn run(args: &EvalArgs, format: Format) -> Result<ExitCode> {
    check_query_is_not_a_missing_file(args)?;
    // The error's message already quotes its cause; `{:#}` would repeat it.
    let file = event::read_file(&args.events, &args.timestamp_field)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let is_rule = args.query.ends_with(".toml") && Path::new(&args.query).is_file();
    if !is_rule && args.language == "esql" {
        return run_esql(args, &file, format);
    }
    if !is_rule {
        warn_about_fields(args);
    }
    let hits: Vec<Hit> = if is_rule {
        let path = Path::new(&args.query);
        let rule = match rule::load_file(path, rule::placement_of(path)) {
            Ok(r) => r,
            Err(e) => {
                print_and_fail(&e.diagnostics(), e.text(), path);
                return Ok(ExitCode::from(2));
            }
        };
        if rule.rule_type == Some(rule::RuleType::Esql) && !args.explain {
            return esql_rule(&rule, path, &file, format);
        }
        let prepared = match replay::prepare(&rule) {
            Ok(p) => p,
            Err(NotReplayable::Invalid(diags)) => {
                print_and_fail(&diags, Some(&rule.text), path);
                return Ok(ExitCode::from(2));
            }
            Err(NotReplayable::Unsupported(reason)) => {
                bail!("{}: not replayable: {reason}", path.display())
            }
        };
        if args.explain {
            let ex = RuleExplainer::of_rule(&rule)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            super::explain::print(&ex, &file, &args.events, &args.position, format)?;
            return Ok(ExitCode::SUCCESS);
        }
        if let replay::Engine::Buffered(b) = &prepared.engine {
            bail!(
                "{}: not replayable: {} rules are replayed against a fixture's indicator recordings, by `ruleforge test`",
                path.display(),
                b.kind()
            );
        }
        // The replay engine, as `test` and `replay` run it; eval shows every match, so
        // before alert suppression.
        let set = RuleSet::new(&[&rule]).without_suppression();
        if let Some(s) = set.skipped().first() {
            bail!(
                "{}: not replayable: {}",
                path.display(),
                stream::reason_text(&s.reason)
            );
        }
        let alerts = set
            .run_events(&file, &[], None)
            .into_iter()
            .next()
            .unwrap_or_else(|| Ok(Vec::new()))?;
        alerts
            .into_iter()
            .map(|a| Hit {
                kind: match a.detail {
                    Detail::Event => "event",
                    Detail::Sequence { .. } => "sequence",
                    Detail::Threshold { .. } => "threshold",
                    Detail::NewTerms { .. } => "new_terms",
                    Detail::ThreatMatch { .. } => "threat_match",
                    Detail::Esql(_) => "esql",
                    Detail::Suppressed(_) => "suppressed",
                },
                join_keys: match a.detail {
                    Detail::Sequence { join_keys } => join_keys,
                    Detail::Threshold { terms, .. } => terms.into_iter().map(|(_, v)| v).collect(),
                    Detail::NewTerms { values } => values.into_iter().map(|(_, v)| v).collect(),
                    Detail::Esql(row) => row.values.into_iter().map(|(_, v)| v).collect(),
                    Detail::Event | Detail::ThreatMatch { .. } | Detail::Suppressed(_) => {
                        Vec::new()
                    }
                },
                events: a.events.into_iter().map(|e| e.map(|e| e.index)).collect(),
            })
            .collect()
    } else if args.language == "kuery" || args.language == "kql" {
        let q =
            kql::parse(&args.query).map_err(|e| query_error(&args.query, &e.message, &e.span))?;
        let c = q
            .compile(&kql::FieldTypes::ecs())
            .map_err(|e| query_error(&args.query, &e.message, &e.span))?;
        if args.explain {
            let ex = RuleExplainer::Kql(Box::new(KqlExplainer {
                query: q,
                text: args.query.clone(),
                types: kql::FieldTypes::ecs(),
            }));
            super::explain::print(&ex, &file, &args.events, &args.position, format)?;
            return Ok(ExitCode::SUCCESS);
        }
        let mut hits: Vec<Hit> = (0..file.len())
            .filter(|&i| c.matches(&file.values[i]))
            .map(|i| Hit {
                kind: "event",
                events: vec![Some(i)],
                join_keys: Vec::new(),
            })
            .collect();
        if let Some(n) = args.head {
            hits.truncate(n);
        }
        if let Some(n) = args.tail {
            let skip = hits.len().saturating_sub(n);
            hits.drain(..skip);
        }
        if let Some(n) = args.size {
            hits.truncate(n);
        }
        hits
    } else if args.language == "eql" {
        let mut text = args.query.clone();
        if let Some(n) = args.head {
            text.push_str(&format!(" | head {n}"));
        }
        if let Some(n) = args.tail {
            text.push_str(&format!(" | tail {n}"));
        }
        let q = match eql::parse(&text) {
            Ok(q) => q,
            Err(e) => {
                eprint!("{}", query_error(&text, &e.message, &e.span));
                return Ok(ExitCode::from(2));
            }
        };
        let mut opts = eql::Options {
            timestamp_field: args.timestamp_field.clone(),
            tiebreaker_field: args.tiebreaker_field.clone(),
            event_category_field: args.event_category_field.clone(),
            size: args.size,
            ..eql::Options::default()
        };
        if let Some(m) = &args.mapping {
            let text =
                std::fs::read_to_string(m).with_context(|| format!("reading {}", m.display()))?;
            let v: Value = serde_json::from_str(&text)
                .with_context(|| format!("{}: invalid JSON", m.display()))?;
            let mut mapping = eql::Mapping::from_es_mapping_json(&v)
                .map_err(|e| anyhow::anyhow!("{}: {}", m.display(), e.message))?;
            // Fields the mapping leaves out were mapped dynamically when the events were indexed.
            for (v, pos) in file.values.iter().zip(&file.positions) {
                mapping.add_dynamic_event(v).map_err(|e| {
                    anyhow::anyhow!("{}:{pos}: {}", args.events.display(), e.message)
                })?;
            }
            opts.mapping = Some(mapping);
        }
        let c = match q.compile(&opts) {
            Ok(c) => c,
            Err(e) => {
                eprint!("{}", query_error(&text, &e.message, &e.span));
                return Ok(ExitCode::from(2));
            }
        };
        if args.explain {
            let ex = RuleExplainer::Eql(Box::new(Explainer { query: q, opts }));
            super::explain::print(&ex, &file, &args.events, &args.position, format)?;
            return Ok(ExitCode::SUCCESS);
        }
        c.execute(&file.values)
            .map_err(|e| anyhow::anyhow!("{}", e.message))?
            .into_iter()
            .map(|h| match h {
                eql::Hit::Event { index } => Hit {
                    kind: "event",
                    events: vec![Some(index)],
                    join_keys: Vec::new(),
                },
                eql::Hit::Sequence { events, join_keys } => Hit {
                    kind: "sequence",
                    events,
                    join_keys,
                },
                eql::Hit::Sample { events, join_keys } => Hit {
                    kind: "sample",
                    events: events.into_iter().map(Some).collect(),
                    join_keys,
                },
            })
            .collect()
    } else {
        bail!(
            "unknown --language {:?} (eql, kuery or esql)",
            args.language
        );
    };

    let pos = |i: Option<usize>| i.map(|i| file.positions[i]);
    match format {
        Format::Json => {
            for h in &hits {
                let events: Vec<Value> = h.events.iter().map(|&i| json!(pos(i))).collect();
                let obj = if h.kind == "event" {
                    json!({"type": "event", "position": pos(h.events[0])})
                } else {
                    json!({"type": h.kind, "events": events, "join_keys": h.join_keys})
                };
                out!("{obj}");
            }
        }
        _ => {
            for (n, h) in hits.iter().enumerate() {
                if h.kind != "event" {
                    let keys: Vec<String> = h.join_keys.iter().map(|k| k.to_string()).collect();
                    out!("{} {} [{}]", h.kind, n + 1, keys.join(", "));
                }
                for &i in &h.events {
                    match i {
                        None => out!("  (missing event)"),
                        Some(i) => {
                            let v = &file.values[i];
                            let get = |f: &str| ruleforge::snapshot::field_text(v, f);
                            out!(
                                "{}:{}  {}  {}",
                                args.events.display(),
                                file.positions[i],
                                get("@timestamp").unwrap_or_default(),
                                get("process.command_line")
                                    .or_else(|| get("process.name"))
                                    .or_else(|| get("event.action"))
                                    .unwrap_or_default()
                            );
                        }
                    }
                }
            }
            eprintln!(
                "{} over {}",
                ruleforge::suite::plural(hits.len(), "result"),
                ruleforge::suite::plural(file.len(), "event")
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// QUERY is a rule file or a query; a path to a missing rule file must not be read as a query
/// (the parse error would hide the real problem, and KQL would search for the text).
fn check_query_is_not_a_missing_file(args: &EvalArgs) -> Result<()> {
    let q = args.query.as_str();
    let path = Path::new(q);
    let looks_like_path = [".toml", ".ndjson", ".json"]
        .iter()
        .any(|ext| q.ends_with(ext))
        || q.contains('/')
        || q.contains(std::path::MAIN_SEPARATOR);
    if !looks_like_path || (q.ends_with(".toml") && path.is_file()) {
        return Ok(());
    }
    let valid_query = match args.language.as_str() {
        "eql" => eql::parse(q).is_ok(),
        // A bare word is valid KQL (free text), so only a query with KQL structure counts.
        "kuery" | "kql" => kql::parse(q).is_ok() && q.contains([':', ' ', '(']),
        "esql" => esql::parse(q).is_ok(),
        _ => false,
    };
    if valid_query {
        return Ok(());
    }
    if path.exists() {
        bail!("{q}: not a rule file (*.toml) and not a valid query; usage: eval QUERY|RULE FILE");
    }
    bail!(
        "{q}: no such file (and not a valid {} query)",
        args.language
    )
}

/// The lint's field and value checks (RF604 unknown field, RF624 ECS allowed value, RF625 value
/// type) on an ad-hoc query, as warnings on stderr: the query still runs.
fn warn_about_fields(args: &EvalArgs) {
    let category = args.event_category_field == "event.category";
    let Some(findings) =
        ruleforge::lint::query_checks::check_text(&args.language, &args.query, category)
    else {
        return;
    };
    for f in findings {
        let located = query_error(&args.query, &f.message, &f.span);
        eprint!("warning[{}]: {located}", f.code);
        if let Some(help) = &f.help {
            eprintln!("  = help: {help}");
        }
    }
}

/// A query error with a caret under the offending column.
fn query_error(query: &str, message: &str, span: &std::ops::Range<usize>) -> anyhow::Error {
    let idx = ruleforge::diag::LineIndex::new(query);
    let (line, col) = idx.line_col(query, span.start);
    let src = idx.line_text(query, line);
    anyhow::anyhow!(
        "{message}\n  at query line {line}, column {col}\n  | {src}\n  | {}^\n",
        " ".repeat(col.saturating_sub(1))
    )
}

fn print_and_fail(diags: &[ruleforge::diag::Diagnostic], text: Option<&str>, path: &Path) {
    let mut sources = Sources::default();
    if let Some(t) = text {
        sources.add(path, t.into());
    }
    eprint!(
        "{}",
        diagnostics::render(diags, &mut sources, Format::Human)
    );
}

/// An ES|QL query over the events: its result table (the events are what `FROM` reads, typed
/// from `--mapping`, else the schema tables, then the query's usage and the JSON values).
fn run_esql(args: &EvalArgs, file: &event::EventFile, format: Format) -> Result<ExitCode> {
    let q = match esql::parse(&args.query) {
        Ok(q) => q,
        Err(e) => {
            eprint!("{}", query_error(&args.query, &e.message, &e.span));
            return Ok(ExitCode::from(2));
        }
    };
    let mapped = match &args.mapping {
        Some(m) => {
            let text =
                std::fs::read_to_string(m).with_context(|| format!("reading {}", m.display()))?;
            let v: Value = serde_json::from_str(&text)
                .with_context(|| format!("{}: invalid JSON", m.display()))?;
            esql::events::mapping_types(&v).map_err(|e| anyhow::anyhow!("{}: {e}", m.display()))?
        }
        None => Default::default(),
    };
    let schema = kql::FieldTypes::ecs();
    let hints = q.field_type_hints();
    let types = |f: &str| {
        mapped.get(f).copied().or_else(|| {
            if args.mapping.is_some() {
                // With a mapping, unmapped fields are typed from their JSON values.
                return hints.get(f).copied();
            }
            schema
                .get(f)
                .map(|t| esql::events::schema_type(t.name()))
                .filter(|t| *t != esql::DataType::Unsupported)
                .or_else(|| hints.get(f).copied())
        })
    };
    let catalog = esql::EventCatalog {
        events: &file.values,
        types: &types,
        extra_fields: q.referenced_fields(),
        only: None,
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let out = match q.run(&catalog, now) {
        Ok(o) => o,
        Err(e) => {
            eprint!("{}", query_error(&args.query, &e.message, &e.span));
            return Ok(ExitCode::from(2));
        }
    };
    for w in &out.warnings {
        eprintln!("warning: {w}");
    }
    print_table(&out.table, format);
    eprintln!(
        "{} over {}",
        ruleforge::suite::plural(out.table.rows.len(), "row"),
        ruleforge::suite::plural(file.len(), "event")
    );
    Ok(ExitCode::SUCCESS)
}

fn print_table(table: &esql::Table, format: Format) {
    match format {
        Format::Json => {
            for row in &table.rows {
                let obj: serde_json::Map<String, Value> = table
                    .columns
                    .iter()
                    .zip(row)
                    .map(|(c, v)| (c.name.clone(), esql::to_json(v)))
                    .collect();
                out!("{}", Value::Object(obj));
            }
        }
        _ => {
            let header: Vec<String> = table
                .columns
                .iter()
                .map(|c| format!("{}:{}", c.name, c.ty.name()))
                .collect();
            out!("{}", header.join(" | "));
            for row in &table.rows {
                let cells: Vec<String> = row
                    .iter()
                    .map(|v| match esql::to_json(v) {
                        Value::String(s) => s,
                        other => other.to_string(),
                    })
                    .collect();
                out!("{}", cells.join(" | "));
            }
        }
    }
}

/// An ES|QL rule over the events, as `ruleforge test` replays it: its executions and alerts.
fn esql_rule(
    rule: &rule::Rule,
    path: &Path,
    file: &event::EventFile,
    format: Format,
) -> Result<ExitCode> {
    // Errors first, located in the rule file, as `test` reports them.
    match replay::prepare(rule) {
        Ok(_) => {}
        Err(NotReplayable::Invalid(diags)) => {
            print_and_fail(&diags, Some(&rule.text), path);
            return Ok(ExitCode::from(2));
        }
        Err(NotReplayable::Unsupported(reason)) => {
            bail!("{}: not replayable: {reason}", path.display())
        }
    }
    // The replay engine, as `test` and `replay` run it (with the rule's suppression).
    let alerts = RuleSet::new(&[rule])
        .run_events(file, &[], None)
        .into_iter()
        .next()
        .unwrap_or_else(|| Ok(Vec::new()))?;
    for a in &alerts {
        let (row, source) = match &a.detail {
            Detail::Esql(r) => (r.as_ref(), a.events.first().cloned().flatten()),
            Detail::Suppressed(s) => match &s.detail {
                Detail::Esql(r) => (r.as_ref(), a.events.first().cloned().flatten()),
                _ => continue,
            },
            _ => continue,
        };
        let values: serde_json::Map<String, Value> = row.values.iter().cloned().collect();
        match format {
            Format::Json => out!(
                "{}",
                json!({"type": "esql", "run": event::format_millis(row.run),
                       "position": source.map(|e| e.position), "row": values})
            ),
            _ => out!(
                "run {}{}: {}",
                event::format_millis(row.run),
                source.map_or(String::new(), |e| format!(
                    " {}:{}",
                    file.path.display(),
                    e.position
                )),
                Value::Object(values)
            ),
        }
    }
    eprintln!(
        "{} over {}",
        ruleforge::suite::plural(alerts.len(), "alert"),
        ruleforge::suite::plural(file.len(), "event")
    );
    Ok(ExitCode::SUCCESS)
}
