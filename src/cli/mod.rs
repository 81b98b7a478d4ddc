//! The command line: flags, output and exit codes live here and nowhere else.
//! Exit codes: 0 clean, 1 findings (lint errors, failed expectations, snapshot diffs),
//! 2 usage, configuration or I/O errors.

/// `println!` through [`stdout`]: a closed pipe (`ruleforge lint | head`) ends the output
/// quietly; any other write error makes the command exit 2 (see [`stdout::finish`]).
macro_rules! out {
    ($($arg:tt)*) => {{
        let mut line = format!($($arg)*);
        line.push('\n');
        $crate::cli::stdout::write(line.as_bytes());
    }};
}

mod baseline;
mod changed;
mod config;
mod coverage;
mod docs_check;
mod eval;
mod explain;
mod import;
mod lock;
mod new;
mod paths;
mod record;
mod replay;
mod reports;
mod stdout;

use anyhow::{Context as _, Result};
use clap::{Args, Parser, Subcommand};
use ruleforge::config::Config;
use ruleforge::diag::{Diagnostic, Severity};
use ruleforge::lint;
use ruleforge::report::Format;
use ruleforge::report::diagnostics::{self, Sources};
use ruleforge::rule::Collection;
use ruleforge::suite;
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
    /// Run as if started in DIR: relative paths on the command line are relative to DIR, and
    /// the rule repository (ruleforge.toml, rules/, fixtures/, snapshots/) is found from there
    /// upward.
    #[arg(short = 'C', long = "root", global = true, value_name = "DIR")]
    root: Option<PathBuf>,
    /// Output format of standard output: human, json, junit, sarif or github. One per run;
    /// `--report FORMAT=PATH` writes the others from the same run.
    #[arg(long = "format", global = true, value_name = "FORMAT", action = clap::ArgAction::Append,
          value_parser = |s: &str| s.parse::<Format>())]
    formats: Vec<Format>,
    /// The one `--format` (human without it), set by [`run`].
    #[arg(skip)]
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
    /// Which branches of each rule's query malicious fixtures exercise, and which exclusions
    /// benign fixtures prove necessary (mutation per exclusion).
    Coverage(coverage::CoverageArgs),
    /// Record a command's process tree (ptrace), or an strace log, as Elastic Defend events.
    Record(record::RecordArgs),
    /// Replay every rule over large recordings in one streaming pass and report what fired.
    Replay(replay::ReplayArgs),
    /// Render the rules as documentation: an HTML site (default) or Markdown pages.
    Docs(DocsArgs),
    /// Write the Kibana import NDJSON for the rules.
    Export(ExportArgs),
    /// Show the effective configuration and where each value came from.
    Config,
    /// Turn a Kibana rule export (NDJSON) into rule files.
    Import(import::ImportArgs),
    /// Update version.lock.json (hashes, version bumps, stack_emit rows); --check for CI.
    VersionLock(lock::VersionLockArgs),
    /// Start a rule: a rule file with a fresh rule_id and guide skeleton, and two fixtures.
    New(new::NewArgs),
}

#[derive(Args)]
struct DocsArgs {
    /// Output directory (created if missing).
    #[arg(long)]
    out: PathBuf,
    /// Page format: an HTML site (search, ATT&CK coverage, fixture evidence) or Markdown pages.
    #[arg(long = "pages", default_value = "html", value_parser = ["html", "markdown"])]
    pages: String,
    /// Only this rule (rule_id, file stem or name); repeatable.
    #[arg(long = "rule")]
    rules: Vec<String>,
    /// The site's title.
    #[arg(long, default_value = "Detection rules")]
    title: String,
}

#[derive(Args)]
struct ExportArgs {
    /// Output file; must end in .ndjson (Kibana rejects other extensions).
    #[arg(long)]
    out: PathBuf,
    /// Only this rule (rule_id, file stem or name); repeatable.
    #[arg(long = "rule")]
    rules: Vec<String>,
    /// Export rules that fail lint too (their errors are still printed, as a warning).
    #[arg(long)]
    allow_invalid: bool,
}

#[derive(Args)]
struct LintArgs {
    /// Rule files or directories (default: the configured rule directories).
    paths: Vec<PathBuf>,
    /// Print the documentation of a code (e.g. RF407, RT003) and exit; without CODE, list
    /// every code.
    #[arg(long, value_name = "CODE")]
    explain: Option<Option<String>>,
    /// Run only these lint codes or prefixes (comma-separated, e.g. RF1,RX102).
    #[arg(long, value_delimiter = ',')]
    select: Vec<String>,
    /// Skip these lint codes or prefixes.
    #[arg(long, value_delimiter = ',')]
    ignore: Vec<String>,
    /// Only this rule (rule_id, file stem or name); repeatable.
    #[arg(long = "rule")]
    rules: Vec<String>,
    /// Print the number of findings per code instead of the findings.
    #[arg(long)]
    statistics: bool,
    /// The lowest severity that fails the run (exit 1): `error` (default), or `warning` to
    /// fail on any finding.
    #[arg(long, value_name = "SEVERITY", default_value = "error", value_parser = ["error", "warning"])]
    fail_on: String,
    #[command(flatten)]
    changed: changed::ChangedArgs,
    #[command(flatten)]
    report: reports::ReportArgs,
}

#[derive(Args, Clone)]
struct TestArgs {
    /// Write the current alerts as the accepted snapshots (review the diff first).
    #[arg(long)]
    accept: bool,
    /// Fail only on findings not recorded in this baseline file (made by --write-baseline).
    #[arg(long, value_name = "FILE", conflicts_with = "write_baseline")]
    baseline: Option<PathBuf>,
    /// Record every current finding in FILE (the first run when adopting ruleforge), exit 0.
    #[arg(long, value_name = "FILE", conflicts_with = "accept")]
    write_baseline: Option<PathBuf>,
    /// Only this rule (rule_id, file stem or name); repeatable.
    #[arg(long = "rule")]
    rules: Vec<String>,
    /// The lowest severity that fails the run (exit 1): `error` (default), or `warning` to
    /// fail on any lint or test finding.
    #[arg(long, value_name = "SEVERITY", default_value = "error", value_parser = ["error", "warning"])]
    fail_on: String,
    #[command(flatten)]
    changed: changed::ChangedArgs,
    #[command(flatten)]
    report: reports::ReportArgs,
}

pub fn main() -> ExitCode {
    let mut cli = Cli::parse();
    let code = match run(&mut cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    };
    // A report that did not reach its reader must not pass as clean (or as "only findings").
    if let Err(e) = stdout::finish() {
        eprintln!("error: writing to standard output: {e}");
        return ExitCode::from(2);
    }
    code
}

fn run(cli: &mut Cli) -> Result<ExitCode> {
    cli.format = one_format(&cli.formats)?;
    // detection-rules reads a custom rules directory from CUSTOM_RULES_DIR; without -C, that
    // directory is the repository. A relative value is relative to where ruleforge started.
    let custom = match std::env::var_os("CUSTOM_RULES_DIR").filter(|d| !d.is_empty()) {
        Some(dir) => Some(
            std::path::absolute(&dir)
                .with_context(|| format!("CUSTOM_RULES_DIR={}", dir.to_string_lossy()))?,
        ),
        None => None,
    };
    paths::enter(cli.root.as_deref())?;
    if let Some(dir) = custom {
        if cli.root.is_none() && !matches!(cli.command, Command::Eval(_)) {
            paths::enter(Some(&dir))?;
        }
        let _ = CUSTOM_RULES_DIR.set(dir);
    }
    // eval works on the files it is given; every other command works in a rule repository.
    if !matches!(cli.command, Command::Eval(_) | Command::Record(_)) {
        let typed_in = paths::enter_repository()?;
        let rebase = |p: &mut PathBuf| *p = paths::rebase(p, &typed_in);
        match &mut cli.command {
            Command::Lint(args) => {
                args.paths.iter_mut().for_each(rebase);
                reports::rebase(&mut args.report, &typed_in);
            }
            Command::Check(args) | Command::Test(args) => {
                reports::rebase(&mut args.report, &typed_in);
                args.baseline.iter_mut().for_each(rebase);
                args.write_baseline.iter_mut().for_each(rebase);
            }
            Command::Docs(args) => rebase(&mut args.out),
            Command::Export(args) => rebase(&mut args.out),
            Command::Replay(args) => {
                // `-` is standard input, not a file in the folder the user typed it in.
                args.events
                    .iter_mut()
                    .filter(|p| p.as_os_str() != "-")
                    .for_each(rebase);
                args.out.iter_mut().for_each(rebase);
                args.indicators.iter_mut().for_each(|i| rebase(&mut i.path));
            }
            Command::Import(args) => {
                if args.file.as_os_str() != "-" {
                    rebase(&mut args.file);
                }
                args.dir.iter_mut().for_each(rebase);
            }
            Command::New(args) => args.dir.iter_mut().for_each(rebase),
            Command::Eval(_)
            | Command::Config
            | Command::VersionLock(_)
            | Command::Coverage(_)
            | Command::Record(_) => {}
        }
    }
    match &cli.command {
        Command::Lint(args) => lint_cmd(cli, args),
        Command::Test(args) => test_cmd(cli, args, false),
        Command::Check(args) => test_cmd(cli, args, true),
        Command::Eval(args) => eval::run(args, cli.format),
        Command::Coverage(args) => coverage::run(cli, args),
        Command::Record(args) => record::run(args),
        Command::Replay(args) => replay::run(cli, args),
        Command::Docs(args) => docs_cmd(cli, args),
        Command::Export(args) => export_cmd(cli, args),
        Command::Config => config::run(&load_config(cli)?),
        Command::Import(args) => import::run(&load_config(cli)?, args, cli.quiet),
        Command::VersionLock(args) => lock::run(&load_config(cli)?, args, cli.quiet),
        Command::New(args) => new::run(&load_config(cli)?, args, cli.quiet),
    }
}

/// `CUSTOM_RULES_DIR`, made absolute before ruleforge moved into the repository.
static CUSTOM_RULES_DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

/// The configuration of the repository `run` moved into.
fn load_config(_cli: &Cli) -> Result<Config> {
    Ok(Config::load_with(
        std::path::Path::new("."),
        CUSTOM_RULES_DIR.get().map(PathBuf::as_path),
    )?)
}

fn load_rules(config: &Config, paths: &[PathBuf]) -> Result<Collection> {
    if paths.is_empty() {
        if config.rule_dirs.is_empty() {
            // The root is the working directory here (an empty path); name it in full.
            let root = std::env::current_dir().unwrap_or_else(|_| config.root.clone());
            anyhow::bail!(
                "no rule directories: {} has neither rules/ nor rules_building_block/ (set rule_dirs in ruleforge.toml)",
                root.join(&config.root).display()
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
    let mut dirs = Vec::new();
    for p in paths {
        if p.is_dir() {
            dirs.push(p.clone());
        } else if p.is_file() {
            // Linting a recording or a README as a rule would report "not valid TOML" as if it
            // were a broken rule: naming a non-rule file is a usage error.
            if p.extension().is_none_or(|e| e != "toml") {
                anyhow::bail!("{}: not a rule file (*.toml)", p.display());
            }
            files.push(p.clone());
        } else {
            anyhow::bail!("{}: no such file or directory", p.display());
        }
    }
    // Folders go through the same walk as the configured rule folders: symlinks in them are
    // reported (FX008), not skipped.
    let mut collection = Collection::load_dirs(&dirs).context("loading rules")?;
    let single = Collection::load_files(&files);
    collection.rules.extend(single.rules);
    collection.failed.extend(single.failed);
    Ok(collection)
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
    stdout::write(text.as_bytes());
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
        let Some(code) = code else {
            out!("{}", ruleforge::codes::listing().trim_end());
            return Ok(ExitCode::SUCCESS);
        };
        let Some(info) = ruleforge::codes::explain(code) else {
            anyhow::bail!(
                "no code or lint named {code:?}; `ruleforge lint --explain` lists them all"
            );
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
    // A code that matches nothing would select or ignore nothing without a word.
    for (flag, list) in [("--select", &args.select), ("--ignore", &args.ignore)] {
        for code in list {
            ruleforge::codes::check_selector(code).map_err(|e| anyhow::anyhow!("{flag}: {e}"))?;
        }
    }
    let start = Instant::now();
    let config = load_config(cli)?;
    let collection = load_rules(&config, &args.paths)?;
    let mut selection = config.lint.clone();
    selection.select.extend(args.select.iter().cloned());
    selection.ignore.extend(args.ignore.iter().cloned());
    if args.changed.changed_since.is_some() && !args.paths.is_empty() {
        anyhow::bail!("--changed-since works on the configured rule directories, not on PATHs");
    }
    let mut files = selected_files(&collection, &args.rules)?;
    let scope = changed::scope(cli, &args.changed, &config, &collection)?;
    if let Some((_, Some(scope))) = &scope {
        files = Some(scope.rules.iter().cloned().collect());
    }
    let only: Option<std::collections::HashSet<PathBuf>> =
        files.as_ref().map(|f| f.iter().cloned().collect());
    // A rule that did not load has no known rule_id: its lock entry is not an orphan.
    let complete = args.paths.is_empty() && collection.failed.is_empty();
    let mut env = lint_environment(&config, complete)?;
    env.lock_hashes =
        args.changed.changed_since.is_some() || selection.select.iter().any(|s| s == "RF712");
    let mut diags = lint::run_with(&collection, &selection, &env, only.as_ref());
    if let Some(files) = &files {
        // Collection lints (duplicates) still see every rule; only the findings are narrowed.
        diags.retain(|d| d.file.as_ref().is_none_or(|f| files.contains(f)));
    }
    if args.statistics {
        let table = lint::statistics(&diags);
        if !table.is_empty() {
            out!("{}", table.trim_end());
        }
    } else {
        let mut sources = sources_for(&collection);
        let lint_files: Vec<PathBuf> = files.clone().map_or_else(
            || {
                let loaded = collection.rules.iter().map(|r| r.path.clone());
                loaded
                    .chain(collection.failed.iter().map(|f| f.path().to_path_buf()))
                    .collect()
            },
            |f| f.into_iter().collect(),
        );
        let mut report =
            ruleforge::report::run::RunReport::from_diagnostics("lint", &diags, lint_files);
        report.changed_since = args.changed.changed_since.clone();
        report.config_file = config.config_file.clone();
        report.help_uri = args.report.help_uri.clone();
        reports::emit(cli, &args.report, &report, &mut sources)?;
        // A long run ends with the counts per code, so the shape of thousands of findings is
        // visible without scrolling back (`--statistics` prints only this).
        if cli.format == Format::Human && !cli.quiet && diags.len() >= LONG_RUN_FINDINGS {
            out!(
                "findings per code:\n{}",
                lint::statistics(&diags).trim_end()
            );
        }
    }
    let (errors, warnings) = counts(&diags);
    if !cli.quiet && cli.format == Format::Human {
        let rules = files
            .as_ref()
            .map_or(collection.rules.len() + collection.failed.len(), |f| {
                f.len()
            });
        out!(
            "lint: {}, {}, {} in {:.2}s",
            suite::plural(rules, "rule"),
            suite::plural(errors, "error"),
            suite::plural(warnings, "warning"),
            start.elapsed().as_secs_f64()
        );
    }
    let refused = (collection.failed.iter())
        .filter(|f| files.as_ref().is_none_or(|s| s.contains(f.path())))
        .any(refused_by_the_os);
    let failing = errors
        + if args.fail_on == "warning" {
            warnings
        } else {
            0
        };
    Ok(if refused {
        ExitCode::from(2)
    } else if failing > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// From this many findings, `lint` ends with the counts per code.
const LONG_RUN_FINDINGS: usize = 50;

/// The lock lints' view of `etc/`: none without a `version.lock.json`; an unreadable or invalid
/// one is an error, not a silent skip.
fn lint_environment(config: &Config, complete: bool) -> Result<lint::Environment> {
    let export = if config.etc_dir.join("version.lock.json").is_file() {
        Some(ruleforge::export::ExportContext::builtin().with_etc_dir(&config.etc_dir)?)
    } else {
        None
    };
    Ok(lint::Environment {
        export,
        complete,
        lock_hashes: false,
    })
}

/// A rule file the operating system would not read (permissions, I/O) is an I/O error (exit 2);
/// a file read and found broken (TOML, UTF-8, size) is a finding about the rule (exit 1).
fn refused_by_the_os(failed: &ruleforge::rule::LoadError) -> bool {
    matches!(failed, ruleforge::rule::LoadError::Io { source, .. } if source.raw_os_error().is_some())
}

/// The files `--rule` names (None without `--rule`). A file that failed to load is named by its
/// stem, so its errors can be asked for too. A name that matches nothing is a usage error.
fn selected_files(
    collection: &Collection,
    names: &[String],
) -> Result<Option<std::collections::BTreeSet<PathBuf>>> {
    if names.is_empty() {
        return Ok(None);
    }
    let mut files = std::collections::BTreeSet::new();
    for n in names {
        let loaded = collection.rules.iter().filter(|r| r.is_named(n));
        let failed = (collection.failed.iter().map(|f| f.path()))
            .filter(|p| p.file_stem().is_some_and(|s| s == n.as_str()));
        let named: Vec<PathBuf> = loaded
            .map(|r| r.path.clone())
            .chain(failed.map(PathBuf::from))
            .collect();
        if named.is_empty() {
            anyhow::bail!("--rule {n:?} names no loaded rule");
        }
        files.extend(named);
    }
    Ok(Some(files))
}

/// Standard output holds one report: a second `--format` would interleave two documents no
/// reader could parse, so it is a usage error that names `--report`, which writes the others.
fn one_format(formats: &[Format]) -> Result<Format> {
    // clap keeps only the subcommand's value of a global flag also given before the command
    // (`--format json check --format sarif`), so the command line itself is counted too.
    let typed = (std::env::args_os().skip(1))
        .take_while(|a| a != "--")
        .filter(|a| {
            a.to_str()
                .is_some_and(|s| s == "--format" || s.starts_with("--format="))
        })
        .count();
    let given = typed.max(formats.len());
    if given > 1 {
        anyhow::bail!(
            "--format was given {given} times: standard output takes one format; write the others \
from the same run with --report FORMAT=PATH (e.g. --format sarif --report junit=ruleforge.xml)"
        );
    }
    Ok(formats.last().copied().unwrap_or_default())
}

fn test_cmd(cli: &Cli, args: &TestArgs, with_lint: bool) -> Result<ExitCode> {
    let start = Instant::now();
    let config = load_config(cli)?;
    let collection = load_rules(&config, &[])?;
    let mut sources = sources_for(&collection);
    let changed = changed::scope(cli, &args.changed, &config, &collection)?;
    let (affected, scope) = match changed {
        Some((a, s)) => (Some(a), s),
        None => (None, None),
    };
    let mut outcome = suite::run(
        &config,
        &collection,
        &suite::Options {
            accept: args.accept,
            rules: args.rules.clone(),
            scope: scope.clone(),
            coverage: with_lint && cli.verbose,
        },
    );
    if with_lint && docs_check::wanted(&config, affected.as_ref()) {
        outcome
            .findings
            .extend(docs_check::render(&config, &collection, &outcome)?);
    }
    let only = scope.as_ref().map(|s| &s.rules);
    let mut lint_diags = if with_lint {
        let env = lint_environment(&config, collection.failed.is_empty())?;
        lint::run_with(&collection, &config.lint, &env, only)
    } else {
        Vec::new()
    };
    if let Some(only) = only {
        // Collection lints (duplicates) see every rule; only the changed rules' findings count.
        lint_diags.retain(|d| d.file.as_ref().is_none_or(|f| only.contains(f)));
    }
    // One finding per fact: a query or load error found by both lint and the replay is
    // reported once, at the replay's severity (the rule really was not tested).
    lint_diags.retain(|d| {
        !outcome.findings.iter().any(|f| {
            f.diagnostic.code == d.code
                && f.diagnostic.file == d.file
                && f.diagnostic.span == d.span
        })
    });
    let lint_files: Vec<PathBuf> = if !with_lint {
        Vec::new()
    } else if let Some(only) = only {
        let mut v: Vec<PathBuf> = only.iter().cloned().collect();
        v.sort();
        v
    } else {
        let loaded = collection.rules.iter().map(|r| r.path.clone());
        loaded
            .chain(collection.failed.iter().map(|f| f.path().to_path_buf()))
            .collect()
    };
    let command = if with_lint { "check" } else { "test" };
    let report_of = |lint_diags: Vec<Diagnostic>, outcome: &suite::Outcome| {
        let mut report = ruleforge::report::run::RunReport::from_outcome(
            command,
            lint_diags,
            lint_files.clone(),
            outcome,
        );
        report.changed_since = args.changed.changed_since.clone();
        report.config_file = config.config_file.clone();
        report.help_uri = args.report.help_uri.clone();
        report
    };
    if let Some(path) = &args.write_baseline {
        if outcome.fatal() {
            let report = report_of(lint_diags, &outcome);
            reports::emit(cli, &args.report, &report, &mut sources)?;
            anyhow::bail!("no baseline written to {}: the run failed", path.display());
        }
        let n = baseline::write(&config, path, &lint_diags, &outcome)?;
        if !cli.quiet {
            out!(
                "baseline: {} recorded in {}; run with --baseline {} to fail only on new ones",
                suite::plural(n, "finding"),
                path.display(),
                path.display()
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    let applied = match &args.baseline {
        Some(path) => Some(baseline::apply(
            &config,
            path,
            &mut lint_diags,
            &mut outcome,
        )?),
        None => None,
    };
    let (lint_errors, lint_warnings) = counts(&lint_diags);
    let report = report_of(lint_diags, &outcome);
    reports::emit(cli, &args.report, &report, &mut sources)?;
    let diags: Vec<Diagnostic> = outcome
        .findings
        .iter()
        .map(|f| f.diagnostic.clone())
        .collect();
    let (test_errors, test_warnings) = counts(&diags);
    if cli.verbose && cli.format == Format::Human {
        print_results(&config, &outcome);
        if let Some(cov) = &outcome.coverage {
            out!(
                "{}",
                ruleforge::coverage::render(cov, &config.root).trim_end()
            );
        }
    }
    let failing = lint_errors
        + test_errors
        + if args.fail_on == "warning" {
            lint_warnings + test_warnings
        } else {
            0
        };
    if !cli.quiet && cli.format == Format::Human {
        let shown = |p: &PathBuf| ruleforge::snapshot::display_path(&config.root, p);
        for p in &outcome.snapshots_written {
            out!("accepted snapshot {}", shown(p));
        }
        for p in &outcome.snapshots_removed {
            out!("removed orphaned snapshot {}", shown(p));
        }
        if let Some(a) = &applied {
            out!(
                "baseline: {} recorded, not reported; {} fixed since",
                suite::plural(a.known, "finding"),
                a.fixed
            );
        }
        let verdict = if failing > 0 { "FAILED" } else { "ok" };
        out!(
            "{}: {verdict}. {} ({} replayed), {}, {}, {}; {}, {}; {:.2}s",
            if with_lint { "check" } else { "test" },
            suite::plural(outcome.rules, "rule"),
            outcome.replayed_rules,
            suite::plural(outcome.fixtures, "fixture"),
            suite::plural(outcome.events, "event"),
            suite::plural(outcome.alerts, "alert"),
            suite::plural(lint_errors + test_errors, "error"),
            suite::plural(lint_warnings + test_warnings, "warning"),
            start.elapsed().as_secs_f64()
        );
    }
    Ok(if outcome.fatal() {
        ExitCode::from(2)
    } else if failing > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
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
    use ruleforge::render::site::{Evidence, SiteInput, publish_html};
    let config = load_config(cli)?;
    let collection = load_rules(&config, &[])?;
    let rules = publishable(&collection, &args.rules)?;
    let renderer = ruleforge::render::Renderer::new(Some(&config.templates_dir))?;
    let written = if args.pages == "markdown" {
        ruleforge::render::publish_markdown(&rules, &config.root, &renderer, &args.out)?
    } else {
        // The evidence comes from a read-only replay (no --accept: no snapshot is written).
        let options = suite::Options {
            coverage: true,
            ..suite::Options::default()
        };
        let outcome = suite::run(&config, &collection, &options);
        if outcome.failed() && !cli.quiet {
            eprintln!(
                "docs: note: the replay has errors (run `ruleforge test`); the pages show them as evidence"
            );
        }
        let lock_path = &config.data.version_lock.value;
        let version_lock = match std::fs::read_to_string(lock_path) {
            Ok(text) => Some(
                serde_json::from_str(&text)
                    .with_context(|| format!("reading {}", lock_path.display()))?,
            ),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(e).with_context(|| format!("reading {}", lock_path.display())),
        };
        let input = SiteInput {
            evidence: Evidence::from_outcome(&config.root, &outcome),
            snapshot_dir: Some(&config.snapshot_dir),
            version_lock,
            templates_dir: Some(&config.templates_dir),
            title: args.title.clone(),
        };
        publish_html(&rules, &config.root, &renderer, &args.out, &input)?
    };
    if !cli.quiet {
        out!(
            "docs: {} ({}) written to {}",
            suite::plural(written.len(), "file"),
            args.pages,
            args.out.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Kibana would import a rule that fails lint (a misspelt severity, a query that does not
/// parse) and fail at run time, so the lint errors of the exported rules block the export unless
/// `--allow-invalid`. Prints them; returns whether to go on.
fn export_gate(
    cli: &Cli,
    args: &ExportArgs,
    config: &Config,
    collection: &Collection,
    rules: &[&ruleforge::rule::Rule],
) -> bool {
    let errors: Vec<Diagnostic> = lint::run(collection, &config.lint)
        .into_iter()
        .filter(|d| d.severity == Severity::Error)
        // A finding tied to no file cannot be ruled out for these rules.
        .filter(|d| {
            d.file
                .as_ref()
                .is_none_or(|f| rules.iter().any(|r| &r.path == f))
        })
        .collect();
    if errors.is_empty() {
        return true;
    }
    print_diagnostics(cli, &errors, &mut sources_for(collection));
    let files: std::collections::BTreeSet<_> =
        errors.iter().filter_map(|d| d.file.as_ref()).collect();
    if args.allow_invalid {
        eprintln!(
            "warning: exporting despite {} in {} (--allow-invalid)",
            suite::plural(errors.len(), "lint error"),
            suite::plural(files.len(), "rule file")
        );
        true
    } else {
        eprintln!(
            "export: refused: {} in {}; nothing written to {} (fix them, or pass --allow-invalid)",
            suite::plural(errors.len(), "lint error"),
            suite::plural(files.len(), "rule file"),
            args.out.display()
        );
        false
    }
}

fn export_cmd(cli: &Cli, args: &ExportArgs) -> Result<ExitCode> {
    if args.out.extension().is_none_or(|e| e != "ndjson") {
        anyhow::bail!("{}: Kibana imports only .ndjson files", args.out.display());
    }
    let config = load_config(cli)?;
    let collection = load_rules(&config, &[])?;
    let rules = publishable(&collection, &args.rules)?;
    if !export_gate(cli, args, &config, &collection, &rules) {
        return Ok(ExitCode::from(1));
    }
    let ctx = config::export_context(&config, cli.quiet)?;
    let mut objects = Vec::new();
    for rule in &rules {
        let fields = ruleforge::replay::export_fields(rule);
        let obj = ruleforge::export::rule_to_api(&rule.to_json(), fields.as_deref(), &ctx)
            .with_context(|| format!("exporting {}", rule.path.display()))?;
        objects.push(obj);
    }
    let text = ruleforge::export::to_ndjson(&objects);
    ruleforge::output::write_atomic(&args.out, text.as_bytes())
        .with_context(|| format!("writing {}", args.out.display()))?;
    if !cli.quiet {
        out!(
            "export: {} written to {}",
            suite::plural(objects.len(), "rule"),
            args.out.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ruleforge::rule::LoadError;

    #[test]
    fn only_os_refusals_count_as_io_errors() {
        let io = |source| LoadError::Io {
            path: "rules/x.toml".into(),
            source,
        };
        assert!(refused_by_the_os(&io(std::io::Error::from_raw_os_error(
            13
        ))));
        let not_utf8 = std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8");
        assert!(!refused_by_the_os(&io(not_utf8)));
        assert!(!refused_by_the_os(&io(std::io::Error::other("too large"))));
    }
}
