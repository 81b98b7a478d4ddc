//! `ruleforge coverage`: per rule, the branches of its query that malicious fixtures exercise
//! and the exclusions that benign fixtures prove necessary; RT017 when `[test]
//! unproven_exclusion` asks for it.

use super::{Cli, load_config, load_rules, print_diagnostics, sources_for};
use anyhow::{Result, bail};
use clap::Args;
use ruleforge::config::Level;
use ruleforge::coverage::{self, RuleCoverage};
use ruleforge::diag::Severity;
use ruleforge::report::Format;
use ruleforge::rule::Rule;
use ruleforge::suite;
use serde_json::json;
use std::process::ExitCode;

#[derive(Args)]
pub struct CoverageArgs {
    /// Only this rule (rule_id, file stem or name); repeatable.
    #[arg(long = "rule")]
    rules: Vec<String>,
}

pub fn run(cli: &Cli, args: &CoverageArgs) -> Result<ExitCode> {
    let config = load_config(cli)?;
    let collection = load_rules(&config, &[])?;
    for n in &args.rules {
        if !collection.rules.iter().any(|r| r.is_named(n)) {
            bail!("--rule {n:?} names no loaded rule");
        }
    }
    let rules: Vec<&Rule> = collection
        .rules
        .iter()
        .filter(|r| !r.is_deprecated())
        .filter(|r| args.rules.is_empty() || args.rules.iter().any(|n| r.is_named(n)))
        .collect();
    let mut sources = sources_for(&collection);
    let (fixtures, findings) = suite::fixtures(&config);
    if !findings.is_empty() {
        // Coverage over part of the fixtures would call exclusions unproven that are not.
        let diags: Vec<_> = findings.iter().map(|f| f.diagnostic.clone()).collect();
        print_diagnostics(cli, &diags, &mut sources);
        bail!("fixtures did not load; coverage needs every fixture");
    }
    let all = coverage::analyse(&rules, &fixtures);
    match cli.format {
        Format::Json => print_json(&all, &config.root),
        _ => out!("{}", coverage::render(&all, &config.root).trim_end()),
    }
    let Some(level) = config.unproven_exclusion else {
        return Ok(ExitCode::SUCCESS);
    };
    let mut diags = coverage::unproven(&all);
    for d in &mut diags {
        d.severity = match level {
            Level::Error => Severity::Error,
            Level::Warning => Severity::Warning,
        };
    }
    print_diagnostics(cli, &diags, &mut sources);
    Ok(if diags.iter().any(|d| d.severity == Severity::Error) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn print_json(all: &[RuleCoverage], root: &std::path::Path) {
    let shown = |p: &std::path::Path| ruleforge::snapshot::display_path(root, p);
    let ev = |e: &Option<coverage::Evidence>| {
        e.as_ref()
            .map(|e| json!({"fixture": shown(&e.fixture), "events": shown(&e.events), "position": e.position}))
    };
    for r in all {
        let obj = match &r.analysis {
            Ok(a) => json!({
                "rule": r.name, "stem": r.stem,
                "branches": a.branches.iter().map(|b| json!({"clause": b.text, "exercised_by": ev(&b.exercised_by)})).collect::<Vec<_>>(),
                "list_values": a.values.iter().map(|b| json!({"clause": b.text, "exercised_by": ev(&b.exercised_by)})).collect::<Vec<_>>(),
                "exclusions": a.exclusions.iter().map(|x| json!({"clause": x.text, "proven_by": ev(&x.proven_by)})).collect::<Vec<_>>(),
            }),
            Err(e) => json!({"rule": r.name, "stem": r.stem, "not_analysed": e.to_string()}),
        };
        out!("{obj}");
    }
    let t = coverage::totals(all);
    out!(
        "{}",
        json!({"totals": {"rules": t.rules, "analysed": t.analysed, "branches": t.branches,
            "exercised": t.exercised, "list_values": t.values,
            "list_values_exercised": t.values_exercised, "exclusions": t.exclusions, "proven": t.proven}})
    );
}
