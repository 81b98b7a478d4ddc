use super::declare_lint;
use crate::lint::{Context, Lint, LintInfo};
use crate::rule::Rule;

declare_lint!(
    LockedMaturity,
    "RF711",
    "locked-maturity",
    Error,
    "A rule in the version lock has `maturity = \"production\"` (or `\"deprecated\"`): it was \
released, and demoting it to `development` or `experimental` drops it from the next package, \
so installed copies stop receiving updates without being deprecated.\n\n\
Fix: keep the rule in production, or deprecate it (move it to `_deprecated/`, \
`maturity = \"deprecated\"`). Silent without a version lock."
);

impl Lint for LockedMaturity {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check(&self, rule: &Rule, cx: &mut Context<'_>) {
        let Some(lock) = cx.env.lock() else { return };
        let Some(entry) = lock.get(&rule.rule_id) else {
            return;
        };
        let Some(maturity) = rule.maturity.as_deref() else {
            return;
        };
        if matches!(maturity, "production" | "deprecated") {
            return;
        }
        let span = rule.span_of("metadata.maturity");
        let d = cx.report(
            format!(
                "maturity `{maturity}` for a released rule (version {} is in the lock)",
                entry.top.version
            ),
            span,
        );
        d.help = Some("keep it `production`, or deprecate the rule".into());
    }
}
