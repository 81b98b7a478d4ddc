//! JSON lines: one object per finding, then one summary object, also when the run is clean (a
//! reader can tell "no findings" from "no output").

use super::diagnostics::{self, Sources};
use super::run::RunReport;
use crate::snapshot::display_path;
use std::path::Path;

pub fn render(report: &RunReport, sources: &mut Sources) -> String {
    let mut out = String::new();
    let shown = |p: &Path| display_path(Path::new(""), p);
    for e in &report.entries {
        let mut obj = diagnostics::json(&e.diagnostic, sources);
        obj["kind"] = "finding".into();
        obj["rule_file"] = e.rule.as_deref().map(shown).into();
        obj["fixture"] = e.fixture.as_deref().map(shown).into();
        obj["detail"] = e.detail.clone().into();
        out.push_str(&obj.to_string());
        out.push('\n');
    }
    let t = &report.totals;
    let summary = serde_json::json!({
        "kind": "summary",
        "command": report.command,
        "ok": !report.failed(),
        "rules": t.rules,
        "replayed_rules": t.replayed_rules,
        "fixtures": t.fixtures,
        "events": t.events,
        "alerts": t.alerts,
        "errors": t.errors,
        "warnings": t.warnings,
        "changed_since": report.changed_since,
        "snapshot_changes": report.snapshot_changes().len(),
    });
    out.push_str(&summary.to_string());
    out.push('\n');
    out
}
