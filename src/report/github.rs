//! GitHub Actions: inline annotations (`::error file=…,line=…::…`) on standard output, and a
//! Markdown job summary for `$GITHUB_STEP_SUMMARY`: the counts, the rules with new or lost
//! alerts, each snapshot diff folded under its rule, and the findings.

use super::diagnostics::{self, Sources};
use super::run::RunReport;
use crate::diag::Severity;
use crate::snapshot::display_path;
use std::fmt::Write as _;
use std::path::Path;

/// One workflow command per finding.
pub fn annotations(report: &RunReport, sources: &mut Sources) -> String {
    (report.entries.iter())
        .map(|e| diagnostics::github(&e.diagnostic, sources))
        .collect()
}

/// The most findings listed in the summary's table (the annotations carry them all).
const MAX_FINDINGS: usize = 50;

/// The Markdown job summary.
pub fn summary(report: &RunReport, sources: &mut Sources) -> String {
    let t = &report.totals;
    let mut out = String::new();
    let verdict = if report.failed() { "FAILED" } else { "ok" };
    let _ = writeln!(out, "## ruleforge {}: {verdict}\n", cell(&report.command));
    if let Some(r) = &report.changed_since {
        let _ = writeln!(
            out,
            "Changed-only run: the work the changes since `{}` can affect.\n",
            code(r)
        );
    }
    out.push_str("| rules | replayed | fixtures | events | alerts | errors | warnings |\n");
    out.push_str("|---:|---:|---:|---:|---:|---:|---:|\n");
    let _ = writeln!(
        out,
        "| {} | {} | {} | {} | {} | {} | {} |\n",
        t.rules, t.replayed_rules, t.fixtures, t.events, t.alerts, t.errors, t.warnings
    );
    let changes = report.snapshot_changes();
    if !changes.is_empty() {
        out.push_str("### Rules with new or lost alerts\n\n");
        out.push_str("| rule | new alerts | lost alerts | snapshot |\n|---|---:|---:|---|\n");
        for c in &changes {
            let _ = writeln!(
                out,
                "| {} | {} | {} | `{}` |",
                cell(&c.rule),
                c.new_alerts,
                c.lost_alerts,
                code(&display_path(Path::new(""), &c.snapshot))
            );
        }
        out.push_str("\n### Snapshot diffs\n\n");
        for c in &changes {
            let _ = writeln!(
                out,
                "<details><summary>{} (+{} / -{} alerts)</summary>\n",
                html(&c.rule),
                c.new_alerts,
                c.lost_alerts
            );
            let diff = crate::diag::escape_control_lines(&c.diff);
            let fence = fence_for(&diff);
            let _ = writeln!(
                out,
                "{fence}diff\n{}\n{fence}\n\n</details>\n",
                diff.trim_end()
            );
        }
    }
    if !report.entries.is_empty() {
        out.push_str("### Findings\n\n| | code | where | message |\n|---|---|---|---|\n");
        for e in report.entries.iter().take(MAX_FINDINGS) {
            let d = &e.diagnostic;
            let mark = if d.severity == Severity::Error {
                "error"
            } else {
                "warning"
            };
            let place = match (&d.file, sources.position(d)) {
                (Some(f), Some((l, c))) => format!("{}:{l}:{c}", display_path(Path::new(""), f)),
                (Some(f), None) => display_path(Path::new(""), f),
                (None, _) => String::new(),
            };
            let _ = writeln!(
                out,
                "| {mark} | {} | `{}` | {} |",
                d.code,
                code(&place),
                cell(&d.message)
            );
        }
        if report.entries.len() > MAX_FINDINGS {
            let _ = writeln!(
                out,
                "\n… and {} more (see the annotations)",
                report.entries.len() - MAX_FINDINGS
            );
        }
    }
    out
}

/// Text for a table cell: no line breaks, no column separators, no HTML.
fn cell(s: &str) -> String {
    html(&crate::diag::escape_control(s)).replace('|', "\\|")
}

/// Text for inline code: backticks would end it.
fn code(s: &str) -> String {
    crate::diag::escape_control(s).replace('`', "'")
}

fn html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A code fence longer than any run of backticks in `text`.
fn fence_for(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    "`".repeat(longest.max(2) + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fence_outlasts_the_backticks_inside() {
        assert_eq!(fence_for("no ticks"), "```");
        assert_eq!(fence_for("a ```` b"), "`````");
    }

    #[test]
    fn cells_cannot_break_the_table() {
        assert_eq!(cell("a|b<script>\nc"), "a\\|b&lt;script&gt;\\nc");
    }
}
