//! JUnit XML for test-report viewers (GitHub, GitLab, Jenkins): one test case per lint-checked
//! rule, per rule × fixture replayed, and per rule's snapshot; repository-wide findings are cases
//! of their own. A failing case carries the diagnostics, the snapshot diff and the offending
//! events. Only elements and attributes of the JUnit schema Jenkins documents are written.

use super::diagnostics::{self, Sources};
use super::run::{Entry, RunReport};
use super::xml_escape;
use crate::diag::Severity;
use crate::snapshot::display_path;
use crate::suite::Status;
use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

struct Case {
    classname: String,
    name: String,
    entries: Vec<usize>,
    /// A failure the entries do not explain (a replay result marked failed).
    status_failure: Option<String>,
}

struct Suite {
    name: &'static str,
    cases: Vec<Case>,
}

fn shown(p: &Path) -> String {
    display_path(Path::new(""), p)
}

/// `rules/linux/x.toml` → `rules.linux.x`: viewers read dots as packages, so a rule is a class.
fn classname(rule: &Path) -> String {
    shown(&rule.with_extension("")).replace('/', ".")
}

pub fn render(report: &RunReport, sources: &mut Sources) -> String {
    let mut used = HashSet::new();
    let suites = [
        lint_suite(report, &mut used),
        replay_suite(report, &mut used),
        rule_suite(report, &mut used),
        repository_suite(report, &used),
    ];
    let mut body = String::new();
    let (mut tests, mut failures) = (0, 0);
    for s in &suites {
        let (t, f) = write_suite(&mut body, s, report, sources);
        tests += t;
        failures += f;
    }
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"ruleforge {}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\">",
        xml_escape(&report.command)
    );
    out.push_str(&body);
    out.push_str("</testsuites>\n");
    out
}

fn lint_suite(report: &RunReport, used: &mut HashSet<usize>) -> Suite {
    let cases = (report.lint_files.iter())
        .map(|f| Case {
            classname: classname(f),
            name: "lint".into(),
            entries: take(report, used, |e| e.lint && e.rule.as_ref() == Some(f)),
            status_failure: None,
        })
        .collect();
    Suite {
        name: "lint",
        cases,
    }
}

fn replay_suite(report: &RunReport, used: &mut HashSet<usize>) -> Suite {
    let mut cases = Vec::new();
    for r in &report.results {
        let verdict = match r.verdict {
            crate::fixture::Verdict::Benign => "benign",
            crate::fixture::Verdict::Malicious => "malicious",
        };
        let entries = take(report, used, |e| {
            !e.lint
                && e.rule.as_ref() == Some(&r.rule_path)
                && e.fixture.as_ref() == Some(&r.fixture)
        });
        let status_failure = match &r.status {
            Status::Expected { met: false, .. } | Status::FalsePositive | Status::Failed
                if entries.is_empty() =>
            {
                Some(format!("{:?}", r.status))
            }
            _ => None,
        };
        cases.push(Case {
            classname: classname(&r.rule_path),
            name: format!("{} ({verdict})", shown(&r.fixture.with_extension(""))),
            entries,
            status_failure,
        });
    }
    Suite {
        name: "replay",
        cases,
    }
}

/// One case per rule for what concerns the rule as a whole: its snapshot, its coverage, whether
/// it could be replayed.
fn rule_suite(report: &RunReport, used: &mut HashSet<usize>) -> Suite {
    let mut rules: BTreeMap<PathBuf, ()> = BTreeMap::new();
    for r in &report.results {
        rules.insert(r.rule_path.clone(), ());
    }
    for e in report
        .entries
        .iter()
        .filter(|e| !e.lint && e.fixture.is_none())
    {
        if let Some(r) = &e.rule {
            rules.insert(r.clone(), ());
        }
    }
    let cases = (rules.keys())
        .map(|rule| Case {
            classname: classname(rule),
            name: "snapshot".into(),
            entries: take(report, used, |e| !e.lint && e.rule.as_ref() == Some(rule)),
            status_failure: None,
        })
        .collect();
    Suite {
        name: "rules",
        cases,
    }
}

/// Everything not about one rule: manifests, recordings, configuration, orphaned snapshots.
fn repository_suite(report: &RunReport, used: &HashSet<usize>) -> Suite {
    let mut cases: Vec<Case> = (0..report.entries.len())
        .filter(|i| !used.contains(i))
        .map(|i| {
            let d = &report.entries[i].diagnostic;
            let place = d.file.as_deref().map(shown).unwrap_or_default();
            Case {
                classname: "repository".into(),
                name: format!("{} {place}", d.code).trim_end().to_string(),
                entries: vec![i],
                status_failure: None,
            }
        })
        .collect();
    if cases.is_empty() {
        cases.push(Case {
            classname: "repository".into(),
            name: "repository checks".into(),
            entries: Vec::new(),
            status_failure: None,
        });
    }
    Suite {
        name: "repository",
        cases,
    }
}

fn take(
    report: &RunReport,
    used: &mut HashSet<usize>,
    wanted: impl Fn(&Entry) -> bool,
) -> Vec<usize> {
    let picked: Vec<usize> = (0..report.entries.len())
        .filter(|i| !used.contains(i) && wanted(&report.entries[*i]))
        .collect();
    used.extend(picked.iter().copied());
    picked
}

/// Writes a `<testsuite>`; returns (tests, failures).
fn write_suite(
    out: &mut String,
    s: &Suite,
    report: &RunReport,
    sources: &mut Sources,
) -> (usize, usize) {
    let mut body = String::new();
    let mut failures = 0;
    for c in &s.cases {
        let errors: Vec<&Entry> = (c.entries.iter().map(|i| &report.entries[*i]))
            .filter(|e| e.diagnostic.severity == Severity::Error)
            .collect();
        let warnings: Vec<&Entry> = (c.entries.iter().map(|i| &report.entries[*i]))
            .filter(|e| e.diagnostic.severity == Severity::Warning)
            .collect();
        let _ = write!(
            body,
            "    <testcase classname=\"{}\" name=\"{}\"",
            xml_escape(&c.classname),
            xml_escape(&c.name)
        );
        if errors.is_empty() && warnings.is_empty() && c.status_failure.is_none() {
            body.push_str("/>\n");
            continue;
        }
        body.push_str(">\n");
        if let Some(first) = errors.first() {
            failures += 1;
            let message = if errors.len() == 1 {
                format!("{}: {}", first.diagnostic.code, first.diagnostic.message)
            } else {
                format!(
                    "{}: {} (and {} more)",
                    first.diagnostic.code,
                    first.diagnostic.message,
                    errors.len() - 1
                )
            };
            let text: String = errors.iter().map(|e| entry_text(e, sources)).collect();
            let _ = writeln!(
                body,
                "      <failure message=\"{}\" type=\"{}\">{}</failure>",
                xml_escape(&message),
                first.diagnostic.code,
                xml_escape(&text)
            );
        } else if let Some(status) = &c.status_failure {
            failures += 1;
            let _ = writeln!(
                body,
                "      <failure message=\"{}\" type=\"replay\"/>",
                xml_escape(status)
            );
        }
        if !warnings.is_empty() {
            let text: String = warnings.iter().map(|e| entry_text(e, sources)).collect();
            let _ = writeln!(body, "      <system-out>{}</system-out>", xml_escape(&text));
        }
        body.push_str("    </testcase>\n");
    }
    let _ = writeln!(
        out,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\">",
        s.name,
        s.cases.len()
    );
    out.push_str(&body);
    out.push_str("  </testsuite>\n");
    (s.cases.len(), failures)
}

/// A finding as a reader of the test report sees it: the compiler-style frame, then the diff or
/// the offending events.
fn entry_text(e: &Entry, sources: &mut Sources) -> String {
    let mut text = diagnostics::human(&e.diagnostic, sources);
    if let Some(d) = &e.detail {
        text.push_str(d);
        if !d.ends_with('\n') {
            text.push('\n');
        }
        text.push('\n');
    }
    text
}
