use super::declare_lint;
use crate::lint::markdown::Heading;
use crate::lint::{Context, Lint, LintInfo};
use crate::rule::Rule;

const SECTIONS: [&str; 4] = [
    "Investigating",
    "Possible investigation steps",
    "False positive analysis",
    "Response and remediation",
];

fn find<'a>(hs: &'a [Heading], section: &str) -> Option<&'a Heading> {
    hs.iter().find(|h| {
        let t = h.text.trim_end_matches(':').to_lowercase();
        if section == "Investigating" {
            t.starts_with("investigating ")
        } else {
            t == section.to_lowercase()
        }
    })
}

fn triage(hs: &[Heading]) -> Option<&Heading> {
    hs.iter()
        .find(|h| h.level == 2 && h.text.eq_ignore_ascii_case("triage and analysis"))
}

declare_lint!(
    GuideSections,
    "RF420",
    "guide-sections",
    Warning,
    "An investigation guide (a `note` with `## Triage and analysis`) has the four sections an \
analyst expects: `### Investigating <rule name>`, `### Possible investigation steps`, \
`### False positive analysis`, `### Response and remediation`."
);

impl Lint for GuideSections {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check(&self, rule: &Rule, cx: &mut Context<'_>) {
        let hs = cx.note_headings().to_vec();
        let Some(t) = triage(&hs) else { return };
        for section in SECTIONS {
            if find(&hs, section).is_none() {
                let title = if section == "Investigating" {
                    format!("Investigating {}", rule.name)
                } else {
                    section.to_string()
                };
                cx.report(
                    format!("investigation guide has no `### {title}` section"),
                    rule.inner_span("rule.note", &t.range),
                );
            }
        }
    }
}

declare_lint!(
    GuideOrder,
    "RF421",
    "guide-order",
    Warning,
    "Guide sections come in the order: Triage and analysis, Investigating, Possible \
investigation steps, False positive analysis, Response and remediation."
);

impl Lint for GuideOrder {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check(&self, rule: &Rule, cx: &mut Context<'_>) {
        let hs = cx.note_headings().to_vec();
        let Some(t) = triage(&hs) else { return };
        let mut last = t;
        for section in SECTIONS {
            if let Some(h) = find(&hs, section) {
                if h.range.start < last.range.start {
                    cx.report(
                        format!("section `{}` comes before `{}`", h.text, last.text),
                        rule.inner_span("rule.note", &h.range),
                    );
                    return;
                }
                last = h;
            }
        }
    }
}
