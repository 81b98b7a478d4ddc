//! `check`/`test` `--write-baseline FILE` and `--baseline FILE` (see `ruleforge::baseline`).

use anyhow::Result;
use ruleforge::baseline::Baseline;
use ruleforge::config::Config;
use ruleforge::diag::Diagnostic;
use ruleforge::suite;
use std::path::Path;

/// Records every finding of the run in `path`.
pub fn write(
    config: &Config,
    path: &Path,
    lint: &[Diagnostic],
    outcome: &suite::Outcome,
) -> Result<usize> {
    let all = lint
        .iter()
        .chain(outcome.findings.iter().map(|f| &f.diagnostic));
    let baseline = Baseline::record(&config.root, all);
    baseline.save(path)?;
    Ok(baseline.len())
}

/// What a baseline left of the findings: the new ones stay in `lint` and `outcome`.
pub struct Applied {
    pub known: usize,
    pub fixed: usize,
}

/// Removes the findings recorded in the baseline at `path` (which must exist).
pub fn apply(
    config: &Config,
    path: &Path,
    lint: &mut Vec<Diagnostic>,
    outcome: &mut suite::Outcome,
) -> Result<Applied> {
    let baseline = Baseline::load(path)?;
    // One pass over both lists, so that the counts of a finding reported by both are shared.
    enum Item {
        Lint(Diagnostic),
        Test(suite::Finding),
    }
    let mut items: Vec<Item> = std::mem::take(lint).into_iter().map(Item::Lint).collect();
    // Usage, configuration and I/O errors are never baselined.
    let (fatal, findings): (Vec<_>, Vec<_>) = std::mem::take(&mut outcome.findings)
        .into_iter()
        .partition(|f| f.fatal);
    outcome.findings = fatal;
    items.extend(findings.into_iter().map(Item::Test));
    let split = baseline.split(&config.root, items, |i| match i {
        Item::Lint(d) => d,
        Item::Test(f) => &f.diagnostic,
    });
    for item in split.new {
        match item {
            Item::Lint(d) => lint.push(d),
            Item::Test(f) => outcome.findings.push(f),
        }
    }
    Ok(Applied {
        known: split.known,
        fixed: split.fixed,
    })
}
