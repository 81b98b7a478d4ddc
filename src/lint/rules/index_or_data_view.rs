use super::declare_lint;
use crate::lint::{Context, Lint, LintInfo};
use crate::rule::{Rule, RuleType};

declare_lint!(
    IndexOrDataView,
    "RF212",
    "index-or-data-view",
    Error,
    "Query-family rules (query, eql, threshold, new_terms) say where to search: `index` or \
`data_view_id`, not both (RF116). Without either, Kibana searches its default index patterns, \
which differ per deployment."
);

impl Lint for IndexOrDataView {
    fn info(&self) -> &'static LintInfo {
        &Self::INFO
    }

    fn check(&self, rule: &Rule, cx: &mut Context<'_>) {
        if !matches!(
            rule.rule_type,
            Some(RuleType::Query | RuleType::Eql | RuleType::Threshold | RuleType::NewTerms)
        ) {
            return;
        }
        let table = rule.tree.get("rule");
        let index = table.and_then(|t| t.get("index")).is_some();
        let view = table.and_then(|t| t.get("data_view_id")).is_some();
        if !index && !view {
            cx.report(
                "the rule sets neither `index` nor `data_view_id`",
                rule.span_of("rule.type"),
            );
        } else if index && view {
            cx.report(
                "`index` and `data_view_id` are mutually exclusive",
                rule.span_of("rule.data_view_id"),
            );
        }
    }
}
