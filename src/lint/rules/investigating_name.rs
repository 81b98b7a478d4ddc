use super::declare_lint;
use crate::lint::{Context, Lint, LintInfo};
use crate::rule::Rule;

declare_lint!(
    InvestigatingName,
    "RF407",
    "investigating-name",
    Error,
    "When the guide has an `### Investigating …` heading, it names the rule: \
`### Investigating <rule name>`. A renamed rule whose guide still carries the old name confuses \
the analyst reading the alert.\n\nFix: update the heading to the current `name`."
);

impl Lint for InvestigatingName {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check(&self, rule: &Rule, cx: &mut Context<'_>) {
        let Some(note) = rule.note.as_deref() else {
            return;
        };
        // Compare the heading as written (backticks included), as the rule name is plain text.
        let hs: Vec<_> = cx
            .note_headings()
            .iter()
            .map(|h| {
                let raw = note.get(h.range.clone()).unwrap_or_default();
                let mut h = h.clone();
                h.text = raw.trim().trim_start_matches('#').trim().to_string();
                h
            })
            .filter(|h| h.text.starts_with("Investigating"))
            .collect();
        if hs.is_empty() {
            return;
        }
        let name = rule.name.to_lowercase();
        let ok = hs.iter().any(|h| {
            let rest = h.text["Investigating".len()..].to_lowercase();
            rest.starts_with(char::is_whitespace) && rest.trim_start().starts_with(&name)
        });
        if !ok {
            let h = &hs[0];
            cx.report(
                format!(
                    "guide heading `{}` does not name the rule `{}`",
                    h.text, rule.name
                ),
                rule.inner_span("rule.note", &h.range),
            )
            .help = Some(format!("write `### Investigating {}`", rule.name));
        }
    }
}
