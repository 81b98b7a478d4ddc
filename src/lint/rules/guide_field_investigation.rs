use super::declare_lint;
use crate::lint::{Context, Lint, LintInfo};
use crate::rule::Rule;
use regex::Regex;
use std::sync::LazyLock;

declare_lint!(
    GuideFieldInvestigation,
    "RX102",
    "guide-field-investigation",
    Warning,
    "Every field the investigation guide tells the analyst to look at (a backticked dotted name \
such as `process.parent.executable`) is listed in `[rule.investigation_fields] field_names`, so \
Kibana shows it first in the alert flyout."
);

static FIELD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z_@][\w@]*(\.[\w@]+)+$").expect("valid regex"));

impl Lint for GuideFieldInvestigation {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check(&self, rule: &Rule, cx: &mut Context<'_>) {
        if rule.note.is_none() {
            return;
        }
        let Some(listed) = rule.tree.path("rule.investigation_fields") else {
            return;
        };
        let listed = listed.strings("field_names");
        let mut reported: Vec<String> = Vec::new();
        for (token, range) in cx.note_code_spans().to_vec() {
            // File names such as `vmlinuz.old` look dotted; fields have no '-' or '/' and
            // never end in a file extension-like digit-only segment.
            if !FIELD.is_match(&token)
                || listed.contains(&token.as_str())
                || reported.contains(&token)
            {
                continue;
            }
            cx.report(
                format!("guide refers to `{token}`, which is not in investigation_fields"),
                rule.inner_span("rule.note", &range),
            )
            .help = Some(format!(
                "add \"{token}\" to [rule.investigation_fields] field_names"
            ));
            reported.push(token);
        }
    }
}
