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

/// The first line of every snapshot ruleforge writes. Only files that start with it are ours to
/// replace or remove: a `*.snap` of another tool (jest, insta) in the same folder is left alone.
pub const HEADER: &str = "# ruleforge alert snapshot: review changes like code.";

/// What a snapshot file says about itself (its first lines).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub rule: String,
    pub rule_id: String,
    pub alerts: u64,
}

/// Reads a snapshot's header: `None` when the text is not a ruleforge snapshot (no header line,
/// or `rule:`, `rule_id:` and a numeric `alerts:` missing from the lines after it).
pub fn parse_header(text: &str) -> Option<Header> {
    let mut lines = text.lines();
    if lines.next()? != HEADER {
        return None;
    }
    let rule = lines.next()?.strip_prefix("rule: ")?.to_string();
    let rule_id = lines.next()?.strip_prefix("rule_id: ")?.to_string();
    let alerts = lines.next()?.strip_prefix("alerts: ")?.parse().ok()?;
    Some(Header {
        rule,
        rule_id,
        alerts,
    })
}

/// Does the file start with ruleforge's snapshot header? Reads only the first line.
pub fn is_ruleforge_snapshot(path: &Path) -> bool {
    use std::io::Read as _;
    let Ok(file) = std::fs::File::open(path) else {
        return false;
    };
    let mut first = vec![0u8; HEADER.len()];
    let mut handle = file.take(HEADER.len() as u64);
    handle.read_exact(&mut first).is_ok() && first == HEADER.as_bytes()
}

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

/// A value as one line of display text: strings unquoted, control characters escaped.
fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => crate::diag::escape_control(s).into_owned(),
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
    let esc = crate::diag::escape_control;
    let _ = writeln!(out, "{HEADER}");
    let _ = writeln!(out, "rule: {}", esc(&rule.name));
    let _ = writeln!(out, "rule_id: {}", esc(&rule.rule_id));
    let _ = writeln!(out, "alerts: {total}");
    for (fixture, alerts) in per_fixture.iter().filter(|(_, a)| !a.is_empty()) {
        let verdict = match fixture.manifest.verdict {
            Verdict::Benign => "benign",
            Verdict::Malicious => "malicious",
        };
        let _ = writeln!(
            out,
            "\nfixture: {} ({verdict})",
            esc(&display_path(
                root,
                &fixture.manifest_path.with_extension("")
            ))
        );
        for (n, alert) in alerts.iter().enumerate() {
            let _ = write!(out, "  alert {}", n + 1);
            out.push_str(&detail_text(&alert.detail));
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
                            esc(&display_path(root, &ev.file)),
                            ev.position
                        );
                        describe_event(&mut out, &fixture.events.values[ev.index], "      ");
                    }
                }
            }
            detail_lines(&mut out, root, &alert.detail);
        }
    }
    out
}

/// What follows `alert N` on its line: the kind of alert and its keys.
fn detail_text(detail: &Detail) -> String {
    let pairs = |v: &[(String, Value)]| -> String {
        v.iter()
            .map(|(f, v)| format!("{f}={}", scalar(v)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    match detail {
        Detail::Event => String::new(),
        Detail::Sequence { join_keys } if !join_keys.is_empty() => {
            let keys: Vec<String> = join_keys.iter().map(scalar).collect();
            format!(" sequence by {}", keys.join(", "))
        }
        Detail::Sequence { .. } => " sequence".into(),
        Detail::Threshold { terms, count } => {
            format!(" threshold {} count={count}", pairs(terms))
        }
        Detail::NewTerms { values } => format!(" new terms {}", pairs(values)),
        Detail::ThreatMatch { enrichments } => {
            let n = enrichments.len();
            format!(
                " indicator match ({n} {})",
                if n == 1 { "match" } else { "matches" }
            )
        }
        Detail::Esql(row) => format!(" esql row (run {})", crate::event::format_millis(row.run)),
        Detail::Suppressed(s) => {
            let terms: Vec<String> = s
                .terms
                .iter()
                .map(|(f, v)| format!("{f}={}", v.as_ref().map_or("(missing)".into(), scalar)))
                .collect();
            format!(
                "{} suppressed by {} (docs_count={})",
                detail_text(&s.detail),
                terms.join(" "),
                s.docs_count
            )
        }
    }
}

/// An ES|QL row's columns are wrapped at this many per line, to keep diffs readable.
const ROW_COLUMNS_PER_LINE: usize = 4;

/// Lines after an alert's events: the indicators it matched, the alerts it suppressed.
fn detail_lines(out: &mut String, root: &Path, detail: &Detail) {
    let esc = crate::diag::escape_control;
    match detail {
        Detail::ThreatMatch { enrichments } => {
            for e in enrichments {
                let _ = writeln!(
                    out,
                    "    indicator {}:{} index={} matched {}={} ({})",
                    esc(&display_path(root, &e.indicator.file)),
                    e.indicator.position,
                    esc(&e.index),
                    esc(&e.field),
                    scalar(&e.atomic),
                    esc(&e.indicator_field),
                );
            }
        }
        Detail::Esql(row) => {
            // Metadata is already the event line; null columns say nothing.
            let shown: Vec<String> = row
                .values
                .iter()
                .filter(|(c, v)| !c.starts_with('_') && !v.is_null())
                .map(|(c, v)| format!("{}={}", esc(c), scalar(v)))
                .collect();
            for line in shown.chunks(ROW_COLUMNS_PER_LINE) {
                let _ = writeln!(out, "    row: {}", line.join(" "));
            }
        }
        Detail::Suppressed(s) => {
            detail_lines(out, root, &s.detail);
            for e in &s.suppressed {
                let _ = writeln!(
                    out,
                    "    suppressed {}:{}",
                    esc(&display_path(root, &e.file)),
                    e.position
                );
            }
        }
        _ => {}
    }
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

/// ruleforge snapshot files (by their header) whose rule no longer exists. Other files with the
/// extension are not ours and are never listed.
pub fn orphans(dir: &Path, rules: &[Rule]) -> std::io::Result<Vec<PathBuf>> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        // A symlink is not a snapshot we wrote; removing it could be steered elsewhere.
        if entry.file_type()?.is_file() && path.extension().is_some_and(|e| e == EXTENSION) {
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default();
            if !rules.iter().any(|r| r.stem() == stem) && is_ruleforge_snapshot(&path) {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trip_and_foreign_files() {
        let text = format!("{HEADER}\nrule: R\nrule_id: abc\nalerts: 3\n\nfixture: x\n");
        assert_eq!(
            parse_header(&text),
            Some(Header {
                rule: "R".into(),
                rule_id: "abc".into(),
                alerts: 3
            })
        );
        assert_eq!(
            parse_header("// Jest Snapshot v1\nexports[`x`] = 1;\n"),
            None
        );
        assert_eq!(parse_header(&format!("{HEADER}\nrule: R\n")), None);
        assert_eq!(
            parse_header(&format!("{HEADER}\nrule: R\nrule_id: a\nalerts: many\n")),
            None
        );
    }

    #[test]
    fn orphans_are_only_our_snapshots() {
        let dir = tempfile::tempdir().unwrap();
        let ours = dir.path().join("gone_rule.snap");
        std::fs::write(&ours, format!("{HEADER}\nrule: G\nrule_id: g\nalerts: 0\n")).unwrap();
        let jest = dir.path().join("component.test.js.snap");
        std::fs::write(&jest, "// Jest Snapshot v1\n").unwrap();
        let insta = dir.path().join("lint__x.snap");
        std::fs::write(&insta, "---\nsource: tests/x.rs\n---\n").unwrap();
        assert_eq!(orphans(dir.path(), &[]).unwrap(), vec![ours]);
    }
}
