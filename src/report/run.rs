//! One run (`lint`, `test`, `check`) as the CI reports see it: every finding with what it is
//! about (rule, fixture, diff, offending events), what was checked (lint-checked rule files,
//! rule × fixture replays) and the totals. Every machine format is rendered from this, so all
//! the reports of one run agree.

use super::Format;
use super::diagnostics::{self, Sources};
use crate::diag::{Diagnostic, Severity};
use crate::suite::{FixtureResult, Outcome};
use std::path::PathBuf;

/// One finding and what it is about.
#[derive(Debug, Clone)]
pub struct Entry {
    pub diagnostic: Diagnostic,
    /// A snapshot diff or the offending events, several lines.
    pub detail: Option<String>,
    /// The rule file it is about (a lint finding's file, a replay finding's rule).
    pub rule: Option<PathBuf>,
    /// The fixture manifest it is about.
    pub fixture: Option<PathBuf>,
    /// Found by lint (rather than by the replay).
    pub lint: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    pub rules: usize,
    pub replayed_rules: usize,
    pub fixtures: usize,
    pub events: usize,
    pub alerts: usize,
    pub errors: usize,
    pub warnings: usize,
}

/// A rule's snapshot that changed in this run.
#[derive(Debug, Clone)]
pub struct SnapshotChange {
    pub rule: String,
    pub snapshot: PathBuf,
    pub diff: String,
    /// Alert lines added (`+  alert`) and removed (`-  alert`) by the diff.
    pub new_alerts: usize,
    pub lost_alerts: usize,
}

#[derive(Debug, Clone, Default)]
pub struct RunReport {
    /// `lint`, `test` or `check`.
    pub command: String,
    pub entries: Vec<Entry>,
    /// Rule files whose lints ran (one JUnit test case each).
    pub lint_files: Vec<PathBuf>,
    /// What every replayed rule did on every replayed fixture.
    pub results: Vec<FixtureResult>,
    pub totals: Totals,
    /// `--changed-since REF`, when the run was limited to a change.
    pub changed_since: Option<String>,
    /// Where findings without a file are reported in SARIF (the configuration file).
    pub config_file: Option<PathBuf>,
    /// `{code}` in it is replaced by the code: the SARIF rules' `helpUri`.
    pub help_uri: Option<String>,
}

impl RunReport {
    /// A report of diagnostics only (lint, and the export gate).
    pub fn from_diagnostics(command: &str, diags: &[Diagnostic], lint_files: Vec<PathBuf>) -> Self {
        let mut r = RunReport {
            command: command.to_string(),
            lint_files,
            ..RunReport::default()
        };
        r.entries = diags.iter().map(|d| lint_entry(d.clone())).collect();
        r.totals.rules = r.lint_files.len();
        r.count();
        r
    }

    /// A report of a `test` or `check` run: the lint findings, then the replay's.
    pub fn from_outcome(
        command: &str,
        lint: Vec<Diagnostic>,
        lint_files: Vec<PathBuf>,
        outcome: &Outcome,
    ) -> Self {
        let mut entries: Vec<Entry> = lint.into_iter().map(lint_entry).collect();
        entries.extend(outcome.findings.iter().map(|f| Entry {
            diagnostic: f.diagnostic.clone(),
            detail: f.detail.clone(),
            rule: f.rule.clone(),
            fixture: f.fixture.clone(),
            lint: false,
        }));
        let mut r = RunReport {
            command: command.to_string(),
            entries,
            lint_files,
            results: outcome.results.clone(),
            totals: Totals {
                rules: outcome.rules,
                replayed_rules: outcome.replayed_rules,
                fixtures: outcome.fixtures,
                events: outcome.events,
                alerts: outcome.alerts,
                ..Totals::default()
            },
            ..RunReport::default()
        };
        r.count();
        r
    }

    fn count(&mut self) {
        let errors = (self.entries.iter())
            .filter(|e| e.diagnostic.severity == Severity::Error)
            .count();
        self.totals.errors = errors;
        self.totals.warnings = self.entries.len() - errors;
    }

    pub fn failed(&self) -> bool {
        self.totals.errors > 0
    }

    /// The snapshot diffs of this run (RT006 findings), with their new and lost alerts.
    pub fn snapshot_changes(&self) -> Vec<SnapshotChange> {
        let mut out = Vec::new();
        for e in &self.entries {
            let (Some(diff), Some(snapshot)) = (&e.detail, &e.diagnostic.file) else {
                continue;
            };
            if e.diagnostic.code != "RT006" {
                continue;
            }
            let count = |prefix: &str| diff.lines().filter(|l| l.starts_with(prefix)).count();
            out.push(SnapshotChange {
                rule: rule_name(&e.diagnostic.message),
                snapshot: snapshot.clone(),
                diff: diff.clone(),
                new_alerts: count("+  alert "),
                lost_alerts: count("-  alert "),
            });
        }
        out
    }

    /// The report in `format` (for `human`, the findings as compiler-style frames).
    pub fn render(&self, format: Format, sources: &mut Sources) -> String {
        match format {
            Format::Human => {
                let mut out = String::new();
                for e in &self.entries {
                    out.push_str(&diagnostics::human(&e.diagnostic, sources));
                    if let Some(detail) = &e.detail {
                        out.push_str(&crate::diag::escape_control_lines(detail));
                        out.push('\n');
                    }
                }
                out
            }
            Format::Json => super::json::render(self, sources),
            Format::Junit => super::junit::render(self, sources),
            Format::Sarif => super::sarif::render(self, sources),
            Format::Github => super::github::annotations(self, sources),
        }
    }
}

fn lint_entry(d: Diagnostic) -> Entry {
    Entry {
        rule: d.file.clone(),
        diagnostic: d,
        detail: None,
        fixture: None,
        lint: true,
    }
}

/// The rule's name from an RT006 message (`alerts of "NAME" changed`).
fn rule_name(message: &str) -> String {
    let quoted = message
        .split_once('"')
        .and_then(|(_, rest)| rest.rsplit_once('"'))
        .map(|(name, _)| name.replace("\\\"", "\""));
    quoted.unwrap_or_else(|| message.to_string())
}

/// `message` with the help and the detail below it: the full text of a finding.
pub fn full_text(e: &Entry) -> String {
    let mut text = e.diagnostic.message.clone();
    if let Some(h) = &e.diagnostic.help {
        text.push_str("\nhelp: ");
        text.push_str(h);
    }
    if let Some(d) = &e.detail {
        text.push_str("\n\n");
        text.push_str(d.trim_end());
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_name_comes_from_the_snapshot_finding() {
        assert_eq!(
            rule_name(r#"alerts of "Kernel \"Image\" Unpacking" changed"#),
            r#"Kernel "Image" Unpacking"#
        );
        assert_eq!(rule_name("no quotes"), "no quotes");
    }
}
