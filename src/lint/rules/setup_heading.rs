use super::declare_lint;
use crate::lint::{Context, Lint, LintInfo};
use crate::rule::Rule;

declare_lint!(
    SetupStartsWithHeading,
    "RF425",
    "setup-starts-with-heading",
    Warning,
    "A `setup` guide starts with the heading `## Setup`, as Kibana shows it under that title."
);

impl Lint for SetupStartsWithHeading {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check(&self, rule: &Rule, cx: &mut Context<'_>) {
        if let Some(setup) = rule.setup.as_deref() {
            if !setup.trim_start().starts_with("## Setup") {
                cx.report(
                    "`setup` does not start with `## Setup`",
                    rule.span_of("rule.setup"),
                );
            }
        }
    }
}
