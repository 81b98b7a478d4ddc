//! The command line: flags, output and exit codes live here and nowhere else.
//! Exit codes: 0 clean, 1 findings (lint errors, failed expectations, snapshot diffs),
//! 2 usage, configuration or I/O errors.

/// `println!` that ignores write errors: a closed pipe (`ruleforge lint | head`) ends the
/// output quietly instead of panicking.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

mod eval;

use anyhow::{Context as _, Result};
use clap::{Args, Parser, Subcommand};
use ruleforge::config::Config;
use ruleforge::diag::{Diagnostic, Severity};
use ruleforge::lint;
use ruleforge::report::Format;
use ruleforge::report::diagnostics::{self, Sources};
use ruleforge::rule::Collection;
use ruleforge::suite;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[derive(Parser)]
#[command(
    name = "ruleforge",
    version,
    about = "Lint, replay, snapshot, document and export Elastic Security detection rules"
)]
pub struct Cli {
    /// Project root: where ruleforge.toml, rules/, fixtures/ and snapshots/ are.
    #[arg(short = 'C', long = "root", global = true, default_value = ".")]
    root: PathBuf,
    /// Output format for findings.
    #[arg(long, global = true, default_value = "human", value_parser = |s: &str| s.parse::<Format>())]
    format: Format,
    /// Print only findings, no summary.
    #[arg(short, long, global = true)]
    quiet: bool,
    /// test/check: also print what every rule did on every fixture.
    #[arg(short, long, global = true)]
    verbose: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Lint and test: the CI gate and the default main job.
    Check(TestArgs),
    /// Check rule files against the schema, conventions and guide structure.
    Lint(LintArgs),
    /// Replay every rule over every fixture, assert manifests, compare snapshots.
    Test(TestArgs),
    /// Run one query or rule over an event file and show which events match.
    Eval(eval::EvalArgs),
    /// Render the rules as documentation (a Markdown page per rule and an index).
    Docs(DocsArgs),
    /// Write the Kibana import NDJSON for the rules.
    Export(ExportArgs),
}

#[derive(Args)]
struct DocsArgs {
    /// Output directory (created if missing).
    #[arg(long)]
    out: PathBuf,
    /// Page format.
    #[arg(long = "pages", default_value = "markdown", value_parser = ["markdown"])]
    pages: String,
}

#[derive(Args)]
struct ExportArgs {
    /// Output file; must end in .ndjson (Kibana rejects other extensions).
    #[arg(long)]
    out: PathBuf,
    /// Only this rule (rule_id, file stem or name); repeatable.
    #[arg(long = "rule")]
    rules: Vec<String>,
}

#[derive(Args)]
struct LintArgs {
    /// Rule files or directories (default: the configured rule directories).
    paths: Vec<PathBuf>,
    /// Print the documentation of a lint code (e.g. RF407) and exit.
    #[arg(long, value_name = "CODE")]
    explain: Option<String>,
    /// Run only these lint codes or prefixes (comma-separated, e.g. RF1,RX102).
    #[arg(long, value_delimiter = ',')]
    select: Vec<String>,
    /// Skip these lint codes or prefixes.
    #[arg(long, value_delimiter = ',')]
    ignore: Vec<String>,
}

#[derive(Args, Clone)]
struct TestArgs {
    /// Write the current alerts as the accepted snapshots (review the diff first).
    #[arg(long)]
    accept: bool,
    /// Only this rule (rule_id, file stem or name); repeatable.
    #[arg(long = "rule")]
    rules: Vec<String>,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: &Cli) -> Result<ExitCode> {
    match &cli.command {
        Command::Lint(args) => lint_cmd(cli, args),
        Command::Test(args) => test_cmd(cli, args, false),
        Command::Check(args) => test_cmd(cli, args, true),
        Command::Eval(args) => eval::run(args, cli.format),
        Command::Docs(args) => docs_cmd(cli, args),
        Command::Export(args) => export_cmd(cli, args),
    }
}

fn load_config(cli: &Cli) -> Result<Config> {
    Ok(Config::load(&cli.root)?)
}

fn load_rules(config: &Config, paths: &[PathBuf]) -> Result<Collection> {
    if paths.is_empty() {
        if config.rule_dirs.is_empty() {
            anyhow::bail!(
                "no rule directories: {} has neither rules/ nor rules_building_block/ (set rule_dirs in ruleforge.toml)",
                config.root.display()
            );
        }
        for d in &config.rule_dirs {
            if !d.is_dir() {
                anyhow::bail!("rule directory {} does not exist", d.display());
            }
        }
        return Collection::load_dirs(&config.rule_dirs).context("loading rules");
    }
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            files.extend(
                ruleforge::rule::collect_toml_files(p)
                    .with_context(|| format!("reading {}", p.display()))?,
            );
        } else if p.is_file() {
            files.push(p.clone());
        } else {
            anyhow::bail!("{}: no such file or directory", p.display());
        }
    }
    Ok(Collection::load_files(&files))
}

fn sources_for(collection: &Collection) -> Sources {
    let mut s = Sources::default();
    for r in &collection.rules {
        s.add(&r.path, r.text.clone());
    }
    for f in &collection.failed {
        if let Some(t) = f.text() {
            s.add(f.path(), t.into());
        }
    }
    s
}

fn print_diagnostics(cli: &Cli, diags: &[Diagnostic], sources: &mut Sources) {
    let text = diagnostics::render(diags, sources, cli.format);
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
}

fn counts(diags: &[Diagnostic]) -> (usize, usize) {
    let errors = diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    (errors, diags.len() - errors)
}

fn lint_cmd(cli: &Cli, args: &LintArgs) -> Result<ExitCode> {
    if let Some(code) = &args.explain {
        let Some(info) = lint::explain(code) else {
            anyhow::bail!("no lint with code or name {code:?}");
        };
        out!(
            "{} {} ({})\n\n{}",
            info.code,
            info.name,
            info.severity.as_str(),
            info.doc
        );
        return Ok(ExitCode::SUCCESS);
    }
    let start = Instant::now();
    let config = load_config(cli)?;
    let collection = load_rules(&config, &args.paths)?;
    let mut selection = config.lint.clone();
    selection.select.extend(args.select.iter().cloned());
    selection.ignore.extend(args.ignore.iter().cloned());
    let diags = lint::run(&collection, &selection);
    let mut sources = sources_for(&collection);
    print_diagnostics(cli, &diags, &mut sources);
    let (errors, warnings) = counts(&diags);
    if !cli.quiet && cli.format == Format::Human {
        out!(
            "lint: {} rules, {errors} errors, {warnings} warnings in {:.2}s",
            collection.rules.len() + collection.failed.len(),
            start.elapsed().as_secs_f64()
        );
    }
    Ok(if errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn test_cmd(cli: &Cli, args: &TestArgs, with_lint: bool) -> Result<ExitCode> {
    let start = Instant::now();
    let config = load_config(cli)?;
    let collection = load_rules(&config, &[])?;
    let mut sources = sources_for(&collection);
    let outcome = suite::run(
        &config,
        &collection,
        &suite::Options {
            accept: args.accept,
            rules: args.rules.clone(),
        },
    );
    let mut lint_diags = if with_lint {
        lint::run(&collection, &config.lint)
    } else {
        Vec::new()
    };
    // One finding per fact: a query or load error found by both lint and the replay is
    // reported once, at the replay's severity (the rule really was not tested).
    lint_diags.retain(|d| {
        !outcome.findings.iter().any(|f| {
            f.diagnostic.code == d.code
                && f.diagnostic.file == d.file
                && f.diagnostic.span == d.span
        })
    });
    let (lint_errors, lint_warnings) = counts(&lint_diags);
    print_test_findings(cli, lint_diags, &outcome, &mut sources);
    let diags: Vec<Diagnostic> = outcome
        .findings
        .iter()
        .map(|f| f.diagnostic.clone())
        .collect();
    let (test_errors, test_warnings) = counts(&diags);
    if cli.verbose && cli.format == Format::Human {
        print_results(&config, &outcome);
    }
    if !cli.quiet && cli.format == Format::Human {
        let shown = |p: &PathBuf| ruleforge::snapshot::display_path(&config.root, p);
        for p in &outcome.snapshots_written {
            out!("accepted snapshot {}", shown(p));
        }
        for p in &outcome.snapshots_removed {
            out!("removed orphaned snapshot {}", shown(p));
        }
        let verdict = if lint_errors + test_errors > 0 {
            "FAILED"
        } else {
            "ok"
        };
        out!(
            "{}: {verdict}. {} rules ({} replayed), {} fixtures, {} events, {} alerts; {} errors, {} warnings; {:.2}s",
            if with_lint { "check" } else { "test" },
            outcome.rules,
            outcome.replayed_rules,
            outcome.fixtures,
            outcome.events,
            outcome.alerts,
            lint_errors + test_errors,
            lint_warnings + test_warnings,
            start.elapsed().as_secs_f64()
        );
    }
    Ok(if outcome.fatal() {
        ExitCode::from(2)
    } else if lint_errors + test_errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn print_test_findings(
    cli: &Cli,
    lint_diags: Vec<Diagnostic>,
    outcome: &suite::Outcome,
    sources: &mut Sources,
) {
    if cli.format == Format::Human {
        print_diagnostics(cli, &lint_diags, sources);
        let mut out = std::io::stdout().lock();
        for f in &outcome.findings {
            let _ = out.write_all(diagnostics::human(&f.diagnostic, sources).as_bytes());
            if let Some(detail) = &f.detail {
                let detail = ruleforge::diag::escape_control_lines(detail);
                let _ = out.write_all(detail.as_bytes());
                let _ = out.write_all(b"\n");
            }
        }
        return;
    }
    let mut all = lint_diags;
    all.extend(outcome.findings.iter().map(|f| {
        let mut d = f.diagnostic.clone();
        if let Some(detail) = &f.detail {
            d.help = Some(match d.help {
                Some(h) => format!("{h}\n{detail}"),
                None => detail.clone(),
            });
        }
        d
    }));
    print_diagnostics(cli, &all, sources);
}

/// `-v`: what every rule did on every fixture.
fn print_results(config: &Config, outcome: &suite::Outcome) {
    use suite::Status;
    for r in &outcome.results {
        let verdict = match r.verdict {
            ruleforge::fixture::Verdict::Benign => "benign",
            ruleforge::fixture::Verdict::Malicious => "malicious",
        };
        let status = match &r.status {
            Status::Expected { count, met: true } => format!("expected {count}: ok"),
            Status::Expected { count, met: false } => format!("expected {count}: FAILED"),
            Status::Quiet => "quiet: ok".into(),
            Status::FalsePositive => "false positive: FAILED".into(),
            Status::Unlisted => "not listed in the manifest (snapshot only)".into(),
            Status::Failed => "replay failed".into(),
        };
        out!(
            "  {} | {} ({verdict}) | {} | {status}",
            ruleforge::diag::escape_control(&r.rule),
            ruleforge::snapshot::display_path(&config.root, &r.fixture.with_extension("")),
            suite::plural(r.alerts, "alert"),
        );
    }
}

/// Rules for docs and export: every loaded rule that is not deprecated, failing on load errors.
fn publishable<'c>(
    collection: &'c Collection,
    names: &[String],
) -> Result<Vec<&'c ruleforge::rule::Rule>> {
    if let Some(f) = collection.failed.first() {
        anyhow::bail!("{f}");
    }
    for n in names {
        if collection.find(n).is_none() {
            anyhow::bail!("--rule {n:?} names no loaded rule");
        }
    }
    Ok(collection
        .rules
        .iter()
        .filter(|r| !r.is_deprecated())
        .filter(|r| names.is_empty() || names.iter().any(|n| r.is_named(n)))
        .collect())
}

fn docs_cmd(cli: &Cli, args: &DocsArgs) -> Result<ExitCode> {
    let config = load_config(cli)?;
    let collection = load_rules(&config, &[])?;
    let rules = publishable(&collection, &[])?;
    let renderer = ruleforge::render::Renderer::new(Some(&config.templates_dir))?;
    let written = ruleforge::render::write_markdown(&rules, &config.root, &renderer, &args.out)?;
    if !cli.quiet {
        out!(
            "docs: {} pages ({}) written to {}",
            written.len(),
            args.pages,
            args.out.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn export_cmd(cli: &Cli, args: &ExportArgs) -> Result<ExitCode> {
    if args.out.extension().is_none_or(|e| e != "ndjson") {
        anyhow::bail!("{}: Kibana imports only .ndjson files", args.out.display());
    }
    let config = load_config(cli)?;
    let collection = load_rules(&config, &[])?;
    let rules = publishable(&collection, &args.rules)?;
    let mut ctx = ruleforge::export::ExportContext::builtin();
    if config.etc_dir.is_dir() {
        ctx = ctx.with_etc_dir(&config.etc_dir)?;
    }
    let mut objects = Vec::new();
    for rule in &rules {
        let fields = ruleforge::replay::query_fields(rule);
        let obj = ruleforge::export::rule_to_api(&rule.to_json(), fields.as_deref(), &ctx)
            .with_context(|| format!("exporting {}", rule.path.display()))?;
        objects.push(obj);
    }
    let text = ruleforge::export::to_ndjson(&objects);
    std::fs::write(&args.out, text).with_context(|| format!("writing {}", args.out.display()))?;
    if !cli.quiet {
        out!(
            "export: {} rules written to {}",
            objects.len(),
            args.out.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
