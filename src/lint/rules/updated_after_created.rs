use super::declare_lint;
use crate::lint::{Context, Lint, LintInfo};
use crate::rule::Rule;

declare_lint!(
    UpdatedAfterCreated,
    "RF701",
    "updated-after-created",
    Error,
    "`updated_date` is on or after `creation_date`."
);

impl Lint for UpdatedAfterCreated {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check(&self, rule: &Rule, cx: &mut Context<'_>) {
        let (Some(c), Some(u)) = (
            rule.tree.str_at("metadata.creation_date"),
            rule.tree.str_at("metadata.updated_date"),
        ) else {
            return;
        };
        // YYYY/MM/DD compares correctly as text.
        if u < c {
            cx.report(
                format!("updated_date {u} is before creation_date {c}"),
                rule.span_of("metadata.updated_date"),
            );
        }
    }
}
