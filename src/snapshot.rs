//! Alert snapshots: one deterministic, diff-friendly text file per rule listing every alert the
//! rule produces over all fixtures. A change in what a rule matches shows up as a diff a
//! reviewer must accept.
//!
//! ```text
//! # ruleforge alert snapshot: review changes like code.
//! rule: Kernel Image Unpacking from Boot Directory
//! rule_id: 2eb35698-27b8-4f7a-9148-70e306f00c25
//! alerts: 1
//!
//! fixture: fixtures/kernel_unpacking/attacker_gunzip (malicious)
//!   alert 1
//!     fixtures/kernel_unpacking/attacker_gunzip.ndjson:7 2026-03-02T10:11:12.345Z
//!       host=web-01 user=root parent=bash process=gunzip
//!       command_line: gunzip -c /boot/vmlinuz-6.1.0-18-amd64
//! ```

use crate::fixture::{Fixture, Verdict};
use crate::query::FieldPath;
use crate::replay::{Alert, Detail};
use crate::rule::Rule;
use serde_json::Value;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

pub const EXTENSION: &str = "snap";

pub fn path_for(dir: &Path, rule: &Rule) -> PathBuf {
    dir.join(format!("{}.{EXTENSION}", rule.stem()))
}

/// `path` relative to `root`, with `/` separators, for stable output on any machine.
pub fn display_path(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A field's values as display text: one value as is, several as `[a, b]`.
pub fn field_text(event: &Value, field: &str) -> Option<String> {
    let vals = FieldPath::new(field).values(event);
    match vals.len() {
        0 => None,
        1 => Some(scalar(vals[0])),
        _ => Some(format!(
            "[{}]",
            vals.iter()
                .map(|v| scalar(v))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// One line of context per event: who ran what, and the command line.
fn describe_event(out: &mut String, event: &Value, indent: &str) {
    let mut facts = Vec::new();
    for (label, field) in [
        ("host", "host.name"),
        ("user", "user.name"),
        ("parent", "process.parent.name"),
        ("process", "process.name"),
        ("action", "event.action"),
    ] {
        if let Some(v) = field_text(event, field) {
            facts.push(format!("{label}={v}"));
        }
    }
    if !facts.is_empty() {
        let _ = writeln!(out, "{indent}{}", facts.join(" "));
    }
    if let Some(cmd) = field_text(event, "process.command_line") {
        let _ = writeln!(out, "{indent}command_line: {cmd}");
    }
}

/// Renders a rule's snapshot. `per_fixture` holds every fixture (in path order) with the rule's
/// alerts on it; fixtures without alerts are left out.
pub fn render(root: &Path, rule: &Rule, per_fixture: &[(&Fixture, Vec<Alert>)]) -> String {
    let total: usize = per_fixture.iter().map(|(_, a)| a.len()).sum();
    let mut out = String::new();
    let _ = writeln!(out, "# ruleforge alert snapshot: review changes like code.");
    let _ = writeln!(out, "rule: {}", rule.name);
    let _ = writeln!(out, "rule_id: {}", rule.rule_id);
    let _ = writeln!(out, "alerts: {total}");
    for (fixture, alerts) in per_fixture.iter().filter(|(_, a)| !a.is_empty()) {
        let verdict = match fixture.manifest.verdict {
            Verdict::Benign => "benign",
            Verdict::Malicious => "malicious",
        };
        let _ = writeln!(
            out,
            "\nfixture: {} ({verdict})",
            display_path(root, &fixture.manifest_path.with_extension(""))
        );
        for (n, alert) in alerts.iter().enumerate() {
            let _ = write!(out, "  alert {}", n + 1);
            match &alert.detail {
                Detail::Event => {}
                Detail::Sequence { join_keys } if !join_keys.is_empty() => {
                    let keys: Vec<String> = join_keys.iter().map(scalar).collect();
                    let _ = write!(out, " sequence by {}", keys.join(", "));
                }
                Detail::Sequence { .. } => {
                    let _ = write!(out, " sequence");
                }
                Detail::Threshold { terms, count } => {
                    let t: Vec<String> = terms
                        .iter()
                        .map(|(f, v)| format!("{f}={}", scalar(v)))
                        .collect();
                    let _ = write!(out, " threshold {} count={count}", t.join(" "));
                }
                Detail::NewTerms { values } => {
                    let t: Vec<String> = values
                        .iter()
                        .map(|(f, v)| format!("{f}={}", scalar(v)))
                        .collect();
                    let _ = write!(out, " new terms {}", t.join(" "));
                }
            }
            out.push('\n');
            for slot in &alert.events {
                match slot {
                    None => {
                        let _ = writeln!(out, "    (missing event)");
                    }
                    Some(ev) => {
                        let ts = fixture.events.timestamps[ev.index]
                            .map(crate::event::format_millis)
                            .unwrap_or_else(|| "no-timestamp".into());
                        let _ = writeln!(
                            out,
                            "    {}:{} {ts}",
                            display_path(root, &ev.file),
                            ev.position
                        );
                        describe_event(&mut out, &fixture.events.values[ev.index], "      ");
                    }
                }
            }
        }
    }
    out
}

/// A unified diff from the stored snapshot to the new one, or `None` when equal.
pub fn diff(name: &str, stored: Option<&str>, actual: &str) -> Option<String> {
    let old = stored.unwrap_or("");
    if old == actual {
        return None;
    }
    let d = similar::TextDiff::from_lines(old, actual);
    let header_old = if stored.is_some() {
        format!("{name} (accepted)")
    } else {
        format!("{name} (no snapshot yet)")
    };
    Some(
        d.unified_diff()
            .context_radius(3)
            .header(&header_old, &format!("{name} (this run)"))
            .to_string(),
    )
}

/// Snapshot files whose rule no longer exists.
pub fn orphans(dir: &Path, rules: &[Rule]) -> std::io::Result<Vec<PathBuf>> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == EXTENSION) {
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default();
            if !rules.iter().any(|r| r.stem() == stem) {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}
