//! SARIF 2.1.0 for code scanning (GitHub uploads it with `github/codeql-action/upload-sarif`):
//! every documented code as a rule (name, severity, help text, help URI), every finding as a
//! result with its region in the file and partial fingerprints that do not depend on line
//! numbers, so an alert keeps its identity when lines above it move.

use super::diagnostics::Sources;
use super::run::{Entry, RunReport, full_text};
use crate::diag::{LineIndex, Severity};
use crate::snapshot::display_path;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use std::path::Path;

pub fn render(report: &RunReport, sources: &mut Sources) -> String {
    let infos: Vec<_> = crate::codes::all().collect();
    let rules: Vec<Value> = infos.iter().map(|i| rule(i, report)).collect();
    let results: Vec<Value> = (report.entries.iter())
        .map(|e| result(e, report, sources, &infos))
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "ruleforge",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "the rule repository root"}}},
            "results": results,
        }],
    });
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    text
}

fn rule(info: &crate::lint::LintInfo, report: &RunReport) -> Value {
    let first = info.doc.split("\n\n").next().unwrap_or(info.doc);
    let level = match info.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let mut r = json!({
        "id": info.code,
        "name": info.name,
        "shortDescription": {"text": first.replace('\n', " ")},
        "fullDescription": {"text": info.doc},
        "help": {
            "text": format!("{}\n\n`ruleforge lint --explain {}` prints this.", info.doc, info.code),
            "markdown": format!("{}\n\n`ruleforge lint --explain {}` prints this.", info.doc, info.code),
        },
        "defaultConfiguration": {"level": level},
    });
    if let Some(template) = &report.help_uri {
        r["helpUri"] = template.replace("{code}", info.code).into();
    }
    r
}

fn result(
    e: &Entry,
    report: &RunReport,
    sources: &mut Sources,
    infos: &[&crate::lint::LintInfo],
) -> Value {
    let d = &e.diagnostic;
    let level = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    // A finding about no file (an empty rule folder) is shown on the configuration file.
    let file = d.file.clone().or_else(|| report.config_file.clone());
    let mut r = json!({
        "ruleId": d.code,
        "level": level,
        "message": {"text": full_text(e)},
    });
    if let Some(index) = infos.iter().position(|i| i.code == d.code) {
        r["ruleIndex"] = index.into();
    }
    let mut line_text = String::new();
    if let Some(file) = &file {
        let region = region(e, sources).unwrap_or_else(|| json!({"startLine": 1}));
        if let Some(line) = region["startLine"].as_u64() {
            line_text = source_line(sources, file, line as usize);
        }
        r["locations"] = json!([{
            "physicalLocation": {
                "artifactLocation": {
                    "uri": uri(&display_path(Path::new(""), file)),
                    "uriBaseId": "%SRCROOT%",
                },
                "region": region,
            }
        }]);
    }
    let place = file.as_deref().map(|f| display_path(Path::new(""), f));
    r["partialFingerprints"] = json!({
        "ruleforgeFinding/v1": fingerprint(d.code, place.as_deref(), &d.message, &line_text),
    });
    r
}

/// The finding's span as a SARIF region (1-based lines and columns, end column exclusive).
fn region(e: &Entry, sources: &mut Sources) -> Option<Value> {
    let d = &e.diagnostic;
    let (start_line, start_col) = sources.position(d)?;
    let span = d.span.as_ref()?;
    let end = crate::diag::Diagnostic {
        span: Some(span.end..span.end),
        ..d.clone()
    };
    let (end_line, end_col) = sources.position(&end).unwrap_or((start_line, start_col));
    let end_col = if (end_line, end_col) <= (start_line, start_col) {
        start_col + 1
    } else {
        end_col
    };
    Some(json!({
        "startLine": start_line,
        "startColumn": start_col,
        "endLine": end_line.max(start_line),
        "endColumn": end_col,
    }))
}

fn source_line(sources: &mut Sources, file: &Path, line: usize) -> String {
    let Some(text) = sources.text(file) else {
        return String::new();
    };
    let idx = LineIndex::new(&text);
    idx.line_text(&text, line).trim().to_string()
}

/// Stable across commits: the code, the file, the message and the text of the line (not its
/// number), hashed.
fn fingerprint(code: &str, file: Option<&str>, message: &str, line: &str) -> String {
    let mut h = Sha256::new();
    for part in [code, file.unwrap_or(""), message, line] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    h.finalize()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A relative path as a URI reference: every byte outside the unreserved set and `/` is
/// percent-encoded.
fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_ignore_the_line_number_but_not_the_content() {
        let a = fingerprint("RF407", Some("rules/a.toml"), "m", "### Investigating X");
        assert_eq!(
            a,
            fingerprint("RF407", Some("rules/a.toml"), "m", "### Investigating X")
        );
        assert_ne!(
            a,
            fingerprint("RF407", Some("rules/a.toml"), "m", "### Investigating Y")
        );
        assert_ne!(
            a,
            fingerprint("RF407", Some("rules/b.toml"), "m", "### Investigating X")
        );
        assert_eq!(a.len(), 32);
    }

    #[test]
    fn uris_are_percent_encoded() {
        assert_eq!(uri("rules/a b#c.toml"), "rules/a%20b%23c.toml");
        assert_eq!(uri("rules/é.toml"), "rules/%C3%A9.toml");
    }
}
