//! `ruleforge replay EVENTS...`: every configured rule over large recordings, one streaming
//! pass (see [`ruleforge::replay::stream`]); reports what fired.

use anyhow::{Context as _, Result, bail};
use clap::Args;
use ruleforge::diag::escape_control;
use ruleforge::event::format_millis;
use ruleforge::replay::Detail;
use ruleforge::replay::stream::{self, Counts, RuleSet, Source, StreamAlert};
use ruleforge::replay::threat_match::IndicatorSet;
use ruleforge::report::Format;
use ruleforge::rule::Rule;
use ruleforge::rule::RuleType;
use serde_json::{Value, json};
use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

#[derive(Args)]
pub struct ReplayArgs {
    /// Recordings: .ndjson, .ndjson.gz or .json files, directories of them, or `-` for stdin.
    #[arg(required = true)]
    pub(super) events: Vec<PathBuf>,
    /// Only this rule (rule_id, file stem or name); repeatable.
    #[arg(long = "rule")]
    rules: Vec<String>,
    /// Exit 1 when any rule raised an alert.
    #[arg(long)]
    fail_on_alerts: bool,
    /// Write one alert file (NDJSON) per rule that fired into this directory.
    #[arg(long)]
    pub(super) out: Option<PathBuf>,
    /// Offending events shown per rule in the human output.
    #[arg(long, default_value_t = 3)]
    show: usize,
    /// Threat intel documents (NDJSON) and the index they sit in, for threat_match rules;
    /// repeatable. Without any, threat_match rules are listed as not replayed.
    #[arg(long = "indicators", value_name = "INDEX=FILE", value_parser = parse_indicators)]
    pub(super) indicators: Vec<IndicatorsArg>,
}

/// One `--indicators INDEX=FILE`.
#[derive(Clone, Debug)]
pub struct IndicatorsArg {
    index: String,
    pub(super) path: PathBuf,
}

fn parse_indicators(s: &str) -> Result<IndicatorsArg, String> {
    let (index, path) = s
        .split_once('=')
        .ok_or("expected INDEX=FILE, e.g. logs-ti_example.indicator-default=feed.ndjson")?;
    if let Some(problem) = ruleforge::fixture::index_name_problem(index) {
        return Err(format!("indicator index {index:?} {problem}"));
    }
    if path.is_empty() {
        return Err("expected INDEX=FILE: the file is missing".into());
    }
    Ok(IndicatorsArg {
        index: index.to_string(),
        path: PathBuf::from(path),
    })
}

/// Reads the `--indicators` recordings.
fn load_indicators(args: &[IndicatorsArg]) -> Result<Vec<IndicatorSet>> {
    args.iter()
        .map(|a| {
            let docs = ruleforge::event::read_file(&a.path, "@timestamp")
                .map_err(|e| anyhow::anyhow!("--indicators: {e}"))?;
            Ok(IndicatorSet {
                index: a.index.clone(),
                docs,
            })
        })
        .collect()
}

/// Rules listed as not replayed: the engine's, and threat_match rules when no indicators
/// were given (they would search an empty threat index).
struct NotReplayed<'r> {
    rule: &'r Rule,
    reason: String,
}

pub fn run(cli: &super::Cli, args: &ReplayArgs) -> Result<ExitCode> {
    let start = Instant::now();
    let config = super::load_config(cli)?;
    let collection = super::load_rules(&config, &[])?;
    for n in &args.rules {
        if collection.find(n).is_none() {
            bail!("--rule {n:?} names no loaded rule");
        }
    }
    let selected: Vec<&Rule> = collection
        .rules
        .iter()
        .filter(|r| !r.is_deprecated())
        .filter(|r| args.rules.is_empty() || args.rules.iter().any(|n| r.is_named(n)))
        .collect();
    let inputs = collect_inputs(&args.events)?;
    let indicators = load_indicators(&args.indicators)?;
    let mut not_replayed = Vec::new();
    let selected: Vec<&Rule> = if indicators.is_empty() {
        let (needs, rest): (Vec<&Rule>, Vec<&Rule>) = selected
            .into_iter()
            .partition(|r| r.rule_type == Some(RuleType::ThreatMatch));
        not_replayed.extend(needs.into_iter().map(|rule| {
            NotReplayed {
                rule,
                reason:
                    "threat_match rules search indicator recordings: pass --indicators INDEX=FILE"
                        .into(),
            }
        }));
        rest
    } else {
        selected
    };
    let set = RuleSet::new(&selected).with_indicators(indicators);
    not_replayed.extend(set.skipped().iter().map(|s| NotReplayed {
        rule: s.rule,
        reason: stream::reason_text(&s.reason),
    }));
    not_replayed.sort_by_key(|n| n.rule.path.clone());
    let mut results = set.empty_results();
    let progress = Progress::new(start);
    let mut total = Counts::default();
    let rules = set.rules();
    let mut seen = Seen::new(&rules, args, cli.format == Format::Json)?;
    for input in &inputs {
        let source = if input == Path::new("-") {
            Source {
                path: PathBuf::from("-"),
                reader: Box::new(std::io::BufReader::with_capacity(1 << 20, std::io::stdin())),
            }
        } else {
            Source::open(input)?
        };
        let base = total;
        let mut sink = |id: usize, a: StreamAlert| seen.take(id, a);
        let c = set.run_to(
            source,
            &mut results,
            &|c| progress.update(base, c),
            Some(&mut sink),
        )?;
        seen.check()?;
        total.events += c.events;
        total.bytes += c.bytes;
    }
    progress.done();
    seen.close()?;
    let elapsed = start.elapsed().as_secs_f64();
    let fired = seen.counts.iter().filter(|&&n| n > 0).count();
    let alerts: usize = seen.counts.iter().sum();
    if cli.format == Format::Json {
        print_not_replayed(&not_replayed);
    } else if !cli.quiet || alerts > 0 {
        print_human(&rules, &seen, &not_replayed, args.show);
    }
    let errors: Vec<(&Rule, &String)> = rules
        .iter()
        .zip(&results)
        .flat_map(|(r, res)| res.errors.iter().map(move |e| (*r, e)))
        .collect();
    for f in &collection.failed {
        eprintln!("error: not replayed: {f}");
    }
    for (r, e) in &errors {
        eprintln!("error: {}: {}", escape_control(&r.name), escape_control(e));
    }
    if !cli.quiet && cli.format == Format::Human {
        let n = ruleforge::suite::plural;
        out!(
            "replay: {} replayed ({} not replayed), {}, {} ({:.1} MB) in {:.2}s ({:.0} events/s); {} from {}; {}",
            n(rules.len(), "rule"),
            not_replayed.len() + collection.failed.len(),
            n(inputs.len(), "recording"),
            n(total.events as usize, "event"),
            total.bytes as f64 / 1e6,
            elapsed,
            total.events as f64 / elapsed.max(1e-9),
            n(alerts, "alert"),
            n(fired, "rule"),
            n(errors.len() + collection.failed.len(), "error")
        );
    }
    Ok(if !errors.is_empty() || !collection.failed.is_empty() {
        ExitCode::from(2)
    } else if args.fail_on_alerts && alerts > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Files named on the command line, and the recordings under named directories (sorted).
fn collect_inputs(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p == Path::new("-") {
            out.push(p.clone());
        } else if p.is_dir() {
            let before = out.len();
            walk(p, &mut out).with_context(|| format!("reading {}", p.display()))?;
            if out.len() == before {
                bail!(
                    "{}: no .ndjson, .ndjson.gz or .json recordings in this directory",
                    p.display()
                );
            }
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            bail!("{}: no such file or directory", p.display());
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()?;
    entries.sort();
    for p in entries {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if p.is_dir() {
            walk(&p, out)?;
        } else if name.ends_with(".ndjson")
            || name.ends_with(".ndjson.gz")
            || name.ends_with(".json")
        {
            out.push(p);
        }
    }
    Ok(())
}

/// A progress bar on stderr, shown only on a terminal and once the run passes a second.
struct Progress {
    start: Instant,
    tty: bool,
    bar: OnceLock<indicatif::ProgressBar>,
    last: Mutex<Instant>,
}

impl Progress {
    fn new(start: Instant) -> Progress {
        Progress {
            start,
            tty: std::io::stderr().is_terminal(),
            bar: OnceLock::new(),
            last: Mutex::new(start),
        }
    }

    fn update(&self, base: Counts, c: Counts) {
        if !self.tty || self.start.elapsed().as_secs_f64() < 1.0 {
            return;
        }
        let bar = self.bar.get_or_init(|| {
            let b = indicatif::ProgressBar::new_spinner();
            b.set_style(
                indicatif::ProgressStyle::with_template("{spinner} {elapsed} {msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            b
        });
        let Ok(mut last) = self.last.lock() else {
            return;
        };
        if last.elapsed().as_millis() < 100 {
            return;
        }
        *last = Instant::now();
        let events = base.events + c.events;
        bar.set_message(format!(
            "{events} events, {:.1} MB, {:.0} events/s",
            (base.bytes + c.bytes) as f64 / 1e6,
            events as f64 / self.start.elapsed().as_secs_f64()
        ));
        bar.tick();
    }

    fn done(&self) {
        if let Some(b) = self.bar.get() {
            b.finish_and_clear();
        }
    }
}

fn alert_json(rule: &Rule, a: &StreamAlert) -> Value {
    let events: Vec<Value> = a
        .alert
        .events
        .iter()
        .zip(&a.info)
        .map(|(e, info)| match (e, info) {
            (Some(e), Some(i)) => json!({
                "file": e.file.display().to_string(),
                "position": e.position,
                "@timestamp": i.timestamp.map(format_millis),
                "process.name": i.process_name,
                "process.command_line": i.command_line,
            }),
            _ => Value::Null,
        })
        .collect();
    let (kind, detail) = match &a.alert.detail {
        Detail::Event => ("event", json!({})),
        Detail::Sequence { join_keys } => ("sequence", json!({ "join_keys": join_keys })),
        Detail::Threshold { terms, count } => (
            "threshold",
            json!({ "terms": terms.iter().map(|(f, v)| json!({"field": f, "value": v})).collect::<Vec<_>>(), "count": count }),
        ),
        Detail::NewTerms { values } => (
            "new_terms",
            json!({ "new_terms": values.iter().map(|(f, v)| json!({"field": f, "value": v})).collect::<Vec<_>>() }),
        ),
        Detail::ThreatMatch { enrichments } => (
            "threat_match",
            json!({ "indicators": enrichments_json(enrichments) }),
        ),
        Detail::Esql(row) => ("esql", json!({ "row": esql_row_json(row) })),
        Detail::Suppressed(s) => (
            "suppressed",
            json!({
                "suppression": {
                    "terms": s.terms.iter().map(|(f, v)| json!({"field": f, "value": v})).collect::<Vec<_>>(),
                    "docs_count": s.docs_count,
                },
                "detail": inner_detail(&s.detail),
            }),
        ),
    };
    let first = a.alert.events.iter().flatten().next();
    let mut v = json!({
        "kind": "alert",
        "rule_id": rule.rule_id,
        "name": rule.name,
        "severity": rule.severity,
        "risk_score": rule.risk_score,
        "type": rule.rule_type.map(|t| t.as_str()),
        "alert_type": kind,
        "file": first.map(|e| &e.file).or_else(|| row_file(&a.alert.detail)).map(|f| f.display().to_string()),
        "positions": a.alert.events.iter().map(|e| e.as_ref().map(|e| e.position)).collect::<Vec<_>>(),
        "timestamps": a.info.iter().map(|i| i.as_ref().and_then(|i| i.timestamp).map(format_millis)).collect::<Vec<_>>(),
        "events": events,
    });
    if let (Value::Object(m), Value::Object(d)) = (&mut v, detail) {
        m.extend(d);
    }
    v
}

/// What Kibana records of each matched indicator (`threat.enrichments`).
fn enrichments_json(enrichments: &[ruleforge::replay::threat_match::Enrichment]) -> Vec<Value> {
    enrichments
        .iter()
        .map(|e| {
            json!({
                "file": e.indicator.file.display().to_string(),
                "position": e.indicator.position,
                "matched.index": e.index,
                "matched.field": e.field,
                "matched.atomic": e.atomic,
                "indicator_field": e.indicator_field,
            })
        })
        .collect()
}

/// The detail of a suppressed alert: what it would say without suppression.
fn inner_detail(d: &Detail) -> Value {
    match d {
        Detail::Event => json!({ "alert_type": "event" }),
        Detail::Sequence { join_keys } => {
            json!({ "alert_type": "sequence", "join_keys": join_keys })
        }
        Detail::Threshold { terms, count } => json!({
            "alert_type": "threshold",
            "terms": terms.iter().map(|(f, v)| json!({"field": f, "value": v})).collect::<Vec<_>>(),
            "count": count,
        }),
        Detail::NewTerms { values } => json!({
            "alert_type": "new_terms",
            "new_terms": values.iter().map(|(f, v)| json!({"field": f, "value": v})).collect::<Vec<_>>(),
        }),
        Detail::ThreatMatch { enrichments } => json!({
            "alert_type": "threat_match",
            "indicators": enrichments_json(enrichments),
        }),
        Detail::Esql(row) => json!({ "alert_type": "esql", "row": esql_row_json(row) }),
        Detail::Suppressed(s) => inner_detail(&s.detail),
    }
}

/// An ES|QL alert's result row, column by column in the query's order.
/// The recording an ES|QL alert's execution read: an aggregating alert has no source event.
fn row_file(detail: &Detail) -> Option<&std::path::PathBuf> {
    match detail {
        Detail::Esql(row) => Some(&row.file),
        Detail::Suppressed(s) => row_file(&s.detail),
        _ => None,
    }
}

fn esql_row_json(row: &ruleforge::replay::esql::EsqlRow) -> Value {
    row.values
        .iter()
        .map(|(c, v)| json!({"column": c, "value": v}))
        .collect()
}

fn print_not_replayed(not_replayed: &[NotReplayed<'_>]) {
    let mut out = std::io::stdout().lock();
    for s in not_replayed {
        let line = json!({
            "kind": "not_replayed",
            "rule_id": s.rule.rule_id,
            "name": s.rule.name,
            "file": s.rule.path.display().to_string(),
            "reason": s.reason,
        });
        if writeln!(out, "{line}").is_err() {
            return;
        }
    }
}

/// The alerts as the engine hands them over (see [`RuleSet::run_to`]): written at once
/// (`--format json` lines, `--out` files), and of each rule only its count and the first
/// alerts the human table shows are kept.
struct Seen<'a, 'r> {
    rules: &'a [&'r Rule],
    counts: Vec<usize>,
    first: Vec<Vec<StreamAlert>>,
    show: usize,
    json: Option<std::io::BufWriter<std::io::Stdout>>,
    /// `--out`: the directory, each rule's file name, and the files opened so far.
    out: Option<(PathBuf, Vec<String>)>,
    files: std::collections::HashMap<usize, std::io::BufWriter<std::fs::File>>,
    /// The first write that failed (reported after the recording).
    failed: Option<anyhow::Error>,
}

impl<'a, 'r> Seen<'a, 'r> {
    fn new(rules: &'a [&'r Rule], args: &ReplayArgs, json: bool) -> Result<Self> {
        let out = match &args.out {
            Some(dir) => {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
                Some((dir.clone(), file_names(rules)))
            }
            None => None,
        };
        Ok(Seen {
            rules,
            counts: vec![0; rules.len()],
            first: rules.iter().map(|_| Vec::new()).collect(),
            show: args.show,
            json: json.then(|| std::io::BufWriter::new(std::io::stdout())),
            out,
            files: std::collections::HashMap::new(),
            failed: None,
        })
    }

    fn take(&mut self, id: usize, a: StreamAlert) {
        self.counts[id] += 1;
        if self.json.is_some() || self.out.is_some() {
            let line = alert_json(self.rules[id], &a).to_string();
            if let Some(w) = &mut self.json {
                // A closed stdout (`| head`) ends the output, not the run.
                let _ = writeln!(w, "{line}");
            }
            if let Err(e) = self.write_file(id, &line) {
                self.failed.get_or_insert(e);
            }
        }
        if self.first[id].len() < self.show {
            self.first[id].push(a);
        }
    }

    fn write_file(&mut self, id: usize, line: &str) -> Result<()> {
        let Some((dir, names)) = &self.out else {
            return Ok(());
        };
        let w = match self.files.entry(id) {
            std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => {
                let path = dir.join(&names[id]);
                let f = std::fs::File::create(&path)
                    .with_context(|| format!("writing {}", path.display()))?;
                v.insert(std::io::BufWriter::new(f))
            }
        };
        writeln!(w, "{line}").with_context(|| format!("writing {}", names[id]))
    }

    fn check(&mut self) -> Result<()> {
        match self.failed.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn close(&mut self) -> Result<()> {
        self.check()?;
        if let Some(w) = &mut self.json {
            let _ = w.flush();
        }
        for w in self.files.values_mut() {
            w.flush().context("writing the --out files")?;
        }
        Ok(())
    }
}

/// `--out` file names: each rule's file stem; a number tells apart rules that share one.
fn file_names(rules: &[&Rule]) -> Vec<String> {
    let mut used = std::collections::HashSet::new();
    rules
        .iter()
        .map(|rule| {
            let mut name = format!("{}.ndjson", rule.stem());
            if !used.insert(name.clone()) {
                name = format!("{}-{}.ndjson", rule.stem(), used.len());
                used.insert(name.clone());
            }
            name
        })
        .collect()
}

fn print_human(
    rules: &[&Rule],
    seen: &Seen<'_, '_>,
    not_replayed: &[NotReplayed<'_>],
    show: usize,
) {
    let counts = &seen.counts;
    let mut order: Vec<usize> = (0..rules.len()).filter(|&i| counts[i] > 0).collect();
    order.sort_by(|&a, &b| {
        counts[b]
            .cmp(&counts[a])
            .then_with(|| rules[a].name.cmp(&rules[b].name))
    });
    if !order.is_empty() {
        out!("{:>8}  {:<8}  rule", "alerts", "severity");
    }
    for i in order {
        let rule = rules[i];
        out!(
            "{:>8}  {:<8}  {} ({})",
            counts[i],
            escape_control(&rule.severity),
            escape_control(&rule.name),
            rule.rule_id
        );
        for a in seen.first[i].iter().take(show) {
            for (e, info) in a.alert.events.iter().zip(&a.info) {
                let (Some(e), Some(info)) = (e, info) else {
                    continue;
                };
                out!(
                    "            {}:{}  {}  {}",
                    e.file.display(),
                    e.position,
                    escape_control(info.process_name.as_deref().unwrap_or("-")),
                    escape_control(info.command_line.as_deref().unwrap_or(""))
                );
            }
        }
    }
    if !not_replayed.is_empty() {
        out!("not replayed ({}):", not_replayed.len());
        for s in not_replayed {
            out!(
                "  {} ({}): {}",
                escape_control(&s.rule.name),
                s.rule.path.display(),
                escape_control(&s.reason)
            );
        }
    }
}
